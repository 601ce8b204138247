"""StreamWorker: one loaded video model that generates one clip per call. Plain Python; the runner puts it in a
Ray actor. Frames stay in the worker: the stream needs when they exist, not their pixels."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

from app.config import Settings

PACKAGES = ("torch", "diffusers", "transformers", "ray", "vid-diffusion-bench")


class StreamWorker:
    def __init__(self, model_name: str, device: str, settings_json: dict[str, Any]):
        import torch

        from app.catalog.spec import get_catalog
        from app.engines.video import VideoEngine

        self.settings = Settings(**settings_json)
        torch.set_num_threads(self.settings.torch_threads_per_actor)
        self.engine = VideoEngine(get_catalog().get(model_name), device, None, self.settings.resolved_models_dir)
        self.load_s = self.engine.load()

    def info(self) -> dict[str, Any]:
        """Provenance of the worker: where and with what it generates."""
        versions: dict[str, str | None] = {}
        for name in PACKAGES:
            try:
                versions[name] = metadata.version(name)
            except metadata.PackageNotFoundError:
                versions[name] = None
        device = {
            "device": self.engine.device,
            "host": platform.node(),
            "python": platform.python_version(),
            "cpu": platform.processor() or platform.machine(),
        }
        if self.engine.device.startswith("cuda"):
            import torch

            device["gpu_name"] = torch.cuda.get_device_name(torch.device(self.engine.device).index or 0)
        return {
            "packages": versions,
            "device": device,
            "load_s": self.load_s,
            "torch_threads": self.settings.torch_threads_per_actor,
            "worker": f"{platform.node()}:{os.getpid()}",
        }

    def warm_up(self, rungs: list[dict[str, Any]], prompt: str, runs: int) -> int:
        """Untimed generations at every rung, so first-call costs of each shape stay out of the stream."""
        for rung in rungs:
            for k in range(runs):
                self.generate_clip(prompt, rung, seed=1_000_000 + k)
        return runs * len(rungs)

    def generate_clip(self, prompt: str, rung: dict[str, Any], seed: int) -> dict[str, Any]:
        """One clip at a rung: how many frames it has and the engine's own phase timings."""
        params = {"resolution": f"{rung['width']}x{rung['height']}", "num_frames": rung["num_frames"]}
        if rung.get("num_inference_steps") is not None:
            params["num_inference_steps"] = rung["num_inference_steps"]
        result = self.engine.generate(prompt, params, seed=seed)
        height, width = result.frames.shape[1:3]
        return {
            "num_frames": result.num_frames,
            "width": int(width),
            "height": int(height),
            "timings": result.timings.to_dict(),
            # diffusers decodes the whole latent clip in one VAE call and returns every frame at once:
            # no frame is displayable before the pipeline returns
            "frame_by_frame": False,
        }
