import json

import numpy as np
import pytest
import scipy.linalg
import torch

from app.errors import WeightsError
from app.metrics.clip import ClipSimilarity
from app.metrics.evaluator import VideoEvaluator, aggregate
from app.metrics.fvd import CLIP_FRAMES, I3DFeatures, frechet_distance, fvd, preprocess, resized_size
from app.metrics.inception import inception_score
from app.metrics.weights import install, status, verified_path
from tests.app.metrics.tiny_evaluators import TinyI3D, install_all, save_torchscript


def _spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_distance_of_diagonal_gaussians_matches_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    closed = np.sum((mu1 - mu2) ** 2) + np.sum(s1 + s2 - 2 * np.sqrt(s1 * s2))
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(closed, rel=1e-12)


@pytest.mark.parametrize("dim", [5, 400])
def test_frechet_distance_matches_scipy_sqrtm(dim):
    rng = np.random.default_rng(dim)
    mu1, mu2 = rng.normal(size=dim), rng.normal(size=dim)
    s1, s2 = _spd(rng, dim), _spd(rng, dim)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference, rel=1e-7)
    assert 0.0 <= frechet_distance(mu1, s1, mu1, s1) <= 1e-7 * np.trace(s1)  # round-off never goes below 0


def test_fvd_records_n_and_warns_when_small():
    rng = np.random.default_rng(0)
    out = fvd(rng.normal(size=(20, 8)), rng.normal(1.0, 1.0, size=(30, 8)))
    assert out["value"] > 0 and out["n_a"] == 20 and out["n_b"] == 30 and "biased" in out["warning"]
    assert (out["clip_frames"], out["resolution"]) == (16, 224)  # the protocol travels with every value
    assert fvd(rng.normal(size=(1, 8)), rng.normal(size=(5, 8)))["value"] is None


def test_fvd_preprocessing_protocol():
    frames = np.full((10, 48, 64, 3), 255, np.uint8)
    x = preprocess(frames)
    assert tuple(x.shape) == (1, 3, 10, 224, 224)
    assert float(x.max()) == pytest.approx(1.0) and float(x.min()) == pytest.approx(1.0)
    # StyleGAN-V's FVD rounds the longer side up: 65 * 224 / 48 = 303.3 -> 304 (nearest would give 303)
    assert resized_size(48, 65) == (224, 304) and resized_size(65, 48) == (304, 224)
    assert resized_size(48, 64) == (224, 299) and resized_size(32, 32) == (224, 224)


class FrameProbe(torch.nn.Module):
    """An I3D stand-in whose features are the clip's length and each frame's mean."""

    def forward(
        self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = False
    ) -> torch.Tensor:
        return torch.cat([torch.full((x.shape[0], 1), float(x.shape[2])), x.mean(dim=(1, 3, 4))], dim=1)


def test_fvd_scores_exactly_the_first_16_frames(tmp_path):
    probe = I3DFeatures(save_torchscript(FrameProbe(), tmp_path / "probe.pt"))
    video = np.repeat(np.arange(24, dtype=np.uint8)[:, None, None, None] * 10, 3, axis=-1)
    video = np.broadcast_to(video, (24, 32, 40, 3)).copy()  # frame t is uniformly 10 t
    features = probe(video)
    assert features[0] == CLIP_FRAMES == 16
    assert features[1:] == pytest.approx(np.arange(16) * 10 / 127.5 - 1.0, abs=1e-5)
    assert np.array_equal(features, probe(video[:16]))


def test_inception_score_of_eight_confident_videos_matches_the_reference():
    """8 videos, each confidently one class of its own: IS is 8 for well-mixed splits, as StyleGAN's code gives."""
    videos = np.repeat(np.eye(1008)[:8], 64, axis=0)  # 512 frames in video order, 64 per video

    def reference(probs, num_splits):  # StyleGAN2-ADA / StyleGAN-V metrics/inception_score.py, split for split
        # (clipped at 1e-12 first: exact zeros, which a real network never gives, would make log(0) NaN there)
        scores = []
        for i in range(num_splits):
            part = np.clip(probs[i * len(probs) // num_splits : (i + 1) * len(probs) // num_splits], 1e-12, None)
            kl = part * (np.log(part) - np.log(np.mean(part, axis=0, keepdims=True)))
            scores.append(np.exp(np.mean(np.sum(kl, axis=1))))
        return float(np.mean(scores)), float(np.std(scores))

    result = inception_score(videos)
    assert result["splits"] == 10 and result["n"] == 512 and result["std_ddof"] == 0
    shuffled = videos[np.random.default_rng(result["shuffle_seed"]).permutation(512)]
    assert (result["value"], result["std"]) == pytest.approx(reference(shuffled, 10), rel=1e-8)
    assert 7.4 < result["value"] <= 8.0  # each split of ~51 frames holds all 8 classes, about evenly
    assert reference(videos, 10)[0] < 2.0  # unshuffled, a split holds one or two videos: the bias this fixes
    one_split = inception_score(videos[::8][:64], max_splits=10)  # 64 frames, 8 per class: one split
    assert one_split["splits"] == 1 and one_split["value"] == pytest.approx(8.0, rel=1e-9)


def test_inception_score_extremes_and_minimum_split_size():
    uniform = np.full((100, 1008), 1 / 1008)
    assert inception_score(uniform)["value"] == pytest.approx(1.0)
    short = inception_score(np.eye(1008)[:40])
    assert short["value"] is None and "at least 50 frames per split" in short["reason"] and short["splits"] == 0


def test_weights_absent_means_null_with_reason(tmp_path):
    evaluator = VideoEvaluator(None, tmp_path / "empty", "cpu")
    frames = np.random.default_rng(0).integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    scored = evaluator.evaluate(frames, "a cat")
    assert scored["metrics"]["clip_similarity"] is None and "missing" in scored["reasons"]["clip_similarity"]
    assert scored["features"] == {}
    rows = {
        r["name"]: r
        for r in aggregate(
            [{**scored, "metric_reasons": scored["reasons"]}] * 3, evaluator.names, evaluator.unavailable
        )
    }
    for name in ("fvd", "inception_score", "clip_similarity"):
        assert rows[name]["value"] is None and "missing" in rows[name]["reason"]
    assert rows["temporal_consistency"]["value"] is not None
    assert rows["overall_score"]["details"]["used"] == ["temporal_consistency"]


def test_installed_tiny_evaluators_give_numbers_and_provenance(tmp_path):
    weights = tmp_path / "weights"
    install_all(weights, tmp_path / "scratch")
    evaluator = VideoEvaluator(None, weights, "cpu")
    assert evaluator.unavailable == {}
    assert set(evaluator.provenance) == {"clip", "i3d", "inception"}
    rng = np.random.default_rng(0)
    records = []
    for k in range(4):
        scored = evaluator.evaluate(rng.integers(0, 256, (16, 32, 32, 3), dtype=np.uint8), f"prompt {k}")
        assert len(scored["features"]["i3d"]) == 400 and len(scored["features"]["inception"]) == 16
        assert -1.0 <= scored["metrics"]["clip_similarity"] <= 1.0
        records.append({**scored, "metric_reasons": scored["reasons"]})
    reference = np.stack([np.asarray(r["features"]["i3d"]) + 0.5 for r in records])
    rows = {r["name"]: r for r in aggregate(records, evaluator.names, {}, reference_i3d=reference)}
    for name in ("fvd", "inception_score", "clip_similarity", "overall_score"):
        assert rows[name]["value"] is not None, name
    assert rows["fvd"]["n"] == 4 and "biased" in rows["fvd"]["details"]["warning"]
    assert rows["fvd"]["details"]["clip_frames"] == 16 and rows["inception_score"]["details"]["splits"] == 1
    assert set(rows["overall_score"]["details"]["used"]) == {
        "clip_similarity",
        "temporal_consistency",
        "fvd",
        "inception_score",
    }


def test_clip_similarity_is_deterministic(tmp_path):
    weights = tmp_path / "weights"
    install_all(weights, tmp_path / "scratch")
    evaluator = VideoEvaluator(["clip_similarity"], weights, "cpu")
    frames = np.random.default_rng(5).integers(0, 256, (6, 40, 40, 3), dtype=np.uint8)
    a = evaluator.evaluate(frames, "a cat")["metrics"]["clip_similarity"]
    assert a == evaluator.evaluate(frames, "a cat")["metrics"]["clip_similarity"]
    assert a != evaluator.evaluate(frames, "a completely different prompt")["metrics"]["clip_similarity"]


def test_clipscore_convention_next_to_clip_similarity(tmp_path):
    weights = tmp_path / "weights"
    install_all(weights, tmp_path / "scratch")
    evaluator = VideoEvaluator(["clip_similarity", "clipscore"], weights, "cpu")
    network = ClipSimilarity(verified_path("clip", weights)[0])
    frames = np.random.default_rng(6).integers(0, 256, (12, 40, 40, 3), dtype=np.uint8)
    for prompt in ("a cat", "waves at night", "a red car"):
        scored = evaluator.evaluate(frames, prompt)["metrics"]
        similarity, per_frame = network(frames, prompt)
        assert len(per_frame) == 8 and scored["clip_similarity"] == similarity
        assert scored["clipscore"] == pytest.approx(2.5 * np.mean(np.maximum(per_frame, 0.0)), rel=1e-12)
        assert abs(per_frame.mean()) <= abs(similarity) + 1e-12  # mean per-frame cosine = |m| * clip_similarity


def test_video_too_short_for_i3d_keeps_no_features_and_says_why(tmp_path):
    weights = tmp_path / "weights"
    install("i3d", save_torchscript(TinyI3D(), tmp_path / "i3d.pt"), weights)
    evaluator = VideoEvaluator(["fvd"], weights, "cpu")
    scored = evaluator.evaluate(np.zeros((8, 32, 32, 3), np.uint8), "a cat")  # tiny-t2v's default length
    assert scored == {
        "metrics": {},
        "features": {},
        "reasons": {
            "fvd": "video has 8 frames; FVD scores 16-frame clips (the common protocol): generate at least 16 frames"
        },
    }
    [row] = aggregate([{**scored, "metric_reasons": scored["reasons"]}], ["fvd"], evaluator.unavailable)
    assert row["value"] is None and row["reason"] == scored["reasons"]["fvd"]


def test_changed_weight_file_is_refused(tmp_path):
    weights = tmp_path / "weights"
    install("i3d", save_torchscript(TinyI3D(), tmp_path / "i3d.pt"), weights)
    path, digest = verified_path("i3d", weights)
    with path.open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(WeightsError, match="sha256"):
        VideoEvaluator(["fvd"], weights, "cpu")
    with pytest.raises(WeightsError, match="expected"):
        install("i3d", tmp_path / "i3d.pt", weights, expected_sha256="0" * 64)
    manifest = json.loads((weights / "manifest.json").read_text())
    assert manifest["i3d"]["sha256"] == digest  # the refused install changed nothing


def test_status_names_the_missing_file(tmp_path):
    available, reason = status("inception", tmp_path)
    assert not available and str(tmp_path / "inception-2015-12-05.pt") in reason and "--from" in reason
