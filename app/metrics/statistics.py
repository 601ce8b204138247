"""Uncertainty of aggregates: seeded percentile bootstrap confidence intervals."""

from __future__ import annotations

import numpy as np


def bootstrap_ci(values: list[float], resamples: int = 1000, seed: int = 0,
                 confidence: float = 0.95) -> tuple[float, float | None, float | None]:
    """(mean, low, high) of the mean. With fewer than 2 values the interval is unknown (None)."""
    data = np.asarray([v for v in values if v is not None], dtype=np.float64)
    if data.size == 0:
        raise ValueError("no values to aggregate")
    mean = float(data.mean())
    if data.size < 2:
        return mean, None, None
    rng = np.random.default_rng(seed)  # seeded resampling: the interval is reproducible
    idx = rng.integers(0, data.size, size=(resamples, data.size))
    means = data[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2.0
    return mean, float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))
