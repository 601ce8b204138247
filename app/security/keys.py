"""The server secret and API keys.

A key is ``vdb_`` + 43 URL-safe characters (256 random bits from ``secrets``).
The database holds ``HMAC-SHA256(server secret, key)`` only: a stolen database
yields neither the keys nor a way to test guesses without the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.config import Settings
from app.errors import ValidationError, VidBenchError
from app.security.scopes import check_scopes, check_tier
from app.storage.credentials import CredentialRepository
from app.storage.tables import ApiKeyRow, utcnow

KEY_PREFIX = "vdb_"
SECRET_FILE = "secret.key"


def write_private_file(path: Path, content: str) -> bool:
    """Create ``path`` readable by its owner only; False when it already exists (first writer wins)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as handle:
        handle.write(content)
    return True


def server_secret(settings: Settings) -> bytes:
    """VDB_SECRET_KEY, or a random secret created once in the data directory and shared by its processes."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.data_dir / SECRET_FILE
    write_private_file(path, secrets.token_urlsafe(48))
    value = path.read_text().strip()
    if len(value) < 32:
        raise VidBenchError(
            f"{path} holds no usable secret; delete it to create a new one (all keys then stop working)"
        )
    return value.encode()


def derive(secret: bytes, purpose: str) -> bytes:
    """Separate keys for separate uses (key digests, JWT signatures) from the one server secret."""
    return hmac.new(secret, purpose.encode(), hashlib.sha256).digest()


def key_digest(secret: bytes, key: str) -> str:
    return hmac.new(derive(secret, "api-key"), key.encode(), hashlib.sha256).hexdigest()


def key_summary(row: ApiKeyRow) -> dict[str, Any]:
    """What may be shown of a key (never its digest), with its status: active, expired or revoked."""
    expires = row.expires_at
    status = "revoked" if row.revoked_at else "expired" if expires and expires <= utcnow() else "active"
    return {
        "key_id": row.id,
        "name": row.name,
        "prefix": row.prefix,
        "permissions": row.permissions,
        "tier": row.tier,
        "status": status,
        "created_at": row.created_at,
        "expires_at": row.expires_at,
        "revoked_at": row.revoked_at,
        "last_used_at": row.last_used_at,
    }


class ApiKeys:
    def __init__(self, store: CredentialRepository, secret: bytes, tiers: list[str]):
        self.store = store
        self.secret = secret
        self.tiers = tiers

    def create(
        self,
        name: str,
        permissions: list[str],
        tier: str = "free",
        expires_at: datetime | None = None,
        created_by: str | None = None,
    ) -> tuple[ApiKeyRow, str]:
        """Store a new key and return it in plain text: the only time it is ever seen."""
        permissions = check_scopes(permissions)
        check_tier(tier, self.tiers)
        if not permissions:
            raise ValidationError("A key needs at least one permission", {"permissions": permissions})
        if expires_at is not None and expires_at.replace(tzinfo=expires_at.tzinfo or UTC) <= utcnow():
            raise ValidationError("expires_at is in the past", {"expires_at": expires_at.isoformat()})
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(
            id=f"key_{secrets.token_hex(8)}",
            name=name,
            prefix=key[:12],
            digest=key_digest(self.secret, key),
            permissions=permissions,
            tier=tier,
            created_by=created_by,
            expires_at=expires_at,
        )
        return self.store.add_key(row), key

    def lookup(self, key: str) -> ApiKeyRow | None:
        """The key's row if it exists; the caller checks expiry and revocation."""
        digest = key_digest(self.secret, key)
        row = self.store.key_by_digest(digest)
        if row is None or not hmac.compare_digest(row.digest, digest):
            return None
        return row
