"""Weight-free metrics on synthetic videos with hand-derived expectations."""

import numpy as np
import pytest

from app.errors import ValidationError
from app.metrics.evaluator import VideoEvaluator
from app.metrics.temporal import (
    FlowPair,
    compute_flows,
    dynamic_degree_interval,
    psnr,
    sample_along_flow,
    ssim,
    temporal_flickering,
    temporal_metrics,
    warping_error,
)


def _textured(h=64, w=96, seed=0):
    import cv2

    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (7, 7), 2)


def test_static_video_is_perfectly_stable():
    video = np.repeat(_textured()[None], 8, axis=0)
    m = temporal_metrics(video)
    assert m["temporal_flickering"] == 1.0
    assert m["consecutive_ssim"] == pytest.approx(1.0)
    assert m["consecutive_psnr"] is None  # identical frames: PSNR is unbounded, not a made-up number
    assert m["warping_error"] < 1e-4 and m["motion_magnitude"] < 0.05
    assert m["dynamic_degree"] == 0.0


def test_flicker_of_alternating_frames_is_exact():
    a = np.zeros((4, 8, 8, 3), np.uint8)
    a[1::2] = 51  # |difference| is 51 everywhere -> (255 - 51) / 255 = 0.8
    assert temporal_flickering(a) == pytest.approx(0.8)


def test_random_noise_flicker_matches_uniform_expectation():
    rng = np.random.default_rng(1)
    noise = rng.integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    # E|X - Y| for independent uniform integers on 0..255 is (256^2 - 1) / (3 * 256) = 85.33
    expected = 1 - ((256**2 - 1) / (3 * 256)) / 255
    assert temporal_flickering(noise) == pytest.approx(expected, abs=0.005)
    m = temporal_metrics(noise)
    assert m["consecutive_ssim"] < 0.05 and m["warping_error"] > 0.05


def test_constant_pan_is_found_by_the_flow_and_warps_back():
    base = _textured(64, 128)
    video = np.stack([base[:, 2 * t : 2 * t + 96] for t in range(8)])  # content moves 2 px left per frame
    flows = compute_flows(np.stack([f.mean(axis=-1).astype(np.uint8) for f in video]))
    centre = flows[0].forward[16:-16, 16:-16]
    assert np.median(centre[..., 0]) == pytest.approx(-2.0, abs=0.25)  # content moves left: flow is -2 px
    assert np.median(np.abs(centre[..., 1])) < 0.25
    m = temporal_metrics(video)
    noise = temporal_metrics(np.random.default_rng(2).integers(0, 256, video.shape, dtype=np.uint8))
    assert m["warping_error"] < 0.01 * noise["warping_error"]  # motion compensated: little error left
    assert m["motion_magnitude"] == pytest.approx(2.0, abs=0.5)


def test_ssim_equals_scikit_image_with_wang_settings_and_psnr_known_value():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(3)
    a = _textured(64, 80)[..., 0]
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    # scikit-image's documented settings for Wang et al.'s SSIM; it crops the window's radius (5 px) as we do
    reference = structural_similarity(
        a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255
    )
    assert ssim(a, b) == pytest.approx(reference, abs=1e-6)
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a[:10], b[:10]) is None  # nothing left inside the border
    assert psnr(255.0**2 / 100.0) == pytest.approx(20.0)  # MSE = 255^2/100 -> exactly 20 dB
    assert psnr(0.0) is None


def test_warping_error_scores_the_last_row_and_column():
    image = _textured(16, 24)
    warped, inside = sample_along_flow(image, np.zeros((16, 24, 2), np.float32))
    assert inside.all() and np.array_equal(warped, image.astype(np.float32))
    video = np.stack([image, image])
    video[1, -1, :] = 255 - video[1, -1, :]  # only the last row changes: it must be seen
    still = np.zeros((16, 24, 2), np.float32)
    flows = [FlowPair(still, still)]  # no motion: every pixel, border included, is compared in place
    expected = np.mean(((video[1].astype(float) - video[0]) / 255.0) ** 2)
    assert warping_error(video, flows) == pytest.approx(expected)


def test_dynamic_degree_samples_to_8_fps_as_vbench(tmp_path):
    assert [dynamic_degree_interval(fps) for fps in (None, 6, 8, 12, 16, 20, 24, 30)] == [1, 1, 1, 2, 2, 2, 3, 4]
    base = _textured(256, 256 + 3 * 24, seed=4)
    pan = np.stack([base[:, 3 * t : 3 * t + 256] for t in range(25)])  # 3 px/frame, 25 frames, 256x256
    evaluator = VideoEvaluator(["dynamic_degree"], tmp_path, "cpu")  # the evaluator passes fps through
    # at 24 fps VBench keeps every 3rd frame: 9 px per sampled pair > 6 px threshold in >= round(4*9/16) pairs
    assert evaluator.evaluate(pan, "a pan", fps=24)["metrics"]["dynamic_degree"] == 1.0
    # the same frames at 8 fps are scored pair by pair: 3 px < 6 px, static
    assert evaluator.evaluate(pan, "a pan", fps=8)["metrics"]["dynamic_degree"] == 0.0


def test_bad_videos_are_refused():
    with pytest.raises(ValidationError):
        temporal_metrics(np.zeros((1, 8, 8, 3), np.uint8))
    with pytest.raises(ValidationError):
        temporal_metrics(np.zeros((4, 8, 8, 3), np.float32))
