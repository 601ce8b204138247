"""BBA-0 controller on recorded sequences: alone (buffer observations) and in the live loop (generation times)."""

from app.streaming.controller import ControllerConfig, Observation, decide, rate_map
from app.streaming.session import run_live
from app.streaming.spec import StreamSpec
from tests.app.streaming.recorded import LADDER, Replay

CAPACITY = 32


def levels_for(buffers: list[float], start: int = 0, levels: int = 4) -> list[int]:
    level, out = start, []
    for buffer in buffers:
        level = decide(Observation(buffer, CAPACITY, level, levels)).level
        out.append(level)
    return out


def test_rate_map_is_bba_reservoir_cushion_shape():
    config = ControllerConfig(reservoir=0.25, cushion=0.5)
    assert rate_map(0.1, 4, config) == 0 and rate_map(0.25, 4, config) == 0
    assert rate_map(0.5, 4, config) == 1.5 and rate_map(0.75, 4, config) == 3 and rate_map(1.0, 4, config) == 3


def test_draining_buffer_steps_down_before_it_is_empty():
    draining = [30, 27, 24, 21, 18, 15, 12, 9, 6, 3, 0]  # a slowing generator: a little less after each clip
    levels = levels_for(draining)
    first_down = next(i for i, level in enumerate(levels) if level > 0)
    assert draining[first_down] > 0, levels
    assert levels[draining.index(6)] == 3  # below the reservoir (8 of 32): the lowest rung
    assert levels == sorted(levels)  # only ever down while it drains


def test_filling_buffer_steps_back_up_to_the_top():
    filling = [0, 4, 8, 12, 16, 20, 24, 28, 32]
    levels = levels_for(filling, start=3)
    assert levels[0] == 3 and levels[-1] == 0
    assert levels == sorted(levels, reverse=True)


def test_steady_noisy_buffer_keeps_its_rung():
    # a buffer that wanders +-2 frames around 16 of 32 (rate map 1.5 +- 0.375): BBA-0 keeps the rung it is on
    wandering = [16, 18, 14, 17, 15, 18, 14, 16, 17, 15] * 3
    levels = levels_for(wandering, start=2)
    assert set(levels) == {2}
    naive = [round(3 - rate_map(b / CAPACITY, 4, ControllerConfig())) for b in wandering]  # no hysteresis
    assert len(set(naive)) > 1  # the same input would make a memoryless map switch back and forth


def test_a_change_names_its_reason_and_no_change_has_none():
    down = decide(Observation(4, CAPACITY, 0, 4))
    assert down.level == 3 and "reservoir" in down.reason
    assert decide(Observation(16, CAPACITY, 2, 4)).reason is None
    assert decide(Observation(0, CAPACITY, 0, 1)).level == 0  # a one-rung ladder never moves


def spec(adaptive: bool, duration: float = 60.0) -> StreamSpec:
    return StreamSpec(
        model_name="tiny-t2v",
        prompts=["a"],
        duration_seconds=duration,
        target_fps=10.0,
        buffer_size=CAPACITY,
        adaptive_quality=adaptive,
    )


def test_live_loop_steps_down_before_the_buffer_empties_when_generation_slows():
    # recorded: a machine that is 4x faster than the tiny model's CPU figures for 12 clips, then 1x
    load = [0.25] * 12 + [1.0] * 100
    replay = Replay(load)
    run_live(spec(True), LADDER, replay.generate, replay.sink, replay.wait, clock=replay.clock)
    events = replay.events()
    first_down = next(
        i
        for i, (kind, data) in enumerate(events)
        if kind == "quality_adapted" and data["quality_level"] > data["from_level"]
    )
    status_before = [data for kind, data in events[:first_down] if kind == "buffer_status"][-1]
    assert status_before["occupancy"] > 0 and status_before["dropped_frames"] == 0


def test_adaptive_drops_fewer_frames_than_fixed_on_the_same_recorded_times():
    fixed, adaptive = Replay(1.0), Replay(1.0)
    fixed_result = run_live(spec(False), LADDER, fixed.generate, fixed.sink, fixed.wait, clock=fixed.clock)
    adaptive_result = run_live(
        spec(True), LADDER, adaptive.generate, adaptive.sink, adaptive.wait, clock=adaptive.clock
    )
    assert fixed_result.metrics["frame_drop_rate"] > 0.4  # the top rung makes 5 fps of a 10 fps clock
    assert adaptive_result.metrics["frame_drop_rate"] < fixed_result.metrics["frame_drop_rate"] / 2
    assert adaptive_result.performance["quality_adaptations"] >= 1


def test_fast_steady_generation_settles_on_the_top_rung_without_oscillating():
    replay = Replay(0.1)  # every rung 10x faster than real time
    result = run_live(spec(True, 60.0), LADDER, replay.generate, replay.sink, replay.wait, clock=replay.clock)
    levels = [clip["quality_level"] for clip in result.clips]
    # the first choice sees one clip in the buffer and may step down; then it climbs and stays: one reversal at most
    moves = [b - a for a, b in zip(levels, levels[1:], strict=False) if b != a]
    reversals = sum(1 for a, b in zip(moves, moves[1:], strict=False) if (a > 0) != (b > 0))
    assert reversals <= 1 and levels[-10:] == [0] * 10, levels
    assert result.metrics["frame_drop_rate"] == 0 and result.metrics["buffer_utilization"] > 0.5
