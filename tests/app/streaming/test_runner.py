"""StreamRunner on a real Ray: a stream whose detached owner dies ends failed with the reason, its stored clips
kept; a model actor the cluster cannot place fails the stream after ``resource_wait_s``."""

from __future__ import annotations

import pytest

from tests.helpers import wait_until

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture
def runner(ray_session, settings):
    from app.config import Settings
    from app.streaming.runner import StreamRunner

    fast = Settings(**{**settings.portable(), "heartbeat_s": 0.5, "orphan_after_s": 3.0, "resource_wait_s": 2.0})
    return StreamRunner(settings=fast)


def _spec(**fields):
    from app.streaming.spec import StreamSpec

    return StreamSpec(
        model_name="tiny-t2v",
        prompts=["A cat playing piano"],
        duration_seconds=120,
        target_fps=8.0,
        buffer_size=24,
        quality_levels=2,
        num_inference_steps=1,
        **fields,
    )


def test_a_stream_whose_owner_dies_ends_failed_and_keeps_its_clips(runner):
    import ray

    from app.streaming.orphans import end_orphans
    from app.streaming.runner import NAMESPACE

    stream_id = runner.submit(_spec(device="cpu"))
    runner.start_detached(stream_id)
    wait_until(lambda: len(runner.repo.clips(stream_id)), timeout=180, interval=0.2, what="the first stored clip")
    seen = runner.repo.get(stream_id).heartbeat_at
    wait_until(
        lambda: runner.repo.get(stream_id).heartbeat_at,
        until=lambda at: at > seen,
        timeout=30,
        what="the owner's next heartbeat",
    )
    assert end_orphans(runner.repo, runner.settings, stream_id) == []  # it reports in: left running
    ray.kill(ray.get_actor(f"stream-{stream_id}", namespace=NAMESPACE), no_restart=True)  # the owner dies
    clips = runner.repo.clips(stream_id)
    assert runner.repo.get(stream_id).status == "running"
    ended = wait_until(
        lambda: end_orphans(runner.repo, runner.settings, stream_id),
        timeout=30,
        interval=0.2,
        what="the stream to become an orphan",
    )
    assert ended == [stream_id]
    row = runner.repo.get(stream_id)
    assert row.status == "failed" and "no heartbeat" in row.error and row.runner in row.error
    assert runner.repo.clips(stream_id) == clips  # everything stored before the owner died, unchanged
    events = runner.repo.events_after(stream_id, -1)
    assert events[-1].type == "stream_error" and events[0].type == "stream_started"
    assert [e.seq for e in events] == list(range(len(events)))


def test_a_model_actor_that_cannot_be_placed_fails_the_stream_with_why(runner):
    import ray

    from app.errors import ResourcesUnavailableError

    if ray.cluster_resources().get("GPU", 0):
        pytest.skip("this cluster has a GPU: the stream would be placed")
    stream_id = runner.submit(_spec(device="cuda"))  # needs a GPU; this cluster has none: never placed
    with pytest.raises(ResourcesUnavailableError):
        runner.run(stream_id)
    row = runner.repo.get(stream_id)
    assert row.status == "failed" and row.error.startswith("RESOURCES_UNAVAILABLE") and "within 2s" in row.error
    assert runner.repo.events_after(stream_id, -1)[-1].type == "stream_error"
