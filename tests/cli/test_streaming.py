"""`vid-bench streaming live|interactive`: bad input refused with exit 2 before Ray starts; a short live and an
interactive run on the tiny model with live progress, JSON and Parquet."""

import json

import pytest
from typer.testing import CliRunner

from cli.main import app, main

runner = CliRunner()


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["live", "tiny-t2v", "-p", "A cat", "--target-fps", "0"], "target_fps"),
        (["live", "tiny-t2v", "-p", "A cat", "--buffer-size", "0"], "buffer_size"),
        (["live", "tiny-t2v", "-p", "A cat", "--duration", "100000"], "duration_seconds"),
        (["live", "tiny-t2v", "-p", "A cat", "--quality-levels", "16"], "quality levels"),
        (["live", "no-such-model", "-p", "A cat"], "MODEL_NOT_FOUND"),
        (["live", "tiny-t2v", "-p", "A cat", "--initial-resolution", "big"], "WIDTHxHEIGHT"),
        (["live", "tiny-t2v"], "prompts"),
        (["interactive", "tiny-t2v", "-p", "A cat", "--response-target", "soon"], "500ms"),
    ],
)
def test_bad_input_exits_2_before_anything_runs(settings, args, fragment):
    result = runner.invoke(app, ["streaming", *args])
    assert result.exit_code == 2 and fragment in result.output, result.output


def test_live_with_progress_json_and_parquet(ray_session, tmp_path, capsys):
    import re

    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_info:  # the real entry point: the reference's multi-value --prompts
        main(
            [
                "streaming",
                "live",
                "tiny-t2v",
                "--prompts",
                "A cat playing piano",
                "Ocean waves",
                "--duration",
                "5",
                "--target-fps",
                "8",
                "--buffer-size",
                "24",
                "--quality-levels",
                "2",
                "--steps",
                "1",
                "--adaptive-quality",
                "--output",
                str(out),
            ]
        )
    assert exit_info.value.code in (0, None)
    captured = capsys.readouterr()
    assert re.search(r"buffer \[[#-]{20}\] +\d+/24 rung [01] drops \d+/\d+", captured.err), captured.err
    stream_id = re.search(r"(stream_[0-9a-f]{12})", captured.out).group(1)
    payload = json.loads((out / f"{stream_id}.json").read_text())
    assert payload["status"] == "completed" and payload["spec"]["prompts"] == ["A cat playing piano", "Ocean waves"]
    assert (
        payload["provenance"]["packages"]["torch"]
        and len(payload["frames"]) == payload["performance"]["total_frames_generated"]
    )
    assert (out / f"{stream_id}.frames.parquet").is_file() and "frame_drop_rate" in captured.out
    assert len(payload["buffer"]) == payload["performance"]["clips"]
    assert all(0 <= point["occupancy"] <= 24 for point in payload["buffer"])


def test_interactive_reports_first_frames(ray_session, tmp_path):
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("A cat\nA dog\n")
    result = runner.invoke(
        app,
        [
            "streaming",
            "interactive",
            "tiny-t2v",
            "--prompts-file",
            str(prompts),
            "--response-target",
            "30s",
            "--steps",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "first frame after" in result.output and "share_meeting_target" in result.output
    assert "whole clip" in result.output
