"""Weight-free video metrics: flicker, warping error, consecutive SSIM / PSNR, motion.

All take uint8 frames [T, H, W, 3]. Dense optical flow (OpenCV DIS by default,
Farneback selectable, on grayscale) is computed once per consecutive pair in both
directions and shared by warping error, motion magnitude and dynamic degree.
SSIM, PSNR and flicker are computed over all consecutive pairs at once.

Definitions (also in docs/metrics.md):
- temporal_flickering = (255 - mean |F_t+1 - F_t|) / 255, averaged over pairs
  (VBench's definition, on the 0-255 scale). 1 means no change at all.
- warping_error: F_t+1 is warped back onto F_t with the forward flow; pixels
  failing the forward-backward consistency check (Sundaram et al. 2010) are
  occluded and excluded, as are points warped from outside the frame; the MSE
  of the rest on the [0, 1] scale (mean over channels), averaged over pairs.
  Classical flow (DIS or Farneback) is used instead of RAFT (no weights needed).
- consecutive_ssim: SSIM (Gaussian 11x11, sigma 1.5, K1 0.01, K2 0.03, L 255,
  5 px border cropped as in Wang's code and scikit-image) of each consecutive
  pair of grayscale frames, averaged.
- consecutive_psnr: 10 log10(255^2 / MSE) over all consecutive pairs' pixels;
  null when all consecutive frames are identical (PSNR is unbounded).
- motion_magnitude: mean forward-flow magnitude in pixels per frame.
- dynamic_degree: VBench's rule applied to the classical flow: frames are first
  sampled every round(fps / 8) (about 8 fps); a sampled pair is "moving" when
  the mean of its top 5% flow magnitudes exceeds 6 * min(H, W) / 256; the
  video is dynamic (1.0) when at least round(4 * T' / 16) pairs move (T' the
  sampled frames), else 0.0.
- temporal_consistency = mean(temporal_flickering, consecutive_ssim,
  1 / (1 + 100 * warping_error)): three views of frame-to-frame stability,
  each in [0, 1], higher is better.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from app.errors import ValidationError
from app.metrics.spec import MetricSpec, Null, VideoContext


def check_video(frames: np.ndarray, min_frames: int = 2) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValidationError(
            "video must be uint8 frames shaped [T, H, W, 3]", {"shape": list(frames.shape), "dtype": str(frames.dtype)}
        )
    if frames.shape[0] < min_frames:
        raise ValidationError(
            f"video has {frames.shape[0]} frames; this metric needs at least {min_frames}",
            {"num_frames": int(frames.shape[0]), "min_frames": min_frames},
        )
    return frames


def _gray(frames: np.ndarray) -> np.ndarray:
    import cv2

    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


@dataclass
class FlowPair:
    forward: np.ndarray  # [H, W, 2] flow from frame t to t+1
    backward: np.ndarray | None  # [H, W, 2] flow from frame t+1 to t; None where only the forward one is needed
    _magnitude: np.ndarray | None = None
    _planes: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def planes(self) -> tuple[np.ndarray, np.ndarray]:
        """The forward flow's x and y components as contiguous planes, split once."""
        if self._planes is None:
            import cv2

            self._planes = tuple(cv2.split(np.ascontiguousarray(self.forward, dtype=np.float32)))
        return self._planes

    @property
    def magnitude(self) -> np.ndarray:
        """|forward| per pixel [H, W], computed once (motion magnitude and dynamic degree share it)."""
        if self._magnitude is None:
            import cv2

            self._magnitude = cv2.magnitude(*self.planes)
        return self._magnitude


def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.calcOpticalFlowFarneback(
        a, b, None, pyr_scale=0.5, levels=3, winsize=15, iterations=3, poly_n=5, poly_sigma=1.2, flags=0
    )


_DIS = threading.local()  # a DIS object per thread and preset: creating one per pair costs, sharing one is unsafe


def _dis(preset_name: str, patch_stride: int | None = None) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """DIS flow at an OpenCV preset, optionally with denser patches (a smaller stride than the preset's 4)."""
    key = (preset_name, patch_stride)

    def flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        import cv2

        cache = _DIS.__dict__.setdefault("by_config", {})
        if key not in cache:
            dis = cv2.DISOpticalFlow.create(getattr(cv2, f"DISOPTICAL_FLOW_PRESET_{preset_name}"))
            if patch_stride is not None:
                dis.setPatchStride(patch_stride)
            cache[key] = dis
        return cache[key].calc(a, b, None)

    return flow


@dataclass(frozen=True)
class FlowMethod:
    name: str
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (gray t, gray t+1) -> [H, W, 2] float32
    description: str


FLOW_METHODS = {
    m.name: m
    for m in (
        FlowMethod(
            "dis",
            _dis("FAST", patch_stride=3),
            "OpenCV DIS optical flow (Kroeger et al. 2016), preset FAST with patch stride 3",
        ),
        FlowMethod("dis-medium", _dis("MEDIUM"), "OpenCV DIS optical flow (Kroeger et al. 2016), preset MEDIUM"),
        FlowMethod(
            "farneback",
            farneback,
            "OpenCV Farneback (pyramid 0.5, 3 levels, window 15, 3 iterations, poly_n 5, poly_sigma 1.2)",
        ),
    )
}
DEFAULT_FLOW_METHOD = "dis"
"""Chosen on benchmarks/flow_methods.py: lower end-point error than Farneback on known translation, rotation and
zoom, at about a tenth of its time (docs/metrics.md has the figures)."""


def flow_method(name: str | None) -> FlowMethod:
    """The named flow method (None: the default); an unknown name is a ValidationError."""
    name = name or DEFAULT_FLOW_METHOD
    if name not in FLOW_METHODS:
        raise ValidationError(
            f"Unknown optical flow method '{name}'", {"flow_method": name, "known": sorted(FLOW_METHODS)}
        )
    return FLOW_METHODS[name]


def flow_provenance(name: str | None) -> dict[str, str]:
    import cv2

    method = flow_method(name)
    return {"method": method.name, "description": method.description, "opencv": cv2.__version__}


def compute_flows(gray: np.ndarray, method: str | None = None) -> list[FlowPair]:
    flow = flow_method(method).compute
    return [FlowPair(flow(gray[t], gray[t + 1]), flow(gray[t + 1], gray[t])) for t in range(len(gray) - 1)]


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    return np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))


def sample_along_flow(
    image: np.ndarray,
    flow: np.ndarray,
    grid: tuple[np.ndarray, np.ndarray] | None = None,
    planes: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(image(x + flow(x)) with bilinear interpolation, mask of the points x + flow(x) inside the frame).

    The mask is computed from the coordinates, not from the interpolation's border, so a point on the last
    row or column (x = W - 1 exactly) counts as inside. ``grid`` (the pixel coordinates) can be passed in
    when many images of one size are sampled, and ``planes`` (the flow split into x and y) when known.
    """
    import cv2

    h, w = flow.shape[:2]
    grid_x, grid_y = grid or _grid(h, w)
    flow_x, flow_y = planes or (flow[..., 0], flow[..., 1])
    map_x, map_y = grid_x + flow_x, grid_y + flow_y
    inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    out = cv2.remap(
        image.astype(np.float32, copy=False),
        map_x,
        map_y,
        interpolation=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )
    return out, inside


def temporal_flickering(frames: np.ndarray) -> float:
    return float(np.mean((255.0 - _pair_abs_diff(frames)) / 255.0))


def _pair_norms(frames: np.ndarray, norm_type: int) -> np.ndarray:
    import cv2

    size = frames[0].size
    return np.array([cv2.norm(frames[t + 1], frames[t], norm_type) for t in range(len(frames) - 1)]) / size


def _pair_abs_diff(frames: np.ndarray) -> np.ndarray:
    """Mean |F_t+1 - F_t| of every consecutive pair (OpenCV's L1 norm of the difference: exact on uint8)."""
    import cv2

    return _pair_norms(frames, cv2.NORM_L1)


def pair_mse(frames: np.ndarray) -> np.ndarray:
    """MSE of every consecutive pair on the 0-255 scale (OpenCV's squared L2 norm: exact on uint8)."""
    import cv2

    return _pair_norms(frames, cv2.NORM_L2SQR)


def warping_error(frames: np.ndarray, flows: list[FlowPair]) -> float | None:
    import cv2

    errors = []
    grid = _grid(*frames.shape[1:3])
    for t, pair in enumerate(flows):
        if pair.backward is None:
            raise ValueError("The warping error needs the backward flow of every pair")
        warped, inside = sample_along_flow(frames[t + 1], pair.forward, grid, pair.planes)  # [H, W, 3]
        back_at_target, _ = sample_along_flow(pair.backward, pair.forward, grid, pair.planes)  # b at x + f(x)
        (fx, fy), (bx, by) = pair.planes, cv2.split(back_at_target)  # contiguous planes: fast below
        round_trip = (fx + bx) ** 2 + (fy + by) ** 2
        mag = fx * fx + fy * fy + bx * bx + by * by
        visible = (round_trip < 0.01 * mag + 0.5) & inside
        if not visible.any():
            continue
        diff = warped - frames[t]  # float32 [H, W, 3]
        channel_means = cv2.mean(diff * diff, mask=visible.view(np.uint8))[:3]  # over visible pixels, in float64
        errors.append(float(np.mean(channel_means) / 255.0**2))
    return float(np.mean(errors)) if errors else None


SSIM_RADIUS = 5  # the 11x11 Gaussian window (sigma 1.5) reaches 5 px each side
CENTRE = 128.0


def _blur(x: np.ndarray) -> np.ndarray:
    """SSIM's Gaussian window over a 2-D float32 plane (frames laid side by side; see ssim_pairs)."""
    import cv2

    window = 2 * SSIM_RADIUS + 1
    return cv2.GaussianBlur(x, (window, window), 1.5, borderType=cv2.BORDER_REFLECT)


def ssim_pairs(gray: np.ndarray) -> np.ndarray | None:
    """Mean SSIM of every consecutive pair of grayscale frames [T, H, W], all pairs at once.

    The frames are laid side by side in one [H, T*W] plane, so each moment is one blur call: the window
    crosses from one frame into the next only within 5 px of a frame's edge, the border SSIM crops anyway.
    Each frame's mean and second moment is blurred once and shared by its two pairs. None when the frames
    are too small for the window.
    """
    if min(gray.shape[1:]) <= 2 * SSIM_RADIUS:
        return None
    t, h, w = gray.shape
    # float32 on values centred at 0 (|x| <= 128, so the second moments keep ~1e-3 absolute precision next to
    # C2 = 58.5); the means are shifted back for the luminance term, which is not shift-invariant.
    g = (gray.astype(np.float32) - np.float32(CENTRE)).transpose(1, 0, 2).reshape(h, t * w)
    c1, c2 = np.float32((0.01 * 255) ** 2), np.float32((0.03 * 255) ** 2)
    mu_c = _blur(g)
    var = _blur(g * g)
    var -= mu_c * mu_c  # per frame: sigma^2 (shift-invariant)
    mu = mu_c + np.float32(CENTRE)
    mu_sq = mu * mu  # per frame
    cov = _blur(g[:, :-w] * g[:, w:])  # per pair: E[ab] - mu_a mu_b (centred)
    cov -= mu_c[:, :-w] * mu_c[:, w:]
    num = mu[:, :-w] * mu[:, w:]  # per pair, in place from here: (2 mu_a mu_b + C1)(2 cov + C2)
    num *= 2
    num += c1
    cov *= 2
    cov += c2
    num *= cov
    den = mu_sq[:, :-w] + mu_sq[:, w:]  # (mu_a^2 + mu_b^2 + C1)(var_a + var_b + C2)
    den += c1
    spread = var[:, :-w] + var[:, w:]
    spread += c2
    den *= spread
    num /= den
    inner = slice(SSIM_RADIUS, -SSIM_RADIUS)
    return num.reshape(h, t - 1, w)[inner, :, inner].mean(axis=(0, 2), dtype=np.float64)


def ssim(a: np.ndarray, b: np.ndarray) -> float | None:
    """Mean SSIM of two grayscale images (Wang et al. 2004: Gaussian 11x11 window, sigma 1.5).

    As in Wang's reference code and scikit-image, the map is averaged without the 5 px border, where the
    window would reach past the image; None when the image is too small to leave any pixel.
    """
    values = ssim_pairs(np.stack([a, b]))
    return None if values is None else float(values[0])


def psnr(mse: float) -> float | None:
    return None if mse == 0 else float(10.0 * np.log10(255.0**2 / mse))


def motion_magnitude(flows: list[FlowPair]) -> float:
    return float(np.mean([p.magnitude.mean(dtype=np.float64) for p in flows]))


VBENCH_FPS = 8  # VBench samples frames down to about this rate before dynamic degree


def dynamic_degree_interval(fps: float | None) -> int:
    """VBench's frame interval round(fps / 8) (Python rounding, as VBench), at least 1; 1 when fps is unknown."""
    return max(1, round(fps / VBENCH_FPS)) if fps else 1


def dynamic_degree(
    gray: np.ndarray, flows: list[FlowPair], interval: int = 1, method: str | None = None
) -> float | None:
    """VBench's dynamic degree on every ``interval``-th frame (forward flow; None with fewer than 2 frames left).

    ``flows`` are the consecutive pairs' flows, reused when ``interval`` is 1.
    """
    sampled = gray[::interval]
    if len(sampled) < 2:
        return None
    magnitudes = (
        [pair.magnitude for pair in flows]
        if interval == 1
        else [
            FlowPair(flow_method(method).compute(sampled[t], sampled[t + 1]), None).magnitude
            for t in range(len(sampled) - 1)
        ]
    )
    threshold = 6.0 * min(gray.shape[1:3]) / 256.0
    needed = max(1, round(4 * len(sampled) / 16))
    moving = 0
    for magnitude in magnitudes:
        mag = magnitude.ravel()
        k = max(1, int(len(mag) * 0.05))
        top = np.partition(mag, len(mag) - k)[-k:]
        moving += int(top.mean() > threshold)
    return 1.0 if moving >= needed else 0.0


def temporal_metrics(frames: np.ndarray, fps: float | None = None, flow: str | None = None) -> dict[str, float | None]:
    """Every weight-free metric of one video, flow computed once (dynamic degree samples by ``fps`` first).

    ``flow`` names the optical flow method (FLOW_METHODS; None: DEFAULT_FLOW_METHOD).
    """
    frames = check_video(frames)
    gray = _gray(frames)
    flows = compute_flows(gray, flow)
    flicker = temporal_flickering(frames)
    warp = warping_error(frames, flows)
    pair_ssim = ssim_pairs(gray)
    ssim_mean = None if pair_ssim is None else float(np.mean(pair_ssim))
    consistency = (
        None if warp is None or ssim_mean is None else float(np.mean([flicker, ssim_mean, 1.0 / (1.0 + 100.0 * warp)]))
    )
    return {
        "temporal_flickering": flicker,
        "warping_error": warp,
        "consecutive_ssim": ssim_mean,
        "consecutive_psnr": psnr(float(np.mean(pair_mse(frames)))),
        "motion_magnitude": motion_magnitude(flows),
        "dynamic_degree": dynamic_degree(gray, flows, dynamic_degree_interval(fps), flow),
        "temporal_consistency": consistency,
    }


def _temporal_pass(video: VideoContext) -> dict[str, float | None]:
    return temporal_metrics(video.frames, video.fps, video.options.get("flow_method"))


def _from_pass(
    name: str, null_reason: str = "no unoccluded pixels between consecutive frames"
) -> Callable[[VideoContext], float | Null]:
    """One metric of the shared temporal pass (flow computed once per video for all of them).

    Flow-based values are null only when no pixel survives the occlusion check; PSNR names its own reason.
    """

    def score(video: VideoContext) -> float | Null:
        value = video.shared(_temporal_pass)[name]
        return Null(null_reason) if value is None else value

    return score


SPECS = [
    MetricSpec(
        "temporal_flickering",
        True,
        "video",
        "mean",
        None,
        "score 0-1",
        "1 - mean absolute difference of consecutive frames / 255 (VBench)",
        score_video=_from_pass("temporal_flickering"),
    ),
    MetricSpec(
        "warping_error",
        False,
        "video",
        "mean",
        None,
        "MSE on [0,1]",
        "Warping error on unoccluded pixels along classical optical flow (DIS by default, not RAFT)",
        score_video=_from_pass("warping_error"),
    ),
    MetricSpec(
        "consecutive_ssim",
        True,
        "video",
        "mean",
        None,
        "SSIM",
        "SSIM (Wang et al. 2004, 5 px border cropped) of consecutive grayscale frames",
        score_video=_from_pass("consecutive_ssim", "frames smaller than SSIM's 11x11 window"),
    ),
    MetricSpec(
        "consecutive_psnr",
        True,
        "video",
        "mean",
        None,
        "dB",
        "PSNR over consecutive frames; null when frames are identical",
        score_video=_from_pass("consecutive_psnr", "all consecutive frames identical: PSNR unbounded"),
    ),
    MetricSpec(
        "motion_magnitude",
        None,
        "video",
        "mean",
        None,
        "px/frame",
        "Mean forward optical-flow magnitude",
        score_video=_from_pass("motion_magnitude"),
    ),
    MetricSpec(
        "dynamic_degree",
        None,
        "video",
        "mean",
        None,
        "fraction of videos",
        "VBench dynamic degree rule on classical optical flow, frames sampled to about 8 fps",
        score_video=_from_pass("dynamic_degree", "fewer than 2 frames left after sampling down to about 8 fps"),
        binary=True,
    ),
    MetricSpec(
        "temporal_consistency",
        True,
        "video",
        "mean",
        None,
        "score 0-1",
        "Mean of temporal_flickering, consecutive_ssim and 1/(1+100*warping_error)",
        score_video=_from_pass(
            "temporal_consistency", "warping error or SSIM undefined for this video (see their reasons)"
        ),
    ),
]
