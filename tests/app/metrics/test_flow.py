"""Optical flow accuracy on synthetic videos with known motion (translation, rotation, zoom)."""

import numpy as np
import pytest

from app.errors import ValidationError
from app.metrics.evaluator import VideoEvaluator
from app.metrics.temporal import DEFAULT_FLOW_METHOD, FLOW_METHODS, compute_flows, flow_method, temporal_metrics

SIZE = 128
MOTIONS = {"translation": (0.0, 1.0, (2.6, -1.4)), "rotation": (3.0, 1.0, (0, 0)), "zoom": (0.0, 1.04, (0, 0))}


def _texture(size=None, seed=0):
    """Smooth multi-scale noise: texture at every scale, as a flow method needs to see motion."""
    import cv2

    size = size or SIZE
    rng = np.random.default_rng(seed)
    image = np.zeros((size, size), np.float32)
    for scale in (4, 8, 16):
        noise = rng.normal(size=(size // scale + 3, size // scale + 3)).astype(np.float32)
        big = cv2.resize(noise, ((size // scale + 3) * scale,) * 2, interpolation=cv2.INTER_CUBIC)
        image += big[scale : scale + size, scale : scale + size] * scale
    return ((image - image.min()) / (image.max() - image.min()) * 255).astype(np.uint8)


def _moved(kind):
    """(frame, the frame moved by a known affine map, the true flow from the first to the second)."""
    import cv2

    angle, scale, (tx, ty) = MOTIONS[kind]
    matrix = cv2.getRotationMatrix2D((SIZE / 2, SIZE / 2), angle, scale)
    matrix[:, 2] += (tx, ty)
    a = _texture()
    b = cv2.warpAffine(a, matrix, (SIZE, SIZE), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    truth = np.stack(
        [
            matrix[0, 0] * xs + matrix[0, 1] * ys + matrix[0, 2] - xs,
            matrix[1, 0] * xs + matrix[1, 1] * ys + matrix[1, 2] - ys,
        ],
        axis=-1,
    )
    return a, b, truth


def _end_point_error(method, kind):
    a, b, truth = _moved(kind)
    flow = compute_flows(np.stack([a, b]), method)[0].forward
    inner = slice(12, -12)  # away from the border, where content enters and leaves
    return float(np.linalg.norm(flow - truth, axis=-1)[inner, inner].mean())


@pytest.mark.parametrize("kind", sorted(MOTIONS))
def test_default_flow_recovers_known_motion(kind):
    truth_size = np.linalg.norm(_moved(kind)[2], axis=-1).mean()
    assert truth_size > 1.5  # the motion is real, so a zero flow would fail
    assert _end_point_error(DEFAULT_FLOW_METHOD, kind) < 0.3


def test_every_method_is_selectable_and_named_in_provenance(tmp_path):
    video = np.repeat(np.stack([_texture()] * 3, axis=-1)[None], 3, axis=0)
    for name in FLOW_METHODS:
        assert temporal_metrics(video, flow=name)["motion_magnitude"] < 0.05
        evaluator = VideoEvaluator(["warping_error"], tmp_path, "cpu", flow_method=name)
        assert evaluator.methods["optical_flow"]["method"] == name
    assert "optical_flow" not in VideoEvaluator(["temporal_flickering"], tmp_path).methods  # no flow, none named
    with pytest.raises(ValidationError):
        flow_method("raft")
