"""Frechet Video Distance on I3D features.

Protocol (as in the common PyTorch FVD code: VideoGPT's preprocess, the
StyleGAN-V FVD port's preprocess_single; Unterthiner et al.'s distance):
every video, generated or reference, is cut to its first 16 consecutive
frames (shorter videos have no FVD features, with the reason);
each frame is resized so its shorter side is 224 and the longer side
ceil(side * 224 / shorter) (bilinear), centre-cropped to 224x224, scaled to
[-1, 1], and passed through the I3D TorchScript detector with
``return_features=True``, giving 400-d pre-softmax logits. The distance is
computed in float64 with a symmetric eigen-decomposition square root; a
negative result (round-off: the true distance is >= 0) is clamped to 0.
FVD is biased by sample size: N, the clip length and the resolution are
recorded with every value and a warning is attached when N is small; compare
values only at equal N.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from app.metrics.spec import MetricSpec, Null, SetAggregate, SetContext, VideoContext

CLIP_FRAMES = 16  # every video is scored on its first 16 frames (the common protocol); shorter ones have no FVD
RESOLUTION = 224
SMALL_N = 256  # below this FVD is markedly biased upward; common reports use 256-2048 videos


def resized_size(h: int, w: int) -> tuple[int, int]:
    """The shorter side becomes 224, the longer ceil(side * scale), as the common FVD code (up, not to nearest)."""
    scale = RESOLUTION / min(h, w)
    return (RESOLUTION, math.ceil(w * scale)) if h < w else (math.ceil(h * scale), RESOLUTION)


def preprocess(frames: np.ndarray):
    """uint8 [T, H, W, 3] -> float tensor [1, 3, T, 224, 224] in [-1, 1]."""
    import torch
    import torch.nn.functional as F

    video = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()  # T, 3, H, W
    video = F.interpolate(video, size=resized_size(*video.shape[-2:]), mode="bilinear", align_corners=False)
    h, w = video.shape[-2:]
    top, left = (h - RESOLUTION) // 2, (w - RESOLUTION) // 2
    video = video[..., top : top + RESOLUTION, left : left + RESOLUTION]
    video = video / 127.5 - 1.0
    return video.permute(1, 0, 2, 3).unsqueeze(0)  # 1, 3, T, 224, 224


class I3DFeatures:
    def __init__(self, path: Path, device: str = "cpu"):
        import torch

        self.device = device
        self.model = torch.jit.load(str(path), map_location=device).eval()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        """400-d features of the video's first CLIP_FRAMES frames (it must have that many)."""
        import torch

        clip = clip_of(frames)
        with torch.inference_mode():
            feats = self.model(preprocess(clip).to(self.device), rescale=False, resize=False, return_features=True)
        return feats.detach().cpu().double().numpy().reshape(-1)


def clip_of(frames: np.ndarray) -> np.ndarray:
    """The protocol's clip: the first CLIP_FRAMES consecutive frames."""
    from app.errors import ValidationError

    if len(frames) < CLIP_FRAMES:
        raise ValidationError(too_short(len(frames)), {"num_frames": len(frames), "clip_frames": CLIP_FRAMES})
    return frames[:CLIP_FRAMES]


def too_short(num_frames: int) -> str:
    return (
        f"video has {num_frames} frames; FVD scores {CLIP_FRAMES}-frame clips (the common protocol): "
        f"generate at least {CLIP_FRAMES} frames"
    )


def _sqrt_psd(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1-mu2||^2 + Tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), in float64.

    Tr((S1 S2)^1/2) equals Tr((S1^1/2 S2 S1^1/2)^1/2), whose argument is symmetric
    positive semi-definite, so its root comes from eigh without complex parts.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(sigma1, np.float64), np.asarray(sigma2, np.float64)
    root1 = _sqrt_psd(s1)
    middle = root1 @ s2 @ root1
    eig = np.linalg.eigvalsh((middle + middle.T) / 2.0)
    tr_covmean = float(np.sqrt(np.clip(eig, 0.0, None)).sum())
    diff = mu1 - mu2
    return max(0.0, float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean))


def gaussian_stats(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def fvd(features_a: np.ndarray, features_b: np.ndarray) -> dict:
    """FVD between two feature sets, with N, the protocol (clip length, resolution), and a warning at small N."""
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    n = min(len(a), len(b))
    protocol = {"n_a": len(a), "n_b": len(b), "clip_frames": CLIP_FRAMES, "resolution": RESOLUTION}
    if n < 2:
        return {
            "value": None,
            "reason": f"FVD needs at least 2 videos per set (have {len(a)} and {len(b)})",
            **protocol,
        }
    out: dict[str, Any] = {"value": frechet_distance(*gaussian_stats(a), *gaussian_stats(b)), **protocol}
    if n < SMALL_N:
        out["warning"] = (
            f"FVD from N={n} videos is biased upward and noisy (values are comparable only at equal N; "
            f"{SMALL_N}+ videos recommended)"
        )
    return out


def load_video(path: Path) -> np.ndarray:
    """Decode a video file to uint8 [T, H, W, 3] (imageio-ffmpeg)."""
    import imageio.v3 as iio

    return np.stack(list(iio.imiter(path, plugin="FFMPEG")))


def reference_features(directory: Path, extractor: I3DFeatures) -> np.ndarray:
    from app.errors import ValidationError

    suffixes = {".mp4", ".webm", ".avi", ".mov", ".gif"}
    files = sorted(p for p in Path(directory).iterdir() if p.suffix.lower() in suffixes)
    if not files:
        raise ValidationError(f"No videos in FVD reference directory {directory}", {"path": str(directory)})
    feats = []
    for file in files:
        frames = load_video(file)
        if len(frames) >= CLIP_FRAMES:
            feats.append(extractor(frames))
    if not feats:
        raise ValidationError(f"No reference video in {directory} has {CLIP_FRAMES}+ frames", {"path": str(directory)})
    return np.stack(feats)


def _i3d_features(video: VideoContext) -> list[float] | Null:
    if len(video.frames) < CLIP_FRAMES:
        return Null(too_short(len(video.frames)))
    return video.networks["i3d"](video.frames).tolist()


def _fvd_of_set(context: SetContext) -> SetAggregate:
    if not context.features:
        return SetAggregate(None, reason=next(iter(context.video_reasons), "no video with I3D features"))
    n = len(context.features)
    if context.reference_i3d is None:
        return SetAggregate(
            None,
            n=n,
            reason="no reference set: give metric_settings.fvd_reference_dir, "
            "or compare two models' outputs with compare_models",
        )
    result = fvd(np.asarray(context.features), context.reference_i3d)
    return SetAggregate(
        result["value"], n=n, reason=result.get("reason"), details={k: v for k, v in result.items() if k != "value"}
    )


LOADERS = {"i3d": I3DFeatures}
SPECS = [
    MetricSpec(
        "fvd",
        False,
        "set",
        "set",
        "i3d",
        "distance",
        "Frechet Video Distance on I3D (Kinetics-400) 400-d logits of 16-frame clips at 224x224",
        features=_i3d_features,
        aggregate_set=_fvd_of_set,
    ),
]
