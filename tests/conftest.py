"""Session fixtures: one data directory, tiny models built once, one Ray for the whole run.

Markers are applied here, from the fixtures a test uses: ``ray_session`` (directly or through
``gateway``/``client``) makes a test ``ray`` and ``slow``; ``gateway``/``client`` also ``serve``.
``pytest -m "not slow"`` is then the in-process tier, and a test that starts Ray without its
marker fails, so the fast tier stays fast. Tests marked ``nightly`` are deselected unless ``--nightly``
is given (``bash scripts/test.sh --all``).
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


def pytest_addoption(parser):
    parser.addoption(
        "--nightly",
        action="store_true",
        help="also run the tests marked nightly (too slow for every run; bash scripts/test.sh --all)",
    )


# Modules whose every test is slow and whose collection alone costs seconds (schemathesis builds each operation's
# tests, coverage phase included, as the module is collected): when the run deselects slow tests they are not
# collected at all, which keeps that cost out of the in-process tier.
SLOW_TO_COLLECT = {  # module -> the marks every one of its tests carries
    "tests/app/api/test_schemathesis.py": {"slow"},
    "tests/deployments/test_schemathesis.py": {"slow", "ray", "serve"},
}


def _only_the_in_process_tier(config) -> bool:
    """Whether -m deselects every slow test (so nothing here starts Ray or Serve)."""
    from _pytest.mark.expression import Expression

    markexpr = config.option.markexpr
    return bool(markexpr) and not Expression.compile(markexpr).evaluate(lambda name, **_: name == "slow")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """The in-process tier (``-m "not slow"``) runs on two pytest-xdist workers: its tests share nothing (each has
    its own data directory, database schema, keys and ports), and on this project's 2-core machine that takes it
    from about 60 s to about 45 s. ``-n 0`` runs it in one process; ``-n N`` picks the number. Tiers with Ray stay
    in one process: they share one session Ray and the clusters of tests/cluster."""
    if (
        config.pluginmanager.hasplugin("xdist")
        and getattr(config.option, "numprocesses", 0) is None  # no -n given
        and "PYTEST_XDIST_WORKER" not in os.environ
        and not config.option.collectonly
        and not config.option.usepdb
        and (os.cpu_count() or 1) >= 2
        and _only_the_in_process_tier(config)
    ):
        config.option.numprocesses = 2


def pytest_ignore_collect(collection_path, config):
    from _pytest.mark.expression import Expression

    relative = (
        collection_path.relative_to(config.rootpath).as_posix()
        if collection_path.is_relative_to(config.rootpath)
        else ""
    )
    if relative in SLOW_TO_COLLECT and config.option.markexpr:
        marks = SLOW_TO_COLLECT[relative]
        if not Expression.compile(config.option.markexpr).evaluate(lambda name, **_: name in marks):
            return True
    return None


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--nightly"):
        nightly = [item for item in items if item.get_closest_marker("nightly")]
        if nightly:
            config.hook.pytest_deselected(items=nightly)
            items[:] = [item for item in items if not item.get_closest_marker("nightly")]
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


def pytest_runtest_teardown(item, nextitem):
    """The cluster tests run first; once the last of them is done, the clusters they share are stopped."""
    if item.get_closest_marker("cluster") and (nextitem is None or not nextitem.get_closest_marker("cluster")):
        shared = sys.modules.get("tests.cluster.conftest")
        if shared is not None:
            shared.stop_shared_clusters()


@pytest.fixture(autouse=True)
def _process_locale_undone():
    """set_locale is process-wide (the SDK's and the CLI's): a test that sets it leaves the next one in English,
    whatever the order."""
    yield
    i18n = sys.modules.get("app.i18n")
    if i18n is not None:
        i18n._process_locale = None


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


@pytest.fixture(scope="session")
def two_nodes():
    """A two-node Ray cluster in separate processes, shared by the cluster tests of every module (stopped once the
    last of them is done); see tests/cluster/conftest.py."""
    from tests.cluster.conftest import two_node_cluster

    with two_node_cluster() as cluster:
        yield cluster


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


_REUSABLE_SCHEMAS: dict[str, str] = {}  # server URL -> this session's reusable schema


@contextmanager
def emptied_postgres_schema(url: str):
    """A schema on the server at ``url`` (yields its name) with every table empty, for tests that need a clean
    database but not a new schema: one schema per session is created once and its tables are truncated before each
    use (creating a schema and its tables costs ~150 ms a test; emptying them, a few ms). Tests that change the
    schema itself (columns, tables) use :func:`private_postgres_schema` instead."""
    from sqlalchemy import create_engine, text

    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        schema = _REUSABLE_SCHEMAS.get(url)
        with admin.begin() as connection:
            if schema is None:
                schema = _REUSABLE_SCHEMAS[url] = f"t_reused_{uuid.uuid4().hex[:10]}"
                connection.execute(text(f"CREATE SCHEMA {schema}"))
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"), {"schema": schema}
            ).scalars()
            names = ", ".join(f'{schema}."{name}"' for name in tables)
            if names:
                connection.execute(text("SET LOCAL lock_timeout = '10s'"))  # a leaked session fails, never hangs
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        admin.dispose()
    yield schema


def _drop_reusable_schemas() -> None:
    from sqlalchemy import create_engine, text

    for url, schema in _REUSABLE_SCHEMAS.items():
        admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with admin.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        finally:
            admin.dispose()
    _REUSABLE_SCHEMAS.clear()


def pytest_sessionfinish(session, exitstatus):
    _drop_reusable_schemas()
    workeroutput = getattr(session.config, "workeroutput", None)  # an xdist worker: report to the controller
    if workeroutput is not None:
        workeroutput["backends_ran"] = json.dumps(BACKENDS_RAN)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """The controller's "storage backends" summary gathers what each xdist worker ran."""
    for name, state in json.loads(getattr(node, "workeroutput", {}).get("backends_ran", "{}")).items():
        if not BACKENDS_RAN.get(name, "").startswith("ran"):
            BACKENDS_RAN[name] = state


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
