"""`vid-bench models`: the catalog, and a health check that really loads and generates, for every modality."""

import json

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def test_models_list_and_info():
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0
    names = [m["name"] for m in json.loads(result.stdout)]
    assert {"svd-xt", "cogvideox-2b", "tiny-t2v"} <= set(names)
    info = runner.invoke(app, ["models", "info", "svd-xt"])
    assert json.loads(info.stdout)["source"]["repo_id"] == "stabilityai/stable-video-diffusion-img2vid-xt-1-1"


@pytest.mark.parametrize(
    "model, modality, key",
    [
        ("tiny-t2v", "video", "frames"),
        ("tiny-t2i", "image", "width"),
        ("tiny-text", "text", "tokens_generated"),
        ("tiny-tts", "speech", "duration_s"),
    ],
)
def test_health_check_every_modality(settings, model, modality, key):
    result = runner.invoke(app, ["models", "health-check", model, "--device", "cpu"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model_name"] == model and report["modality"] == modality and report["status"] == "healthy"
    assert report["device"] == "cpu" and report["load_time_ms"] > 0 and report["test_generation_ms"] > 0
    assert report["output"][key] > 0


def test_health_check_of_a_model_that_cannot_load_is_exit_2(monkeypatch):
    # svd-xt needs 18 GB: with less free the memory check refuses it first (INSUFFICIENT_MEMORY, tested in
    # tests/app/engines/test_memory.py); plenty free here, so the load itself is what fails (offline, not cached)
    monkeypatch.setattr("app.engines.memory.free_memory_gb", lambda device: 1024.0)
    result = runner.invoke(app, ["models", "health-check", "svd-xt", "--device", "cpu"])
    assert result.exit_code == 2 and result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]  # libraries warn too
    assert len(errors) == 1 and errors[0].startswith("error: MODEL_LOAD_FAILED: Could not load 'svd-xt'")


def test_health_check_of_a_remote_model_without_endpoint_is_exit_2(monkeypatch):
    monkeypatch.delenv("VDB_PIKA_LUMIERE_URL", raising=False)
    result = runner.invoke(app, ["models", "health-check", "pika-lumiere"])
    assert result.exit_code == 2 and "VDB_PIKA_LUMIERE_URL" in result.stderr


def test_models_download_shows_progress_and_registers_the_model(settings, tmp_path):
    import shutil

    from app.catalog.spec import registered_dir
    from app.catalog.tiny import ensure_builtin

    source = tmp_path / "tiny-source"
    shutil.copytree(ensure_builtin("tiny-t2v", "cogvideox", settings.resolved_models_dir), source)
    name = f"cli-tiny-{tmp_path.name[-8:]}".lower().replace("_", "-")
    try:
        result = runner.invoke(
            app,
            [
                "models",
                "download",
                name,
                "--source",
                "local",
                "--location",
                str(source),
                "--cache-dir",
                str(tmp_path / "cache"),
            ],
        )
        assert result.exit_code == 0, result.output
        assert f"Registered as '{name}'" in result.stdout
        assert (tmp_path / "cache" / "downloads" / name / "model_index.json").exists()
        info = json.loads(runner.invoke(app, ["models", "info", name]).stdout)
        assert info["pipeline_class"] == "CogVideoXPipeline" and info["source"]["kind"] == "local"
        assert "MB" in result.stderr or "kB" in result.stderr or "bytes" in result.stderr  # the progress bar
    finally:
        (registered_dir(settings.resolved_models_dir) / f"{name}.yaml").unlink(missing_ok=True)


def test_models_download_of_a_catalog_model_offline_is_exit_2_with_the_reason(tmp_path):
    result = runner.invoke(app, ["models", "download", "cogvideo", "--cache-dir", str(tmp_path)])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert errors and errors[0].startswith("error: DOWNLOAD_FAILED: download of cogvideox-2b failed")
