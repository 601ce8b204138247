"""Harness overhead: a full benchmark on Ray vs the same generations done in-process.

Both sides run the same model, prompts, seeds and parameters with one torch thread
(the runner's default per actor). The in-process side loads the pipeline once, warms
up, and sums the time of the generate calls only: the irreducible work. The benchmark
side is the wall time of submit -> completed through BenchmarkRunner (actor start,
model load, warm-up, generation, metrics, database writes, aggregation), once with
metrics off and once with all metrics. Ray itself is started before timing (once per
session in real use). Printed as ratios over the in-process sum.

    python benchmarks/harness_overhead.py [--videos 8] [--frames 8] [--steps 4]
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
    args = parser.parse_args()
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
    walls, inside = {}, {}
    for label, metrics_on in (("benchmark, metrics off", False), ("benchmark, all metrics", True)):
        spec = BenchmarkSpec(model_name=args.model, prompts=prompts, parameters=params, device="cpu",
                             metric_settings={"compute_metrics": metrics_on})
        started = time.perf_counter()
        benchmark_id = runner.submit(spec)
        runner.run([benchmark_id])
        walls[label] = time.perf_counter() - started
        inside[label] = sum(v.latency_s for v in runner.repo.videos(benchmark_id))

    print(f"model={args.model} videos={args.videos} frames={args.frames} steps={args.steps} "
          f"torch_threads={settings.torch_threads_per_actor}")
    print(f"{'in-process generation (sum)':32s} {in_process:8.2f} s   1.00x")
    for label, wall in walls.items():
        print(f"{label:32s} {wall:8.2f} s   {wall / in_process:.2f}x   (generation inside the actor: "
              f"{inside[label]:.2f} s = {inside[label] / in_process:.2f}x; "
              f"everything else: {wall - inside[label]:.2f} s)")


if __name__ == "__main__":
    main()
