"""Users, Argon2 password hashes (pwdlib) and the JWTs they log in for (PyJWT)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import jwt
from pwdlib import PasswordHash

from app.config import Settings
from app.errors import AuthenticationError, ValidationError
from app.i18n import Message
from app.security.keys import derive
from app.security.scopes import check_scopes, check_tier
from app.storage.credentials import CredentialRepository
from app.storage.tables import UserRow, utcnow

ALGORITHM = "HS256"
ALGORITHMS = [ALGORITHM]  # fixed: a token naming any other algorithm (or none) is refused
MIN_PASSWORD_CHARS = 12
_hasher = PasswordHash.recommended()  # Argon2id
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # unknown users cost as much time as known ones


class Users:
    def __init__(self, store: CredentialRepository, secret: bytes, settings: Settings):
        self.store = store
        self.signing_key = derive(secret, "jwt")
        self.settings = settings

    def create(self, username: str, password: str, permissions: list[str], tier: str = "free") -> UserRow:
        if len(password) < MIN_PASSWORD_CHARS:
            raise ValidationError(Message("Passwords need at least {count} characters", count=MIN_PASSWORD_CHARS), {})
        row = UserRow(
            id=f"user_{secrets.token_hex(8)}",
            username=username,
            password_hash=_hasher.hash(password),
            permissions=check_scopes(permissions),
            tier=check_tier(tier, self.settings.rate_limit_tiers),
        )
        return self.store.add_user(row)

    def authenticate(self, username: str, password: str) -> UserRow:
        row = self.store.user_by_name(username)
        valid = _hasher.verify(password, row.password_hash if row else _DUMMY_HASH)
        if row is None or not valid or row.disabled:
            raise AuthenticationError(Message("Incorrect username or password"), {})
        return row

    def issue_token(self, user: UserRow, scopes: list[str] | None = None) -> tuple[str, int, list[str]]:
        """A signed token carrying the user's permissions, or the subset of them asked for (OAuth2 ``scope``)."""
        granted = [s for s in user.permissions if scopes is None or s in scopes]
        now = utcnow()
        ttl = self.settings.jwt_ttl_s
        claims = {
            "sub": user.id,
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=ttl),
            "jti": secrets.token_hex(8),
            "scope": " ".join(granted),
            "tier": user.tier,
        }
        return jwt.encode(claims, self.signing_key, algorithm=ALGORITHM), ttl, granted

    def verify_token(self, token: str) -> tuple[UserRow, dict]:
        """The token's user, if signature, algorithm, exp, iss and aud hold and the user is still enabled."""
        try:
            claims = jwt.decode(
                token,
                self.signing_key,
                algorithms=ALGORITHMS,
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError(Message("Token has expired"), {"reason": "expired"}) from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError(Message("Token is for another audience"), {"reason": "audience"}) from None
        except jwt.InvalidIssuerError:
            raise AuthenticationError(Message("Token is from another issuer"), {"reason": "issuer"}) from None
        except jwt.PyJWTError as error:
            raise AuthenticationError(Message("Token is invalid"), {"reason": type(error).__name__}) from None
        user = self.store.get_user(str(claims["sub"]))
        if user is None or user.disabled:
            raise AuthenticationError(Message("Token's user no longer exists or is disabled"), {"reason": "user"})
        return user, claims
