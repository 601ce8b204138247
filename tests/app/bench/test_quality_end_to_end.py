"""A real benchmark on Ray with the tiny evaluator weights installed: every metric is a number."""

import shutil

from app.bench.results import load_result
from app.bench.runner import BenchmarkRunner
from app.bench.spec import BenchmarkSpec
from tests.app.metrics.tiny_evaluators import install_all


def test_all_metrics_computed_with_weights_installed(ray_session, settings, tmp_path):
    weights = tmp_path / "weights"
    install_all(weights, tmp_path / "scratch")
    local = settings.model_copy(update={"weights_dir": weights})
    runner = BenchmarkRunner(settings=local)
    params = {"num_frames": 16, "num_inference_steps": 2}  # FVD scores 16-frame clips
    first = runner.submit(
        BenchmarkSpec(
            model_name="tiny-t2v", prompts=["A cat", "Waves"], videos_per_prompt=2, parameters=params, save_videos=True
        )
    )
    runner.run([first])
    reference = tmp_path / "reference"
    reference.mkdir()
    for video in load_result(runner.repo, first).per_video:
        shutil.copy(video["video_path"], reference)

    second = runner.submit(
        BenchmarkSpec(
            model_name="tiny-t2v",
            prompts=["A fox", "Rain"],
            videos_per_prompt=2,
            parameters=params,
            seed=100,
            metric_settings={"fvd_reference_dir": str(reference)},
        )
    )
    runner.run([second])
    result = load_result(runner.repo, second)
    assert result.status == "completed"
    for name in ("fvd", "inception_score", "clip_similarity", "temporal_consistency", "overall_score"):
        assert result.metrics[name] is not None, (name, result.metric_details[name])
    assert result.metric_details["fvd"]["n"] == 4
    assert result.metric_details["clip_similarity"]["ci95"] is not None
    assert result.metric_details["clip_similarity"]["ci_method"] == "student_t"  # 4 videos: small n
    assert result.metric_details["fvd"]["clip_frames"] == 16 and result.metric_details["inception_score"]["splits"] == 1
    assert set(result.provenance["worker"]["evaluators"]) == {"clip", "i3d", "inception"}
    assert all(len(e["sha256"]) == 64 for e in result.provenance["worker"]["evaluators"].values())
