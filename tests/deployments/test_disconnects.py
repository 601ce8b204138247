"""On a real Ray Serve: a client that goes away mid-request or mid-stream cancels its task and the replica's work
(status cancelled, error CLIENT_DISCONNECTED), so no task stays running."""

import contextlib
import json
import uuid

import httpx
from sqlalchemy import select

from app.storage.database import get_database
from app.storage.tables import TaskRow
from tests.helpers import wait_until

SLOW_VIDEO = {"model": "tiny-t2v", "num_frames": 16, "num_inference_steps": 500, "width": 64, "height": 64}  # ~5 s


def _task_with_prompt(settings, prompt: str) -> TaskRow | None:
    with get_database(settings.resolved_database_url).session() as session:
        rows = session.scalars(select(TaskRow).where(TaskRow.type == "video-generation")).all()
    return next((row for row in rows if row.request.get("prompt") == prompt), None)


def _wait_terminal(client, task_id: str) -> dict:
    return wait_until(
        lambda: client.get(f"/api/v1/tasks/{task_id}").json(),
        timeout=120,
        until=lambda task: task["status"] in ("completed", "failed", "cancelled"),
        what=f"task {task_id} to end",
    )


def test_a_client_that_gives_up_mid_request_cancels_its_task(gateway, client, admin_key, settings):
    prompt = f"abandoned {uuid.uuid4().hex[:8]}"
    impatient = httpx.Client(base_url=gateway, headers={"X-API-Key": admin_key}, timeout=httpx.Timeout(60, read=1))
    with impatient, contextlib.suppress(httpx.ReadTimeout):  # gives up after 1 s, mid-generation: the connection closes
        impatient.post("/api/v1/inference/video-generation", json={**SLOW_VIDEO, "prompt": prompt})
    task = wait_until(
        lambda: _task_with_prompt(settings, prompt),
        until=lambda row: row is not None,
        what="the abandoned request's task",
    )
    ended = _wait_terminal(client, task.id)
    assert ended["status"] == "cancelled" and ended["error"]["code"] == "CLIENT_DISCONNECTED", ended
    assert ended["result"] is None


def test_a_client_that_closes_a_stream_cancels_its_task(client):
    body = {"model": "tiny-text", "prompt": "Tell a long story", "max_tokens": 256, "temperature": 0, "stream": True}
    with client.stream("POST", "/api/v1/inference/text-generation", json=body) as response:
        assert response.status_code == 200, response.read()
        task_id = response.headers["x-task-id"]
        for line in response.iter_lines():
            if line.startswith("data: ") and "token" in json.loads(line[6:]):
                break  # one token, then the client goes away
    ended = _wait_terminal(client, task_id)
    assert ended["status"] == "cancelled" and ended["error"]["code"] == "CLIENT_DISCONNECTED", ended
