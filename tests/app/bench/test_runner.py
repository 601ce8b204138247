"""The runner on a real local Ray, with the built-in tiny model."""

import pytest

from app.bench.results import load_result
from app.bench.runner import BenchmarkRunner
from app.bench.spec import BenchmarkSpec
from app.errors import InvalidPromptError, ModelNotFoundError, ValidationError

PROMPTS = ["A cat playing piano", "Ocean waves at sunset", "A red fox in snow"]


@pytest.fixture(scope="module")
def runner(ray_session, settings):
    return BenchmarkRunner(settings=settings)


def _spec(**kw):
    base = dict(
        model_name="tiny-t2v",
        prompts=PROMPTS[:2],
        videos_per_prompt=1,
        parameters={"num_frames": 4, "num_inference_steps": 2},
    )
    base.update(kw)
    return BenchmarkSpec(**base)


def test_end_to_end_benchmark_stores_everything(runner):
    events = []
    bid = runner.submit(_spec(save_videos=True))
    runner.run([bid], on_progress=events.append)
    result = load_result(runner.repo, bid)
    assert result.status == "completed" and result.success_rate == 1.0
    assert len(result.per_video) == 2 and all(v["status"] == "ok" for v in result.per_video)
    assert all(v["video_path"].endswith(".mp4") for v in result.per_video)
    # weight-free metrics are numbers with a CI; network metrics are null with the missing file named
    tc = result.metric_details["temporal_consistency"]
    assert tc["value"] is not None and tc["ci95"][0] <= tc["value"] <= tc["ci95"][1]
    for name in ("fvd", "inception_score", "clip_similarity"):
        assert result.metrics[name] is None and "missing" in result.metric_details[name]["reason"]
    perf = result.performance
    assert perf["avg_latency_ms"] > 0 and perf["throughput_fps"] > 0
    assert perf["peak_vram_gb"] is None and perf["avg_power_watts"] is None  # no GPU here: unknown, not zero
    assert result.provenance["packages"]["torch"] and result.provenance["spec_hash"]
    assert result.provenance["seeds"] == [0]
    assert [e["type"] for e in events][-1] == "benchmark_completed"
    assert [e["completed"] for e in events if e["type"] == "benchmark_progress"][-1] == 2


def test_killed_actor_is_restarted_and_every_result_stored_once(runner, ray_session):
    """Kill the worker after two videos: Ray restarts it and the lost items are sent again."""
    import ray

    spec = _spec(prompts=PROMPTS, videos_per_prompt=2)
    bid = runner.submit(spec)
    actors, killed = {}, []
    original_start = runner._launch

    def tracking_start(job, callback):
        started = original_start(job, callback)
        actors["worker"] = job.actor
        return started

    def on_progress(event):
        if event["type"] == "benchmark_progress" and event["completed"] == 2 and not killed:
            killed.append(ray.get(actors["worker"].pid.remote()))
            ray.kill(actors["worker"], no_restart=False)

    runner._launch = tracking_start
    try:
        runner.run([bid], on_progress=on_progress)
    finally:
        runner._launch = original_start
    assert killed
    videos = runner.repo.videos(bid)
    keys = [(v.prompt_index, v.seed) for v in videos]
    assert sorted(keys) == sorted((i, s) for i, _, s in spec.work_items())
    assert len(keys) == len(set(keys)) == 6
    assert {v.worker.split(":")[1] for v in videos} - {str(killed[0])}  # later videos came from the restarted actor
    row = runner.repo.get(bid)
    assert row.status == "completed" and row.completed_videos == 6 and row.failed_videos == 0


def test_cancel_stops_work_and_keeps_stored_results(runner):
    bid = runner.submit(_spec(prompts=PROMPTS * 3))

    def on_progress(event):
        if event["type"] == "benchmark_progress" and event["completed"] >= 1:
            runner.cancel(bid)

    runner.run([bid], on_progress=on_progress)
    row = runner.repo.get(bid)
    assert row.status == "cancelled"
    stored = runner.repo.videos(bid)
    assert 1 <= len(stored) < 9
    assert all(v.status == "ok" for v in stored)


def test_resume_runs_only_missing_items(runner):
    spec = _spec()
    bid = runner.submit(spec)
    first = spec.work_items()[0]
    runner.repo.record_video(
        bid,
        {
            "prompt_index": first[0],
            "prompt": first[1],
            "seed": first[2],
            "status": "ok",
            "num_frames": 4,
            "latency_s": 0.5,
            "metrics": {},
            "metric_reasons": {},
            "features": {},
            "measurement": {},
            "timings": {},
        },
    )
    runner.run([bid])
    videos = runner.repo.videos(bid)
    assert len(videos) == 2
    assert [v.latency_s for v in videos if v.prompt_index == 0] == [0.5]  # the stored one was not redone


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"model_name": "nope"}, ModelNotFoundError),
        ({"parameters": {"num_frames": 500}}, ValidationError),
        ({"optimization_level": "ludicrous"}, ValidationError),
        ({"metric_settings": {"metrics": ["not_a_metric"]}}, ValidationError),
    ],
)
def test_bad_specs_are_refused_before_anything_is_stored(runner, kwargs, error):
    before = runner.repo.list(limit=100)[1]
    with pytest.raises(error):
        runner.submit(_spec(**kwargs))
    assert runner.repo.list(limit=100)[1] == before


def test_empty_prompt_refused_by_the_spec():
    with pytest.raises(InvalidPromptError):
        _spec(prompts=["fine", "  "])
