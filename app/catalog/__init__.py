"""Model catalog: specs as data (models.yaml), the one video parameter model, and the built-in tiny models."""

from app.catalog.params import GenerationParams, VideoParameters
from app.catalog.spec import Catalog, ModelSpec, get_catalog, resolve_params, validate_prompt

__all__ = [
    "Catalog",
    "GenerationParams",
    "ModelSpec",
    "VideoParameters",
    "get_catalog",
    "resolve_params",
    "validate_prompt",
]
