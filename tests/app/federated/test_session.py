"""Whole sessions on tiny models, over real HTTP on loopback: the gateway on Ray Serve is the coordinator.

Three participants as Ray actors (the SDK's simulation) and three as separate `vid-bench federated join`
processes, each with its own data directory; the reference's SDK snippet and CLI examples as written, with tiny
models in place of svd-xt / cogvideo (and frame counts those support) and the local coordinator's URL; the
session is also created from the snippet exactly as written.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import reset_settings_cache

pytestmark = [pytest.mark.slow, pytest.mark.ray]
ROOT = Path(__file__).resolve().parents[3]
GRID = {
    "models": ["tiny-t2v"],
    "prompts": ["A cat playing piano", "Ocean waves"],
    "parameters": {"num_frames": [2, 4], "num_inference_steps": 1},
    "clip_bounds": {"latency_s": [0.0, 30.0]},
}


@pytest.fixture
def coordinator(gateway, admin_key, monkeypatch):
    """The SDK's defaults point at the test gateway; participants poll quickly."""
    monkeypatch.setenv("VDB_FEDERATED_COORDINATOR_URL", gateway)
    monkeypatch.setenv("VDB_API_KEY", admin_key)
    monkeypatch.setenv("VDB_FEDERATED_POLL_S", "0.5")
    reset_settings_cache()
    yield gateway
    reset_settings_cache()


def local_rows(data_dir: Path, query: str) -> list[tuple]:
    with sqlite3.connect(data_dir / "vid-bench.sqlite3") as connection:
        return connection.execute(query).fetchall()


def coordinator_benchmarks_of(session_id: str) -> int:
    """Benchmarks the coordinator's own database holds for the session: raw results never go there."""
    from app.config import get_settings

    return sum(session_id in str(row) for row in local_rows(get_settings().data_dir, "SELECT spec FROM benchmarks"))


def test_three_participant_actors_complete_a_session_and_resume_without_rerunning(coordinator, admin_key, tmp_path):
    from vid_diffusion_bench.federated import create_federated_session, join_federated_session

    session = asyncio.run(
        create_federated_session(
            session_id="sim_three",
            participants=["university_a", "lab_b", "company_c"],
            benchmark_spec=GRID,
            privacy_level="differential",
            epsilon=1.0,
            delta=1e-5,
            simulate=True,
            simulation_dir=tmp_path,
        )
    )
    assert session and session.status == "completed"
    assert all(p["tasks_posted"] == p["tasks_total"] == 2 for p in session.participants.values())
    results = session.results
    assert results["participant_count"] == 3 and results["trigger"] == "consensus"
    assert results["privacy"]["mechanism"] == "gaussian" and len(results["tasks"]) == 2
    for task in results["tasks"]:
        latency = task["metrics"]["latency_s"]
        assert latency["participants"] == 3 and latency["videos"] == 6 and latency["noise_sd"] > 0
        assert set(task["videos"]) == {"university_a", "lab_b", "company_c"}
    assert len(results["provenance"]["reports"]) == 3
    for participant in ("university_a", "lab_b", "company_c"):
        directory = tmp_path / participant
        assert len(local_rows(directory, "SELECT id FROM video_results")) == 4  # raw results: here only
        assert (directory / "federated" / f"sim_three.{participant}.key.pem").stat().st_mode & 0o077 == 0
        spent = local_rows(directory, "SELECT epsilon_spent, epsilon_total FROM privacy_budgets")
        assert spent and spent[0][0] <= spent[0][1]
    assert coordinator_benchmarks_of("sim_three") == 0

    # run again with the same data directory: nothing is generated again, nothing posted twice
    again = asyncio.run(
        join_federated_session(
            participant_id="lab_b",
            session_id="sim_three",
            coordinator_endpoint=coordinator,
            data_dir=tmp_path / "lab_b",
        )
    )
    assert again.phase == "completed" or again.tasks_posted == again.tasks_total
    assert len(local_rows(tmp_path / "lab_b", "SELECT id FROM video_results")) == 4


def test_the_reference_sdk_snippet_runs_as_written(coordinator):
    snippet = """
import asyncio
from vid_diffusion_bench.federated import create_federated_session, join_federated_session

async def coordinator_example():
    # Create federated session (coordinator)
    success = await create_federated_session(
        session_id="research_collaboration_2025",
        participants=["stanford", "mit", "openai"],
        benchmark_spec={
            "models": ["svd-xt", "cogvideo"],
            "prompts": ["A cat playing piano", "Ocean waves"],
            "parameters": {
                "num_frames": [16, 24],
                "guidance_scale": [5.0, 7.5, 10.0]
            }
        },
        privacy_level="differential"
    )
    print(f"Federated session created: {success}")

async def participant_example():
    # Join federated session (participant)
    success = await join_federated_session(
        participant_id="stanford",
        session_id="research_collaboration_2025",
        coordinator_endpoint="https://coordinator.example.com:8080"
    )
    print(f"Joined federated session: {success}")

# Run coordinator or participant
asyncio.run(coordinator_example())
"""
    tiny = (
        snippet.replace('["svd-xt", "cogvideo"]', '["tiny-t2v", "tiny-i2v"]')
        .replace('"num_frames": [16, 24]', '"num_frames": [2, 4]')
        .replace("https://coordinator.example.com:8080", coordinator)
    )
    result = subprocess.run(
        [sys.executable, "-c", tiny],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Federated session created: FederatedSession(session_id='research_collaboration_2025'" in result.stdout
    from vid_diffusion_bench.federated import session_status

    status = session_status("research_collaboration_2025")
    assert status["phase"] == "created" and status["progress"]["tasks_total"] == 3 * 12
    # as written too: svd-xt and cogvideo (an alias of cogvideox-2b) are catalog entries, and creating a session
    # loads no model, so the coordinator takes the reference's own grid
    written = subprocess.run(
        [sys.executable, "-c", snippet.replace("research_collaboration_2025", "as_written")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert written.returncode == 0, written.stderr
    assert "Federated session created: FederatedSession(session_id='as_written'" in written.stdout


def test_the_reference_cli_examples_run_as_written(coordinator, admin_key, ray_session, tmp_path):
    """`federated create` as written (spec file of tiny models), then the three participants each run
    `federated join` as written, as separate processes with their own data directories, on the test's cluster."""
    spec = tmp_path / "benchmark_spec.json"
    spec.write_text(json.dumps({**GRID, "parameters": {"num_frames": 2, "num_inference_steps": 1}}))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_ADDRESS": ray_session.get_runtime_context().gcs_address}
    cli = [sys.executable, "-m", "cli.main", "federated"]
    created = subprocess.run(
        cli
        + [
            "create",
            "--session-id",
            "collaboration_2025",
            "--participants",
            "university_a",
            "lab_b",
            "company_c",
            "--spec",
            str(spec),
            "--privacy-level",
            "differential",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert created.returncode == 0, created.stderr
    assert "collaboration_2025 created: 3 participants, 1 tasks" in " ".join(created.stdout.split())
    joins = {
        participant: subprocess.Popen(
            cli
            + [
                "join",
                "--session-id",
                "collaboration_2025",
                "--participant-id",
                participant,
                "--coordinator",
                coordinator,
                "--data-dir",
                str(tmp_path / participant),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
            env=env,
        )
        for participant in ("university_a", "lab_b", "company_c")
    }
    for participant, process in joins.items():
        out, err = process.communicate(timeout=900)
        assert process.returncode == 0, err
        assert f"{participant}: 1/1 tasks reported to collaboration_2025" in " ".join(out.split())
    status = subprocess.run(
        cli + ["status", "--session-id", "collaboration_2025", "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    data = json.loads(status.stdout)
    assert data["phase"] == "completed" and data["participants"]["completed"] == 3
    assert data["privacy_budget"]["mechanism"] == "laplace" and 0 < data["privacy_budget"]["epsilon_spent"] <= 1.0
    results = subprocess.run(
        cli + ["results", "--session-id", "collaboration_2025"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert results.returncode == 0 and "aggregate of 3/3 participants" in results.stdout
    refused = subprocess.run(
        cli + ["create", "--session-id", "bad", "--participants", "a", "a", "--spec", str(spec)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert refused.returncode == 2 and "duplicate participant" in refused.stderr


def test_an_interrupted_participant_resumes_without_rerunning_or_redrawing(
    coordinator, admin_key, ray_session, tmp_path
):
    """One task run and released, then the participant stops (no post); run again, it generates only the other
    task's videos and posts the first release exactly as it was drawn, spending the budget once."""
    from app.config import get_settings
    from app.federated.actors import participant_settings
    from app.federated.participant import Participant
    from vid_diffusion_bench.federated import create_federated_session

    asyncio.run(
        create_federated_session(
            session_id="resume_one",
            participants=["lab_b"],
            benchmark_spec=GRID,
            privacy_level="differential",
            epsilon=1.0,
        )
    )
    settings = participant_settings(get_settings(), tmp_path / "lab_b")
    first = Participant("resume_one", "lab_b", coordinator, admin_key, settings, poll_s=0.5)
    first.join()
    assert first.wait_for_start(60) == "execution"
    assigned = first.client.tasks("resume_one", "lab_b")
    drawn = first.release_task(assigned["tasks"][0], assigned["benchmark_spec"], assigned["privacy"])
    assert len(local_rows(tmp_path / "lab_b", "SELECT id FROM video_results")) == 2
    first.client.close()

    report = Participant("resume_one", "lab_b", coordinator, admin_key, settings, poll_s=0.5).run(60)
    assert report.phase == "completed" and report.tasks_posted == report.tasks_total == 2
    assert len(local_rows(tmp_path / "lab_b", "SELECT id FROM video_results")) == 4  # 2 + 2, none again
    share = assigned["privacy"]["share"]["epsilon"]
    assert report.local_epsilon_spent == pytest.approx(2 * 2 * 2 * share)  # 2 tasks x 2 metrics x 2 statistics
    from app.storage.database import get_database
    from app.storage.federated import FederatedRepository

    posted = {
        r.task_id: r.release
        for r in FederatedRepository(get_database(get_settings().resolved_database_url)).releases("resume_one")
    }
    assert posted[drawn["task_id"]] == drawn["metrics"]
