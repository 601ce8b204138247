from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.api.deps import Caller, State, requires
from app.errors import ArtifactNotFoundError, TaskNotFoundError
from app.api.schemas.inference import TaskCancelled, TaskResponse
from app.storage.tables import TaskRow

router = APIRouter(tags=["tasks"])


def task_response(row: TaskRow) -> TaskResponse:
    def seconds(a, b):
        return (b - a).total_seconds() if a and b else None

    return TaskResponse(
        task_id=row.id, status=row.status, type=row.type, model=row.model, progress=round(row.progress * 100, 1),
        result=row.result, error=row.error, worker_id=row.worker_id,
        queue_time=seconds(row.created_at, row.started_at), processing_time=seconds(row.started_at, row.completed_at),
        total_time=seconds(row.created_at, row.completed_at), created_at=row.created_at, started_at=row.started_at,
        completed_at=row.completed_at)


def owned_task(state, caller, task_id: str) -> TaskRow:
    """The task if the caller may see it; someone else's task does not exist for them."""
    row = state.tasks.get(task_id)
    if not caller.may_see(row.owner):
        raise TaskNotFoundError(task_id)
    return row


@router.get("/tasks/{task_id}", response_model=TaskResponse, dependencies=[requires(None, "tasks")])
def get_task(task_id: str, state: State, caller: Caller) -> TaskResponse:
    return task_response(owned_task(state, caller, task_id))


@router.delete("/tasks/{task_id}", response_model=TaskCancelled, dependencies=[requires(None, "tasks")])
def cancel_task(task_id: str, state: State, caller: Caller) -> TaskCancelled:
    owned_task(state, caller, task_id)
    row = state.tasks.cancel(task_id)  # marks it cancelled first: the replica stops at its next step
    state.backend.cancel(task_id)      # and a queued request is dropped from the deployment's queue
    return TaskCancelled(task_id=row.id, status=row.status, message="Task cancelled", cancelled_at=row.completed_at)


@router.get("/artifacts/{artifact_id}", name="get_artifact", dependencies=[requires(None, "tasks")],
            response_class=FileResponse)
def get_artifact(artifact_id: str, state: State, caller: Caller) -> FileResponse:
    row = state.tasks.artifact(artifact_id)
    try:
        owned_task(state, caller, row.task_id)
    except TaskNotFoundError:
        raise ArtifactNotFoundError(artifact_id) from None
    return FileResponse(row.path, media_type=row.media_type)
