"""The playback clock: deadlines, the one drop rule, occupancy, room in the buffer and utilization."""

from app.streaming.metrics import interactive_metrics, percentile
from app.streaming.playback import Playback


def test_frames_after_their_deadline_are_dropped_and_the_clock_never_waits():
    playback = Playback(target_fps=10.0, capacity=20)
    first = playback.arrive(1.0, 4)  # playback starts at the first arrival: due at 1.0, 1.1, 1.2, 1.3
    assert [t.deadline_s for t in first] == [1.0, 1.1, 1.2, 1.3] and not any(t.dropped for t in first)
    late = playback.arrive(1.45, 4)  # due 1.4 (late), 1.5, 1.6, 1.7
    assert [t.dropped for t in late] == [True, False, False, False]
    assert late[0].playback_s is None and late[1].playback_s == 1.5
    assert playback.occupancy(1.45) == 3 and playback.occupancy(1.65) == 1


def test_room_in_the_buffer_comes_from_the_clock():
    playback = Playback(target_fps=10.0, capacity=6)
    playback.arrive(0.0, 6)  # full: shown at 0.0 .. 0.5; the one due at 0.0 already left
    assert playback.occupancy(0.0) == 5
    assert playback.room_at(0.0, 1) == 0.0
    assert abs(playback.room_at(0.0, 4) - 0.3) < 1e-9  # three more must be shown first


def test_utilization_is_the_time_average_of_occupancy():
    playback = Playback(target_fps=1.0, capacity=4)
    playback.arrive(0.0, 4)  # occupancy 3, 2, 1, 0 over each second of [0, 3]
    assert abs(playback.utilization() - (3 + 2 + 1) / (4 * 3)) < 1e-9


def test_interactive_figures():
    responses = [{"time_to_first_frame_ms": ms} for ms in (100.0, 200.0, 300.0, 900.0)]
    figures = interactive_metrics(responses, target_ms=250.0)
    assert figures["metrics"]["share_meeting_target"] == 0.5
    assert figures["metrics"]["p50_time_to_first_frame_ms"] == 250.0
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == 4.8
