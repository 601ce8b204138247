"""Gateway overhead and batching, measured side by side on one local Ray Serve.

Three applications serve the same built-in tiny image model (tiny-t2i, 32x32, 2 steps):
  bare       a minimal Serve deployment over ImageEngine that returns the PNG (no FastAPI,
             no validation, no task rows, no artifacts);
  gateway    the full gateway (validation, task row, artifact file, JSON response), no batching;
  batched    the full gateway with @serve.batch (max_batch_size 8).
Each is driven over HTTP at concurrency 1 and 16; p50 / p99 latency and requests/s are
printed with the ratio to the bare deployment.

Requests carry the first-start admin key, so authentication and rate limiting are on, as users
run the gateway (the enterprise tier's limits are far above what the script sends).

With --profile DIR, py-spy samples the gateway's ingress and its model replica during the
full-gateway concurrency-1 cell and writes flame graphs (SVG) and the functions that took the
most samples (DIR/top.txt).

    python benchmarks/gateway_overhead.py [--requests 48] [--quick] [--profile docs/profiles]
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

BODY = {"model": "tiny-t2i", "prompt": "a red boat on a lake", "steps": 2, "width": 32, "height": 32}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drive(url: str, concurrency: int, total: int, headers: dict[str, str]) -> dict:
    def one(i: int) -> float:
        with httpx.Client(timeout=600, headers=headers) as client:
            started = time.perf_counter()
            response = client.post(url, json={**BODY, "seed": i})
            response.raise_for_status()
            return time.perf_counter() - started

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(concurrency)))  # warm-up round, not counted
        started = time.perf_counter()
        latencies = sorted(pool.map(one, range(total)))
        wall = time.perf_counter() - started
    return {
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000,
        "rps": total / wall,
    }


def _replica_pids(app: str) -> dict[str, int]:
    """Ray titles each actor's process `ray::ServeReplica:<app>:<deployment>...`: find them by that title."""
    import psutil

    pids = {}
    for process in psutil.process_iter(["pid", "cmdline"]):
        title, prefix = " ".join(process.info["cmdline"] or []), f"ray::ServeReplica:{app}:"
        if title.startswith(prefix):
            pids[title[len(prefix) :].split(".")[0].split()[0]] = process.info["pid"]
    return pids


def profile(directory: Path, app: str) -> list:
    """Start py-spy on the app's ingress and model replicas (raw collapsed stacks and SVG flame graphs)."""
    import subprocess

    directory.mkdir(parents=True, exist_ok=True)
    started = []
    for name, pid in _replica_pids(app).items():
        for fmt, suffix in (("flamegraph", "svg"), ("raw", "txt")):
            out = directory / f"{app}-{name}.{suffix}"
            started.append(
                (
                    subprocess.Popen(
                        [
                            "py-spy",
                            "record",
                            "--pid",
                            str(pid),
                            "--rate",
                            "200",
                            "--format",
                            fmt,
                            "--output",
                            str(out),
                            "--nonblocking",
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    ),
                    out,
                )
            )
    time.sleep(2)  # py-spy attaches
    return started


def finish_profile(started: list, directory: Path | None) -> None:
    """Stop py-spy (it writes its files on SIGINT) and list each process's most sampled functions."""
    import collections
    import signal

    for process, _ in started:
        process.send_signal(signal.SIGINT)
    for process, _ in started:
        process.wait(timeout=60)
    lines = []
    for _, out in started:
        if out.suffix != ".txt" or not out.exists():
            continue
        inclusive, total = collections.Counter(), 0
        for line in out.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue
            total += int(count)
            for frame in set(stack.split(";")):
                inclusive[frame] += int(count)
        lines.append(f"== {out.stem}: {total} samples; frames by share of samples (inclusive)")
        lines += [f"{100 * n / total:6.1f}%  {frame}" for frame, n in inclusive.most_common(40)]
    if lines and directory is not None:
        (directory / "top.txt").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=48)
    parser.add_argument("--quick", action="store_true", help="8 requests per cell: checks the script runs")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy flame graphs of the gateway cell here")
    args = parser.parse_args()
    if args.quick:
        args.requests = 8
    os.environ.setdefault("VDB_DATA_DIR", tempfile.mkdtemp(prefix="vdb-gateway-"))

    import ray
    from ray import serve

    from deployments.app import build_app

    @serve.deployment(ray_actor_options={"num_cpus": 0.25}, max_ongoing_requests=64)
    class Bare:
        def __init__(self):
            import torch

            from app.catalog import get_catalog
            from app.engines.image import ImageEngine

            torch.set_num_threads(1)
            self.engine = ImageEngine(get_catalog().get("tiny-t2i"), device="cpu")
            self.engine.load()

        async def __call__(self, request):
            import io

            from starlette.responses import Response

            body = await request.json()
            image = self.engine.generate(
                body["prompt"], seed=body["seed"], width=32, height=32, num_inference_steps=body["steps"]
            )
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            return Response(buffer.getvalue(), media_type="image/png")

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    port = _port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    common = {"num_cpus": 0.25, "max_ongoing_requests": 64, "max_queued_requests": 512}
    serve.run(Bare.bind(), name="bare", route_prefix="/bare")
    serve.run(
        build_app({"models": [{"name": "tiny-t2i", **common, "batching": {"max_batch_size": 1}}]}),
        name="gateway",
        route_prefix="/gw",
    )
    serve.run(
        build_app(
            {
                "models": [
                    {"name": "tiny-t2i", **common, "batching": {"max_batch_size": 8, "batch_wait_timeout_s": 0.02}}
                ]
            }
        ),
        name="batched",
        route_prefix="/batched",
    )
    headers = {"X-API-Key": (Path(os.environ["VDB_DATA_DIR"]) / "admin.key").read_text().strip()}  # first-start key
    base = f"http://127.0.0.1:{port}"
    targets = {
        "bare": f"{base}/bare",
        "gateway": f"{base}/gw/api/v1/inference/image-generation",
        "batched": f"{base}/batched/api/v1/inference/image-generation",
    }
    print(f"tiny-t2i 32x32, 2 steps, {args.requests} requests per cell, 2 CPU cores")
    print(
        f"{'app':10s} {'conc':>4s} {'p50 ms':>9s} {'p99 ms':>9s} {'req/s':>8s}   "
        f"{'p50 vs bare':>11s} {'req/s vs bare':>13s}"
    )
    for concurrency in (1, 16):
        bare = None
        for name, url in targets.items():
            profiling = (
                profile(args.profile, "gateway") if args.profile and (name, concurrency) == ("gateway", 1) else []
            )
            figures = drive(url, concurrency, args.requests, headers)
            finish_profile(profiling, args.profile)
            bare = bare or figures
            print(
                f"{name:10s} {concurrency:4d} {figures['p50']:9.1f} {figures['p99']:9.1f} {figures['rps']:8.2f}   "
                f"{figures['p50'] / bare['p50']:10.2f}x {figures['rps'] / bare['rps']:12.2f}x"
            )
    serve.shutdown()
    ray.shutdown()


if __name__ == "__main__":
    main()
