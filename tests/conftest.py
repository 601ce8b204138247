"""Session fixtures: one data directory, tiny models built once, one Ray for the whole run.

Markers are applied here, from the fixtures a test uses: ``ray_session`` (directly or through
``gateway``/``client``) makes a test ``ray`` and ``slow``; ``gateway``/``client`` also ``serve``.
``pytest -m "not slow"`` is then the in-process tier, and a test that starts Ray without its
marker fails, so the fast tier stays fast.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from contextlib import contextmanager

import pytest

BACKENDS_RAN: dict[str, str] = {}
pytest_plugins = ("tests.app.analytics.seed",)  # the `seeded` analytics database, one per session
SERVE_FIXTURES = {"gateway", "client"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))  # the whole closure: gateway brings ray_session
        if fixtures & SERVE_FIXTURES:
            item.add_marker(pytest.mark.serve)
        if "ray_session" in fixtures:
            item.add_marker(pytest.mark.ray)
        if item.get_closest_marker("ray") or item.get_closest_marker("serve"):
            item.add_marker(pytest.mark.slow)
    # Clusters of their own run first, before the session's in-process Ray exists: a second local Ray started by
    # `vid-bench serve` cannot start its dashboard agent while another one holds the agent's fixed port.
    items.sort(key=lambda item: 0 if item.get_closest_marker("cluster") else 1)


def _ray_running() -> bool:
    ray = sys.modules.get("ray")
    return ray is not None and ray.is_initialized()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """A test that starts Ray in-process must say so (mark ``ray``), or the fast tier silently slows down."""
    ray_before = _ray_running()
    result = yield
    if not ray_before and _ray_running() and item.get_closest_marker("ray") is None:
        pytest.fail(f"{item.nodeid} started Ray but is not marked 'ray' (and so 'slow')", pytrace=False)
    return result


def pytest_configure(config):
    import tempfile

    os.environ["VDB_DATA_DIR"] = os.environ.get("VDB_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="vdb-test-")
    os.environ.pop("VDB_DATABASE_URL", None)
    os.environ.setdefault("VDB_RAY_NUM_CPUS", "2")
    os.environ.setdefault("VDB_WARMUP_RUNS", "0")
    # warm benchmark workers hold CPUs of the session's 2-CPU Ray, which Serve replicas cannot reclaim: keep them
    # only as long as back-to-back benchmarks need (issue 17's pool)
    os.environ.setdefault("VDB_WORKER_POOL_IDLE_S", "10")
    os.environ.setdefault("VDB_BOOTSTRAP_RESAMPLES", "200")
    os.environ["HF_HUB_OFFLINE"] = "1"  # the suite never reaches a hub
    # The shared gateway's endpoint-group limits are raised so that the functional tests and the
    # schemathesis run are not cut short by 429s; the rate-limit tests start gateways with the defaults.
    os.environ.setdefault(
        "VDB_RATE_LIMIT_GROUPS",
        json.dumps(
            {
                g: {"limit": 100000, "window_s": 3600, "burst": 10000}
                for g in ("benchmarks", "models", "analytics", "streaming", "federated")
            }
        ),
    )
    os.environ.setdefault("VDB_LOGIN_ATTEMPTS_PER_MINUTE", "10000")
    os.environ["VDB_LOCAL_MODEL_ROOTS"] = json.dumps([os.path.join(os.environ["VDB_DATA_DIR"], "imports")])
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # one intra-op thread for in-process torch (Ray actors already use one): on a busy machine torch's
    # spinning thread pool makes the tiny models' tests many times slower, and no test measures parallelism
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from app.config import reset_settings_cache

    reset_settings_cache()


@pytest.fixture(autouse=True)
def _uninstall_in_process_gateways():
    """An in-process gateway installs its state (and its models directory, where this process's catalog looks)
    for the whole process; after each test it is uninstalled, so a later test's catalog is its own."""
    yield
    state = sys.modules.get("app.api.state")
    if state is not None and state._current is not None:
        state.install_state(None)


@pytest.fixture(scope="session")
def settings():
    from app.config import get_settings

    s = get_settings()
    s.ensure_dirs()
    return s


@pytest.fixture(scope="session")
def ray_session(settings):
    """Real Ray, started once; every runner test shares it."""
    import ray

    from app.bench.cluster import ensure_ray

    ensure_ray(settings)
    yield ray
    ray.shutdown()


def postgres_url() -> str | None:
    url = os.environ.get("VDB_TEST_POSTGRES_URL", "postgresql://postgres@localhost:5432/test")
    try:
        with socket.create_connection(("localhost", 5432), timeout=1):
            pass
    except OSError:
        return None
    return url


@contextmanager
def private_postgres_schema(url: str):
    """A fresh schema on the server at ``url`` (yields its name), dropped after: tests never see each other's rows."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield schema
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def postgres_schema_url():
    """A SQLAlchemy URL on the machine's PostgreSQL whose search_path is a private schema."""
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL is not running on localhost:5432")
    with private_postgres_schema(url) as schema:
        yield f"{url.replace('postgresql://', 'postgresql+psycopg://')}?options=-csearch_path%3D{schema}"


def redis_url() -> str | None:
    """The machine's Redis for the shared rate-limit paths, or None when it is not running."""
    try:
        with socket.create_connection(("localhost", 6379), timeout=1):
            pass
    except OSError:
        return None
    return os.environ.get("VDB_TEST_REDIS_URL", "redis://localhost:6379/0")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def admin_key(settings) -> str:
    """The first-start admin key, created as `vid-bench serve` creates it."""
    from app.security.bootstrap import ensure_admin_key

    path, _ = ensure_admin_key(settings)
    return path.read_text().strip()


@pytest.fixture(scope="session")
def gateway(ray_session, settings, admin_key):
    from ray import serve

    from deployments.app import build_app

    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    config = {
        "models": [
            # one request at a time and a queue of one, so the overload test can fill it
            {
                "name": "tiny-t2v",
                "num_cpus": 0.1,
                "max_ongoing_requests": 1,
                "max_queued_requests": 1,
                "batching": {"max_batch_size": 1},
            },  # a batch may not exceed max_ongoing_requests
            {"name": "tiny-t2i", "num_cpus": 0.1},
            {"name": "tiny-text", "num_cpus": 0.1},
            {"name": "tiny-tts", "num_cpus": 0.1},
        ],
        "ingress_num_cpus": 0.1,
        # local downloads (the auto_assign test) may copy from here
        "settings": {"local_model_roots": [str(settings.data_dir / "imports")]},
    }
    serve.run(build_app(config), name="vid-bench", route_prefix="/")
    yield f"http://127.0.0.1:{port}"
    serve.delete("vid-bench")
    serve.shutdown()


@pytest.fixture
def client(gateway, admin_key):
    import httpx

    with httpx.Client(base_url=gateway, timeout=300, headers={"X-API-Key": admin_key}) as c:
        yield c


def pytest_terminal_summary(terminalreporter):
    if BACKENDS_RAN:
        terminalreporter.write_sep("-", "storage backends")
        for name, state in sorted(BACKENDS_RAN.items()):
            terminalreporter.write_line(f"{name}: {state}")
