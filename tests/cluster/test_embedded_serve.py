"""The embedded default as a new user runs it: `vid-bench serve` with the shipped deployments/serve.yaml on a
2-CPU local Ray, a REST benchmark of tiny-t2v to completion, and `ray job submit` against the same Ray."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.cluster.conftest import RAY, _free_ports, cluster_env
from tests.helpers import wait_until
from vid_diffusion_bench.client import VidBenchClient

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

VID_BENCH = str(Path(sys.executable).with_name("vid-bench"))


@pytest.fixture
def embedded_gateway(cluster_root):
    http_port, dashboard_port = _free_ports(2)
    env = cluster_env(
        cluster_root,
        VDB_DATA_DIR=str(cluster_root / "data"),
        VDB_RAY_NUM_CPUS="2",
        VDB_RAY_DASHBOARD_PORT=str(dashboard_port),
    )
    env.pop("RAY_AUTH_TOKEN")  # a first local start: Ray makes its own token in ~/.ray, as on a laptop
    env.pop("RAY_AUTH_MODE")
    env["HOME"] = str(cluster_root / "home")
    log = open(cluster_root / "serve.log", "w")  # noqa: SIM115 - the server writes to it for its whole life
    process = subprocess.Popen(
        [VID_BENCH, "serve", "--port", str(http_port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{http_port}"

    def healthy():
        if process.poll() is not None:
            raise AssertionError(f"vid-bench serve exited: {(cluster_root / 'serve.log').read_text()[-3000:]}")
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, timeout=240, interval=1, what="the gateway to answer /health")
        key = (cluster_root / "data" / "admin.key").read_text().strip()
        yield url, key, env, dashboard_port, cluster_root
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def test_embedded_serve_runs_a_rest_benchmark_to_completion(embedded_gateway):
    url, key, env, dashboard_port, root = embedded_gateway
    with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=60) as client:
        started = client.post(
            "/api/v1/benchmarks",
            json={
                "model_name": "tiny-t2v",
                "prompts": ["A cat playing piano", "Ocean waves"],
                "parameters": {"num_frames": 4, "num_inference_steps": 2},
                "evaluation_settings": {"metrics": ["temporal_flickering"]},
            },
        )
        assert started.status_code == 202, started.text
        benchmark_id = started.json()["benchmark_id"]
    # the SDK's wait, polling within the shipped limits (the benchmarks group: 20 requests a minute per key)
    with VidBenchClient(url, api_key=key) as sdk:
        results = sdk.wait_for_benchmark(benchmark_id, timeout=240)
    assert results["status"] == "completed" and results["results"]["metrics"]["temporal_flickering"] is not None

    printed = (root / "serve.log").read_text()
    assert f"RAY_AUTH_MODE=token ray job submit --address http://127.0.0.1:{dashboard_port}" in printed

    def submit():
        job = subprocess.run(
            [
                RAY,
                "job",
                "submit",
                "--address",
                f"http://127.0.0.1:{dashboard_port}",
                "--",
                "python",
                "-c",
                "import ray; ray.init(); print('cpus', ray.cluster_resources()['CPU'])",
            ],
            env={**env, "RAY_AUTH_MODE": "token"},
            capture_output=True,
            text=True,
            timeout=180,
        )
        # Ray answers this while the node's job agent is still registering: its message says to try again
        return None if "No available agent to submit job" in job.stderr else job

    job = wait_until(submit, timeout=120, interval=1, what="the job server to accept a job")
    assert job.returncode == 0 and "cpus 2.0" in job.stdout, job.stdout[-2000:] + job.stderr[-2000:]
    token = root / "home" / ".ray" / "auth_token"
    assert token.is_file() and token.read_text().strip() not in printed  # token auth on; the token never printed
