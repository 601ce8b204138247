"""Quality metrics: a registry with metadata, one file per metric family, statistics."""

from app.metrics.registry import METRICS, canonical, get_metric
from app.metrics.spec import MetricSpec

__all__ = ["METRICS", "MetricSpec", "canonical", "get_metric"]
