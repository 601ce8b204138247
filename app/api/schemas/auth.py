"""Bodies of the /auth routes."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from app.api.schemas.base import RequestBody
from app.config import Tier
from app.security.auth import Principal
from app.security.keys import key_summary
from app.security.scopes import SCOPES
from app.storage.tables import ApiKeyRow, UserRow

if TYPE_CHECKING:  # a Literal built at run time is no type to mypy: to it a scope is a str
    Scope = str
else:
    Scope = Literal[tuple(SCOPES)]  # the schema lists every permission, so a typo is refused up front


class ApiKeyCreate(RequestBody):
    name: str = Field(min_length=1, max_length=100, description="What the key is for, shown in listings.")
    permissions: list[Scope] = Field(min_length=1, max_length=20, description="Scopes, e.g. models.read.")
    tier: Tier = Field(default="free", description="Rate-limit tier.")
    expires_in_days: int | None = Field(
        default=None, ge=1, le=3650, description="Days until the key stops working; none: until revoked."
    )


class ApiKeyView(BaseModel):
    key_id: str
    name: str
    prefix: str = Field(description="First characters of the key, to tell keys apart.")
    permissions: list[str]
    tier: Tier
    status: str = Field(description="active, expired or revoked")
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @classmethod
    def from_key(cls, key: ApiKeyRow) -> ApiKeyView:
        return cls(**key_summary(key))


class ApiKeyCreated(ApiKeyView):
    key: str = Field(description="The key itself. Shown this once: only a keyed digest is stored.")

    @classmethod
    def from_new_key(cls, row: ApiKeyRow, key: str) -> ApiKeyCreated:
        return cls(**ApiKeyView.from_key(row).model_dump(), key=key)


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyView]
    total: int


class LoginRequest(RequestBody):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    scope: str | None = Field(
        default=None, max_length=2000, description="Space-separated scopes to narrow the token to (OAuth2)."
    )


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str


class UserCreate(RequestBody):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=12, max_length=1024)
    permissions: list[Scope] = Field(min_length=1, max_length=20)
    tier: Tier = "free"


class UserView(BaseModel):
    user_id: str
    username: str
    permissions: list[str]
    tier: Tier
    created_at: datetime

    @classmethod
    def from_user(cls, user: UserRow) -> UserView:
        return cls(
            user_id=user.id,
            username=user.username,
            permissions=user.permissions,
            tier=user.tier,
            created_at=user.created_at,
        )


class WhoAmI(BaseModel):
    id: str
    kind: str
    name: str
    permissions: list[str]
    tier: Tier

    @classmethod
    def from_principal(cls, principal: Principal) -> WhoAmI:
        return cls(
            id=principal.id,
            kind=principal.kind,
            name=principal.name,
            permissions=list(principal.scopes),
            tier=principal.tier,
        )
