"""Typed dependencies for the routes: the API state, and who is calling with what permission.

Every route except health and the docs declares ``requires(scope, group)``:
authenticate (401), check the scope (403), take a concurrency slot, then count
the request against the caller's tier and endpoint group (429): a refused
request spends no quota. The outcome is left in the request state for the
security middleware's headers.
"""

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.api import declare_guard
from app.api.state import ApiState, current_state
from app.errors import RateLimitExceededError, TaskNotFoundError, VidBenchError
from app.security.auth import Principal
from app.storage.tables import TaskRow

api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, scheme_name="ApiKey", description="An API key (vdb_...)."
)
bearer = HTTPBearer(
    auto_error=False, scheme_name="Bearer", description="An API key or an access token from POST /api/v1/auth/login."
)


def get_state(request: Request) -> ApiState:
    return current_state()


State = Annotated[ApiState, Depends(get_state)]


def requires(scope: str | None, group: str):
    """The dependency guarding one route; ``scope=None`` means any valid credential. ``group`` is the route's
    rate-limit endpoint group: make_app refuses one the settings neither limit nor declare unlimited."""

    # Real (not string) annotations: Serve pickles this closure by value, without this module's globals.
    def authorize(
        request: Request,
        key: str | None = Security(api_key_header),
        token: HTTPAuthorizationCredentials | None = Security(bearer),
    ) -> Principal:
        state = current_state()
        principal = state.get_auth().authenticate(key or (token.credentials if token else None))
        if scope is not None:
            principal.require(scope)
        request.state.principal = principal
        try:  # slot first, then quota: a request refused by either spends neither
            request.state.concurrency_slot, request.state.rate_limit = state.get_limiter().admit(principal, group)
        except RateLimitExceededError as error:
            request.state.rate_limit = error.window
            raise
        return principal

    declare_guard(authorize, scope, group)  # make_app refuses to build with an unguarded route
    return Depends(authorize)


def get_caller(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:  # a route that asks for the caller without guarding itself is a programming error
        raise VidBenchError("Route has no requires(...) guard", {"path": request.url.path})
    return principal


Caller = Annotated[Principal, Depends(get_caller)]


def owned_task(state: ApiState, caller: Principal, task_id: str) -> TaskRow:
    """The task if the caller may see it; someone else's task does not exist for them."""
    task = state.tasks.get(task_id)
    if not caller.may_see(task.owner):
        raise TaskNotFoundError(task_id)
    return task
