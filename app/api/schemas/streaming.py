"""Streaming benchmark bodies (benchmark-suite reference, "Streaming API")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from app.api.schemas.base import RequestBody
from app.catalog.spec import MAX_PROMPT_CHARS, PROMPT_PATTERN
from app.storage.tables import StreamRow
from app.streaming.spec import MAX_LEVELS, MAX_PROMPTS, StreamSpec


class StreamConfig(RequestBody):
    duration_seconds: float = Field(default=60.0, gt=0, description="Seconds of back-to-back generation (live).")
    target_fps: float = Field(default=15.0, gt=0, le=240, description="Frames per second of the playback clock.")
    adaptive_quality: bool = True
    buffer_size: int = Field(default=30, ge=1, description="Frames the playback buffer holds.")
    mode: Literal["live", "interactive"] = Field(
        default="live",
        description="interactive: each prompt once, time to the first displayable frame against response_target_ms.",
    )
    response_target_ms: float = Field(default=500.0, gt=0)
    seed: int = Field(default=0, ge=0, le=2**31 - 1_000_000, description="Seed of the first clip; +1 per clip.")


class QualitySettings(RequestBody):
    initial_resolution: list[int] | None = Field(
        default=None, min_length=2, max_length=2, description="[width, height] of the top rung; default the model's."
    )
    initial_frames: int | None = Field(default=None, ge=1, le=1024)
    quality_levels: int = Field(default=4, ge=1, le=MAX_LEVELS)
    num_inference_steps: int | None = Field(default=None, ge=1, le=500)


class StreamCreate(RequestBody):
    model_name: str = Field(min_length=1, max_length=200)
    stream_config: StreamConfig = Field(default_factory=StreamConfig)
    prompts: list[Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)]] = Field(
        min_length=1, max_length=MAX_PROMPTS
    )
    quality_settings: QualitySettings = Field(default_factory=QualitySettings)

    def to_spec(self, device: str) -> StreamSpec:
        config, quality = self.stream_config, self.quality_settings
        return StreamSpec(
            mode=config.mode,
            model_name=self.model_name,
            prompts=self.prompts,
            duration_seconds=config.duration_seconds,
            target_fps=config.target_fps,
            adaptive_quality=config.adaptive_quality,
            buffer_size=config.buffer_size,
            initial_resolution=tuple(quality.initial_resolution) if quality.initial_resolution else None,
            initial_frames=quality.initial_frames,
            quality_levels=quality.quality_levels,
            num_inference_steps=quality.num_inference_steps,
            response_target_ms=config.response_target_ms,
            seed=config.seed,
            device=device,
        )


class StreamStarted(BaseModel):
    stream_id: str
    status: str
    websocket_url: str
    estimated_duration: float | None
    created_at: datetime


class StreamStatus(BaseModel):
    stream_id: str
    mode: str
    model_name: str
    status: str
    error: str | None
    ladder: list[dict[str, Any]] | None
    clips: int
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None

    @classmethod
    def from_row(cls, row: StreamRow, clips: int) -> StreamStatus:
        return cls(
            stream_id=row.id,
            mode=row.mode,
            model_name=row.model_name,
            status=row.status,
            error=row.error,
            ladder=row.ladder,
            clips=clips,
            created_at=row.created_at,
            started_at=row.started_at,
            completed_at=row.completed_at,
        )


class StreamResults(BaseModel):
    stream_id: str
    mode: str
    model_name: str
    status: str
    metrics: dict[str, Any] | None
    performance: dict[str, Any] | None
    reasons: dict[str, str] | None = Field(description="Why a figure is null, by name.")
    provenance: dict[str, Any] | None
    spec: dict[str, Any]
    error: str | None
    completed_at: datetime | None
    clips: list[dict[str, Any]] | None = None
    frames: list[dict[str, Any]] | None = None
    buffer: list[dict[str, Any]] | None = None
