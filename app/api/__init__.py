"""The HTTP API (FastAPI only). ``make_app()`` builds it; the Serve ingress attaches state."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from app import __version__


def make_app() -> FastAPI:
    from app.api import ws
    from app.api.errors import install_error_handlers
    from app.api.routes import benchmarks, cluster, inference, models, openai_compat, tasks

    api = FastAPI(title="vid-bench gateway", version=__version__,
                  description="Serve and benchmark video, image, text and speech models.")
    install_error_handlers(api)
    v1 = APIRouter(prefix="/api/v1")
    for module in (inference, tasks, models, benchmarks, cluster):
        v1.include_router(module.router)
    v1.include_router(ws.router)
    api.include_router(v1)
    api.include_router(openai_compat.router)

    @api.get("/health", tags=["health"])
    def health() -> dict:
        return {"status": "ok", "version": __version__}

    return api
