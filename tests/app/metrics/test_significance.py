"""Significance tests on constructed samples with known answers (the seeded-database cases are in
tests/app/analytics)."""

import numpy as np
import pytest
from scipy.stats import mannwhitneyu, wilcoxon

from app.metrics.significance import align, compare_many, compare_two, holm


def test_holm_matches_the_textbook_example():
    # Holm 1979 step-down: sorted p * (m - rank), made monotone, capped at 1; order of the input kept
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.02, None, 0.04]) == [pytest.approx(0.04), None, pytest.approx(0.04)]
    assert holm([0.6, 0.7]) == [1.0, 1.0]


def test_paired_identical_samples_have_p_one_and_zero_effect():
    values = [0.8, 0.7, 0.9, 0.75, 0.85]
    out = compare_two(values, list(values), paired=True, resamples=200)
    assert out["p_value"] == 1.0 and out["reason"] == "every paired difference is zero"
    assert out["effect_size"]["mean_difference"] == 0.0 and out["effect_size"]["mean_difference_ci95"] == [0, 0]


def test_paired_shift_is_significant_and_agrees_with_scipy():
    rng = np.random.default_rng(1)
    base = rng.normal(size=10)
    shifted = base + 1.0 + rng.normal(scale=0.1, size=10)
    out = compare_two(shifted.tolist(), base.tolist(), paired=True, resamples=500)
    assert out["p_value"] == pytest.approx(wilcoxon(shifted, base).pvalue) and out["p_value"] < 0.01
    low, high = out["effect_size"]["mean_difference_ci95"]
    assert low < out["effect_size"]["mean_difference"] < high and low > 0.5
    assert out["effect_size"]["rank_biserial"] == 1.0  # every difference positive


def test_unpaired_uses_mann_whitney():
    a, b = [1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0, 9.0]
    out = compare_two(a, b, paired=False, resamples=200)
    assert out["test"] == "mann_whitney_u"
    assert out["p_value"] == pytest.approx(mannwhitneyu(a, b).pvalue)
    assert out["effect_size"]["rank_biserial"] == -1.0  # every a below every b


def test_too_few_values_give_a_reason_not_a_number():
    out = compare_two([1.0], [2.0, 3.0], paired=False)
    assert out["p_value"] is None and "too few" in out["reason"]


def test_align_pairs_on_shared_items_only_when_enough():
    paired = align({("p", 0): 1.0, ("p", 1): 2.0, ("q", 0): 3.0}, {("p", 0): 1.5, ("p", 1): 2.5})
    assert paired == ([1.0, 2.0], [1.5, 2.5], True)
    assert align({("p", 0): 1.0, ("x", 1): 2.0}, {("p", 0): 1.5, ("y", 1): 2.5})[2] is False


def test_more_than_two_models_are_holm_adjusted():
    items = {(f"prompt {i}", 0): float(i) for i in range(8)}
    pairs = compare_many({"a": items, "b": {k: v + 5 for k, v in items.items()}, "c": dict(items)}, resamples=200)
    assert len(pairs) == 3 and {p["correction"] for p in pairs} == {"holm"}
    raw = [p["p_value"] for p in pairs]
    assert [p["p_value_adjusted"] for p in pairs] == pytest.approx(holm(raw))
    by_pair = {(p["model_a"], p["model_b"]): p for p in pairs}
    assert by_pair["a", "c"]["p_value_adjusted"] == 1.0 and not by_pair["a", "c"]["significant"]
    assert by_pair["a", "b"]["significant"] and by_pair["a", "b"]["p_value_adjusted"] > by_pair["a", "b"]["p_value"]
    two = compare_many({"a": items, "b": {k: v + 5 for k, v in items.items()}}, resamples=200)
    assert two[0]["correction"] == "none" and two[0]["p_value_adjusted"] == two[0]["p_value"]
