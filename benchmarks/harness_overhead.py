"""Harness overhead: benchmarks on Ray vs the same generations done in-process, cold and warm.

Both sides run the same model, prompts, seeds and parameters with one torch thread
(the runner's default per actor). The in-process side loads the pipeline once, warms
up, and sums the time of the generate calls only: the irreducible work. The benchmark
side is the wall time of submit -> completed through BenchmarkRunner: first a cold
benchmark (actor start, model load, warm-up, generation, database writes, aggregation),
then the same benchmark again, which leases the warm worker from the pool (no start, no
load, no warm-up), with metrics off and then with all metrics. Ray itself is started
before timing (once per session in real use). Printed as ratios over the in-process sum.

    python benchmarks/harness_overhead.py [--videos 8] [--frames 8] [--steps 4] [--quick]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="tiny-t2v")
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="2 videos, 4 frames, 2 steps: checks the script runs")
    args = parser.parse_args()
    if args.quick:
        args.videos, args.frames, args.steps = 2, 4, 2
    os.environ.setdefault("VDB_DATA_DIR", tempfile.mkdtemp(prefix="vdb-overhead-"))
    os.environ.setdefault("VDB_WARMUP_RUNS", "1")

    import torch

    from app.bench.cluster import ensure_ray
    from app.bench.runner import BenchmarkRunner
    from app.bench.spec import BenchmarkSpec
    from app.catalog import get_catalog
    from app.config import get_settings
    from app.engines.video import VideoEngine

    settings = get_settings()
    prompts = [f"prompt number {i}: a boat on a lake" for i in range(args.videos)]
    params = {"num_frames": args.frames, "num_inference_steps": args.steps}

    torch.set_num_threads(settings.torch_threads_per_actor)
    engine = VideoEngine(get_catalog().get(args.model), device="cpu")
    engine.load()
    engine.generate(prompts[0], params, seed=10_000)  # warm-up, as the runner does
    in_process = 0.0
    for prompt in prompts:
        started = time.perf_counter()
        engine.generate(prompt, params, seed=0)
        in_process += time.perf_counter() - started

    ensure_ray(settings)
    runner = BenchmarkRunner(settings=settings)
    rows = []
    for label, metrics_on in (
        ("first benchmark (cold worker), metrics off", False),
        ("second benchmark (warm worker), metrics off", False),
        ("third benchmark (warm worker), all metrics", True),
    ):
        spec = BenchmarkSpec(
            model_name=args.model,
            prompts=prompts,
            parameters=params,
            device="cpu",
            metric_settings={"compute_metrics": metrics_on},
        )
        started = time.perf_counter()
        benchmark_id = runner.submit(spec)
        runner.run([benchmark_id])
        wall = time.perf_counter() - started
        row = runner.repo.get(benchmark_id)
        inside = sum(v.latency_s for v in runner.repo.videos(benchmark_id))
        worker = (row.provenance or {}).get("worker", {})
        rows.append((label, wall, inside, worker.get("start"), worker.get("load_s")))

    print(
        f"model={args.model} videos={args.videos} frames={args.frames} steps={args.steps} "
        f"torch_threads={settings.torch_threads_per_actor} pool_idle_s={settings.worker_pool_idle_s}"
    )
    print(f"{'in-process generation (sum)':46s} {in_process:8.2f} s   1.00x")
    for label, wall, inside, start, load_s in rows:
        print(
            f"{label:46s} {wall:8.2f} s   {wall / in_process:.2f}x in-process   "
            f"{wall / inside:.2f}x its own generation ({inside:.2f} s; worker {start}, load {load_s or 0:.2f} s)"
        )


if __name__ == "__main__":
    main()
