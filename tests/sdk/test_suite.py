"""The public SDK surface the API reference documents."""

import json

import pytest

from vid_diffusion_bench import BenchmarkSuite, StandardPrompts, VideoParameters
from vid_diffusion_bench.exceptions import ModelNotFoundError, ValidationError


def test_standard_prompt_sets():
    assert len(StandardPrompts.DIVERSE_SET_V2) >= 20 and len(StandardPrompts.CINEMATIC_SET) >= 20
    assert len(set(StandardPrompts.DIVERSE_SET_V2)) == len(StandardPrompts.DIVERSE_SET_V2)
    assert not hasattr(StandardPrompts, "NO_SUCH_SET")


def test_unknown_model_error_carries_the_catalog(settings):
    suite = BenchmarkSuite(device="cpu")
    with pytest.raises(ModelNotFoundError) as info:
        suite.evaluate_model("invalid-model", prompts=["test prompt"])
    assert "tiny-t2v" in info.value.available_models


def test_generation_parameters_by_name_or_as_one_model(settings):
    suite = BenchmarkSuite(device="cpu")
    spec = suite.build_spec(
        "tiny-t2v",
        ["A cat"],
        parameters=VideoParameters(fps=4, num_frames=2),
        num_frames=8,
        guidance_scale=None,
        seed=3,
    )
    assert spec.parameters == VideoParameters(fps=4, num_frames=8) and spec.seed == 3
    with pytest.raises(ValidationError, match="cfg"):
        suite.build_spec("tiny-t2v", ["A cat"], cfg=3)
    with pytest.raises(ValidationError, match="num_frames"):
        suite.build_spec("tiny-t2v", ["A cat"], num_frames=8.5)
    with pytest.raises(ValidationError, match="seed"):
        suite.build_spec("tiny-t2v", ["A cat"], seed=2**70)


def test_evaluate_multiple_models_and_compare(ray_session, tmp_path):
    suite = BenchmarkSuite(device="cpu", output_dir=tmp_path)
    stored_before = suite.runner.repo.list(limit=100)[1]
    with pytest.raises(ValidationError, match="tiny-i2v"):  # one bad model (8 frames at most) stops all
        suite.evaluate_multiple_models(["tiny-t2v", "tiny-i2v"], ["A cat"], num_frames=12)
    assert suite.runner.repo.list(limit=100)[1] == stored_before  # before anything was stored
    results = suite.evaluate_multiple_models(
        ["tiny-t2v", "tiny-i2v"], StandardPrompts.CINEMATIC_SET[:2], max_workers=2, num_frames=4, num_inference_steps=2
    )
    assert set(results) == {"tiny-t2v", "tiny-i2v"}
    assert all(r.status == "completed" for r in results.values())
    report = suite.compare_models(results, objectives=["temporal_consistency", "avg_latency_ms"])
    assert set(report["pareto_frontier"]) <= {"tiny-t2v", "tiny-i2v"} and report["pareto_frontier"]
    assert json.loads((tmp_path / "comparison.json").read_text())["ranking"]
    for name, result in results.items():  # two prompts, one video each, with the frames asked for
        assert [video["num_frames"] for video in result.per_video] == [4, 4], name


def test_a_model_that_cannot_load_raises_the_load_error(ray_session):
    from vid_diffusion_bench.exceptions import ModelLoadError

    suite = BenchmarkSuite(device="cpu")
    with pytest.raises(ModelLoadError, match="modelscope-t2v|ali-vilab"):  # no hub access in the tests
        suite.evaluate_model("modelscope-t2v", ["A cat"], num_frames=2, num_inference_steps=1)


def test_custom_optimization_profiles(ray_session):
    from vid_diffusion_bench.optimization import OptimizationProfile

    with pytest.raises(ValidationError, match="TensorRT"):
        BenchmarkSuite(
            device="cpu", optimization_profile=OptimizationProfile(tensorrt_optimization=True)
        ).evaluate_model("tiny-t2v", ["A cat"])
    with pytest.raises(ValidationError, match="fp16"):
        BenchmarkSuite(device="cpu", optimization_profile=OptimizationProfile(precision="fp16")).evaluate_model(
            "tiny-t2v", ["A cat"]
        )
    suite = BenchmarkSuite(device="cpu", optimization_profile=OptimizationProfile(channels_last=True, name="mine"))
    result = suite.evaluate_model("tiny-t2v", ["A cat"], num_frames=2, num_inference_steps=1)
    assert result.provenance["optimization"]["channels_last"] is True and result.status == "completed"


def test_a_model_larger_than_the_machine_is_insufficient_memory_as_the_reference_catches_it(ray_session, settings):
    """The reference's SDK example: `except InsufficientMemoryError as e: e.required_gb, e.available_gb`. The model
    is tiny-t2v registered with a requirement above this machine's memory (a catalog entry, not a mock)."""
    import psutil
    import yaml

    from app.catalog.spec import get_catalog, registered_dir
    from vid_diffusion_bench.exceptions import InsufficientMemoryError

    above = round(psutil.virtual_memory().total / 2**30 * 4 + 1, 1)
    entry = get_catalog().get("tiny-t2v").model_dump(mode="json")
    entry.update(name="tiny-t2v-huge", requirements={**entry["requirements"], "vram_gb": above})
    path = registered_dir(settings.resolved_models_dir) / "tiny-t2v-huge.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(entry))
    try:
        suite = BenchmarkSuite(device="cpu")
        with pytest.raises(InsufficientMemoryError) as info:
            suite.evaluate_model("tiny-t2v-huge", prompts=["test prompt"], num_frames=2, num_inference_steps=1)
        assert info.value.required_gb == above and 0 < info.value.available_gb < above
        assert info.value.details["device"] == "cpu"
    finally:
        path.unlink(missing_ok=True)


def test_enable_monitoring_stores_the_resource_timeline(ray_session):
    from app.bench.monitoring import worker_processes

    suite = BenchmarkSuite(device="cpu", enable_monitoring=True, metrics=["temporal_consistency"])
    seen_workers = []
    suite.on_progress = lambda event: seen_workers.append(len(worker_processes()))
    result = suite.evaluate_model("tiny-t2v", ["a red ball"], num_frames=4, num_inference_steps=2)
    timeline = result.monitoring
    assert timeline["samples"] and timeline["interval_s"] == suite.settings.monitor_interval_s
    assert max(seen_workers) >= 1  # the actor process was found by its title while it ran
    assert suite.get_result(result.benchmark_id).monitoring == timeline  # stored with the result
    assert timeline["gpu_available"] or timeline["gpu_unavailable_reason"]
