"""Quality controller: BBA-0, the buffer-based rate adaptation of Huang et al. (SIGCOMM 2014).

BBA chooses the next chunk's rate from the buffer occupancy alone. Below a *reservoir* it takes the lowest
rate; above reservoir + *cushion* the highest; in between a linear rate map f(B) gives a target, and the
rate only moves when f(B) passes the next rung up or down (BBA-0's rule), which is its hysteresis: a buffer
that wanders between two rungs keeps the current one. Here a "rate" is a rung of the quality ladder (rank 0
lowest), a chunk is a clip, and the buffer is counted in frames of the playback buffer.

``decide`` is a pure function of one observation, so it is tested on recorded sequences.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ControllerConfig:
    reservoir: float = 0.25  # share of the buffer below which the lowest rung is taken
    cushion: float = 0.5  # share of the buffer over which the rate map climbs from lowest to top


@dataclass(frozen=True)
class Observation:
    buffer_frames: float  # frames waiting for display when the next clip is chosen
    buffer_capacity: int
    level: int  # current ladder level, 0 = top quality
    levels: int


@dataclass(frozen=True)
class Decision:
    level: int
    reason: str | None  # why it changed; None when it did not


def rate_map(fill: float, levels: int, config: ControllerConfig) -> float:
    """f(B): the target rank (0 lowest .. levels-1 top) for a buffer filled to ``fill`` (0..1)."""
    if fill <= config.reservoir:
        return 0.0
    if fill >= config.reservoir + config.cushion:
        return float(levels - 1)
    return (fill - config.reservoir) / config.cushion * (levels - 1)


def decide(obs: Observation, config: ControllerConfig = ControllerConfig()) -> Decision:
    """The level of the next clip (BBA-0)."""
    if obs.levels <= 1:
        return Decision(0, None)
    top = obs.levels - 1
    rank = top - obs.level
    fill = obs.buffer_frames / obs.buffer_capacity
    target = rate_map(fill, obs.levels, config)
    where = f"buffer {obs.buffer_frames:g}/{obs.buffer_capacity} frames ({fill:.0%})"
    if fill < config.reservoir:
        new, why = 0, f"{where} below the reservoir ({config.reservoir:.0%})"
    elif fill >= config.reservoir + config.cushion:
        new, why = top, f"{where} above reservoir + cushion ({config.reservoir + config.cushion:.0%})"
    elif target >= rank + 1:
        new, why = math.ceil(target) - 1, f"{where}: rate map {target:.2f} passed the next rung up"
    elif target <= rank - 1:
        new, why = math.floor(target) + 1, f"{where}: rate map {target:.2f} passed the next rung down"
    else:
        new, why = rank, None
    level = top - new
    return Decision(level, why if level != obs.level else None)
