"""The metric registry: every metric with its direction, level, aggregation and evaluator.

The runner, the comparison code (Pareto directions), the overall score and
`vid-bench metrics list` all read this table; nothing else hard-codes a metric.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal


@dataclass(frozen=True)
class MetricSpec:
    name: str
    higher_is_better: bool
    level: Literal["video", "set"]  # per video, or over the whole set of videos (FVD, IS)
    aggregation: Literal["mean", "set"]
    evaluator: str | None  # key in app.metrics.weights.EVALUATORS, or None for weight-free
    unit: str
    description: str

    def to_dict(self) -> dict:
        return asdict(self)


METRICS: dict[str, MetricSpec] = {m.name: m for m in [
    MetricSpec("temporal_flickering", True, "video", "mean", None, "score 0-1",
               "1 - mean absolute difference of consecutive frames / 255 (VBench)"),
    MetricSpec("warping_error", False, "video", "mean", None, "MSE on [0,1]",
               "Farneback-flow warping error on unoccluded pixels (classical flow, not RAFT)"),
    MetricSpec("consecutive_ssim", True, "video", "mean", None, "SSIM",
               "SSIM of consecutive grayscale frames"),
    MetricSpec("consecutive_psnr", True, "video", "mean", None, "dB",
               "PSNR over consecutive frames; null when frames are identical"),
    MetricSpec("motion_magnitude", True, "video", "mean", None, "px/frame",
               "Mean forward optical-flow magnitude"),
    MetricSpec("dynamic_degree", True, "video", "mean", None, "fraction of videos",
               "VBench dynamic degree rule on Farneback flow"),
    MetricSpec("temporal_consistency", True, "video", "mean", None, "score 0-1",
               "Mean of temporal_flickering, consecutive_ssim and 1/(1+100*warping_error)"),
    MetricSpec("clip_similarity", True, "video", "mean", "clip", "cosine",
               "Cosine of the prompt embedding with the normalised mean of frame embeddings (CLIP ViT-B/32)"),
    MetricSpec("fvd", False, "set", "set", "i3d", "distance",
               "Frechet Video Distance on I3D (Kinetics-400) 400-d logits"),
    MetricSpec("inception_score", True, "set", "set", "inception", "score",
               "Per-frame Inception Score, InceptionV3 (TF 2015-12-05 weights, 1008 classes), 10 splits"),
    MetricSpec("overall_score", True, "set", "set", None, "score 0-100",
               "Weighted combination of normalised available metrics (docs/metrics.md)"),
]}


def get_metric(name: str) -> MetricSpec:
    from app.errors import ValidationError

    try:
        return METRICS[name]
    except KeyError:
        raise ValidationError(f"Unknown metric '{name}'", {"metric": name, "available": sorted(METRICS)}) from None


# Aliases people type (the reference's CLI uses `is` and `clip_score`).
ALIASES = {"is": "inception_score", "clip_score": "clip_similarity", "clip": "clip_similarity"}


def canonical(name: str) -> str:
    return ALIASES.get(name, name)
