"""The model catalog: typed specs read from ``models.yaml``.

Validation of generation parameters lives here, next to the ranges it checks,
so every caller (engine, runner, API) refuses the same bad input with the same
message before any weights are loaded. The parameter model itself, shared by
every surface, is in ``params.py``.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.catalog.params import SCHEDULERS, GenerationParams, VideoParameters  # noqa: F401 (re-exported)
from app.errors import InvalidPromptError, ModelNotFoundError, ValidationError

CATALOG_FILE = Path(__file__).with_name("models.yaml")

Modality = Literal["video", "image", "text", "speech"]
Task = Literal["t2v", "i2v", "t2i", "text", "tts"]


class ParamRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    choices: list[float] | None = None
    default: float

    @model_validator(mode="after")
    def _one_kind(self) -> ParamRange:
        if self.choices is None and (self.min is None or self.max is None):
            raise ValueError("a parameter needs either min/max or choices")
        return self

    def allowed(self) -> dict[str, Any]:
        return {"choices": self.choices} if self.choices is not None else {"min": self.min, "max": self.max}

    def contains(self, value: float) -> bool:
        if self.choices is not None:
            return value in self.choices
        return self.min <= value <= self.max


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["huggingface", "local", "builtin", "remote"]
    repo_id: str | None = None
    revision: str | None = None
    variant: str | None = None
    motion_adapter: str | None = None
    path: str | None = None
    builder: str | None = None
    url: str | None = None
    url_env: str | None = None

    def remote_url(self) -> str | None:
        if self.url_env and os.environ.get(self.url_env):
            return os.environ[self.url_env]
        return self.url


class Requirements(BaseModel):
    vram_gb: float = 0
    precision: str = "fp32"
    dependencies: list[str] = Field(default_factory=list)


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    name: str
    display_name: str
    description: str = ""
    modality: Modality
    task: Task
    architecture: str = ""
    version: str
    source: Source
    pipeline_class: str
    requirements: Requirements = Field(default_factory=Requirements)
    conditioning_image_model: str | None = None
    max_frames: int | None = None
    resolutions: list[str] = Field(default_factory=list)
    parameters: dict[str, ParamRange] = Field(default_factory=dict)
    paper_url: str | None = None
    huggingface_url: str | None = None
    languages: list[str] = Field(default_factory=list)
    voices: list[str] = Field(default_factory=list)
    max_context_length: int | None = None
    engine: Literal["diffusers", "transformers", "vllm", "auto"] = "diffusers"
    license: str | None = None

    def default_resolution(self) -> tuple[int, int]:
        """(width, height) of the first listed resolution."""
        width, height = self.resolutions[0].split("x")
        return int(width), int(height)

    def default(self, name: str) -> float | None:
        param = self.parameters.get(name)
        return None if param is None else param.default

    def public_dict(self) -> dict[str, Any]:
        """Fields shown by `models info` and the models API."""
        return self.model_dump(mode="json")


MAX_PROMPT_CHARS = 2000


def resolve_params(spec: ModelSpec, overrides: VideoParameters | dict[str, Any] | None = None) -> GenerationParams:
    """Fill defaults and check every value against the catalog; raise before any work.

    Each field of VideoParameters that the catalog gives a range for is filled from its default and checked
    against it; the size is checked against the listed resolutions.
    """
    given = VideoParameters.from_values(overrides)
    if spec.modality != "video":
        raise ValidationError(f"Model '{spec.name}' is a {spec.modality} model, not a video model",
                              {"model_name": spec.name, "modality": spec.modality})
    values: dict[str, Any] = {}
    for name, value in given:
        param = spec.parameters.get(name)
        if param is not None:
            value = param.default if value is None else value
            if not param.contains(value):
                raise ValidationError(
                    f"{name}={value} is outside the range {spec.name} supports: {param.allowed()}",
                    {"parameter": name, "value": value, "allowed": param.allowed(), "model_name": spec.name},
                )
        values[name] = value
    if spec.max_frames is not None and values["num_frames"] > spec.max_frames:
        raise ValidationError(
            f"num_frames={values['num_frames']} exceeds max_frames={spec.max_frames} of {spec.name}",
            {"parameter": "num_frames", "value": values["num_frames"], "allowed": {"max": spec.max_frames}},
        )
    width, height = spec.default_resolution()
    resolution = values.pop("resolution")
    if resolution is not None:
        width, height = (int(x) for x in resolution.lower().split("x"))
    width = width if values["width"] is None else values["width"]
    height = height if values["height"] is None else values["height"]
    if f"{width}x{height}" not in spec.resolutions:
        raise ValidationError(
            f"resolution {width}x{height} is not supported by {spec.name}: {spec.resolutions}",
            {"parameter": "resolution", "value": f"{width}x{height}", "allowed": spec.resolutions},
        )
    values.update(width=width, height=height)
    return GenerationParams(**values)


def check_ranges(spec: ModelSpec, values: dict[str, Any]) -> dict[str, Any]:
    """Fill catalog defaults for the given names and refuse values outside the catalog ranges."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        param = spec.parameters.get(name)
        if param is None:
            out[name] = value
            continue
        if value is None:
            value = param.default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not param.contains(value):
            raise ValidationError(
                f"{name}={value!r} is outside the range {spec.name} supports: {param.allowed()}",
                {"parameter": name, "value": value, "allowed": param.allowed(), "model_name": spec.name},
            )
        out[name] = value
    return out


PROMPT_PATTERN = r"[^ \t\n\r\f\v]"
"""A prompt holds at least one character that is not ASCII whitespace (same rule in the OpenAPI schema)."""


def validate_prompt(prompt: Any) -> str:
    if not isinstance(prompt, str) or not re.search(PROMPT_PATTERN, prompt):
        raise InvalidPromptError("Prompt must be a non-empty string", {"prompt": prompt})
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidPromptError(
            f"Prompt is {len(prompt)} characters; the limit is {MAX_PROMPT_CHARS}",
            {"length": len(prompt), "max_length": MAX_PROMPT_CHARS},
        )
    return prompt


class Catalog:
    """Lookup over the catalog entries, by name."""

    def __init__(self, specs: list[ModelSpec]):
        self._specs = {spec.name: spec for spec in specs}
        if len(self._specs) != len(specs):
            raise ValueError("duplicate model names in the catalog")

    @classmethod
    def from_file(cls, path: Path = CATALOG_FILE) -> Catalog:
        raw = yaml.safe_load(path.read_text())
        return cls([ModelSpec(**entry) for entry in raw["models"]])

    def names(self) -> list[str]:
        return list(self._specs)

    def list(self, modality: str | None = None) -> list[ModelSpec]:
        return [s for s in self._specs.values() if modality is None or s.modality == modality]

    def get(self, name: str) -> ModelSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise ModelNotFoundError(name, self.names()) from None


@lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    return Catalog.from_file()
