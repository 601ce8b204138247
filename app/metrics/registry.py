"""The metric registry: every metric with its direction, level, aggregation, evaluator and scorer.

Each family file lists its metrics as ``SPECS`` (and, when it needs a network,
``LOADERS``: weights key -> loader); this table collects them. The runner,
the comparison code (Pareto directions), the overall score, the Parquet export
(through its callers) and `vid-bench metrics list` all read it; nothing else
hard-codes a metric. Family files import numpy only: torch stays inside the
functions that need it, so the CLI starts fast.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.errors import ValidationError
from app.metrics import clip, fvd, inception, overall, temporal
from app.metrics.spec import MetricSpec

# The order of results users see; overall_score comes last because it combines the metrics before it.
FAMILIES = (temporal, clip, fvd, inception, overall)

METRICS: dict[str, MetricSpec] = {spec.name: spec for family in FAMILIES for spec in family.SPECS}

# weights key (app.metrics.weights.EVALUATORS) -> loader(path, device) giving the callable network
LOADERS: dict[str, Callable[[Path, str], Any]] = {
    key: loader for family in FAMILIES for key, loader in getattr(family, "LOADERS", {}).items()
}


def get_metric(name: str) -> MetricSpec:
    try:
        return METRICS[name]
    except KeyError:
        raise ValidationError(f"Unknown metric '{name}'", {"metric": name, "available": sorted(METRICS)}) from None


def canonical(name: str) -> str:
    """The registered name for an alias people type (`is`, `clip_score`); other names unchanged."""
    return next((spec.name for spec in METRICS.values() if name in spec.aliases), name)


def video_metric_names() -> list[str]:
    """Metrics with a value per video, in registry order (the Parquet export's metric columns)."""
    return [name for name, spec in METRICS.items() if spec.level == "video"]
