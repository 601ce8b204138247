"""Video generation: load a catalog video model and turn a prompt into frames.

Read top to bottom:
  1. validate the prompt and parameters against the catalog (before any load);
  2. load the pipeline once (device and dtype from the optimization profile);
  3. for image-to-video models, obtain the conditioning image (given, or made
     by the catalog's text-to-image model for this prompt and seed);
  4. run the pipeline with a seeded generator, timing encode / denoise / decode
     and reporting each finished step through ``on_step``;
  5. return uint8 frames [T, H, W, 3] with the timings.
Identical inputs (model, prompt, parameters, seed, device) give identical frames.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.catalog.spec import (
    GenerationParams,
    ModelSpec,
    check_timeout,
    get_catalog,
    resolve_params,
    validate_prompt,
)
from app.engines.loading import EngineBase, PhaseTimer, load_pipeline
from app.engines.memory import out_of_memory_as_typed
from app.engines.optimization import OptimizationProfile, apply_channels_last, apply_memory_savers, synchronize
from app.errors import GenerationTimeoutError, ModelLoadError, ValidationError

StepCallback = Callable[[int, int], None]  # (steps done, total steps)


@dataclass
class PhaseTimings:
    total_s: float
    encode_s: float | None
    denoise_s: float | None
    decode_s: float | None
    step_s: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "total_s": self.total_s,
            "encode_s": self.encode_s,
            "denoise_s": self.denoise_s,
            "decode_s": self.decode_s,
            "step_s": self.step_s,
        }


@dataclass
class VideoResult:
    frames: np.ndarray  # uint8, [T, H, W, 3]
    fps: int
    seed: int
    params: GenerationParams
    timings: PhaseTimings

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])


def to_uint8_frames(frames: Any) -> np.ndarray:
    """Pipeline output (numpy in [0,1], batch first) -> uint8 [T, H, W, 3]."""
    array = np.asarray(frames)
    if array.ndim == 5:  # [batch, T, H, W, C]
        array = array[0]
    if array.ndim != 4 or array.shape[-1] != 3:
        raise ModelLoadError(
            f"Pipeline returned frames of unexpected shape {array.shape}", {"shape": list(array.shape)}
        )
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    return np.ascontiguousarray(array)


class VideoEngine(EngineBase):
    """One loaded video pipeline. Not thread-safe: one generation at a time."""

    modality = "video"

    def __init__(
        self,
        spec: ModelSpec,
        device: str = "auto",
        profile: str | OptimizationProfile | None = None,
        models_dir: Path | None = None,
    ):
        if spec.source.kind == "remote":
            raise ValidationError(f"'{spec.name}' is a remote model: use RemoteVideoEngine", {"model_name": spec.name})
        super().__init__(spec, device, profile, models_dir)
        self.pipeline: Any = None
        self.memory_savers: list[str] = []  # what memory_efficient actually enabled on this pipeline
        self._conditioner: Any = None  # image engine for i2v models

    # -- 2. load -------------------------------------------------------------------------------
    def load(self) -> float:
        if self.pipeline is not None:
            assert self.load_s is not None  # set with the pipeline
            return self.load_s
        self.check_memory()
        pipeline, seconds = load_pipeline(self.spec, self.profile.torch_dtype(), self.models_dir)
        if self.profile.memory_efficient:
            self.memory_savers = apply_memory_savers(pipeline, self.device)
        else:
            pipeline = pipeline.to(self.device)
        if self.profile.channels_last:
            apply_channels_last(getattr(pipeline, "unet", None) or getattr(pipeline, "transformer", None))
        if self.profile.compile_model:
            import torch

            if getattr(pipeline, "unet", None) is not None:
                pipeline.unet = torch.compile(pipeline.unet)
            else:
                pipeline.transformer = torch.compile(pipeline.transformer)
        self.pipeline, self.load_s = pipeline, seconds
        return seconds

    def resolve(self, prompt: str, overrides: dict[str, Any] | None = None) -> GenerationParams:
        """Step 1 on its own, for callers that validate a whole benchmark up front."""
        validate_prompt(prompt)
        return resolve_params(self.spec, overrides)

    # -- 3. conditioning image -----------------------------------------------------------------
    def conditioning_image(self, prompt: str, params: GenerationParams, seed: int, image: Any = None):
        from PIL import Image

        if image is not None:
            picture = Image.open(image) if isinstance(image, (str, Path)) else image
            return picture.convert("RGB").resize((params.width, params.height))
        if not self.spec.conditioning_image_model:
            raise ValidationError(
                f"'{self.spec.name}' needs a conditioning image and has no text-to-image model configured",
                {"model_name": self.spec.name},
            )
        if self._conditioner is None:
            from app.engines.image import ImageEngine

            self._conditioner = ImageEngine(
                get_catalog().get(self.spec.conditioning_image_model), self.device, self.profile, self.models_dir
            )
        picture = self._conditioner.generate(prompt, seed=seed, width=params.width, height=params.height)
        return picture

    # -- 4. generate ---------------------------------------------------------------------------
    def generate(
        self,
        prompt: str,
        params: GenerationParams | dict[str, Any] | None = None,
        seed: int = 0,
        image: Any = None,
        on_step: StepCallback | None = None,
        timeout_s: float | None = None,
    ) -> VideoResult:
        """One video. ``timeout_s`` bounds the pipeline call: past it, the generation stops at the next denoising
        step with GenerationTimeoutError."""
        check_timeout(timeout_s)
        if not isinstance(params, GenerationParams):
            params = self.resolve(prompt, params)
        else:
            validate_prompt(prompt)
        self.load()
        import torch

        kwargs: dict[str, Any] = {
            "height": params.height,
            "width": params.width,
            "num_frames": params.num_frames,
            "num_inference_steps": params.num_inference_steps,
            "output_type": "np",
        }
        if self.spec.task == "i2v":
            kwargs["image"] = self.conditioning_image(prompt, params, seed, image)
            kwargs["max_guidance_scale"] = params.guidance_scale
            kwargs["fps"] = params.fps
            kwargs["decode_chunk_size"] = params.num_frames
        else:
            kwargs["prompt"] = prompt
            kwargs["guidance_scale"] = params.guidance_scale
        if "frame_rate" in self._call_params():
            kwargs["frame_rate"] = params.fps

        self._use_scheduler(params.scheduler)
        if params.eta is not None:
            if "eta" not in self._call_params():
                raise ValidationError(f"{self.spec.pipeline_class} does not take eta", {"parameter": "eta"})
            kwargs["eta"] = params.eta
        generator = torch.Generator(device="cpu").manual_seed(int(seed))
        output, timings = self._timed_call(kwargs, generator, params.num_inference_steps, on_step, timeout_s)
        # -- 5. frames + timings
        return VideoResult(
            frames=to_uint8_frames(output.frames), fps=params.fps, seed=int(seed), params=params, timings=timings
        )

    def _timed_call(
        self,
        kwargs: dict[str, Any],
        generator: Any,
        total_steps: int,
        on_step: StepCallback | None,
        timeout_s: float | None = None,
    ) -> tuple[Any, PhaseTimings]:
        """Run the pipeline once with phase timing, the device synchronized around the timed region.

        A failed allocation is InsufficientMemoryError; past ``timeout_s`` the next step raises
        GenerationTimeoutError (the step callback is the only place a diffusers pipeline can be stopped).
        """
        import torch

        timer = PhaseTimer(self.pipeline, lambda: synchronize(self.device))
        deadline = None if timeout_s is None else (time.perf_counter() + timeout_s, timeout_s)
        self._attach_step_callback(kwargs, timer, total_steps, on_step, deadline)
        with timer, torch.inference_mode(), out_of_memory_as_typed(self.spec, self.device):
            synchronize(self.device)
            started = time.perf_counter()
            output = self.pipeline(generator=generator, **kwargs)
            synchronize(self.device)
            finished = time.perf_counter()
        return output, PhaseTimings(
            total_s=finished - started,
            encode_s=timer.encode_s or None,
            denoise_s=timer.denoise_s(finished),
            decode_s=timer.decode_s or None,
            step_s=timer.step_times(),
        )

    def generate_batch(
        self,
        prompts: list[str],
        params: GenerationParams,
        seeds: list[int],
        on_step: StepCallback | None = None,
        timeout_s: float | None = None,
    ) -> list[VideoResult]:
        """Several text-to-video generations with shared settings in one pipeline call; video i uses seeds[i].

        The phase timings are those of the whole batch.
        """
        import torch

        check_timeout(timeout_s)
        if self.spec.task != "t2v":
            raise ValidationError("batched generation needs a text-to-video pipeline", {"model_name": self.spec.name})
        for prompt in prompts:
            validate_prompt(prompt)
        self.load()
        self._use_scheduler(params.scheduler)
        kwargs: dict[str, Any] = {
            "prompt": list(prompts),
            "height": params.height,
            "width": params.width,
            "num_frames": params.num_frames,
            "num_inference_steps": params.num_inference_steps,
            "guidance_scale": params.guidance_scale,
            "output_type": "np",
        }
        if params.eta is not None:
            kwargs["eta"] = params.eta
        generators = [torch.Generator(device="cpu").manual_seed(int(seed)) for seed in seeds]
        output, timings = self._timed_call(kwargs, generators, params.num_inference_steps, on_step, timeout_s)
        return [
            VideoResult(
                frames=to_uint8_frames(np.asarray(output.frames)[i]),
                fps=params.fps,
                seed=int(seed),
                params=params,
                timings=timings,
            )
            for i, seed in enumerate(seeds)
        ]

    def _use_scheduler(self, name: str | None) -> None:
        """Swap in a scheduler the checkpoint's scheduler lists as compatible; None restores the original."""
        import diffusers

        from app.catalog.spec import SCHEDULERS

        if not hasattr(self, "_original_scheduler"):
            self._original_scheduler = self.pipeline.scheduler
        original = self._original_scheduler
        if name is None:
            self.pipeline.scheduler = original
            return
        cls = getattr(diffusers, SCHEDULERS[name])
        compatible = {c.__name__ for c in getattr(original, "compatibles", [])} | {type(original).__name__}
        if cls.__name__ not in compatible:
            raise ValidationError(
                f"scheduler '{name}' is not compatible with {self.spec.name}",
                {"parameter": "scheduler", "allowed": sorted(k for k, v in SCHEDULERS.items() if v in compatible)},
            )
        if type(self.pipeline.scheduler) is not cls:
            self.pipeline.scheduler = cls.from_config(original.config)

    def _call_params(self) -> list[str]:
        return list(inspect.signature(self.pipeline.__call__).parameters)

    def _attach_step_callback(
        self,
        kwargs: dict[str, Any],
        timer: PhaseTimer,
        total: int,
        on_step: StepCallback | None,
        deadline: tuple[float, float] | None = None,
    ) -> None:
        """Use whichever step-callback API this pipeline has (new or legacy); ``deadline`` is (monotonic end,
        timeout seconds): a step that finishes past it stops the generation."""
        done = {"n": 0}

        def step_finished() -> None:
            timer.mark_step()
            done["n"] += 1
            if on_step is not None:
                on_step(done["n"], total)
            if deadline is not None and time.perf_counter() > deadline[0]:
                raise GenerationTimeoutError(deadline[1], self.spec.name, steps_done=done["n"], total_steps=total)

        names = self._call_params()
        if "callback_on_step_end" in names:

            def on_end(pipe, step, timestep, callback_kwargs):
                step_finished()
                return callback_kwargs

            kwargs["callback_on_step_end"] = on_end
        elif "callback" in names:
            kwargs["callback"] = lambda step, timestep, latents: step_finished()
            kwargs["callback_steps"] = 1
