"""Weight-free video metrics: flicker, warping error, consecutive SSIM / PSNR, motion.

All take uint8 frames [T, H, W, 3]. Dense optical flow (OpenCV Farneback, on
grayscale) is computed once per consecutive pair in both directions and shared
by warping error, motion magnitude and dynamic degree.

Definitions (also in docs/metrics.md):
- temporal_flickering = (255 - mean |F_t+1 - F_t|) / 255, averaged over pairs
  (VBench's definition, on the 0-255 scale). 1 means no change at all.
- warping_error: F_t+1 is warped back onto F_t with the forward flow; pixels
  failing the forward-backward consistency check (Sundaram et al. 2010) are
  occluded and excluded, as are points warped from outside the frame; the MSE
  of the rest on the [0, 1] scale (mean over channels), averaged over pairs.
  Classical Farneback flow is used instead of RAFT (no weights needed).
- consecutive_ssim: SSIM (Gaussian 11x11, sigma 1.5, K1 0.01, K2 0.03, L 255,
  5 px border cropped as in Wang's code and scikit-image) of each consecutive
  pair of grayscale frames, averaged.
- consecutive_psnr: 10 log10(255^2 / MSE) over all consecutive pairs' pixels;
  null when all consecutive frames are identical (PSNR is unbounded).
- motion_magnitude: mean forward-flow magnitude in pixels per frame.
- dynamic_degree: VBench's rule applied to Farneback flow: frames are first
  sampled every round(fps / 8) (about 8 fps); a sampled pair is "moving" when
  the mean of its top 5% flow magnitudes exceeds 6 * min(H, W) / 256; the
  video is dynamic (1.0) when at least round(4 * T' / 16) pairs move (T' the
  sampled frames), else 0.0.
- temporal_consistency = mean(temporal_flickering, consecutive_ssim,
  1 / (1 + 100 * warping_error)): three views of frame-to-frame stability,
  each in [0, 1], higher is better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.errors import ValidationError
from app.metrics.spec import MetricSpec, Null, VideoContext


def check_video(frames: np.ndarray, min_frames: int = 2) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValidationError("video must be uint8 frames shaped [T, H, W, 3]",
                              {"shape": list(frames.shape), "dtype": str(frames.dtype)})
    if frames.shape[0] < min_frames:
        raise ValidationError(f"video has {frames.shape[0]} frames; this metric needs at least {min_frames}",
                              {"num_frames": int(frames.shape[0]), "min_frames": min_frames})
    return frames


def _gray(frames: np.ndarray) -> np.ndarray:
    import cv2

    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


@dataclass
class FlowPair:
    forward: np.ndarray   # [H, W, 2] flow from frame t to t+1
    backward: np.ndarray  # [H, W, 2] flow from frame t+1 to t


def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.calcOpticalFlowFarneback(a, b, None, pyr_scale=0.5, levels=3, winsize=15, iterations=3,
                                        poly_n=5, poly_sigma=1.2, flags=0)


def compute_flows(gray: np.ndarray) -> list[FlowPair]:
    return [FlowPair(farneback(gray[t], gray[t + 1]), farneback(gray[t + 1], gray[t])) for t in range(len(gray) - 1)]


def sample_along_flow(image: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(image(x + flow(x)) with bilinear interpolation, mask of the points x + flow(x) inside the frame).

    The mask is computed from the coordinates, not from the interpolation's border, so a point on the last
    row or column (x = W - 1 exactly) counts as inside.
    """
    import cv2

    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x, map_y = grid_x + flow[..., 0], grid_y + flow[..., 1]
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    out = cv2.remap(image.astype(np.float32), map_x, map_y, interpolation=cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)
    return out, inside


def temporal_flickering(frames: np.ndarray) -> float:
    f = frames.astype(np.float64)
    diffs = np.abs(f[1:] - f[:-1]).reshape(len(f) - 1, -1).mean(axis=1)
    return float(np.mean((255.0 - diffs) / 255.0))


def warping_error(frames: np.ndarray, flows: list[FlowPair]) -> float | None:
    errors = []
    for t, pair in enumerate(flows):
        warped, inside = sample_along_flow(frames[t + 1], pair.forward)  # [H, W, 3]
        back_at_target, _ = sample_along_flow(pair.backward, pair.forward)  # backward flow looked up at x + f(x)
        round_trip = pair.forward + back_at_target
        mag = (pair.forward ** 2).sum(-1) + (back_at_target ** 2).sum(-1)
        visible = ((round_trip ** 2).sum(-1) < 0.01 * mag + 0.5) & inside
        if not visible.any():
            continue
        diff = (warped[visible] - frames[t][visible].astype(np.float32)) / 255.0
        errors.append(float(np.mean(diff.astype(np.float64) ** 2)))
    return float(np.mean(errors)) if errors else None


SSIM_RADIUS = 5  # the 11x11 Gaussian window (sigma 1.5) reaches 5 px each side


def ssim(a: np.ndarray, b: np.ndarray) -> float | None:
    """Mean SSIM of two grayscale images (Wang et al. 2004: Gaussian 11x11 window, sigma 1.5).

    As in Wang's reference code and scikit-image, the map is averaged without the 5 px border, where the
    window would reach past the image; None when the image is too small to leave any pixel.
    """
    import cv2

    if min(a.shape) <= 2 * SSIM_RADIUS:
        return None
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x):
        window = 2 * SSIM_RADIUS + 1
        return cv2.GaussianBlur(x, (window, window), 1.5, borderType=cv2.BORDER_REFLECT)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2)
    inner = slice(SSIM_RADIUS, -SSIM_RADIUS)
    return float(np.mean((num / den)[inner, inner]))


def psnr(mse: float) -> float | None:
    return None if mse == 0 else float(10.0 * np.log10(255.0 ** 2 / mse))


def motion_magnitude(flows: list[FlowPair]) -> float:
    return float(np.mean([np.linalg.norm(p.forward, axis=-1).mean() for p in flows]))


VBENCH_FPS = 8  # VBench samples frames down to about this rate before dynamic degree


def dynamic_degree_interval(fps: float | None) -> int:
    """VBench's frame interval round(fps / 8) (Python rounding, as VBench), at least 1; 1 when fps is unknown."""
    return max(1, round(fps / VBENCH_FPS)) if fps else 1


def dynamic_degree(gray: np.ndarray, flows: list[FlowPair], interval: int = 1) -> float | None:
    """VBench's dynamic degree on every ``interval``-th frame (forward flow; None with fewer than 2 frames left).

    ``flows`` are the consecutive pairs' flows, reused when ``interval`` is 1.
    """
    sampled = gray[::interval]
    if len(sampled) < 2:
        return None
    forward = ([pair.forward for pair in flows] if interval == 1 else
               [farneback(sampled[t], sampled[t + 1]) for t in range(len(sampled) - 1)])
    threshold = 6.0 * min(gray.shape[1:3]) / 256.0
    needed = max(1, round(4 * len(sampled) / 16))
    moving = 0
    for flow in forward:
        mag = np.linalg.norm(flow, axis=-1).ravel()
        top = np.sort(mag)[-max(1, int(len(mag) * 0.05)):]
        moving += int(top.mean() > threshold)
    return 1.0 if moving >= needed else 0.0


def temporal_metrics(frames: np.ndarray, fps: float | None = None) -> dict[str, float | None]:
    """Every weight-free metric of one video, flow computed once (dynamic degree samples by ``fps`` first)."""
    frames = check_video(frames)
    gray = _gray(frames)
    flows = compute_flows(gray)
    pair_mse = [float(np.mean((frames[t + 1].astype(np.float64) - frames[t]) ** 2)) for t in range(len(frames) - 1)]
    flicker = temporal_flickering(frames)
    warp = warping_error(frames, flows)
    pair_ssim = [ssim(gray[t], gray[t + 1]) for t in range(len(gray) - 1)]
    ssim_mean = None if None in pair_ssim else float(np.mean(pair_ssim))
    consistency = (None if warp is None or ssim_mean is None
                   else float(np.mean([flicker, ssim_mean, 1.0 / (1.0 + 100.0 * warp)])))
    return {
        "temporal_flickering": flicker,
        "warping_error": warp,
        "consecutive_ssim": ssim_mean,
        "consecutive_psnr": psnr(float(np.mean(pair_mse))),
        "motion_magnitude": motion_magnitude(flows),
        "dynamic_degree": dynamic_degree(gray, flows, dynamic_degree_interval(fps)),
        "temporal_consistency": consistency,
    }


def _temporal_pass(video: VideoContext) -> dict[str, float | None]:
    return temporal_metrics(video.frames, video.fps)


def _from_pass(name: str, null_reason: str = "no unoccluded pixels between consecutive frames"
               ) -> Callable[[VideoContext], float | Null]:
    """One metric of the shared temporal pass (flow computed once per video for all of them).

    Flow-based values are null only when no pixel survives the occlusion check; PSNR names its own reason.
    """
    def score(video: VideoContext) -> float | Null:
        value = video.shared(_temporal_pass)[name]
        return Null(null_reason) if value is None else value
    return score


SPECS = [
    MetricSpec("temporal_flickering", True, "video", "mean", None, "score 0-1",
               "1 - mean absolute difference of consecutive frames / 255 (VBench)",
               score_video=_from_pass("temporal_flickering")),
    MetricSpec("warping_error", False, "video", "mean", None, "MSE on [0,1]",
               "Farneback-flow warping error on unoccluded pixels (classical flow, not RAFT)",
               score_video=_from_pass("warping_error")),
    MetricSpec("consecutive_ssim", True, "video", "mean", None, "SSIM",
               "SSIM (Wang et al. 2004, 5 px border cropped) of consecutive grayscale frames",
               score_video=_from_pass("consecutive_ssim", "frames smaller than SSIM's 11x11 window")),
    MetricSpec("consecutive_psnr", True, "video", "mean", None, "dB",
               "PSNR over consecutive frames; null when frames are identical",
               score_video=_from_pass("consecutive_psnr", "all consecutive frames identical: PSNR unbounded")),
    MetricSpec("motion_magnitude", None, "video", "mean", None, "px/frame",
               "Mean forward optical-flow magnitude", score_video=_from_pass("motion_magnitude")),
    MetricSpec("dynamic_degree", None, "video", "mean", None, "fraction of videos",
               "VBench dynamic degree rule on Farneback flow, frames sampled to about 8 fps",
               score_video=_from_pass("dynamic_degree", "fewer than 2 frames left after sampling down to about 8 fps"),
               binary=True),
    MetricSpec("temporal_consistency", True, "video", "mean", None, "score 0-1",
               "Mean of temporal_flickering, consecutive_ssim and 1/(1+100*warping_error)",
               score_video=_from_pass("temporal_consistency",
                                      "warping error or SSIM undefined for this video (see their reasons)")),
]
