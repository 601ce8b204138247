"""Comparing models: ranking and the Pareto frontier over any metrics with their directions."""

from __future__ import annotations

from typing import Any

import numpy as np

from app.bench.results import BenchmarkResult
from app.errors import ValidationError
from app.metrics.figures import (  # noqa: F401 - direction, dominates, pareto_frontier re-exported
    LATENCY_MS,
    PERFORMANCE_DIRECTIONS,
    direction,
    dominates,
    pareto_frontier,
    per_video,
)
from app.metrics.registry import METRICS
from app.metrics.significance import significance_report

DEFAULT_OBJECTIVES = {"overall_score": True, "avg_latency_ms": False, "peak_vram_gb": False}


def figure(result: BenchmarkResult, name: str) -> float | None:
    return result.metrics.get(name) if name in METRICS else result.performance.get(name)


def compare_models(
    results: dict[str, BenchmarkResult] | list[BenchmarkResult],
    objectives: dict[str, bool] | list[str] | None = None,
    rank_by: str = "overall_score",
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
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
    ranked = sorted([(v, n) for v, n in keyed if v is not None], key=lambda k: k[0], reverse=rank_up)
    ranking = [{"rank": i + 1, "model_name": n, rank_by: v} for i, (v, n) in enumerate(ranked)]
    ranking += [{"rank": None, "model_name": n, rank_by: None} for v, n in keyed if v is None]
    front = pareto_frontier(points, dict(objectives))
    return {
        "ranking": ranking,
        "rank_by": rank_by,
        "pareto_frontier": front["frontier"],
        "pareto_objectives": front["objectives"],
        "skipped_objectives": front["skipped_objectives"],
        "models": {n: {"benchmark_id": results[n].benchmark_id, **points[n]} for n in names},
        "pairwise_fvd": pairwise_fvd(results),
        **significance(results, rank_by, resamples, seed),
    }


def video_values(result: BenchmarkResult, name: str) -> dict[tuple[str, int], float]:
    """One model's per-video values of a figure, keyed by work item (prompt, seed): what paired tests pair on."""
    out = {}
    for video in result.per_video:
        if video.get("status") != "ok":
            continue
        if name == LATENCY_MS:
            value = None if video.get("latency_s") is None else video["latency_s"] * 1000.0
        else:
            value = (video.get("metrics") or {}).get(name)
        if value is not None:
            out[(video["prompt"], video["seed"])] = float(value)
    return out


def significance(
    results: dict[str, BenchmarkResult], rank_by: str, resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Video-level significance tests between the models (app.metrics.significance: Wilcoxon over shared prompts
    and seeds, else Mann-Whitney; Holm with more than two models; effect sizes with bootstrap CIs).

    ``statistical_significance`` tests ``rank_by`` when it has per-video values; a set-level figure (one value
    per benchmark) cannot be tested from one run each, and says so. ``significance_by_metric`` tests every
    directional per-video metric the results have, and the per-video latency.
    """
    if len(results) < 2:
        return {
            "statistical_significance": {"p_value": None, "reason": "one model: nothing to compare"},
            "significance_by_metric": {},
        }
    names = [n for n in METRICS if per_video(n) and METRICS[n].higher_is_better is not None] + [LATENCY_MS]
    by_metric = {}
    for name in names:
        values = {model: video_values(result, name) for model, result in results.items()}
        if sum(bool(v) for v in values.values()) >= 2:
            by_metric[name] = significance_report(values, direction(name), resamples, seed)
    if per_video(rank_by):
        headline = (by_metric.get(rank_by) or {}).get("statistical_significance") or {
            "p_value": None,
            "reason": f"fewer than two models have per-video values of {rank_by}",
        }
    else:
        headline = {
            "p_value": None,
            "reason": f"{rank_by} is a set-level figure (one value per benchmark): one run "
            "per model cannot be tested; see significance_by_metric",
        }
    return {"statistical_significance": headline, "significance_by_metric": by_metric}


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
        for b in names[i + 1 :]:
            key = f"{a}|{b}"
            feats_a, feats_b = feats[a], feats[b]
            if feats_a is None or feats_b is None:
                out[key] = {
                    "value": None,
                    "reason": "I3D features missing (i3d weights not installed, or videos "
                    f"shorter than FVD's {CLIP_FRAMES}-frame clips)",
                }
            else:
                out[key] = fvd(feats_a, feats_b)
    return out
