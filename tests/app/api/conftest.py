"""The gateway's FastAPI app in-process: real routes, security, rate limits and SQLite, a fake model
backend (tests/app/api/fake_backend.py) and no Ray, so every HTTP contract is checked in seconds."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient

from app.api import make_app
from app.api.state import ApiState, install_state
from app.config import Settings
from app.security.bootstrap import ensure_admin_key
from tests.app.api.fake_backend import FakeBackend
from tests.app.api.support import InProcessGateway
from tests.conftest import emptied_postgres_schema, postgres_url


@pytest.fixture(scope="session")
def api_app():
    return make_app()


@pytest.fixture
def start_gateway(tmp_path, api_app):
    """Start the app on a fresh data directory with these Settings overrides; one gateway per test."""
    with ExitStack() as cleanup:

        def start(**overrides) -> InProcessGateway:
            settings = Settings(
                **{
                    "data_dir": tmp_path / "data",
                    "device": "cpu",  # 'auto' would ask Ray for the cluster's GPUs when a benchmark is submitted
                    "local_model_roots": [tmp_path / "imports"],
                    **overrides,
                }
            )
            backend = FakeBackend(settings)
            state = ApiState.create(settings, backend)
            install_state(state)
            cleanup.callback(install_state, None)
            cleanup.callback(state.repo.db.dispose)
            key_file, _ = ensure_admin_key(settings, state.repo.db)
            admin_key = key_file.read_text().strip()
            http = cleanup.enter_context(TestClient(api_app, headers={"X-API-Key": admin_key}))
            cleanup.callback(backend.release)  # runs first: held generations end before the client's loop stops
            return InProcessGateway(
                http=http, anonymous=TestClient(api_app), state=state, backend=backend, admin_key=admin_key
            )

        yield start


@pytest.fixture
def gw(start_gateway) -> InProcessGateway:
    """The gateway with the test suite's settings (endpoint-group limits raised in tests/conftest.py)."""
    return start_gateway()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request):
    """None (the data directory's SQLite) or an emptied schema on the machine's PostgreSQL."""
    if request.param == "sqlite":
        yield None
        return
    url = postgres_url()
    if url is None:
        pytest.skip("PostgreSQL is not running on localhost:5432")
    with emptied_postgres_schema(url) as schema:
        yield f"{url}?options=-csearch_path%3D{schema}"


@pytest.fixture
def gw_on_each_database(database_url, start_gateway) -> InProcessGateway:
    """The gateway on SQLite, then on PostgreSQL: the same probes must get the same answers on both."""
    return start_gateway(**({"database_url": database_url} if database_url else {}))
