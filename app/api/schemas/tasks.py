"""Task responses: what /tasks/{id} and the inference routes answer about a gateway request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.bench.reports import task_estimated_remaining
from app.catalog.facts import human_duration
from app.storage.tables import TaskRow

PRIORITY = "normal"
"""Gateway tasks have one priority: each model's deployment serves its queue first come, first served."""


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


class TaskError(BaseModel):
    code: str
    message: str


class TaskResponse(BaseModel):
    task_id: str
    status: str
    type: str
    model: str
    progress: float = Field(description="0-100")
    result: dict[str, Any] | None = None
    error: TaskError | None = None
    worker_id: str | None = None
    assigned_worker: str | None = Field(default=None, description="The replica that runs the task (= worker_id)")
    priority: str = Field(default=PRIORITY, description="Always normal: each deployment serves its queue in order")
    estimated_remaining: str | None = Field(default=None, description="Time left, e.g. 2.5s, from the task's pace")
    estimated_remaining_s: float | None = None
    estimated_remaining_reason: str | None = None
    queue_time: float | None = None
    processing_time: float | None = None
    total_time: float | None = None
    created_at: datetime
    started_at: datetime | None = None
    completed_at: datetime | None = None

    @classmethod
    def from_task(cls, task: TaskRow) -> TaskResponse:
        remaining, reason = task_estimated_remaining(task)
        return cls(
            task_id=task.id,
            status=task.status,
            type=task.type,
            model=task.model,
            progress=round(task.progress * 100, 1),
            result=task.result,
            error=task.error,
            worker_id=task.worker_id,
            assigned_worker=task.worker_id,
            priority=PRIORITY,
            estimated_remaining=human_duration(remaining),
            estimated_remaining_s=remaining,
            estimated_remaining_reason=reason,
            queue_time=seconds_between(task.created_at, task.started_at),
            processing_time=seconds_between(task.started_at, task.completed_at),
            total_time=seconds_between(task.created_at, task.completed_at),
            created_at=task.created_at,
            started_at=task.started_at,
            completed_at=task.completed_at,
        )


class TaskCancelled(BaseModel):
    task_id: str
    status: str
    message: str
    cancelled_at: datetime | None

    @classmethod
    def from_task(cls, task: TaskRow) -> TaskCancelled:
        return cls(task_id=task.id, status=task.status, message="Task cancelled", cancelled_at=task.completed_at)
