"""Turn a presented credential (API key or login JWT) into a Principal, or refuse with 401."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import Settings
from app.errors import AuthenticationError, PermissionDeniedError
from app.i18n import Message
from app.security.keys import KEY_PREFIX, ApiKeys, server_secret
from app.security.scopes import grants
from app.security.users import Users
from app.storage.credentials import CredentialRepository
from app.storage.database import Database
from app.storage.tables import utcnow


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key or a logged-in user, with the scopes and tier that apply."""

    id: str
    kind: str  # api_key | user
    name: str
    scopes: tuple[str, ...]
    tier: str

    def can(self, scope: str) -> bool:
        return grants(self.scopes, scope)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    def require(self, scope: str) -> None:
        if not self.can(scope):
            raise PermissionDeniedError(
                Message("This credential lacks the '{scope}' permission", scope=scope),
                {"required": scope, "granted": list(self.scopes)},
            )

    def may_see(self, owner: str | None) -> bool:
        """Tasks belong to whoever created them; admins see every one."""
        return self.is_admin or owner is None or owner == self.id


def credential_from_headers(headers) -> str | None:
    """X-API-Key, or the token of ``Authorization: Bearer <token>``."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    authorization = headers.get("authorization") or ""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class Authenticator:
    def __init__(self, settings: Settings, db: Database):
        secret = server_secret(settings)
        self.store = CredentialRepository(db)
        self.keys = ApiKeys(self.store, secret, list(settings.rate_limit_tiers))
        self.users = Users(self.store, secret, settings)

    def authenticate(self, credential: str | None) -> Principal:
        if not credential:
            raise AuthenticationError(
                Message("Credentials required: send 'X-API-Key: <key>' or 'Authorization: Bearer <key or token>'"),
                {"reason": "missing"},
            )
        if len(credential) > 4096:
            raise AuthenticationError(Message("Credential is too long"), {"reason": "malformed"})
        if credential.startswith(KEY_PREFIX):
            return self._from_key(credential)
        user, claims = self.users.verify_token(credential)
        token_scopes = set(str(claims.get("scope", "")).split())
        scopes = tuple(s for s in user.permissions if s in token_scopes)  # a narrowed user narrows old tokens
        return Principal(id=user.id, kind="user", name=user.username, scopes=scopes, tier=user.tier)

    def _from_key(self, key: str) -> Principal:
        row = self.keys.lookup(key)
        if row is None:
            raise AuthenticationError(Message("Unknown API key"), {"reason": "unknown"})
        if row.revoked_at is not None:
            raise AuthenticationError(Message("API key has been revoked"), {"reason": "revoked", "key_id": row.id})
        expires = row.expires_at
        if expires is not None and expires <= utcnow():
            raise AuthenticationError(Message("API key has expired"), {"reason": "expired", "key_id": row.id})
        self.store.touch_key(row)
        return Principal(id=row.id, kind="api_key", name=row.name, scopes=tuple(row.permissions), tier=row.tier)
