from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query

from app.api.deps import State, requires
from app.api.schemas.models import DownloadRequest, DownloadStatus, ModelList, ModelView, OpenAIModel
from app.catalog import get_catalog
from app.catalog.facts import dependency_problems
from app.storage.tables import utcnow

router = APIRouter(prefix="/models", tags=["models"])
TYPE_ALIASES = {"audio": "speech"}  # the gateway reference calls speech models "audio"


def _views(state, specs) -> list[ModelView]:
    states, summaries = state.backend.model_states(), state.repo.model_summaries()
    return [
        ModelView.from_spec(spec, states, summaries.get(spec.name), state.settings.resolved_models_dir)
        for spec in specs
    ]


@router.get("", response_model=ModelList, dependencies=[requires("models.read", "models")])
def list_models(
    state: State,
    type: Literal["video", "image", "text", "speech", "audio"] | None = None,
    status: Literal["available", "not_deployed", "loading", "error"] | None = None,
    limit: int = Query(50, ge=1, le=100),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> ModelList:
    """The catalog page the references describe, and (data) OpenAI's list of the models callable now."""
    modality = TYPE_ALIASES.get(type, type) if type else None
    views = _views(state, get_catalog().list(modality))
    if status:
        views = [view for view in views if view.status == status]
    catalog = {spec.name: spec for spec in get_catalog().list()}
    # a deployed model whose catalog entry was removed since stays callable, but has no modality to report: left
    # out of the list rather than failing it
    callable_now = [
        OpenAIModel(id=name, created=0, modality=catalog[name].modality)
        for name in sorted(state.backend.models())
        if name in catalog
    ]
    return ModelList(
        data=callable_now,
        models=views[offset : offset + limit],
        total=len(views),
        limit=limit,
        offset=offset,
        page=offset // limit + 1,
    )


@router.post(
    "/download", status_code=202, response_model=DownloadStatus, dependencies=[requires("models.write", "models")]
)
def start_download(body: DownloadRequest, state: State) -> DownloadStatus:
    row = state.get_downloads().start(body.model_name, body.source, body.location, body.priority, body.auto_assign)
    return DownloadStatus.from_download(row, state.get_downloads().estimated_speed(row.source))


@router.get(
    "/download/{download_id}/status", response_model=DownloadStatus, dependencies=[requires("models.read", "models")]
)
def download_status(download_id: str, state: State) -> DownloadStatus:
    row = state.get_downloads().get(download_id)
    return DownloadStatus.from_download(row, state.get_downloads().estimated_speed(row.source))


@router.get("/{model_name}", response_model=ModelView, dependencies=[requires("models.read", "models")])
def get_model(model_name: str, state: State) -> ModelView:
    return _views(state, [get_catalog().get(model_name)])[0]


@router.get("/{model_name}/health", dependencies=[requires("models.read", "models")])
async def model_health(model_name: str, state: State) -> dict:
    """The replica's own report (load time, memory, one timed generation) for a deployed model; for every model,
    when this check ran and whether the catalog's dependency pins hold."""
    spec = get_catalog().get(model_name)
    checked_at = utcnow()
    problems = dependency_problems(spec)
    dependencies = {"dependencies_ok": not problems, "dependency_problems": problems}
    if spec.name not in set(state.backend.models()):
        return {
            "model_name": spec.name,
            "status": "not_deployed",
            "last_check": checked_at,
            "details": {"model_loaded": False, **dependencies},
        }
    # an id of its own: the backend keeps in-flight calls per id, so concurrent checks must not share one
    report = await state.backend.call(spec.name, "health", f"health-check-{uuid.uuid4().hex[:16]}", {})
    details = {**dependencies, **report.get("details", {})}  # the replica's own view wins where it has one
    return {"model_name": spec.name, **report, "last_check": checked_at, "details": details}
