"""overall_score: one number from the available quality metrics.

Each metric is min-max normalised with the fixed constants below (clipped to
[0, 1], flipped when lower is better), then combined with the weights below,
renormalised over the metrics that are available, and scaled to 0-100. The
result says which metrics it used; with none available it is null. The
constants are published here and in docs/metrics.md so scores are comparable
across runs and versions; changing them is a versioned change (OVERALL_VERSION).
"""

from __future__ import annotations

from collections.abc import Mapping

from app.metrics.spec import MetricSpec, SetAggregate, SetContext

OVERALL_VERSION = "1"

# metric: (low, high, weight). low/high are the values mapped to 0 and 1 before direction.
NORMALISATION: dict[str, tuple[float, float, float]] = {
    "clip_similarity": (0.15, 0.40, 0.30),
    "temporal_consistency": (0.50, 1.00, 0.30),
    "fvd": (0.0, 1000.0, 0.25),
    "inception_score": (1.0, 50.0, 0.15),
}


def overall_score(values: Mapping[str, float | None], higher_is_better: Mapping[str, bool | None]) -> dict:
    used, total, weight_sum = [], 0.0, 0.0
    for name, (low, high, weight) in NORMALISATION.items():
        value = values.get(name)
        if value is None:
            continue
        unit = min(1.0, max(0.0, (value - low) / (high - low)))
        higher = higher_is_better[name]
        if higher is None:  # every normalised metric is a quality metric with a direction
            raise ValueError(f"{name} is descriptive: it has no direction to normalise by")
        if not higher:
            unit = 1.0 - unit
        total += weight * unit
        weight_sum += weight
        used.append(name)
    if not used:
        return {"value": None, "reason": "no quality metric available", "used": [], "version": OVERALL_VERSION}
    return {"value": 100.0 * total / weight_sum, "used": used, "version": OVERALL_VERSION}


def _overall_of_set(context: SetContext) -> SetAggregate:
    result = overall_score(context.earlier, context.higher_is_better)
    return SetAggregate(
        result["value"], reason=result.get("reason"), details={"used": result["used"], "version": result["version"]}
    )


SPECS = [
    MetricSpec(
        "overall_score",
        True,
        "set",
        "set",
        None,
        "score 0-100",
        "Weighted combination of normalised available metrics (docs/metrics.md)",
        aggregate_set=_overall_of_set,
    ),
]
