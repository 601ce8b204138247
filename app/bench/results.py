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
    created_at: str | None = None
    completed_at: str | None = None

    def to_dict(self, per_video: bool = True) -> dict[str, Any]:
        out = {
            "benchmark_id": self.benchmark_id, "model_name": self.model_name, "status": self.status,
            "results": {"metrics": self.metrics, "metric_details": self.metric_details,
                        "performance": self.performance, "success_rate": self.success_rate,
                        "completed_at": self.completed_at},
            "provenance": self.provenance, "spec": self.spec, "error": self.error, "created_at": self.created_at,
        }
        if per_video:  # evaluator features are internal inputs of set-level metrics, not results
            out["per_video"] = [{k: v for k, v in video.items() if k != "features"} for video in self.per_video]
        return out


def video_record(row) -> dict[str, Any]:
    """A stored video row as the record the worker produced."""
    return {"prompt_index": row.prompt_index, "prompt": row.prompt, "seed": row.seed, "status": row.status,
            "error": row.error, "num_frames": row.num_frames, "latency_s": row.latency_s, "timings": row.timings,
            "measurement": row.measurement, "metrics": row.metrics, "metric_reasons": row.metric_reasons,
            "features": row.features, "video_path": row.video_path, "worker": row.worker}


def load_result(repo: BenchmarkRepository, benchmark_id: str) -> BenchmarkResult:
    row = repo.get(benchmark_id)
    metrics, details, performance = {}, {}, {}
    for agg in repo.aggregates(benchmark_id):
        if agg.kind == "metric":
            metrics[agg.name] = agg.value
            details[agg.name] = {"value": agg.value,
                                 "ci95": [agg.ci_low, agg.ci_high] if agg.ci_low is not None else None,
                                 "n": agg.n, "reason": agg.reason, **(agg.details or {})}
        else:
            performance[agg.name] = agg.value
    videos = [video_record(v) for v in repo.videos(benchmark_id)]
    return BenchmarkResult(
        benchmark_id=row.id, model_name=row.model_name, status=row.status, metrics=metrics, metric_details=details,
        performance={k: v for k, v in performance.items() if k != "success_rate"},
        success_rate=performance.get("success_rate"), per_video=videos, provenance=row.provenance, spec=row.spec,
        error=row.error, created_at=row.created_at.isoformat() if row.created_at else None,
        completed_at=row.completed_at.isoformat() if row.completed_at else None,
    )
