"""Optimization profiles: how a pipeline is loaded (precision, compile, memory savers).

A setting the hardware cannot honour is refused with a clear error rather than
silently changed: fp16/bf16 on a CPU are refused for timing runs because CPU
half-precision kernels are slow emulations that would misstate performance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from app.errors import ValidationError

Precision = Literal["fp32", "fp16", "bf16"]


@dataclass(frozen=True)
class OptimizationProfile:
    precision: Precision = "fp32"
    compile_model: bool = False
    memory_efficient: bool = False
    channels_last: bool = False
    tensorrt_optimization: bool = False
    name: str = "custom"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def torch_dtype(self):
        import torch

        return {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}[self.precision]

    def check_device(self, device: str) -> None:
        if self.precision not in ("fp32", "fp16", "bf16"):
            raise ValidationError(f"Unknown precision '{self.precision}'", {"allowed": ["fp32", "fp16", "bf16"]})
        if device == "cpu" and self.precision != "fp32":
            raise ValidationError(
                f"precision {self.precision} is not supported on the CPU; use fp32 or a CUDA device",
                {"precision": self.precision, "device": device},
            )
        if self.memory_efficient and not device.startswith("cuda"):
            raise ValidationError(
                "memory_efficient (model CPU offload) needs a CUDA device",
                {"setting": "memory_efficient", "device": device},
            )
        if self.tensorrt_optimization:
            raise ValidationError(
                "TensorRT optimization is not supported by this build", {"setting": "tensorrt_optimization"}
            )


PROFILES: dict[str, OptimizationProfile] = {
    "baseline": OptimizationProfile(precision="fp32", name="baseline"),
    "balanced": OptimizationProfile(precision="fp16", memory_efficient=True, name="balanced"),
    "performance": OptimizationProfile(precision="fp16", compile_model=True, channels_last=True, name="performance"),
}


def get_profile(name_or_profile: str | OptimizationProfile | None) -> OptimizationProfile:
    if name_or_profile is None:
        return PROFILES["baseline"]
    if isinstance(name_or_profile, OptimizationProfile):
        return name_or_profile
    try:
        return PROFILES[name_or_profile]
    except KeyError:
        raise ValidationError(
            f"Unknown optimization level '{name_or_profile}'", {"allowed": sorted(PROFILES)}
        ) from None


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a GPU is visible, else 'cpu'. Unavailable CUDA is an error, not a fallback."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValidationError(f"device '{device}' requested but no CUDA device is available", {"device": device})
    if device != "cpu" and not device.startswith("cuda"):
        raise ValidationError(f"Unknown device '{device}'", {"allowed": ["auto", "cpu", "cuda", "cuda:N"]})
    return device


def cap_cuda_memory(device: str, fraction: float) -> float | None:
    """Limit this process's CUDA allocations on ``device`` to ``fraction`` of its memory (an allocation beyond it
    raises torch.OutOfMemoryError); returns the fraction set, or None on the CPU or when nothing is capped."""
    if not device.startswith("cuda") or fraction >= 1.0:
        return None
    import torch

    index = torch.device(device).index
    torch.cuda.set_per_process_memory_fraction(fraction, torch.cuda.current_device() if index is None else index)
    return fraction


def synchronize(device: str) -> None:
    """Wait for queued GPU work so a clock read covers it; nothing to do on the CPU."""
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize(device)


def apply_channels_last(module) -> int:
    """channels_last for 2D convolutions and channels_last_3d for 3D ones; returns how many were converted.

    Video denoisers mix both, so one module-wide memory format would fail on the other kind.
    """
    import torch

    converted = 0
    for sub in module.modules():
        if isinstance(sub, torch.nn.Conv2d):
            sub.to(memory_format=torch.channels_last)
            converted += 1
        elif isinstance(sub, torch.nn.Conv3d):
            sub.to(memory_format=torch.channels_last_3d)
            converted += 1
    return converted


def apply_memory_savers(pipeline, device: str) -> list[str]:
    """Attention slicing, VAE tiling and model CPU offload, each where the pipeline supports it.

    Returns the names of what was enabled, for the result's provenance. Offload moves the
    pipeline's modules to the GPU one at a time, so the pipeline is not moved as a whole.
    """
    enabled = []
    if hasattr(pipeline, "enable_attention_slicing"):
        pipeline.enable_attention_slicing()
        enabled.append("attention_slicing")
    vae = getattr(pipeline, "vae", None)
    if vae is not None and hasattr(vae, "enable_tiling"):
        try:
            vae.enable_tiling()
            enabled.append("vae_tiling")
        except (NotImplementedError, ValueError):  # some VAEs (temporal decoders) have no tiled path
            pass
    if hasattr(pipeline, "enable_model_cpu_offload"):
        pipeline.enable_model_cpu_offload(device=device)
        enabled.append("model_cpu_offload")
    else:
        pipeline.to(device)
    return enabled
