"""Execute the federated notebook (a rehearsal on the test gateway) so it never rots."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "federated.ipynb"


def test_federated_notebook_runs(gateway, admin_key, ray_session, tmp_path, monkeypatch):
    monkeypatch.setenv("VDB_RAY_ADDRESS", ray_session.get_runtime_context().gcs_address)
    monkeypatch.setenv("VDB_FEDERATED_COORDINATOR_URL", gateway)
    monkeypatch.setenv("VDB_API_KEY", admin_key)
    monkeypatch.setenv("VDB_FEDERATED_POLL_S", "0.5")
    monkeypatch.setenv("PYTHONPATH", str(NOTEBOOK.parents[1]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert (tmp_path / "results" / "federated" / "accuracy_vs_epsilon.png").stat().st_size > 1000
