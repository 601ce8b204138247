"""Live metrics of benchmark runners on ``ray.util.metrics`` (Ray's Prometheus export, names prefixed ``ray_``):

- ``vid_bench_benchmark_progress_ratio`` (gauge): share of a benchmark's videos done, by benchmark and model;
- ``vid_bench_benchmark_videos`` (counter): videos finished by model and status (ok / failed);
- ``vid_bench_generation_seconds`` (histogram): generation time per video by model (the worker's timed latency);
- ``vid_bench_generation_peak_vram_bytes`` (gauge): peak GPU memory of the last video by model, only where the
  worker measured it (absent on CPU).
Created on first use in the runner's process (a driver or a detached owner), where Ray is connected.
"""

from __future__ import annotations

from typing import Any

GENERATION_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600]
_metrics: dict[str, Any] = {}


def _get() -> dict[str, Any]:
    if not _metrics:
        from ray.util import metrics

        _metrics.update(
            progress=metrics.Gauge(
                "vid_bench_benchmark_progress_ratio",
                "Share of the benchmark's videos done",
                tag_keys=("benchmark_id", "model"),
            ),
            videos=metrics.Counter(
                "vid_bench_benchmark_videos", "Benchmark videos finished", tag_keys=("model", "status")
            ),
            seconds=metrics.Histogram(
                "vid_bench_generation_seconds",
                "Generation time per video (s)",
                boundaries=GENERATION_BUCKETS,
                tag_keys=("model",),
            ),
            vram=metrics.Gauge(
                "vid_bench_generation_peak_vram_bytes", "Peak GPU memory of the last video", tag_keys=("model",)
            ),
        )
    return _metrics


def video_done(benchmark_id: str, model: str, record: dict[str, Any], done: int, total: int) -> None:
    m = _get()
    m["videos"].inc(tags={"model": model, "status": record.get("status") or "failed"})
    if record.get("latency_s") is not None:
        m["seconds"].observe(float(record["latency_s"]), tags={"model": model})
    vram = (record.get("measurement") or {}).get("peak_vram_allocated_gb")
    if vram is not None:
        m["vram"].set(float(vram) * 2**30, tags={"model": model})
    m["progress"].set(done / total if total else 1.0, tags={"benchmark_id": benchmark_id, "model": model})
