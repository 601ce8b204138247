"""What the monitoring dashboard shows, from the database: running benchmarks, a leaderboard with CIs, the
quality-vs-latency Pareto points, recent errors, and streaming sessions (running with their progress, and
the latest ones). (Cluster nodes and Serve replicas come from the gateway's
model backend, which the route adds.)"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.analytics.service import _item_values, check_figure, period_window
from app.metrics.figures import LATENCY_MS, direction, pareto_frontier
from app.metrics.statistics import mean_interval
from app.storage.analytics import AnalyticsRepository
from app.storage.repository import TERMINAL
from app.storage.streams import StreamRepository
from app.storage.tables import StreamRow


def _interval(values: dict[Any, float], resamples: int, seed: int) -> dict[str, Any] | None:
    data = list(values.values())
    if not data:
        return None
    interval = mean_interval(data, resamples=resamples, seed=seed)
    return {
        "mean": interval.mean,
        "ci95": None if interval.low is None else [interval.low, interval.high],
        "n": len(data),
    }


def _stream_progress(row: StreamRow, clips: int, last_arrived_s: float | None) -> float:
    """Percent done: a live stream by stream time against its duration (it generates back to back for that
    long), an interactive one by prompts answered."""
    if row.status == "completed":
        return 100.0
    if row.mode == "interactive":
        return 100.0 * clips / max(1, len(row.spec.get("prompts") or []))
    duration = float(row.spec.get("duration_seconds") or 0)
    return min(100.0, 100.0 * (last_arrived_s or 0.0) / duration) if duration > 0 else 0.0


def stream_sessions(repo: StreamRepository, limit: int = 20) -> list[dict[str, Any]]:
    """Every unfinished stream and the latest ``limit`` ones, newest first, with clips stored so far and progress."""
    unfinished = repo.unfinished()
    seen = {row.id for row in unfinished}
    rows = sorted(
        unfinished + [row for row in repo.list(limit=limit) if row.id not in seen],
        key=lambda row: row.created_at,
        reverse=True,
    )
    counts = repo.clip_counts([row.id for row in rows])
    out = []
    for row in rows:
        done = counts.get(row.id, {"clips": 0, "last_arrived_s": None})
        out.append(
            {
                "stream_id": row.id,
                "mode": row.mode,
                "model_name": row.model_name,
                "status": row.status,
                "finished": row.status in TERMINAL,
                "clips": done["clips"],
                "stream_time_s": done["last_arrived_s"],
                "duration_seconds": row.spec.get("duration_seconds") if row.mode == "live" else None,
                "prompts": len(row.spec.get("prompts") or []),
                "percentage": _stream_progress(row, done["clips"], done["last_arrived_s"]),
                "error": row.error,
                "created_at": row.created_at,
                "completed_at": row.completed_at,
            }
        )
    return out


def dashboard_data(
    repo: AnalyticsRepository,
    metric: str = "temporal_consistency",
    period: str = "30d",
    resamples: int = 1000,
    seed: int = 0,
    now: datetime | None = None,
) -> dict[str, Any]:
    check_figure(metric)
    up = direction(metric)
    start, end = period_window(period, now)
    models = sorted({b["model_name"] for b in repo.benchmarks(start, end)})
    leaderboard: list[dict[str, Any]] = []
    points: dict[str, dict[str, float | None]] = {}
    if models:
        quality, chosen, unit = _item_values(repo, models, metric, start, end)
        latency, _, _ = _item_values(repo, models, LATENCY_MS, start, end)
        for model in models:
            q, lat = _interval(quality[model], resamples, seed), _interval(latency[model], resamples, seed)
            leaderboard.append({"model_name": model, "benchmarks": len(chosen[model]), "quality": q, "latency_ms": lat})
            points[model] = {
                metric: None if q is None else q["mean"],
                "latency_ms": None if lat is None else lat["mean"],
            }
        leaderboard.sort(
            key=lambda r: (
                r["quality"] is None,
                -(r["quality"] or {}).get("mean", 0) if up else (r["quality"] or {}).get("mean", 0),
                r["model_name"],
            )
        )
    front = pareto_frontier(points, {metric: up, "latency_ms": False}) if points else {"frontier": []}
    return {
        "metric": metric,
        "higher_is_better": up,
        "period": period,
        "leaderboard": leaderboard,
        "pareto": {"points": points, "frontier": front["frontier"]},
        "running": repo.running(),
        "recent_errors": repo.recent_errors(),
        "streams": stream_sessions(StreamRepository(repo.db)),
    }
