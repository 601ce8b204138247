"""Tasks in-process: get, cancel while running (nothing kept), 409 once finished, WebSocket progress."""

from sqlalchemy import select

from app.storage.tables import ArtifactRow
from tests.app.api.support import expect_error
from tests.helpers import wait_until

VIDEO = {"model": "tiny-t2v", "prompt": "a long one", "num_frames": 4, "num_inference_steps": 2}


def _running(gw, task_id):
    return wait_until(
        lambda: gw.http.get(f"/api/v1/tasks/{task_id}").json(),
        until=lambda t: t["status"] == "running",
        what=f"task {task_id} to run",
    )


def test_cancel_a_running_task_leaves_no_result(gw):
    gw.backend.hold()
    task_id = gw.http.post("/api/v1/inference/video-generation", json={**VIDEO, "async": True}).json()["task_id"]
    assert _running(gw, task_id)["worker_id"] == "fake-tiny-t2v#0"
    cancelled = gw.http.delete(f"/api/v1/tasks/{task_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancelled_at"] is not None
    wait_until(lambda: task_id not in gw.backend.inflight, what="the generation to stop")
    gw.backend.release()
    task = gw.http.get(f"/api/v1/tasks/{task_id}").json()
    assert task["status"] == "cancelled" and task["result"] is None and task["progress"] < 100
    with gw.state.repo.db.session() as s:
        assert s.scalars(select(ArtifactRow).where(ArtifactRow.task_id == task_id)).all() == []
    expect_error(gw.http.delete(f"/api/v1/tasks/{task_id}"), 409, "TASK_ALREADY_FINISHED")
    assert gw.http.post("/api/v1/inference/video-generation", json=VIDEO).json()["status"] == "completed"


def test_a_queued_task_cancelled_before_it_starts_never_runs(gw):
    task = gw.state.tasks.create("text-generation", "tiny-text", {"prompt": "x"})
    assert gw.http.delete(f"/api/v1/tasks/{task.id}").json()["status"] == "cancelled"
    assert gw.state.tasks.start(task.id, "late-replica") is False  # a replica that picks it up later stops
    assert gw.http.get(f"/api/v1/tasks/{task.id}").json()["worker_id"] is None


def test_unknown_tasks_and_artifacts_are_404(gw):
    expect_error(gw.http.get("/api/v1/tasks/task-missing"), 404, "TASK_NOT_FOUND")
    expect_error(gw.http.delete("/api/v1/tasks/task-missing"), 404, "TASK_NOT_FOUND")
    expect_error(gw.http.get("/api/v1/artifacts/art-missing"), 404, "ARTIFACT_NOT_FOUND")


def test_websocket_task_progress_until_completed(gw):
    gw.backend.hold()
    task_id = gw.http.post("/api/v1/inference/video-generation", json={**VIDEO, "async": True}).json()["task_id"]
    _running(gw, task_id)
    messages = []
    with gw.http.websocket_connect(f"/api/v1/ws/tasks/{task_id}") as ws:
        messages.append(ws.receive_json())
        gw.backend.release()
        while messages[-1]["type"] == "progress":
            messages.append(ws.receive_json())
    assert messages[0] == {
        "type": "progress",
        "task_id": task_id,
        "status": "running",
        "progress": 0.0,
        "estimated_remaining": None,
        "estimated_remaining_s": None,
        "estimated_remaining_reason": "running: no step has finished yet",
    }
    assert messages[-1]["type"] == "completed" and messages[-1]["result"]["video_url"]
    task = gw.http.get(f"/api/v1/tasks/{task_id}").json()
    assert messages[-1]["processing_time"] == task["processing_time"] > 0
    progress = [m["progress"] for m in messages if m["type"] == "progress"]
    assert progress == sorted(progress)


def test_websocket_reports_a_cancelled_task(gw):
    gw.backend.hold()
    task_id = gw.http.post("/api/v1/inference/video-generation", json={**VIDEO, "async": True}).json()["task_id"]
    _running(gw, task_id)
    with gw.http.websocket_connect(f"/api/v1/ws/tasks/{task_id}") as ws:
        assert ws.receive_json()["type"] == "progress"
        gw.http.delete(f"/api/v1/tasks/{task_id}")
        assert ws.receive_json() == {"type": "cancelled", "task_id": task_id, "status": "cancelled", "error": None}
