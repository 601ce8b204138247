"""`vid-bench auth`: keys and users on the local data directory, and through a gateway with --url."""

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Tables wide enough for a whole key id, whatever terminal (or none) the run has: COLUMNS alone is not
    read by a console made before the run (under pytest-xdist, for one)."""
    from cli.common import console

    monkeypatch.setattr(console, "_width", 250)


def test_auth_keys_locally(monkeypatch, tmp_path):
    from app.config import reset_settings_cache

    monkeypatch.setenv("VDB_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    try:
        created = runner.invoke(
            app, ["auth", "create-key", "--name", "ci", "-p", "models.read", "--tier", "pro", "--expires-in-days", "30"]
        )
        assert created.exit_code == 0, created.output
        key = created.stdout.strip()
        assert key.startswith("vdb_") and "store the key now" in created.stderr
        listed = runner.invoke(app, ["auth", "list-keys"], env={"COLUMNS": "250"})
        assert "ci" in listed.stdout and key not in listed.stdout
        from app.config import get_settings
        from app.security.auth import Authenticator
        from app.storage.database import get_database

        auth = Authenticator(get_settings(), get_database(get_settings().resolved_database_url))
        key_id = auth.authenticate(key).id
        assert runner.invoke(app, ["auth", "revoke-key", key_id]).exit_code == 0
        assert auth.store.get_key(key_id).revoked_at is not None
        everything = runner.invoke(app, ["auth", "list-keys", "--all"], env={"COLUMNS": "250"})
        assert key_id in everything.stdout and "revoked" in everything.stdout
        bad = runner.invoke(app, ["auth", "create-key", "--name", "x", "-p", "root"])
        assert bad.exit_code == 2 and "Unknown permission" in bad.stderr
        user = runner.invoke(
            app,
            ["auth", "create-user", "--username", "ann", "-p", "models.read"],
            env={"VDB_NEW_USER_PASSWORD": "correct horse battery"},
        )
        assert user.exit_code == 0 and auth.users.authenticate("ann", "correct horse battery")
    finally:
        reset_settings_cache()


def test_auth_through_a_gateway(gateway, admin_key):
    listed = runner.invoke(app, ["auth", "list-keys", "--url", gateway, "--api-key", admin_key], env={"COLUMNS": "250"})
    assert listed.exit_code == 0 and "admin (first" in listed.stdout
    refused = runner.invoke(app, ["auth", "list-keys", "--url", gateway, "--api-key", "vdb_wrong"])
    assert refused.exit_code == 2 and "AUTHENTICATION_FAILED" in refused.stderr
