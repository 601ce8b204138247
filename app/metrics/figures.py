"""Every figure a benchmark stores, with its direction: the quality metrics of the registry and the performance
figures of the profiler. Comparisons, rankings, Pareto fronts and analytics all ask here which way is better."""

from __future__ import annotations

from typing import Any

from app.errors import ValidationError
from app.metrics.registry import METRICS

# Performance figures and their direction (True: higher is better).
PERFORMANCE_DIRECTIONS = {
    "avg_latency_ms": False,
    "p50_latency_ms": False,
    "p95_latency_ms": False,
    "throughput_fps": True,
    "videos_per_second": True,
    "peak_vram_gb": False,
    "peak_rss_mb": False,
    "avg_power_watts": False,
    "total_energy_j": False,
}
LATENCY_MS = "latency_ms"  # the per-video latency (ms): what avg_latency_ms averages, tested item by item


def direction(name: str) -> bool:
    """True when higher is better. Descriptive metrics (how much motion) have no direction: refused as objectives."""
    if name in METRICS:
        higher = METRICS[name].higher_is_better
        if higher is None:
            raise ValidationError(
                f"'{name}' is descriptive (it says how much, not how good): it cannot be a ranking or Pareto objective",
                {"figure": name},
            )
        return higher
    if name in PERFORMANCE_DIRECTIONS:
        return PERFORMANCE_DIRECTIONS[name]
    if name == LATENCY_MS:
        return False
    raise ValidationError(
        f"Unknown figure '{name}' for comparison",
        {"figure": name, "available": sorted([*METRICS, *PERFORMANCE_DIRECTIONS, LATENCY_MS])},
    )


def per_video(name: str) -> bool:
    """Whether the figure has a value per generated video (so models can be tested video by video)."""
    return name == LATENCY_MS or (name in METRICS and METRICS[name].aggregation == "mean")


def dominates(a: list[float], b: list[float], higher: list[bool]) -> bool:
    """a is at least as good as b everywhere and strictly better somewhere."""
    better_somewhere = False
    for x, y, up in zip(a, b, higher, strict=True):
        if x < y if up else x > y:
            return False
        if x != y:
            better_somewhere = True
    return better_somewhere


def pareto_frontier(points: dict[str, dict[str, float | None]], objectives: dict[str, bool]) -> dict[str, Any]:
    """Non-dominated names over the objectives whose values every point has.

    Objectives missing for some point (null figures) are left out and reported,
    rather than guessed.
    """
    usable = [o for o in objectives if all(points[n].get(o) is not None for n in points)]
    skipped = [o for o in objectives if o not in usable]
    if not usable:
        return {"frontier": sorted(points), "objectives": [], "skipped_objectives": skipped}
    higher = [objectives[o] for o in usable]
    # every point has a value for each usable objective: the filter only narrows the type
    vectors = {n: [float(v) for o in usable if (v := points[n][o]) is not None] for n in points}
    frontier = [n for n in points if not any(dominates(vectors[m], vectors[n], higher) for m in points if m != n)]
    return {"frontier": sorted(frontier), "objectives": usable, "skipped_objectives": skipped}
