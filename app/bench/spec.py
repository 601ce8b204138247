"""BenchmarkSpec: the one description of a benchmark that CLI, SDK, REST and jobs all build."""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field, FieldSerializationInfo, field_serializer, field_validator

from app.catalog.params import VideoParameters, typed_error
from app.catalog.spec import ModelSpec, get_catalog, resolve_params, validate_prompt
from app.engines.optimization import get_profile
from app.errors import ValidationError
from app.metrics.evaluator import resolve_metric_names

MAX_PROMPTS = 1000
MAX_VIDEOS_PER_PROMPT = 100
MAX_SEED = 2**31 - MAX_VIDEOS_PER_PROMPT
"""Video k of a prompt uses seed + k, and every one must fit the 32-bit seed column (PostgreSQL INTEGER)."""


class MetricSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    compute_metrics: bool = True
    metrics: list[str] | None = Field(default=None, description="Metric names; default every registered metric.")
    fvd_reference_dir: str | None = Field(default=None, description="Directory of real videos for FVD.")
    flow_method: str | None = Field(
        default=None,
        description="Optical flow of the weight-free metrics (dis, dis-medium, farneback); default VDB_FLOW_METHOD.",
    )

    @field_validator("flow_method")
    @classmethod
    def _known_flow(cls, name: str | None) -> str | None:
        if name is not None:
            from app.metrics.temporal import flow_method

            flow_method(name)  # unknown -> ValidationError before anything is stored
        return name


class BenchmarkSpec(BaseModel):
    """Built from Python (SDK, CLI, jobs, stored rows): bad input raises the typed ValidationError."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model_name: str
    prompts: list[str] = Field(min_length=1, max_length=MAX_PROMPTS)
    videos_per_prompt: int = Field(default=1, ge=1, le=MAX_VIDEOS_PER_PROMPT, strict=True)
    seed: int = Field(
        default=0,
        ge=0,
        le=MAX_SEED,
        strict=True,
        description="Seed of the first video of each prompt; +1 for each next video.",
    )
    parameters: VideoParameters = Field(default_factory=VideoParameters)
    optimization_level: str = "baseline"
    optimization_profile: dict[str, Any] | None = Field(
        default=None, description="A custom OptimizationProfile (its fields); overrides optimization_level."
    )
    device: str = "auto"
    metric_settings: MetricSettings = Field(default_factory=MetricSettings)
    save_videos: bool = False
    warmup_runs: int | None = Field(default=None, ge=0, le=10, strict=True)
    conditioning_image: str | None = Field(default=None, description="Image path for image-to-video models.")
    batch_size: int = Field(
        default=1,
        ge=1,
        le=MAX_VIDEOS_PER_PROMPT,
        strict=True,
        description="Videos generated per pipeline call (text-to-video pipelines only); each video's latency is "
        "its share of the call's, and the call's own is reported too.",
    )
    generation_timeout_s: float | None = Field(
        default=None,
        gt=0,
        le=24 * 3600,
        description="Bound on each video's generation; past it the video stops at its next denoising step and is "
        "recorded as failed with GENERATION_TIMEOUT. None: the VDB_GENERATION_TIMEOUT_S setting.",
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    def __init__(self, **fields: Any):
        try:
            super().__init__(**fields)
        except pydantic.ValidationError as exc:
            raise typed_error(exc, "benchmark setting") from None

    @field_serializer("parameters")
    def _given_parameters(self, parameters: VideoParameters, info: FieldSerializationInfo) -> dict[str, Any]:
        """Only the values given, so a stored spec (and its hash) reads as it was written."""
        return parameters.model_dump(mode=info.mode, exclude_none=True)

    @field_validator("model_name")
    @classmethod
    def _catalog_name(cls, model_name: str) -> str:
        """An alias (the references' 'cogvideo') is stored as the model it names, so results group by model."""
        return get_catalog().canonical(model_name)

    @field_validator("prompts")
    @classmethod
    def _prompts(cls, prompts: list[str]) -> list[str]:
        for prompt in prompts:
            validate_prompt(prompt)
        return prompts

    def seeds(self) -> list[int]:
        return [self.seed + k for k in range(self.videos_per_prompt)]

    def work_items(self) -> list[tuple[int, str, int]]:
        """(prompt index, prompt, seed) for every video, in a fixed order."""
        return [(i, prompt, seed) for i, prompt in enumerate(self.prompts) for seed in self.seeds()]

    def batches(self, items: list[tuple[int, str, int]]) -> list[tuple[tuple[int, str, int], ...]]:
        """Consecutive work items, ``batch_size`` per pipeline call (the last call may hold fewer)."""
        return [tuple(items[k : k + self.batch_size]) for k in range(0, len(items), self.batch_size)]

    def profile(self):
        from app.engines.optimization import OptimizationProfile

        if self.optimization_profile is not None:
            try:
                return OptimizationProfile(**self.optimization_profile)
            except TypeError as exc:
                raise ValidationError(
                    f"Invalid optimization profile: {exc}", {"profile": self.optimization_profile}
                ) from None
        return get_profile(self.optimization_level)

    def metric_names(self) -> list[str]:
        return resolve_metric_names(self.metric_settings.metrics) if self.metric_settings.compute_metrics else []

    def check(self) -> ModelSpec:
        """Every check that needs no model weights: run before anything is stored or started."""
        model = get_catalog().get(self.model_name)
        if model.modality != "video":
            raise ValidationError(
                f"'{self.model_name}' is a {model.modality} model; benchmarks need a video model",
                {"model_name": self.model_name, "modality": model.modality},
            )
        resolve_params(model, self.parameters)
        self.profile().check_device("cpu" if self.device == "cpu" else "cuda")
        self.metric_names()
        if self.batch_size > 1 and (model.task != "t2v" or model.source.kind == "remote"):
            why = (
                "a remote model takes one request per video"
                if model.source.kind == "remote"
                else f"a {model.task} pipeline conditions each call on one image"
            )
            raise ValidationError(
                f"batch_size={self.batch_size} is refused for '{model.name}': {why}; only "
                "text-to-video pipelines batch",
                {"parameter": "batch_size", "value": self.batch_size, "model_name": model.name},
            )
        if model.source.kind == "remote" and not model.source.remote_url():
            raise ValidationError(
                f"'{self.model_name}' is a remote model and no endpoint is configured (set {model.source.url_env})",
                {"model_name": self.model_name, "env": model.source.url_env},
            )
        return model
