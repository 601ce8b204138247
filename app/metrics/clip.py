"""CLIP similarity between a prompt and a video.

Up to 8 frames are sampled uniformly; each is preprocessed by the CLIP
model's own image processor; frame embeddings are L2-normalised, averaged and
normalised again; the score is the cosine with the normalised prompt embedding
(raw cosine, not the x100 / clipped "CLIPScore" variant).
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

    def __call__(self, frames: np.ndarray, prompt: str) -> float:
        import torch

        index = np.unique(np.linspace(0, len(frames) - 1, num=min(SAMPLED_FRAMES, len(frames))).round().astype(int))
        images = [frames[i] for i in index]
        inputs = self.processor(text=[prompt], images=images, return_tensors="pt", padding=True, truncation=True)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            image_emb = self.model.get_image_features(pixel_values=inputs["pixel_values"])
            text_emb = self.model.get_text_features(input_ids=inputs["input_ids"],
                                                    attention_mask=inputs.get("attention_mask"))
        image_emb = getattr(image_emb, "pooler_output", image_emb)
        text_emb = getattr(text_emb, "pooler_output", text_emb)
        image_emb = torch.nn.functional.normalize(image_emb.double(), dim=-1)
        video_emb = torch.nn.functional.normalize(image_emb.mean(dim=0), dim=-1)
        text_emb = torch.nn.functional.normalize(text_emb.double()[0], dim=-1)
        return float(video_emb @ text_emb)


def _clip_similarity(video: VideoContext) -> float:
    return video.networks["clip"](video.frames, video.prompt)


LOADERS = {"clip": ClipSimilarity}
SPECS = [
    MetricSpec("clip_similarity", True, "video", "mean", "clip", "cosine",
               "Cosine of the prompt embedding with the normalised mean of frame embeddings (CLIP ViT-B/32)",
               score_video=_clip_similarity, aliases=("clip_score", "clip")),
]
