"""The warm worker pool: leasing, idle expiry, the memory cap (plain Python), and reuse on a real Ray."""

import pytest

from app.bench.pool import WorkerPool


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _pool(idle_s=60.0, memory_bytes=1000):
    stopped, clock = [], Clock()
    return WorkerPool(idle_s, memory_bytes, stopped.append, clock), stopped, clock


def test_a_released_worker_is_leased_again_for_its_key_only():
    pool, stopped, _ = _pool()
    assert pool.acquire("tiny-t2v") is None  # nothing warm yet: the caller starts a cold worker
    pool.release("tiny-t2v", "worker-a", 100)
    assert pool.acquire("other-model") is None
    assert pool.acquire("tiny-t2v") == "worker-a"
    assert pool.acquire("tiny-t2v") is None  # leased: not handed out twice
    assert stopped == [] and pool.stats()["acquired"] == 1


def test_the_pool_evicts_idle_workers_after_the_timeout():
    pool, stopped, clock = _pool(idle_s=60.0)
    pool.release("a", "worker-a", 100)
    clock.now = 30.0
    pool.release("b", "worker-b", 100)
    assert pool.expire() == 0 and stopped == []
    clock.now = 61.0  # a has been idle 61 s, b 31 s
    assert pool.expire() == 1 and stopped == ["worker-a"]
    assert pool.acquire("a") is None and pool.acquire("b") == "worker-b"
    assert pool.stats()["evicted_idle"] == 1


def test_the_memory_cap_evicts_least_recently_used_first():
    pool, stopped, _ = _pool(memory_bytes=250)
    pool.release("a", "worker-a", 100)
    pool.release("b", "worker-b", 100)
    assert stopped == []
    assert pool.release("c", "worker-c", 100) == 1 and stopped == ["worker-a"]  # 300 > 250: the oldest goes
    assert pool.release("d", "worker-d", 1000) == 3  # alone over the cap: nothing stays
    assert stopped == ["worker-a", "worker-b", "worker-c", "worker-d"]


def test_clear_stops_every_idle_worker_and_tolerates_gone_ones():
    def stop(handle):
        if handle == "gone":
            raise RuntimeError("actor already dead")
        stopped.append(handle)

    stopped = []
    pool = WorkerPool(60.0, 10**9, stop)
    pool.release("a", "gone", 1)
    pool.release("b", "worker-b", 1)
    assert pool.clear() == 2 and stopped == ["worker-b"] and pool.stats()["idle"] == []


@pytest.fixture(scope="module")
def runner(ray_session, settings):
    from app.bench.runner import BenchmarkRunner

    return BenchmarkRunner(settings=settings)


def test_a_reused_worker_gives_identical_results_for_identical_seeds(runner):
    from app.bench.results import load_result
    from app.bench.spec import BenchmarkSpec

    spec = BenchmarkSpec(
        model_name="tiny-t2v",
        prompts=["A cat playing piano", "Ocean waves"],
        videos_per_prompt=2,
        parameters={"num_frames": 4, "num_inference_steps": 2},
        device="cpu",
        metric_settings={"metrics": ["temporal_consistency", "consecutive_psnr", "warping_error"]},
    )
    results = []
    for _ in range(2):
        bid = runner.submit(spec)
        runner.run([bid])
        results.append(load_result(runner.repo, bid))
    first, second = results
    assert first.status == second.status == "completed"
    assert first.provenance["worker"]["start"] in ("cold", "reused")  # a worker of an earlier test may be warm
    assert second.provenance["worker"]["start"] == "reused" and second.provenance["worker"]["load_s"] == 0.0
    assert second.provenance["worker"]["model_load_s"] > 0  # what loading took when it was cold
    assert {v["worker"] for v in second.per_video} == {v["worker"] for v in first.per_video}  # the same process

    def scores(result):
        return sorted((v["prompt_index"], v["seed"], tuple(sorted(v["metrics"].items()))) for v in result.per_video)

    assert scores(first) == scores(second)  # same seeds on a reused worker: the very same videos and scores
    assert first.provenance["worker"]["metric_methods"]["optical_flow"]["method"] == "dis"


def test_the_pool_actor_stops_a_worker_left_idle(runner):
    """On Ray: a finished benchmark's worker waits in the pool, and is stopped once idle past the timeout."""
    import psutil
    import ray

    from app.bench.pool import get_pool
    from app.bench.results import load_result
    from app.bench.spec import BenchmarkSpec
    from tests.helpers import wait_until

    spec = BenchmarkSpec(
        model_name="tiny-t2v",
        prompts=["A lighthouse"],
        device="cpu",
        parameters={"num_frames": 4, "num_inference_steps": 1},
        metric_settings={"compute_metrics": False},
    )
    bid = runner.submit(spec)
    runner.run([bid])
    pid = int(load_result(runner.repo, bid).per_video[0]["worker"].split(":")[1])
    pool = get_pool(runner.settings.worker_pool_idle_s, runner.settings.worker_pool_memory_gb)
    stats = ray.get(pool.stats.remote())
    assert stats["idle"] and psutil.pid_exists(pid)  # kept warm after its benchmark
    wait_until(
        lambda: ray.get(pool.stats.remote())["idle"],
        lambda idle: not idle,
        timeout=stats["idle_s"] + 60,
        interval=0.5,
        what="the idle worker to be evicted",
    )
    wait_until(
        lambda: psutil.pid_exists(pid),
        lambda alive: not alive,
        timeout=60,
        interval=0.5,
        what="the evicted worker's process to exit",
    )
    assert ray.get(pool.stats.remote())["evicted_idle"] >= 1


def test_a_trials_pooled_worker_outlives_the_trials_placement_group(runner):
    """Tune runs a trial in a placement group that captures its children and removes it when the trial ends.
    The pool and the worker a trial starts are detached and must not live in it, or the next trial leases a
    worker that dies with the last one (the Pareto search's failure in CI)."""
    import ray
    from ray.util.placement_group import placement_group, placement_group_table, remove_placement_group
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    from app.bench.spec import BenchmarkSpec
    from tests.helpers import wait_until

    spec = BenchmarkSpec(
        model_name="tiny-t2v",
        prompts=["A lighthouse"],
        device="cpu",
        parameters={"num_frames": 4, "num_inference_steps": 1},
        metric_settings={"compute_metrics": False},
    ).model_dump(mode="json")
    settings_json = runner.settings.portable()

    @ray.remote(num_cpus=1)
    def like_a_trial():
        from app.bench.pool import POOL_NAME, TrialWorker

        worker = TrialWorker(spec, settings_json)
        return worker.handle, ray.get_actor(POOL_NAME, namespace="vid-bench")

    group = placement_group([{"CPU": 1}])
    ray.get(group.ready(), timeout=60)
    strategy = PlacementGroupSchedulingStrategy(group, placement_group_capture_child_tasks=True)
    handle, pool = ray.get(like_a_trial.options(scheduling_strategy=strategy).remote())
    remove_placement_group(group)
    wait_until(lambda: placement_group_table(group)["state"], lambda state: state == "REMOVED", timeout=30)
    assert ray.get(pool.stats.remote(), timeout=60)["idle_s"] >= 0  # both alive after the group is gone
    assert ray.get(handle.info.remote(), timeout=60)["benchmarks_served"] >= 1
    ray.kill(handle, no_restart=True)
