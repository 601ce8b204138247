"""Bodies of the /auth routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="What the key is for, shown in listings.")
    permissions: list[str] = Field(min_length=1, max_length=20, description="Scopes, e.g. models.read.")
    tier: str = Field(default="free", max_length=20, description="Rate-limit tier: free, pro or enterprise.")
    expires_at: datetime | None = Field(default=None, description="When the key stops working (UTC).")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650, description="Alternative to expires_at.")


class ApiKeyView(BaseModel):
    key_id: str
    name: str
    prefix: str = Field(description="First characters of the key, to tell keys apart.")
    permissions: list[str]
    tier: str
    status: str = Field(description="active, expired or revoked")
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class ApiKeyCreated(ApiKeyView):
    key: str = Field(description="The key itself. Shown this once: only a keyed digest is stored.")


class ApiKeyList(BaseModel):
    api_keys: list[ApiKeyView]
    total: int


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
    scope: str | None = Field(default=None, max_length=2000,
                              description="Space-separated scopes to narrow the token to (OAuth2).")


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    scope: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=12, max_length=1024)
    permissions: list[str] = Field(min_length=1, max_length=20)
    tier: str = Field(default="free", max_length=20)


class UserView(BaseModel):
    user_id: str
    username: str
    permissions: list[str]
    tier: str
    created_at: datetime


class WhoAmI(BaseModel):
    id: str
    kind: str
    name: str
    permissions: list[str]
    tier: str
