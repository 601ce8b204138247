"""Provenance: what produced a result (software, hardware, settings), stored with every benchmark."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

PACKAGES = ["torch", "diffusers", "transformers", "ray", "vid-diffusion-bench", "numpy", "opencv-python-headless"]


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def device_info(device: str) -> dict[str, Any]:
    """Name and driver of the device a worker generates on."""
    info: dict[str, Any] = {
        "device": device,
        "host": platform.node(),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
    }
    if device.startswith("cuda"):
        import torch

        index = torch.device(device).index or 0
        info["gpu_name"] = torch.cuda.get_device_name(index)
        info["cuda_version"] = torch.version.cuda
        try:
            import pynvml

            pynvml.nvmlInit()
            info["driver_version"] = pynvml.nvmlSystemGetDriverVersion()
        except Exception as exc:  # noqa: BLE001 - driver version is informative only; say why it is missing
            info["driver_version"] = None
            info["driver_version_reason"] = str(exc)
    return info
