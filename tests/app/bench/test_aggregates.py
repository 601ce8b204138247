"""Stored per-video records -> aggregate rows, the one path the runner and search trials share."""

from app.bench.aggregates import NOT_MEASURABLE, aggregate_rows
from app.bench.spec import BenchmarkSpec


def _ok(temporal: float, latency_s: float, rss_mb: float) -> dict:
    return {
        "status": "ok",
        "metrics": {"temporal_consistency": temporal},
        "metric_reasons": {},
        "features": {},
        "latency_s": latency_s,
        "num_frames": 4,
        "measurement": {"peak_rss_mb": rss_mb},
    }


def test_rows_from_ok_records_and_success_over_every_item(settings):
    spec = BenchmarkSpec(
        model_name="tiny-t2v", prompts=["a", "b", "c"], metric_settings={"metrics": ["temporal_consistency"]}
    )
    records = [_ok(0.8, 1.0, 100.0), _ok(0.6, 3.0, 120.0), {"status": "failed", "error": "E: boom"}]
    rows = {(r["kind"], r["name"]): r for r in aggregate_rows(records, spec, {}, settings)}
    metric = rows["metric", "temporal_consistency"]
    assert metric["value"] == 0.7 and metric["n"] == 2 and metric["ci_low"] <= 0.7 <= metric["ci_high"]
    assert rows["performance", "avg_latency_ms"]["value"] == 2000.0
    assert rows["performance", "throughput_fps"]["value"] == 8 / 4.0  # frames per second of generation
    assert rows["performance", "peak_rss_mb"]["value"] == 120.0
    assert rows["performance", "success_rate"]["value"] == 2 / 3
    unmeasured = rows["performance", "peak_vram_gb"]
    assert unmeasured["value"] is None and unmeasured["reason"] == NOT_MEASURABLE


def test_no_metrics_asked_and_nothing_ok(settings):
    spec = BenchmarkSpec(model_name="tiny-t2v", prompts=["a"], metric_settings={"compute_metrics": False})
    rows = aggregate_rows([{"status": "failed", "error": "E: boom"}], spec, {}, settings)
    assert {r["kind"] for r in rows} == {"performance"}
    values = {r["name"]: r["value"] for r in rows}
    assert values["success_rate"] == 0.0 and values["avg_latency_ms"] is None
