"""The monitoring dashboard page: a server-rendered template and one small script, no build step, no CDN.

The page itself carries no data, so it is open (like /docs); everything it shows comes from guarded
endpoints (GET /api/v1/analytics/dashboard, the /api/v1/ws WebSocket) with the credential the person
signs in with.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from app import __version__
from app.api.state import current_state

HERE = Path(__file__).resolve().parents[1]
templates = Jinja2Templates(directory=HERE / "templates")
router = APIRouter(tags=["dashboard"])


@router.get("/dashboard", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, refresh: float | None = Query(None, ge=0.5, le=3600)):
    refresh_s = refresh or current_state().settings.dashboard_refresh_s
    return templates.TemplateResponse(request, "dashboard.html", {"refresh_s": refresh_s, "version": __version__})


@router.get("/dashboard/dashboard.js", include_in_schema=False)
def dashboard_script():
    return FileResponse(HERE / "static" / "dashboard.js", media_type="text/javascript")
