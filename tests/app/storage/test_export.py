"""Parquet export: the caller names the metric columns, so storage needs nothing from app.metrics."""

import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from app.storage.database import Database
from app.storage.export import export_parquet, parquet_schema
from app.storage.repository import BenchmarkRepository

ROOT = Path(__file__).resolve().parents[3]


def test_metric_columns_are_the_ones_named(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'bench.sqlite3'}")
    repo = BenchmarkRepository(db)
    row = repo.create_benchmark("tiny-t2v", {"x": 1}, 1)
    repo.record_video(
        row.id,
        {
            "prompt_index": 0,
            "prompt": "a cat",
            "seed": 0,
            "status": "ok",
            "num_frames": 8,
            "latency_s": 0.25,
            "metrics": {"sharpness": 0.5, "not_exported": 1.0},
        },
    )
    table = pq.read_table(export_parquet(repo, [row.id], tmp_path / "out.parquet", ["sharpness", "never_scored"]))
    db.dispose()
    assert table.schema.equals(parquet_schema(["sharpness", "never_scored"]), check_metadata=False)
    assert [c for c in table.column_names if c.startswith("metric_")] == ["metric_sharpness", "metric_never_scored"]
    assert table.to_pylist()[0]["metric_sharpness"] == 0.5 and table.to_pylist()[0]["metric_never_scored"] is None


def test_storage_does_not_import_the_metrics_layer():
    code = "import sys, app.storage.export; print([m for m in sys.modules if m.startswith('app.metrics')])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
