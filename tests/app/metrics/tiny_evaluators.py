"""Tiny evaluator networks with the real interfaces, built inside the tests.

They exercise the loading paths (TorchScript files, a transformers CLIP saved
with save_pretrained) without the real weights, which cannot be downloaded here.
"""

from __future__ import annotations

from pathlib import Path

import torch


class TinyI3D(torch.nn.Module):
    """Same call as the FVD I3D TorchScript: (videos [N,3,T,224,224] in [-1,1], flags) -> [N, 400]."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.proj = torch.nn.Linear(3 * 2 * 4 * 4, 400)

    def forward(
        self, x: torch.Tensor, rescale: bool = False, resize: bool = False, return_features: bool = False
    ) -> torch.Tensor:
        pooled = torch.nn.functional.adaptive_avg_pool3d(x, (2, 4, 4)).flatten(1)
        logits = self.proj(pooled)
        return logits if return_features else torch.softmax(logits, dim=-1)


class TinyInception(torch.nn.Module):
    """Same call as the StyleGAN2-ADA Inception TorchScript: (uint8 [N,3,H,W], flags) -> probabilities [N, 1008]."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.proj = torch.nn.Linear(3 * 4 * 4, 1008)

    def forward(self, x: torch.Tensor, return_features: bool = False, no_output_bias: bool = False) -> torch.Tensor:
        pooled = torch.nn.functional.adaptive_avg_pool2d(x.float() / 255.0, (4, 4)).flatten(1)
        logits = self.proj(pooled) * 20.0
        return logits if return_features else torch.softmax(logits, dim=-1)


def save_torchscript(module: torch.nn.Module, path: Path) -> Path:
    torch.jit.script(module).save(str(path))
    return path


def save_tiny_clip(path: Path) -> Path:
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor

    from app.catalog.tiny import build_clip_tokenizer

    tokenizer = build_clip_tokenizer(path / "_tok")
    torch.manual_seed(0)
    config = CLIPConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 77,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=16,
    )
    CLIPModel(config).save_pretrained(path / "clip")
    CLIPProcessor(
        image_processor=CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}),
        tokenizer=tokenizer,
    ).save_pretrained(path / "clip")
    return path / "clip"


def install_all(weights_dir: Path, scratch: Path) -> None:
    from app.metrics.weights import install

    scratch.mkdir(parents=True, exist_ok=True)
    install("i3d", save_torchscript(TinyI3D(), scratch / "i3d.pt"), weights_dir)
    install("inception", save_torchscript(TinyInception(), scratch / "inception.pt"), weights_dir)
    install("clip", save_tiny_clip(scratch), weights_dir)
