"""The dashboard's streaming sessions: unfinished streams always listed, progress from what is stored."""

from app.analytics.dashboard import stream_sessions
from app.storage.database import Database
from app.storage.streams import StreamRepository


def clip(index, arrived_s):
    return {
        "clip_index": index,
        "prompt": "A cat",
        "seed": index,
        "quality_level": 0,
        "width": 32,
        "height": 32,
        "num_frames": 2,
        "requested_s": 0.0,
        "arrived_s": arrived_s,
        "latency_s": arrived_s,
        "throughput_fps": 2 / arrived_s,
    }


def test_stream_sessions_progress_and_order(tmp_path):
    repo = StreamRepository(Database(f"sqlite:///{tmp_path / 'd.db'}"))
    live = repo.create("live", "tiny-t2v", {"prompts": ["a"], "duration_seconds": 8}, [])
    repo.update(live.id, status="running")
    repo.record_clip(live.id, clip(0, 1.0), [], [])
    repo.record_clip(live.id, clip(1, 2.0), [], [])
    chat = repo.create("interactive", "tiny-t2v", {"prompts": ["a", "b", "c", "d"]}, [])
    repo.update(chat.id, status="running")
    repo.record_clip(chat.id, clip(0, 0.3), [], [])
    done = repo.create("live", "tiny-t2v", {"prompts": ["a"], "duration_seconds": 8}, [])
    repo.finish(done.id, "completed", None)
    failed = repo.create("live", "tiny-t2v", {"prompts": ["a"], "duration_seconds": 8}, [])
    repo.finish(failed.id, "failed", "interrupted: the owner died")

    sessions = {s["stream_id"]: s for s in stream_sessions(repo)}
    assert sessions[live.id]["percentage"] == 25.0 and sessions[live.id]["clips"] == 2
    assert sessions[live.id]["stream_time_s"] == 2.0 and sessions[live.id]["finished"] is False
    assert sessions[chat.id]["percentage"] == 25.0 and sessions[chat.id]["duration_seconds"] is None
    assert sessions[done.id]["percentage"] == 100.0 and sessions[done.id]["finished"] is True
    assert sessions[failed.id]["error"] == "interrupted: the owner died" and sessions[failed.id]["clips"] == 0
    # only the latest one finished stream fits the limit; running ones are always there
    assert [s["stream_id"] for s in stream_sessions(repo, limit=1)] == [failed.id, chat.id, live.id]
