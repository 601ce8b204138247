from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from app.api.deps import State
from app.catalog import get_catalog
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


@router.get("")
def list_models(state: State, type: Literal["video", "image", "text", "speech", "audio"] | None = None,
                status: Literal["available", "not_deployed"] | None = None,
                limit: int = Query(50, ge=1, le=100), offset: int = Query(0, ge=0)) -> dict:
    deployed = set(state.backend.models())
    modality = TYPE_ALIASES.get(type, type) if type else None
    views = [model_view(s, deployed) for s in get_catalog().list(modality)]
    if status:
        views = [v for v in views if v["status"] == status]
    return {"models": views[offset:offset + limit], "total": len(views), "limit": limit, "offset": offset}


@router.get("/{model_name}")
def get_model(model_name: str, state: State) -> dict:
    return model_view(get_catalog().get(model_name), set(state.backend.models()))


@router.get("/{model_name}/health")
async def model_health(model_name: str, state: State) -> dict:
    spec = get_catalog().get(model_name)
    if spec.name not in set(state.backend.models()):
        return {"model_name": spec.name, "status": "not_deployed", "details": {"model_loaded": False}}
    report = await state.backend.call(spec.name, "health", "health-check", {})
    return {"model_name": spec.name, **report}
