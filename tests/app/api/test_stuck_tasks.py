"""No task is left queued or running: a client that disconnects mid-stream or mid-request cancels its task (reason
CLIENT_DISCONNECTED) and stops its generation, and a starting gateway fails, reason INTERRUPTED, the tasks a
stopped gateway left behind. The app is driven through raw ASGI calls, so a disconnect is a real one."""

import asyncio
import contextlib
import json
from datetime import timedelta

from sqlalchemy import update

from app.api.state import ApiState
from app.storage.tables import TaskRow, utcnow
from tests.app.api.fake_backend import FakeBackend


def _scope(path: str, key: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), (b"x-api-key", key.encode())],
    }


async def _disconnecting_client(app, path: str, key: str, body: dict, sent: list, disconnect: asyncio.Event):
    """Send ``body``; answer the app's next receive() with a disconnect once ``disconnect`` is set."""
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": json.dumps(body).encode(), "more_body": False}
        await disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    await app(_scope(path, key), receive, send)


def _only_task(gw) -> TaskRow:
    with gw.state.tasks.db.session() as session:
        (task,) = session.query(TaskRow).all()
    return task


def test_a_client_that_disconnects_mid_sse_cancels_its_task(gw, api_app):
    gw.backend.hold()
    sent, disconnect = [], asyncio.Event()
    body = {"model": "tiny-text", "prompt": "one two three four", "max_tokens": 4, "stream": True}

    async def scenario():
        client = asyncio.create_task(
            _disconnecting_client(api_app, "/api/v1/inference/text-generation", gw.admin_key, body, sent, disconnect)
        )
        while not any(m["type"] == "http.response.start" for m in sent):
            await asyncio.sleep(0.01)
        while gw.state.tasks.counts().get("running") != 1:
            await asyncio.sleep(0.01)
        disconnect.set()
        await asyncio.wait_for(client, 10)

    asyncio.run(scenario())
    task = _only_task(gw)
    assert task.status == "cancelled" and task.error["code"] == "CLIENT_DISCONNECTED"
    assert task.id not in gw.backend.inflight  # the generation stopped with its client


def test_an_openai_stream_closed_early_cancels_its_task(gw, api_app):
    gw.backend.hold()
    sent, disconnect = [], asyncio.Event()
    body = {"model": "tiny-text", "prompt": "one two three", "max_tokens": 3, "stream": True}

    async def scenario():
        client = asyncio.create_task(
            _disconnecting_client(api_app, "/v1/completions", gw.admin_key, body, sent, disconnect)
        )
        while gw.state.tasks.counts().get("running") != 1:
            await asyncio.sleep(0.01)
        disconnect.set()
        await asyncio.wait_for(client, 10)

    asyncio.run(scenario())
    task = _only_task(gw)
    assert task.status == "cancelled" and task.error["code"] == "CLIENT_DISCONNECTED"


def test_a_request_cancelled_mid_generation_cancels_its_task(gw, api_app):
    """Serve cancels the ingress's handler when the HTTP client goes away; the task must not stay running."""
    gw.backend.hold()
    sent, never = [], asyncio.Event()
    body = {"model": "tiny-t2i", "prompt": "a red square", "width": 64, "height": 64}

    async def scenario():
        client = asyncio.create_task(
            _disconnecting_client(api_app, "/api/v1/inference/image-generation", gw.admin_key, body, sent, never)
        )
        while gw.state.tasks.counts().get("running") != 1:
            await asyncio.sleep(0.01)
        client.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await client

    asyncio.run(scenario())
    task = _only_task(gw)
    assert task.status == "cancelled" and task.error["code"] == "CLIENT_DISCONNECTED"
    assert task.id not in gw.backend.inflight


def test_a_starting_gateway_fails_the_tasks_a_stopped_one_left_behind(gw):
    tasks = gw.state.tasks
    old, young, done = (tasks.create("image-generation", "tiny-t2i", {}) for _ in range(3))
    stale_running = tasks.create("image-generation", "tiny-t2i", {})
    tasks.start(stale_running.id, "gone-replica#0")
    tasks.complete(done.id, {})
    long_ago = utcnow() - timedelta(seconds=gw.state.settings.task_interrupted_after_s + 60)
    with tasks.db.session() as session, session.begin():
        session.execute(update(TaskRow).where(TaskRow.id.in_([old.id, done.id])).values(created_at=long_ago))
        session.execute(update(TaskRow).where(TaskRow.id == stale_running.id).values(started_at=long_ago))
    restarted = ApiState.create(gw.state.settings, FakeBackend(gw.state.settings))
    for task_id in (old.id, stale_running.id):
        task = restarted.tasks.get(task_id)
        assert task.status == "failed" and task.error["code"] == "INTERRUPTED" and task.completed_at
        assert "interrupted" in task.error["message"]
    assert restarted.tasks.get(young.id).status == "queued"  # maybe another live replica's: left alone
    assert restarted.tasks.get(done.id).status == "completed"
