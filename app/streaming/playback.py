"""The playback buffer and the clock that drains it, as a pure model of measured arrival times.

Rules (docs/metrics.md, "Streaming"):
- playback starts when the first clip arrives; frame n (in generation order, every frame counted) is due
  at ``start + n / target_fps``: the clock never waits;
- a frame that arrives after its deadline is **dropped** (the one definition of a drop); a frame that
  arrives in time waits in the buffer and is displayed at its deadline;
- the buffer holds the frames that arrived and are not yet displayed; at most ``capacity``, so the
  generator waits for room before asking for a clip that would not fit.
Times are seconds on one monotonic clock; nothing here reads a clock.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

EPS = 1e-9


@dataclass(frozen=True)
class FrameTiming:
    index: int
    arrival_s: float
    deadline_s: float
    playback_s: float | None  # None when dropped
    dropped: bool


class Playback:
    def __init__(self, target_fps: float, capacity: int):
        self.fps = target_fps
        self.capacity = capacity
        self.start: float | None = None
        self.count = 0
        self._arrivals: list[float] = []  # of frames displayed (not dropped)
        self._deadlines: list[float] = []  # sorted, as frames arrive in order

    def arrive(self, at: float, frames: int) -> list[FrameTiming]:
        """A clip of ``frames`` became available at ``at``: which of its frames make their deadline."""
        if self.start is None:
            self.start = at
        out = []
        for _ in range(frames):
            deadline = self.start + self.count / self.fps
            dropped = at > deadline + EPS
            if not dropped:
                self._arrivals.append(at)
                self._deadlines.append(deadline)
            out.append(FrameTiming(self.count, at, deadline, None if dropped else deadline, dropped))
            self.count += 1
        return out

    def occupancy(self, at: float) -> int:
        """Frames in the buffer at ``at`` (arrived, displayed later than ``at``); ``at`` >= the last arrival."""
        return len(self._deadlines) - bisect.bisect_right(self._deadlines, at + EPS)

    def room_at(self, at: float, frames: int) -> float:
        """The earliest time >= ``at`` when ``frames`` more fit in the buffer (the clock makes room)."""
        waiting = self._deadlines[bisect.bisect_right(self._deadlines, at + EPS) :]
        excess = len(waiting) - (self.capacity - frames)
        return at if excess <= 0 else waiting[excess - 1]

    def end(self) -> float | None:
        """When the last frame is displayed (or the last clip arrived, if every frame was dropped)."""
        if self.start is None:
            return None
        return max(
            self._deadlines[-1] if self._deadlines else self.start, self._arrivals[-1] if self._arrivals else self.start
        )

    def utilization(self, until: float | None = None) -> float | None:
        """Time-average of occupancy / capacity from the start of playback to ``until`` (default: the end)."""
        end = self.end() if until is None else until
        if self.start is None or end is None or end <= self.start:
            return None
        held = sum(
            max(0.0, min(d, end) - max(a, self.start)) for a, d in zip(self._arrivals, self._deadlines, strict=True)
        )
        return held / (self.capacity * (end - self.start))
