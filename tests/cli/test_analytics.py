"""`vid-bench analytics report|export|summary|compare` and `vid-bench monitor` on a database of real tiny runs."""

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from app.config import reset_settings_cache
from cli.main import app
from cli.monitor import parse_duration

runner = CliRunner()


@pytest.fixture
def on_seeded(seeded, monkeypatch):
    monkeypatch.setenv("VDB_DATABASE_URL", seeded.url)
    reset_settings_cache()
    yield seeded
    monkeypatch.delenv("VDB_DATABASE_URL")
    reset_settings_cache()


@pytest.mark.slow
def test_report_and_exports_from_the_command_line(on_seeded, tmp_path):
    pdf = tmp_path / "analytics_report.pdf"
    result = runner.invoke(
        app,
        [
            "analytics",
            "report",
            "--period",
            "30d",
            "--models",
            "tiny-t2v",
            "--metric",
            "temporal_consistency",
            "--output",
            str(pdf),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF") and "6 pages, 3 benchmarks" in result.stdout
    prom = tmp_path / "metrics.txt"
    result = runner.invoke(app, ["analytics", "export", "--format", "prometheus", "--output", str(prom)])
    assert result.exit_code == 0, result.output
    assert "vid_bench_model_benchmarks" in {f.name for f in text_string_to_metric_families(prom.read_text())}
    result = runner.invoke(
        app,
        [
            "analytics",
            "compare",
            f"tiny-t2v@benchmark_id={on_seeded.ids['t2v_1step_a']}",
            f"tiny-t2v@benchmark_id={on_seeded.ids['t2v_8step']}",
            "--metric",
            "temporal_consistency",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["statistical_significance"]["paired"] is True
    result = runner.invoke(app, ["analytics", "summary", "--period", "24h"])
    assert json.loads(result.stdout)["total_benchmarks"] == 3


def test_bad_export_format_is_one_error_line(tmp_path):
    result = runner.invoke(app, ["analytics", "export", "--format", "xml", "--output", str(tmp_path / "x")])
    assert result.exit_code == 2 and "INVALID_PARAMETERS" in result.stderr and not (tmp_path / "x").exists()


def test_refresh_rates():
    assert parse_duration("5s") == 5 and parse_duration("500ms") == 0.5 and parse_duration("1m") == 60
    result = runner.invoke(app, ["monitor", "dashboard", "--refresh-rate", "soon"])
    assert result.exit_code == 2 and "not a duration" in result.stderr
