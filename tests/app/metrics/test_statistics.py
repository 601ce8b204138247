import numpy as np
import pytest

from app.metrics.overall import overall_score
from app.metrics.registry import METRICS
from app.metrics.statistics import bootstrap_ci

DIRECTIONS = {name: spec.higher_is_better for name, spec in METRICS.items()}


def test_bootstrap_is_seeded_and_brackets_the_mean():
    values = list(np.random.default_rng(0).normal(10, 2, 50))
    a = bootstrap_ci(values, 1000, seed=7)
    assert a == bootstrap_ci(values, 1000, seed=7)
    mean, low, high = a
    assert low < mean < high
    # normal theory: half-width about 1.96 * 2 / sqrt(50) = 0.55
    assert (high - low) / 2 == pytest.approx(1.96 * np.std(values, ddof=1) / np.sqrt(50), rel=0.2)


def test_one_value_has_no_interval():
    assert bootstrap_ci([3.0]) == (3.0, None, None)


def test_overall_score_uses_available_metrics_only():
    assert overall_score({}, DIRECTIONS)["value"] is None
    only_tc = overall_score({"temporal_consistency": 0.75, "fvd": None}, DIRECTIONS)
    assert only_tc["value"] == pytest.approx(50.0) and only_tc["used"] == ["temporal_consistency"]
    both = overall_score({"temporal_consistency": 1.0, "fvd": 1000.0}, DIRECTIONS)  # best consistency, worst FVD
    assert both["value"] == pytest.approx(100 * 0.30 / 0.55)
    assert overall_score({"clip_similarity": 0.9}, DIRECTIONS)["value"] == 100.0  # clipped at the top
