"""The HTTP API (FastAPI only). ``make_app()`` builds it; the Serve ingress attaches state."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from app import __version__

OPEN_PATHS = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/api/v1/auth/login"}
"""The only routes reachable without credentials (login is limited per client address instead)."""


def _error_responses(*statuses: int) -> dict:
    from app.api.schemas.errors import ErrorResponse

    return {status: {"model": ErrorResponse} for status in statuses}


GUARDED = _error_responses(401, 403, 429)
VALIDATED = _error_responses(400, 404, 409, 413)
INFERENCE = _error_responses(408, 502, 503)


def make_app() -> FastAPI:
    from app.api import ws
    from app.api.errors import install_error_handlers
    from app.api.routes import auth, benchmarks, cluster, inference, models, openai_compat, tasks

    api = FastAPI(title="vid-bench gateway", version=__version__,
                  description="Serve and benchmark video, image, text and speech models. Every route except "
                              "/health, /api/v1/auth/login and these docs needs an API key (X-API-Key) or a "
                              "bearer token.")
    install_error_handlers(api)
    v1 = APIRouter(prefix="/api/v1")
    v1.include_router(auth.router, responses={**GUARDED, **VALIDATED})
    for module in (tasks, models, benchmarks, cluster):
        v1.include_router(module.router, responses={**GUARDED, **VALIDATED})
    v1.include_router(inference.router, responses={**GUARDED, **VALIDATED, **INFERENCE})
    v1.include_router(ws.router)
    api.include_router(v1)
    api.include_router(openai_compat.router, responses={**GUARDED, **VALIDATED, **INFERENCE})

    @api.get("/health", tags=["health"])
    def health() -> dict:
        return {"status": "ok", "version": __version__}

    _refuse_unguarded(api)
    _install_security_middleware(api)
    return api


def iter_routes(router, prefix: str = ""):
    """(full path, route) of every HTTP and WebSocket route, through nested include_router nodes."""
    for route in router.routes:
        nested = getattr(route, "original_router", None)  # FastAPI >= 0.137 keeps included routers as nodes
        if nested is not None:
            yield from iter_routes(nested, prefix + getattr(route.include_context, "prefix", ""))
        elif hasattr(route, "path"):
            yield prefix + route.path, route


def _refuse_unguarded(api: FastAPI) -> None:
    """Fail at start-up, not in production, when a route forgot its requires(...) guard."""
    for path, route in iter_routes(api.router):
        if not isinstance(route, APIRoute) or path in OPEN_PATHS:
            continue
        guards = [d for d in route.dependant.dependencies if getattr(d.call, "vdb_scope", None)]
        if not guards:
            raise RuntimeError(f"Route {sorted(route.methods)} {path} has no requires(...) guard")


def _install_security_middleware(api: FastAPI) -> None:
    from app.api.middleware import SecurityMiddleware
    from app.api.state import current_state
    from app.config import get_settings
    from app.errors import VidBenchError

    def max_body_bytes() -> int:
        try:
            return current_state().settings.max_body_bytes
        except VidBenchError:  # state not installed yet: the configured default
            return get_settings().max_body_bytes

    def release_slot(key: str) -> None:
        current_state().limiter.release_slot(key)

    api.add_middleware(SecurityMiddleware, max_body_bytes=max_body_bytes, release_slot=release_slot)
