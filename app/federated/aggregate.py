"""The published aggregate: per task and metric, the participants' released means weighted by their videos.

For participant p with n_p videos, released mean m_p (noise variance s_p^2 known from the published scale)
and released variance v_p (clamped to [0, (high-low)^2 / 4], the largest a bounded variable can have), the
aggregate is M = sum(n_p m_p) / N and its variance is estimated as

    Var(M) = sum((n_p / N)^2 * (v_p / n_p + s_p^2)),

sampling error and privacy noise together; the 95% interval is M +- 1.96 sqrt(Var(M)) (normal approximation).
A participant whose variance could not be released (one video) counts with the largest variance.
The aggregate is post-processing of DP releases: it spends no budget.
"""

from __future__ import annotations

import math
from typing import Any

Z95 = 1.959963984540054


def aggregate_task(
    task: dict[str, Any],
    releases: list[tuple[str, int, dict[str, Any]]],
    bounds: dict[str, tuple[float, float]],
    noisy: bool,
) -> dict[str, Any]:
    """One task's figures from ``releases`` [(participant_id, n_videos, release)]."""
    metrics: dict[str, dict[str, Any]] = {}
    for metric, (low, high) in bounds.items():
        worst = (high - low) ** 2 / 4
        parts = []
        for participant, _, release in releases:
            stats = release.get(metric) or {}
            mean, variance = stats.get("mean") or {}, stats.get("variance") or {}
            if mean.get("value") is None:
                continue
            var = variance.get("value")
            var = worst if var is None else (min(max(var, 0.0), worst) if noisy else max(var, 0.0))
            parts.append(
                (
                    participant,
                    int(mean["n"]),
                    float(mean["value"]),
                    var,
                    float(mean.get("noise_variance") or 0.0),
                    mean.get("scale"),
                )
            )
        if not parts:
            metrics[metric] = {
                "value": None,
                "ci95": None,
                "participants": 0,
                "videos": 0,
                "reason": "no participant released a value for this metric",
            }
            continue
        total = sum(n for _, n, *_ in parts)
        value = sum(n * m for _, n, m, *_ in parts) / total
        sampling = sum((n / total) ** 2 * v / n for _, n, _, v, _, _ in parts)
        noise = sum((n / total) ** 2 * s2 for _, n, _, _, s2, _ in parts)
        half = Z95 * math.sqrt(sampling + noise)
        metrics[metric] = {
            "value": value,
            "ci95": [value - half, value + half],
            "participants": len(parts),
            "videos": total,
            "sampling_sd": math.sqrt(sampling),
            "noise_sd": math.sqrt(noise),
            "noise_scale": {participant: scale for participant, *_, scale in parts},
            "clip_bounds": [low, high],
        }
    return {
        **task,
        "participants": sorted({p for p, _, _ in releases}),
        "videos": {p: n for p, n, _ in releases},
        "metrics": metrics,
    }
