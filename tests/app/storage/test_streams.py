"""StreamRepository on SQLite and PostgreSQL: clips with their frames and messages in one transaction, messages
numbered in order, stop before start, final figures, Parquet export."""

import pyarrow.parquet as pq
import pytest

from app.errors import StreamNotFoundError, ValidationError
from app.storage.streams import StreamRepository, export_stream_parquet
from tests.app.storage.test_repository import db  # noqa: F401 - the two-backend fixture

CLIP = {
    "clip_index": 0,
    "prompt": "A cat",
    "seed": 0,
    "quality_level": 1,
    "width": 32,
    "height": 32,
    "num_frames": 2,
    "requested_s": 0.0,
    "arrived_s": 0.4,
    "latency_s": 0.4,
    "throughput_fps": 5.0,
    "details": {"timings": {"total_s": 0.39}},
}


def frame(index, dropped=False):
    return {
        "frame_index": index,
        "clip_index": 0,
        "quality_level": 1,
        "width": 32,
        "height": 32,
        "generation_latency_ms": 400.0,
        "arrival_s": 0.4,
        "deadline_s": 0.4 + index / 10,
        "playback_s": None if dropped else 0.4 + index / 10,
        "dropped": dropped,
    }


def test_a_stream_is_stored_clip_by_clip_with_ordered_messages(db, tmp_path):  # noqa: F811
    repo = StreamRepository(db)
    row = repo.create("live", "tiny-t2v", {"model_name": "tiny-t2v"}, [{"level": 0}], owner="me")
    repo.update(row.id, status="running")
    repo.add_events(row.id, [("stream_started", {})])
    repo.record_clip(
        row.id,
        CLIP,
        [frame(0), frame(1, dropped=True)],
        [
            ("frame_generated", {"frame_id": 0}),
            ("frame_generated", {"frame_id": 1}),
            ("buffer_status", {"utilization": 0.1}),
        ],
    )
    repo.finish(
        row.id,
        "completed",
        None,
        metrics={"frame_drop_rate": 0.5},
        performance={"clips": 1},
        reasons={},
        event=("stream_completed", {"final_metrics": {}}),
    )
    events = repo.events_after(row.id, -1)
    assert [(e.seq, e.type) for e in events] == [
        (0, "stream_started"),
        (1, "frame_generated"),
        (2, "frame_generated"),
        (3, "buffer_status"),
        (4, "stream_completed"),
    ]
    assert [e.seq for e in repo.events_after(row.id, 2)] == [3, 4]
    assert [f["dropped"] for f in repo.frames(row.id)] == [False, True]
    assert repo.clips(row.id)[0]["details"] == {"timings": {"total_s": 0.39}}
    stored = repo.get(row.id)
    assert stored.status == "completed" and stored.metrics == {"frame_drop_rate": 0.5}
    paths = export_stream_parquet(repo, row.id, tmp_path)
    assert pq.read_table(paths["frames"]).column("playback_s").to_pylist() == [0.4, None]
    assert pq.read_table(paths["clips"]).num_rows == 1
    with pytest.raises(ValidationError):
        repo.finish(row.id, "running", None)


def test_stop_before_start_and_unknown_streams(db):  # noqa: F811
    repo = StreamRepository(db)
    row = repo.create("interactive", "tiny-t2v", {}, [])
    assert repo.request_cancel(row.id) == "cancelled"
    assert repo.get(row.id).status == "cancelled" and repo.events_after(row.id, -1)[0].type == "stream_cancelled"
    assert repo.request_cancel(row.id) == "cancelled"  # finished: left as it is
    with pytest.raises(StreamNotFoundError):
        repo.get("stream_missing")


def test_heartbeats_orphans_and_ending_a_silent_stream_once(db):  # noqa: F811
    from datetime import timedelta

    from app.storage.tables import utcnow

    repo = StreamRepository(db)
    live = repo.create("live", "tiny-t2v", {}, [])
    silent = repo.create("live", "tiny-t2v", {}, [])
    assert repo.get(live.id).heartbeat_at is not None  # a new stream starts its owner's clock
    repo.update(silent.id, status="running", heartbeat_at=utcnow() - timedelta(seconds=120))
    repo.record_clip(silent.id, CLIP, [frame(0)], [("frame_generated", {"frame_id": 0})])
    assert repo.heartbeat(live.id, "host:1") and repo.get(live.id).runner == "host:1"
    since = utcnow() - timedelta(seconds=60)
    assert [row.id for row in repo.orphans(since)] == [silent.id]
    assert repo.orphans(since, live.id) == []
    assert repo.end_orphan(silent.id, since, "interrupted: gone")
    assert not repo.end_orphan(silent.id, since, "again")  # ended once, by whoever got there first
    assert not repo.end_orphan(live.id, since, "reported in")  # heard from recently: left running
    row = repo.get(silent.id)
    assert (row.status, row.error) == ("failed", "interrupted: gone") and row.completed_at is not None
    assert [(e.type, e.data) for e in repo.events_after(silent.id, -1)] == [
        ("frame_generated", {"frame_id": 0}),
        ("stream_error", {"error": "interrupted: gone"}),
    ]
    # a late owner can neither report in, add a clip nor overwrite the ending; what was stored is kept
    assert not repo.heartbeat(silent.id, "host:2")
    assert not repo.record_clip(silent.id, {**CLIP, "clip_index": 1}, [frame(1)], [])
    assert not repo.finish(silent.id, "completed", None, metrics={"x": 1}, performance={}, reasons={})
    row = repo.get(silent.id)
    assert (row.status, row.metrics) == ("failed", None)
    assert len(repo.clips(silent.id)) == 1 and [f["frame_index"] for f in repo.frames(silent.id)] == [0]


def test_clip_counts_per_stream(db):  # noqa: F811
    repo = StreamRepository(db)
    a, b = repo.create("live", "tiny-t2v", {}, []), repo.create("live", "tiny-t2v", {}, [])
    repo.record_clip(a.id, CLIP, [frame(0)], [])
    repo.record_clip(a.id, {**CLIP, "clip_index": 1, "arrived_s": 0.9}, [], [])
    assert repo.clip_counts([a.id, b.id]) == {a.id: {"clips": 2, "last_arrived_s": 0.9}}
    assert repo.clip_counts([]) == {}
