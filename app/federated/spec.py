"""What a federated session is: its benchmark grid, its privacy settings, and the tasks the grid expands to.

Every surface (REST, SDK, CLI) builds a :class:`SessionSpec`; building it checks everything that needs no
participant (models in the catalog, each grid point against the typed parameter model and the model's ranges,
the task limit, the privacy settings, metric names and their clipping bounds), so bad input is refused before
anything is stored.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.catalog.params import VideoParameters, typed_error
from app.catalog.spec import get_catalog, resolve_params, validate_prompt
from app.config import Settings
from app.errors import ValidationError
from app.federated.privacy import Statistic
from app.i18n import Message
from app.metrics.registry import METRICS

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
Scalar = int | float | str

PERFORMANCE_VALUES = {"latency_s": "seconds to generate one video (profiler's timed generation)"}
"""Per-video figures other than registered metrics that a session may release."""

DEFAULT_BOUNDS: dict[str, tuple[float, float]] = {
    # Published clipping bounds: a value outside is clamped before release; the sensitivity follows from them.
    "temporal_consistency": (0.0, 1.0),
    "temporal_flickering": (0.0, 1.0),
    "warping_error": (0.0, 1.0),
    "consecutive_ssim": (-1.0, 1.0),
    "consecutive_psnr": (0.0, 100.0),
    "motion_magnitude": (0.0, 64.0),
    "dynamic_degree": (0.0, 1.0),
    "clip_similarity": (-1.0, 1.0),
    "clipscore": (0.0, 2.5),
    "latency_s": (0.0, 60.0),
}
DEFAULT_METRICS = ("temporal_consistency", "latency_s")
STATISTICS: tuple[Statistic, ...] = ("mean", "variance")
"""What each participant releases per task and metric: both cost budget (sequential composition)."""


def releasable() -> list[str]:
    """Per-video figures a session can release: per-video mean metrics and the performance values."""
    return [name for name, spec in METRICS.items() if spec.aggregation == "mean"] + list(PERFORMANCE_VALUES)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    def __init__(self, **fields: Any):
        try:
            super().__init__(**fields)
        except pydantic.ValidationError as exc:
            raise typed_error(exc, "federated setting") from None


class PrivacyConfig(_Strict):
    """``none`` releases exact per-task aggregates; ``differential`` adds OpenDP noise: Laplace for pure
    epsilon (no delta), Gaussian for (epsilon, delta)."""

    privacy_level: Literal["none", "differential"] = "differential"
    epsilon: float | None = Field(default=None, description="Per participant and session; default 1.0.")
    delta: float | None = Field(default=None, description="Gaussian mechanism's delta, in (0, 1).")
    mechanism: Literal["laplace", "gaussian"] | None = Field(
        default=None, description="Default: laplace without delta, gaussian with one."
    )

    @model_validator(mode="after")
    def _consistent(self) -> PrivacyConfig:
        if self.privacy_level == "none":
            if self.epsilon is not None or self.delta is not None or self.mechanism is not None:
                raise ValueError("privacy_level 'none' takes no epsilon, delta or mechanism")
            return self
        if self.epsilon is None:
            self.epsilon = 1.0
        if not self.epsilon > 0:
            raise ValueError(f"epsilon must be > 0, got {self.epsilon}")
        if self.epsilon > 100:
            raise ValueError(f"epsilon must be at most 100, got {self.epsilon}")
        if self.mechanism is None:
            self.mechanism = "laplace" if self.delta is None else "gaussian"
        if self.mechanism == "laplace" and self.delta is not None:
            raise ValueError("the Laplace mechanism is pure epsilon-DP: give no delta, or choose 'gaussian'")
        if self.mechanism == "gaussian" and (self.delta is None or not 0 < self.delta < 1):
            raise ValueError(f"the Gaussian mechanism needs 0 < delta < 1, got {self.delta}")
        return self


class BenchmarkGrid(_Strict):
    """The reference's ``benchmark_spec``: models x the parameter grid, each task run on every prompt."""

    models: list[str] = Field(min_length=1, max_length=64)
    prompts: list[str] = Field(min_length=1, max_length=1000)
    parameters: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    videos_per_prompt: int = Field(default=1, ge=1, le=100)
    seed: int = Field(default=0, ge=0, le=2**31 - 101)
    metrics: list[str] = Field(default_factory=lambda: list(DEFAULT_METRICS), min_length=1, max_length=32)
    clip_bounds: dict[str, list[float]] = Field(
        default_factory=dict, description="Clipping bounds [low, high] per released metric, over the defaults."
    )

    @field_validator("prompts")
    @classmethod
    def _prompts(cls, prompts: list[str]) -> list[str]:
        for prompt in prompts:
            validate_prompt(prompt)
        return prompts

    @field_validator("models", "metrics")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"listed more than once: {repeated}")
        return names

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Each released metric's clipping bounds; refuses a metric that has none or bounds that are not a range."""
        unknown = sorted(set(self.metrics) - set(releasable()))
        if unknown:
            raise ValidationError(
                Message(
                    "Metric(s) {unknown} cannot be released per task: a federated session releases per-video mean "
                    "metrics and latency_s",
                    unknown=unknown,
                ),
                {"unknown": unknown, "releasable": releasable()},
            )
        stray = sorted(set(self.clip_bounds) - set(self.metrics))
        if stray:
            raise ValidationError(
                Message("clip_bounds given for metric(s) {stray} the session does not release", stray=stray),
                {"metrics": self.metrics, "clip_bounds": sorted(self.clip_bounds)},
            )
        out = {}
        for name in self.metrics:
            pair = self.clip_bounds.get(name) or DEFAULT_BOUNDS.get(name)
            if pair is None:
                raise ValidationError(
                    Message("Metric '{name}' has no default clipping bounds: give clip_bounds.{name}", name=name),
                    {"metric": name},
                )
            low, high = pair
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise ValidationError(
                    Message("clip_bounds.{name} must be [low, high] with low < high, finite", name=name),
                    {"metric": name, "bounds": [low, high]},
                )
            out[name] = (float(low), float(high))
        return out

    @field_validator("clip_bounds")
    @classmethod
    def _pairs(cls, bounds: dict[str, list[float]]) -> dict[str, list[float]]:
        for name, pair in bounds.items():
            if len(pair) != 2:
                raise ValueError(f"clip_bounds.{name} must be [low, high]")
        return bounds


@dataclass(frozen=True)
class FederatedTask:
    """One concrete benchmark of the grid: a model with one parameter combination, run on every prompt."""

    task_id: str
    model_name: str
    parameters: dict[str, Any]  # the given values only (VideoParameters, exclude_none)

    def to_dict(self) -> dict[str, Any]:
        return {"task_id": self.task_id, "model_name": self.model_name, "parameters": self.parameters}


def expand_grid(grid: BenchmarkGrid, max_tasks: int) -> list[FederatedTask]:
    """Models x the cartesian product of the parameter lists, each point checked with the typed parameter model
    and the model's catalog ranges. Refuses a grid larger than ``max_tasks`` before building any of it."""
    axes = {name: values if isinstance(values, list) else [values] for name, values in grid.parameters.items()}
    empty = sorted(name for name, values in axes.items() if not values)
    if empty:
        raise ValidationError(Message("Parameter grid(s) {empty} list no value", empty=empty), {"parameters": empty})
    count = len(grid.models) * math.prod(len(values) for values in axes.values())
    if count > max_tasks:
        raise ValidationError(
            Message(
                "The grid expands to {count} tasks; the limit is {max_tasks} (VDB_FEDERATED_MAX_TASKS)",
                count=count,
                max_tasks=max_tasks,
            ),
            {"tasks": count, "max_tasks": max_tasks},
        )
    catalog = get_catalog()
    tasks: list[FederatedTask] = []
    for model_name in grid.models:
        model = catalog.get(model_name)
        if model.modality != "video":
            raise ValidationError(
                Message(
                    "'{model_name}' is a {modality} model; federated benchmarks need video models",
                    model_name=model_name,
                    modality=model.modality,
                ),
                {"model_name": model_name, "modality": model.modality},
            )
        for point in itertools.product(*axes.values()):
            values = dict(zip(axes, point, strict=True))
            parameters = VideoParameters.from_values(values)
            resolve_params(model, parameters)
            given = parameters.model_dump(mode="json", exclude_none=True)
            tasks.append(FederatedTask(f"t{len(tasks) + 1:03d}-{_digest(model_name, given)}", model_name, given))
    return tasks


def _digest(model_name: str, parameters: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps([model_name, parameters], sort_keys=True).encode()).hexdigest()[:8]


class SessionSpec(_Strict):
    """The reference's create body, checked; ``tasks()`` is its grid expanded."""

    session_id: str = Field(pattern=ID_PATTERN)
    participants: list[str] = Field(min_length=1, max_length=100)
    benchmark_spec: BenchmarkGrid
    privacy_config: PrivacyConfig = Field(default_factory=PrivacyConfig)
    consensus_threshold: float = Field(default=1.0, gt=0, le=1)
    timeout_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)

    @field_validator("participants")
    @classmethod
    def _participants(cls, participants: list[str]) -> list[str]:
        for participant in participants:
            if not re.match(ID_PATTERN, participant):
                raise ValueError(f"participant id {participant!r} must match {ID_PATTERN}")
        repeated = sorted({p for p in participants if participants.count(p) > 1})
        if repeated:
            raise ValueError(f"duplicate participant id(s): {repeated}")
        return participants

    def tasks(self, settings: Settings) -> list[FederatedTask]:
        self.benchmark_spec.bounds()
        return expand_grid(self.benchmark_spec, settings.federated_max_tasks)

    def quorum(self) -> int:
        """How many participants make consensus: ceil(threshold x participants), at least one."""
        return max(1, math.ceil(self.consensus_threshold * len(self.participants) - 1e-9))


def parse_memory_gb(text: str | int | float | None) -> float | None:
    """'32GB', '24 GiB', '16' -> gigabytes; None stays None; anything else is a typed error."""
    if text is None:
        return None
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    found = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(G|GB|GiB|M|MB|MiB)?\s*", str(text), re.IGNORECASE)
    if not found:
        raise ValidationError(
            Message("gpu_memory {value} is not a size such as '32GB'", value=repr(text)), {"gpu_memory": text}
        )
    value, unit = float(found.group(1)), (found.group(2) or "GB").upper()
    return value / 1024 if unit.startswith("M") else value


def check_capabilities(models: list[str], capabilities: dict[str, Any]) -> None:
    """Refuse a participant whose declared capabilities cannot run every model of the spec."""
    supported = capabilities.get("models_supported")
    if not isinstance(supported, list):
        raise ValidationError(
            Message("capabilities.models_supported must list the models this participant can run"),
            {"capabilities": sorted(capabilities)},
        )
    missing = [model for model in models if model not in supported]
    memory = parse_memory_gb(capabilities.get("gpu_memory"))
    catalog = get_catalog()
    too_big = [] if memory is None else [m for m in models if catalog.get(m).requirements.vram_gb > memory]
    if missing or too_big:
        from app.errors import FederatedJoinRefusedError

        if missing and too_big:
            reasons = Message(
                "not supported: {missing}; need more than {memory} GB: {too_big}",
                missing=missing,
                memory=memory,
                too_big=too_big,
            )
        elif missing:
            reasons = Message("not supported: {missing}", missing=missing)
        else:
            reasons = Message("need more than {memory} GB: {too_big}", memory=memory, too_big=too_big)
        raise FederatedJoinRefusedError(
            Message("The participant's capabilities cannot run the session's models: {reasons}", reasons=reasons),
            {"missing_models": missing, "insufficient_memory": too_big, "gpu_memory_gb": memory},
        )
