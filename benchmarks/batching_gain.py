"""Batching gain at concurrency 8, image and video, side by side on one local Ray Serve.

Two gateway applications serve the built-in tiny image and text-to-video models with the same
max_ongoing_requests (8): one with batches of 1 (no batching), one with batches as large as
max_ongoing_requests allows (the pair serve.yaml must keep in agreement). Each is driven over
HTTP with the first-start admin key (authentication and rate limits on) by 8 concurrent
clients; requests/s and p50 latency are printed with the batched/unbatched ratio. The video
model runs at its catalog defaults except 2 denoising steps (no resolution is assumed).

    python benchmarks/batching_gain.py [--requests 24] [--quick]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

CONCURRENCY = 8
BODIES = {
    "image": {"model": "tiny-t2i", "prompt": "a red boat on a lake", "steps": 2},
    "video": {"model": "tiny-t2v", "prompt": "a red boat on a lake", "num_inference_steps": 2},
}
PATHS = {"image": "/api/v1/inference/image-generation", "video": "/api/v1/inference/video-generation"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drive(url: str, body: dict, total: int, headers: dict[str, str]) -> dict:
    def one(i: int) -> tuple[float, int]:
        with httpx.Client(timeout=600, headers=headers) as client:
            started = time.perf_counter()
            response = client.post(url, json={**body, "seed": i})
            response.raise_for_status()
            return time.perf_counter() - started, response.json()["result"].get("batch_size", 1)

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(one, range(CONCURRENCY)))  # warm-up round, not counted
        started = time.perf_counter()
        answers = list(pool.map(one, range(total)))
        wall = time.perf_counter() - started
    latencies = sorted(a[0] for a in answers)
    return {
        "p50": statistics.median(latencies) * 1000,
        "rps": total / wall,
        "mean_batch": statistics.mean(a[1] for a in answers),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--quick", action="store_true", help="8 requests per cell: checks the script runs")
    args = parser.parse_args()
    if args.quick:
        args.requests = 8
    os.environ.setdefault("VDB_DATA_DIR", tempfile.mkdtemp(prefix="vdb-batching-"))

    import ray
    from ray import serve

    from deployments.app import build_app

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    port = _port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    common = {"num_cpus": 0.25, "max_ongoing_requests": CONCURRENCY, "max_queued_requests": 64}
    for name, size in (("single", 1), ("batched", CONCURRENCY)):
        models = [
            {"name": body["model"], **common, "batching": {"max_batch_size": size, "batch_wait_timeout_s": 0.05}}
            for body in BODIES.values()
        ]
        serve.run(build_app({"models": models}), name=name, route_prefix=f"/{name}")
    headers = {"X-API-Key": (Path(os.environ["VDB_DATA_DIR"]) / "admin.key").read_text().strip()}
    base = f"http://127.0.0.1:{port}"
    print(f"concurrency {CONCURRENCY}, {args.requests} requests per cell, 2 CPU cores, admin key (rate limits on)")
    print(f"{'modality':8s} {'batch':>5s} {'mean batch':>10s} {'p50 ms':>9s} {'req/s':>8s}   {'req/s vs batch 1':>16s}")
    for modality, body in BODIES.items():
        single = drive(f"{base}/single{PATHS[modality]}", body, args.requests, headers)
        batched = drive(f"{base}/batched{PATHS[modality]}", body, args.requests, headers)
        for size, figures in ((1, single), (CONCURRENCY, batched)):
            print(
                f"{modality:8s} {size:5d} {figures['mean_batch']:10.2f} {figures['p50']:9.1f} {figures['rps']:8.2f}"
                f"   {figures['rps'] / single['rps']:15.2f}x"
            )
    serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()
