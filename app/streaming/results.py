"""A stored stream read back as one dict (REST, SDK, CLI, JSON files)."""

from __future__ import annotations

from typing import Any

from app.storage.streams import StreamRepository


def stream_result(repo: StreamRepository, stream_id: str, details: bool = False) -> dict[str, Any]:
    row = repo.get(stream_id)
    out: dict[str, Any] = {
        "stream_id": row.id,
        "mode": row.mode,
        "model_name": row.model_name,
        "status": row.status,
        "metrics": row.metrics,
        "performance": row.performance,
        "reasons": row.reasons,
        "provenance": row.provenance,
        "spec": row.spec,
        "error": row.error,
        "completed_at": row.completed_at.isoformat() if row.completed_at else None,
    }
    if details:
        out["clips"] = repo.clips(stream_id)
        out["frames"] = repo.frames(stream_id)
        out["buffer"] = [  # occupancy over time: after every clip's arrival (between arrivals it only drains)
            {k: event.data.get(k) for k in ("time_s", "occupancy", "utilization", "quality_level")}
            for event in repo.events_after(stream_id, -1, limit=1_000_000)
            if event.type == "buffer_status"
        ]
    return out


METRIC_NAMES = (
    "avg_frame_latency_ms",
    "frame_drop_rate",
    "quality_consistency",
    "adaptive_quality_score",
    "buffer_utilization",
    "throughput_stability",
)
PERFORMANCE_NAMES = (
    "total_frames_generated",
    "successful_frames",
    "quality_adaptations",
    "average_resolution",
    "average_frame_count",
)


class StreamingMetrics:
    """A finished stream's figures as attributes (``metrics.frame_drop_rate``), plus the whole stored result.

    Every metric and performance figure of the stream is an attribute; one that could not be computed is None
    and ``reasons`` says why.
    """

    def __init__(self, result: dict[str, Any]):
        self.result = result
        self.stream_id: str = result["stream_id"]
        self.status: str = result["status"]
        self.metrics: dict[str, Any] = result.get("metrics") or {}
        self.performance: dict[str, Any] = result.get("performance") or {}
        self.reasons: dict[str, str] = result.get("reasons") or {}
        for name in METRIC_NAMES + PERFORMANCE_NAMES:
            setattr(self, name, None)
        for name, value in {**self.performance, **self.metrics}.items():
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return self.result

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.metrics.items())
        return f"StreamingMetrics({self.stream_id}, {self.status}, {shown})"
