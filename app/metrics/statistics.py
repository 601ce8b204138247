"""Uncertainty of aggregates: 95% confidence intervals chosen for the sample size and the kind of value.

A percentile bootstrap undercovers at the sample sizes benchmarks use (about
87% for normal data at n=8), so:

- 0/1 per-video values (a proportion, e.g. dynamic_degree): Wilson score interval;
- means with n < ``SMALL_N``: Student-t interval;
- means with n >= ``SMALL_N``: BCa bootstrap (scipy.stats.bootstrap, seeded, so reproducible),
  which adapts to skew.

The functions work on a batch of samples at once (the last axis is the
sample), so the coverage test can simulate thousands of data sets quickly.
Measured coverage is in docs/metrics.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SMALL_N = 30  # below this many values, a mean's interval is Student-t; from it on, BCa bootstrap


@dataclass(frozen=True)
class Interval:
    """An aggregate: the mean (or proportion) with its confidence interval and the method that gave it."""

    mean: float
    low: float | None
    high: float | None
    method: str  # "student_t", "bca_bootstrap", "wilson", or "none" (fewer than 2 values)

    def details(self, confidence: float, resamples: int, seed: int) -> dict:
        out = {"ci_method": self.method, "confidence": confidence}
        if self.method == "bca_bootstrap":
            out.update(resamples=resamples, seed=seed)
        return out


def student_t(data: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Student-t interval of the mean for each sample along the last axis."""
    from scipy.stats import t

    n = data.shape[-1]
    half = t.ppf(0.5 + confidence / 2.0, n - 1) * data.std(axis=-1, ddof=1) / np.sqrt(n)
    mean = data.mean(axis=-1)
    return mean - half, mean + half


def wilson(successes: np.ndarray, n: int, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion (Wilson 1927), successes out of n trials."""
    from scipy.stats import norm

    z = norm.ppf(0.5 + confidence / 2.0)
    p = np.asarray(successes, np.float64) / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def bca(
    data: np.ndarray, resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """BCa bootstrap interval of the mean (scipy.stats.bootstrap) for each row of data [samples, n].

    A sample whose values are all equal has no spread to resample: its interval is the value itself.
    """
    from scipy.stats import bootstrap

    data = np.asarray(data, np.float64)
    flat = data.std(axis=-1) == 0
    low, high = data.mean(axis=-1), data.mean(axis=-1)
    if not flat.all():
        result = bootstrap(
            (data[~flat],),
            np.mean,
            axis=-1,
            vectorized=True,
            n_resamples=resamples,
            method="BCa",
            confidence_level=confidence,
            random_state=np.random.default_rng(seed),
        )
        low[~flat], high[~flat] = result.confidence_interval.low, result.confidence_interval.high
    return low, high


def mean_interval(
    values: Sequence[float | None], binary: bool = False, resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> Interval:
    """The mean of the values (None left out) and its interval; ``binary`` marks 0/1 values (a proportion: Wilson)."""
    data = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if data.size == 0:
        raise ValueError("no values to aggregate")
    mean = float(data.mean())
    if data.size < 2:
        return Interval(mean, None, None, "none")
    if binary:
        low, high = wilson(data.sum(), data.size, confidence)
        method = "wilson"
    elif data.size < SMALL_N:
        low, high = student_t(data, confidence)
        method = "student_t"
    else:
        [low], [high] = bca(data[None], resamples, seed, confidence)
        method = "bca_bootstrap"
    return Interval(mean, float(low), float(high), method)
