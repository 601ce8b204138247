"""Tasks and artifacts of the gateway.

A task's terminal state is written once: a task marked cancelled never gets a
result afterwards, and a completed one cannot be cancelled. Artifacts are
written to disk atomically before their row exists, and only for tasks that
are still live, so a cancelled task leaves no result behind.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select, update

from app.errors import ArtifactNotFoundError, TaskConflictError, TaskNotFoundError, VidBenchError
from app.storage.database import Database, json_safe, rows_changed
from app.storage.tables import ArtifactRow, TaskRow, utcnow

TASK_TERMINAL = {"completed", "failed", "cancelled"}
INTERRUPTED = "INTERRUPTED"
CLIENT_DISCONNECTED = "CLIENT_DISCONNECTED"
EXTENSIONS = {"image/png": "png", "audio/wav": "wav", "video/mp4": "mp4"}


class TaskRepository:
    def __init__(self, db: Database, artifacts_dir: Path):
        self.db = db
        self.artifacts_dir = Path(artifacts_dir)

    def create(
        self, task_type: str, model: str, request: dict[str, Any], task_id: str | None = None, owner: str | None = None
    ) -> TaskRow:
        row = TaskRow(
            id=task_id or f"task-{uuid.uuid4().hex[:16]}",
            type=task_type,
            model=model,
            status="queued",
            request=json_safe(request),
            progress=0.0,
            owner=owner,
        )
        with self.db.session() as s, s.begin():
            s.add(row)
        return row

    def get(self, task_id: str) -> TaskRow:
        with self.db.session() as s:
            row = s.get(TaskRow, task_id)
        if row is None:
            raise TaskNotFoundError(task_id)
        return row

    def _update_live(self, task_id: str, **fields: Any) -> bool:
        """Update a task that has not reached a terminal state; False if it has."""
        with self.db.session() as s, s.begin():
            result = s.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.status.not_in(TASK_TERMINAL))
                .values(**{k: json_safe(v) for k, v in fields.items()})
            )
            return rows_changed(result) == 1

    def start(self, task_id: str, worker_id: str | None) -> bool:
        return self._update_live(task_id, status="running", started_at=utcnow(), worker_id=worker_id)

    def progress(self, task_id: str, fraction: float) -> bool:
        return self._update_live(task_id, progress=max(0.0, min(1.0, fraction)))

    def complete(self, task_id: str, result: dict[str, Any]) -> bool:
        return self._update_live(task_id, status="completed", result=result, progress=1.0, completed_at=utcnow())

    def fail(self, task_id: str, error: VidBenchError) -> bool:
        return self._update_live(
            task_id, status="failed", error={"code": error.code, "message": error.message}, completed_at=utcnow()
        )

    def cancel(self, task_id: str) -> TaskRow:
        row = self.get(task_id)
        if row.status in TASK_TERMINAL:
            raise TaskConflictError(
                f"Task '{task_id}' is already {row.status}", {"task_id": task_id, "status": row.status}
            )
        self._update_live(task_id, status="cancelled", cancel_requested=1, completed_at=utcnow())
        return self.get(task_id)

    def abandon(self, task_id: str) -> bool:
        """The client went away mid-request: a live task ends cancelled, with the reason; False if it had ended."""
        return self._update_live(
            task_id,
            status="cancelled",
            cancel_requested=1,
            completed_at=utcnow(),
            error={"code": CLIENT_DISCONNECTED, "message": "The client disconnected before the result was sent"},
        )

    def fail_interrupted(self, older_than_s: float) -> list[str]:
        """Mark failed, reason 'interrupted', the tasks still queued or running that started (or, queued, were
        created) more than ``older_than_s`` ago: the gateway that waited on them is gone, so no one would ever
        finish them. Younger tasks may belong to another live ingress replica and are left alone."""
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        stale = TaskRow.status.in_(("queued", "running")) & or_(
            TaskRow.started_at < cutoff, TaskRow.started_at.is_(None) & (TaskRow.created_at < cutoff)
        )
        error = {"code": INTERRUPTED, "message": "interrupted: the gateway running this task stopped before it ended"}
        with self.db.session() as s, s.begin():
            ids = list(s.scalars(select(TaskRow.id).where(stale)))
            if ids:
                s.execute(
                    update(TaskRow)
                    .where(TaskRow.id.in_(ids), TaskRow.status.not_in(TASK_TERMINAL))
                    .values(status="failed", error=error, completed_at=utcnow())
                )
        return ids

    def is_cancelled(self, task_id: str) -> bool:
        with self.db.session() as s:
            return bool(s.scalar(select(TaskRow.cancel_requested).where(TaskRow.id == task_id)))

    def cancelled_among(self, task_ids: list[str]) -> set[str]:
        """Which of these tasks were cancelled (one query, for a batch)."""
        with self.db.session() as s:
            return set(s.scalars(select(TaskRow.id).where(TaskRow.id.in_(task_ids), TaskRow.cancel_requested == 1)))

    def reachable(self) -> bool:
        """Whether the database answers now (for /health)."""
        try:
            with self.db.session() as s:
                s.execute(select(1))
            return True
        except Exception:  # noqa: BLE001 - any failure to answer is "unreachable"
            return False

    def counts(self) -> dict[str, int]:
        with self.db.session() as s:
            rows = s.execute(select(TaskRow.status, func.count()).group_by(TaskRow.status)).all()
        return {status: int(n) for status, n in rows}

    def counts_by_worker(self) -> dict[str, dict[str, int]]:
        """Per worker id (the replica that ran them): task counts by status."""
        with self.db.session() as s:
            rows = s.execute(
                select(TaskRow.worker_id, TaskRow.status, func.count())
                .where(TaskRow.worker_id.is_not(None))
                .group_by(TaskRow.worker_id, TaskRow.status)
            ).all()
        out: dict[str, dict[str, int]] = {}
        for worker, status, n in rows:
            if worker is not None:  # always so: the query leaves out tasks without a worker
                out.setdefault(worker, {})[status] = int(n)
        return out

    def counts_ended_since(self, since: datetime) -> dict[str, int]:
        """Tasks that reached each terminal status at or after ``since``."""
        with self.db.session() as s:
            rows = s.execute(
                select(TaskRow.status, func.count()).where(TaskRow.completed_at >= since).group_by(TaskRow.status)
            ).all()
        return {status: int(n) for status, n in rows}

    def performance_over(self, window: timedelta) -> dict[str, Any]:
        """Tasks that ended in the last ``window``: mean response time (creation to end) of the completed ones, how
        many completed per hour over the window, and the share of completed among completed and failed."""
        since = utcnow() - window
        with self.db.session() as s:
            rows = s.execute(
                select(TaskRow.status, TaskRow.created_at, TaskRow.completed_at).where(
                    TaskRow.completed_at >= since, TaskRow.status.in_(("completed", "failed"))
                )
            ).all()
        window_h = window.total_seconds() / 3600.0
        # ``end`` is never None here (the query asks completed_at >= since); the check narrows its type
        done = [
            (end - start).total_seconds() for status, start, end in rows if status == "completed" and end is not None
        ]
        mean = sum(done) / len(done) if done else None
        return {
            "window_s": round(window_h * 3600),
            "tasks": len(rows),
            "avg_response_time": None if mean is None else f"{mean:.1f}s",
            "avg_response_time_s": mean,
            "throughput": f"{len(done) / window_h:.0f} tasks/hour",
            "throughput_per_hour": len(done) / window_h,
            "success_rate": 100.0 * len(done) / len(rows) if rows else None,
            "reason": None if rows else "no task completed or failed in the window",
        }

    # -- artifacts ------------------------------------------------------------------------------
    def add_artifact(self, task_id: str, data: bytes, media_type: str) -> ArtifactRow | None:
        """Store a file for a live task; None (and nothing kept) when the task was cancelled meanwhile."""
        artifact_id = f"art-{uuid.uuid4().hex[:16]}"
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        path = self.artifacts_dir / f"{artifact_id}.{EXTENSIONS.get(media_type, 'bin')}"
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        with self.db.session() as s, s.begin():
            task = s.get(TaskRow, task_id, with_for_update=True)
            if task is None or task.status in TASK_TERMINAL:
                path.unlink(missing_ok=True)
                return None
            row = ArtifactRow(
                id=artifact_id, task_id=task_id, media_type=media_type, path=str(path), size_bytes=len(data)
            )
            s.add(row)
        return row

    def complete_with_artifacts(
        self, task_id: str, outputs: list[tuple[bytes, str]], result: Callable[[list[ArtifactRow]], dict[str, Any]]
    ) -> TaskRow | None:
        """Store a live task's files and complete it in one transaction; returns the completed row.

        Files are written (atomically) first; then, under a lock on the task, the artifact rows and the terminal
        state are written together. A task that ended meanwhile (cancelled) gets neither, its files are removed,
        and None is returned. ``result`` builds the task's result from the artifact rows.
        """
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        rows: list[ArtifactRow] = []
        for data, media_type in outputs:
            artifact_id = f"art-{uuid.uuid4().hex[:16]}"
            path = self.artifacts_dir / f"{artifact_id}.{EXTENSIONS.get(media_type, 'bin')}"
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            rows.append(
                ArtifactRow(
                    id=artifact_id, task_id=task_id, media_type=media_type, path=str(path), size_bytes=len(data)
                )
            )
        with self.db.session() as s, s.begin():
            task = s.get(TaskRow, task_id, with_for_update=True)
            if task is None or task.status in TASK_TERMINAL:
                for row in rows:
                    Path(row.path).unlink(missing_ok=True)
                return None
            s.add_all(rows)
            task.status, task.progress, task.completed_at = "completed", 1.0, utcnow()
            task.result = json_safe(result(rows))
        return task  # detached with its loaded state (the sessions do not expire on commit)

    def artifact(self, artifact_id: str) -> ArtifactRow:
        with self.db.session() as s:
            row = s.get(ArtifactRow, artifact_id)
        if row is None or not Path(row.path).exists():
            raise ArtifactNotFoundError(artifact_id)
        return row
