"""`vid-bench federated`: bad input is one error line and exit 2 before any request leaves; the reference's
multi-value `--participants a b c` form is read. Whole sessions over HTTP: tests/app/federated/test_session.py."""

import json

import pytest
from typer.testing import CliRunner

from cli.main import expand_multi_value_options, main

runner = CliRunner()


def invoke(args: list[str]):
    from cli.main import app

    return runner.invoke(app, expand_multi_value_options(args))


@pytest.fixture
def spec_file(tmp_path):
    path = tmp_path / "benchmark_spec.json"
    path.write_text(
        json.dumps({"models": ["tiny-t2v"], "prompts": ["A cat playing piano"], "parameters": {"num_frames": [4, 8]}})
    )
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--participants", "a", "a"], "duplicate participant"),
        (["--participants", "a", "--epsilon", "0"], "epsilon must be > 0"),
        (["--participants", "a", "--delta", "1.5"], "0 < delta < 1"),
        (["--participants", "a", "--consensus-threshold", "1.5"], "consensus_threshold"),
    ],
)
def test_bad_sessions_are_refused_locally(spec_file, extra, message):
    result = invoke(
        [
            "federated",
            "create",
            "--session-id",
            "s",
            "--spec",
            str(spec_file),
            "--coordinator",
            "http://127.0.0.1:9",
            *extra,
        ]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "error:" in result.output


def test_a_missing_spec_file_and_an_unreachable_coordinator(tmp_path, spec_file):
    result = invoke(
        ["federated", "create", "--session-id", "s", "--participants", "a", "--spec", str(tmp_path / "none.json")]
    )
    assert result.exit_code == 2 and "does not exist" in result.output
    result = invoke(["federated", "status", "--session-id", "s", "--coordinator", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "SERVICE_UNAVAILABLE" in result.output and "unreachable" in result.output


def test_participants_take_several_values():
    argv = ["federated", "create", "--participants", "university_a", "lab_b", "company_c", "--spec", "x.json"]
    assert expand_multi_value_options(argv) == [
        "federated",
        "create",
        "--participants",
        "university_a",
        "--participants",
        "lab_b",
        "--participants",
        "company_c",
        "--spec",
        "x.json",
    ]
    assert callable(main)
