"""What a metric is: its metadata and its scorer, plus what the scorers see.

A metric family file (temporal.py, clip.py, ...) lists its metrics as
``SPECS``; ``app.metrics.registry`` collects them. This module imports no
family, so families and the registry can both import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Null:
    """A value that cannot be computed on this input, and why (never replaced by a made-up number)."""

    reason: str


@dataclass
class VideoContext:
    """One generated video as per-video scorers see it, with the evaluator networks loaded for this run."""

    frames: np.ndarray  # uint8 [T, H, W, 3]
    prompt: str
    fps: float | None
    networks: dict[str, Any]  # evaluator weights key (app.metrics.weights.EVALUATORS) -> loaded network
    options: dict[str, Any] = field(default_factory=dict)  # scorer choices of this run, e.g. flow_method
    _shared: dict[Callable, Any] = field(default_factory=dict, repr=False)

    def shared(self, compute: Callable[[VideoContext], T]) -> T:
        """compute(self), once per video, so metrics of one family share one pass (e.g. the optical flow)."""
        if compute not in self._shared:
            self._shared[compute] = compute(self)
        return self._shared[compute]


@dataclass(frozen=True)
class SetContext:
    """What a set-level metric sees when the benchmark's rows are aggregated."""

    features: list[Any]  # this metric's per-video features, from the videos that have them, in video order
    video_reasons: list[str]  # why videos have no features for this metric, in video order
    reference_i3d: np.ndarray | None  # I3D features of a real-video reference set (FVD), if one was given
    earlier: dict[str, float | None]  # values of the requested metrics aggregated before this one
    higher_is_better: dict[str, bool | None]  # direction of every registered metric (None: descriptive)


@dataclass(frozen=True)
class SetAggregate:
    """A set-level metric's aggregate row (no bootstrap interval: the set is scored once)."""

    value: float | None
    n: int | None = None
    reason: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class MetricSpec:
    """A metric: metadata everybody reads, and the function that computes it.

    ``aggregation`` picks the computation: "mean" scores each video with
    ``score_video`` and aggregates the mean with a 95% CI (app.metrics.statistics); "set" keeps
    ``features`` per video (on the worker, so frames never travel) and scores
    the whole set once with ``aggregate_set``. ``evaluator`` names the network
    whose weights the scorer needs; while they are missing the metric is null
    with the reason.
    """

    name: str
    higher_is_better: bool | None  # None: descriptive (e.g. how much motion), no better direction
    level: Literal["video", "set"]  # per video, or over the whole set of videos (FVD, IS)
    aggregation: Literal["mean", "set"]
    evaluator: str | None  # key in app.metrics.weights.EVALUATORS, or None for weight-free
    unit: str
    description: str
    score_video: Callable[[VideoContext], float | Null] | None = None
    features: Callable[[VideoContext], Any | Null] | None = None  # JSON-ready per-video features
    aggregate_set: Callable[[SetContext], SetAggregate] | None = None
    aliases: tuple[str, ...] = ()  # other names people type (the reference's CLI says `is`, `clip_score`)
    binary: bool = False  # each video scores 0 or 1, so the mean is a proportion (Wilson interval)

    def __post_init__(self):
        per_video = self.score_video is not None and self.features is None and self.aggregate_set is None
        per_set = self.score_video is None and self.aggregate_set is not None
        if not (per_video if self.aggregation == "mean" else per_set):
            raise ValueError(
                f"metric {self.name}: aggregation 'mean' takes score_video only; "
                "'set' takes aggregate_set and optionally features"
            )

    @property
    def feature_key(self) -> str:
        """Where this metric's per-video features are stored (the evaluator's key: FVD's are 'i3d')."""
        return self.evaluator or self.name

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "higher_is_better": self.higher_is_better,
            "level": self.level,
            "aggregation": self.aggregation,
            "evaluator": self.evaluator,
            "unit": self.unit,
            "description": self.description,
        }
