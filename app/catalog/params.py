"""The one model of video generation parameters, shared by every surface.

``VideoParameters`` is what a caller may give (REST bodies, SDK, CLI, tuning,
benchmark specs); every field is optional and the catalog fills the rest.
Its bounds are generous but finite, so nothing outside a 32-bit integer or a
finite float ever reaches the catalog check, which then names each model's own
range. ``GenerationParams`` is the resolved result that engines run.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.errors import ValidationError

SCHEDULERS = {  # short names people use -> diffusers scheduler classes
    "ddim": "DDIMScheduler",
    "dpm": "DPMSolverMultistepScheduler",
    "euler": "EulerDiscreteScheduler",
    "euler_a": "EulerAncestralDiscreteScheduler",
    "lms": "LMSDiscreteScheduler",
    "pndm": "PNDMScheduler",
    "unipc": "UniPCMultistepScheduler",
    "heun": "HeunDiscreteScheduler",
}
if TYPE_CHECKING:  # a Literal built at run time is no type to mypy: to it a scheduler name is a str
    SchedulerName = str
else:
    SchedulerName = Literal[tuple(SCHEDULERS)]  # the names above, in the schema

RESOLUTION_PATTERN = r"^[0-9]{1,5}[xX][0-9]{1,5}$"


class VideoParameters(BaseModel):
    """Generation settings a caller may give for a video; unset ones take the model's catalog default.

    Strict, as the JSON schema states it: no strings for numbers, no booleans, no lists, finite floats only.
    An integral float (8.0) counts as an integer, as in JSON Schema; 8.5 frames does not.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    num_frames: int | None = Field(default=None, ge=1, le=1024, description="Frames per video.")
    fps: int | None = Field(default=None, ge=1, le=120, description="Frames per second of the video.")
    num_inference_steps: int | None = Field(default=None, ge=1, le=500, description="Denoising steps.")
    guidance_scale: float | None = Field(
        default=None, ge=0.0, le=50.0, description="Classifier-free guidance: how closely to follow the prompt."
    )
    width: int | None = Field(default=None, ge=8, le=4096, description="Width in pixels; overrides resolution.")
    height: int | None = Field(default=None, ge=8, le=4096, description="Height in pixels; overrides resolution.")
    resolution: str | None = Field(
        default=None, pattern=RESOLUTION_PATTERN, description="WIDTHxHEIGHT, one of the model's listed resolutions."
    )
    eta: float | None = Field(
        default=None, ge=0.0, le=1.0, description="DDIM-style stochasticity, for pipelines that take it."
    )
    scheduler: SchedulerName | None = Field(
        default=None, description="Scheduler short name; unset keeps the checkpoint's own."
    )

    @model_validator(mode="before")
    @classmethod
    def _whole_floats_as_ints(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        ints = integer_fields()
        return {
            name: int(value) if name in ints and isinstance(value, float) and value.is_integer() else value
            for name, value in data.items()
        }

    @classmethod
    def from_values(cls, values: VideoParameters | Mapping[str, Any] | None) -> VideoParameters:
        """The model from plain values (SDK kwargs, CLI options, stored specs); None means "not given".

        Bad values raise the typed ValidationError, not pydantic's.
        """
        if isinstance(values, VideoParameters):
            return values
        if values is not None and not isinstance(values, Mapping):
            raise ValidationError("Generation parameters must map names to values", {"parameters": repr(values)})
        given = {name: value for name, value in (values or {}).items() if value is not None}
        try:
            return cls(**given)
        except pydantic.ValidationError as exc:
            raise typed_error(exc, "generation parameter") from None


def _value_type(annotation: Any) -> type:
    """int, float or str: the JSON type of an optional field's value (a Literal of names counts as str)."""
    (inner,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    return str if typing.get_origin(inner) is Literal else inner


@lru_cache(maxsize=1)
def field_types() -> dict[str, type]:
    """Each VideoParameters field and its value type, so tuning and validation need no hand-kept name lists."""
    return {name: _value_type(field.annotation) for name, field in VideoParameters.model_fields.items()}


def integer_fields() -> set[str]:
    return {name for name, kind in field_types().items() if kind is int}


BOUND_NAMES = {"ge": "min", "gt": "above", "le": "max", "lt": "below", "pattern": "pattern", "expected": "expected"}


def typed_error(exc: pydantic.ValidationError, label: str) -> ValidationError:
    """pydantic's errors as the one typed error: unknown names listed, else the first problem named."""
    errors = [{"loc": [str(part) for part in e["loc"]], "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
    unknown = [".".join(e["loc"]) for e in errors if e["type"] == "extra_forbidden"]
    if unknown:
        return ValidationError(f"Unknown {label}(s): {', '.join(unknown)}", {"unknown": unknown, "errors": errors})
    first = errors[0]
    where = ".".join(first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    details: dict[str, Any] = {"parameter": where, "errors": errors}
    bounds = {BOUND_NAMES[k]: v for k, v in (exc.errors()[0].get("ctx") or {}).items() if k in BOUND_NAMES}
    if bounds:
        details["allowed"] = bounds
    return ValidationError(
        f"Invalid {label} {where}: {first['msg']}{more}" if where else f"Invalid {label}s: {first['msg']}{more}",
        details,
    )


class GenerationParams(BaseModel):
    """Resolved parameters for one generation (defaults filled from the catalog)."""

    model_config = ConfigDict(extra="forbid")

    num_frames: int
    fps: int
    num_inference_steps: int
    guidance_scale: float
    width: int
    height: int
    eta: float | None = None  # DDIM-style stochasticity, where the pipeline takes it
    scheduler: str | None = None  # a SCHEDULERS key; None keeps the checkpoint's scheduler
