"""Benchmark bodies (benchmark-suite reference)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from app.api.schemas.base import RequestBody
from app.bench.reports import estimated_duration, prompt_progress
from app.bench.spec import MAX_PROMPTS, MAX_SEED, MAX_VIDEOS_PER_PROMPT
from app.catalog.params import VideoParameters
from app.catalog.spec import MAX_PROMPT_CHARS, PROMPT_PATTERN
from app.storage.repository import BenchmarkRepository
from app.storage.tables import AggregateRow, BenchmarkRow

MAX_METADATA_BYTES = 64 * 1024


class EvaluationSettings(RequestBody):
    compute_metrics: bool = True
    metrics: list[str] | None = None
    save_videos: bool = False
    optimization_level: Literal["baseline", "balanced", "performance"] | None = Field(
        default=None, description="Default: the server's optimization_level setting (`vid-bench config`)."
    )
    fvd_reference_dir: str | None = None


class BenchmarkCreate(RequestBody):
    model_name: str = Field(min_length=1, max_length=200)
    prompts: list[Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)]] = Field(
        min_length=1, max_length=MAX_PROMPTS
    )
    parameters: VideoParameters = Field(
        default_factory=VideoParameters, description="Generation parameters; unset ones take the model's defaults."
    )
    evaluation_settings: EvaluationSettings = Field(default_factory=EvaluationSettings)
    videos_per_prompt: int = Field(default=1, ge=1, le=MAX_VIDEOS_PER_PROMPT)
    seed: int = Field(
        default=0, ge=0, le=MAX_SEED, description="Seed of each prompt's first video; video k uses seed + k."
    )
    batch_size: int = Field(
        default=1,
        ge=1,
        le=MAX_VIDEOS_PER_PROMPT,
        description="Videos per pipeline call (text-to-video models only); latency is reported per video and per call.",
    )
    generation_timeout_s: float | None = Field(
        default=None,
        gt=0,
        le=24 * 3600,
        description="Bound on each video's generation, in seconds; a video past it stops at its next denoising step "
        "and is recorded as failed with GENERATION_TIMEOUT.",
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description=f"Free-form JSON kept with the benchmark (at most {MAX_METADATA_BYTES} bytes and 32 levels deep).",
    )

    @field_validator("metadata")
    @classmethod
    def _bounded_metadata(cls, metadata: dict[str, Any]) -> dict[str, Any]:
        import json

        try:
            size = len(json.dumps(metadata, allow_nan=False).encode())
        except ValueError:
            raise ValueError("metadata must be plain JSON (no NaN or infinity)") from None
        if size > MAX_METADATA_BYTES:
            raise ValueError(f"metadata is {size} bytes; at most {MAX_METADATA_BYTES} are kept")
        return metadata


class BenchmarkSubmitted(BaseModel):
    benchmark_id: str
    status: str
    estimated_duration: float | None = Field(
        description="Seconds: this model's measured wall time per video on earlier completed benchmarks with the "
        "same generation parameters, times this run's videos; null (reason beside) with no such run."
    )
    estimated_duration_reason: str | None
    created_at: datetime
    message: str

    @classmethod
    def from_benchmark(cls, benchmark: BenchmarkRow, repo: BenchmarkRepository) -> BenchmarkSubmitted:
        from app.catalog import get_catalog

        seconds, reason = estimated_duration(
            repo, get_catalog().get(benchmark.model_name), benchmark.spec, benchmark.total_videos
        )
        return cls(
            benchmark_id=benchmark.id,
            status=benchmark.status,
            estimated_duration=seconds,
            estimated_duration_reason=reason,
            created_at=benchmark.created_at,
            message="Benchmark submitted",
        )


class Progress(BaseModel):
    completed_prompts: int = Field(description="Prompts whose every video is stored (ok or failed)")
    total_prompts: int
    completed_videos: int
    failed_videos: int
    total_videos: int
    failed: int = Field(description="Failed videos (same as failed_videos; kept for earlier clients)")
    percentage: float = Field(description="Videos stored (ok or failed) of all videos, 0-100")
    estimated_remaining: float | None = Field(
        description="Seconds: this run's wall time per stored video so far, times the videos left; null before "
        "any video is stored (reason beside)"
    )
    estimated_remaining_reason: str | None

    @classmethod
    def from_benchmark(cls, benchmark: BenchmarkRow, repo: BenchmarkRepository) -> Progress:
        p = prompt_progress(repo, benchmark)
        return cls(
            completed_prompts=p.completed_prompts,
            total_prompts=p.total_prompts,
            completed_videos=p.completed_videos,
            failed_videos=p.failed_videos,
            total_videos=p.total_videos,
            failed=p.failed_videos,
            percentage=p.percentage,
            estimated_remaining=p.estimated_remaining,
            estimated_remaining_reason=p.estimated_remaining_reason,
        )


class BenchmarkStatus(BaseModel):
    """What GET /benchmarks/{id} answers and the /ws benchmark updates are made of."""

    benchmark_id: str
    model_name: str
    status: str
    progress: Progress
    current_task: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_benchmark(cls, benchmark: BenchmarkRow, repo: BenchmarkRepository) -> BenchmarkStatus:
        return cls(
            benchmark_id=benchmark.id,
            model_name=benchmark.model_name,
            status=benchmark.status,
            progress=Progress.from_benchmark(benchmark, repo),
            current_task=benchmark.current_task,
            error=benchmark.error,
            created_at=benchmark.created_at,
            started_at=benchmark.started_at,
            updated_at=benchmark.updated_at,
            completed_at=benchmark.completed_at,
        )


class Pagination(BaseModel):
    page: int
    limit: int
    total: int
    pages: int

    @classmethod
    def of(cls, page: int, limit: int, total: int) -> Pagination:
        return cls(page=page, limit=limit, total=total, pages=math.ceil(total / limit))


class BenchmarkSummary(BaseModel):
    benchmark_id: str
    model_name: str
    status: str
    created_at: datetime
    metrics_summary: dict[str, float | None]

    @classmethod
    def from_benchmark(cls, benchmark: BenchmarkRow, aggregates: list[AggregateRow]) -> BenchmarkSummary:
        values = {aggregate.name: aggregate.value for aggregate in aggregates}
        return cls(
            benchmark_id=benchmark.id,
            model_name=benchmark.model_name,
            status=benchmark.status,
            created_at=benchmark.created_at,
            metrics_summary={name: values.get(name) for name in ("overall_score", "avg_latency_ms")},
        )


class BenchmarkList(BaseModel):
    benchmarks: list[BenchmarkSummary]
    pagination: Pagination
