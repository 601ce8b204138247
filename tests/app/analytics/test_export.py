"""Exports: Prometheus text that prometheus_client's parser reads, and CSV / Parquet / JSON rows."""

import csv
import json
import re

import pyarrow.parquet as pq
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.analytics.export import write_export

pytestmark = pytest.mark.slow  # the seeded database runs real tiny benchmarks

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-z_][a-z0-9_]*$")


def _data(seeded):
    benchmarks = seeded.analytics.benchmarks(None, None)
    return benchmarks, {"tiny-t2v": seeded.analytics.status_counts(None, None, "tiny-t2v")}


def test_prometheus_export_parses_and_follows_the_conventions(seeded, tmp_path):
    benchmarks, counts = _data(seeded)
    path = write_export("prometheus", benchmarks, counts, tmp_path / "metrics.txt")
    families = {f.name: f for f in text_string_to_metric_families(path.read_text())}
    for family in families.values():
        assert NAME.match(family.name) and family.name.startswith("vid_bench_")
        assert family.type == "gauge" and not family.name.endswith("_total")
        for sample in family.samples:
            assert all(LABEL.match(label) for label in sample.labels)
    [count] = families["vid_bench_model_benchmarks"].samples
    assert count.labels == {"model": "tiny-t2v", "status": "completed"} and count.value == 3
    latency = families["vid_bench_model_latency_seconds"].samples[0].value
    expected = sum(b["figures"]["avg_latency_ms"]["value"] for b in benchmarks) / 3 / 1000
    assert latency == pytest.approx(expected)
    quality = {s.labels["metric"]: s.value for s in families["vid_bench_model_quality_score"].samples}
    assert set(quality) == {"temporal_consistency", "consecutive_ssim", "overall_score"}
    assert not families["vid_bench_model_peak_vram_bytes"].samples  # not measurable on CPU: absent, never 0


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_row_exports_have_one_row_per_benchmark(seeded, tmp_path, fmt):
    benchmarks, counts = _data(seeded)
    path = write_export(fmt, benchmarks, counts, tmp_path / f"out.{fmt}")
    if fmt == "csv":
        rows = list(csv.DictReader(path.open()))
    elif fmt == "parquet":
        rows = pq.read_table(path).to_pylist()
    else:
        rows = json.loads(path.read_text())["benchmarks"]
    assert sorted(r["benchmark_id"] for r in rows) == sorted(seeded.ids.values())
    row = next(r for r in rows if r["benchmark_id"] == seeded.ids["t2v_8step"])
    stored = {a.name: a for a in seeded.repo.aggregates(seeded.ids["t2v_8step"])}
    assert float(row["temporal_consistency"]) == pytest.approx(stored["temporal_consistency"].value)
    assert float(row["temporal_consistency_ci_low"]) == pytest.approx(stored["temporal_consistency"].ci_low)
