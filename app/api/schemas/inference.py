"""Inference request bodies (gateway reference) and the task response."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from app.api.schemas.base import RequestBody
from app.catalog.params import VideoParameters
from app.catalog.spec import MAX_PROMPT_CHARS, PROMPT_PATTERN


class _Request(RequestBody):
    model_config = ConfigDict(populate_by_name=True)

    model: str = Field(min_length=1, max_length=200)
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**32 - 1,
        description="Unset: image, speech and video draw a fresh seed, returned in the result.",
    )
    run_async: bool = Field(
        default=False, alias="async", description="Answer 202 with the task id at once; follow it at /tasks/{id}."
    )


class TextGenerationRequest(_Request):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    top_k: int | None = Field(default=None, ge=0, le=1000)
    stop_sequences: list[str] | None = Field(default=None, max_length=4)
    stream: bool = False


class ImageGenerationRequest(_Request):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)
    negative_prompt: str | None = Field(default=None, max_length=MAX_PROMPT_CHARS)
    width: int | None = Field(default=None, ge=8, le=4096)
    height: int | None = Field(default=None, ge=8, le=4096)
    steps: int | None = Field(default=None, ge=1, le=500)
    guidance_scale: float | None = Field(default=None, ge=0.0, le=50.0)
    num_images: int = Field(default=1, ge=1, le=4)


class TextToSpeechRequest(_Request):
    text: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)
    voice: str | None = Field(default=None, max_length=100)
    language: str | None = Field(default=None, max_length=20)
    speed: float | None = Field(default=None, gt=0.0, le=4.0)
    pitch: float | None = Field(default=None, gt=0.0, le=4.0)


class VideoGenerationRequest(_Request, VideoParameters):
    """The generation parameters are the fields of the one VideoParameters model, at the top level."""

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)
    timeout_s: float | None = Field(
        default=None,
        gt=0,
        le=24 * 3600,
        description="Bound on the generation, in seconds; past it the video stops at its next denoising step and the "
        "task fails with GENERATION_TIMEOUT. Unset: the server's VDB_GENERATION_TIMEOUT_S, if any.",
    )
