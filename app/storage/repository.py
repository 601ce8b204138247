"""Reads and writes of benchmarks: their rows, per-video results and aggregates.

Per-video writes are idempotent on (benchmark, prompt index, seed): a work item
retried after an actor crash is stored once, whichever attempt lands first.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import UnaryExpression, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.errors import BenchmarkNotFoundError, ValidationError
from app.storage.database import Database, json_safe, rows_changed
from app.storage.tables import AggregateRow, BenchmarkRow, VideoResultRow, utcnow

TERMINAL = {"completed", "failed", "cancelled"}
SORTS: dict[str, UnaryExpression[Any]] = {
    "created_at": BenchmarkRow.created_at.asc(),
    "-created_at": BenchmarkRow.created_at.desc(),
    "status": BenchmarkRow.status.asc(),
    "-status": BenchmarkRow.status.desc(),
}


def spec_hash(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


class BenchmarkRepository:
    def __init__(self, db: Database):
        self.db = db

    # -- benchmarks -------------------------------------------------------------------------------
    def create_benchmark(
        self,
        model_name: str,
        spec: dict[str, Any],
        total_videos: int,
        benchmark_id: str | None = None,
        owner: str | None = None,
    ) -> BenchmarkRow:
        row = BenchmarkRow(
            id=benchmark_id or f"bench_{uuid.uuid4().hex[:12]}",
            model_name=model_name,
            status="submitted",
            owner=owner,
            spec=json_safe(spec),
            spec_hash=spec_hash(spec),
            total_videos=total_videos,
            heartbeat_at=utcnow(),
            cancel_requested=False,
        )
        with self.db.session() as s, s.begin():
            s.add(row)
        return row

    def get(self, benchmark_id: str) -> BenchmarkRow:
        with self.db.session() as s:
            row = s.get(BenchmarkRow, benchmark_id)
        if row is None:
            raise BenchmarkNotFoundError(benchmark_id)
        return row

    def update(self, benchmark_id: str, **fields: Any) -> BenchmarkRow:
        with self.db.session() as s, s.begin():
            row = s.get(BenchmarkRow, benchmark_id)
            if row is None:
                raise BenchmarkNotFoundError(benchmark_id)
            for key, value in fields.items():
                setattr(row, key, json_safe(value))
            row.updated_at = utcnow()
        return row

    def mark_running(self, benchmark_id: str, provenance: dict[str, Any]) -> None:
        self.update(benchmark_id, status="running", started_at=utcnow(), provenance=provenance)

    def finish(
        self, benchmark_id: str, status: str, error: str | None = None, error_details: dict[str, Any] | None = None
    ) -> None:
        """``error_details``: the typed error's code and details, so the SDK raises that same error."""
        fields = {"error_details": json_safe(error_details)} if error_details is not None else {}
        self.update(benchmark_id, status=status, error=error, completed_at=utcnow(), current_task=None, **fields)

    # -- ownership across processes: cancel requests, heartbeats, orphans ------------------------------
    def request_cancel(self, benchmark_id: str) -> str:
        """Ask whoever runs the benchmark to stop (it reads the flag between work items); returns the status now.

        A finished benchmark is left as it is; one no runner has started yet ends ``cancelled`` at once.
        """
        row = self.get(benchmark_id)
        if row.status in TERMINAL:
            return row.status
        self.update(benchmark_id, cancel_requested=True, current_task="cancelling")
        if row.status == "submitted":
            self.finish(benchmark_id, "cancelled")
            return "cancelled"
        return row.status

    def cancel_requested(self, benchmark_ids: list[str]) -> set[str]:
        with self.db.session() as s:
            rows = s.execute(
                select(BenchmarkRow.id).where(
                    BenchmarkRow.id.in_(benchmark_ids), BenchmarkRow.cancel_requested.is_(True)
                )
            ).all()
        return {row[0] for row in rows}

    def heartbeat(self, benchmark_ids: list[str], runner: str) -> None:
        """The runner of these benchmarks is alive (one statement for all of them)."""
        if not benchmark_ids:
            return
        with self.db.session() as s, s.begin():
            s.execute(
                update(BenchmarkRow)
                .where(BenchmarkRow.id.in_(benchmark_ids), BenchmarkRow.status.not_in(TERMINAL))
                .values(heartbeat_at=utcnow(), runner=runner)
            )

    def orphans(self, silent_since: datetime) -> list[BenchmarkRow]:
        """Unfinished benchmarks whose runner has not reported in since ``silent_since``."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(BenchmarkRow).where(
                        BenchmarkRow.status.not_in(TERMINAL),
                        or_(BenchmarkRow.heartbeat_at.is_(None), BenchmarkRow.heartbeat_at < silent_since),
                    )
                )
            )

    def claim(self, benchmark_id: str, runner: str, silent_since: datetime) -> bool:
        """Take over an orphan; exactly one of several processes racing for it wins (compare-and-set)."""
        with self.db.session() as s, s.begin():
            result = s.execute(
                update(BenchmarkRow)
                .where(
                    BenchmarkRow.id == benchmark_id,
                    BenchmarkRow.status.not_in(TERMINAL),
                    or_(BenchmarkRow.heartbeat_at.is_(None), BenchmarkRow.heartbeat_at < silent_since),
                )
                .values(heartbeat_at=utcnow(), runner=runner)
            )
        return rows_changed(result) == 1

    def list(
        self,
        status: str | None = None,
        model_name: str | None = None,
        created_after: datetime | None = None,
        sort: str = "-created_at",
        page: int = 1,
        limit: int = 20,
    ) -> tuple[list[BenchmarkRow], int]:
        if sort not in SORTS:
            raise ValidationError(f"sort must be one of {sorted(SORTS)}", {"sort": sort})
        if page < 1 or not 1 <= limit <= 100:
            raise ValidationError("page must be >= 1 and limit between 1 and 100", {"page": page, "limit": limit})
        query = select(BenchmarkRow)
        if status:
            query = query.where(BenchmarkRow.status == status)
        if model_name:
            query = query.where(BenchmarkRow.model_name == model_name)
        if created_after:
            query = query.where(BenchmarkRow.created_at >= created_after)
        with self.db.session() as s:
            total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = s.scalars(query.order_by(SORTS[sort]).offset((page - 1) * limit).limit(limit)).all()
        return list(rows), int(total)

    # -- per-video results ---------------------------------------------------------------------------
    def record_video(self, benchmark_id: str, record: dict[str, Any]) -> bool:
        """Store one video's result and bump progress; False when it was already stored."""
        try:
            with self.db.session() as s, s.begin():
                s.add(VideoResultRow(benchmark_id=benchmark_id, **json_safe(record)))
                s.flush()
                row = s.get(BenchmarkRow, benchmark_id, with_for_update=True)
                if row is None:  # the video row's foreign key makes this unlikely; a clear error if it happens
                    raise BenchmarkNotFoundError(benchmark_id)
                if record["status"] == "ok":
                    row.completed_videos += 1
                else:
                    row.failed_videos += 1
                row.updated_at = utcnow()
        except IntegrityError:
            return False
        return True

    def done_keys(self, benchmark_id: str) -> set[tuple[int, int]]:
        with self.db.session() as s:
            rows = s.execute(
                select(VideoResultRow.prompt_index, VideoResultRow.seed).where(
                    VideoResultRow.benchmark_id == benchmark_id
                )
            ).all()
        return {(int(p), int(seed)) for p, seed in rows}

    def videos(self, benchmark_id: str) -> builtins.list[VideoResultRow]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(VideoResultRow)
                    .where(VideoResultRow.benchmark_id == benchmark_id)
                    .order_by(VideoResultRow.prompt_index, VideoResultRow.seed)
                ).all()
            )

    # -- aggregates ------------------------------------------------------------------------------
    def write_aggregates(self, benchmark_id: str, rows: Iterable[dict[str, Any]]) -> None:
        """Replace the benchmark's aggregates in one transaction."""
        with self.db.session() as s, s.begin():
            for old in s.scalars(select(AggregateRow).where(AggregateRow.benchmark_id == benchmark_id)):
                s.delete(old)
            s.flush()
            for row in rows:
                s.add(AggregateRow(benchmark_id=benchmark_id, **json_safe(row)))

    def aggregates(self, benchmark_id: str) -> builtins.list[AggregateRow]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(AggregateRow)
                    .where(AggregateRow.benchmark_id == benchmark_id)
                    .order_by(AggregateRow.kind, AggregateRow.name)
                ).all()
            )

    # -- what the references report beside a benchmark or a model (read only) --------------------------
    def prompt_progress(self, benchmark_id: str) -> tuple[dict[int, int], datetime | None]:
        """(videos stored per prompt index, when the latest was stored): counts prompts, times the run."""
        with self.db.session() as s:
            rows = s.execute(
                select(VideoResultRow.prompt_index, func.count(), func.max(VideoResultRow.created_at))
                .where(VideoResultRow.benchmark_id == benchmark_id)
                .group_by(VideoResultRow.prompt_index)
            ).all()
        latest = max((row[2] for row in rows), default=None)
        if latest is not None and latest.tzinfo is None:  # aggregate results bypass the column type on SQLite
            latest = latest.replace(tzinfo=UTC)
        return {int(index): int(n) for index, n, _ in rows}, latest

    def finished_runs(self, model_name: str, limit: int = 50) -> builtins.list[BenchmarkRow]:
        """The model's most recent completed benchmarks (their specs and start/end times)."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(BenchmarkRow)
                    .where(
                        BenchmarkRow.model_name == model_name,
                        BenchmarkRow.status == "completed",
                        BenchmarkRow.started_at.is_not(None),
                        BenchmarkRow.completed_at.is_not(None),
                    )
                    .order_by(BenchmarkRow.completed_at.desc())
                    .limit(limit)
                ).all()
            )

    def model_summaries(self) -> dict[str, dict[str, Any]]:
        """Per model with completed benchmarks: their count, the latest completion, and the mean (with the number
        of non-null values) of each stored aggregate over them."""
        done = BenchmarkRow.status == "completed"
        with self.db.session() as s:
            runs = s.execute(
                select(BenchmarkRow.model_name, func.count(), func.max(BenchmarkRow.completed_at))
                .where(done)
                .group_by(BenchmarkRow.model_name)
            ).all()
            means = s.execute(
                select(
                    BenchmarkRow.model_name,
                    AggregateRow.kind,
                    AggregateRow.name,
                    func.avg(AggregateRow.value),
                    func.count(AggregateRow.value),
                )
                .join(AggregateRow, AggregateRow.benchmark_id == BenchmarkRow.id)
                .where(done)
                .group_by(BenchmarkRow.model_name, AggregateRow.kind, AggregateRow.name)
            ).all()
        out: dict[str, dict[str, Any]] = {}
        for model, n, latest in runs:
            if latest is not None and latest.tzinfo is None:
                latest = latest.replace(tzinfo=UTC)
            out[model] = {"benchmarks": int(n), "last_completed_at": latest, "metric": {}, "performance": {}}
        for model, kind, name, mean, n in means:
            if model in out and kind in ("metric", "performance"):
                out[model][kind][name] = (None if mean is None else float(mean), int(n))
        return out
