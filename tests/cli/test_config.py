"""`vid-bench config set|show|reset`: the user configuration file from the command line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.config import config_file_path, reset_settings_cache
from cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VDB_DATA_DIR", str(tmp_path))
    for name in ("VDB_OPTIMIZATION_LEVEL", "VDB_DEFAULT_LOCALE", "VDB_GPU_MEMORY_FRACTION"):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    yield tmp_path
    reset_settings_cache()


def invoke(*args: str, env: dict | None = None):
    reset_settings_cache()  # each command is a fresh process in real use
    return runner.invoke(app, list(args), env=env)


def shown(env: dict | None = None) -> dict:
    result = invoke("config", "show", "--json", env=env)
    assert result.exit_code == 0, result.output
    return {row["key"]: (row["value"], row["source"]) for row in json.loads(result.stdout)["settings"]}


def test_the_reference_commands(data_dir):
    for key, value in (("optimization_level", "balanced"), ("default_locale", "es"), ("gpu_memory_fraction", "0.8")):
        result = invoke("config", "set", key, value)
        assert result.exit_code == 0, result.output
    assert "gpu_memory_fraction = 0.8" in result.stdout and "guardado en" in result.stdout  # now in Spanish
    settings = shown()
    assert settings["optimization_level"] == ("balanced", "file") and settings["gpu_memory_fraction"] == (0.8, "file")
    assert settings["default_locale"] == ("es", "file") and settings["device"] == ("auto", "default")
    table = invoke("config", "show")
    assert "origen" in table.stdout and "archivo" in table.stdout and "predeterminado" in table.stdout
    reset = invoke("config", "reset")
    assert reset.exit_code == 0 and "default_locale, gpu_memory_fraction, optimization_level" in reset.stdout
    assert not config_file_path().exists()
    assert shown()["optimization_level"] == ("baseline", "default")


def test_environment_wins_and_show_says_so():
    assert invoke("config", "set", "optimization_level", "performance").exit_code == 0
    result = invoke("config", "set", "optimization_level", "performance", env={"VDB_OPTIMIZATION_LEVEL": "balanced"})
    assert "VDB_OPTIMIZATION_LEVEL" in result.stderr
    assert shown({"VDB_OPTIMIZATION_LEVEL": "balanced"})["optimization_level"] == ("balanced", "env")
    assert shown()["optimization_level"] == ("performance", "file")
    one = invoke("config", "show", "optimization_level", env={"VDB_OPTIMIZATION_LEVEL": "balanced"})
    assert "environment" in one.stdout and "device" not in one.stdout


def test_reset_one_key():
    invoke("config", "set", "actor_max_restarts", "2")
    invoke("config", "set", "device", "cpu")
    assert shown()["actor_max_restarts"] == (2, "file")
    assert invoke("config", "reset", "actor_max_restarts").exit_code == 0
    assert shown()["actor_max_restarts"] == (3, "default") and shown()["device"] == ("cpu", "file")


@pytest.mark.parametrize(
    "args, fragment",
    [
        (("gpu_memory_fraction", "1.5"), "for gpu_memory_fraction; allowed: a number: 0 < x <= 1 (Input should be"),
        (("optimization_level", "fast"), 'allowed: "baseline", "balanced", "performance" (Input should be'),
        (("default_locale", "pt"), '"zh-CN"'),
        (("no_such_key", "1"), "Unknown setting 'no_such_key'; allowed: actor_max_restarts"),
    ],
)
def test_invalid_values_and_unknown_keys_are_refused(args, fragment):
    result = invoke("config", "set", *args)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.startswith("error: INVALID_PARAMETERS: ") and fragment in result.stderr
    assert not config_file_path().exists()


def test_refusals_are_in_the_users_language():
    invoke("config", "set", "default_locale", "de")
    result = invoke("config", "set", "gpu_memory_fraction", "2")
    assert result.stderr.startswith(
        "Fehler: INVALID_PARAMETERS: Ungültiger Wert „2“ für gpu_memory_fraction; zulässig: eine Zahl: 0 < x <= 1 ("
    )
