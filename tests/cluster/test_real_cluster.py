"""vid-bench on a real Ray cluster started by the test: `ray job submit`, the Jobs SDK through
`vid-bench distributed`, and two nodes with node-local data directories."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.cluster.conftest import RAY, RayCluster, _free_ports, cluster_env

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

VID_BENCH = str(Path(sys.executable).with_name("vid-bench"))
BENCHMARK = [
    VID_BENCH,
    "benchmark",
    "tiny-t2v",
    "-p",
    "A cat playing piano",
    "-p",
    "Ocean waves",
    "--num-frames",
    "4",
    "--num-inference-steps",
    "2",
    "--metrics",
    "temporal_flickering",
    "--json",
]


def _run(command: list[str], env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def _json_from(output: str) -> dict:
    """The benchmark's JSON result: the first line that opens a JSON object, up to its end."""
    start = output.index("\n{") + 1 if not output.startswith("{") else 0
    return json.JSONDecoder().raw_decode(output[start:])[0]


@pytest.fixture(scope="module")
def head_root():
    root = Path(tempfile.mkdtemp(prefix="vdb-cluster-head-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def head(head_root):
    """One head for the single-node tests (starting one takes most of such a test's time); each test's
    benchmarks have ids of their own in its shared database."""
    cluster = RayCluster(
        head_root, cluster_env(head_root, VDB_DATABASE_URL=f"sqlite:///{head_root / 'shared.sqlite3'}")
    )
    try:
        cluster.start_head(num_cpus=2)
        yield cluster
    finally:  # also when the head failed to come up: whatever started is stopped
        cluster.stop()


def _results(database_url: str, benchmark_id: str) -> tuple[dict, list[tuple[int, int]]]:
    from app.bench.results import load_result
    from app.storage.database import Database
    from app.storage.repository import BenchmarkRepository

    db = Database(database_url)
    try:
        repo = BenchmarkRepository(db)
        return (
            load_result(repo, benchmark_id).to_dict(per_video=False),
            [(v.prompt_index, v.seed) for v in repo.videos(benchmark_id)],
        )
    finally:
        db.dispose()


def test_ray_job_submit_runs_a_benchmark_on_a_real_head(head, head_root, cluster_root):
    """The README's command: a job on a head started with `ray start --head`, token authentication on."""
    submitted = _run(
        [RAY, "job", "submit", "--address", head.dashboard_url, "--", *BENCHMARK], head.client_env(), timeout=600
    )
    assert submitted.returncode == 0, submitted.stdout[-3000:] + submitted.stderr[-3000:]
    result = _json_from(submitted.stdout)
    assert result["status"] == "completed" and result["model_name"] == "tiny-t2v"
    stored, keys = _results(f"sqlite:///{head_root / 'shared.sqlite3'}", result["benchmark_id"])
    assert stored["status"] == "completed" and sorted(keys) == [(0, 0), (1, 0)]
    assert stored["results"]["metrics"]["temporal_flickering"] is not None
    exported = _run(
        [VID_BENCH, "export", result["benchmark_id"], "--output", str(cluster_root / "out.parquet")],
        head.client_env(VDB_DATABASE_URL=f"sqlite:///{head_root / 'shared.sqlite3'}"),
    )
    assert exported.returncode == 0, exported.stderr
    import pyarrow.parquet as pq

    assert pq.read_table(cluster_root / "out.parquet").num_rows == 2


def test_a_client_without_the_clusters_token_is_refused(head):
    env = head.client_env()
    env.pop("RAY_AUTH_TOKEN")
    env["RAY_AUTH_MODE"] = "disabled"
    refused = _run([RAY, "job", "list", "--address", head.dashboard_url], env, timeout=60)
    assert refused.returncode != 0 and "authentication token" in (refused.stdout + refused.stderr).lower()


def test_distributed_submit_runs_a_batch_job_and_reports_it(head, cluster_root):
    port = head.dashboard_url.rsplit(":", 1)[1]
    common = ["--coordinator", "127.0.0.1", "--dashboard-port", port]
    submitted = _run(
        [
            VID_BENCH,
            "distributed",
            "submit",
            *common,
            "--models",
            "tiny-t2v",
            "-p",
            "A red boat",
            "--videos-per-prompt",
            "2",
            "--parquet",
            str(cluster_root / "batch.parquet"),
        ],
        head.client_env(),
    )
    assert submitted.returncode == 0, submitted.stderr
    job_id = submitted.stdout.strip().splitlines()[-1]
    deadline, state = time.monotonic() + 600, {}
    while time.monotonic() < deadline:
        status = _run([VID_BENCH, "distributed", "status", job_id, *common, "--json"], head.client_env())
        assert status.returncode == 0, status.stderr
        state = json.loads(status.stdout)
        if state["status"] in ("SUCCEEDED", "FAILED", "STOPPED"):
            break
        time.sleep(2)
    logs = _run([VID_BENCH, "distributed", "logs", job_id, *common], head.client_env()).stdout
    assert state["status"] == "SUCCEEDED", logs[-3000:]
    assert "tiny-t2v  completed  2 ok / 0 failed" in logs
    import pyarrow.parquet as pq

    table = pq.read_table(cluster_root / "batch.parquet")
    assert table.num_rows == 2 and set(table.column("seed").to_pylist()) == {0, 1}
    assert "RAY_AUTH_TOKEN" not in logs and head.env["RAY_AUTH_TOKEN"] not in logs + submitted.stdout


def test_two_nodes_on_node_local_sqlite_are_refused_at_start(two_nodes, cluster_root):
    """A job, and a gateway, whose database is a node-local SQLite file are refused on a two-node cluster before they
    store anything. (The shared cluster's nodes use PostgreSQL; the job and the driver are given SQLite, which is
    what the check reads: the settings of the process that starts the work.)"""
    local = cluster_root / "node-local.sqlite3"
    refused = _run(
        [RAY, "job", "submit", "--address", two_nodes.dashboard_url, "--runtime-env-json",
         json.dumps({"env_vars": {"VDB_DATABASE_URL": f"sqlite:///{local}"}}), "--", *BENCHMARK],
        two_nodes.client_env(),
        timeout=300,
    )  # fmt: skip
    output = refused.stdout + refused.stderr
    assert "CLUSTER_MISCONFIGURED" in output and "node-local SQLite file" in output, output[-3000:]
    assert "set VDB_DATABASE_URL to a PostgreSQL URL" in output
    gateway = _run(
        [VID_BENCH, "serve", "--detach", "--port", str(_free_ports(1)[0])],
        two_nodes.client_env(
            RAY_ADDRESS=two_nodes.gcs_address,
            VDB_DATA_DIR=str(cluster_root / "data-driver"),
            VDB_DATABASE_URL=f"sqlite:///{cluster_root / 'driver.sqlite3'}",
        ),
        timeout=180,
    )
    assert gateway.returncode == 2 and "CLUSTER_MISCONFIGURED" in gateway.stderr, gateway.stderr[-2000:]
    for database in (local, cluster_root / "driver.sqlite3"):  # nothing was stored
        assert not database.exists() or _count_benchmarks(f"sqlite:///{database}") == 0


def _count_benchmarks(url: str) -> int:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    try:
        if "benchmarks" not in inspect(engine).get_table_names():
            return 0
        with engine.connect() as connection:
            return connection.execute(text("SELECT COUNT(*) FROM benchmarks")).scalar_one()
    finally:
        engine.dispose()


def test_two_nodes_share_postgres_an_actor_elsewhere_and_a_gateway_split_across_nodes(two_nodes, cluster_root):
    """The head offers no CPU (as in cluster.yaml), so the benchmark actor runs on the worker node while the driver
    on the head writes to the PostgreSQL every node shares. Then the gateway is deployed with its ingress pinned to
    the head and the model replica to the worker (custom resources): an inference request completes, and the job's
    results are read through the gateway's REST API."""
    database = two_nodes.env["VDB_DATABASE_URL"]
    submitted = _run(
        [RAY, "job", "submit", "--address", two_nodes.dashboard_url, "--", *BENCHMARK, "--videos-per-prompt", "2"],
        two_nodes.client_env(),
        timeout=600,
    )
    assert submitted.returncode == 0, submitted.stdout[-3000:] + submitted.stderr[-3000:]
    result = _json_from(submitted.stdout)
    stored, keys = _results(database, result["benchmark_id"])
    assert stored["status"] == "completed"
    assert sorted(keys) == [(0, 0), (0, 1), (1, 0), (1, 1)]  # every item, exactly once
    nodes = json.loads(
        _run(
            [RAY, "list", "nodes", "--address", two_nodes.dashboard_url, "--format", "json"], two_nodes.client_env()
        ).stdout
    )
    actors = json.loads(
        _run(
            [
                RAY,
                "list",
                "actors",
                "--address",
                two_nodes.dashboard_url,
                "--detail",
                "--format",
                "json",
                "--filter",
                "class_name=ActorWorker",
            ],
            two_nodes.client_env(),
        ).stdout
    )
    head_id = next(n["node_id"] for n in nodes if n["is_head_node"])
    assert actors and all(a["node_id"] != head_id for a in actors)  # generated on the other node

    config = cluster_root / "split.yaml"
    config.write_text(
        json.dumps(
            {
                "proxy_location": "HeadOnly",
                "applications": [
                    {
                        "name": "vid-bench",
                        "route_prefix": "/",
                        "import_path": "deployments.app:build_app",
                        "args": {
                            "ingress_num_cpus": 0,
                            "ingress_resources": {"ingress_node": 0.01},
                            "models": [{"name": "tiny-t2i", "num_cpus": 0.25, "resources": {"model_node": 0.01}}],
                        },
                    }
                ],
            }
        )
    )
    port = _free_ports(1)[0]
    driver_env = two_nodes.client_env(RAY_ADDRESS=two_nodes.gcs_address, VDB_DATA_DIR=str(cluster_root / "driver"))
    deployed = _run(
        [VID_BENCH, "serve", "--detach", "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
        driver_env,
        timeout=300,
    )
    assert deployed.returncode == 0, deployed.stdout[-2000:] + deployed.stderr[-2000:]
    key = (cluster_root / "driver" / "admin.key").read_text().strip()
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=120) as client:
        image = client.post(
            "/api/v1/inference/image-generation",
            json={"model": "tiny-t2i", "prompt": "A cat", "steps": 2, "seed": 5},
        )
        assert image.status_code == 200 and image.json()["status"] == "completed", image.text
        results = client.get(f"/api/v1/benchmarks/{result['benchmark_id']}/results")
        assert results.status_code == 200 and results.json()["status"] == "completed", results.text
    replicas = json.loads(
        _run(
            [
                RAY,
                "list",
                "actors",
                "--address",
                two_nodes.dashboard_url,
                "--detail",
                "--format",
                "json",
                "--filter",
                "state=ALIVE",
            ],
            two_nodes.client_env(),
        ).stdout
    )
    where = {
        a["class_name"].split(":")[-1]: a["node_id"]
        for a in replicas
        if "Gateway" in a["class_name"] or "image-tiny-t2i" in a["class_name"]
    }
    assert where and any("Gateway" in c for c in where), where
    assert all((node == head_id) == ("Gateway" in cls) for cls, node in where.items()), where
    # Serve now runs on this cluster at that port, and keeps its HTTP options while it runs: a second gateway asked
    # for on another port is refused, rather than told it listens where nothing does.
    elsewhere = _run(
        [VID_BENCH, "serve", "--detach", "--config", str(config), "--host", "127.0.0.1", "--port", str(port + 1)],
        driver_env,
        timeout=180,
    )
    assert elsewhere.returncode == 2 and "CLUSTER_MISCONFIGURED" in elsewhere.stderr, elsewhere.stderr[-2000:]
    assert f"already runs on this cluster at 127.0.0.1:{port}" in elsewhere.stderr
