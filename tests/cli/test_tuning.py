"""`vid-bench optimize`: a bad search space is refused up front; a small search runs real trials."""

import json

from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def test_optimize_refuses_a_bad_space_and_runs_a_small_search(ray_session, tmp_path):
    bad = runner.invoke(app, ["optimize", "tiny-t2v", "--frames", "64"])
    assert bad.exit_code == 2 and "num_frames" in bad.stderr
    out = tmp_path / "best.json"
    result = runner.invoke(
        app,
        [
            "optimize",
            "tiny-t2v",
            "--strategy",
            "random",
            "--max-evaluations",
            "2",
            "--steps",
            "1",
            "--steps",
            "2",
            "--frames",
            "4",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert len(saved["trials"]) == 2 and saved["best_parameters"]["num_frames"] == 4
