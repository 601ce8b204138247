"""Recorded generation times and a virtual clock, to drive app.streaming.session without a model.

Seconds per clip of tiny-t2v on this project's 2-core CPU machine (one torch thread), measured with
VideoEngine.generate (4 steps): 64x64x16 3.146 s, 64x64x8 1.521 s, 32x32x8 0.339 s, 32x32x2 0.130 s; the
ladder's 64x64x11 (2.1 s) and 32x32x7 (0.30 s) are interpolated between neighbours. A load factor per clip
replays a machine that slows down (other work arriving) or speeds up. The numbers are inputs, not claims:
the tests check the controller's decisions on them, never a timing.
"""

from __future__ import annotations

from app.streaming.ladder import Rung

CLIP_SECONDS = {(64, 16): 3.146, (64, 11): 2.1, (32, 7): 0.30, (32, 2): 0.13}
LADDER = [Rung(0, 64, 64, 16, 1.0), Rung(1, 64, 64, 11, 1.0), Rung(2, 32, 32, 7, 0.25), Rung(3, 32, 32, 2, 0.25)]


class Replay:
    """A virtual clock and a clip generator that advances it by the recorded time of each clip."""

    def __init__(self, load: list[float] | float = 1.0, seconds: dict | None = None):
        self.now = 0.0
        self.load = load
        self.seconds = seconds or CLIP_SECONDS
        self.clips = 0
        self.stored: list[tuple[dict, list, list]] = []

    def clock(self) -> float:
        return self.now

    def wait(self, seconds: float) -> None:
        self.now += seconds

    def generate(self, prompt: str, rung: Rung, seed: int) -> dict:
        factor = self.load if isinstance(self.load, float) else self.load[min(self.clips, len(self.load) - 1)]
        self.now += self.seconds[(rung.width, rung.num_frames)] * factor
        self.clips += 1
        return {"num_frames": rung.num_frames, "width": rung.width, "height": rung.height, "frame_by_frame": False}

    def sink(self, clip: dict, frames: list, events: list) -> None:
        self.stored.append((clip, frames, events))

    def events(self) -> list[tuple[str, dict]]:
        return [event for _, _, events in self.stored for event in events]
