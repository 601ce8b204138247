"""Model catalog: specs as data (models.yaml) and the built-in tiny models."""

from app.catalog.spec import Catalog, GenerationParams, ModelSpec, get_catalog, resolve_params, validate_prompt

__all__ = ["Catalog", "GenerationParams", "ModelSpec", "get_catalog", "resolve_params", "validate_prompt"]
