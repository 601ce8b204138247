"""Differentially private per-task releases, built with OpenDP (its exact samplers and its accounting).

A participant releases, per task and metric, the mean and the variance of its per-video values, each clamped
to the session's published bounds, with noise calibrated by OpenDP for the share of the budget the release
spends. The budget is split by sequential composition: each participant has (epsilon, delta) for the session;
with T tasks, M metrics and two statistics, each release spends epsilon / (2TM) (and delta / (2TM)).
Budgets are counted in integer units (EPSILON_UNIT, DELTA_UNIT) so that no sum of shares exceeds the total by
rounding, on any database. docs/federated.md states the model, the neighbouring relation and the bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import numpy as np

from app.errors import ValidationError

EPSILON_UNIT = 1e-12
DELTA_UNIT = 1e-18
D_IN = 2
"""Symmetric distance between two datasets of the same size that differ in one video's value (one replaced)."""
Statistic = Literal["mean", "variance"]
Mechanism = Literal["laplace", "gaussian"]


def _dp():
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


def epsilon_units(epsilon: float) -> int:
    return int(math.floor(epsilon / EPSILON_UNIT + 1e-6))


def delta_units(delta: float | None) -> int:
    return 0 if not delta else int(math.floor(delta / DELTA_UNIT + 1e-6))


@dataclass(frozen=True)
class Share:
    """What one release may spend, in ledger units and as the floats OpenDP calibrates to."""

    epsilon_units: int
    delta_units: int

    @property
    def epsilon(self) -> float:
        return self.epsilon_units * EPSILON_UNIT

    @property
    def delta(self) -> float:
        return self.delta_units * DELTA_UNIT


def split_budget(epsilon: float, delta: float | None, releases: int) -> Share:
    """Sequential composition: each of ``releases`` releases gets floor(total / releases) units."""
    if releases < 1:
        raise ValidationError("A session releases at least one statistic", {"releases": releases})
    share = Share(epsilon_units(epsilon) // releases, delta_units(delta) // releases)
    if share.epsilon_units == 0 or (delta and share.delta_units == 0):
        raise ValidationError(
            f"The budget split over {releases} releases leaves nothing per release",
            {"epsilon": epsilon, "delta": delta, "releases": releases},
        )
    return share


@lru_cache(maxsize=1024)  # a measurement is immutable: one per (size, bounds, statistic, mechanism, scale, delta)
def _measurement(
    n: int, bounds: tuple[float, float], statistic: Statistic, mechanism: Mechanism, scale: float, delta: float
):
    dp = _dp()
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False), size=n), dp.symmetric_distance()
    chain = space >> dp.t.then_clamp(bounds) >> (dp.t.then_mean() if statistic == "mean" else dp.t.then_variance())
    if mechanism == "laplace":
        return chain >> dp.m.then_laplace(scale)
    return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(chain >> dp.m.then_gaussian(scale)), delta)


@lru_cache(maxsize=4096)
def calibrate(
    n: int, bounds: tuple[float, float], statistic: Statistic, mechanism: Mechanism, epsilon: float, delta: float
) -> float:
    """The smallest noise scale whose OpenDP privacy map, for one changed video, stays within (epsilon, delta).

    Laplace: OpenDP's binary search on the scale. Gaussian: the same search on a predicate, bracketed around the
    Laplace scale, where a scale so small that OpenDP's conversion overflows counts as not private enough.
    """
    dp = _dp()
    laplace = float(
        dp.binary_search_param(
            lambda s: _measurement(n, bounds, statistic, "laplace", s, 0.0), d_in=D_IN, d_out=epsilon, T=float
        )
    )
    if mechanism == "laplace":
        return laplace

    def private_enough(scale: float) -> bool:
        try:
            loss = _measurement(n, bounds, statistic, "gaussian", scale, delta).map(D_IN)
        except Exception:  # noqa: BLE001 - OpenDP refuses (overflow) only far below any admissible scale
            return False
        return loss[0] <= epsilon and loss[1] <= delta

    return float(dp.binary_search(private_enough, bounds=(laplace * 1e-3, laplace * 1e3), T=float))


@lru_cache(maxsize=1024)
def privacy_loss(
    n: int, bounds: tuple[float, float], statistic: Statistic, mechanism: Mechanism, scale: float, delta: float
) -> tuple[float, float]:
    """(epsilon, delta) that OpenDP's accounting assigns to a release at ``scale``."""
    loss = _measurement(n, bounds, statistic, mechanism, scale, delta).map(D_IN)
    return (float(loss), 0.0) if mechanism == "laplace" else (float(loss[0]), float(loss[1]))


def noise_variance(mechanism: Mechanism, scale: float) -> float:
    """Variance of the added noise: 2b^2 for Laplace(b), sigma^2 for Gaussian(sigma)."""
    return 2 * scale**2 if mechanism == "laplace" else scale**2


def min_videos(statistic: Statistic) -> int:
    return 1 if statistic == "mean" else 2


def release(
    values: list[float],
    bounds: tuple[float, float],
    statistic: Statistic,
    mechanism: Mechanism | None,
    share: Share | None,
) -> dict[str, Any]:
    """One statistic of one metric of one task, as the participant releases it.

    ``mechanism`` None (privacy level ``none``): the exact statistic of the unclamped values. Otherwise the
    clamped statistic plus OpenDP noise at the calibrated scale. A statistic that needs more videos than there
    are is null with the reason, and spends nothing (``spent`` False).
    """
    n = len(values)
    if n < min_videos(statistic):
        return {
            "value": None,
            "n": n,
            "spent": False,
            "reason": f"{statistic} needs at least {min_videos(statistic)} video(s) with a value; {n} had one",
        }
    if mechanism is None:
        data = np.asarray(values, dtype=float)
        value = float(data.mean()) if statistic == "mean" else float(data.var(ddof=1))
        return {"value": value, "n": n, "spent": False, "mechanism": None, "scale": 0.0, "noise_variance": 0.0}
    if share is None:
        raise ValueError(f"A release with the {mechanism} mechanism needs the share of the budget it spends")
    scale = calibrate(n, bounds, statistic, mechanism, share.epsilon, share.delta)
    noisy = _measurement(n, bounds, statistic, mechanism, scale, share.delta)([float(v) for v in values])
    epsilon, delta = privacy_loss(n, bounds, statistic, mechanism, scale, share.delta)
    return {
        "value": float(noisy),
        "n": n,
        "spent": True,
        "mechanism": mechanism,
        "scale": scale,
        "noise_variance": noise_variance(mechanism, scale),
        "epsilon": epsilon,
        "delta": delta,
        "epsilon_units": share.epsilon_units,
        "delta_units": share.delta_units,
    }


def check_declared(
    item: dict[str, Any],
    bounds: tuple[float, float],
    statistic: Statistic,
    mechanism: Mechanism | None,
    share: Share | None,
) -> None:
    """The coordinator's check of a declared release: the share the session allots, and a noise scale at least
    the one OpenDP calibrates for it (so a participant cannot under-noise and still claim the share)."""
    if item.get("value") is None:
        if item.get("spent"):
            raise ValidationError("A null release spends no budget", {"release": item})
        return
    if mechanism is None:
        if item.get("mechanism") is not None:
            raise ValidationError("The session adds no noise (privacy_level 'none')", {"release": item})
        return
    if item.get("mechanism") != mechanism or not item.get("spent"):
        raise ValidationError(f"The session's releases use the {mechanism} mechanism", {"release": item})
    if share is None:
        raise ValueError(f"A session with the {mechanism} mechanism needs the share of the budget a release spends")
    if (item.get("epsilon_units"), item.get("delta_units")) != (share.epsilon_units, share.delta_units):
        raise ValidationError(
            "A release must spend exactly the session's per-release share",
            {"release": item, "share": {"epsilon_units": share.epsilon_units, "delta_units": share.delta_units}},
        )
    n = item.get("n")
    if not isinstance(n, int) or n < min_videos(statistic):
        raise ValidationError(f"A {statistic} release needs n >= {min_videos(statistic)}", {"release": item})
    needed = calibrate(n, bounds, statistic, mechanism, share.epsilon, share.delta)
    if not isinstance(item.get("scale"), float) or item["scale"] < needed * (1 - 1e-9):
        raise ValidationError(
            f"Noise scale {item.get('scale')} is below the {needed} the share requires",
            {"release": item, "required_scale": needed},
        )
