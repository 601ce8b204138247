"""The vid-bench CLI, invoked in-process with Typer's runner."""

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


@pytest.mark.parametrize("args, fragment", [
    (["models", "info", "nope"], "MODEL_NOT_FOUND"),
    (["benchmark", "nope", "-p", "a cat"], "MODEL_NOT_FOUND"),
    (["benchmark", "tiny-t2v", "-p", "a cat", "--num-frames", "99"], "num_frames=99"),
    (["benchmark", "tiny-t2v", "-p", " "], "INVALID_PROMPT"),
    (["benchmark", "tiny-t2v"], "Give prompts"),
    (["benchmark", "tiny-t2v", "--prompts-file", "/does/not/exist.txt"], "does not exist"),
    (["benchmark", "tiny-t2v", "--prompt-set", "NOPE"], "Unknown prompt set"),
    (["compare", "tiny-t2v", "-p", "a"], "at least two models"),
    (["metrics", "fetch", "nope"], "Unknown evaluator"),
])
def test_bad_input_is_one_line_and_exit_2(args, fragment):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr
    assert "Traceback" not in result.output


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


def test_benchmark_json_and_export(ray_session, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(app, ["benchmark", "tiny-t2v", "-p", "A cat", "-p", "Waves", "--num-frames", "4",
                                 "--num-inference-steps", "2", "--output", str(out), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "completed"
    assert payload["results"]["metrics"]["temporal_consistency"] is not None
    assert payload["results"]["metrics"]["fvd"] is None
    bid = payload["benchmark_id"]
    assert (out / f"{bid}.json").exists() and (out / f"{bid}.parquet").exists()
    exported = runner.invoke(app, ["export", bid, "--output", str(tmp_path / "again.parquet")])
    assert exported.exit_code == 0 and (tmp_path / "again.parquet").exists()


def test_reference_style_multi_value_options_are_expanded():
    from cli.main import expand_multi_value_options

    argv = ["compare", "a", "b", "--prompts-file", "p.txt", "--metrics", "fvd", "is", "clip_score", "--output", "r.json"]
    assert expand_multi_value_options(argv) == ["compare", "a", "b", "--prompts-file", "p.txt", "--metrics", "fvd",
                                                "--metrics", "is", "--metrics", "clip_score", "--output", "r.json"]
    argv = ["benchmark", "m", "--prompts", "A cat playing piano", "Ocean waves", "--num-frames", "16"]
    assert expand_multi_value_options(argv) == ["benchmark", "m", "--prompts", "A cat playing piano", "--prompts",
                                                "Ocean waves", "--num-frames", "16"]


def test_installed_command_parses_the_reference_form(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "cli.main", "benchmark", "tiny-t2v", "--prompts", "A cat", "Waves",
                             "--num-frames", "99"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "num_frames=99" in result.stderr  # both prompts parsed; range refused


def test_profile_reports_levels_the_cpu_cannot_run(ray_session, tmp_path):
    out = tmp_path / "profile.json"
    result = runner.invoke(app, ["profile", "tiny-t2v", "--optimization-levels", "baseline",
                                 "--optimization-levels", "balanced", "--test-prompts", "1", "--detailed",
                                 "--device", "cpu", "--output", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())["levels"]
    assert report["baseline"]["status"] == "completed" and report["baseline"]["phases_mean"]["denoise_s"] > 0
    assert report["balanced"]["status"] == "unsupported" and "fp16" in report["balanced"]["reason"]


def test_optimize_refuses_a_bad_space_and_runs_a_small_search(ray_session, tmp_path):
    bad = runner.invoke(app, ["optimize", "tiny-t2v", "--frames", "64"])
    assert bad.exit_code == 2 and "num_frames" in bad.stderr
    out = tmp_path / "best.json"
    result = runner.invoke(app, ["optimize", "tiny-t2v", "--strategy", "random", "--max-evaluations", "2",
                                 "--steps", "1", "--steps", "2", "--frames", "4", "--output", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert len(saved["trials"]) == 2 and saved["best_parameters"]["num_frames"] == 4


def test_auth_keys_locally(monkeypatch, tmp_path):
    from app.config import reset_settings_cache

    monkeypatch.setenv("VDB_DATA_DIR", str(tmp_path / "data"))
    reset_settings_cache()
    try:
        created = runner.invoke(app, ["auth", "create-key", "--name", "ci", "-p", "models.read", "--tier", "pro",
                                      "--expires-in-days", "30"])
        assert created.exit_code == 0, created.output
        key = created.stdout.strip()
        assert key.startswith("vdb_") and "store the key now" in created.stderr
        listed = runner.invoke(app, ["auth", "list-keys"], env={"COLUMNS": "250"})
        assert "ci" in listed.stdout and key not in listed.stdout
        from app.security.auth import Authenticator
        from app.config import get_settings
        from app.storage.database import get_database

        auth = Authenticator(get_settings(), get_database(get_settings().resolved_database_url))
        key_id = auth.authenticate(key).id
        assert runner.invoke(app, ["auth", "revoke-key", key_id]).exit_code == 0
        assert auth.store.get_key(key_id).revoked_at is not None
        bad = runner.invoke(app, ["auth", "create-key", "--name", "x", "-p", "root"])
        assert bad.exit_code == 2 and "Unknown permission" in bad.stderr
        user = runner.invoke(app, ["auth", "create-user", "--username", "ann", "-p", "models.read"],
                             env={"VDB_NEW_USER_PASSWORD": "correct horse battery"})
        assert user.exit_code == 0 and auth.users.authenticate("ann", "correct horse battery")
    finally:
        reset_settings_cache()


def test_auth_through_a_gateway(gateway, admin_key):
    listed = runner.invoke(app, ["auth", "list-keys", "--url", gateway, "--api-key", admin_key],
                           env={"COLUMNS": "250"})
    assert listed.exit_code == 0 and "admin (first" in listed.stdout
    refused = runner.invoke(app, ["auth", "list-keys", "--url", gateway, "--api-key", "vdb_wrong"])
    assert refused.exit_code == 2 and "AUTHENTICATION_FAILED" in refused.stderr
