"""Health check of one catalog model, any modality: load it, then time one real generation with small settings.

Shared by every surface that checks a model outside a running deployment (the CLI today). A model that
cannot load raises its ModelLoadError: a health check never reports success it did not see.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from app.catalog.spec import ModelSpec
from app.engines.optimization import synchronize

PROMPT = "health check: a calm lake"


def make_engine(spec: ModelSpec, device: str = "auto", models_dir: Path | None = None):
    """The engine for the model's modality (nothing loaded yet); remote video models go through their endpoint."""
    if spec.modality == "video" and spec.source.kind == "remote":
        from app.engines.remote import RemoteVideoEngine

        return RemoteVideoEngine(spec)
    if spec.modality == "video":
        from app.engines.video import VideoEngine

        return VideoEngine(spec, device, None, models_dir)
    if spec.modality == "image":
        from app.engines.image import ImageEngine

        return ImageEngine(spec, device, None, models_dir)
    if spec.modality == "text":
        from app.engines.text import make_text_engine

        return make_text_engine(spec, device, None, models_dir)
    from app.engines.speech import SpeechEngine

    return SpeechEngine(spec, device, None, models_dir)


def _smallest(spec: ModelSpec, name: str) -> float | None:
    param = spec.parameters.get(name)
    if param is None:
        return None
    return min(param.choices) if param.choices is not None else param.min


def _smallest_resolution(spec: ModelSpec) -> tuple[int, int]:
    width, height = min((tuple(int(v) for v in r.split("x")) for r in spec.resolutions), key=lambda wh: wh[0] * wh[1])
    return width, height


def smoke_test(engine) -> dict[str, Any]:
    """One real generation with the smallest settings the catalog allows; returns what came out."""
    spec = engine.spec
    if spec.modality == "video":
        width, height = _smallest_resolution(spec)
        frames = _smallest(spec, "num_frames")
        steps = _smallest(spec, "num_inference_steps")
        overrides = {
            "num_frames": int(frames) if frames is not None else None,
            "width": width,
            "height": height,
            "num_inference_steps": int(steps) if steps is not None else None,
        }
        video = engine.generate(PROMPT, overrides, seed=0)
        return {"frames": video.num_frames, "shape": list(video.frames.shape), "fps": video.fps}
    if spec.modality == "image":
        width, height = _smallest_resolution(spec)
        steps = _smallest(spec, "num_inference_steps")
        image = engine.generate(
            PROMPT, seed=0, width=width, height=height, num_inference_steps=int(steps) if steps is not None else None
        )
        return {"width": image.width, "height": image.height, "mode": image.mode}
    if spec.modality == "text":
        text = engine.generate(engine.request(PROMPT, max_tokens=1, temperature=0.0))
        return {
            "tokens_generated": text.tokens_generated,
            "prompt_tokens": text.prompt_tokens,
            "finish_reason": text.finish_reason,
        }
    speech = engine.synthesize(PROMPT, seed=0)
    return {"duration_s": speech.duration_s, "sample_rate": speech.sample_rate, "wav_bytes": len(speech.wav)}


def health_check(spec: ModelSpec, device: str = "auto", models_dir: Path | None = None) -> dict[str, Any]:
    """Load the model and time one small real generation (device synchronized around the clock)."""
    engine = make_engine(spec, device, models_dir)
    load_s = engine.load()
    synchronize(engine.device)
    started = time.perf_counter()
    output = smoke_test(engine)
    synchronize(engine.device)
    generation_s = time.perf_counter() - started
    memory_gb = None
    if engine.device.startswith("cuda"):
        import torch

        memory_gb = torch.cuda.max_memory_allocated(engine.device) / 2**30
    return {
        "model_name": spec.name,
        "modality": spec.modality,
        "status": "healthy",
        "device": engine.device,
        "engine": getattr(engine, "name", type(engine).__name__),
        "load_time_ms": load_s * 1000,
        "test_generation_ms": generation_s * 1000,
        "peak_gpu_memory_gb": memory_gb,
        "output": output,
    }
