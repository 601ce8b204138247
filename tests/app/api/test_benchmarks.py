"""Benchmark routes in-process: list, filters, pages, status, 404, validation before storage, cancel.

Running a benchmark needs the Ray runner (app.bench.runner), so a valid POST and the results of a run
are covered by the Serve tests (tests/deployments/test_gateway.py), not here. Rows are stored with the
real repository instead.
"""

import json

import pytest

from tests.app.api.support import expect_error


def _stored(gw, model_name="tiny-t2v", status="submitted", owner=None) -> str:
    row = gw.state.repo.create_benchmark(model_name, {"model_name": model_name}, total_videos=4, owner=owner)
    if status != "submitted":
        gw.state.repo.finish(row.id, status)
    return row.id


def test_list_filters_and_pages(gw):
    assert gw.http.get("/api/v1/benchmarks").json()["pagination"] == {"page": 1, "limit": 20, "total": 0, "pages": 0}
    done = _stored(gw, status="completed")
    _stored(gw, model_name="tiny-i2v")
    _stored(gw)
    completed = gw.http.get("/api/v1/benchmarks", params={"status": "completed"}).json()
    assert [b["benchmark_id"] for b in completed["benchmarks"]] == [done]
    assert completed["benchmarks"][0]["metrics_summary"] == {"overall_score": None, "avg_latency_ms": None}
    by_model = gw.http.get("/api/v1/benchmarks", params={"model_name": "tiny-i2v"}).json()
    assert [b["model_name"] for b in by_model["benchmarks"]] == ["tiny-i2v"]
    page = gw.http.get("/api/v1/benchmarks", params={"limit": 2, "page": 2}).json()
    assert len(page["benchmarks"]) == 1 and page["pagination"] == {"page": 2, "limit": 2, "total": 3, "pages": 2}
    later = gw.http.get("/api/v1/benchmarks", params={"created_after": "2999-01-01T00:00:00Z"}).json()
    assert later["benchmarks"] == []


def test_bad_queries_are_refused(gw):
    impossible = gw.http.get("/api/v1/benchmarks", params={"created_after": "2024-02-30T00:00:00Z"})
    assert "created_after" in expect_error(impossible, 400, "INVALID_PARAMETERS")["message"]
    expect_error(gw.http.get("/api/v1/benchmarks", params={"created_after": "yesterday"}), 422)
    expect_error(gw.http.get("/api/v1/benchmarks", params={"sort": "size"}), 422)


def test_status_and_404(gw):
    benchmark_id = _stored(gw)
    status = gw.http.get(f"/api/v1/benchmarks/{benchmark_id}").json()
    assert status["status"] == "submitted" and status["progress"] == {
        "completed_prompts": 0,
        "failed": 0,
        "total_prompts": 4,
        "percentage": 0.0,
        "completed_videos": 0,
        "failed_videos": 0,
        "total_videos": 4,
        "estimated_remaining": None,
        "estimated_remaining_reason": "no video of this benchmark has finished yet",
    }
    expect_error(gw.http.get("/api/v1/benchmarks/bench_missing"), 404, "BENCHMARK_NOT_FOUND")
    expect_error(gw.http.get("/api/v1/benchmarks/bench_missing/results"), 404, "BENCHMARK_NOT_FOUND")
    expect_error(gw.http.delete("/api/v1/benchmarks/bench_missing"), 404, "BENCHMARK_NOT_FOUND")


@pytest.mark.parametrize(
    "body, status, code, fragment",
    [
        (
            {"model_name": "tiny-t2v", "prompts": ["x"], "parameters": {"num_frames": 99}},
            400,
            "INVALID_PARAMETERS",
            "num_frames=99",
        ),
        # an unknown parameter is refused by the typed body itself, like any other schema error
        ({"model_name": "tiny-t2v", "prompts": ["x"], "parameters": {"warp": 9}}, 422, "INVALID_PARAMETERS", "warp"),
        ({"model_name": "nope", "prompts": ["x"]}, 404, "MODEL_NOT_FOUND", "nope"),
        ({"model_name": "tiny-t2v", "prompts": []}, 422, "INVALID_PARAMETERS", "prompts"),
    ],
)
def test_bad_specs_are_refused_before_anything_is_stored(gw, body, status, code, fragment):
    error = expect_error(gw.http.post("/api/v1/benchmarks", json=body), status, code)
    assert fragment in json.dumps(error)
    assert gw.state.repo.list()[1] == 0


def test_cancel_a_submitted_benchmark_once(gw):
    benchmark_id = _stored(gw)
    cancelled = gw.http.delete(f"/api/v1/benchmarks/{benchmark_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert gw.http.get(f"/api/v1/benchmarks/{benchmark_id}").json()["status"] == "cancelled"
    again = gw.http.delete(f"/api/v1/benchmarks/{benchmark_id}")
    assert again.status_code == 409 and again.json()["status"] == "cancelled"


def test_only_the_owner_or_an_admin_cancels(gw):
    someone = gw.new_key(["benchmark.create", "benchmark.read"])
    theirs = _stored(gw, owner="key_someone_else")
    response = gw.http.delete(f"/api/v1/benchmarks/{theirs}", headers={"X-API-Key": someone["key"]})
    expect_error(response, 403, "PERMISSION_DENIED")
    mine = _stored(gw, owner=someone["key_id"])
    assert gw.http.delete(f"/api/v1/benchmarks/{mine}", headers={"X-API-Key": someone["key"]}).status_code == 200


def test_websocket_follows_a_benchmark_to_its_end(gw):
    benchmark_id = _stored(gw)
    with gw.http.websocket_connect("/api/v1/ws") as ws:
        ws.send_json({"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": benchmark_id})
        assert ws.receive_json() == {"type": "subscribed", "benchmark_id": benchmark_id}
        assert ws.receive_json()["type"] == "benchmark_progress"
        gw.state.repo.finish(benchmark_id, "failed", error="the model could not load")
        ended = ws.receive_json()
    assert ended["type"] == "benchmark_error" and ended["data"]["error"] == "the model could not load"
