"""`vid-bench locale set|list|info`, and CLI output (messages, headers, numbers) in the chosen locale."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from app.config import reset_settings_cache
from cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VDB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("VDB_DEFAULT_LOCALE", raising=False)
    reset_settings_cache()
    yield tmp_path
    reset_settings_cache()


def invoke(*args: str, env: dict | None = None):
    reset_settings_cache()
    return runner.invoke(app, list(args), env=env)


def test_set_list_info():
    result = invoke("locale", "set", "es")
    assert result.exit_code == 0 and result.stdout.strip() == "Idioma establecido: es"
    listed = json.loads(invoke("locale", "list", "--json").stdout)
    assert [row["code"] for row in listed] == ["en", "es", "fr", "de", "ja", "zh-CN"]
    assert [row["code"] for row in listed if row["current"]] == ["es"]
    assert {row["code"]: row["name"] for row in listed}["ja"] == "日本語"
    table = invoke("locale", "list").stdout
    assert "Idiomas disponibles" in table and "Nombre en inglés" in table
    info = json.loads(invoke("locale", "info", "zh-CN", "--json").stdout)
    assert info["code"] == "zh-CN" and info["name"].startswith("中文") and info["number_example"] == "1,234,567.891"
    assert info["date_format"] == "y年M月d日"
    shown = invoke("locale", "info", "de").stdout  # labels in Spanish, formats in German
    assert "separador decimal" in shown and "1.234.567,891" in shown


def test_unknown_locale_refused_with_the_supported_ones():
    result = invoke("locale", "set", "pt")
    assert result.exit_code == 2 and '"en", "es", "fr", "de", "ja", "zh-CN"' in result.stderr
    info = invoke("locale", "info", "pt")
    assert info.exit_code == 2 and "Unknown locale 'pt'; supported: en, es, fr, de, ja, zh-CN" in info.stderr


def test_environment_locale_overrides_the_file():
    invoke("locale", "set", "fr")
    result = invoke("locale", "list", env={"VDB_DEFAULT_LOCALE": "ja"})
    assert "対応ロケール" in result.stdout


@pytest.mark.parametrize(
    "code, title, header",
    [
        ("en", "Models", "name"),
        ("fr", "Modèles", "nom"),
        ("de", "Modelle", "Name"),
        ("ja", "モデル", "名前"),
        ("zh-CN", "模型", "名称"),
    ],
)
def test_model_table_in_the_locale(code, title, header):
    result = invoke("models", "list", "--modality", "video", env={"VDB_DEFAULT_LOCALE": code})
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and title in lines[0] and header in "".join(lines[1:5])  # title, then the headers


def test_numbers_in_tables_follow_the_locale(monkeypatch):
    from cli.common import fmt

    monkeypatch.setenv("VDB_DEFAULT_LOCALE", "de")
    reset_settings_cache()
    assert fmt(1234.5678) == "1.235" and fmt(0.5) == "0,5" and fmt(None) == "null"
    monkeypatch.setenv("VDB_DEFAULT_LOCALE", "en")
    reset_settings_cache()
    assert fmt(1234.5678) == "1,235" and fmt(0.5) == "0.5"


def test_errors_in_the_locale():
    result = invoke("models", "info", "no-such-model", env={"VDB_DEFAULT_LOCALE": "es"})
    assert result.exit_code == 2
    assert result.stderr.startswith("error: MODEL_NOT_FOUND: No se encontró el modelo 'no-such-model'")


def test_new_command_groups_speak_the_locale(tmp_path):
    """analytics, streaming: progress/result lines and their typed errors in Spanish, option names untouched."""
    out = tmp_path / "rows.csv"
    result = invoke("analytics", "export", "--format", "csv", "--output", str(out), env={"VDB_DEFAULT_LOCALE": "es"})
    assert result.exit_code == 0, result.output
    shown = " ".join(result.stdout.split())  # the console may wrap a long path
    assert out.is_file() and shown.startswith("Se escribió") and shown.endswith("(csv, 0 benchmarks completados)")
    refused = invoke(
        "streaming", "live", "tiny-t2v", "-p", "a cat", "--initial-resolution", "big", env={"VDB_DEFAULT_LOCALE": "es"}
    )
    assert refused.exit_code == 2
    assert "INVALID_PARAMETERS: --initial-resolution 'big' no tiene la forma ANCHOxALTO" in refused.stderr
    english = invoke("streaming", "live", "tiny-t2v", "-p", "a cat", "--initial-resolution", "big")
    assert "--initial-resolution 'big' is not WIDTHxHEIGHT" in english.stderr
