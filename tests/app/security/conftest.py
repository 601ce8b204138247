"""Security tests run in-process on their own data directory (no Ray)."""

import pytest

from app.config import Settings
from app.security.auth import Authenticator
from app.storage.repository import BenchmarkRepository


@pytest.fixture
def local_settings(tmp_path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    settings.ensure_dirs()
    return settings


@pytest.fixture
def repo(local_settings) -> BenchmarkRepository:
    return BenchmarkRepository(local_settings.resolved_database_url)


@pytest.fixture
def auth(local_settings, repo) -> Authenticator:
    return Authenticator(local_settings, repo)
