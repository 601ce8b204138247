"""Security tests run in-process on their own data directory (no Ray)."""

import pytest

from app.config import Settings
from app.security.auth import Authenticator
from app.storage.database import Database


@pytest.fixture
def local_settings(tmp_path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    settings.ensure_dirs()
    return settings


@pytest.fixture
def db(local_settings) -> Database:
    return Database(local_settings.resolved_database_url)


@pytest.fixture
def auth(local_settings, db) -> Authenticator:
    return Authenticator(local_settings, db)
