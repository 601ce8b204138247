"""Image generation: a catalog text-to-image model, used on its own and to condition i2v models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.catalog.spec import ModelSpec, validate_prompt
from app.engines.loading import EngineBase, load_pipeline
from app.engines.memory import out_of_memory_as_typed
from app.engines.optimization import OptimizationProfile
from app.errors import ValidationError


class ImageEngine(EngineBase):
    modality = "image"

    def __init__(
        self,
        spec: ModelSpec,
        device: str = "auto",
        profile: str | OptimizationProfile | None = None,
        models_dir: Path | None = None,
    ):
        super().__init__(spec, device, profile, models_dir)
        self.pipeline: Any = None

    def load(self) -> float:
        if self.pipeline is None:
            self.check_memory()
            pipeline, self.load_s = load_pipeline(self.spec, self.profile.torch_dtype(), self.models_dir)
            self.pipeline = pipeline.to(self.device)
        assert self.load_s is not None  # set by the first load
        return self.load_s

    def _catalog_default(self, name: str) -> float:
        """The catalog's default for a parameter the call did not set; a catalog entry without one is refused."""
        value = self.spec.default(name)
        if value is None:
            raise ValidationError(
                f"'{self.spec.name}' has no catalog default for {name}: give it in the call",
                {"model_name": self.spec.name, "parameter": name},
            )
        return value

    def generate(
        self,
        prompt: str,
        seed: int = 0,
        width: int | None = None,
        height: int | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
    ):
        """One PIL image for a prompt, deterministic for a given seed."""
        return self.generate_many(
            prompt,
            seed=seed,
            width=width,
            height=height,
            num_inference_steps=num_inference_steps,
            guidance_scale=guidance_scale,
        )[0]

    def generate_many(
        self,
        prompt: str,
        seed: int = 0,
        width: int | None = None,
        height: int | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        negative_prompt: str | None = None,
        num_images: int = 1,
        on_step=None,
    ) -> list:
        """num_images PIL images in one batched call; image k uses seed + k."""
        return self.generate_batch(
            [prompt] * num_images,
            [int(seed) + k for k in range(num_images)],
            width,
            height,
            num_inference_steps,
            guidance_scale,
            negative_prompt,
            on_step,
        )

    def generate_batch(
        self,
        prompts: list[str],
        seeds: list[int],
        width: int | None = None,
        height: int | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        negative_prompt: str | None = None,
        on_step=None,
    ) -> list:
        """One pipeline call for several prompts that share settings; image i uses seeds[i]."""
        import torch

        for prompt in prompts:
            validate_prompt(prompt)
        self.load()
        default_w, default_h = self.spec.default_resolution()
        generators = [torch.Generator(device="cpu").manual_seed(int(seed)) for seed in seeds]
        steps = int(num_inference_steps or self._catalog_default("num_inference_steps"))
        kwargs = {}
        if on_step is not None:

            def on_end(pipe, step, timestep, callback_kwargs):
                on_step(step + 1, steps)
                return callback_kwargs

            kwargs["callback_on_step_end"] = on_end
        with torch.inference_mode(), out_of_memory_as_typed(self.spec, self.device):
            output = self.pipeline(
                prompt=list(prompts),
                negative_prompt=[negative_prompt] * len(prompts) if negative_prompt else None,
                width=width or default_w,
                height=height or default_h,
                generator=generators,
                num_inference_steps=steps,
                guidance_scale=float(guidance_scale or self._catalog_default("guidance_scale")),
                output_type="pil",
                **kwargs,
            )
        return list(output.images)
