"""The released noise follows its law (Kolmogorov-Smirnov), and neighbouring datasets give output probabilities
within e^epsilon (+ delta), checked empirically on the participant's own release function (OpenDP inside)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from app.errors import ValidationError
from app.federated import privacy

BOUNDS = (0.0, 1.0)
DATA = [0.1, 0.9, 0.35, 0.6, 1.7, -0.2]  # the last two lie outside the bounds: clamped before release
CLAMPED_MEAN = float(np.mean(np.clip(DATA, *BOUNDS)))


def noises(mechanism: str, share: privacy.Share, draws: int, data=DATA) -> tuple[np.ndarray, float]:
    """``draws`` releases of the mean of ``data`` minus its clamped mean: the added noise, and its scale."""
    out = [privacy.release(data, BOUNDS, "mean", mechanism, share) for _ in range(draws)]
    assert all(r["spent"] and r["n"] == len(data) for r in out)
    return np.array([r["value"] for r in out]) - float(np.mean(np.clip(data, *BOUNDS))), out[0]["scale"]


def test_laplace_noise_follows_laplace_at_the_calibrated_scale():
    share = privacy.split_budget(1.0, None, 4)  # epsilon 0.25 per release
    noise, scale = noises("laplace", share, 800)
    # sensitivity of the clamped mean of 6 values: 1/6; b = sensitivity / epsilon (OpenDP adds float slack only)
    assert scale == pytest.approx((1 / 6) / 0.25, rel=1e-6)
    assert stats.kstest(noise, stats.laplace(scale=scale).cdf).pvalue > 0.001
    wrong = stats.kstest(noise, stats.laplace(scale=scale / 2).cdf).pvalue  # the test can fail
    assert wrong < 1e-6


@pytest.mark.slow  # 2000 releases through OpenDP's exact Gaussian sampler
def test_gaussian_noise_follows_the_normal_law_at_the_calibrated_scale():
    share = privacy.split_budget(1.0, 1e-5, 2)
    noise, scale = noises("gaussian", share, 2000)
    assert stats.kstest(noise, stats.norm(scale=scale).cdf).pvalue > 0.001
    assert stats.kstest(noise, stats.norm(scale=scale * 0.6).cdf).pvalue < 1e-6
    epsilon, delta = privacy.privacy_loss(len(DATA), BOUNDS, "mean", "gaussian", scale, share.delta)
    assert epsilon <= share.epsilon * (1 + 1e-9) and delta <= share.delta


def test_budget_split_never_sums_past_the_total():
    for total, releases in [(1.0, 3), (0.1, 7), (2.5, 96), (1e-3, 1000)]:
        share = privacy.split_budget(total, 1e-5, releases)
        assert share.epsilon_units * releases <= privacy.epsilon_units(total)
        assert share.delta_units * releases <= privacy.delta_units(1e-5)
    with pytest.raises(ValidationError):
        privacy.split_budget(1e-12, None, 10)


def test_statistics_need_enough_videos_and_spend_nothing_without_them():
    share = privacy.split_budget(1.0, None, 2)
    out = privacy.release([0.5], BOUNDS, "variance", "laplace", share)
    assert out["value"] is None and not out["spent"] and "2 video" in out["reason"]


def test_the_coordinator_refuses_a_scale_below_the_calibrated_one():
    share = privacy.split_budget(1.0, None, 2)
    good = privacy.release(DATA, BOUNDS, "mean", "laplace", share)
    privacy.check_declared(good, BOUNDS, "mean", "laplace", share)
    with pytest.raises(ValidationError, match="below"):
        privacy.check_declared({**good, "scale": good["scale"] * 0.9}, BOUNDS, "mean", "laplace", share)
    with pytest.raises(ValidationError, match="share"):
        privacy.check_declared({**good, "epsilon_units": good["epsilon_units"] * 2}, BOUNDS, "mean", "laplace", share)


def worst_ratio(a: np.ndarray, b: np.ndarray, bins: np.ndarray, delta: float, alpha: float) -> float:
    """Largest (lower confidence bound of P[M(D) in S] - delta) / (upper bound of P[M(D') in S]) over the bins S,
    both directions; Clopper-Pearson bounds at level alpha / (2 x bins) each (Bonferroni), so the whole check
    errs with probability at most alpha when the mechanism is private."""
    level = alpha / (2 * 2 * (len(bins) - 1))
    worst = 0.0
    for x, y in ((a, b), (b, a)):
        cx, _ = np.histogram(x, bins)
        cy, _ = np.histogram(y, bins)
        for kx, ky in zip(cx, cy, strict=True):
            low = stats.beta.ppf(level, kx, len(x) - kx + 1) if kx else 0.0
            high = stats.beta.ppf(1 - level, ky + 1, len(y) - ky) if ky < len(y) else 1.0
            worst = max(worst, (low - delta) / high)
    return worst


@pytest.mark.slow  # 2 x 6000 OpenDP releases per mechanism
@pytest.mark.parametrize(("mechanism", "delta"), [("laplace", None), ("gaussian", 1e-3)])
def test_neighbouring_datasets_stay_within_e_to_the_epsilon(mechanism, delta):
    """D and D' differ in one video's value, moved by the whole clipping range (the worst case). With 6000
    releases each, and bins holding enough mass, the estimated probability ratio stays below e^epsilon: the
    check's stated tolerance is its confidence level (alpha = 1e-3, Clopper-Pearson, Bonferroni over bins).
    A mechanism with a third of the calibrated noise fails the same check, so the check can fail."""
    share = privacy.split_budget(1.0, delta, 1)
    low, high = BOUNDS
    d = [0.5] * 4 + [low]
    d_prime = [0.5] * 4 + [high]
    draws = 6000
    a = np.array([privacy.release(d, BOUNDS, "mean", mechanism, share)["value"] for _ in range(draws)])
    b = np.array([privacy.release(d_prime, BOUNDS, "mean", mechanism, share)["value"] for _ in range(draws)])
    scale = privacy.calibrate(5, BOUNDS, "mean", mechanism, share.epsilon, share.delta)
    bins = np.linspace(0.4 - 2 * scale, 0.6 + 2 * scale, 11)
    assert worst_ratio(a, b, bins, share.delta, 1e-3) <= math.exp(share.epsilon)

    rng = np.random.default_rng(0)  # the control: the same means with a third of the noise
    sampler = rng.laplace if mechanism == "laplace" else rng.normal
    a_weak = np.mean(d) + sampler(0, scale / 3, draws)
    b_weak = np.mean(d_prime) + sampler(0, scale / 3, draws)
    assert worst_ratio(a_weak, b_weak, bins, share.delta, 1e-3) > math.exp(share.epsilon)
