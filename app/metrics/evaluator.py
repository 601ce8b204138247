"""Scores generated videos: per-video metrics on the worker, set-level metrics at the end.

``VideoEvaluator.evaluate`` runs where the video was generated (a Ray actor)
and returns per-video scores plus the per-video features that set-level
metrics need (I3D logits for FVD, Inception probabilities for IS), so frames
never travel. ``aggregate`` turns stored per-video records into the
benchmark's aggregate rows. Both just walk the registry: each metric's spec
says how it is scored and aggregated and which evaluator weights it needs.
A metric that cannot be computed is null with the reason; nothing is estimated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from app.metrics.registry import LOADERS, METRICS, canonical, get_metric
from app.metrics.spec import MetricSpec, Null, SetContext, VideoContext
from app.metrics.statistics import mean_interval
from app.metrics.weights import EVALUATORS, status, verified_path

FLOW_METRICS = {"warping_error", "motion_magnitude", "dynamic_degree", "temporal_consistency"}
"""Metrics computed on optical flow: their provenance names the flow method."""


def resolve_metric_names(names: list[str] | None) -> list[str]:
    if not names:
        return list(METRICS)
    resolved = [get_metric(canonical(n)).name for n in names]
    return list(dict.fromkeys(resolved))


class VideoEvaluator:
    def __init__(
        self, metric_names: list[str] | None, weights_dir: Path, device: str = "cpu", flow_method: str | None = None
    ):
        from app.metrics.temporal import flow_provenance

        self.names = resolve_metric_names(metric_names)
        self.options = {"flow_method": flow_provenance(flow_method)["method"]}  # unknown method: refused here
        self.device = device
        self.weights_dir = Path(weights_dir)
        self.unavailable: dict[str, str] = {}  # evaluator key -> reason
        self.provenance: dict[str, Any] = {}  # evaluator key -> sha256 and variant
        self._networks: dict[str, Any] = {}  # evaluator key -> loaded network
        self._specs = [spec for spec in METRICS.values() if spec.name in self.names]  # registry order
        self.methods: dict[str, Any] = {}  # how weight-free metrics were computed (the optical flow), for provenance
        if any(spec.name in FLOW_METRICS for spec in self._specs):
            self.methods["optical_flow"] = flow_provenance(flow_method)
        for key in sorted({spec.evaluator for spec in self._specs if spec.evaluator}):
            _, reason = status(key, self.weights_dir)
            if reason is not None:  # there is a reason exactly when the evaluator is not available
                self.unavailable[key] = reason
                continue
            path, digest = verified_path(key, self.weights_dir)  # wrong hash -> WeightsError, before any work
            self.provenance[key] = {"sha256": digest, "variant": EVALUATORS[key].variant, "path": str(path)}
            self._networks[key] = LOADERS[key](path, device)

    def evaluate(self, frames: np.ndarray, prompt: str, fps: float | None = None) -> dict[str, Any]:
        """Per-video scores and set-level features of one video; every null score has its reason."""
        video = VideoContext(frames, prompt, fps, self._networks, self.options)
        metrics: dict[str, float | None] = {}
        reasons: dict[str, str] = {}
        features: dict[str, Any] = {}
        for spec in self._specs:
            missing = self.unavailable.get(spec.evaluator or "")
            if spec.aggregation == "mean":
                if spec.score_video is None:  # MetricSpec refuses a "mean" metric without one
                    raise ValueError(f"metric {spec.name} has no score_video")
                value = Null(missing) if missing else spec.score_video(video)
                metrics[spec.name] = None if isinstance(value, Null) else value
            elif spec.features is None or missing:
                continue  # nothing to keep per video; aggregate() reports missing weights once, for the set
            else:
                value = spec.features(video)
                if not isinstance(value, Null):
                    features[spec.feature_key] = value
            if isinstance(value, Null):
                reasons[spec.name] = value.reason
        return {"metrics": metrics, "reasons": reasons, "features": features}


def _row(name: str, value=None, low=None, high=None, n=None, reason=None, details=None, kind="metric") -> dict:
    return {
        "kind": kind,
        "name": name,
        "value": value,
        "ci_low": low,
        "ci_high": high,
        "n": n,
        "reason": reason,
        "details": details,
    }


def _video_reasons(records: list[dict[str, Any]], name: str) -> list[str]:
    return [reason for r in records if (reason := r.get("metric_reasons", {}).get(name))]


def aggregate(
    records: list[dict[str, Any]],
    metric_names: list[str],
    unavailable: dict[str, str],
    resamples: int = 1000,
    seed: int = 0,
    reference_i3d: np.ndarray | None = None,
) -> list[dict]:
    """Aggregate rows for every requested metric from per-video records (status ok).

    Per-video ("mean") metrics come first, in the requested order; then set metrics in registry order, each
    seeing the values before it (overall_score, registered last, combines them).
    """
    names = resolve_metric_names(metric_names)
    specs = [METRICS[name] for name in names if METRICS[name].aggregation == "mean"] + [
        spec for spec in METRICS.values() if spec.name in names and spec.aggregation == "set"
    ]
    rows: list[dict] = []
    for spec in specs:
        missing = unavailable.get(spec.evaluator or "")
        if spec.aggregation == "mean":
            rows.append(_mean_row(spec, records, missing, resamples, seed))
        elif missing:
            rows.append(_row(spec.name, reason=missing))
        elif spec.aggregate_set is None:  # MetricSpec refuses a "set" metric without one
            raise ValueError(f"metric {spec.name} has no aggregate_set")
        else:
            result = spec.aggregate_set(
                SetContext(
                    features=[f for r in records if (f := r.get("features", {}).get(spec.feature_key)) is not None],
                    video_reasons=_video_reasons(records, spec.name),
                    reference_i3d=reference_i3d,
                    earlier={row["name"]: row["value"] for row in rows},
                    higher_is_better={name: other.higher_is_better for name, other in METRICS.items()},
                )
            )
            rows.append(_row(spec.name, result.value, n=result.n, reason=result.reason, details=result.details))
    return rows


def _mean_row(spec: MetricSpec, records: list[dict[str, Any]], missing: str | None, resamples: int, seed: int) -> dict:
    """The mean over videos with a 95% CI fit for n and the kind of value, or null with the first reason a video
    gave. The interval's method is in the details (Wilson for 0/1 values, Student-t for small n, else BCa)."""
    values = [r["metrics"][spec.name] for r in records if r["metrics"].get(spec.name) is not None]
    if not values:
        return _row(spec.name, reason=next(iter(_video_reasons(records, spec.name)), None) or missing or "no videos")
    interval = mean_interval(values, spec.binary, resamples, seed)
    return _row(
        spec.name,
        interval.mean,
        interval.low,
        interval.high,
        len(values),
        details={"per_video_n": len(values), **interval.details(0.95, resamples, seed)},
    )
