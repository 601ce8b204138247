"""A streaming benchmark end to end on the Serve gateway: real REST, real WebSocket, a real tiny model in a Ray
actor owned by a detached owner; messages in order, results stored, and a stream stopped while it runs."""

import json

from websockets.sync.client import connect

from app.storage.database import get_database
from app.storage.streams import StreamRepository

FINAL = {"stream_completed", "stream_cancelled", "stream_error"}


def start(client, **config):
    body = {
        "model_name": "tiny-t2v",
        "prompts": ["A cat playing piano", "Ocean waves at sunset"],
        "stream_config": {"target_fps": 8.0, "buffer_size": 24, "adaptive_quality": True, **config},
        "quality_settings": {"quality_levels": 2, "num_inference_steps": 1},
    }
    response = client.post("/api/v1/streaming/benchmarks", json=body)
    assert response.status_code == 202, response.text
    return response.json()


def follow(gateway, admin_key, started, on_message=None) -> list[dict]:
    url = started["websocket_url"]
    assert url == f"{gateway.replace('http://', 'ws://')}/streaming/ws/{started['stream_id']}"
    messages = []
    with connect(url, additional_headers={"X-API-Key": admin_key}, open_timeout=30) as socket:
        while True:
            message = json.loads(socket.recv(timeout=300))
            messages.append(message)
            if on_message is not None:
                on_message(message)
            if message["type"] in FINAL or message["type"] == "error":
                break
    return messages


def test_live_stream_over_rest_and_websocket(gateway, client, admin_key, settings):
    started = start(client, duration_seconds=6)
    assert started["status"] == "started" and started["estimated_duration"] == 6
    messages = follow(gateway, admin_key, started)
    kinds = [m["type"] for m in messages]
    assert [m["seq"] for m in messages] == list(range(len(messages)))  # every message once, in order
    assert kinds[0] == "stream_started" and kinds[-1] == "stream_completed", kinds
    assert "frame_generated" in kinds and "buffer_status" in kinds
    frames = [m["data"] for m in messages if m["type"] == "frame_generated"]
    assert [f["frame_id"] for f in frames] == list(range(len(frames)))
    assert all(f["latency_ms"] > 0 and f["quality_level"] in (0, 1) for f in frames)
    final = messages[-1]["data"]["final_metrics"]
    assert final["performance"]["total_frames_generated"] == len(frames)

    results = client.get(f"/api/v1/streaming/benchmarks/{started['stream_id']}/results").json()
    assert results["status"] == "completed" and results["metrics"] == final["metrics"]
    assert 0 <= results["metrics"]["frame_drop_rate"] <= 1 and results["provenance"]["ladder"]
    stored = StreamRepository(get_database(settings.resolved_database_url))
    assert len(stored.frames(started["stream_id"])) == len(frames)
    assert sum(c["num_frames"] for c in stored.clips(started["stream_id"])) == len(frames)


def test_a_running_stream_can_be_stopped(gateway, client, admin_key, settings):
    started = start(client, duration_seconds=120)
    stream_id = started["stream_id"]
    stopped = []

    def stop_after_first_clip(message):
        if message["type"] == "buffer_status" and not stopped:
            stopped.append(client.delete(f"/api/v1/streaming/benchmarks/{stream_id}"))

    messages = follow(gateway, admin_key, started, stop_after_first_clip)
    assert stopped and stopped[0].status_code == 200
    assert messages[-1]["type"] == "stream_cancelled"
    status = client.get(f"/api/v1/streaming/benchmarks/{stream_id}").json()
    assert status["status"] == "cancelled" and status["clips"] >= 1  # what was generated is kept
    assert client.delete(f"/api/v1/streaming/benchmarks/{stream_id}").status_code == 409
