"""Inception Score of video frames.

Variant: every frame is a sample; InceptionV3 TorchScript with the TF
2015-12-05 weights (the StyleGAN2-ADA release, 1008 classes) gives class
probabilities with the output bias removed, as StyleGAN's IS does; frames are
resized to 299x299 (bilinear). IS = exp(E_x KL(p(y|x) || p(y))), mean and std
over 10 splits (fewer when there are fewer than 10 frames in all).
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


def inception_score(probs: np.ndarray, splits: int = 10) -> dict:
    probs = np.asarray(probs, np.float64)
    n = len(probs)
    if n < 2:
        return {"value": None, "reason": f"Inception Score needs at least 2 frames (have {n})", "n": n}
    splits = min(splits, n)
    scores = []
    for part in np.array_split(probs, splits):
        marginal = part.mean(axis=0, keepdims=True)
        kl = part * (np.log(np.clip(part, 1e-12, None)) - np.log(np.clip(marginal, 1e-12, None)))
        scores.append(float(np.exp(kl.sum(axis=1).mean())))
    return {"value": float(np.mean(scores)), "std": float(np.std(scores)), "splits": splits, "n": n}


def _frame_probabilities(video: VideoContext) -> list[list[float]]:
    return video.networks["inception"](video.frames).tolist()


def _inception_score_of_set(context: SetContext) -> SetAggregate:
    probs = [p for video in context.features for p in video]
    if not probs:
        return SetAggregate(None, reason="no frames scored")
    result = inception_score(np.asarray(probs))
    return SetAggregate(result["value"], n=result["n"], reason=result.get("reason"),
                        details={k: v for k, v in result.items() if k not in ("value", "reason")})


LOADERS = {"inception": InceptionProbabilities}
SPECS = [
    MetricSpec("inception_score", True, "set", "set", "inception", "score",
               "Per-frame Inception Score, InceptionV3 (TF 2015-12-05 weights, 1008 classes), 10 splits",
               features=_frame_probabilities, aggregate_set=_inception_score_of_set, aliases=("is",)),
]
