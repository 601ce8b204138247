"""Gateway requests, checked against the catalog before any task exists.

``prepare`` turns a request body into the normalized payload a model
deployment runs, or raises a typed error that names the allowed values. The
same checks run again in the engines; here they keep bad requests from ever
queueing. An image, speech or video request without a seed gets a fresh one,
carried in the payload so the task's result can say which seed made it; text
without a seed samples unseeded, as the engines do.
"""

from __future__ import annotations

import secrets
from typing import Any

from app.catalog.params import VideoParameters
from app.catalog.spec import (
    ModelSpec,
    check_ranges,
    check_timeout,
    get_catalog,
    resolve_params,
    speech_options,
    validate_prompt,
)
from app.config import get_settings
from app.errors import ValidationError

TASK_TYPES = {
    "text": "text-generation",
    "image": "image-generation",
    "speech": "text-to-speech",
    "video": "video-generation",
}
MAX_IMAGES = 4
SEED_RANGE = 2**31
"""Drawn seeds lie in [0, 2**31): valid for every engine and for a 32-bit column."""


def model_for(modality: str, model_name: str) -> ModelSpec:
    spec = get_catalog().get(model_name)
    if spec.modality != modality:
        raise ValidationError(
            f"'{model_name}' is a {spec.modality} model, not a {modality} model",
            {"model_name": model_name, "modality": spec.modality},
        )
    return spec


def prepare(modality: str, body: dict[str, Any]) -> tuple[ModelSpec, dict[str, Any]]:
    spec = model_for(modality, body["model"])
    seed = body.get("seed")
    if modality == "text":
        validate_prompt(body["prompt"])
        values = check_ranges(spec, {k: body.get(k) for k in ("max_tokens", "temperature", "top_p", "top_k")})
        stop = body.get("stop_sequences") or []
        if any(not s for s in stop):
            raise ValidationError("stop_sequences cannot contain empty strings", {"stop_sequences": stop})
        return spec, {"prompt": body["prompt"], **values, "stop": stop, "seed": seed}
    if seed is None:
        seed = secrets.randbelow(SEED_RANGE)
    if modality == "image":
        validate_prompt(body["prompt"])
        width, height = spec.default_resolution()
        width, height = body.get("width") or width, body.get("height") or height
        if f"{width}x{height}" not in spec.resolutions:
            raise ValidationError(
                f"size {width}x{height} is not supported by {spec.name}: {spec.resolutions}",
                {"allowed": spec.resolutions},
            )
        values = check_ranges(
            spec, {"num_inference_steps": body.get("steps"), "guidance_scale": body.get("guidance_scale")}
        )
        num_images = int(body.get("num_images") or 1)
        if not 1 <= num_images <= MAX_IMAGES:
            raise ValidationError(f"num_images must be between 1 and {MAX_IMAGES}", {"num_images": num_images})
        return spec, {
            "prompt": body["prompt"],
            "negative_prompt": body.get("negative_prompt"),
            "width": width,
            "height": height,
            **values,
            "num_images": num_images,
            "seed": seed,
        }
    if modality == "speech":
        validate_prompt(body["text"])
        options = speech_options(spec, body.get("voice"), body.get("language"), body.get("speed"), body.get("pitch"))
        return spec, {"text": body["text"], **options, "seed": seed}
    if modality == "video":
        validate_prompt(body["prompt"])
        params = resolve_params(spec, {name: body.get(name) for name in VideoParameters.model_fields})
        timeout_s = body.get("timeout_s")
        check_timeout(timeout_s)
        return spec, {
            "prompt": body["prompt"],
            "params": params.model_dump(),
            "seed": seed,
            "timeout_s": timeout_s or get_settings().generation_timeout_s,
        }
    raise ValidationError(f"Unknown modality '{modality}'", {"modality": modality})
