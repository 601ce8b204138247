"""The references' paths and fields in-process: /ws and /v1 beside /api/v1, one GET /v1/models for OpenAI and
the references, and the task, model, benchmark, cluster and health fields computed from stored and probed state."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from openai import OpenAI

from app.bench.reports import NO_HISTORY, estimated_duration
from app.catalog import get_catalog
from app.catalog.tiny import builtin_path
from app.storage.tables import utcnow
from tests.app.api.support import expect_error
from tests.app.api.test_tasks import VIDEO, _running


def _openai(gw) -> OpenAI:
    return OpenAI(base_url="http://testserver/v1", api_key=gw.admin_key, http_client=gw.anonymous, max_retries=0)


# -- paths ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("base", ["/api/v1", "/v1"])
def test_reference_paths_at_both_bases(gw, base):
    done = gw.http.post(
        f"{base}/inference/text-generation", json={"model": "tiny-text", "prompt": "hi", "max_tokens": 2}
    ).json()
    assert done["status"] == "completed"
    assert gw.http.get(f"{base}/tasks/{done['task_id']}").json()["task_id"] == done["task_id"]
    assert gw.http.get(f"{base}/cluster/status").json()["cluster_id"] == "fake-cluster"
    assert gw.http.get(f"{base}/workers").json()["total"] == 1
    assert gw.http.get(f"{base}/benchmarks").json()["pagination"]["page"] == 1
    assert gw.http.get(f"{base}/models/tiny-t2v").json()["name"] == "tiny-t2v"
    expect_error(gw.http.get(f"{base}/models/nope"), 404, "MODEL_NOT_FOUND")
    expect_error(gw.anonymous.get(f"{base}/models"), 401)


def test_the_openapi_document_lists_each_route_once(gw):
    paths = gw.http.get("/openapi.json").json()["paths"]
    assert "/api/v1/models" in paths and "/v1/chat/completions" in paths
    assert "/v1/inference/text-generation" not in paths  # the /v1 mount is the same routes: documented once


@pytest.mark.parametrize("path", ["/ws", "/api/v1/ws", "/v1/ws"])
def test_benchmark_socket_at_every_documented_path(gw, path):
    with gw.anonymous.websocket_connect(path) as ws:
        ws.send_json({"type": "authenticate", "token": gw.admin_key})
        assert ws.receive_json()["type"] == "authenticated"
        ws.send_json({"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": "bench_x"})
        assert ws.receive_json() == {"type": "subscribed", "benchmark_id": "bench_x"}


def test_v1_models_serves_openai_and_the_references(gw):
    listed = gw.http.get("/v1/models").json()
    assert listed["object"] == "list" and [m["id"] for m in listed["data"]] == sorted(gw.backend.models())
    assert {"models", "total", "limit", "offset", "page"} <= set(listed) and listed["page"] == 1
    assert listed["total"] == len(get_catalog().list()) and len(listed["models"]) == min(50, listed["total"])
    page = gw.http.get("/v1/models", params={"limit": 2, "offset": 4}).json()
    assert page["page"] == 3 and page["models"] == listed["models"][4:6]
    client = _openai(gw)
    assert [m.id for m in client.models.list()] == sorted(gw.backend.models())
    model = client.models.retrieve("tiny-t2v")
    assert model.id == "tiny-t2v" and model.object == "model" and model.owned_by == "vid-bench"


# -- tasks ----------------------------------------------------------------------------------------------------
def test_task_fields(gw):
    gw.backend.hold()
    task_id = gw.http.post("/api/v1/inference/video-generation", json={**VIDEO, "async": True}).json()["task_id"]
    running = _running(gw, task_id)
    assert running["assigned_worker"] == running["worker_id"] == "fake-tiny-t2v#0"
    assert running["priority"] == "normal"
    assert running["estimated_remaining"] is None and running["estimated_remaining_reason"]
    # half-way, after as long as it has run: about as long again remains
    gw.state.tasks.progress(task_id, 0.5)
    halfway = gw.http.get(f"/api/v1/tasks/{task_id}").json()
    elapsed = (utcnow() - datetime.fromisoformat(halfway["started_at"])).total_seconds()
    assert 0 < halfway["estimated_remaining_s"] <= elapsed and halfway["estimated_remaining"].endswith("s")
    gw.backend.release()
    queued = gw.state.tasks.create("text-generation", "tiny-text", {"prompt": "x"})
    body = gw.http.get(f"/api/v1/tasks/{queued.id}").json()
    assert body["assigned_worker"] is None and body["estimated_remaining_reason"].startswith("queued")


# -- models ---------------------------------------------------------------------------------------------------
def test_model_fields_from_the_catalog_and_the_files_here(gw):
    model = gw.http.get("/api/v1/models/tiny-t2v").json()
    assert model["capabilities"] == ["text-to-video"] and model["object"] == "model"
    assert model["resolutions"] == [
        {"width": int(w), "height": int(h)} for w, h in (r.split("x") for r in model["supported_resolutions"])
    ]
    assert model["requirements"]["cuda_capability"] == "5.0"  # fp32
    supported = model["parameters"]["supported"]
    assert supported["num_frames"] == {"min": 2, "max": 16, "default": 8}
    assert supported["resolution"] == model["supported_resolutions"]
    assert model["parameters"]["width"] == {"options": [32, 64], "default": 32}
    assert model["size"] is None and model["created_at"] is None and model["files_reason"]
    files = builtin_path(gw.state.settings.resolved_models_dir, "tiny-t2v")
    files.mkdir(parents=True)
    (files / "weights.bin").write_bytes(b"\0" * 3 * 1024 * 1024)
    model = gw.http.get("/api/v1/models/tiny-t2v").json()
    assert model["size"] == "3.0 MB" and model["size_bytes"] == 3 * 1024 * 1024 and model["files_reason"] is None
    assert datetime.fromisoformat(model["created_at"]) <= datetime.fromisoformat(model["updated_at"])
    assert model["last_updated"] == model["updated_at"]
    assert gw.http.get("/api/v1/models/tiny-text").json()["capabilities"][0] == "text-generation"


def test_model_figures_from_stored_benchmarks(gw):
    before = gw.http.get("/api/v1/models/tiny-t2v").json()
    assert before["performance_metrics"]["average_generation_time"] is None
    assert before["performance_metrics"]["reason"] and before["benchmarks"]["average_scores"]["overall_score"] is None
    for latency, score in ((1000.0, 40.0), (3000.0, 60.0)):
        row = gw.state.repo.create_benchmark("tiny-t2v", {"model_name": "tiny-t2v"}, total_videos=1)
        gw.state.repo.write_aggregates(
            row.id,
            [
                {"kind": "metric", "name": "overall_score", "value": score},
                {"kind": "performance", "name": "avg_latency_ms", "value": latency},
                {"kind": "performance", "name": "success_rate", "value": 1.0},
            ],
        )
        gw.state.repo.finish(row.id, "completed")
    model = gw.http.get("/api/v1/models/tiny-t2v").json()
    assert model["performance_metrics"]["average_generation_time"] == pytest.approx(2.0)
    assert model["performance_metrics"]["success_rate"] == pytest.approx(100.0)
    assert model["performance_metrics"]["gpu_memory_usage"] is None  # no VRAM measured on CPU
    assert model["benchmarks"]["average_scores"]["overall_score"] == pytest.approx(50.0)
    assert model["benchmarks"]["performance"]["avg_latency_ms"] == pytest.approx(2000.0)
    assert model["benchmarks"]["count"] == 2 and model["last_updated"] is not None


def test_loading_and_error_status_filters(gw):
    gw.backend.states["tiny-t2i"] = {"status": "loading", "message": "replica starting"}
    gw.backend.states["tiny-tts"] = {"status": "error", "message": "DEPLOY_FAILED"}
    loading = gw.http.get("/api/v1/models", params={"status": "loading"}).json()["models"]
    assert [(m["id"], m["status_reason"]) for m in loading] == [("tiny-t2i", "replica starting")]
    assert [m["id"] for m in gw.http.get("/v1/models", params={"status": "error"}).json()["models"]] == ["tiny-tts"]
    expect_error(gw.http.get("/api/v1/models", params={"status": "broken"}), 422)


def test_health_says_when_and_whether_dependencies_hold(gw):
    for name in ("tiny-text", "svd-xt"):
        health = gw.http.get(f"/api/v1/models/{name}/health").json()
        assert datetime.fromisoformat(health["last_check"]) > utcnow() - timedelta(minutes=1)
        assert health["details"]["dependencies_ok"] is True


# -- benchmarks -----------------------------------------------------------------------------------------------
def _video(gw, benchmark_id, prompt_index, seed, status="ok"):
    gw.state.repo.record_video(
        benchmark_id,
        {
            "prompt_index": prompt_index,
            "prompt": f"p{prompt_index}",
            "seed": seed,
            "status": status,
            "latency_s": 0.5,
            "num_frames": 4,
        },
    )


def test_benchmark_progress_counts_prompts_and_estimates_from_its_pace(gw):
    spec = {"model_name": "tiny-t2v", "prompts": ["a", "b", "c"], "videos_per_prompt": 2}
    row = gw.state.repo.create_benchmark("tiny-t2v", spec, total_videos=6)
    gw.state.repo.mark_running(row.id, {})
    _video(gw, row.id, 0, 0)
    _video(gw, row.id, 0, 1, status="failed")
    _video(gw, row.id, 1, 0)
    progress = gw.http.get(f"/v1/benchmarks/{row.id}").json()["progress"]
    assert (progress["completed_prompts"], progress["total_prompts"]) == (1, 3)
    assert (progress["completed_videos"], progress["failed_videos"], progress["total_videos"]) == (2, 1, 6)
    assert progress["percentage"] == 50.0
    started = datetime.fromisoformat(gw.http.get(f"/v1/benchmarks/{row.id}").json()["started_at"])
    pace = (utcnow() - started).total_seconds() / 3
    assert 0 < progress["estimated_remaining"] <= pace * 3 and progress["estimated_remaining_reason"] is None


def test_estimated_duration_uses_earlier_runs_with_the_same_parameters(gw):
    model = get_catalog().get("tiny-t2v")
    repo = gw.state.repo
    assert estimated_duration(repo, model, {"parameters": {}}, 4) == (None, NO_HISTORY)
    row = repo.create_benchmark("tiny-t2v", {"parameters": {"num_frames": 4}}, total_videos=2)
    start = utcnow() - timedelta(seconds=10)
    repo.update(row.id, status="completed", started_at=start, completed_at=start + timedelta(seconds=6))
    assert estimated_duration(repo, model, {"parameters": {"num_frames": 4}}, 5) == (pytest.approx(15.0), None)
    assert estimated_duration(repo, model, {"parameters": {"num_frames": 8}}, 5) == (None, NO_HISTORY)


def test_efficiency_score_is_quality_per_second(gw):
    row = gw.state.repo.create_benchmark("tiny-t2v", {"model_name": "tiny-t2v"}, total_videos=1)
    gw.state.repo.write_aggregates(row.id, [{"kind": "performance", "name": "avg_latency_ms", "value": 500.0}])
    results = gw.http.get(f"/api/v1/benchmarks/{row.id}/results").json()["results"]
    assert results["performance"]["efficiency_score"] is None
    assert "overall_score" in results["performance_reasons"]["efficiency_score"]
    gw.state.repo.write_aggregates(
        row.id,
        [
            {"kind": "performance", "name": "avg_latency_ms", "value": 500.0},
            {"kind": "metric", "name": "overall_score", "value": 80.0},
        ],
    )
    results = gw.http.get(f"/api/v1/benchmarks/{row.id}/results").json()["results"]
    assert results["performance"]["efficiency_score"] == pytest.approx(160.0)
    assert results["performance_reasons"] == {}


# -- cluster --------------------------------------------------------------------------------------------------
def test_cluster_status_from_probes_and_tasks(gw):
    gw.http.post("/api/v1/inference/text-generation", json={"model": "tiny-text", "prompt": "hi", "max_tokens": 2})
    status = gw.http.get("/v1/cluster/status").json()
    assert status["uptime"] and status["uptime_s"] >= 0
    assert status["tasks"]["completed_today"] == 1 and status["tasks"]["failed_today"] == 0
    resources = status["resources"]
    assert 0 <= resources["cpu_utilization"] <= 100 and 0 < resources["memory_utilization"] <= 100
    assert resources["gpu_utilization"] is None and resources["gpu_reason"]  # no NVML on this machine
    performance = status["performance"]
    assert performance["success_rate"] == 100.0 and performance["avg_response_time"].endswith("s")
    assert performance["throughput"].endswith("tasks/hour") and performance["throughput_per_hour"] >= 1


def test_workers_busy_error_and_their_tasks(gw):
    gw.http.post("/api/v1/inference/video-generation", json=VIDEO)
    gw.backend.hold()
    task_id = gw.http.post("/api/v1/inference/video-generation", json={**VIDEO, "async": True}).json()["task_id"]
    _running(gw, task_id)
    gw.backend.extra_nodes.append(
        {
            "id": "node-2",
            "name": "gpu-2",
            "address": "10.0.0.2",
            "alive": True,
            "resources": {},
            "probe": None,
            "probe_error": "the node's probe did not answer",
            "replicas": [],
            "replicas_reason": None,
            "start_time_ms": None,
            "last_heartbeat_ms": None,
        }
    )
    listed = gw.http.get("/v1/workers").json()
    assert (listed["total"], listed["online"], listed["busy"], listed["error"]) == (2, 2, 1, 1)
    busy = gw.http.get("/v1/workers", params={"status": "busy"}).json()["workers"]
    assert [w["id"] for w in busy] == ["node-1"]
    worker = busy[0]
    assert worker["current_tasks"] == 1 and worker["completed_tasks"] == 1
    assert worker["loaded_models"] == sorted(gw.backend.models())
    assert worker["system_info"]["ram_total"].endswith("B") and worker["system_info"]["os"]
    assert worker["uptime"] and worker["gpu_info"] is None
    broken = gw.http.get("/v1/workers", params={"status": "error"}).json()["workers"]
    assert [(w["id"], w["gpu_reason"]) for w in broken] == [("node-2", "the node's probe did not answer")]
    assert broken[0]["system_info"] is None and broken[0]["uptime"] is None
    assert gw.http.get("/v1/cluster/status").json()["workers"]["busy"] == 1
    gw.backend.release()
