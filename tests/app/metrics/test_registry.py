"""The registry drives scoring: its order and metadata, and a new metric that is just one registered spec."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.metrics import registry
from app.metrics.evaluator import VideoEvaluator, aggregate, resolve_metric_names
from app.metrics.registry import METRICS, canonical
from app.metrics.spec import MetricSpec, Null, SetAggregate, SetContext, VideoContext
from app.metrics.weights import EVALUATORS

ROOT = Path(__file__).resolve().parents[3]
PUBLISHED_ORDER = [
    "temporal_flickering",
    "warping_error",
    "consecutive_ssim",
    "consecutive_psnr",
    "motion_magnitude",
    "dynamic_degree",
    "temporal_consistency",
    "clip_similarity",
    "clipscore",
    "fvd",
    "inception_score",
    "overall_score",
]


def test_results_keep_the_published_order():
    assert list(METRICS) == PUBLISHED_ORDER
    assert sum(len(family.SPECS) for family in registry.FAMILIES) == len(METRICS)  # no name registered twice


def test_metadata_is_plain_data_and_aliases_resolve():
    rows = json.loads(json.dumps([spec.to_dict() for spec in METRICS.values()]))  # `metrics list --json`
    assert set(rows[0]) == {"name", "higher_is_better", "level", "aggregation", "evaluator", "unit", "description"}
    assert [canonical(n) for n in ("is", "clip_score", "clip", "fvd")] == [
        "inception_score",
        "clip_similarity",
        "clip_similarity",
        "fvd",
    ]
    assert resolve_metric_names(["is", "inception_score"]) == ["inception_score"]


def test_every_evaluator_named_has_weights_and_a_loader():
    assert {spec.evaluator for spec in METRICS.values() if spec.evaluator} == set(registry.LOADERS) == set(EVALUATORS)


def test_a_spec_must_carry_the_scorer_its_aggregation_reads():
    with pytest.raises(ValueError, match="aggregation"):
        MetricSpec("broken", True, "video", "mean", None, "", "", aggregate_set=lambda context: SetAggregate(None))
    with pytest.raises(ValueError, match="aggregation"):
        MetricSpec("broken", True, "set", "set", None, "", "", score_video=lambda video: 0.0)


def test_the_registry_loads_without_torch():
    code = "import sys, app.metrics.evaluator; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "False"


def test_weight_free_nulls_say_why(tmp_path):
    still = np.zeros((4, 16, 16, 3), np.uint8)
    scored = VideoEvaluator(["consecutive_psnr", "temporal_flickering"], tmp_path).evaluate(still, "a cat")
    assert scored["metrics"] == {"temporal_flickering": 1.0, "consecutive_psnr": None}  # registry order
    assert scored["reasons"] == {"consecutive_psnr": "all consecutive frames identical: PSNR unbounded"}


def _duration(video: VideoContext) -> float | Null:
    return Null("frame rate unknown") if video.fps is None else len(video.frames) / video.fps


def _brightness(video: VideoContext) -> float:
    return float(video.frames.mean()) / 255.0


def _brightest(context: SetContext) -> SetAggregate:
    return SetAggregate(max(context.features), n=len(context.features))


def test_a_new_metric_is_one_registered_spec(monkeypatch, tmp_path):
    per_video = MetricSpec("duration_s", True, "video", "mean", None, "s", "Video length", score_video=_duration)
    per_set = MetricSpec(
        "brightest_video",
        True,
        "set",
        "set",
        None,
        "0-1",
        "Brightness of the brightest video",
        features=_brightness,
        aggregate_set=_brightest,
    )
    for spec in (per_video, per_set):
        monkeypatch.setitem(METRICS, spec.name, spec)  # registered for this test only
    evaluator = VideoEvaluator(["duration_s", "brightest_video"], tmp_path)
    videos = [np.full((8, 4, 4, 3), level, np.uint8) for level in (0, 51, 102)]
    scored = [evaluator.evaluate(video, "a cat", fps=fps) for video, fps in zip(videos, (8.0, 4.0, 8.0), strict=True)]
    scored.append(evaluator.evaluate(videos[0], "a cat"))  # no fps: null with the scorer's reason
    assert [s["metrics"] for s in scored] == [{"duration_s": d} for d in (1.0, 2.0, 1.0, None)]
    assert [s["features"] for s in scored] == [{"brightest_video": b} for b in (0.0, 0.2, 0.4, 0.0)]
    assert [s["reasons"] for s in scored] == [{}, {}, {}, {"duration_s": "frame rate unknown"}]

    rows = aggregate(
        [{**s, "metric_reasons": s["reasons"]} for s in scored],
        ["brightest_video", "duration_s"],
        evaluator.unavailable,
        resamples=200,
        seed=1,
    )
    mean_row, set_row = rows  # per-video metrics first, then set metrics
    assert mean_row["name"] == "duration_s" and mean_row["value"] == pytest.approx(4 / 3) and mean_row["n"] == 3
    assert mean_row["ci_low"] < 4 / 3 < mean_row["ci_high"]  # aggregation "mean": bootstrap interval
    assert set_row == {
        "kind": "metric",
        "name": "brightest_video",
        "value": 0.4,
        "ci_low": None,
        "ci_high": None,
        "n": 4,
        "reason": None,
        "details": None,
    }  # aggregation "set": the set's own aggregate
    assert aggregate([], ["duration_s"], {})[0]["reason"] == "no videos"
