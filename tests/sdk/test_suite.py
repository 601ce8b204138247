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
    spec = suite.build_spec("tiny-t2v", ["A cat"], parameters=VideoParameters(fps=4, num_frames=2), num_frames=8,
                            guidance_scale=None, seed=3)
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
    results = suite.evaluate_multiple_models(["tiny-t2v", "tiny-i2v"], StandardPrompts.CINEMATIC_SET[:2],
                                             max_workers=2, num_frames=4, num_inference_steps=2)
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
        BenchmarkSuite(device="cpu", optimization_profile=OptimizationProfile(tensorrt_optimization=True)) \
            .evaluate_model("tiny-t2v", ["A cat"])
    with pytest.raises(ValidationError, match="fp16"):
        BenchmarkSuite(device="cpu", optimization_profile=OptimizationProfile(precision="fp16")) \
            .evaluate_model("tiny-t2v", ["A cat"])
    suite = BenchmarkSuite(device="cpu", optimization_profile=OptimizationProfile(channels_last=True, name="mine"))
    result = suite.evaluate_model("tiny-t2v", ["A cat"], num_frames=2, num_inference_steps=1)
    assert result.provenance["optimization"]["channels_last"] is True and result.status == "completed"
