"""Inception Score of video frames.

Variant: every frame is a sample; InceptionV3 TorchScript with the TF
2015-12-05 weights (the StyleGAN2-ADA release, 1008 classes) gives class
probabilities with the output bias removed, as StyleGAN's IS does; frames are
resized to 299x299 (bilinear). IS = exp(E_x KL(p(y|x) || p(y))).

Splits follow StyleGAN2-ADA's metrics/inception_score.py (also StyleGAN-V's):
split i holds samples [i*N//S, (i+1)*N//S), the value is the mean of the
splits' scores and the std is numpy's (ddof=0). Two deviations, both for
video: frames are shuffled with a fixed seed first (in video order each split
would hold one or two videos and IS would measure within-video diversity), and
every split must hold at least MIN_FRAMES_PER_SPLIT frames, so S =
min(10, N // MIN_FRAMES_PER_SPLIT); with fewer frames IS is null with the
reason. Values are comparable only at equal N and S.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.metrics.spec import MetricSpec, SetAggregate, SetContext, VideoContext


class InceptionProbabilities:
    def __init__(self, path: Path, device: str = "cpu"):
        import torch

        self.device = device
        self.model = torch.jit.load(str(path), map_location=device).eval()

    def __call__(self, frames: np.ndarray) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        images = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
        images = F.interpolate(images, size=(299, 299), mode="bilinear", align_corners=False)
        images = images.round().clamp(0, 255).to(torch.uint8).to(self.device)
        with torch.inference_mode():
            probs = self.model(images, no_output_bias=True)
        return probs.detach().cpu().double().numpy()


SPLITS = 10
MIN_FRAMES_PER_SPLIT = 50  # a split's IS is at most its size: tiny splits pull every IS towards 1
SHUFFLE_SEED = 0


def inception_score(probs: np.ndarray, max_splits: int = SPLITS, min_per_split: int = MIN_FRAMES_PER_SPLIT) -> dict:
    """IS of class probabilities [N, classes] (frames of all videos, in video order) with its protocol."""
    probs = np.asarray(probs, np.float64)
    n = len(probs)
    splits = min(max_splits, n // min_per_split)
    protocol = {
        "n": n,
        "splits": splits,
        "min_frames_per_split": min_per_split,
        "shuffle_seed": SHUFFLE_SEED,
        "std_ddof": 0,
        "reference": "StyleGAN2-ADA / StyleGAN-V metrics/inception_score.py",
    }
    if splits < 1:
        return {
            "value": None,
            "reason": f"Inception Score needs at least {min_per_split} frames per split (have {n} frames in all)",
            **protocol,
        }
    probs = probs[np.random.default_rng(SHUFFLE_SEED).permutation(n)]  # mix videos across splits
    scores = []
    for i in range(splits):
        part = probs[i * n // splits : (i + 1) * n // splits]
        marginal = part.mean(axis=0, keepdims=True)
        kl = part * (np.log(np.clip(part, 1e-12, None)) - np.log(np.clip(marginal, 1e-12, None)))
        scores.append(float(np.exp(kl.sum(axis=1).mean())))
    return {"value": float(np.mean(scores)), "std": float(np.std(scores)), **protocol}


def _frame_probabilities(video: VideoContext) -> list[list[float]]:
    return video.networks["inception"](video.frames).tolist()


def _inception_score_of_set(context: SetContext) -> SetAggregate:
    probs = [p for video in context.features for p in video]
    if not probs:
        return SetAggregate(None, reason="no frames scored")
    result = inception_score(np.asarray(probs))
    return SetAggregate(
        result["value"],
        n=result["n"],
        reason=result.get("reason"),
        details={k: v for k, v in result.items() if k not in ("value", "reason")},
    )


LOADERS = {"inception": InceptionProbabilities}
SPECS = [
    MetricSpec(
        "inception_score",
        True,
        "set",
        "set",
        "inception",
        "score",
        "Per-frame Inception Score, InceptionV3 (TF 2015-12-05 weights, 1008 classes), frames shuffled "
        "(seed 0), up to 10 splits of 50+ frames",
        features=_frame_probabilities,
        aggregate_set=_inception_score_of_set,
        aliases=("is",),
    ),
]
