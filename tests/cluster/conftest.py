"""A real Ray cluster in separate processes: `ray start --head --block` (and worker nodes), each with
its own ports and data directory, token authentication on, stopped by process id (never `ray stop`)."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

RAY = str(Path(sys.executable).with_name("ray"))


def _free_ports(count: int) -> list[int]:
    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def _node_ports() -> list[str]:
    names = [
        "--node-manager-port",
        "--object-manager-port",
        "--dashboard-agent-listen-port",
        "--dashboard-agent-grpc-port",
        "--runtime-env-agent-port",
        "--metrics-export-port",
    ]
    low = _free_ports(1)[0]
    args = [f"{name}={port}" for name, port in zip(names, _free_ports(len(names)), strict=True)]
    return [
        *args,
        f"--min-worker-port={low + 1000 if low < 60000 else 20000}",
        f"--max-worker-port={(low + 1000 if low < 60000 else 20000) + 200}",
    ]


@dataclass
class RayCluster:
    """Processes of one test cluster and the environment a client needs to reach it."""

    root: Path
    env: dict[str, str]
    gcs_address: str = ""
    dashboard_url: str = ""
    processes: list[subprocess.Popen] = field(default_factory=list)

    def start_head(self, num_cpus: float = 2, resources: str = "{}", data_dir: Path | None = None) -> None:
        gcs_port, dashboard_port, client_port = _free_ports(3)
        self._start(
            "head",
            [
                "--head",
                f"--port={gcs_port}",
                f"--dashboard-port={dashboard_port}",
                f"--ray-client-server-port={client_port}",
                "--include-dashboard=true",
                "--dashboard-host=127.0.0.1",
                f"--temp-dir={self.root / 'ray'}",
            ],
            num_cpus,
            resources,
            data_dir,
        )
        self.gcs_address = f"127.0.0.1:{gcs_port}"
        self.dashboard_url = f"http://127.0.0.1:{dashboard_port}"
        self.wait_for_nodes(1)

    def add_node(self, name: str, num_cpus: float, resources: str = "{}", data_dir: Path | None = None) -> None:
        nodes = len(self.processes)
        self._start(name, [f"--address={self.gcs_address}"], num_cpus, resources, data_dir)
        self.wait_for_nodes(nodes + 1)

    def _start(self, name: str, args: list[str], num_cpus: float, resources: str, data_dir: Path | None) -> None:
        env = {**self.env, "VDB_DATA_DIR": str(data_dir or self.root / f"data-{name}")}
        log = open(self.root / f"{name}.log", "w")  # noqa: SIM115 - the node writes to it for its whole life
        command = [
            RAY,
            "start",
            "--block",
            "--node-ip-address=127.0.0.1",
            f"--num-cpus={num_cpus}",
            f"--resources={resources}",
            *args,
            *_node_ports(),
        ]
        self.processes.append(
            subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        )

    def wait_for_nodes(self, count: int, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"a ray node exited early; see {self.root}/*.log")
            if self.gcs_address and self._alive_nodes() >= count:
                return
            time.sleep(1)
        raise TimeoutError(f"{count} Ray nodes did not come up within {timeout}s; see {self.root}/*.log")

    def _alive_nodes(self) -> int:
        """Alive nodes from the dashboard's state API on 127.0.0.1 (no driver needed)."""
        result = subprocess.run(
            [RAY, "list", "nodes", "--address", self.dashboard_url, "--format", "json", "--filter", "state=ALIVE"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        import json

        try:  # the state API may print a notice before its JSON, or nothing while the dashboard starts
            return len(json.loads(result.stdout[result.stdout.index("[") :])) if result.returncode == 0 else 0
        except ValueError:
            return 0

    def client_env(self, **extra: str) -> dict[str, str]:
        return {**self.env, "RAY_ADDRESS": self.dashboard_url, **extra}

    def stop(self) -> None:
        for process in reversed(self.processes):  # workers first, then the head
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:  # `ray start --block` often needs far longer than this to wind down; nothing here is kept
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def cluster_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of every process of a test cluster: token auth with a token of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "VDB_"))}
    env.update(
        {
            "RAY_AUTH_MODE": "token",
            "RAY_AUTH_TOKEN": secrets.token_hex(32),
            "HF_HUB_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "VDB_WARMUP_RUNS": "0",
            "VDB_BOOTSTRAP_RESAMPLES": "200",
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
            **extra,
        }
    )
    return env


@pytest.fixture
def cluster_root():
    root = Path(tempfile.mkdtemp(prefix="vdb-cluster-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


_SHARED: list[RayCluster] = []  # session-wide clusters, stopped once the cluster tests are done


def stop_shared_clusters() -> None:
    """Stop the session-wide clusters (called after the last cluster test: they run first, and would otherwise
    hold their processes for the rest of the session)."""
    while _SHARED:
        _SHARED.pop().stop()


@contextmanager
def two_node_cluster():
    """The session's one two-node cluster (the ``two_nodes`` fixture of tests/conftest.py), for every test that
    needs two nodes (starting one takes a test's best part). The head offers no CPU (as in cluster.yaml) and an
    ``ingress_node`` resource, the worker 2 CPUs and ``model_node``; every node shares one PostgreSQL schema
    (``env["VDB_DATABASE_URL"]``) and the Redis rate-limit store. Each test's benchmarks have ids of their own; a
    test that needs other settings gives them to its own driver or job."""
    from tests.conftest import postgres_url, private_postgres_schema, redis_url

    url = postgres_url()
    if url is None or redis_url() is None:
        pytest.skip("PostgreSQL on localhost:5432 and Redis on localhost:6379 are needed for a two-node cluster")
    root = Path(tempfile.mkdtemp(prefix="vdb-two-nodes-"))
    with private_postgres_schema(url) as schema:
        database = f"{url.replace('postgresql://', 'postgresql+psycopg://')}?options=-csearch_path%3D{schema}"
        cluster = RayCluster(
            root, cluster_env(root, VDB_DATABASE_URL=database, VDB_RATE_LIMIT_STORAGE="redis://localhost:6379/0")
        )
        _SHARED.append(cluster)
        try:
            cluster.start_head(num_cpus=0, resources='{"ingress_node": 1}')
            cluster.add_node("worker", num_cpus=2, resources='{"model_node": 1}')
            yield cluster
        finally:  # also when a node failed to come up: whatever started is stopped
            cluster.stop()
            if cluster in _SHARED:
                _SHARED.remove(cluster)
            shutil.rmtree(root, ignore_errors=True)
