"""The gateway's and the runner's ray.util.metrics reach Ray's Prometheus export: scrape the node's metrics
endpoint (the port Ray reports as MetricsExportPort) and find them, labelled."""

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import wait_until


def _scrape(ray) -> dict:
    node = next(n for n in ray.nodes() if n["Alive"])
    text = httpx.get(f"http://{node['NodeManagerAddress']}:{node['MetricsExportPort']}/metrics", timeout=30).text
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_gateway_and_runner_metrics_are_scraped(ray_session, client):
    assert client.get("/api/v1/models/tiny-t2v").status_code == 200
    response = client.post(
        "/api/v1/benchmarks",
        json={
            "model_name": "tiny-t2v",
            "prompts": ["metrics scrape"],
            "parameters": {"num_frames": 4, "num_inference_steps": 2},
            "evaluation_settings": {"metrics": ["temporal_consistency"]},
        },
    )
    benchmark_id = response.json()["benchmark_id"]
    wait_until(
        lambda: client.get(f"/api/v1/benchmarks/{benchmark_id}").json()["status"],
        lambda s: s == "completed",
        timeout=300,
        interval=0.5,
        what="the benchmark to complete",
    )

    def has_all(families):
        return {
            "ray_vid_bench_gateway_requests",
            "ray_vid_bench_gateway_request_seconds",
            "ray_vid_bench_gateway_tasks",
            "ray_vid_bench_benchmark_progress_ratio",
            "ray_vid_bench_generation_seconds",
            "ray_vid_bench_benchmark_videos",
        } <= set(families)

    families = wait_until(
        lambda: _scrape(ray_session),
        has_all,
        timeout=120,
        interval=2,
        what="the vid-bench metrics in Ray's Prometheus export",
    )
    requests = families["ray_vid_bench_gateway_requests"].samples
    assert any(
        s.labels.get("route") == "/api/v1/models/{model_name}"
        and s.labels.get("model") == "tiny-t2v"
        and s.labels.get("status") == "200"
        and s.value >= 1
        for s in requests
    )
    assert any(s.labels.get("route") == "/api/v1/benchmarks" and s.labels.get("status") == "202" for s in requests)
    latency = families["ray_vid_bench_gateway_request_seconds"].samples
    assert any(s.name.endswith("_bucket") and s.labels.get("route") == "/api/v1/models/{model_name}" for s in latency)
    progress = [
        s
        for s in families["ray_vid_bench_benchmark_progress_ratio"].samples
        if s.labels.get("benchmark_id") == benchmark_id
    ]
    assert progress and progress[-1].value == 1.0 and progress[-1].labels["model"] == "tiny-t2v"
    generation = families["ray_vid_bench_generation_seconds"].samples
    assert any(s.name.endswith("_count") and s.labels.get("model") == "tiny-t2v" and s.value >= 1 for s in generation)
