"""Streaming routes in-process: bad input refused before anything is stored, scopes, 404s, stop, results,
and the WebSocket replaying stored messages in order. A real run needs Ray: tests/deployments/test_streaming.py."""

import pytest

from app.storage.streams import StreamRepository
from tests.app.api.support import expect_error

URL = "/api/v1/streaming/benchmarks"


def body(**config):
    quality = config.pop("quality", {})
    return {
        "model_name": config.pop("model_name", "tiny-t2v"),
        "prompts": config.pop("prompts", ["A cat"]),
        "stream_config": {"duration_seconds": 5, "target_fps": 10.0, "buffer_size": 30, **config},
        "quality_settings": {"quality_levels": 2, **quality},
    }


@pytest.mark.parametrize(
    "bad, status, code, fragment",
    [
        (body(target_fps=0), 422, None, "target_fps"),
        (body(target_fps=-5), 422, None, "target_fps"),
        (body(buffer_size=0), 422, None, "buffer_size"),
        (body(duration_seconds=10_000), 400, "INVALID_PARAMETERS", "duration_seconds"),
        (body(model_name="no-such-model"), 404, "MODEL_NOT_FOUND", "no-such-model"),
        (body(model_name="tiny-text"), 400, "INVALID_PARAMETERS", "video model"),
        (body(quality={"quality_levels": 16}), 400, "INVALID_PARAMETERS", "quality levels"),
        (body(quality={"initial_resolution": [4096, 4096]}), 400, "INVALID_PARAMETERS", "initial_resolution"),
        (body(quality={"initial_frames": 1000}), 400, "INVALID_PARAMETERS", "initial_frames"),
        (body(buffer_size=1), 400, "INVALID_PARAMETERS", "buffer_size"),
        (body(prompts=[]), 422, None, "prompts"),
        (body(adaptive_quality="yes"), 422, None, "adaptive_quality"),
    ],
)
def test_bad_input_is_refused_before_anything_is_stored(gw, bad, status, code, fragment):
    error = expect_error(gw.http.post(URL, json=bad), status, code)
    assert fragment in (error["message"] + str(error["details"]))
    assert StreamRepository(gw.state.repo.db).list() == []


def test_scopes_and_unknown_streams(gw):
    reader = gw.new_key(["streaming.read"])["key"]
    expect_error(gw.http.post(URL, json=body(), headers={"X-API-Key": reader}), 403, "PERMISSION_DENIED")
    expect_error(gw.anonymous.get(f"{URL}/stream_missing"), 401)
    outsider = gw.new_key(["benchmark.read"])["key"]
    expect_error(gw.http.get(f"{URL}/stream_missing", headers={"X-API-Key": outsider}), 403, "PERMISSION_DENIED")
    for response in (
        gw.http.get(f"{URL}/stream_missing"),
        gw.http.get(f"{URL}/stream_missing/results"),
        gw.http.delete(f"{URL}/stream_missing"),
    ):
        expect_error(response, 404, "STREAM_NOT_FOUND")


def stored_stream(gw, owner=None) -> str:
    repo = StreamRepository(gw.state.repo.db)
    return repo.create("live", "tiny-t2v", body(), [{"level": 0}], owner=owner).id


def test_stop_before_start_and_results_of_a_stored_stream(gw):
    stream_id = stored_stream(gw)
    assert gw.http.get(f"{URL}/{stream_id}").json()["status"] == "submitted"
    stopped = gw.http.delete(f"{URL}/{stream_id}")
    assert stopped.status_code == 200 and stopped.json()["status"] == "cancelled"
    assert gw.http.delete(f"{URL}/{stream_id}").status_code == 409
    results = gw.http.get(f"{URL}/{stream_id}/results").json()
    assert results["status"] == "cancelled" and results["metrics"] is None


def test_someone_elses_stream_does_not_exist_for_them(gw):
    stream_id = stored_stream(gw, owner="someone-else")
    reader = gw.new_key(["streaming.read", "streaming.create"])["key"]
    expect_error(gw.http.get(f"{URL}/{stream_id}", headers={"X-API-Key": reader}), 404, "STREAM_NOT_FOUND")
    expect_error(gw.http.delete(f"{URL}/{stream_id}", headers={"X-API-Key": reader}), 404, "STREAM_NOT_FOUND")


@pytest.mark.parametrize("path", ["/streaming/ws/{id}", "/api/v1/streaming/ws/{id}"])
def test_websocket_sends_stored_messages_in_order_then_closes(gw, path):
    repo = StreamRepository(gw.state.repo.db)
    stream_id = stored_stream(gw)
    repo.update(stream_id, status="running")
    clip = {
        "clip_index": 0,
        "prompt": "A cat",
        "seed": 0,
        "quality_level": 0,
        "width": 32,
        "height": 32,
        "num_frames": 1,
        "requested_s": 0.0,
        "arrived_s": 0.5,
        "latency_s": 0.5,
        "throughput_fps": 2.0,
    }
    frame = {
        "frame_index": 0,
        "clip_index": 0,
        "quality_level": 0,
        "width": 32,
        "height": 32,
        "generation_latency_ms": 500.0,
        "arrival_s": 0.5,
        "deadline_s": 0.5,
        "playback_s": 0.5,
        "dropped": False,
    }
    repo.record_clip(
        stream_id, clip, [frame], [("frame_generated", {"frame_id": 0}), ("buffer_status", {"utilization": 0.0})]
    )
    repo.finish(
        stream_id,
        "completed",
        None,
        metrics={"frame_drop_rate": 0.0},
        performance={},
        reasons={},
        event=("stream_completed", {"final_metrics": {"frame_drop_rate": 0.0}}),
    )
    with gw.http.websocket_connect(path.format(id=stream_id), headers={"X-API-Key": gw.admin_key}) as socket:
        messages = [socket.receive_json() for _ in range(3)]
    assert [m["type"] for m in messages] == ["frame_generated", "buffer_status", "stream_completed"]
    assert [m["seq"] for m in messages] == [0, 1, 2]
    with gw.anonymous.websocket_connect(path.format(id=stream_id)) as socket:
        socket.send_json({"type": "authenticate", "token": "vdb_wrong"})
        assert socket.receive_json()["type"] == "error"


def test_the_streaming_rate_limit_group_applies(start_gateway):
    from app.config import DEFAULT_GROUPS

    gw = start_gateway(rate_limit_groups=dict(DEFAULT_GROUPS))
    burst = DEFAULT_GROUPS["streaming"].burst
    statuses = [gw.http.get(f"{URL}/stream_missing").status_code for _ in range(burst + 1)]
    assert statuses[:burst] == [404] * burst
    error = expect_error(gw.http.get(f"{URL}/stream_missing"), 429, "RATE_LIMIT_EXCEEDED")
    assert "streaming" in str(error["details"]) or error["details"]["limit"] == burst


def test_a_stream_whose_owner_went_silent_reads_as_failed(gw):
    from datetime import timedelta

    from app.storage.tables import utcnow

    repo = StreamRepository(gw.state.repo.db)
    stream_id = stored_stream(gw)
    silent_for = gw.state.settings.orphan_after_s + 5
    repo.update(stream_id, status="running", runner="gone:1", heartbeat_at=utcnow() - timedelta(seconds=silent_for))
    status = gw.http.get(f"{URL}/{stream_id}").json()
    assert status["status"] == "failed" and "no heartbeat" in status["error"]
    with gw.http.websocket_connect(f"/api/v1/streaming/ws/{stream_id}", headers={"X-API-Key": gw.admin_key}) as ws:
        assert ws.receive_json()["type"] == "stream_error"
