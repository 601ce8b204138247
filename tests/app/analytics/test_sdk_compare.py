"""The SDK's compare_models (app.bench.compare) gains the same statistics as the Analytics API."""

import pytest

from app.bench.compare import compare_models
from app.bench.results import load_result

pytestmark = pytest.mark.slow  # the seeded database runs real tiny benchmarks


def test_sdk_comparison_tests_per_video_figures(seeded):
    results = {
        "one_step": load_result(seeded.repo, seeded.ids["t2v_1step_a"]),
        "one_step_again": load_result(seeded.repo, seeded.ids["t2v_1step_b"]),
        "eight_steps": load_result(seeded.repo, seeded.ids["t2v_8step"]),
    }
    report = compare_models(results, rank_by="temporal_consistency", resamples=200)
    headline = report["statistical_significance"]
    assert headline["correction"] == "holm" and headline["paired"]
    by_pair = {
        frozenset((p["model_a"], p["model_b"])): p
        for p in report["significance_by_metric"]["temporal_consistency"]["pairwise"]
    }
    assert by_pair[frozenset(("one_step", "one_step_again"))]["p_value_adjusted"] == 1.0
    assert by_pair[frozenset(("one_step", "eight_steps"))]["p_value"] < 0.05
    assert {"latency_ms", "consecutive_ssim"} <= set(report["significance_by_metric"])
    # the default ranking figure is set-level: no test from one run each, and the reason says so
    default = compare_models(results, resamples=200)["statistical_significance"]
    assert default["p_value"] is None and "set-level" in default["reason"]
