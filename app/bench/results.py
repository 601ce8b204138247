"""BenchmarkResult: a stored benchmark read back as one object (SDK, CLI, export)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.storage.repository import BenchmarkRepository


@dataclass
class BenchmarkResult:
    benchmark_id: str
    model_name: str
    status: str
    metrics: dict[str, float | None]
    metric_details: dict[str, dict[str, Any]]
    performance: dict[str, float | None]
    success_rate: float | None
    per_video: list[dict[str, Any]] = field(default_factory=list)
    provenance: dict[str, Any] | None = None
    spec: dict[str, Any] | None = None
    error: str | None = None
    error_details: dict[str, Any] | None = None  # the typed error's code and details, when it failed on one
    created_at: str | None = None
    completed_at: str | None = None
    performance_reasons: dict[str, str] = field(default_factory=dict)
    monitoring: dict[str, Any] | None = None  # resource timeline when enable_monitoring was on

    def to_dict(self, per_video: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {
            "benchmark_id": self.benchmark_id,
            "model_name": self.model_name,
            "status": self.status,
            "results": {
                "metrics": self.metrics,
                "metric_details": self.metric_details,
                "performance": self.performance,
                "performance_reasons": self.performance_reasons,
                "success_rate": self.success_rate,
                "completed_at": self.completed_at,
            },
            "provenance": self.provenance,
            "spec": self.spec,
            "error": self.error,
            "created_at": self.created_at,
            "monitoring": self.monitoring,
        }
        if per_video:  # evaluator features are internal inputs of set-level metrics, not results
            out["per_video"] = [{k: v for k, v in video.items() if k != "features"} for video in self.per_video]
        return out


def video_record(row) -> dict[str, Any]:
    """A stored video row as the record the worker produced."""
    return {
        "prompt_index": row.prompt_index,
        "prompt": row.prompt,
        "seed": row.seed,
        "status": row.status,
        "error": row.error,
        "num_frames": row.num_frames,
        "latency_s": row.latency_s,
        "timings": row.timings,
        "measurement": row.measurement,
        "metrics": row.metrics,
        "metric_reasons": row.metric_reasons,
        "features": row.features,
        "video_path": row.video_path,
        "worker": row.worker,
    }


EFFICIENCY_DEFINITION = (
    "overall_score points per second of generation: overall_score (0-100) divided by the mean "
    "per-video latency in seconds (docs/metrics.md)"
)


def efficiency_score(
    metrics: dict[str, float | None], performance: dict[str, float | None]
) -> tuple[float | None, str | None]:
    """(score, None) or (None, why): quality bought per second of generation, higher is better."""
    overall, latency_ms = metrics.get("overall_score"), performance.get("avg_latency_ms")
    if overall is None:
        return None, "overall_score is null (no quality metric available)"
    if not latency_ms:
        return None, "no per-video latency was measured"
    return overall / (latency_ms / 1000.0), None


def load_result(repo: BenchmarkRepository, benchmark_id: str) -> BenchmarkResult:
    row = repo.get(benchmark_id)
    metrics, details, performance = {}, {}, {}
    for agg in repo.aggregates(benchmark_id):
        if agg.kind == "metric":
            metrics[agg.name] = agg.value
            details[agg.name] = {
                "value": agg.value,
                "ci95": [agg.ci_low, agg.ci_high] if agg.ci_low is not None else None,
                "n": agg.n,
                "reason": agg.reason,
                **(agg.details or {}),
            }
        else:
            performance[agg.name] = agg.value
    success_rate = performance.pop("success_rate", None)
    score, reason = efficiency_score(metrics, performance)
    performance["efficiency_score"] = score
    reasons = {"efficiency_score": reason} if reason else {}
    videos = [video_record(v) for v in repo.videos(benchmark_id)]
    return BenchmarkResult(
        benchmark_id=row.id,
        model_name=row.model_name,
        status=row.status,
        metrics=metrics,
        metric_details=details,
        performance=performance,
        success_rate=success_rate,
        per_video=videos,
        provenance=row.provenance,
        spec=row.spec,
        error=row.error,
        error_details=row.error_details,
        created_at=row.created_at.isoformat(),  # NOT NULL, set on insert
        completed_at=row.completed_at.isoformat() if row.completed_at else None,
        performance_reasons=reasons,
        monitoring=row.monitoring,
    )
