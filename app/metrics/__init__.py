"""Quality metrics: a registry with metadata, one file per metric family, statistics."""

from app.metrics.registry import METRICS, MetricSpec, canonical, get_metric

__all__ = ["METRICS", "MetricSpec", "canonical", "get_metric"]
