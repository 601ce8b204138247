"""BenchmarkSuite: the SDK's entry point, a thin layer over spec + runner + results."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.bench import compare as compare_mod
from app.bench.results import BenchmarkResult, load_result
from app.bench.runner import BenchmarkRunner, ProgressCallback
from app.bench.spec import BenchmarkSpec
from app.catalog.params import VideoParameters
from app.config import Settings, get_settings
from app.engines.optimization import OptimizationProfile
from app.errors import BenchmarkCancelledError, ValidationError, typed_error


class BenchmarkSuite:
    def __init__(
        self,
        device: str = "auto",
        output_dir: str | Path | None = None,
        optimization_profile: OptimizationProfile | str | None = None,
        metrics: list[str] | None = None,
        settings: Settings | None = None,
        enable_monitoring: bool = False,
        on_progress: ProgressCallback | None = None,
    ):
        self.device = device
        self.settings = settings or get_settings()
        self.output_dir = Path(output_dir) if output_dir else None
        self.optimization_profile = (
            optimization_profile.to_dict() if isinstance(optimization_profile, OptimizationProfile) else None
        )
        self.optimization_level = (
            optimization_profile if isinstance(optimization_profile, str) else self.settings.optimization_level
        )  # `vid-bench config set optimization_level`
        self.metrics = metrics
        self.on_progress = on_progress
        self.enable_monitoring = enable_monitoring  # sample CPU / RSS / GPU while benchmarks run (app.bench.monitoring)
        self.runner = BenchmarkRunner(settings=self.settings)

    def _run(self, benchmark_ids: list[str], max_workers: int = 1) -> None:
        """Run the benchmarks; with monitoring on, the resource timeline is stored with each of them."""
        if not self.enable_monitoring:
            self.runner.run(benchmark_ids, max_workers=max_workers, on_progress=self.on_progress)
            return
        from app.bench.monitoring import ResourceMonitor

        monitor = ResourceMonitor(self.settings.monitor_interval_s).start()
        try:
            self.runner.run(benchmark_ids, max_workers=max_workers, on_progress=self.on_progress)
        finally:
            timeline = monitor.stop()
            for benchmark_id in benchmark_ids:
                self.runner.repo.update(benchmark_id, monitoring={**timeline, "benchmarks": benchmark_ids})

    def build_spec(
        self,
        model_name: str,
        prompts: list[str],
        parameters: VideoParameters | dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> BenchmarkSpec:
        """kwargs: generation parameters by name (num_frames=8; None means unset) and BenchmarkSpec fields.

        ``parameters`` holds generation parameters too; those named in kwargs override it.
        """
        named = {name: kwargs.pop(name) for name in VideoParameters.model_fields if name in kwargs}
        params = VideoParameters.from_values(
            {
                **VideoParameters.from_values(parameters).model_dump(exclude_none=True),
                **{name: value for name, value in named.items() if value is not None},
            }
        )
        metric_settings = {
            "metrics": kwargs.pop("metrics", self.metrics),
            "fvd_reference_dir": kwargs.pop("fvd_reference_dir", None),
            "compute_metrics": kwargs.pop("compute_metrics", True),
        }
        return BenchmarkSpec(
            model_name=model_name,
            prompts=list(prompts),
            parameters=params,
            device=self.device,
            optimization_level=kwargs.pop("optimization_level", None) or self.optimization_level,
            optimization_profile=kwargs.pop("optimization_profile", self.optimization_profile),
            metric_settings=metric_settings,
            **kwargs,
        )

    def evaluate_model(self, model_name: str, prompts: list[str], **kwargs: Any) -> BenchmarkResult:
        """Benchmark one model; blocks until done. kwargs: as for build_spec."""
        spec = self.build_spec(model_name, prompts, **kwargs)
        benchmark_id = self.runner.submit(spec)
        self._run([benchmark_id])
        return self._finish(benchmark_id)

    def evaluate_multiple_models(
        self, model_names: list[str], prompts: list[str], max_workers: int = 1, **kwargs: Any
    ) -> dict[str, BenchmarkResult]:
        """Benchmark several models, up to max_workers at once (one Ray actor each)."""
        if len(set(model_names)) != len(model_names):
            raise ValidationError("model_names has duplicates", {"model_names": model_names})
        specs = [self.build_spec(name, prompts, **dict(kwargs)) for name in model_names]
        for spec in specs:  # every spec is checked before any benchmark starts
            spec.check()
        ids = [self.runner.submit(spec) for spec in specs]
        self._run(ids, max_workers=max_workers)
        return {name: self._finish(bid, raise_cancelled=False) for name, bid in zip(model_names, ids, strict=True)}

    def compare_models(
        self,
        results: dict[str, BenchmarkResult] | list[BenchmarkResult],
        objectives: dict[str, bool] | list[str] | None = None,
        rank_by: str = "overall_score",
    ) -> dict[str, Any]:
        report = compare_mod.compare_models(
            results, objectives, rank_by, self.settings.bootstrap_resamples, self.settings.bootstrap_seed
        )
        if self.output_dir:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / "comparison.json").write_text(json.dumps(report, indent=2))
        return report

    def profile_model(self, model_name: str, levels: list[str], prompts: list[str], **kwargs: Any) -> dict[str, Any]:
        """The same prompts and seeds under each optimization level: speed, phases, memory, energy and quality.

        A level the hardware cannot run (fp16 on a CPU) is reported as unsupported with the reason.
        """
        import numpy as np

        report: dict[str, Any] = {"model_name": model_name, "levels": {}}
        for level in levels:
            try:
                result = self.evaluate_model(model_name, prompts, optimization_level=level, **dict(kwargs))
            except ValidationError as error:
                report["levels"][level] = {"status": "unsupported", "reason": error.message}
                continue
            ok = [v for v in result.per_video if v["status"] == "ok"]
            phases = {}
            for phase in ("encode_s", "denoise_s", "decode_s"):
                values = [v["timings"][phase] for v in ok if v["timings"].get(phase) is not None]
                phases[phase] = float(np.mean(values)) if values else None
            report["levels"][level] = {
                "status": result.status,
                "benchmark_id": result.benchmark_id,
                "performance": result.performance,
                "phases_mean": phases,
                "metrics": result.metrics,
                "optimization": (result.provenance or {}).get("optimization"),
            }
        return report

    def get_result(self, benchmark_id: str) -> BenchmarkResult:
        return load_result(self.runner.repo, benchmark_id)

    def cancel(self, benchmark_id: str) -> None:
        self.runner.cancel(benchmark_id)

    def _finish(self, benchmark_id: str, raise_cancelled: bool = True) -> BenchmarkResult:
        result = load_result(self.runner.repo, benchmark_id)
        if raise_cancelled and result.status == "cancelled":
            raise BenchmarkCancelledError(f"Benchmark {benchmark_id} was cancelled", {"benchmark_id": benchmark_id})
        if raise_cancelled and result.status == "failed":
            code, _, message = (result.error or "INTERNAL_ERROR: benchmark failed").partition(": ")
            details = {k: v for k, v in (result.error_details or {}).items() if k != "code"}
            raise typed_error(
                code, message or code, {**details, "benchmark_id": benchmark_id, "model_name": result.model_name}
            )
        if self.output_dir:
            self.output_dir.mkdir(parents=True, exist_ok=True)
            (self.output_dir / f"{benchmark_id}.json").write_text(json.dumps(result.to_dict(), indent=2))
        return result
