"""Sweep scaling: two benchmarks (two models) on one actor at a time vs two actors at once, on 2 cores.

A local Ray with 2 CPUs; each actor takes one CPU and one torch thread (the runner sizes
both from the node: VDB_TORCH_THREADS_PER_ACTOR CPUs per actor, threads to match, and
``max_workers=0`` means as many actors as the node's CPUs hold). One untimed sweep loads
both models into the warm pool; then the same two benchmarks run with max_workers=1 (one
after the other) and max_workers=2 (side by side), both on the warm workers, so the
comparison is of the sweep itself, not of process start. Printed: wall times and their
ratio (the speed-up of the second actor); --cold compares with the pool off instead (both
sides then start their actors).

    python benchmarks/sweep_scaling.py [--models tiny-t2v tiny-i2v] [--videos 8] [--cold] [--quick]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["tiny-t2v", "tiny-i2v"])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--cold", action="store_true", help="pool off: each side starts its actors")
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--quick", action="store_true", help="2 videos, 4 frames, 2 steps: checks the script runs")
    args = parser.parse_args()
    if args.quick:
        args.videos, args.frames, args.steps = 2, 4, 2
    os.environ.setdefault("VDB_DATA_DIR", tempfile.mkdtemp(prefix="vdb-sweep-"))
    if args.cold:
        os.environ["VDB_WORKER_POOL_IDLE_S"] = "0"
    os.environ.setdefault("VDB_RAY_NUM_CPUS", "2")

    from app.bench.cluster import ensure_ray
    from app.bench.runner import BenchmarkRunner, actors_for
    from app.bench.spec import BenchmarkSpec
    from app.config import get_settings

    settings = get_settings()
    ensure_ray(settings)
    runner = BenchmarkRunner(settings=settings)
    prompts = [f"prompt number {i}: a boat on a lake" for i in range(args.videos)]
    params = {"num_frames": args.frames, "num_inference_steps": args.steps}
    walls, inside = {}, {}
    if not args.cold:  # load both models once, untimed: the timed sweeps lease these warm workers
        warm = [
            runner.submit(
                BenchmarkSpec(
                    model_name=model,
                    prompts=prompts[:1],
                    parameters=params,
                    device="cpu",
                    metric_settings={"compute_metrics": False},
                )
            )
            for model in args.models
        ]
        runner.run(warm, max_workers=2)
    for workers in (1, 2):
        ids = [
            runner.submit(
                BenchmarkSpec(
                    model_name=model,
                    prompts=prompts,
                    parameters=params,
                    device="cpu",
                    metric_settings={"compute_metrics": False},
                )
            )
            for model in args.models
        ]
        started = time.perf_counter()
        runner.run(ids, max_workers=workers)
        walls[workers] = time.perf_counter() - started
        inside[workers] = [
            (runner.repo.get(i).model_name, sum(v.latency_s for v in runner.repo.videos(i))) for i in ids
        ]
        assert all(runner.repo.get(i).status == "completed" for i in ids), [runner.repo.get(i).error for i in ids]

    print(
        f"models={args.models} videos={args.videos} frames={args.frames} steps={args.steps} "
        f"node CPUs={settings.ray_num_cpus} torch threads per actor={settings.torch_threads_per_actor} "
        f"actors the node holds={actors_for(settings)} workers={'cold' if args.cold else 'warm (pooled)'}"
    )
    for workers in (1, 2):
        generation = ", ".join(f"{m} {s:.2f} s" for m, s in inside[workers])
        print(f"{workers} actor(s) at a time: wall {walls[workers]:7.2f} s   (generation inside: {generation})")
    sums = [s for _, s in inside[2]]
    print(
        f"speed-up of 2 actors over 1: {walls[1] / walls[2]:.2f}x   (bound from the generation times: "
        f"{sum(sums) / max(sums):.2f}x)"
    )


if __name__ == "__main__":
    main()
