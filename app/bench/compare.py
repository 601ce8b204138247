"""Comparing models: ranking and the Pareto frontier over any metrics with their directions."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.bench.results import BenchmarkResult
from app.errors import ValidationError
from app.metrics.registry import METRICS

# Performance figures and their direction (True: higher is better).
PERFORMANCE_DIRECTIONS = {"avg_latency_ms": False, "p50_latency_ms": False, "p95_latency_ms": False,
                          "throughput_fps": True, "videos_per_second": True, "peak_vram_gb": False,
                          "peak_rss_mb": False, "avg_power_watts": False, "total_energy_j": False}
DEFAULT_OBJECTIVES = {"overall_score": True, "avg_latency_ms": False, "peak_vram_gb": False}


def direction(name: str) -> bool:
    """True when higher is better. Descriptive metrics (how much motion) have no direction: refused as objectives."""
    if name in METRICS:
        if METRICS[name].higher_is_better is None:
            raise ValidationError(f"'{name}' is descriptive (it says how much, not how good): it cannot be a "
                                  "ranking or Pareto objective", {"figure": name})
        return METRICS[name].higher_is_better
    if name in PERFORMANCE_DIRECTIONS:
        return PERFORMANCE_DIRECTIONS[name]
    raise ValidationError(f"Unknown figure '{name}' for comparison",
                          {"figure": name, "available": sorted([*METRICS, *PERFORMANCE_DIRECTIONS])})


def figure(result: BenchmarkResult, name: str) -> float | None:
    return result.metrics.get(name) if name in METRICS else result.performance.get(name)


def dominates(a: list[float], b: list[float], higher: list[bool]) -> bool:
    """a is at least as good as b everywhere and strictly better somewhere."""
    better_somewhere = False
    for x, y, up in zip(a, b, higher, strict=True):
        if (x < y if up else x > y):
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
    vectors = {n: [float(points[n][o]) for o in usable] for n in points}
    frontier = [n for n in points if not any(dominates(vectors[m], vectors[n], higher) for m in points if m != n)]
    return {"frontier": sorted(frontier), "objectives": usable, "skipped_objectives": skipped}


def compare_models(results: dict[str, BenchmarkResult] | list[BenchmarkResult],
                   objectives: dict[str, bool] | list[str] | None = None,
                   rank_by: str = "overall_score") -> dict[str, Any]:
    if isinstance(results, list):
        results = {r.model_name: r for r in results}
    if not results:
        raise ValidationError("Nothing to compare: no results given", {})
    if objectives is None:
        objectives = DEFAULT_OBJECTIVES
    elif isinstance(objectives, list):
        objectives = {name: direction(name) for name in objectives}
    for name in objectives:
        direction(name)
    names = list(results)
    points = {n: {o: figure(results[n], o) for o in objectives} for n in names}
    rank_up = direction(rank_by)
    keyed = [(figure(results[n], rank_by), n) for n in names]
    ranked = sorted([k for k in keyed if k[0] is not None], key=lambda k: k[0], reverse=rank_up)
    ranking = [{"rank": i + 1, "model_name": n, rank_by: v} for i, (v, n) in enumerate(ranked)]
    ranking += [{"rank": None, "model_name": n, rank_by: None} for v, n in keyed if v is None]
    front = pareto_frontier(points, dict(objectives))
    return {"ranking": ranking, "rank_by": rank_by, "pareto_frontier": front["frontier"],
            "pareto_objectives": front["objectives"], "skipped_objectives": front["skipped_objectives"],
            "models": {n: {"benchmark_id": results[n].benchmark_id, **points[n]} for n in names},
            "pairwise_fvd": pairwise_fvd(results)}


def pairwise_fvd(results: dict[str, BenchmarkResult]) -> dict[str, Any]:
    """FVD between two models' outputs, from stored I3D features (null with reason when absent)."""
    from app.metrics.fvd import CLIP_FRAMES, fvd

    feats = {}
    for name, result in results.items():
        vectors = [v["features"]["i3d"] for v in result.per_video if (v.get("features") or {}).get("i3d")]
        feats[name] = np.asarray(vectors) if vectors else None
    out: dict[str, Any] = {}
    names = list(results)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            key = f"{a}|{b}"
            if feats[a] is None or feats[b] is None:
                out[key] = {"value": None, "reason": "I3D features missing (i3d weights not installed, or videos "
                                                     f"shorter than FVD's {CLIP_FRAMES}-frame clips)"}
            else:
                out[key] = fvd(feats[a], feats[b])
    return out
