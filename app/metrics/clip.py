"""CLIP similarity and CLIPScore between a prompt and a video.

Up to 8 frames are sampled uniformly; each is preprocessed by the CLIP
model's own image processor. With frame embeddings e_f and the prompt's t, all
L2-normalised, and m the mean of the e_f:

- clip_similarity = cos(m, t): the normalised mean frame embedding against
  the text (a raw cosine in [-1, 1]);
- the mean per-frame cosine, mean_f cos(e_f, t), equals |m| * clip_similarity
  (|m| <= 1, smaller when frames differ), so it is never larger in magnitude;
- clipscore = mean_f 2.5 * max(cos(e_f, t), 0): CLIPScore (Hess et al. 2021,
  w = 2.5) of each sampled frame, averaged over the frames, the convention
  papers report as CLIPScore (often x100).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from app.metrics.spec import MetricSpec, VideoContext

SAMPLED_FRAMES = 8


class ClipSimilarity:
    def __init__(self, path: Path, device: str = "cpu"):
        from transformers import CLIPModel, CLIPProcessor

        self.device = device
        self.model = CLIPModel.from_pretrained(str(path)).to(device).eval()
        self.processor = CLIPProcessor.from_pretrained(str(path))

    def __call__(self, frames: np.ndarray, prompt: str) -> tuple[float, np.ndarray]:
        """(cosine of the normalised mean frame embedding with the prompt, each sampled frame's cosine)."""
        import torch

        index = np.unique(np.linspace(0, len(frames) - 1, num=min(SAMPLED_FRAMES, len(frames))).round().astype(int))
        images = [frames[i] for i in index]
        inputs = self.processor(text=[prompt], images=images, return_tensors="pt", padding=True, truncation=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            image_emb = self.model.get_image_features(pixel_values=inputs["pixel_values"])
            text_emb = self.model.get_text_features(
                input_ids=inputs["input_ids"], attention_mask=inputs.get("attention_mask")
            )
        image_emb = getattr(image_emb, "pooler_output", image_emb)
        text_emb = getattr(text_emb, "pooler_output", text_emb)
        image_emb = torch.nn.functional.normalize(image_emb.double(), dim=-1)
        video_emb = torch.nn.functional.normalize(image_emb.mean(dim=0), dim=-1)
        text_emb = torch.nn.functional.normalize(text_emb.double()[0], dim=-1)
        return float(video_emb @ text_emb), (image_emb @ text_emb).cpu().numpy()


CLIPSCORE_WEIGHT = 2.5  # Hess et al. 2021


def _clip_pass(video: VideoContext) -> tuple[float, np.ndarray]:
    return video.networks["clip"](video.frames, video.prompt)


def _clip_similarity(video: VideoContext) -> float:
    return video.shared(_clip_pass)[0]


def _clipscore(video: VideoContext) -> float:
    return float(np.mean(CLIPSCORE_WEIGHT * np.clip(video.shared(_clip_pass)[1], 0.0, None)))


LOADERS = {"clip": ClipSimilarity}
SPECS = [
    MetricSpec(
        "clip_similarity",
        True,
        "video",
        "mean",
        "clip",
        "cosine",
        "Cosine of the prompt embedding with the normalised mean of frame embeddings (CLIP ViT-B/32)",
        score_video=_clip_similarity,
        aliases=("clip_score", "clip"),
    ),
    MetricSpec(
        "clipscore",
        True,
        "video",
        "mean",
        "clip",
        "CLIPScore 0-2.5",
        "CLIPScore (Hess et al. 2021): 2.5*max(cos, 0) per sampled frame, mean over frames (CLIP ViT-B/32)",
        score_video=_clipscore,
    ),
]
