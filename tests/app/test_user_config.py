"""The user configuration file: Settings read it under the VDB_* variables; writes are validated first."""

from __future__ import annotations

import stat
import typing

import pytest

from app.config import OptimizationLevel, Settings, config_file_path
from app.engines.optimization import PROFILES
from app.errors import ValidationError
from app.user_config import read_file, reset, set_value, show


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("VDB_DATA_DIR", str(tmp_path))
    for name in ("VDB_OPTIMIZATION_LEVEL", "VDB_DEFAULT_LOCALE", "VDB_GPU_MEMORY_FRACTION", "VDB_WARMUP_RUNS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def sources(rows):
    return {row["key"]: (row["value"], row["source"]) for row in rows}


def test_set_show_reset(data_dir):
    assert set_value("optimization_level", "balanced") == "balanced"
    assert set_value("default_locale", "zh_CN") == "zh-CN"  # stored in the catalog's spelling
    assert set_value("gpu_memory_fraction", "0.8") == 0.8
    assert set_value("rate_limit_unlimited_groups", '["auth", "tasks", "inference"]') == ["auth", "tasks", "inference"]
    path = config_file_path()
    assert path == data_dir / "config.toml" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_file() == {
        "optimization_level": "balanced",
        "default_locale": "zh-CN",
        "gpu_memory_fraction": 0.8,
        "rate_limit_unlimited_groups": ["auth", "tasks", "inference"],
    }
    settings = Settings()
    assert (settings.optimization_level, settings.default_locale, settings.gpu_memory_fraction) == (
        "balanced",
        "zh-CN",
        0.8,
    )
    shown = sources(show())
    assert shown["optimization_level"] == ("balanced", "file") and shown["gpu_memory_fraction"] == (0.8, "file")
    assert shown["device"] == ("auto", "default") and shown["data_dir"][1] == "env"
    assert reset("gpu_memory_fraction") == ["gpu_memory_fraction"]
    assert Settings().gpu_memory_fraction == 1.0 and sources(show())["gpu_memory_fraction"] == (1.0, "default")
    assert reset() == ["default_locale", "optimization_level", "rate_limit_unlimited_groups"]
    assert not path.exists() and Settings().optimization_level == "baseline"
    assert reset() == []


def test_environment_overrides_the_file(data_dir, monkeypatch):
    set_value("optimization_level", "performance")
    set_value("warmup_runs", "3")
    monkeypatch.setenv("VDB_OPTIMIZATION_LEVEL", "balanced")
    settings = Settings()
    assert settings.optimization_level == "balanced" and settings.warmup_runs == 3
    shown = sources(show())
    assert shown["optimization_level"] == ("balanced", "env") and shown["warmup_runs"] == (3, "file")
    assert Settings(optimization_level="baseline").optimization_level == "baseline"  # arguments over both


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("gpu_memory_fraction", "1.5", "a number: 0 < x <= 1"),
        ("gpu_memory_fraction", "0", "a number: 0 < x <= 1"),
        ("gpu_memory_fraction", "most", "a number: 0 < x <= 1"),
        ("optimization_level", "fast", ["baseline", "balanced", "performance"]),
        ("default_locale", "pt", ["en", "es", "fr", "de", "ja", "zh-CN"]),
        ("warmup_runs", "-1", "an integer: 0 <= x"),
        ("rate_limit_tiers", '{"free": {"per_minute": 1, "per_hour": 1, "concurrent": 1}}', "JSON (dict)"),
    ],
)
def test_invalid_value_is_refused_with_the_allowed_values_and_the_file_unchanged(data_dir, key, value, allowed):
    set_value("device", "cpu")
    before = config_file_path().read_bytes()
    with pytest.raises(ValidationError) as caught:
        set_value(key, value)
    assert caught.value.details["allowed"] == allowed and caught.value.details["key"] == key
    assert "; allowed: " in caught.value.message
    assert config_file_path().read_bytes() == before


def test_unknown_key_and_data_dir_are_refused(data_dir):
    with pytest.raises(ValidationError, match="Unknown setting 'colour'") as caught:
        set_value("colour", "blue")
    allowed = caught.value.details["allowed"]
    assert "gpu_memory_fraction" in allowed and "data_dir" not in allowed
    with pytest.raises(ValidationError, match="set VDB_DATA_DIR instead"):
        set_value("data_dir", "/elsewhere")
    with pytest.raises(ValidationError, match="Unknown setting"):
        reset("colour")
    assert not config_file_path().exists()


def test_a_hand_edited_file_with_an_unknown_key_or_bad_toml_is_an_error_not_ignored(data_dir):
    path = config_file_path()
    path.write_text('optimisation_level = "balanced"\n')
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['optimisation_level'\]"):
        Settings()
    path.write_text("optimization_level = \n")
    with pytest.raises(ValueError, match="is not valid TOML"):
        Settings()
    with pytest.raises(ValidationError, match="is not valid TOML"):
        show()
    assert reset() == [str(path)]  # a broken file can always be reset
    assert not path.exists()


def test_secrets_are_stored_but_not_shown(data_dir):
    set_value("secret_key", "s3cret-value-long-enough")
    assert read_file()["secret_key"] == "s3cret-value-long-enough"
    assert Settings().secret_key.get_secret_value() == "s3cret-value-long-enough"
    assert sources(show())["secret_key"] == ("**********", "file")


def test_the_setting_names_the_optimization_profiles():
    assert set(typing.get_args(OptimizationLevel)) == set(PROFILES)
