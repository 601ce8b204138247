"""Throughput of the weight-free metrics at 256x256, and the cost of one 400-d Frechet distance.

Prints frames per second for each weight-free metric family on the same random 16-frame
video, all metrics together (flow computed once and shared), and the time of one FVD
distance between two 400-d Gaussians with our eigh-based square root next to the
scipy.linalg.sqrtm formulation, with their ratio.

    python benchmarks/metrics_throughput.py [--frames 16] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import scipy.linalg

    from app.metrics import temporal
    from app.metrics.fvd import frechet_distance

    rng = np.random.default_rng(0)
    video = rng.integers(0, 256, (args.frames, 256, 256, 3), dtype=np.uint8)
    gray = temporal._gray(video)
    flows = temporal.compute_flows(gray)
    pairs = args.frames - 1

    cases = {
        "temporal_flickering": lambda: temporal.temporal_flickering(video),
        "consecutive_ssim": lambda: [temporal.ssim(gray[t], gray[t + 1]) for t in range(pairs)],
        "optical flow (both directions)": lambda: temporal.compute_flows(gray),
        "warping_error (given flow)": lambda: temporal.warping_error(video, flows),
        "all weight-free metrics": lambda: temporal.temporal_metrics(video),
    }
    print(f"weight-free metrics, {args.frames} frames of 256x256, best of {args.repeats}:")
    for name, fn in cases.items():
        seconds = best_of(fn, args.repeats)
        print(f"  {name:32s} {args.frames / seconds:9.1f} frames/s")

    d = 400
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


if __name__ == "__main__":
    main()
