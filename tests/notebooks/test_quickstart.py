"""Execute the quickstart notebook so it never rots."""

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "quickstart.ipynb"


def test_quickstart_notebook_runs(ray_session, tmp_path, monkeypatch):
    # The kernel joins this session's Ray instead of starting a second one.
    monkeypatch.setenv("VDB_RAY_ADDRESS", ray_session.get_runtime_context().gcs_address)
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    assert (tmp_path / "results" / "quickstart" / "quality_vs_latency.png").stat().st_size > 1000
    assert (tmp_path / "results" / "quickstart" / "comparison.json").exists()
