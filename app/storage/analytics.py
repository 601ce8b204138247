"""Analytics queries over stored benchmarks: counts, aggregates and per-video values, computed by the database.

Counts, averages, minima and maxima are SQL aggregates (``GROUP BY`` in the database), so they cost
one query however many benchmarks are stored. The 95th percentile is ``percentile_cont`` on
PostgreSQL; SQLite has no percentile function, so there only that one column is read and numpy
takes the percentile. Every figure comes with ``n``, the number of values it was computed from.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Float, and_, case, cast, func, select

from app.storage.database import Database
from app.storage.tables import AggregateRow, BenchmarkRow, TaskRow, VideoResultRow

AGGREGATIONS = ("avg", "min", "max", "p95")


class AnalyticsRepository:
    def __init__(self, db: Database):
        self.db = db

    @staticmethod
    def _window(query, start: datetime | None, end: datetime | None, model_name: str | None = None):
        if start is not None:
            query = query.where(BenchmarkRow.created_at >= start)
        if end is not None:
            query = query.where(BenchmarkRow.created_at < end)
        if model_name:
            query = query.where(BenchmarkRow.model_name == model_name)
        return query

    def status_counts(
        self, start: datetime | None, end: datetime | None, model_name: str | None = None
    ) -> dict[str, int]:
        query = self._window(
            select(BenchmarkRow.status, func.count()).group_by(BenchmarkRow.status), start, end, model_name
        )
        with self.db.session() as s:
            return {status: int(count) for status, count in s.execute(query).all()}

    def aggregate(
        self, name: str, how: str, start: datetime | None, end: datetime | None, model_name: str | None = None
    ) -> tuple[float | None, int]:
        """(value, n) of the aggregate figure ``name`` over completed benchmarks in the window; n counts non-nulls."""
        if how not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}")
        value = AggregateRow.value
        base = self._window(
            select()
            .select_from(AggregateRow)
            .join(BenchmarkRow)
            .where(AggregateRow.name == name, BenchmarkRow.status == "completed", value.is_not(None)),
            start,
            end,
            model_name,
        )
        with self.db.session() as s:
            if how == "p95" and self.db.engine.dialect.name != "postgresql":
                values = [v for (v,) in s.execute(base.add_columns(value)).all()]
                return (float(np.percentile(values, 95)) if values else None), len(values)
            figure = {
                "avg": func.avg(value),
                "min": func.min(value),
                "max": func.max(value),
                "p95": func.percentile_cont(0.95).within_group(value),
            }[how]
            result, n = s.execute(base.add_columns(figure, func.count(value))).one()
        return (None if result is None else float(result)), int(n)

    def per_model(self, name: str, start: datetime | None, end: datetime | None) -> list[dict[str, Any]]:
        """Per model: benchmarks in the window, completed ones, and the mean of the figure ``name`` (with its n)."""
        joined = and_(AggregateRow.benchmark_id == BenchmarkRow.id, AggregateRow.name == name)
        scored = case((BenchmarkRow.status == "completed", AggregateRow.value))
        query = self._window(
            select(
                BenchmarkRow.model_name,
                func.count(BenchmarkRow.id),
                func.sum(case((BenchmarkRow.status == "completed", 1), else_=0)),
                func.avg(scored),
                func.count(scored),
            )
            .select_from(BenchmarkRow)
            .outerjoin(AggregateRow, joined)
            .group_by(BenchmarkRow.model_name),
            start,
            end,
        )
        with self.db.session() as s:
            rows = s.execute(query).all()
        return [
            {
                "model_name": m,
                "benchmark_count": int(count),
                "completed": int(done or 0),
                "avg": None if avg is None else float(avg),
                "n": int(n),
            }
            for m, count, done, avg, n in rows
        ]

    def video_values(
        self, models: list[str], metric: str, start: datetime | None, end: datetime | None
    ) -> list[tuple[str, str, str, int, float]]:
        """(model, benchmark id, prompt, seed, value) of every scored video of completed benchmarks in the window.

        ``metric`` is a per-video metric name (read from the JSON column by the database) or ``latency_ms``.
        """
        if metric == "latency_ms":
            value = VideoResultRow.latency_s * 1000.0
        else:
            value = cast(VideoResultRow.metrics[metric].as_float(), Float)
        query = self._window(
            select(BenchmarkRow.model_name, BenchmarkRow.id, VideoResultRow.prompt, VideoResultRow.seed, value)
            .join(VideoResultRow, VideoResultRow.benchmark_id == BenchmarkRow.id)
            .where(
                BenchmarkRow.model_name.in_(models),
                BenchmarkRow.status == "completed",
                VideoResultRow.status == "ok",
                value.is_not(None),
            )
            .order_by(BenchmarkRow.created_at, VideoResultRow.prompt_index, VideoResultRow.seed),
            start,
            end,
        )
        with self.db.session() as s:
            return [(m, b, p, int(seed), float(v)) for m, b, p, seed, v in s.execute(query).all()]

    def benchmarks(
        self,
        start: datetime | None,
        end: datetime | None,
        models: list[str] | None = None,
        statuses: tuple[str, ...] | None = ("completed",),
    ) -> list[dict[str, Any]]:
        """Benchmarks in the window (oldest first) with every aggregate figure: what reports and exports show."""
        query = self._window(select(BenchmarkRow), start, end).order_by(BenchmarkRow.created_at)
        if models:
            query = query.where(BenchmarkRow.model_name.in_(models))
        if statuses:
            query = query.where(BenchmarkRow.status.in_(statuses))
        with self.db.session() as s:
            rows = list(s.scalars(query).all())
            ids = [row.id for row in rows]
            figures: dict[str, dict[str, dict[str, Any]]] = {i: {} for i in ids}
            for start_at in range(0, len(ids), 500):
                chunk = ids[start_at : start_at + 500]
                for agg in s.scalars(select(AggregateRow).where(AggregateRow.benchmark_id.in_(chunk))):
                    figures[agg.benchmark_id][agg.name] = {
                        "kind": agg.kind,
                        "value": agg.value,
                        "ci_low": agg.ci_low,
                        "ci_high": agg.ci_high,
                        "n": agg.n,
                        "reason": agg.reason,
                    }
        return [
            {
                "benchmark_id": r.id,
                "model_name": r.model_name,
                "status": r.status,
                "created_at": r.created_at,
                "completed_at": r.completed_at,
                "total_videos": r.total_videos,
                "completed_videos": r.completed_videos,
                "failed_videos": r.failed_videos,
                "spec_hash": r.spec_hash,
                "spec": r.spec,
                "provenance": r.provenance,
                "monitoring": r.monitoring,
                "error": r.error,
                "figures": figures[r.id],
            }
            for r in rows
        ]

    def recent_errors(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest failed benchmarks and gateway tasks, newest first, with their error."""
        benchmarks = (
            select(BenchmarkRow)
            .where(BenchmarkRow.status == "failed")
            .order_by(BenchmarkRow.updated_at.desc())
            .limit(limit)
        )
        tasks = select(TaskRow).where(TaskRow.status == "failed").order_by(TaskRow.created_at.desc()).limit(limit)
        with self.db.session() as s:
            out: list[dict[str, Any]] = [
                {"kind": "benchmark", "id": r.id, "model_name": r.model_name, "error": r.error, "at": r.updated_at}
                for r in s.scalars(benchmarks).all()
            ]
            for t in s.scalars(tasks).all():
                error = t.error if isinstance(t.error, dict) else {"message": t.error}
                out.append(
                    {
                        "kind": t.type,
                        "id": t.id,
                        "model_name": t.model,
                        "error": f"{error.get('code', 'ERROR')}: {error.get('message', '')}",
                        "at": t.completed_at or t.created_at,
                    }
                )
        out.sort(key=lambda e: e["at"], reverse=True)
        return out[:limit]

    def running(self) -> list[dict[str, Any]]:
        """Benchmarks not yet finished, with their progress."""
        query = (
            select(BenchmarkRow)
            .where(BenchmarkRow.status.in_(("submitted", "running")))
            .order_by(BenchmarkRow.created_at.desc())
            .limit(100)
        )
        with self.db.session() as s:
            return [
                {
                    "benchmark_id": r.id,
                    "model_name": r.model_name,
                    "status": r.status,
                    "total_videos": r.total_videos,
                    "completed_videos": r.completed_videos,
                    "failed_videos": r.failed_videos,
                    "current_task": r.current_task,
                }
                for r in s.scalars(query).all()
            ]
