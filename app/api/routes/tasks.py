from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.api.deps import Caller, State, owned_task, requires
from app.api.schemas.tasks import TaskCancelled, TaskResponse
from app.errors import ArtifactNotFoundError, TaskNotFoundError

router = APIRouter(tags=["tasks"])


@router.get("/tasks/{task_id}", response_model=TaskResponse, dependencies=[requires(None, "tasks")])
def get_task(task_id: str, state: State, caller: Caller) -> TaskResponse:
    return TaskResponse.from_task(owned_task(state, caller, task_id))


@router.delete("/tasks/{task_id}", response_model=TaskCancelled, dependencies=[requires(None, "tasks")])
def cancel_task(task_id: str, state: State, caller: Caller) -> TaskCancelled:
    owned_task(state, caller, task_id)
    task = state.tasks.cancel(task_id)  # marks it cancelled first: the replica stops at its next step
    state.backend.cancel(task_id)  # and a queued request is dropped from the deployment's queue
    return TaskCancelled.from_task(task)


@router.get(
    "/artifacts/{artifact_id}", name="get_artifact", dependencies=[requires(None, "tasks")], response_class=FileResponse
)
def get_artifact(artifact_id: str, state: State, caller: Caller) -> FileResponse:
    row = state.tasks.artifact(artifact_id)
    try:
        owned_task(state, caller, row.task_id)
    except TaskNotFoundError:
        raise ArtifactNotFoundError(artifact_id) from None
    return FileResponse(row.path, media_type=row.media_type)
