"""One decorator turns typed app errors into one line on stderr and exit code 2, in every command."""

import re

import pytest
import typer
from typer.testing import CliRunner

from app.errors import ValidationError
from cli.common import app_errors_exit_2, emit_json
from cli.main import app

runner = CliRunner()
RAY_FORWARDED = re.compile(r"(\x1b\[[0-9;]*m)?\([^)]* pid=\d+(, ip=[^)]*)?\)")


def _one_command_app(command) -> typer.Typer:
    small = typer.Typer()
    small.command()(app_errors_exit_2(command))
    small.command("other")(lambda: None)  # a second command keeps Typer from flattening the app
    return small


def test_typed_error_is_one_line_and_exit_2():
    def fails(name: str):
        raise ValidationError(f"Model '{name}' is odd [see list]\nsecond line", {})

    result = runner.invoke(_one_command_app(fails), ["fails", "m1"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == ["error: INVALID_PARAMETERS: Model 'm1' is odd [see list] second line"]
    assert result.stdout == ""


def test_other_exceptions_are_not_swallowed():
    def breaks():
        raise RuntimeError("a bug")

    result = runner.invoke(_one_command_app(breaks), ["breaks"])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


def test_decorated_command_keeps_its_options_and_return():
    def works(count: int = typer.Option(1, min=1)):
        if count > 3:
            raise ValidationError("count must be at most 3", {"count": count})
        print("ok" * count)

    small = _one_command_app(works)
    assert runner.invoke(small, ["works", "--count", "2"]).stdout == "okok\n"
    assert runner.invoke(small, ["works", "--count", "0"]).exit_code == 2  # Typer's own range check, usage error
    refused = runner.invoke(small, ["works", "--count", "4"])
    assert refused.exit_code == 2 and refused.stderr == "error: INVALID_PARAMETERS: count must be at most 3\n"


def test_emit_json_prints_or_writes(tmp_path, capsys):
    emit_json({"a": 1})
    assert capsys.readouterr().out == '{\n  "a": 1\n}\n'
    emit_json({"path": tmp_path}, tmp_path / "deep" / "out.json")
    assert (tmp_path / "deep" / "out.json").read_text() == f'{{\n  "path": "{tmp_path}"\n}}'


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["models", "info", "nope"], "MODEL_NOT_FOUND"),
        (["models", "health-check", "nope"], "MODEL_NOT_FOUND"),
        (["benchmark", "nope", "-p", "a cat"], "MODEL_NOT_FOUND"),
        (["benchmark", "tiny-t2v", "-p", "a cat", "--num-frames", "99"], "num_frames=99"),
        (["benchmark", "tiny-t2v", "-p", " "], "INVALID_PROMPT"),
        (["benchmark", "tiny-t2v"], "Give prompts"),
        (["benchmark", "tiny-t2v", "--prompts-file", "/does/not/exist.txt"], "does not exist"),
        (["benchmark", "tiny-t2v", "--prompt-set", "NOPE"], "Unknown prompt set"),
        (["compare", "tiny-t2v", "-p", "a"], "at least two models"),
        (["metrics", "fetch", "nope"], "Unknown evaluator"),
        (["serve", "--config", "/does/not/exist.yaml"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, fragment):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    # In the full run the session's Ray forwards its actors' log lines, "(ServeReplica:... pid=N) ...", to this
    # process's stderr; they are not the command's output.
    own = [line for line in result.stderr.splitlines() if not RAY_FORWARDED.match(line)]
    assert len(own) == 1 and fragment in own[0]
    assert own[0].startswith("error: ")
    assert "Traceback" not in result.output
