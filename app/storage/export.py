"""Parquet export of per-video results (one row per generated video).

Schema (pyarrow), documented in docs/results-schema.md:
  benchmark_id string, model_name string, prompt_index int32, prompt string, seed int64,
  status string, error string, num_frames int32, latency_s float64,
  encode_s / denoise_s / decode_s float64, peak_vram_allocated_gb / peak_rss_mb / energy_j float64,
  batch_size int32 and batch_latency_s float64 (the pipeline call that made the video; schema version 2),
  metric_<name> float64 for every per-video metric the caller names, video_path string.
The caller names the metric columns (the registry's per-video metrics:
app.metrics.registry.video_metric_names), as storage never imports app.metrics.
Nulls stay nulls: a figure that was not measured is never written as 0.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from app.storage.repository import BenchmarkRepository


def parquet_schema(metric_names: list[str]) -> pa.Schema:
    return pa.schema(
        [
            ("benchmark_id", pa.string()),
            ("model_name", pa.string()),
            ("prompt_index", pa.int32()),
            ("prompt", pa.string()),
            ("seed", pa.int64()),
            ("status", pa.string()),
            ("error", pa.string()),
            ("num_frames", pa.int32()),
            ("latency_s", pa.float64()),
            ("encode_s", pa.float64()),
            ("denoise_s", pa.float64()),
            ("decode_s", pa.float64()),
            ("peak_vram_allocated_gb", pa.float64()),
            ("peak_rss_mb", pa.float64()),
            ("energy_j", pa.float64()),
            ("batch_size", pa.int32()),
            ("batch_latency_s", pa.float64()),
        ]
        + [(f"metric_{name}", pa.float64()) for name in metric_names]
        + [("video_path", pa.string())],
        metadata={"vid_bench_schema": "2"},
    )


def export_parquet(
    repo: BenchmarkRepository, benchmark_ids: list[str], path: Path | str, metric_names: list[str]
) -> Path | str:
    """Write per-video rows to ``path``: a local path, or a URI every node can see (s3://, gs://, file://)."""
    rows = []
    for benchmark_id in benchmark_ids:
        bench = repo.get(benchmark_id)
        for v in repo.videos(benchmark_id):
            timings, measurement, metrics = v.timings or {}, v.measurement or {}, v.metrics or {}
            rows.append(
                {
                    "benchmark_id": benchmark_id,
                    "model_name": bench.model_name,
                    "prompt_index": v.prompt_index,
                    "prompt": v.prompt,
                    "seed": v.seed,
                    "status": v.status,
                    "error": v.error,
                    "num_frames": v.num_frames,
                    "latency_s": v.latency_s,
                    "encode_s": timings.get("encode_s"),
                    "denoise_s": timings.get("denoise_s"),
                    "decode_s": timings.get("decode_s"),
                    "peak_vram_allocated_gb": measurement.get("peak_vram_allocated_gb"),
                    "peak_rss_mb": measurement.get("peak_rss_mb"),
                    "energy_j": measurement.get("energy_j"),
                    # a video made alone is a call of one; a failed one has no call figures
                    "batch_size": measurement.get("batch_size", 1) if v.status == "ok" else None,
                    "batch_latency_s": measurement.get("batch_latency_s", v.latency_s) if v.status == "ok" else None,
                    **{f"metric_{name}": metrics.get(name) for name in metric_names},
                    "video_path": v.video_path,
                }
            )
    table = pa.Table.from_pylist(rows, schema=parquet_schema(metric_names))
    if "://" in str(path):  # shared storage through pyarrow's filesystems
        import pyarrow.fs

        filesystem, location = pyarrow.fs.FileSystem.from_uri(str(path))
        filesystem.create_dir(location.rpartition("/")[0], recursive=True)
        pq.write_table(table, location, filesystem=filesystem)
        return str(path)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path
