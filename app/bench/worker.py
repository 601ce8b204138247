"""BenchmarkWorker: one loaded model that generates and scores one video per call.

Plain Python, no Ray: the runner puts it in a Ray actor (one per model), and a
parameter-search trial runs it in its own process.
"""

from __future__ import annotations

import os
from typing import Any

from app.bench.spec import BenchmarkSpec
from app.config import Settings
from app.errors import VidBenchError


class BenchmarkWorker:
    """Holds one loaded model, its evaluator and profiler; generates and scores one video per call."""

    def __init__(self, spec_json: dict[str, Any], settings_json: dict[str, Any]):
        import torch

        from app.bench.profiler import Profiler
        from app.catalog.spec import get_catalog, resolve_params
        from app.engines.optimization import resolve_device
        from app.metrics.evaluator import VideoEvaluator

        self.benchmark_spec = BenchmarkSpec(**spec_json)
        self.settings = Settings(**settings_json)
        torch.set_num_threads(self.settings.torch_threads_per_actor)
        model_spec = get_catalog().get(self.benchmark_spec.model_name)
        if model_spec.source.kind == "remote":
            from app.engines.remote import RemoteVideoEngine

            self.engine = RemoteVideoEngine(model_spec, self.settings.remote_api_key, self.settings.remote_timeout_s)
        else:
            from app.engines.video import VideoEngine

            self.engine = VideoEngine(model_spec, self.benchmark_spec.device, self.benchmark_spec.profile(),
                                      self.settings.resolved_models_dir)
        self.params = resolve_params(model_spec, self.benchmark_spec.parameters)
        self.load_s = self.engine.load()
        eval_device = self.engine.device if self.engine.device != "remote" else resolve_device("auto")
        self.evaluator = VideoEvaluator(self.benchmark_spec.metric_names(), self.settings.resolved_weights_dir,
                                        eval_device)
        self.profiler = Profiler(self.engine.device)
        self.warmed_up = False

    def info(self) -> dict[str, Any]:
        from app.bench.provenance import device_info

        self.profiler.energy_available()
        return {"device": device_info(self.engine.device), "load_s": self.load_s,
                "memory_savers": getattr(self.engine, "memory_savers", []),
                "evaluators": self.evaluator.provenance, "unavailable_evaluators": self.evaluator.unavailable,
                "energy_unavailable_reason": self.profiler.nvml_unavailable_reason,
                "params": self.params.model_dump()}

    def warm_up(self) -> int:
        """Untimed generations so first-call costs (allocator, kernels, caches) stay out of the figures."""
        spec = self.benchmark_spec
        runs = spec.warmup_runs if spec.warmup_runs is not None else self.settings.warmup_runs
        if not self.warmed_up and self.engine.device != "remote":
            for k in range(runs):
                self.engine.generate(spec.prompts[0], self.params, seed=10_000 + k, image=spec.conditioning_image)
        self.warmed_up = True
        return runs

    def run(self, benchmark_id: str, prompt_index: int, prompt: str, seed: int) -> dict[str, Any]:
        """One work item as the record the repository stores; a typed generation error is a failed record."""
        spec = self.benchmark_spec
        record: dict[str, Any] = {"prompt_index": prompt_index, "prompt": prompt, "seed": seed,
                                  "worker": f"{os.uname().nodename}:{os.getpid()}"}
        try:
            result, measurement = self.profiler.measure(
                lambda: self.engine.generate(prompt, self.params, seed=seed, image=spec.conditioning_image))
        except VidBenchError as exc:
            return {**record, "status": "failed", "error": f"{exc.code}: {exc.message}"}
        scored = self.evaluator.evaluate(result.frames, prompt, fps=result.fps) if spec.metric_names() else \
            {"metrics": {}, "reasons": {}, "features": {}}
        video_path = None
        if spec.save_videos:
            from app.storage.videos import write_mp4

            target = self.settings.videos_dir / benchmark_id / f"p{prompt_index:04d}_s{seed}.mp4"
            video_path = str(write_mp4(result.frames, result.fps, target))
        return {**record, "status": "ok", "num_frames": result.num_frames, "latency_s": measurement.latency_s,
                "timings": result.timings.to_dict(), "measurement": measurement.to_dict(),
                "metrics": scored["metrics"], "metric_reasons": scored["reasons"], "features": scored["features"],
                "video_path": video_path}

    def pid(self) -> int:
        return os.getpid()
