"""`vid-bench metrics`: which metrics can run here, and installing evaluator weights."""

import json

from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def test_metrics_list_shows_missing_files():
    result = runner.invoke(app, ["metrics", "list", "--json"])
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    assert rows["temporal_consistency"]["available"] is True
    assert rows["fvd"]["available"] is False and "i3d_torchscript.pt" in rows["fvd"]["missing"]


def test_metrics_fetch_from_local_file(tmp_path, settings):
    from tests.app.metrics.tiny_evaluators import TinyI3D, save_torchscript

    source = save_torchscript(TinyI3D(), tmp_path / "i3d.pt")
    result = runner.invoke(app, ["metrics", "fetch", "i3d", "--from", str(source), "--sha256", "0" * 64])
    assert result.exit_code == 2 and "expected" in result.stderr
    assert not (settings.resolved_weights_dir / "i3d_torchscript.pt").exists()
