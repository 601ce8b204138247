"""API keys: stored as keyed digests only, refused once revoked or expired; the server secret; first start."""

import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import text, update

from app.config import Settings
from app.errors import AuthenticationError, ValidationError
from app.security.auth import Authenticator
from app.security.bootstrap import ensure_admin_key
from app.security.keys import key_digest, key_summary, server_secret
from app.storage.database import Database
from app.storage.tables import ApiKeyRow, utcnow
from tests.conftest import BACKENDS_RAN, postgres_url


def _all_text(db: Database) -> str:
    """Every value of every table, as text: where a leaked key would show up."""
    dump = []
    with db.engine.connect() as connection:
        for table in ("api_keys", "users", "tasks", "benchmarks"):
            for row in connection.execute(text(f"SELECT * FROM {table}")):
                dump.append(repr(tuple(row)))
    return "\n".join(dump)


def test_key_round_trip_and_no_plaintext_in_database(auth, db, local_settings):
    row, key = auth.keys.create("ci", ["models.read"], tier="pro")
    assert key.startswith("vdb_") and len(key) > 40 and row.prefix == key[:12]
    principal = auth.authenticate(key)
    assert (principal.id, principal.kind, principal.tier, principal.scopes) == (
        row.id,
        "api_key",
        "pro",
        ("models.read",),
    )
    dump = _all_text(db)
    assert key not in dump and key[12:] not in dump  # neither the key nor its secret part
    assert row.digest == key_digest(server_secret(local_settings), key) and row.digest in dump


def test_revoked_and_expired_keys_are_refused(auth, db):
    _, revoked = auth.keys.create("a", ["models.read"])
    row, expired = auth.keys.create("b", ["models.read"], expires_at=utcnow() + timedelta(hours=1))
    auth.authenticate(revoked)
    auth.store.revoke_key(auth.keys.lookup(revoked).id)
    with pytest.raises(AuthenticationError) as info:
        auth.authenticate(revoked)
    assert info.value.details["reason"] == "revoked"
    with db.session() as s, s.begin():  # time passes: the key's expiry is now behind us
        s.execute(update(ApiKeyRow).where(ApiKeyRow.id == row.id).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(AuthenticationError) as info:
        auth.authenticate(expired)
    assert info.value.details["reason"] == "expired"


def test_key_summary_shows_status_and_never_the_digest(auth, db):
    active, _ = auth.keys.create("a", ["models.read"])
    expiring, _ = auth.keys.create("b", ["models.read"], expires_at=utcnow() + timedelta(hours=1))
    revoked, _ = auth.keys.create("c", ["models.read"])
    auth.store.revoke_key(revoked.id)
    with db.session() as s, s.begin():
        s.execute(
            update(ApiKeyRow).where(ApiKeyRow.id == expiring.id).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    statuses = {key_summary(r)["key_id"]: key_summary(r)["status"] for r in auth.store.list_keys(include_revoked=True)}
    assert (statuses[active.id], statuses[expiring.id], statuses[revoked.id]) == ("active", "expired", "revoked")
    assert "digest" not in key_summary(active) and active.digest not in key_summary(active).values()


@pytest.mark.parametrize(
    "credential, reason",
    [(None, "missing"), ("", "missing"), ("vdb_" + "x" * 43, "unknown"), ("vdb_" + "y" * 5000, "malformed")],
)
def test_missing_and_unknown_keys_are_refused(auth, credential, reason):
    with pytest.raises(AuthenticationError) as info:
        auth.authenticate(credential)
    assert info.value.http_status == 401 and info.value.details["reason"] == reason


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"permissions": ["models.read", "root"]}, "Unknown permission"),
        ({"permissions": []}, "at least one permission"),
        ({"permissions": ["models.read"], "tier": "platinum"}, "Unknown tier"),
        ({"permissions": ["models.read"], "expires_at": utcnow() - timedelta(days=1)}, "in the past"),
    ],
)
def test_bad_key_requests_are_refused_before_storing(auth, kwargs, fragment):
    with pytest.raises(ValidationError) as info:
        auth.keys.create("bad", **kwargs)
    assert fragment in info.value.message
    assert auth.store.list_keys(include_revoked=True) == []


def test_another_server_secret_verifies_no_key(local_settings, db, tmp_path):
    auth = Authenticator(local_settings, db)
    _, key = auth.keys.create("k", ["models.read"])
    other_secret = Settings(data_dir=local_settings.data_dir, secret_key="another-secret-of-enough-length-123")
    other = Authenticator(other_secret, db)
    with pytest.raises(AuthenticationError):
        other.authenticate(key)


def test_server_secret_file_is_private_and_stable(local_settings):
    first = server_secret(local_settings)
    path = local_settings.data_dir / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert server_secret(local_settings) == first and len(first) >= 32


def test_first_start_creates_one_admin_key_file(local_settings, db):
    path, created = ensure_admin_key(local_settings, db)
    assert created and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = path.read_text().strip()
    auth = Authenticator(local_settings, db)
    assert auth.authenticate(key).is_admin
    assert ensure_admin_key(local_settings, db) == (path, False)  # a second start keeps it
    auth.store.revoke_key(auth.keys.lookup(key).id)
    path2, created = ensure_admin_key(local_settings, db)  # no usable admin any more: a new one
    assert created and path2.read_text().strip() != key


def test_keys_live_in_postgresql_too(local_settings):
    url = postgres_url()
    if url is None:
        BACKENDS_RAN["postgresql (credentials)"] = "skipped: no server on localhost:5432"
        pytest.skip("PostgreSQL is not running on localhost:5432")
    db = Database(url)
    auth = Authenticator(local_settings, db)
    row, key = auth.keys.create("pg", ["benchmark.read"], tier="enterprise")
    assert auth.authenticate(key).id == row.id
    with db.engine.connect() as connection:
        stored = connection.execute(text("SELECT digest FROM api_keys WHERE id = :id"), {"id": row.id}).scalar_one()
        anywhere = connection.execute(
            text(
                "SELECT count(*) FROM api_keys WHERE CAST(permissions AS TEXT) LIKE :k "
                "OR name LIKE :k OR prefix LIKE :k OR digest LIKE :k"
            ),
            {"k": f"%{key[12:]}%"},
        ).scalar_one()
    assert stored == row.digest and anywhere == 0
    auth.store.revoke_key(row.id)
    BACKENDS_RAN["postgresql (credentials)"] = "ran"
