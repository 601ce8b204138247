"""Load a catalog model's diffusers pipeline, whatever its source.

Every source ends in ``<PipelineClass>.from_pretrained``: built-in tiny models
are saved to disk first, so they take the same path as a hub checkpoint. A load
that fails is a :class:`ModelLoadError` naming the source; there is no fallback.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.catalog.spec import ModelSpec
from app.catalog.tiny import ensure_builtin
from app.errors import ModelLoadError, ValidationError


def _source_field(spec: ModelSpec, field: str, value: str | None) -> str:
    """A field the source's kind needs; a catalog entry without it is refused (not passed on as None)."""
    if value is None:
        raise ValidationError(
            f"Model '{spec.name}' ({spec.source.kind}) has no source.{field}", {"model_name": spec.name}
        )
    return value


def checkpoint_location(spec: ModelSpec, models_dir: Path) -> str:
    """Where from_pretrained reads this model: a local directory or a hub repo id."""
    source = spec.source
    if source.kind == "builtin":
        return str(ensure_builtin(spec.name, _source_field(spec, "builder", source.builder), models_dir))
    if source.kind == "local":
        path = Path(_source_field(spec, "path", source.path)).expanduser()
        if not path.is_dir():
            raise ModelLoadError(f"Local checkpoint for '{spec.name}' not found at {path}", {"path": str(path)})
        return str(path)
    if source.kind == "huggingface":
        return _source_field(spec, "repo_id", source.repo_id)
    raise ValidationError(
        f"Model '{spec.name}' ({source.kind}) is not a diffusers checkpoint", {"model_name": spec.name}
    )


@contextmanager
def load_failures(spec: ModelSpec, location: str) -> Iterator[None]:
    """Any loader failure inside becomes one typed ModelLoadError naming the model, its source and location."""
    try:
        yield
    except Exception as exc:
        raise ModelLoadError(
            f"Could not load '{spec.name}' from {spec.source.kind} source '{location}': {type(exc).__name__}: {exc}",
            {"model_name": spec.name, "source": spec.source.kind, "location": location},
        ) from exc


def load_pipeline(spec: ModelSpec, dtype: Any, models_dir: Path) -> tuple[Any, float]:
    """Return (pipeline, load seconds). The precision goes as ``dtype`` (diffusers deprecates ``torch_dtype``)."""
    import diffusers
    import transformers

    diffusers.utils.logging.disable_progress_bar()  # progress goes through our own callbacks
    transformers.utils.logging.disable_progress_bar()
    try:
        pipeline_cls = getattr(diffusers, spec.pipeline_class)
    except AttributeError:
        raise ModelLoadError(
            f"diffusers {diffusers.__version__} has no pipeline class {spec.pipeline_class} (needed by {spec.name})",
            {"pipeline_class": spec.pipeline_class, "requirements": spec.requirements.dependencies},
        ) from None
    location = checkpoint_location(spec, models_dir)
    kwargs: dict[str, Any] = {"dtype": dtype}
    if spec.source.kind == "huggingface":
        kwargs["cache_dir"] = str(models_dir / "hub")
        if spec.source.revision:
            kwargs["revision"] = spec.source.revision
        if spec.source.variant and dtype is not None and str(dtype).endswith("float16"):
            kwargs["variant"] = spec.source.variant
    started = time.perf_counter()
    with load_failures(spec, location):
        if spec.source.motion_adapter:
            adapter = diffusers.MotionAdapter.from_pretrained(
                spec.source.motion_adapter, dtype=dtype, cache_dir=kwargs.get("cache_dir")
            )
            kwargs["motion_adapter"] = adapter
        pipeline = pipeline_cls.from_pretrained(location, **kwargs)
    pipeline.set_progress_bar_config(disable=True)
    return pipeline, time.perf_counter() - started


class EngineBase:
    """What every engine does on construction: check the modality, resolve the device, check the profile.

    Nothing is loaded here; ``load()`` does that on first use.
    """

    modality = ""

    def __init__(self, spec: ModelSpec, device: str = "auto", profile=None, models_dir: Path | None = None):
        from app.config import get_settings
        from app.engines.optimization import get_profile, resolve_device

        if spec.modality != self.modality:
            raise ValidationError(
                f"'{spec.name}' is a {spec.modality} model, not a {self.modality} model",
                {"model_name": spec.name, "modality": spec.modality},
            )
        self.spec = spec
        self.device = resolve_device(device)
        self.profile = get_profile(profile)
        self.profile.check_device(self.device)
        self.models_dir = models_dir or get_settings().resolved_models_dir
        self.load_s: float | None = None

    def check_memory(self) -> None:
        """Refuse (InsufficientMemoryError) before loading when the device lacks the catalog's requirement."""
        from app.engines.memory import check_memory

        check_memory(self.spec, self.device, offload=self.profile.memory_efficient)


class PhaseTimer:
    """Times the encode / denoise / decode phases of any diffusers pipeline call.

    It hooks the conditioning encoders (text or image), the denoiser (``unet``
    or ``transformer``) and the VAE's ``encode``/``decode``; each boundary
    synchronizes the device so GPU time is attributed to the right phase.
    """

    def __init__(self, pipeline: Any, sync):
        self.pipeline = pipeline
        self.sync = sync
        self.encode_s = 0.0
        self.decode_s = 0.0
        self.denoise_start: float | None = None
        self.decode_start: float | None = None
        self.step_marks: list[float] = []
        self._handles: list[Any] = []
        self._patched: list[tuple[Any, str]] = []

    def _timed(self, bucket: str, fn):
        def wrapper(*args, **kwargs):
            self.sync()
            start = time.perf_counter()
            if bucket == "decode_s" and self.decode_start is None:
                self.decode_start = start
            try:
                return fn(*args, **kwargs)
            finally:
                self.sync()
                setattr(self, bucket, getattr(self, bucket) + time.perf_counter() - start)

        return wrapper

    def __enter__(self) -> PhaseTimer:
        for name in ("text_encoder", "text_encoder_2", "image_encoder"):
            module = getattr(self.pipeline, name, None)
            if module is not None:
                self._patch(module, "forward", "encode_s")
        vae = getattr(self.pipeline, "vae", None)
        if vae is not None:
            self._patch(vae, "encode", "encode_s")
            self._patch(vae, "decode", "decode_s")
        denoiser = getattr(self.pipeline, "unet", None) or getattr(self.pipeline, "transformer", None)
        if denoiser is not None:
            self._handles.append(denoiser.register_forward_pre_hook(self._on_denoise))
        return self

    def _patch(self, obj: Any, attr: str, bucket: str) -> None:
        original = getattr(obj, attr)
        setattr(obj, attr, self._timed(bucket, original))
        self._patched.append((obj, attr))

    def _on_denoise(self, module, args):
        if self.denoise_start is None:
            self.sync()
            self.denoise_start = time.perf_counter()

    def mark_step(self) -> None:
        self.sync()
        self.step_marks.append(time.perf_counter())

    def __exit__(self, *exc) -> None:
        for handle in self._handles:
            handle.remove()
        for obj, attr in self._patched:
            delattr(obj, attr)  # drop the instance attribute: the class method shows through again

    def denoise_s(self, end: float) -> float | None:
        if self.denoise_start is None:
            return None
        stop = self.decode_start or (self.step_marks[-1] if self.step_marks else end)
        return stop - self.denoise_start

    def step_times(self) -> list[float]:
        if self.denoise_start is None or not self.step_marks:
            return []
        marks = [self.denoise_start, *self.step_marks]
        return [b - a for a, b in itertools.pairwise(marks)]
