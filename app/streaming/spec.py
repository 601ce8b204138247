"""StreamSpec: the one description of a streaming benchmark that REST, SDK and CLI all build."""

from __future__ import annotations

import re
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.catalog.params import typed_error
from app.catalog.spec import ModelSpec, get_catalog, validate_prompt
from app.config import Settings
from app.errors import ValidationError
from app.i18n import Message
from app.streaming.ladder import Rung, build_ladder

MAX_PROMPTS = 1000
MAX_LEVELS = 16


class StreamSpec(BaseModel):
    """Built from Python (SDK, CLI, stored rows) or a REST body: bad input raises the typed ValidationError."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=(), allow_inf_nan=False)

    mode: Literal["live", "interactive"] = "live"
    model_name: str = Field(min_length=1, max_length=200)
    prompts: list[str] = Field(min_length=1, max_length=MAX_PROMPTS)
    duration_seconds: float = Field(default=60.0, gt=0, description="Live: seconds of back-to-back generation.")
    target_fps: float = Field(default=15.0, gt=0, le=240, description="Live: frames per second of the playback clock.")
    adaptive_quality: bool = True
    buffer_size: int = Field(default=30, ge=1, description="Live: frames the playback buffer holds.")
    initial_resolution: tuple[int, int] | None = Field(default=None, description="(width, height) of the top rung.")
    initial_frames: int | None = Field(default=None, ge=1, le=1024, description="Frames per clip on the top rung.")
    quality_levels: int = Field(default=4, ge=1, le=MAX_LEVELS)
    num_inference_steps: int | None = Field(default=None, ge=1, le=500)
    response_target_ms: float = Field(default=500.0, gt=0, description="Interactive: time-to-first-frame target.")
    seed: int = Field(default=0, ge=0, le=2**31 - 1_000_000)
    device: str = "auto"
    metadata: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, **fields: Any):
        try:
            super().__init__(**fields)
        except pydantic.ValidationError as exc:
            raise typed_error(exc, "streaming setting") from None

    @field_validator("prompts")
    @classmethod
    def _prompts(cls, prompts: list[str]) -> list[str]:
        for prompt in prompts:
            validate_prompt(prompt)
        return prompts

    def check(self, settings: Settings) -> tuple[ModelSpec, list[Rung]]:
        """Every check that needs no weights, against the catalog and the settings; the quality ladder."""
        model = get_catalog().get(self.model_name)
        if model.modality != "video":
            raise ValidationError(
                Message(
                    "'{model_name}' is a {modality} model; streaming needs a video model",
                    model_name=self.model_name,
                    modality=model.modality,
                ),
                {"model_name": self.model_name, "modality": model.modality},
            )
        if model.source.kind == "remote":
            raise ValidationError(
                Message("Streaming benchmarks run models in a Ray actor; remote models are not supported"),
                {"model_name": self.model_name},
            )
        if self.mode == "live" and self.duration_seconds > settings.streaming_max_duration_s:
            raise ValidationError(
                Message(
                    "duration_seconds={value} is over the maximum {maximum}",
                    value=f"{self.duration_seconds:g}",
                    maximum=f"{settings.streaming_max_duration_s:g}",
                ),
                {
                    "parameter": "duration_seconds",
                    "value": self.duration_seconds,
                    "allowed": {"max": settings.streaming_max_duration_s},
                },
            )
        if self.buffer_size > settings.streaming_max_buffer_frames:
            raise ValidationError(
                Message(
                    "buffer_size={value} is over the maximum {maximum}",
                    value=self.buffer_size,
                    maximum=settings.streaming_max_buffer_frames,
                ),
                {
                    "parameter": "buffer_size",
                    "value": self.buffer_size,
                    "allowed": {"max": settings.streaming_max_buffer_frames},
                },
            )
        if settings.streaming_reservoir + settings.streaming_cushion > 1:
            raise ValidationError(
                Message("VDB_STREAMING_RESERVOIR + VDB_STREAMING_CUSHION must not exceed 1"),
                {"reservoir": settings.streaming_reservoir, "cushion": settings.streaming_cushion},
            )
        levels = self.quality_levels if (self.mode == "live" and self.adaptive_quality) else 1
        ladder = build_ladder(model, self.initial_resolution, self.initial_frames, levels, self.num_inference_steps)
        if self.mode == "live" and ladder[0].num_frames > self.buffer_size:
            raise ValidationError(
                Message(
                    "buffer_size={value} cannot hold one clip of the top rung ({frames} frames)",
                    value=self.buffer_size,
                    frames=ladder[0].num_frames,
                ),
                {"parameter": "buffer_size", "value": self.buffer_size, "allowed": {"min": ladder[0].num_frames}},
            )
        return model, ladder


def parse_duration_ms(text: str | float | int) -> float:
    """'500ms', '0.5s', '2s' or a bare number of milliseconds -> milliseconds (> 0)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s)?\s*", str(text))
        if not found:
            raise ValidationError(
                Message("Response target '{value}' is not a duration such as 500ms or 1.5s", value=str(text)),
                {"parameter": "response_target", "value": str(text)},
            )
        value = float(found.group(1)) * (1000.0 if found.group(2) == "s" else 1.0)
    if not value > 0:
        raise ValidationError(
            Message("The response target must be above 0"), {"parameter": "response_target", "value": str(text)}
        )
    return value
