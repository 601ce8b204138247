"""Period summaries and model comparisons over what the database stores.

**Periods.** ``1h``, ``24h``, ``7d``, ``30d``: the window is [now - period, now) on the benchmark's
creation time.

**Trends.** A trend is the relative change of a figure against the previous period of the same
length: ``(current - previous) / |previous|``, e.g. 0.02 is 2% higher than in the period before.
It is null, with the reason, when either period has no value (or the previous one is 0). Each
trend reports both values and their sample sizes. ``quality_trend`` follows the quality metric
(``metric``, default ``overall_score``), ``performance_trend`` the mean throughput (frames/s; positive
is faster), ``latency_trend`` the mean latency (negative is faster), ``usage_trend`` the number of
benchmarks started.

**Sample sizes.** Every figure has its ``n``: the number of completed benchmarks with a value for it
(aggregates are over benchmarks, each benchmark's figure being the mean over its videos).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from app.errors import ValidationError
from app.metrics.figures import LATENCY_MS, PERFORMANCE_DIRECTIONS, direction, per_video
from app.metrics.registry import METRICS
from app.metrics.significance import significance_report
from app.storage.analytics import AGGREGATIONS, AnalyticsRepository

PERIODS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
DEFAULT_QUALITY = "overall_score"
MAX_COMPARED = 10


def period_window(period: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    if period not in PERIODS:
        raise ValidationError(f"period must be one of {list(PERIODS)}", {"period": period, "allowed": list(PERIODS)})
    end = now or datetime.now(UTC)
    return end - PERIODS[period], end


FIGURES = sorted([*METRICS, *PERFORMANCE_DIRECTIONS])
"""The stored aggregate figures: quality metrics and performance values."""
RANKABLE = [name for name in FIGURES if name not in METRICS or METRICS[name].higher_is_better is not None]
"""The figures with a direction (higher or lower is better): what a summary or a leaderboard can rank on."""


def check_figure(name: str) -> str:
    """A stored aggregate figure (metric or performance); refused with the list otherwise."""
    if name not in FIGURES:
        raise ValidationError(f"Unknown metric '{name}'", {"metric": name, "available": FIGURES})
    return name


def relative_change(current: float | None, previous: float | None) -> tuple[float | None, str | None]:
    if current is None or previous is None:
        return None, "no value in " + ("this period" if current is None else "the previous period")
    if previous == 0:
        return None, "the previous period's value is 0"
    return (current - previous) / abs(previous), None


def benchmark_analytics(
    repo: AnalyticsRepository,
    period: str = "24h",
    model_name: str | None = None,
    metric: str | None = None,
    aggregation: str = "avg",
    now: datetime | None = None,
) -> dict[str, Any]:
    if aggregation not in AGGREGATIONS:
        raise ValidationError(
            f"aggregation must be one of {list(AGGREGATIONS)}",
            {"aggregation": aggregation, "allowed": list(AGGREGATIONS)},
        )
    quality = check_figure(metric or DEFAULT_QUALITY)
    start, end = period_window(period, now)
    previous = (start - PERIODS[period], start)
    counts = repo.status_counts(start, end, model_name)
    finished = sum(counts.get(s, 0) for s in ("completed", "failed"))
    figures = {"quality_score": quality, "latency_ms": "avg_latency_ms", "throughput_fps": "throughput_fps"}
    metrics, sizes = {}, {}
    for label, name in figures.items():
        value, n = repo.aggregate(name, aggregation, start, end, model_name)
        metrics[f"{aggregation}_{label}"] = value
        sizes[f"{aggregation}_{label}"] = n
    if metric:
        value, n = repo.aggregate(metric, aggregation, start, end, model_name)
        metrics[f"{aggregation}_{metric}"], sizes[f"{aggregation}_{metric}"] = value, n

    trends, trend_details = {}, {}
    for label, name in (
        ("quality_trend", quality),
        ("performance_trend", "throughput_fps"),
        ("latency_trend", "avg_latency_ms"),
    ):
        now_value, n_now = repo.aggregate(name, "avg", start, end, model_name)
        before, n_before = repo.aggregate(name, "avg", *previous, model_name)
        trends[label], reason = relative_change(now_value, before)
        trend_details[label] = {
            "figure": name,
            "current": now_value,
            "previous": before,
            "n_current": n_now,
            "n_previous": n_before,
            "reason": reason,
        }
    used_now = sum(counts.values())
    used_before = sum(repo.status_counts(*previous, model_name).values())
    trends["usage_trend"], reason = relative_change(float(used_now), float(used_before))
    trend_details["usage_trend"] = {
        "figure": "benchmarks started",
        "current": used_now,
        "previous": used_before,
        "n_current": used_now,
        "n_previous": used_before,
        "reason": reason,
    }

    up = direction(quality)
    models = [m for m in repo.per_model(quality, start, end) if not model_name or m["model_name"] == model_name]
    models.sort(key=lambda m: (m["avg"] is None, -(m["avg"] or 0) if up else (m["avg"] or 0), m["model_name"]))
    return {
        "period": period,
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "model_name": model_name,
        "metric": quality,
        "aggregation": aggregation,
        "total_benchmarks": used_now,
        "status_counts": counts,
        "success_rate": counts.get("completed", 0) / finished if finished else None,
        "success_rate_n": finished,
        "metrics": metrics,
        "sample_sizes": sizes,
        "trends": trends,
        "trend_details": trend_details,
        "trend_definition": "relative change against the previous period of the same length: "
        "(current - previous) / |previous|",
        "top_models": [
            {
                "model_name": m["model_name"],
                "benchmark_count": m["benchmark_count"],
                "completed": m["completed"],
                "avg_score": m["avg"],
                "n": m["n"],
            }
            for m in models[:10]
        ],
    }


def parse_selector(entry: str) -> tuple[str, dict[str, str]]:
    """``NAME`` or ``NAME@KEY=VALUE[@KEY=VALUE...]``: a model, optionally narrowed to benchmarks whose generation
    parameter KEY (e.g. num_inference_steps) or ``benchmark_id`` has that value, so one model can be compared
    with itself at other settings or across two runs."""
    name, *qualifiers = entry.strip().split("@")
    filters = {}
    for qualifier in qualifiers:
        key, sep, value = qualifier.partition("=")
        if not sep or not key or not value:
            raise ValidationError(
                f"Model selector '{entry}': qualifiers are KEY=VALUE",
                {"model": entry, "example": "tiny-t2v@num_inference_steps=8"},
            )
        filters[key] = value
    if not name:
        raise ValidationError(f"Model selector '{entry}' has no model name", {"model": entry})
    return name, filters


def _matches(bench: dict[str, Any], name: str, filters: dict[str, str]) -> bool:
    if bench["model_name"] != name:
        return False
    parameters = (bench["spec"] or {}).get("parameters") or {}
    for key, value in filters.items():
        have = bench["benchmark_id"] if key == "benchmark_id" else parameters.get(key)
        if have is None or str(have) != value:
            return False
    return True


def _item_values(
    repo: AnalyticsRepository, selectors: list[str], metric: str, start: datetime | None, end: datetime | None
) -> tuple[dict[str, dict[Any, float]], dict[str, list[dict]], str]:
    """Per selector, one value per work item: (prompt, seed) for per-video figures, else one per benchmark keyed
    by its prompts and seeds. Repeated runs of one item are averaged, so an item counts once."""
    parsed = {s: parse_selector(s) for s in selectors}
    benches = repo.benchmarks(start, end, sorted({name for name, _ in parsed.values()}))
    chosen = {s: [b for b in benches if _matches(b, *parsed[s])] for s in selectors}
    sums: dict[str, dict[Any, list[float]]] = {s: {} for s in selectors}
    if per_video(metric):
        ids = {s: {b["benchmark_id"] for b in chosen[s]} for s in selectors}
        for _model, bid, prompt, seed, value in repo.video_values(
            sorted({n for n, _ in parsed.values()}), metric, start, end
        ):
            for s in selectors:
                if bid in ids[s]:
                    sums[s].setdefault((prompt, seed), []).append(value)
        unit = "video"
    else:
        for s in selectors:
            for bench in chosen[s]:
                figure = (bench["figures"].get(metric) or {}).get("value")
                if figure is None:
                    continue
                spec = bench["spec"] or {}
                key = (tuple(spec.get("prompts") or ()), spec.get("seed"), spec.get("videos_per_prompt"))
                sums[s].setdefault(key, []).append(figure)
        unit = "benchmark"
    values = {s: {k: sum(v) / len(v) for k, v in items.items()} for s, items in sums.items()}
    return values, chosen, unit


def compare_models(
    repo: AnalyticsRepository,
    models: list[str],
    metric: str = DEFAULT_QUALITY,
    period: str | None = "30d",
    resamples: int = 1000,
    seed: int = 0,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Rank models on ``metric`` and test the differences (app.metrics.significance)."""
    models = list(dict.fromkeys(m.strip() for m in models if m.strip()))
    if not 2 <= len(models) <= MAX_COMPARED:
        raise ValidationError(f"Compare between 2 and {MAX_COMPARED} distinct models", {"models": models})
    if metric != LATENCY_MS:
        check_figure(metric)
    up = direction(metric)
    start, end = period_window(period, now) if period else (None, None)
    values, chosen, unit = _item_values(repo, models, metric, start, end)
    report = significance_report(values, up, resamples, seed)
    ranks = {name: i + 1 for i, name in enumerate(n for n in report["ranking"] if report["summary"][n]["n"])}
    rows = []
    for name in report["ranking"]:
        own = chosen[name]
        figures = {}
        for figure in dict.fromkeys([metric, "overall_score", "avg_latency_ms", "throughput_fps"]):
            stored = [(b["figures"].get(figure) or {}).get("value") for b in own]
            vals = [v for v in stored if v is not None]
            figures[figure] = sum(vals) / len(vals) if vals else None
        rows.append(
            {
                "model_name": name,
                "rank": ranks.get(name),
                "benchmark_count": len(own),
                "benchmark_ids": [b["benchmark_id"] for b in own][:100],
                "metrics": figures,
                "statistics": report["summary"][name],
            }
        )
    return {
        "comparison_metric": metric,
        "higher_is_better": up,
        "period": period,
        "unit": unit,
        "models": rows,
        "statistical_significance": report["statistical_significance"],
        "pairwise": report["pairwise"],
        "method": "paired Wilcoxon signed-rank over shared (prompt, seed) items when the models share at least "
        "2, else Mann-Whitney U; Holm-adjusted across pairs with more than two models; effect sizes "
        "(mean difference, rank-biserial) with 95% percentile bootstrap CIs",
    }
