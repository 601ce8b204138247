"""The streaming loops, over any clip generator (a Ray actor in production, anything callable in tests).

Live, read top to bottom:
  1. choose the rung (fixed: the top; adaptive: BBA-0 on the buffer after the last arrival);
  2. wait until the buffer has room for that clip (the playback clock makes room);
  3. ask for the clip and time it on this process's monotonic clock (request -> frames available);
  4. hand its frames to the playback model: each is displayed at its deadline or dropped;
  5. report frame_generated per frame, buffer_status, quality_adapted, and store the clip;
  6. after ``duration_seconds`` no clip is asked for; the buffer plays out; the figures are computed.
Interactive: each prompt once at the top rung, time to the first displayable frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.streaming.controller import ControllerConfig, Observation, decide
from app.streaming.ladder import Rung
from app.streaming.metrics import interactive_metrics, live_metrics
from app.streaming.playback import Playback
from app.streaming.spec import StreamSpec

GenerateClip = Callable[[str, Rung, int], dict[str, Any]]  # (prompt, rung, seed) -> worker record; blocks
Sink = Callable[[dict[str, Any], list[dict[str, Any]], list[tuple[str, dict[str, Any]]]], None]  # clip, frames, events
Wait = Callable[[float], None]  # sleeps up to the seconds given, raising StreamCancelledError when asked to stop


@dataclass
class SessionResult:
    metrics: dict[str, Any]
    performance: dict[str, Any]
    reasons: dict[str, str]
    clips: list[dict[str, Any]] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)


def run_live(
    spec: StreamSpec,
    ladder: list[Rung],
    generate: GenerateClip,
    sink: Sink,
    wait: Wait,
    config: ControllerConfig | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> SessionResult:
    config = config or ControllerConfig()
    playback = Playback(spec.target_fps, spec.buffer_size)
    began = clock()
    ends = began + spec.duration_seconds
    level = 0
    clips: list[dict[str, Any]] = []
    frames: list[dict[str, Any]] = []
    while clock() < ends:
        rung = ladder[level]
        now = clock()
        room = playback.room_at(now - began, rung.num_frames) + began
        if room >= ends:
            break
        if room > now:
            wait(room - now)
        prompt, seed = spec.prompts[len(clips) % len(spec.prompts)], spec.seed + len(clips)
        requested = clock()
        record = generate(prompt, rung, seed)
        arrived = clock()
        latency = arrived - requested
        timings = playback.arrive(arrived - began, record["num_frames"])
        clip = {
            "clip_index": len(clips),
            "prompt": prompt,
            "seed": seed,
            "quality_level": rung.level,
            "width": record["width"],
            "height": record["height"],
            "num_frames": record["num_frames"],
            "requested_s": requested - began,
            "arrived_s": arrived - began,
            "latency_s": latency,
            "throughput_fps": record["num_frames"] / latency,
            "details": {"timings": record.get("timings"), "frame_by_frame": record.get("frame_by_frame")},
        }
        new_frames = [
            {
                "frame_index": t.index,
                "clip_index": clip["clip_index"],
                "quality_level": rung.level,
                "quality": rung.quality,
                "width": record["width"],
                "height": record["height"],
                "generation_latency_ms": latency * 1000.0,
                "arrival_s": t.arrival_s,
                "deadline_s": t.deadline_s,
                "playback_s": t.playback_s,
                "dropped": t.dropped,
            }
            for t in timings
        ]
        occupancy = playback.occupancy(arrived - began)
        events: list[tuple[str, dict[str, Any]]] = [
            (
                "frame_generated",
                {
                    "frame_id": f["frame_index"],
                    "clip_index": f["clip_index"],
                    "latency_ms": f["generation_latency_ms"],
                    "quality_level": f["quality_level"],
                    "resolution": [f["width"], f["height"]],
                    "arrival_s": f["arrival_s"],
                    "deadline_s": f["deadline_s"],
                    "dropped": f["dropped"],
                },
            )
            for f in new_frames
        ]
        dropped = sum(f["dropped"] for f in frames + new_frames)
        events.append(
            (
                "buffer_status",
                {
                    "utilization": occupancy / spec.buffer_size,
                    "occupancy": occupancy,
                    "capacity": spec.buffer_size,
                    "time_s": arrived - began,
                    "quality_level": rung.level,
                    "dropped_frames": dropped,
                    "total_frames": playback.count,
                },
            )
        )
        if spec.adaptive_quality:
            decision = decide(Observation(occupancy, spec.buffer_size, level, len(ladder)), config)
            if decision.level != level:
                new = ladder[decision.level]
                events.append(
                    (
                        "quality_adapted",
                        {
                            "resolution": [new.width, new.height],
                            "frames": new.num_frames,
                            "reason": decision.reason,
                            "from_level": level,
                            "quality_level": new.level,
                        },
                    )
                )
                level = decision.level
        clips.append(clip)
        frames.extend(new_frames)
        sink(clip, new_frames, events)
    figures = live_metrics(
        frames, clips, len(ladder), playback.utilization(), None if not clips else clips[0]["arrived_s"]
    )
    return SessionResult(figures["metrics"], figures["performance"], figures["reasons"], clips, frames)


def run_interactive(
    spec: StreamSpec,
    ladder: list[Rung],
    generate: GenerateClip,
    sink: Sink,
    clock: Callable[[], float] = time.monotonic,
) -> SessionResult:
    rung = ladder[0]
    began = clock()
    responses, clips = [], []
    for index, prompt in enumerate(spec.prompts):
        requested = clock()
        record = generate(prompt, rung, spec.seed + index)
        arrived = clock()
        latency = arrived - requested
        response = {
            "prompt_index": index,
            "time_to_first_frame_ms": latency * 1000.0,
            "met_target": latency * 1000.0 <= spec.response_target_ms,
            "frame_by_frame": bool(record.get("frame_by_frame")),
            "first_frame": "with the whole clip: the pipeline returns every frame at once"
            if not record.get("frame_by_frame")
            else "before the rest of the clip",
        }
        clip = {
            "clip_index": index,
            "prompt": prompt,
            "seed": spec.seed + index,
            "quality_level": 0,
            "width": record["width"],
            "height": record["height"],
            "num_frames": record["num_frames"],
            "requested_s": requested - began,
            "arrived_s": arrived - began,
            "latency_s": latency,
            "throughput_fps": record["num_frames"] / latency,
            "details": {"timings": record.get("timings"), **response},
        }
        responses.append(response)
        clips.append(clip)
        sink(clip, [], [("response_measured", response)])
    figures = interactive_metrics(responses, spec.response_target_ms)
    return SessionResult(figures["metrics"], figures["performance"], figures["reasons"], clips, [])
