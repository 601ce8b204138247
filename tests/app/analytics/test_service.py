"""Analytics on a database seeded by real tiny benchmarks (tests/app/analytics/seed.py)."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from app.analytics.service import benchmark_analytics, compare_models, parse_selector, relative_change
from app.errors import ValidationError
from app.metrics.significance import holm

pytestmark = pytest.mark.slow  # seeding runs real tiny benchmarks (about 15 s)


def _figure(seeded, label, name):
    return next(a.value for a in seeded.repo.aggregates(seeded.ids[label]) if a.name == name)


def test_period_summary_is_what_the_stored_aggregates_say(seeded):
    out = benchmark_analytics(seeded.analytics, "24h")
    assert out["total_benchmarks"] == 3 and out["success_rate"] == 1.0 and out["success_rate_n"] == 3
    latencies = [_figure(seeded, label, "avg_latency_ms") for label in seeded.ids]
    assert out["metrics"]["avg_latency_ms"] == pytest.approx(np.mean(latencies))
    assert out["sample_sizes"]["avg_latency_ms"] == 3
    p95 = benchmark_analytics(seeded.analytics, "24h", aggregation="p95", metric="temporal_consistency")
    assert p95["metrics"]["p95_latency_ms"] == pytest.approx(np.percentile(latencies, 95))
    tc = [_figure(seeded, label, "temporal_consistency") for label in seeded.ids]
    assert p95["metrics"]["p95_temporal_consistency"] == pytest.approx(np.percentile(tc, 95))
    assert out["top_models"] == [
        {
            "model_name": "tiny-t2v",
            "benchmark_count": 3,
            "completed": 3,
            "avg_score": pytest.approx(np.mean([_figure(seeded, lb, "overall_score") for lb in seeded.ids])),
            "n": 3,
        }
    ]
    # nothing ran in the previous 24 hours: the trends say so instead of inventing a change
    assert out["trends"]["quality_trend"] is None
    assert out["trend_details"]["quality_trend"]["reason"] == "no value in the previous period"
    assert out["trend_details"]["usage_trend"] == {
        "figure": "benchmarks started",
        "current": 3,
        "previous": 0,
        "n_current": 3,
        "n_previous": 0,
        "reason": "the previous period's value is 0",
    }


def test_the_window_and_the_model_filter_select_benchmarks(seeded):
    later = datetime.now(UTC) + timedelta(minutes=90)
    out = benchmark_analytics(seeded.analytics, "1h", now=later)
    assert out["total_benchmarks"] == 0 and out["success_rate"] is None
    assert out["metrics"]["avg_latency_ms"] is None and out["sample_sizes"]["avg_latency_ms"] == 0
    assert out["trend_details"]["usage_trend"]["previous"] == 3  # the hour before held them
    assert benchmark_analytics(seeded.analytics, "24h", model_name="tiny-t2i")["total_benchmarks"] == 0


def test_relative_change_definition():
    assert relative_change(1.1, 1.0) == (pytest.approx(0.1), None)
    assert relative_change(-2.0, -1.0) == (pytest.approx(-1.0), None)


def test_identical_runs_are_not_significantly_different(seeded):
    a, b = seeded.ids["t2v_1step_a"], seeded.ids["t2v_1step_b"]
    out = compare_models(
        seeded.analytics,
        [f"tiny-t2v@benchmark_id={a}", f"tiny-t2v@benchmark_id={b}"],
        metric="temporal_consistency",
        resamples=200,
    )
    sig = out["statistical_significance"]
    assert out["unit"] == "video" and sig["paired"] and sig["test"] == "wilcoxon_signed_rank"
    assert sig["p_value"] > 0.5 and sig["significant"] is False
    assert out["pairwise"][0]["n_pairs"] == 8


def test_different_step_counts_are_significantly_different(seeded):
    out = compare_models(
        seeded.analytics,
        ["tiny-t2v@num_inference_steps=1", "tiny-t2v@num_inference_steps=8"],
        metric="temporal_consistency",
        resamples=200,
    )
    sig = out["statistical_significance"]
    assert sig["paired"] and sig["p_value"] < 0.05 and sig["significant"] is True
    assert sig["correction"] == "none"
    effect = out["pairwise"][0]["effect_size"]
    low, high = effect["mean_difference_ci95"]
    assert low <= effect["mean_difference"] <= high
    ranked = [m["model_name"] for m in out["models"]]
    assert sig["compared"] == ranked[:2] and [m["rank"] for m in out["models"]] == [1, 2]
    assert {m["benchmark_count"] for m in out["models"]} == {1, 2}


def test_three_models_are_holm_adjusted(seeded):
    ids = seeded.ids
    selectors = [f"tiny-t2v@benchmark_id={ids[label]}" for label in ("t2v_1step_a", "t2v_1step_b", "t2v_8step")]
    out = compare_models(seeded.analytics, selectors, metric="consecutive_ssim", resamples=200)
    pairs = out["pairwise"]
    assert len(pairs) == 3 and {p["correction"] for p in pairs} == {"holm"}
    assert [p["p_value_adjusted"] for p in pairs] == pytest.approx(holm([p["p_value"] for p in pairs]))
    assert out["statistical_significance"]["correction"] == "holm"


def test_set_level_metric_compares_benchmarks(seeded):
    out = compare_models(
        seeded.analytics,
        ["tiny-t2v@num_inference_steps=1", "tiny-t2v@num_inference_steps=8"],
        metric="overall_score",
        resamples=200,
    )
    assert out["unit"] == "benchmark"
    assert out["statistical_significance"]["p_value"] is None  # one value each: no test, and it says why
    assert "too few" in out["statistical_significance"]["reason"]


@pytest.mark.parametrize(
    ("models", "metric", "period", "match"),
    [
        (["tiny-t2v"], "overall_score", "30d", "between 2"),
        (["a", "b"], "speediness", "30d", "Unknown metric"),
        (["a", "b"], "motion_magnitude", "30d", "descriptive"),
        (["a", "b"], "overall_score", "2w", "period"),
        (["a@steps", "b"], "overall_score", "30d", "KEY=VALUE"),
    ],
)
def test_bad_requests_are_refused_before_any_work(seeded, models, metric, period, match):
    with pytest.raises(ValidationError, match=match):
        compare_models(seeded.analytics, models, metric=metric, period=period)


def test_selector_syntax():
    assert parse_selector("tiny-t2v@num_inference_steps=8@seed=3") == (
        "tiny-t2v",
        {"num_inference_steps": "8", "seed": "3"},
    )
