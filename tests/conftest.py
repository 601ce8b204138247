"""Session fixtures: one data directory, tiny models built once, one Ray for the whole run."""

from __future__ import annotations

import os
import socket

import pytest

BACKENDS_RAN: dict[str, str] = {}


def pytest_configure(config):
    import tempfile

    os.environ["VDB_DATA_DIR"] = os.environ.get("VDB_TEST_DATA_DIR") or tempfile.mkdtemp(prefix="vdb-test-")
    os.environ.pop("VDB_DATABASE_URL", None)
    os.environ.setdefault("VDB_RAY_NUM_CPUS", "2")
    os.environ.setdefault("VDB_WARMUP_RUNS", "0")
    os.environ.setdefault("VDB_BOOTSTRAP_RESAMPLES", "200")
    os.environ["HF_HUB_OFFLINE"] = "1"  # the suite never reaches a hub
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from app.config import reset_settings_cache

    reset_settings_cache()


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

    from app.bench.runner import ensure_ray

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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def gateway(ray_session, settings):
    from ray import serve

    from deployments.app import build_app

    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    config = {"models": [
        # one request at a time and a queue of one, so the overload test can fill it
        {"name": "tiny-t2v", "num_cpus": 0.1, "max_ongoing_requests": 1, "max_queued_requests": 1},
        {"name": "tiny-t2i", "num_cpus": 0.1},
        {"name": "tiny-text", "num_cpus": 0.1},
        {"name": "tiny-tts", "num_cpus": 0.1},
    ], "ingress_num_cpus": 0.1}
    serve.run(build_app(config), name="vid-bench", route_prefix="/")
    yield f"http://127.0.0.1:{port}"
    serve.delete("vid-bench")
    serve.shutdown()


@pytest.fixture
def client(gateway):
    import httpx

    with httpx.Client(base_url=gateway, timeout=300) as c:
        yield c


def pytest_terminal_summary(terminalreporter):
    if BACKENDS_RAN:
        terminalreporter.write_sep("-", "storage backends")
        for name, state in sorted(BACKENDS_RAN.items()):
            terminalreporter.write_line(f"{name}: {state}")
