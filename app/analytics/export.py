"""Exports of stored results: Prometheus text (per model), CSV / Parquet / JSON (one row per benchmark).

Prometheus: the text exposition format written by prometheus_client (so it parses with its parser), one
gauge family per figure, labelled by ``model`` (and ``metric`` / ``status`` where there are several).
Names follow the Prometheus conventions: the ``vid_bench_`` prefix, snake_case, base units in the name
(seconds, bytes, ratios), no ``_total`` on gauges. Each value is the mean over the model's completed
benchmarks in the window; ``vid_bench_model_benchmarks`` gives how many benchmarks that is. A figure no
benchmark has (e.g. GPU memory on a CPU) is left out rather than written as 0.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from app.errors import ValidationError
from app.metrics.registry import METRICS

FORMATS = ("prometheus", "csv", "parquet", "json")
# aggregate name -> (Prometheus name, help, scale to the base unit)
PERFORMANCE_SERIES = {
    "avg_latency_ms": ("vid_bench_model_latency_seconds", "Mean generation latency per video", 1e-3),
    "p95_latency_ms": ("vid_bench_model_latency_p95_seconds", "95th percentile latency per video", 1e-3),
    "throughput_fps": ("vid_bench_model_throughput_frames_per_second", "Frames generated per second", 1.0),
    "peak_vram_gb": ("vid_bench_model_peak_vram_bytes", "Peak GPU memory allocated", 2**30),
    "peak_rss_mb": ("vid_bench_model_peak_rss_bytes", "Peak resident memory of the worker", 2**20),
    "total_energy_j": ("vid_bench_model_energy_joules", "GPU energy of the whole benchmark", 1.0),
    "success_rate": ("vid_bench_model_success_ratio", "Share of videos generated without error", 1.0),
}


def rows(benchmarks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per benchmark: identity, timing, then every figure with its CI bounds and n."""
    names = sorted({name for b in benchmarks for name in b["figures"]})
    out = []
    for b in benchmarks:
        row: dict[str, Any] = {
            "benchmark_id": b["benchmark_id"],
            "model_name": b["model_name"],
            "status": b["status"],
            "created_at": b["created_at"].isoformat() if b["created_at"] else None,
            "completed_at": b["completed_at"].isoformat() if b["completed_at"] else None,
            "total_videos": b["total_videos"],
            "completed_videos": b["completed_videos"],
            "failed_videos": b["failed_videos"],
            "spec_hash": b["spec_hash"],
        }
        for name in names:
            figure = b["figures"].get(name) or {}
            row[name] = figure.get("value")
            if name in METRICS:
                row[f"{name}_ci_low"], row[f"{name}_ci_high"] = figure.get("ci_low"), figure.get("ci_high")
                row[f"{name}_n"] = figure.get("n")
        out.append(row)
    return out


def prometheus_text(benchmarks: list[dict[str, Any]], status_counts: dict[str, dict[str, int]]) -> str:
    """``status_counts``: model -> status -> benchmarks in the window (all statuses)."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily

    by_model: dict[str, list[dict[str, Any]]] = {}
    for b in benchmarks:
        by_model.setdefault(b["model_name"], []).append(b)

    def mean(model: str, name: str) -> float | None:
        stored = [(b["figures"].get(name) or {}).get("value") for b in by_model[model]]
        values = [v for v in stored if v is not None]
        return sum(values) / len(values) if values else None

    class Collector:
        def collect(self):
            counts = GaugeMetricFamily(
                "vid_bench_model_benchmarks", "Benchmarks in the window by status", labels=["model", "status"]
            )
            for model, statuses in sorted(status_counts.items()):
                for status, count in sorted(statuses.items()):
                    counts.add_metric([model, status], count)
            yield counts
            quality = GaugeMetricFamily(
                "vid_bench_model_quality_score",
                "Mean quality metric over completed benchmarks (metric label; direction in docs/metrics.md)",
                labels=["model", "metric"],
            )
            for model in sorted(by_model):
                for name in METRICS:
                    value = mean(model, name)
                    if value is not None:
                        quality.add_metric([model, name], value)
            yield quality
            for name, (series, text, scale) in PERFORMANCE_SERIES.items():
                family = GaugeMetricFamily(series, text, labels=["model"])
                for model in sorted(by_model):
                    value = mean(model, name)
                    if value is not None:
                        family.add_metric([model], value * scale)
                yield family

    registry = CollectorRegistry()
    registry.register(Collector())
    return generate_latest(registry).decode()


def write_export(
    fmt: str, benchmarks: list[dict[str, Any]], status_counts: dict[str, dict[str, int]], output: Path
) -> Path:
    if fmt not in FORMATS:
        raise ValidationError(f"format must be one of {list(FORMATS)}", {"format": fmt})
    output.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "prometheus":
        output.write_text(prometheus_text(benchmarks, status_counts))
        return output
    table = rows(benchmarks)
    if fmt == "json":
        output.write_text(json.dumps({"benchmarks": table}, indent=2, default=_jsonable))
    elif fmt == "csv":
        columns = list(dict.fromkeys(k for row in table for k in row)) or ["benchmark_id"]
        with output.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            writer.writerows(table)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(
            pa.Table.from_pylist(table) if table else pa.table({"benchmark_id": pa.array([], pa.string())}), output
        )
    return output


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
