"""Throughput of the weight-free metrics at 256x256 on one core, per optical flow method, side by side.

Prints frames per second of each weight-free metric family and of all of them together on the
same 16-frame video (a textured pan, so the flow has real motion to find), with the flow method
as the only difference between the "all metrics" rows, and their ratio to Farneback (the flow
used before DIS became the default). OpenCV runs on one thread; each figure is given per
second of wall time and per second of this process's CPU time (on a shared machine the CPU
figure is the steadier one: other processes' load does not count against it). Also the time of one FVD
distance between two 400-d Gaussians with our eigh-based square root next to scipy's sqrtm.

    python benchmarks/metrics_throughput.py [--frames 16] [--repeats 3] [--size 256]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np


def best_of(fn, repeats: int) -> float:
    return best_of_both(fn, repeats)[0]


def best_of_both(fn, repeats: int) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds of this process) over the repeats."""
    walls, cpus = [], []
    for _ in range(repeats):
        started, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def textured_pan(frames: int, size: int) -> np.ndarray:
    """A smooth random texture moving 3 px left per frame: real, known motion for the flow."""
    import cv2

    rng = np.random.default_rng(0)
    width = size + 3 * frames
    texture = cv2.GaussianBlur(rng.integers(0, 256, (size, width, 3), dtype=np.uint8), (7, 7), 2)
    return np.stack([texture[:, 3 * t : 3 * t + size] for t in range(frames)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    figures: dict = {"frames_per_wall_s": {}, "frames_per_cpu_s": {}}

    import cv2
    import scipy.linalg

    from app.metrics import temporal
    from app.metrics.fvd import frechet_distance

    cv2.setNumThreads(1)
    video = textured_pan(args.frames, args.size)
    gray = temporal._gray(video)
    flows = temporal.compute_flows(gray)

    cases = {
        "temporal_flickering": lambda: temporal.temporal_flickering(video),
        "consecutive_ssim (all pairs)": lambda: temporal.ssim_pairs(gray),
        "consecutive_psnr (all pairs)": lambda: temporal.pair_mse(video),
        f"warping_error (given {temporal.DEFAULT_FLOW_METHOD} flow)": lambda: temporal.warping_error(video, flows),
    }
    for method in temporal.FLOW_METHODS:
        cases[f"optical flow, both directions: {method}"] = lambda m=method: temporal.compute_flows(gray, m)
    print(
        f"weight-free metrics, {args.frames} frames of {args.size}x{args.size}, one OpenCV thread, "
        f"best of {args.repeats}; frames per second of wall time / of CPU time:"
    )
    for name, fn in cases.items():
        wall, cpu = best_of_both(fn, args.repeats)
        figures["frames_per_wall_s"][name], figures["frames_per_cpu_s"][name] = args.frames / wall, args.frames / cpu
        print(f"  {name:44s} {args.frames / wall:9.1f} /{args.frames / cpu:9.1f} frames/s")
    together = {
        method: best_of_both(lambda m=method: temporal.temporal_metrics(video, flow=m), args.repeats)
        for method in temporal.FLOW_METHODS
    }
    for method, (wall, cpu) in together.items():
        default = " (default)" if method == temporal.DEFAULT_FLOW_METHOD else ""
        ref_wall, ref_cpu = together["farneback"]
        figures["frames_per_wall_s"][f"all weight-free metrics, flow {method}"] = args.frames / wall
        figures["frames_per_cpu_s"][f"all weight-free metrics, flow {method}"] = args.frames / cpu
        print(
            f"  {'all weight-free metrics, flow ' + method + default:44s} {args.frames / wall:9.1f} /"
            f"{args.frames / cpu:9.1f} frames/s   {ref_wall / wall:5.2f}x / {ref_cpu / cpu:5.2f}x farneback"
        )

    d = 400
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(d, d)), rng.normal(size=(d, d))
    s1, s2 = a @ a.T / d, b @ b.T / d
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)

    def scipy_version():
        covmean = scipy.linalg.sqrtm(s1 @ s2).real
        return np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)

    ours = best_of(lambda: frechet_distance(mu1, s1, mu2, s2), args.repeats)
    ref = best_of(scipy_version, args.repeats)
    diff = abs(frechet_distance(mu1, s1, mu2, s2) - scipy_version())
    print(f"Frechet distance, 400-d, best of {args.repeats}:")
    print(f"  eigh-based (ours)   {ours * 1000:8.1f} ms")
    print(f"  scipy sqrtm         {ref * 1000:8.1f} ms   ours/scipy = {ours / ref:.2f}   |difference| = {diff:.2e}")
    figures["frechet"] = {
        "ours_ms": ours * 1000,
        "scipy_ms": ref * 1000,
        "abs_difference": float(diff),
        "value": float(frechet_distance(mu1, s1, mu2, s2)),
    }
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
