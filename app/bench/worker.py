"""BenchmarkWorker: one loaded model that generates and scores one video per call.

Plain Python, no Ray: the runner puts it in a Ray actor (one per model), and a
parameter-search trial runs it in its own process. A worker is tied to what it
loaded (model, optimization profile, device: its ``pool_key``) and can serve one
benchmark after another (``configure``), which is what the warm pool
(app/bench/pool.py) relies on.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, cast

from app.bench.spec import BenchmarkSpec
from app.config import Settings
from app.errors import ValidationError, VidBenchError

if TYPE_CHECKING:  # imported where used at run time (torch and diffusers come with them)
    from app.engines.remote import RemoteVideoEngine
    from app.engines.video import VideoEngine


def pool_key(spec_json: dict[str, Any], settings_json: dict[str, Any]) -> str:
    """What a loaded worker is bound to: a worker with the same key can run the benchmark without loading."""
    spec, settings = BenchmarkSpec(**spec_json), Settings(**settings_json)
    return json.dumps(
        {
            "model": spec.model_name,
            "profile": spec.profile().to_dict(),
            "device": spec.device,
            "models_dir": str(settings.resolved_models_dir),
            "torch_threads": settings.torch_threads_per_actor,
            "gpu_memory_fraction": settings.gpu_memory_fraction,
        },
        sort_keys=True,
    )


class BenchmarkWorker:
    """Holds one loaded model, its evaluator and profiler; generates and scores one video per call."""

    def __init__(self, spec_json: dict[str, Any], settings_json: dict[str, Any]):
        import time

        import torch

        from app.catalog.spec import get_catalog

        self.key = pool_key(spec_json, settings_json)
        spec, settings = BenchmarkSpec(**spec_json), Settings(**settings_json)
        torch.set_num_threads(settings.torch_threads_per_actor)
        model_spec = get_catalog(settings.resolved_models_dir).get(spec.model_name)
        self.engine: VideoEngine | RemoteVideoEngine
        if model_spec.source.kind == "remote":
            from app.engines.remote import RemoteVideoEngine

            self.engine = RemoteVideoEngine(model_spec, settings.remote_api_key, settings.remote_timeout_s)
        else:
            from app.engines.video import VideoEngine

            self.engine = VideoEngine(model_spec, spec.device, spec.profile(), settings.resolved_models_dir)
        self.model_spec = model_spec
        self.memory_cap: float | None = None
        if self.engine.device != "remote":
            from app.bench.cluster import cap_to_gpu_share

            self.memory_cap = cap_to_gpu_share(self.engine.device, settings)  # before any allocation
        self.load_s = self.engine.load()
        self.created_at = time.time()
        self.benchmarks_served = 0
        self._warm: set[str] = set()  # generation settings already warmed up on this worker
        self._evaluator_key: tuple | None = None
        self.configure(spec_json, settings_json)

    def configure(self, spec_json: dict[str, Any], settings_json: dict[str, Any]) -> dict[str, Any]:
        """Take on a benchmark (the first one, or a next one on a pooled worker); returns ``info()``.

        A benchmark this worker did not load for (another model, profile or device) is refused, never run on
        the wrong pipeline.
        """
        from app.bench.profiler import Profiler
        from app.catalog.spec import resolve_params
        from app.engines.optimization import resolve_device
        from app.metrics.evaluator import VideoEvaluator

        if pool_key(spec_json, settings_json) != self.key:
            raise ValidationError(
                "This worker was loaded for another model, profile or device",
                {"worker": json.loads(self.key), "wanted": json.loads(pool_key(spec_json, settings_json))},
            )
        self.benchmark_spec = BenchmarkSpec(**spec_json)
        self.settings = Settings(**settings_json)
        self.params = resolve_params(self.model_spec, self.benchmark_spec.parameters)
        self.timeout_s = self.benchmark_spec.generation_timeout_s or self.settings.generation_timeout_s
        flow = self.benchmark_spec.metric_settings.flow_method or self.settings.flow_method
        evaluator_key = (tuple(self.benchmark_spec.metric_names()), str(self.settings.resolved_weights_dir), flow)
        if evaluator_key != self._evaluator_key:
            eval_device = self.engine.device if self.engine.device != "remote" else resolve_device("auto")
            self.evaluator = VideoEvaluator(
                list(evaluator_key[0]), self.settings.resolved_weights_dir, eval_device, flow
            )
            self._evaluator_key = evaluator_key
        self.profiler = Profiler(self.engine.device)
        self.benchmarks_served += 1
        return self.info()

    def info(self) -> dict[str, Any]:
        """Provenance of the worker: device, evaluators, and whether this benchmark found it cold or reused."""
        from app.bench.provenance import device_info

        self.profiler.energy_available()
        reused = self.benchmarks_served > 1
        return {
            "device": device_info(self.engine.device),
            "start": "reused" if reused else "cold",
            "load_s": 0.0 if reused else self.load_s,
            "model_load_s": self.load_s,
            "benchmarks_served": self.benchmarks_served,
            "memory_savers": getattr(self.engine, "memory_savers", []),
            "gpu_memory_cap": self.memory_cap,
            "evaluators": self.evaluator.provenance,
            "metric_methods": self.evaluator.methods,
            "unavailable_evaluators": self.evaluator.unavailable,
            "energy_unavailable_reason": self.profiler.nvml_unavailable_reason,
            "params": self.params.model_dump(),
        }

    def warm_up(self) -> int:
        """Untimed generations so first-call costs (allocator, kernels, caches) stay out of the figures; a batched
        benchmark warms up with calls of its batch size.

        Done once per generation settings (and batch size) on this worker: a pooled worker that already generated
        with them is warm, and returns 0 (the runs it did now).
        """
        spec = self.benchmark_spec
        runs = spec.warmup_runs if spec.warmup_runs is not None else self.settings.warmup_runs
        settings_key = json.dumps(
            {**self.params.model_dump(mode="json"), "batch_size": spec.batch_size}, sort_keys=True
        )
        if settings_key in self._warm or self.engine.device == "remote":
            return 0
        for k in range(runs):
            if spec.batch_size > 1:
                self._batch_engine().generate_batch(
                    [spec.prompts[0]] * spec.batch_size,
                    self.params,
                    [10_000 + k * spec.batch_size + i for i in range(spec.batch_size)],
                )
            else:
                self.engine.generate(spec.prompts[0], self.params, seed=10_000 + k, image=spec.conditioning_image)
        self._warm.add(settings_key)
        return runs

    def run(self, benchmark_id: str, prompt_index: int, prompt: str, seed: int) -> dict[str, Any]:
        """One work item as the record the repository stores; a typed generation error is a failed record."""
        spec = self.benchmark_spec
        record = self._record(prompt_index, prompt, seed)
        try:
            result, measurement = self.profiler.measure(
                lambda: self.engine.generate(
                    prompt, self.params, seed=seed, image=spec.conditioning_image, timeout_s=self.timeout_s
                )
            )
        except VidBenchError as exc:
            return {**record, "status": "failed", "error": f"{exc.code}: {exc.message}"}
        return self._scored(benchmark_id, record, result, measurement.to_dict())

    def _batch_engine(self) -> VideoEngine:
        """The engine for a batched call: never a remote one (BenchmarkSpec refuses batch_size > 1 for those)."""
        return cast("VideoEngine", self.engine)

    def run_batch(self, benchmark_id: str, items: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
        """Several work items in one pipeline call. Each video's latency (and energy) is its share of the call's;
        its measurement keeps the call's own figures as batch_latency_s / batch_energy_j, with batch_size."""
        records = [self._record(*item) for item in items]
        try:
            results, measurement = self.profiler.measure(
                lambda: self._batch_engine().generate_batch(
                    [item[1] for item in items], self.params, [item[2] for item in items], timeout_s=self.timeout_s
                )
            )
        except VidBenchError as exc:  # one call: it failed for every video in it
            return [{**record, "status": "failed", "error": f"{exc.code}: {exc.message}"} for record in records]
        whole, n = measurement.to_dict(), len(items)
        share = {
            **whole,
            "latency_s": whole["latency_s"] / n,
            "energy_j": None if whole["energy_j"] is None else whole["energy_j"] / n,
            "batch_size": n,
            "batch_latency_s": whole["latency_s"],
            "batch_energy_j": whole["energy_j"],
        }
        return [
            self._scored(benchmark_id, record, result, share) for record, result in zip(records, results, strict=True)
        ]

    @staticmethod
    def _record(prompt_index: int, prompt: str, seed: int) -> dict[str, Any]:
        return {
            "prompt_index": prompt_index,
            "prompt": prompt,
            "seed": seed,
            "worker": f"{os.uname().nodename}:{os.getpid()}",
        }

    def _scored(self, benchmark_id: str, record: dict[str, Any], result, measurement: dict[str, Any]) -> dict[str, Any]:
        """A generated video scored (and saved when asked) as the stored record."""
        spec = self.benchmark_spec
        scored = (
            self.evaluator.evaluate(result.frames, record["prompt"], fps=result.fps)
            if spec.metric_names()
            else {"metrics": {}, "reasons": {}, "features": {}}
        )
        video_path = None
        if spec.save_videos:
            from app.storage.videos import write_mp4

            target = self.settings.videos_dir / benchmark_id / f"p{record['prompt_index']:04d}_s{record['seed']}.mp4"
            video_path = str(write_mp4(result.frames, result.fps, target))
        return {
            **record,
            "status": "ok",
            "num_frames": result.num_frames,
            "latency_s": measurement["latency_s"],
            "timings": result.timings.to_dict(),
            "measurement": measurement,
            "metrics": scored["metrics"],
            "metric_reasons": scored["reasons"],
            "features": scored["features"],
            "video_path": video_path,
        }

    def rss_bytes(self) -> int:
        """Resident memory of this worker's process (what the pool's memory cap counts)."""
        import psutil

        return psutil.Process().memory_info().rss

    def pid(self) -> int:
        return os.getpid()
