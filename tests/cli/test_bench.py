"""Benchmark commands against the tiny models on a real local Ray."""

import json

from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def test_benchmark_json_and_export(ray_session, tmp_path):
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "benchmark",
            "tiny-t2v",
            "-p",
            "A cat",
            "-p",
            "Waves",
            "--num-frames",
            "4",
            "--num-inference-steps",
            "2",
            "--output",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "completed"
    assert payload["results"]["metrics"]["temporal_consistency"] is not None
    assert payload["results"]["metrics"]["fvd"] is None
    bid = payload["benchmark_id"]
    assert (out / f"{bid}.json").exists() and (out / f"{bid}.parquet").exists()
    exported = runner.invoke(app, ["export", bid, "--output", str(tmp_path / "again.parquet")])
    assert exported.exit_code == 0 and (tmp_path / "again.parquet").exists()


def test_profile_reports_levels_the_cpu_cannot_run(ray_session, tmp_path):
    out = tmp_path / "profile.json"
    result = runner.invoke(
        app,
        [
            "profile",
            "tiny-t2v",
            "--optimization-levels",
            "baseline",
            "--optimization-levels",
            "balanced",
            "--test-prompts",
            "1",
            "--detailed",
            "--device",
            "cpu",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())["levels"]
    assert report["baseline"]["status"] == "completed" and report["baseline"]["phases_mean"]["denoise_s"] > 0
    assert report["balanced"]["status"] == "unsupported" and "fp16" in report["balanced"]["reason"]


def test_benchmark_with_batch_size_reports_latency_per_video_and_per_call(ray_session):
    result = runner.invoke(
        app,
        [
            "benchmark",
            "tiny-t2v",
            "-p",
            "A cat",
            "-p",
            "Waves",
            "-p",
            "A dog",
            "--num-frames",
            "2",
            "--num-inference-steps",
            "1",
            "--batch-size",
            "2",
            "--metrics",
            "temporal_consistency",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["status"] == "completed" and payload["spec"]["batch_size"] == 2
    performance = payload["results"]["performance"]
    assert performance["batch_size"] == 2 and performance["avg_batch_latency_ms"] > performance["avg_latency_ms"] > 0
    refused = runner.invoke(app, ["benchmark", "tiny-i2v", "-p", "A cat", "--batch-size", "2"])
    assert refused.exit_code == 2 and "only text-to-video pipelines batch" in refused.stderr
