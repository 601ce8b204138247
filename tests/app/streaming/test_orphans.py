"""Streams whose owner went silent end failed with the reason; the bounded wait for the model actor's placement.
The same with a real owner actor killed on Ray: tests/deployments/test_streaming.py."""

from datetime import timedelta

import pytest

from app.config import Settings
from app.errors import ResourcesUnavailableError
from app.storage.database import Database
from app.storage.streams import StreamRepository
from app.storage.tables import utcnow
from app.streaming.orphans import end_orphans
from app.streaming.runner import cpu_share, placement_check


@pytest.fixture
def repo(tmp_path):
    return StreamRepository(Database(f"sqlite:///{tmp_path / 'streams.db'}"))


def test_silent_streams_end_failed_with_why_and_others_are_left(repo, tmp_path):
    settings = Settings(data_dir=tmp_path, orphan_after_s=30)
    stale = utcnow() - timedelta(seconds=31)
    running = repo.create("live", "tiny-t2v", {}, [])
    repo.update(running.id, status="running", runner="node-a:42", heartbeat_at=stale)
    never_started = repo.create("live", "tiny-t2v", {}, [])
    repo.update(never_started.id, heartbeat_at=stale)
    alive = repo.create("live", "tiny-t2v", {}, [])
    repo.update(alive.id, status="running")
    done = repo.create("live", "tiny-t2v", {}, [])
    repo.update(done.id, heartbeat_at=stale)
    repo.finish(done.id, "completed", None)

    assert end_orphans(repo, settings, alive.id) == []  # on read: only the stream asked about
    assert sorted(end_orphans(repo, settings)) == sorted([running.id, never_started.id])
    assert end_orphans(repo, settings) == []  # nothing twice
    assert "node-a:42" in repo.get(running.id).error and "heartbeat" in repo.get(running.id).error
    assert "never started" in repo.get(never_started.id).error
    assert [repo.get(i).status for i in (alive.id, done.id)] == ["running", "completed"]
    assert repo.events_after(running.id, -1)[-1].type == "stream_error"


def test_placement_is_waited_for_up_to_the_limit():
    needs = {"CPU": 1.0, "GPU": 1}
    pending = {"State": "PENDING_CREATION", "Address": {"Port": 0}}
    assert placement_check(pending, 5.0, 10.0, needs) is False
    assert placement_check({}, 5.0, 10.0, needs) is False  # not known to Ray yet
    assert placement_check({"State": "ALIVE", "Address": {"Port": 5000}}, 50.0, 10.0, needs) is True
    assert placement_check({"State": "PENDING_CREATION", "Address": {"Port": 5000}}, 50.0, 10.0, needs) is True
    with pytest.raises(ResourcesUnavailableError) as error:
        placement_check(pending, 10.5, 10.0, needs, {"CPU": 2.0})
    assert error.value.code == "RESOURCES_UNAVAILABLE" and "within 10s" in error.value.message
    assert error.value.details["needs"] == needs and error.value.details["free"] == {"CPU": 2.0}


def test_the_warm_pool_is_found_by_the_name_app_bench_gives_it():
    from app.bench import pool
    from app.streaming import runner

    assert (runner.POOL_NAME, runner.NAMESPACE) == (pool.POOL_NAME, pool.NAMESPACE)


def test_the_stream_actor_takes_the_free_cpu_share_like_a_benchmark_actor():
    assert cpu_share(1.0, 2.0, 0.25) == 1.0
    assert cpu_share(1.0, 0.5, 0.25) == 0.5  # fewer free: what fits
    assert cpu_share(1.0, 0.1, 0.25) == 1.0  # not even the minimum: ask for all of it and wait (bounded)
