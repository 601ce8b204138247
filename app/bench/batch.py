"""A batch: several models over one prompt list, run as one job.

``vid-bench batch spec.yaml`` runs it; ``vid-bench distributed submit`` and ``ray job submit``
run that command on the cluster. Every model's spec is checked before anything is stored, the
results go to the shared database as they arrive, and optionally to Parquet on storage every
node sees (a local path, or s3:// / gs:// / file:// through pyarrow's filesystems).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from app.bench.spec import MAX_PROMPTS, BenchmarkSpec, MetricSettings
from app.config import OptimizationLevel
from app.errors import ValidationError


class BatchSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    models: list[str] = Field(min_length=1, max_length=64)
    prompts: list[str] | None = Field(default=None, max_length=MAX_PROMPTS)
    prompts_file: Path | None = Field(default=None, description="One prompt per line; relative to the spec file.")
    videos_per_prompt: int = Field(default=1, ge=1, le=100)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    parameters: dict[str, Any] = Field(default_factory=dict, description="Generation parameters for every model.")
    metrics: list[str] | None = None
    save_videos: bool = False
    max_workers: int = Field(
        default=1,
        ge=0,
        le=64,
        description="Models benchmarked at once; 0: as many as the cluster's cores hold (one torch thread each).",
    )
    parquet: str | None = Field(default=None, description="Write per-video rows here: a path or a URI.")
    optimization_level: OptimizationLevel | None = Field(
        default=None, description="Default: the optimization_level setting of the process that runs the batch."
    )

    @model_validator(mode="after")
    def _one_prompt_source(self) -> BatchSpec:
        if (self.prompts is None) == (self.prompts_file is None):
            raise ValueError("give exactly one of prompts or prompts_file")
        return self

    @classmethod
    def from_file(cls, path: Path) -> BatchSpec:
        """Read a YAML or JSON spec; a relative prompts_file is read beside the spec."""
        try:
            raw = yaml.safe_load(Path(path).read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ValidationError(f"Cannot read batch spec {path}: {exc}", {"path": str(path)}) from None
        try:
            spec = cls.model_validate(raw)
        except PydanticValidationError as exc:  # its text names the field
            raise ValidationError(f"Invalid batch spec {path}: {exc}", {"path": str(path)}) from None
        if spec.prompts_file is not None and not spec.prompts_file.is_absolute():
            spec.prompts_file = Path(path).resolve().parent / spec.prompts_file
        return spec

    def prompt_list(self) -> list[str]:
        if self.prompts is not None:
            return self.prompts
        assert self.prompts_file is not None  # _one_prompt_source: no prompts means a prompts file
        try:
            lines = self.prompts_file.read_text().splitlines()
        except OSError as exc:
            raise ValidationError(
                f"Cannot read prompts file {self.prompts_file}: {exc}", {"prompts_file": str(self.prompts_file)}
            ) from None
        return [line.strip() for line in lines if line.strip()]

    def benchmark_specs(self, device: str = "auto", optimization_level: str = "baseline") -> list[BenchmarkSpec]:
        """One BenchmarkSpec per model, each checked against the catalog (raises before anything is stored).

        ``optimization_level`` applies where the batch names none (run_batch passes the setting)."""
        prompts = self.prompt_list()
        specs = [
            BenchmarkSpec(
                model_name=model,
                prompts=prompts,
                videos_per_prompt=self.videos_per_prompt,
                seed=self.seed,
                parameters=self.parameters,
                device=device,
                save_videos=self.save_videos,
                metric_settings=MetricSettings(metrics=self.metrics),
                optimization_level=self.optimization_level or optimization_level,
                metadata={"batch": json.loads(self.model_dump_json())},
            )
            for model in self.models
        ]
        for spec in specs:
            spec.check()
        return specs


def run_batch(batch: BatchSpec, runner, device: str = "auto", on_progress=None) -> list[str]:
    """Submit every model's benchmark, run them (``max_workers`` at once) and export; returns the ids."""
    specs = batch.benchmark_specs(device, runner.settings.optimization_level)
    ids = [runner.submit(spec) for spec in specs]
    runner.run(ids, max_workers=batch.max_workers, on_progress=on_progress)
    if batch.parquet:
        from app.metrics.registry import video_metric_names
        from app.storage.export import export_parquet

        export_parquet(runner.repo, ids, batch.parquet, video_metric_names())
    return ids
