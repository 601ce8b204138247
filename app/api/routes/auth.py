"""API keys, users and login."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, Query, Request

from app.api.deps import Caller, State, requires
from app.api.schemas.auth import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyView,
    LoginRequest,
    TokenResponse,
    UserCreate,
    UserView,
    WhoAmI,
)
from app.errors import ValidationError
from app.storage.tables import utcnow

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/api-keys", status_code=201, response_model=ApiKeyCreated, dependencies=[requires("admin", "auth")])
def create_api_key(body: ApiKeyCreate, state: State, caller: Caller) -> ApiKeyCreated:
    expires_at = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    row, key = state.get_auth().keys.create(body.name, body.permissions, body.tier, expires_at, created_by=caller.id)
    return ApiKeyCreated.from_new_key(row, key)


@router.get("/api-keys", response_model=ApiKeyList, dependencies=[requires("admin", "auth")])
def list_api_keys(state: State, include_revoked: bool = Query(False)) -> ApiKeyList:
    rows = state.get_auth().store.list_keys(include_revoked=include_revoked)
    return ApiKeyList(api_keys=[ApiKeyView.from_key(r) for r in rows], total=len(rows))


@router.delete("/api-keys/{key_id}", response_model=ApiKeyView, dependencies=[requires("admin", "auth")])
def revoke_api_key(key_id: str, state: State) -> ApiKeyView:
    return ApiKeyView.from_key(state.get_auth().store.revoke_key(key_id))


LOGIN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": LoginRequest.model_json_schema()},
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["username", "password"],
                "properties": {
                    "grant_type": {"type": "string", "enum": ["password"]},
                    "username": {"type": "string", "minLength": 1, "maxLength": 200},
                    "password": {"type": "string", "minLength": 1, "maxLength": 1024},
                    "scope": {"type": "string", "maxLength": 2000},
                },
            }
        },
    },
}


@router.post("/login", response_model=TokenResponse, openapi_extra={"requestBody": LOGIN_BODY})
async def login(request: Request, state: State) -> TokenResponse:
    """Exchange a username and password (JSON, or an OAuth2 password-grant form) for an access token."""
    body = await _login_body(request)
    address = request.client.host if request.client else "unknown"
    request.state.rate_limit = state.get_limiter().hit_login(address)
    user = state.get_auth().users.authenticate(body.username, body.password)
    scopes = body.scope.split() if body.scope else None
    token, ttl, granted = state.get_auth().users.issue_token(user, scopes)
    return TokenResponse(access_token=token, expires_in=ttl, scope=" ".join(granted))


async def _login_body(request: Request) -> LoginRequest:
    from pydantic import ValidationError as PydanticError

    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/x-www-form-urlencoded":
            form = await request.form()
            if form.get("grant_type") not in (None, "password"):
                raise ValidationError(
                    "Only the password grant is supported here", {"grant_type": str(form.get("grant_type"))[:50]}
                )
            data = {k: form.get(k) for k in ("username", "password", "scope") if form.get(k) is not None}
        elif content_type == "application/json":
            data = json.loads(await request.body())
        else:
            raise ValidationError(
                "Send JSON or an application/x-www-form-urlencoded form", {"content_type": content_type}
            )
        return LoginRequest.model_validate(data)
    except (PydanticError, ValueError, TypeError) as error:
        details = (
            {"errors": error.errors(include_url=False, include_input=False, include_context=False)}
            if isinstance(error, PydanticError)
            else {"error": str(error)[:200]}
        )
        raise ValidationError("Login body is invalid", details) from None


@router.post("/users", status_code=201, response_model=UserView, dependencies=[requires("admin", "auth")])
def create_user(body: UserCreate, state: State) -> UserView:
    return UserView.from_user(state.get_auth().users.create(body.username, body.password, body.permissions, body.tier))


@router.get("/me", response_model=WhoAmI, dependencies=[requires(None, "auth")])
def who_am_i(caller: Caller) -> WhoAmI:
    return WhoAmI.from_principal(caller)
