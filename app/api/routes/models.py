from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query

from app.api.deps import State, requires
from app.api.schemas.models import DownloadRequest, DownloadStatus, ModelList, ModelView
from app.catalog import get_catalog

router = APIRouter(prefix="/models", tags=["models"])
TYPE_ALIASES = {"audio": "speech"}  # the gateway reference calls speech models "audio"


@router.get("", response_model=ModelList, dependencies=[requires("models.read", "models")])
def list_models(state: State, type: Literal["video", "image", "text", "speech", "audio"] | None = None,
                status: Literal["available", "not_deployed"] | None = None,
                limit: int = Query(50, ge=1, le=100), offset: int = Query(0, ge=0, le=1_000_000)) -> ModelList:
    deployed = set(state.backend.models())
    modality = TYPE_ALIASES.get(type, type) if type else None
    views = [ModelView.from_spec(spec, deployed) for spec in get_catalog().list(modality)]
    if status:
        views = [view for view in views if view.status == status]
    return ModelList(models=views[offset:offset + limit], total=len(views), limit=limit, offset=offset)


@router.post("/download", status_code=202, response_model=DownloadStatus,
             dependencies=[requires("models.write", "models")])
def start_download(body: DownloadRequest, state: State) -> DownloadStatus:
    return DownloadStatus.from_download(state.downloads.start(body.model_name, body.source, body.location))


@router.get("/download/{download_id}/status", response_model=DownloadStatus,
            dependencies=[requires("models.read", "models")])
def download_status(download_id: str, state: State) -> DownloadStatus:
    return DownloadStatus.from_download(state.downloads.get(download_id))


@router.get("/{model_name}", response_model=ModelView, dependencies=[requires("models.read", "models")])
def get_model(model_name: str, state: State) -> ModelView:
    return ModelView.from_spec(get_catalog().get(model_name), set(state.backend.models()))


@router.get("/{model_name}/health", dependencies=[requires("models.read", "models")])
async def model_health(model_name: str, state: State) -> dict:
    spec = get_catalog().get(model_name)
    if spec.name not in set(state.backend.models()):
        return {"model_name": spec.name, "status": "not_deployed", "details": {"model_loaded": False}}
    # an id of its own: the backend keeps in-flight calls per id, so concurrent checks must not share one
    report = await state.backend.call(spec.name, "health", f"health-check-{uuid.uuid4().hex[:16]}", {})
    return {"model_name": spec.name, **report}
