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


async def run_task(state: ApiState, task_id: str, modality: str, model: str, payload: dict[str, Any],
                   base_url: str) -> None:
    """Run to a terminal state. Errors are recorded on the task, then re-raised for a waiting caller."""
    try:
        out = await state.backend.call(model, "generate", task_id, payload)
    except asyncio.CancelledError:  # the client went away (Serve cancels the request): nobody wants the result
        abandon(state, task_id)
        raise
    except TaskCancelledError:
        return  # the task row already says cancelled
    except VidBenchError as error:
        state.tasks.fail(task_id, error)
        raise
    files = []
    for output in out.get("outputs", []):
        artifact = state.tasks.add_artifact(task_id, output["data"], output["media_type"])
        if artifact is None:  # cancelled while generating: keep nothing
            return
        files.append({"url": f"{base_url.rstrip('/')}/api/v1/artifacts/{artifact.id}", "artifact_id": artifact.id,
                      "format": EXTENSIONS.get(output["media_type"], "bin"), **output.get("meta", {})})
    seed = {"seed": payload["seed"]} if payload.get("seed") is not None else {}  # the seed used, drawn or given
    state.tasks.complete(task_id, _result_body(modality, model, {**out.get("result", {}), **seed}, files))


def abandon(state: ApiState, task_id: str) -> None:
    """End a task whose client disconnected: cancelled with the reason, and its generation stopped."""
    if state.tasks.abandon(task_id):
        state.backend.cancel(task_id)
