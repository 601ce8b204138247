import numpy as np
import pytest

from app.metrics.overall import overall_score
from app.metrics.registry import METRICS
from app.metrics.statistics import SMALL_N, bca, mean_interval, student_t, wilson

DIRECTIONS = {name: spec.higher_is_better for name, spec in METRICS.items()}
LOGNORMAL_MEAN = np.exp(0.5)  # mean of exp(N(0, 1))


def _coverage_of_means(draw, true_mean: float, n: int, repeats: int, seed: int) -> tuple[float, str]:
    """Share of simulated samples whose interval (the method mean_interval picks at this n) holds the true mean."""
    data = draw(np.random.default_rng(seed), (repeats, n))
    if n < SMALL_N:
        low, high, method = *student_t(data), "student_t"
    else:
        low, high, method = *bca(data, resamples=999, seed=seed), "bca_bootstrap"
    return float(np.mean((low <= true_mean) & (true_mean <= high))), method


def _coverage_of_proportion(p: float, n: int) -> float:
    """Exact coverage of the Wilson interval for Bernoulli(p): the binomial probability of the counts it covers."""
    from scipy.stats import binom

    counts = np.arange(n + 1)
    low, high = wilson(counts, n)
    return float(binom.pmf(counts, n, p)[(low <= p) & (p <= high)].sum())


def coverage_table() -> list[tuple[str, int, str, float]]:
    """(distribution, n, method, coverage of the nominal 95% interval); the table in docs/metrics.md."""
    rows = []
    for n, repeats in ((8, 20000), (30, 1000)):  # BCa resamples every data set: fewer repeats keep this fast
        coverage, method = _coverage_of_means(lambda rng, size: rng.normal(0.0, 1.0, size), 0.0, n, repeats, 1)
        rows.append(("normal(0, 1)", n, method, coverage))
        coverage, method = _coverage_of_means(
            lambda rng, size: rng.lognormal(0.0, 1.0, size), LOGNORMAL_MEAN, n, repeats, 2
        )
        rows.append(("lognormal(0, 1)", n, method, coverage))
        rows.append(("Bernoulli(0.8)", n, "wilson (exact)", _coverage_of_proportion(0.8, n)))
    return rows


def test_intervals_cover_the_true_mean():
    table = {(dist, n): coverage for dist, n, _, coverage in coverage_table()}
    assert table[("normal(0, 1)", 8)] >= 0.94  # Student-t is exact for normal data; 20000 repeats: SE 0.15%
    assert table[("normal(0, 1)", 30)] >= 0.92  # BCa; 1000 repeats: SE about 0.7%
    assert table[("Bernoulli(0.8)", 8)] >= 0.93 and table[("Bernoulli(0.8)", 30)] >= 0.93
    assert table[("lognormal(0, 1)", 8)] >= 0.80 and table[("lognormal(0, 1)", 30)] >= 0.85  # skew: below nominal


def test_mean_interval_picks_the_method_and_says_which():
    rng = np.random.default_rng(0)
    small = list(rng.normal(10, 2, 8))
    interval = mean_interval(small)
    assert interval.method == "student_t" and interval.details(0.95, 1000, 0) == {
        "ci_method": "student_t",
        "confidence": 0.95,
    }
    assert (interval.low, interval.high) == pytest.approx(tuple(v.item() for v in student_t(np.asarray(small))))
    large = list(rng.normal(10, 2, 50))
    a = mean_interval(large, resamples=1000, seed=7)
    assert a == mean_interval(large, resamples=1000, seed=7) and a.method == "bca_bootstrap"  # seeded
    assert a.low < a.mean < a.high
    assert (a.high - a.low) / 2 == pytest.approx(1.96 * np.std(large, ddof=1) / np.sqrt(50), rel=0.2)
    share = mean_interval([1.0] * 6 + [0.0] * 2, binary=True)
    assert share.method == "wilson" and share.mean == 0.75
    assert (share.low, share.high) == pytest.approx((0.4093, 0.9285), abs=1e-4)  # Wilson 1927 for 6 of 8


def test_degenerate_samples():
    assert mean_interval([3.0]) == mean_interval([3.0], binary=True)
    assert mean_interval([3.0]).low is None and mean_interval([3.0]).method == "none"
    flat = mean_interval([2.0] * 40)
    assert (flat.low, flat.mean, flat.high) == (2.0, 2.0, 2.0)
    all_moving = mean_interval([1.0] * 8, binary=True)
    assert all_moving.high == pytest.approx(1.0) and all_moving.low == pytest.approx(0.6756, abs=1e-4)


def test_overall_score_uses_available_metrics_only():
    assert overall_score({}, DIRECTIONS)["value"] is None
    only_tc = overall_score({"temporal_consistency": 0.75, "fvd": None}, DIRECTIONS)
    assert only_tc["value"] == pytest.approx(50.0) and only_tc["used"] == ["temporal_consistency"]
    both = overall_score({"temporal_consistency": 1.0, "fvd": 1000.0}, DIRECTIONS)  # best consistency, worst FVD
    assert both["value"] == pytest.approx(100 * 0.30 / 0.55)
    assert overall_score({"clip_similarity": 0.9}, DIRECTIONS)["value"] == 100.0  # clipped at the top


if __name__ == "__main__":  # prints the coverage table for docs/metrics.md
    for dist, n, method, coverage in coverage_table():
        print(f"| {dist} | {n} | {method} | {100 * coverage:.1f}% |")
