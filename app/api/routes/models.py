from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.api.schemas.base import RequestBody

from app.api.deps import State, requires
from app.catalog import get_catalog
from app.catalog.downloads import REPO_ID_PATTERN, URL_PATTERN
from app.catalog.spec import ModelSpec

router = APIRouter(prefix="/models", tags=["models"])
TYPE_ALIASES = {"audio": "speech"}  # the gateway reference calls speech models "audio"


def model_view(spec: ModelSpec, deployed: set[str]) -> dict:
    """The union of both references' model fields."""
    return {
        "id": spec.name, "name": spec.name, "display_name": spec.display_name, "type": spec.modality,
        "task": spec.task, "description": spec.description, "version": spec.version, "architecture": spec.architecture,
        "status": "available" if spec.name in deployed else "not_deployed",
        "source": spec.source.model_dump(exclude_none=True),
        "requirements": spec.requirements.model_dump(), "supported_resolutions": spec.resolutions,
        "max_frames": spec.max_frames, "parameters": {k: v.model_dump(exclude_none=True) for k, v in spec.parameters.items()},
        "supported_languages": spec.languages, "voices": spec.voices, "max_context_length": spec.max_context_length,
        "license": spec.license, "paper_url": spec.paper_url, "huggingface_url": spec.huggingface_url,
    }


@router.get("", dependencies=[requires("models.read", "models")])
def list_models(state: State, type: Literal["video", "image", "text", "speech", "audio"] | None = None,
                status: Literal["available", "not_deployed"] | None = None,
                limit: int = Query(50, ge=1, le=100), offset: int = Query(0, ge=0)) -> dict:
    deployed = set(state.backend.models())
    modality = TYPE_ALIASES.get(type, type) if type else None
    views = [model_view(s, deployed) for s in get_catalog().list(modality)]
    if status:
        views = [v for v in views if v["status"] == status]
    return {"models": views[offset:offset + limit], "total": len(views), "limit": limit, "offset": offset}


class _Download(RequestBody):

    model_name: str = Field(min_length=1, max_length=100, pattern=REPO_ID_PATTERN,
                            description="Model identifier or Hub repo id; names the directory it lands in.")
    priority: Literal["low", "normal", "high"] = "normal"
    auto_assign: bool = False


class HubDownload(_Download):
    source: Literal["huggingface"] = "huggingface"
    location: str | None = Field(default=None, max_length=200, pattern=REPO_ID_PATTERN,
                                 description="Hub repo id; default: model_name.")


class LocalDownload(_Download):
    source: Literal["local"]
    location: str = Field(min_length=1, max_length=2000, description="A path under VDB_LOCAL_MODEL_ROOTS.")


class HttpDownload(_Download):
    source: Literal["http"]
    location: str = Field(max_length=2000, pattern=URL_PATTERN, description="An http(s) URL of one file.")


DownloadRequest = HubDownload | LocalDownload | HttpDownload


def download_view(row) -> dict:
    elapsed = ((row.completed_at or row.updated_at) - row.created_at).total_seconds()
    speed = row.downloaded_bytes / elapsed if elapsed > 0 else None
    progress = 100.0 * row.downloaded_bytes / row.total_bytes if row.total_bytes else None
    remaining = ((row.total_bytes - row.downloaded_bytes) / speed if speed and row.total_bytes and
                 row.status == "downloading" else None)
    return {"download_id": row.id, "model_name": row.model_name, "source": row.source, "location": row.location,
            "status": row.status, "progress": 100.0 if row.status == "completed" else progress,
            "downloaded_bytes": row.downloaded_bytes, "total_bytes": row.total_bytes,
            "download_speed_bytes_per_s": speed, "estimated_remaining_s": remaining, "target": row.target,
            "error": row.error, "started_at": row.created_at, "updated_at": row.updated_at,
            "completed_at": row.completed_at}


@router.post("/download", status_code=202, dependencies=[requires("models.write", "models")])
def start_download(body: DownloadRequest, state: State) -> dict:
    return download_view(state.downloads.start(body.model_name, body.source, body.location))


@router.get("/download/{download_id}/status", dependencies=[requires("models.read", "models")])
def download_status(download_id: str, state: State) -> dict:
    return download_view(state.downloads.get(download_id))


@router.get("/{model_name}", dependencies=[requires("models.read", "models")])
def get_model(model_name: str, state: State) -> dict:
    return model_view(get_catalog().get(model_name), set(state.backend.models()))


@router.get("/{model_name}/health", dependencies=[requires("models.read", "models")])
async def model_health(model_name: str, state: State) -> dict:
    spec = get_catalog().get(model_name)
    if spec.name not in set(state.backend.models()):
        return {"model_name": spec.name, "status": "not_deployed", "details": {"model_loaded": False}}
    # an id of its own: the backend keeps in-flight calls per id, so concurrent checks must not share one
    report = await state.backend.call(spec.name, "health", f"health-check-{uuid.uuid4().hex[:16]}", {})
    return {"model_name": spec.name, **report}
