"""The HTTP API (FastAPI only). ``make_app()`` builds it; the Serve ingress attaches state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute

from app import __version__
from app.config import Settings, get_settings
from app.errors import ValidationError

OPEN_PATHS = {
    "/health",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/api/v1/auth/login",
    "/v1/auth/login",
}
"""The only routes reachable without credentials (login is limited per client address instead)."""
OPEN_PATHS |= {"/dashboard", "/dashboard/dashboard.js"}  # the dashboard's page and script: no data, like /docs


def _error_responses(*statuses: int) -> dict:
    from app.api.schemas.errors import ErrorResponse

    return {status: {"model": ErrorResponse} for status in statuses}


GUARD_SCOPE, GUARD_GROUP = "vdb_scope", "vdb_group"
"""The attributes a route's guard carries (function attributes: set by declare_guard, read by guard_of)."""


def declare_guard(call: Callable[..., Any], scope: str | None, group: str) -> None:
    """Mark ``call`` (a requires(...) dependency or a socket_guard(...) endpoint) as the guard of its route, for
    ``scope`` (None: any valid credential) and rate-limit ``group``: make_app refuses a route without one."""
    setattr(call, GUARD_SCOPE, scope or "authenticated")
    setattr(call, GUARD_GROUP, group)


GUARDED = _error_responses(401, 403, 429)
VALIDATED = _error_responses(400, 404, 409, 413)
INFERENCE = _error_responses(408, 502, 503)


def make_app(settings: Settings | None = None) -> FastAPI:
    """The gateway's FastAPI app. Refuses to build when a route has no guard, or names a rate-limit group that
    ``settings`` (default: the environment's) neither limit nor declare unlimited."""
    from app.api import streaming_ws, ws
    from app.api.errors import install_error_handlers
    from app.api.routes import analytics as analytics_routes  # analytics (issue 16)
    from app.api.routes import auth, benchmarks, cluster, federated, inference, models, openai_compat, streaming, tasks
    from app.api.routes import dashboard as dashboard_routes

    api = FastAPI(
        title="vid-bench gateway",
        version=__version__,
        description="Serve and benchmark video, image, text and speech models. Every route except "
        "/health, /api/v1/auth/login and these docs needs an API key (X-API-Key) or a "
        "bearer token.",
    )
    install_error_handlers(api)
    v1 = APIRouter()
    v1.include_router(auth.router, responses={**GUARDED, **VALIDATED})
    for module in (tasks, models, benchmarks, cluster, federated):
        v1.include_router(module.router, responses={**GUARDED, **VALIDATED})
    v1.include_router(inference.router, responses={**GUARDED, **VALIDATED, **INFERENCE})
    v1.include_router(analytics_routes.router, responses={**GUARDED, **VALIDATED})
    v1.include_router(ws.router)
    v1.include_router(streaming.router, responses={**GUARDED, **VALIDATED})  # streaming benchmarks (issue #14)
    v1.include_router(streaming_ws.router)
    from app.api.routes import loadtests as loadtest_routes  # stored serving load tests (issue #17)

    v1.include_router(loadtest_routes.router, responses={**GUARDED, **VALIDATED})
    api.include_router(v1, prefix="/api/v1")
    # The references' production base /v1 (both of them): the same routes, beside OpenAI's; the one shared
    # path, GET /v1/models, answers both shapes at once (README "Paths"). Documented once, under /api/v1.
    api.include_router(v1, prefix="/v1", include_in_schema=False)
    api.include_router(ws.router, include_in_schema=False)  # ws://HOST/ws, as the benchmark reference writes it
    api.include_router(streaming_ws.router)  # the reference's own path, /streaming/ws/{id}, as well
    api.include_router(dashboard_routes.router)
    api.include_router(openai_compat.router, responses={**GUARDED, **VALIDATED, **INFERENCE})

    @api.get("/health", tags=["health"], responses=_error_responses(503))
    def health() -> dict:
        """200 when the database and the rate-limit store answer; 503 (the one error body, the checks in its
        details) when either does not, so a load balancer stops sending requests that could only fail."""
        from app.api.state import current_state
        from app.errors import ServiceUnavailableError

        checks = current_state().health()
        if any(check != "ok" for check in checks.values()):
            raise ServiceUnavailableError(
                "The gateway cannot serve requests: " + ", ".join(f"{name} {check}" for name, check in checks.items()),
                {"checks": checks, "version": __version__},
            )
        return {"status": "ok", "version": __version__, "checks": checks}

    _refuse_unguarded(api)
    refuse_unconfigured_groups(api, settings or get_settings())
    _install_security_middleware(api)
    _document_parameter_characters(api)
    return api


def _document_parameter_characters(api: FastAPI) -> None:
    """The OpenAPI document states the security middleware's rule: every free string path or query parameter
    matches PARAMETER_PATTERN (no control characters), so clients and fuzzers know a 400 for one is by design."""
    from app.api.schemas.base import PARAMETER_PATTERN

    def constrain(node: dict) -> None:
        if node.get("type") == "string" and not {"pattern", "enum", "const"} & set(node):
            node["pattern"] = PARAMETER_PATTERN
        for variant in node.get("anyOf", []) + node.get("oneOf", []) + node.get("allOf", []):
            constrain(variant)

    build = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is not None:
            return api.openapi_schema
        schema = build()  # FastAPI keeps it as api.openapi_schema: constrained once, in place
        for item in schema["paths"].values():
            for operation in item.values():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] in ("path", "query"):
                        constrain(parameter["schema"])
        return schema

    api.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema


def iter_routes(router, prefix: str = ""):
    """(full path, route) of every HTTP and WebSocket route, through nested include_router nodes."""
    for route in router.routes:
        nested = getattr(route, "original_router", None)  # FastAPI >= 0.137 keeps included routers as nodes
        if nested is not None:
            yield from iter_routes(nested, prefix + getattr(route.include_context, "prefix", ""))
        elif hasattr(route, "path"):
            yield prefix + route.path, route


def guard_of(route) -> tuple[str, str] | None:
    """(scope, rate-limit group) a route declares: requires(...) on HTTP routes, socket_guard(...) on WebSockets."""
    if isinstance(route, APIRoute):
        calls = [dependency.call for dependency in route.dependant.dependencies]
    else:
        calls = [getattr(route, "endpoint", None)]
    for call in calls:
        scope: str | None = getattr(call, GUARD_SCOPE, None)
        if scope:
            group: str = getattr(call, GUARD_GROUP)
            return scope, group
    return None


def _guarded_routes(api: FastAPI) -> Iterator[tuple[str, APIRoute | APIWebSocketRoute]]:
    """(full path, route) of every HTTP and WebSocket route that needs credentials."""
    for path, route in iter_routes(api.router):
        if isinstance(route, (APIRoute, APIWebSocketRoute)) and path not in OPEN_PATHS:
            yield path, route


def _refuse_unguarded(api: FastAPI) -> None:
    """Fail at start-up, not in production, when a route forgot its requires(...) / socket_guard(...)."""
    for path, route in _guarded_routes(api):
        if guard_of(route) is None:
            raise _unguarded(path, route)


def _unguarded(path: str, route: APIRoute | APIWebSocketRoute) -> RuntimeError:
    return RuntimeError(
        f"Route {sorted(getattr(route, 'methods', None) or ['WEBSOCKET'])} {path} has no requires(...) guard"
    )


def refuse_unconfigured_groups(api: FastAPI, settings: Settings) -> None:
    """Fail at start-up when a route names a rate-limit group the settings neither limit nor declare unlimited:
    such a route would otherwise go without its limit, silently."""
    from app.security.ratelimit import configured_groups

    known = configured_groups(settings)
    unknown: dict[str, list[str]] = {}
    for path, route in _guarded_routes(api):
        guard = guard_of(route)
        if guard is None:
            raise _unguarded(path, route)
        group = guard[1]
        if group not in known:
            unknown.setdefault(group, []).append(path)
    if unknown:
        raise ValidationError(
            f"Rate-limit group(s) {', '.join(sorted(unknown))} used by routes but not configured: give each limits "
            "in VDB_RATE_LIMIT_GROUPS or declare it unlimited in VDB_RATE_LIMIT_UNLIMITED_GROUPS",
            {
                "groups": unknown,
                "limited": sorted(settings.rate_limit_groups),
                "unlimited": sorted(settings.rate_limit_unlimited_groups),
            },
        )


def _install_security_middleware(api: FastAPI) -> None:
    from app.api.middleware import SecurityMiddleware
    from app.api.state import current_state
    from app.errors import VidBenchError

    def max_body_bytes() -> int:
        try:
            return current_state().settings.max_body_bytes
        except VidBenchError:  # state not installed yet: the configured default
            return get_settings().max_body_bytes

    def release_slot(key: str) -> None:
        current_state().get_limiter().release_slot(key)

    api.add_middleware(SecurityMiddleware, max_body_bytes=max_body_bytes, release_slot=release_slot)
