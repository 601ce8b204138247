"""Running a prepared request on the model backend and recording the task.

Artifacts are stored only while the task is live, and the task's terminal
state is written once: a task cancelled meanwhile ends cancelled, with no
result and no files. A client that disconnects (the request is cancelled, or
a stream is closed before its end) cancels the work: the task ends cancelled
with reason CLIENT_DISCONNECTED, and the replica stops at its next step.
"""

from __future__ import annotations

import asyncio
from typing import Any

from app.api.state import ApiState
from app.errors import TaskCancelledError, VidBenchError
from app.storage.tables import TaskRow
from app.storage.tasks import EXTENSIONS


def _result_body(modality: str, model: str, raw: dict[str, Any], files: list[dict[str, Any]]) -> dict[str, Any]:
    result = {**raw, "model_used": model}
    if modality == "image":
        result["images"] = files
    elif modality == "speech":
        result.update(audio_url=files[0]["url"], format="wav")
    elif modality == "video":
        result.update(video_url=files[0]["url"], format="mp4")
    return result


async def run_task(
    state: ApiState, task_id: str, modality: str, model: str, payload: dict[str, Any], base_url: str
) -> TaskRow | None:
    """Run to a terminal state; returns the completed row (None when the task was cancelled meanwhile).

    Errors are recorded on the task, then re-raised for a waiting caller. The files and the completion are
    written in one transaction, in a worker thread, so the event loop keeps serving other requests meanwhile.
    """
    try:
        out = await state.backend.call(model, "generate", task_id, payload)
    except asyncio.CancelledError:  # the client went away (Serve cancels the request): nobody wants the result
        abandon(state, task_id)
        raise
    except TaskCancelledError:
        return None  # the task row already says cancelled
    except VidBenchError as error:
        await asyncio.to_thread(state.tasks.fail, task_id, error)
        raise
    outputs = out.get("outputs", [])
    seed = {"seed": payload["seed"]} if payload.get("seed") is not None else {}  # the seed used, drawn or given

    def result(artifacts) -> dict[str, Any]:
        files = [
            {
                "url": f"{base_url.rstrip('/')}/api/v1/artifacts/{artifact.id}",
                "artifact_id": artifact.id,
                "format": EXTENSIONS.get(output["media_type"], "bin"),
                **output.get("meta", {}),
            }
            for artifact, output in zip(artifacts, outputs, strict=True)
        ]
        return _result_body(modality, model, {**out.get("result", {}), **seed}, files)

    return await asyncio.to_thread(
        state.tasks.complete_with_artifacts,
        task_id,
        [(output["data"], output["media_type"]) for output in outputs],
        result,
    )


def abandon(state: ApiState, task_id: str) -> None:
    """End a task whose client disconnected: cancelled with the reason, and its generation stopped."""
    if state.tasks.abandon(task_id):
        state.backend.cancel(task_id)
