"""The model catalog: typed specs read from ``models.yaml``.

Validation of generation parameters lives here, next to the ranges it checks,
so every caller (engine, runner, API) refuses the same bad input with the same
message before any weights are loaded. The parameter model itself, shared by
every surface, is in ``params.py``.
"""

from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.catalog.params import SCHEDULERS, GenerationParams, VideoParameters  # noqa: F401 (re-exported)
from app.errors import InvalidPromptError, ModelNotFoundError, ValidationError
from app.i18n import Message

CATALOG_FILE = Path(__file__).with_name("models.yaml")

Modality = Literal["video", "image", "text", "speech"]
Task = Literal["t2v", "i2v", "t2i", "text", "tts"]


class ParamRange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    choices: list[float] | None = None
    default: float
    reason: str | None = None  # why the range is narrow (a model that cannot honour a setting): said on refusal

    @model_validator(mode="after")
    def _one_kind(self) -> ParamRange:
        if self.choices is None and (self.min is None or self.max is None):
            raise ValueError("a parameter needs either min/max or choices")
        return self

    def allowed(self) -> dict[str, Any]:
        return {"choices": self.choices} if self.choices is not None else {"min": self.min, "max": self.max}

    def refusal(self) -> str:
        """What a refusal of a value outside the range says about why the range is what it is."""
        return f" ({self.reason})" if self.reason else ""

    def contains(self, value: float) -> bool:
        if self.choices is not None:
            return value in self.choices
        assert self.min is not None and self.max is not None  # _one_kind: no choices means min and max
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
    aliases: list[str] = Field(
        default_factory=list, description="Other names that resolve to this model (those the API references use)."
    )
    voice_aliases: dict[str, str] = Field(
        default_factory=dict,
        description="Other voice names and the listed voice each one means; '{language}' in it is the request's "
        "language (Bark's presets are per language).",
    )

    @model_validator(mode="after")
    def _voice_aliases_name_voices(self) -> ModelSpec:
        meant = {
            alias: voice.format(language=language)
            for alias, voice in self.voice_aliases.items()
            for language in (self.languages or [""])
        }
        unknown = {alias: voice for alias, voice in meant.items() if voice not in self.voices}
        if unknown:
            raise ValueError(f"voice_aliases of {self.name} name voices it does not list: {unknown}")
        return self

    def resolve_voice(self, voice: str, language: str) -> str:
        """A listed voice, or the voice an alias stands for in this language (anything else is returned as is and
        refused by the caller's check)."""
        alias = self.voice_aliases.get(voice)
        return voice if alias is None else alias.format(language=language)

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
        raise ValidationError(
            f"Model '{spec.name}' is a {spec.modality} model, not a video model",
            {"model_name": spec.name, "modality": spec.modality},
        )
    values: dict[str, Any] = {}
    for name, value in given:
        param = spec.parameters.get(name)
        if param is not None:
            value = param.default if value is None else value
            if not param.contains(value):
                raise ValidationError(
                    Message(
                        "{name}={value} is outside the range {model} supports: {allowed}",
                        name=name,
                        value=value,
                        model=spec.name,
                        allowed=param.allowed(),
                    ),
                    {"parameter": name, "value": value, "allowed": param.allowed(), "model_name": spec.name},
                )
        values[name] = value
    if spec.max_frames is not None and values["num_frames"] > spec.max_frames:
        raise ValidationError(
            Message(
                "num_frames={value} exceeds max_frames={max_frames} of {model}",
                value=values["num_frames"],
                max_frames=spec.max_frames,
                model=spec.name,
            ),
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
            Message(
                "resolution {resolution} is not supported by {model}: {allowed}",
                resolution=f"{width}x{height}",
                model=spec.name,
                allowed=spec.resolutions,
            ),
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
                Message(
                    "{name}={value} is outside the range {model} supports: {allowed}{reason}",
                    name=name,
                    value=repr(value),
                    model=spec.name,
                    allowed=param.allowed(),
                    reason=param.refusal(),
                ),
                {
                    "parameter": name,
                    "value": value,
                    "allowed": param.allowed(),
                    "model_name": spec.name,
                    **({"reason": param.reason} if param.reason else {}),
                },
            )
        out[name] = value
    return out


def speech_options(
    spec: ModelSpec, voice: str | None, language: str | None, speed: float | None, pitch: float | None
) -> dict[str, Any]:
    """Voice, language, speed and pitch for a text-to-speech model, defaults filled; refused with the reason.

    ``language`` must be one the model speaks (a one-language checkpoint takes only its own). It reaches the model
    through the voice: an alias such as Bark's ``speaker_1`` picks that speaker's preset in this language, and an
    explicit preset of another language is refused rather than silently speaking with a foreign voice.
    """
    language = language or spec.languages[0]
    if language not in spec.languages:
        only = (
            f"{spec.name} speaks only {spec.languages[0]} (one language per checkpoint)"
            if len(spec.languages) == 1
            else f"language '{language}' is not offered by {spec.name}"
        )
        raise ValidationError(only, {"parameter": "language", "value": language, "allowed": spec.languages})
    if voice is None:
        voice = "speaker_0" if "speaker_0" in spec.voice_aliases else spec.voices[0]
    resolved = spec.resolve_voice(voice, language)
    if resolved not in spec.voices:
        raise ValidationError(
            f"voice '{voice}' is not offered by {spec.name}",
            {"parameter": "voice", "value": voice, "allowed": spec.voices, "aliases": sorted(spec.voice_aliases)},
        )
    voice_language = {
        template.format(language=lang): lang
        for template in spec.voice_aliases.values()
        for lang in spec.languages
        if "{language}" in template
    }.get(resolved)
    if voice_language is not None and voice_language != language:
        raise ValidationError(
            f"voice '{resolved}' is a '{voice_language}' voice and the language is '{language}': "
            f"use speaker_N to get that speaker in '{language}'",
            {"parameter": "voice", "value": voice, "language": language},
        )
    return {"voice": resolved, "language": language, **check_ranges(spec, {"speed": speed, "pitch": pitch})}


PROMPT_PATTERN = r"[^ \t\n\r\f\v]"
"""A prompt holds at least one character that is not ASCII whitespace (same rule in the OpenAPI schema)."""


def validate_prompt(prompt: Any) -> str:
    if not isinstance(prompt, str) or not re.search(PROMPT_PATTERN, prompt):
        raise InvalidPromptError(Message("Prompt must be a non-empty string"), {"prompt": prompt})
    if len(prompt) > MAX_PROMPT_CHARS:
        raise InvalidPromptError(
            Message("Prompt is {length} characters; the limit is {limit}", length=len(prompt), limit=MAX_PROMPT_CHARS),
            {"length": len(prompt), "max_length": MAX_PROMPT_CHARS},
        )
    return prompt


MAX_TIMEOUT_S = 24 * 3600.0


def check_timeout(timeout_s: object) -> None:
    """A generation timeout is a positive number of seconds (at most a day), or None for none; anything else is
    refused (it may come unchecked from a request)."""
    if timeout_s is None:
        return
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, (int, float)) or not 0 < timeout_s <= MAX_TIMEOUT_S:
        raise ValidationError(
            f"timeout must be a number of seconds in (0, {MAX_TIMEOUT_S:.0f}]",
            {"parameter": "timeout_s", "value": timeout_s},
        )


class Catalog:
    """Lookup over the catalog entries, by name."""

    def __init__(self, specs: list[ModelSpec]):
        self._specs = {spec.name: spec for spec in specs}
        if len(self._specs) != len(specs):
            raise ValueError("duplicate model names in the catalog")
        self._aliases: dict[str, str] = {}
        for spec in specs:
            for alias in spec.aliases:
                if alias in self._specs or alias in self._aliases:
                    raise ValueError(f"alias '{alias}' of {spec.name} is already a model name or another alias")
                self._aliases[alias] = spec.name

    @classmethod
    def from_file(cls, path: Path = CATALOG_FILE, registered_dir: Path | None = None) -> Catalog:
        """The packaged catalog, and the entries registered in ``registered_dir`` (downloaded models): one of those
        with a packaged model's name replaces it (that model's checkpoint, downloaded to this machine)."""
        raw = yaml.safe_load(path.read_text())
        specs = {entry["name"]: ModelSpec(**entry) for entry in raw["models"]}
        aliases = {alias for spec in specs.values() for alias in spec.aliases}
        for file in registered_files(registered_dir):
            try:
                spec = ModelSpec(**yaml.safe_load(file.read_text()))
            except Exception as exc:  # noqa: BLE001 - one broken registration must not take the catalog down
                logging.getLogger("vid_bench").warning("Skipped registered model %s: %s", file, exc)
                continue
            if spec.name in aliases:
                logging.getLogger("vid_bench").warning("Skipped registered model %s: its name is an alias", file)
                continue
            specs[spec.name] = spec
        return cls(list(specs.values()))

    def names(self) -> list[str]:
        return list(self._specs)

    def list(self, modality: str | None = None) -> list[ModelSpec]:
        return [s for s in self._specs.values() if modality is None or s.modality == modality]

    def get(self, name: str) -> ModelSpec:
        """The model of this name or alias; MODEL_NOT_FOUND lists the names there are."""
        try:
            return self._specs[self._aliases.get(name, name)]
        except (KeyError, TypeError):
            raise ModelNotFoundError(name, self.names()) from None

    def canonical(self, name: str) -> str:
        """The catalog name a name or alias stands for; an unknown name is returned unchanged."""
        try:
            return self._aliases.get(name, name)
        except TypeError:  # not a name at all (unhashable): returned unchanged, as get() refuses it
            return name

    def aliases(self) -> dict[str, str]:
        return dict(self._aliases)


REGISTERED_DIR = "catalog"
"""Under the models directory: one YAML file per registered (downloaded) model."""


_process_models_dir: Path | None = None


def use_models_dir(models_dir: Path | None) -> None:
    """This process's models directory, for ``get_catalog()`` (a gateway, replica or actor runs with the settings
    it was given, which may differ from its environment's)."""
    global _process_models_dir
    _process_models_dir = None if models_dir is None else Path(models_dir)


def registered_dir(models_dir: Path | None = None) -> Path:
    if models_dir is None:
        models_dir = _process_models_dir
    if models_dir is None:
        from app.config import get_settings

        models_dir = get_settings().resolved_models_dir
    return Path(models_dir) / REGISTERED_DIR


def registered_files(directory: Path | None) -> list[Path]:
    return sorted(directory.glob("*.yaml")) if directory is not None and directory.is_dir() else []


def get_catalog(models_dir: Path | None = None) -> Catalog:
    """The catalog with the models registered under ``models_dir`` (default: the settings'), re-read whenever a
    registration file changes, so a model downloaded by any process is usable by name in every process."""
    directory = registered_dir(models_dir)
    signature = tuple((f.name, f.stat().st_mtime_ns) for f in registered_files(directory))
    return _catalog(str(directory), signature)


@lru_cache(maxsize=8)
def _catalog(directory: str, signature: tuple) -> Catalog:
    return Catalog.from_file(CATALOG_FILE, Path(directory))
