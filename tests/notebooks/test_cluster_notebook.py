"""Execute the cluster notebook against a real two-node Ray cluster that shares a PostgreSQL schema."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.cluster.test_real_cluster import _results

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "cluster.ipynb"

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def _texts(cell) -> str:
    """Everything a code cell showed, as text: streams, plain reprs and HTML tables."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


def test_cluster_notebook_runs_a_benchmark_and_reads_it_back(two_nodes, tmp_path):
    """On the shared two-node cluster (tests/cluster/conftest.py): the head offers no CPU (as in cluster.yaml), so the
    benchmark runs on the worker; the kernel is a separate process whose environment is what a user sets: the GCS
    address, the shared database, the token."""
    database = two_nodes.env["VDB_DATABASE_URL"]
    kernel_env = {**two_nodes.env, "RAY_ADDRESS": two_nodes.gcs_address, "VDB_DATA_DIR": str(tmp_path / "data")}
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute(
        env=kernel_env
    )

    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert not [o for cell in code for o in cell.get("outputs", []) if o.output_type == "error"]
    shown = [_texts(cell) for cell in code]
    assert "2 node(s)" in shown[1]
    benchmark_id = shown[2].split("benchmark ", 1)[1].split(":", 1)[0]
    assert f"benchmark {benchmark_id}: completed, success rate 1.0" in shown[2]
    listed = re.search(r"(\d+) completed benchmark\(s\) in the database", shown[3])  # other tests' too
    assert listed and int(listed.group(1)) >= 1 and benchmark_id in shown[3]
    assert "A cat playing piano" in shown[4] and "Ocean waves at sunset" in shown[4]
    assert any("image/png" in o.get("data", {}) for o in code[5].get("outputs", []))
    assert (tmp_path / "results" / "cluster" / "quality_vs_latency.png").stat().st_size > 1000
    assert two_nodes.env["RAY_AUTH_TOKEN"] not in "\n".join(shown)
    assert "token:    RAY_AUTH_TOKEN" in shown[0]
    stored, keys = _results(database, benchmark_id)  # the kernel's writes, read by another process
    assert stored["status"] == "completed" and sorted(keys) == [(0, 0), (1, 0)]
