"""Is one model really better than another? Two-sided tests on per-video values, effect sizes with bootstrap CIs.

The test follows the design of the data:

- **paired** when the two models were run on shared work items (the same prompt and seed): the
  Wilcoxon signed-rank test on the per-item differences (``scipy.stats.wilcoxon``; exact for small n,
  zero differences handled with Pratt's method); the effect is the mean difference (a - b) and the
  matched-pairs rank-biserial correlation;
- **unpaired** otherwise: the Mann-Whitney U test (``scipy.stats.mannwhitneyu``); the effect is the
  difference of means and the rank-biserial correlation (2U / (n_a n_b) - 1, Cliff's delta).

Effect sizes carry a 95% percentile bootstrap CI (``scipy.stats.bootstrap``, seeded; resampling the
pairs together when paired). More than two models: every pair is tested and the p-values are
adjusted with Holm's step-down method, which controls the family-wise error rate without assuming
independence. Values that make a test meaningless (fewer than two per side, every difference zero)
give the reason instead of a number, except that all-zero paired differences are p = 1 (no
evidence of any difference at all).
"""

from __future__ import annotations

from typing import Any

import numpy as np

ALPHA = 0.05
CONFIDENCE = 0.95
MIN_PAIRS = 2  # fewer shared items than this: the unpaired test on everything each model has


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm (1979) step-down adjusted p-values, in the input's order; None stays None and is not counted."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))  # monotone: never below a smaller p's adjustment
        adjusted[i] = running
    return adjusted


def _bootstrap_ci(
    data: tuple[np.ndarray, ...], statistic, paired: bool, resamples: int, seed: int
) -> list[float] | None:
    from scipy.stats import bootstrap

    if all(np.ptp(d) == 0 for d in data) and (paired or len(data) == 1):
        value = float(statistic(*data))
        return [value, value]  # nothing varies: every resample gives the same value
    result = bootstrap(
        data,
        statistic,
        paired=paired,
        vectorized=False,
        n_resamples=resamples,
        method="percentile",
        confidence_level=CONFIDENCE,
        random_state=np.random.default_rng(seed),
    )
    low, high = result.confidence_interval
    if not (np.isfinite(low) and np.isfinite(high)):
        return None
    return [float(low), float(high)]


def _rank_biserial_paired(a: np.ndarray, b: np.ndarray) -> float:
    """Matched-pairs rank-biserial correlation: (sum of ranks of positive - of negative differences) / total."""
    from scipy.stats import rankdata

    d = a - b
    d = d[d != 0]
    if d.size == 0:
        return 0.0
    ranks = rankdata(np.abs(d))
    return float((ranks[d > 0].sum() - ranks[d < 0].sum()) / ranks.sum())


def _rank_biserial_unpaired(a: np.ndarray, b: np.ndarray) -> float:
    """Cliff's delta: P(a > b) - P(a < b) over all cross pairs (= 2U/(n_a n_b) - 1)."""
    return float(np.sign(a[:, None] - b[None, :]).mean())


def compare_two(a: list[float], b: list[float], paired: bool, resamples: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Test model a against model b; ``paired`` means a[i] and b[i] come from the same prompt and seed."""
    from scipy.stats import mannwhitneyu, wilcoxon

    x, y = np.asarray(a, np.float64), np.asarray(b, np.float64)
    out: dict[str, Any] = {
        "test": "wilcoxon_signed_rank" if paired else "mann_whitney_u",
        "paired": paired,
        "n_a": int(x.size),
        "n_b": int(y.size),
        "p_value": None,
        "reason": None,
        "effect_size": None,
    }
    if paired and x.size != y.size:
        raise ValueError("paired samples must have the same length")
    if x.size < 2 or y.size < 2:
        out["reason"] = f"too few values to test (a: {x.size}, b: {y.size}; at least 2 each)"
        return out
    if paired:
        d = x - y
        out["n_pairs"] = int(x.size)
        if np.all(d == 0):
            out["p_value"] = 1.0
            out["reason"] = "every paired difference is zero"
        else:
            out["p_value"] = float(wilcoxon(x, y, zero_method="pratt", alternative="two-sided").pvalue)
        mean_diff = float(d.mean())
        diff_ci = _bootstrap_ci((d,), np.mean, paired=False, resamples=resamples, seed=seed)
        rb = _rank_biserial_paired(x, y)
        rb_ci = _bootstrap_ci((x, y), _rank_biserial_paired, paired=True, resamples=resamples, seed=seed)
        out["effect_size"] = {
            "mean_difference": mean_diff,
            "mean_difference_ci95": diff_ci,
            "rank_biserial": rb,
            "rank_biserial_ci95": rb_ci,
        }
    else:
        if np.ptp(np.concatenate([x, y])) == 0:
            out["p_value"] = 1.0
            out["reason"] = "every value is the same"
        else:
            out["p_value"] = float(mannwhitneyu(x, y, alternative="two-sided").pvalue)

        def mean_difference(u, v):
            return np.mean(u) - np.mean(v)

        out["effect_size"] = {
            "mean_difference": float(x.mean() - y.mean()),
            "mean_difference_ci95": _bootstrap_ci(
                (x, y), mean_difference, paired=False, resamples=resamples, seed=seed
            ),
            "rank_biserial": _rank_biserial_unpaired(x, y),
            "rank_biserial_ci95": _bootstrap_ci(
                (x, y), _rank_biserial_unpaired, paired=False, resamples=resamples, seed=seed
            ),
        }
    return out


def align(values_a: dict[Any, float], values_b: dict[Any, float]) -> tuple[list[float], list[float], bool]:
    """Two models' per-item values (keyed by work item, e.g. (prompt, seed)) as the samples to test.

    Paired over the shared items when there are at least MIN_PAIRS; otherwise every value of each, unpaired.
    """
    shared = sorted(set(values_a) & set(values_b), key=repr)
    if len(shared) >= MIN_PAIRS:
        return [values_a[k] for k in shared], [values_b[k] for k in shared], True
    return list(values_a.values()), list(values_b.values()), False


def compare_many(values: dict[str, dict[Any, float]], resamples: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """Every pair of models tested; with more than two models the p-values are Holm-adjusted across the pairs."""
    names = list(values)
    pairs = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            x, y, paired = align(values[a], values[b])
            pairs.append({"model_a": a, "model_b": b, **compare_two(x, y, paired, resamples, seed)})
    correction = "holm" if len(names) > 2 else "none"
    adjusted = holm([p["p_value"] for p in pairs]) if correction == "holm" else [p["p_value"] for p in pairs]
    for pair, p_adj in zip(pairs, adjusted, strict=True):
        pair["correction"] = correction
        pair["p_value_adjusted"] = p_adj
        pair["significant"] = None if p_adj is None else bool(p_adj < ALPHA)
    return pairs


def significance_report(
    values: dict[str, dict[Any, float]], higher_is_better: bool, resamples: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """Models ranked by their mean (with its 95% CI and n), every pair tested, and the headline: is the first
    model significantly better than the second (Holm-adjusted when more than two models are compared)?"""
    from app.metrics.statistics import mean_interval

    summary: dict[str, dict[str, Any]] = {}
    for name, items in values.items():
        data = list(items.values())
        if not data:
            summary[name] = {"mean": None, "ci95": None, "n": 0, "reason": "no values in the selection"}
            continue
        interval = mean_interval(data, resamples=resamples, seed=seed)
        summary[name] = {
            "mean": interval.mean,
            "n": len(data),
            "ci_method": interval.method,
            "ci95": None if interval.low is None else [interval.low, interval.high],
        }
    scored = [n for n in values if summary[n]["mean"] is not None]
    ranked = sorted(scored, key=lambda n: (-summary[n]["mean"] if higher_is_better else summary[n]["mean"], n))
    ranked += [n for n in values if n not in scored]
    pairs = compare_many({n: values[n] for n in scored}, resamples, seed) if len(scored) >= 2 else []
    headline: dict[str, Any] = {"p_value": None, "confidence_interval": CONFIDENCE, "significant": None, "alpha": ALPHA}
    if len(scored) >= 2:
        first, second = ranked[0], ranked[1]
        pair = next(p for p in pairs if {p["model_a"], p["model_b"]} == {first, second})
        headline.update(
            p_value=pair["p_value_adjusted"],
            p_value_unadjusted=pair["p_value"],
            significant=pair["significant"],
            test=pair["test"],
            paired=pair["paired"],
            correction=pair["correction"],
            compared=[first, second],
            reason=pair["reason"],
        )
    else:
        headline["reason"] = "fewer than two models have values to compare"
    return {"ranking": ranked, "summary": summary, "pairwise": pairs, "statistical_significance": headline}
