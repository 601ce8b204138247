"""Benchmarks owned by the cluster: a detached owner runs them, any process cancels them, and a benchmark
whose owner dies is resumed by whoever sweeps for orphans, with every result stored exactly once."""

from __future__ import annotations

import time

import pytest

from app.bench.spec import BenchmarkSpec
from tests.helpers import wait_until

pytestmark = [pytest.mark.ray, pytest.mark.slow]

PROMPTS = [f"A small red boat, scene {k}" for k in range(12)]  # enough work to act while it runs


@pytest.fixture
def runner(ray_session, settings):
    from app.bench.runner import BenchmarkRunner
    from app.config import Settings

    # a short pool idle time: a worker orphaned by its owner's death stops itself soon (runner.orphan_after_s)
    fast = Settings(**{**settings.portable(), "heartbeat_s": 0.5, "orphan_after_s": 2.0, "worker_pool_idle_s": 2.0})
    return BenchmarkRunner(settings=fast)


def _spec() -> BenchmarkSpec:
    # about two seconds a video on one CPU thread (tiny-t2v's largest size), so a cancel lands within one item
    return BenchmarkSpec(
        model_name="tiny-t2v",
        prompts=PROMPTS,
        parameters={"num_frames": 16, "resolution": "64x64", "num_inference_steps": 150},
        device="cpu",
        metric_settings={"metrics": ["temporal_flickering"]},
    )


def _done(runner, benchmark_id: str) -> int:
    row = runner.repo.get(benchmark_id)
    return row.completed_videos + row.failed_videos


def test_cancel_from_another_process_stops_within_one_work_item(runner):
    from app.bench.runner import BenchmarkRunner

    benchmark_id = runner.submit(_spec())
    runner.start_detached(benchmark_id)  # runs in a detached actor: another process
    wait_until(
        lambda: _done(runner, benchmark_id),
        until=lambda n: n >= 1,
        timeout=180,
        interval=0.2,
        what="the first stored video",
    )
    elsewhere = BenchmarkRunner(settings=runner.settings)  # a different runner: no shared memory with the owner
    elsewhere.cancel(benchmark_id)
    at_cancel = _done(runner, benchmark_id)
    row = wait_until(
        lambda: runner.repo.get(benchmark_id),
        until=lambda r: r.status in ("cancelled", "completed"),
        timeout=60,
        interval=0.2,
        what="the owner to see the cancel",
    )
    assert row.status == "cancelled"
    assert _done(runner, benchmark_id) <= at_cancel + 1  # at most the item that was being stored
    assert _done(runner, benchmark_id) < len(PROMPTS)
    keys = [(v.prompt_index, v.seed) for v in runner.repo.videos(benchmark_id)]
    assert len(keys) == len(set(keys))


def test_a_benchmark_whose_owner_dies_is_resumed_with_every_result_once(runner):
    import psutil
    import ray

    from app.bench.runner import NAMESPACE, orphan_after_s

    benchmark_id = runner.submit(_spec())
    runner.start_detached(benchmark_id)
    wait_until(
        lambda: _done(runner, benchmark_id),
        until=lambda n: n >= 1,
        timeout=180,
        interval=0.2,
        what="the first stored video",
    )
    ray.kill(ray.get_actor(f"benchmark-{benchmark_id}", namespace=NAMESPACE), no_restart=True)  # the owner dies
    orphaned_worker = int(runner.repo.videos(benchmark_id)[0].worker.split(":")[1])
    assert runner.repo.get(benchmark_id).status == "running"
    resumed = wait_until(runner.resume_orphans, timeout=30, interval=0.2, what="the benchmark to become an orphan")
    assert resumed == [benchmark_id]
    assert runner.resume_orphans() == []  # claimed once: a second sweep takes nothing
    row = wait_until(
        lambda: runner.repo.get(benchmark_id),
        until=lambda r: r.status not in ("submitted", "running"),
        timeout=240,
        interval=0.2,
        what="the resumed benchmark to end",
    )
    assert row.status == "completed", row.error
    keys = [(v.prompt_index, v.seed) for v in runner.repo.videos(benchmark_id)]
    assert sorted(keys) == sorted((i, 0) for i in range(len(PROMPTS)))  # every item, exactly once
    assert row.runner.startswith("actor:benchmark-")
    # the dead owner's worker (detached, for the pool) was never released: it stops itself, freeing its CPUs
    wait_until(
        lambda: psutil.pid_exists(orphaned_worker),
        until=lambda alive: not alive,
        timeout=orphan_after_s(runner.settings.worker_pool_idle_s) + 30,
        interval=0.5,
        what="the orphaned worker to stop itself",
    )


def _stop_idle_pooled_workers(runner) -> None:
    """A warm worker of an earlier test would take the benchmark without placing a new actor, and holds CPUs."""
    import ray

    from app.bench.pool import get_pool

    ray.get(get_pool(runner.settings.worker_pool_idle_s, runner.settings.worker_pool_memory_gb).clear.remote())


def test_an_infeasible_benchmark_fails_at_once_with_the_reason(runner):
    from app.config import Settings

    _stop_idle_pooled_workers(runner)
    runner.settings = Settings(**{**runner.settings.portable(), "actor_min_cpus": 64})
    benchmark_id = runner.submit(_spec())
    started = time.monotonic()
    runner.run([benchmark_id])
    row = runner.repo.get(benchmark_id)
    assert row.status == "failed" and "RESOURCES_UNAVAILABLE" in row.error and "no node has 64" in row.error
    assert time.monotonic() - started < 30


def test_a_benchmark_that_cannot_be_placed_waits_then_fails_with_what_it_needed(runner):
    import ray

    from app.config import Settings

    @ray.remote(num_cpus=0)
    class Hog:  # holds every free CPU so the benchmark's actor cannot be placed
        def ping(self):
            return 1

    _stop_idle_pooled_workers(runner)  # they hold CPUs the hog would wait for
    node_cpus = max(n["Resources"].get("CPU", 0) for n in ray.nodes() if n["Alive"])
    free = ray.available_resources().get("CPU", 0)
    hog = Hog.options(num_cpus=max(free, 0.01)).remote()
    ray.get(hog.ping.remote(), timeout=120)
    try:  # the actor needs the whole node, which cannot be free while the hog holds any of it: feasible, not placed
        runner.settings = Settings(
            **{
                **runner.settings.portable(),
                "resource_wait_s": 3,
                "actor_min_cpus": node_cpus,
                "torch_threads_per_actor": int(node_cpus),
            }
        )
        benchmark_id = runner.submit(_spec())
        runner.run([benchmark_id])
        row = runner.repo.get(benchmark_id)
        assert row.status == "failed" and "could not be placed within 3s" in row.error and "needs" in row.error
    finally:
        ray.kill(hog)


def test_a_model_that_cannot_load_fails_the_benchmark_promptly(runner):
    spec = BenchmarkSpec(  # offline and not cached; 8 GB, so the memory check (it runs first) passes on any test host
        model_name="modelscope-t2v",
        prompts=["a cat"],
        device="cpu",
        metric_settings={"metrics": ["temporal_flickering"]},
    )
    benchmark_id = runner.submit(spec)
    started = time.monotonic()
    runner.run([benchmark_id])
    row = runner.repo.get(benchmark_id)
    assert row.status == "failed" and row.error.startswith("MODEL_LOAD_FAILED")
    assert time.monotonic() - started < 60
