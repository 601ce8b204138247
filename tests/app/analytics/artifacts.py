"""Where tests leave files for people to look at (rendered report pages, dashboard screenshots)."""

import os
from pathlib import Path


def artifact_dir() -> Path:
    """VDB_TEST_ARTIFACTS, or test-artifacts/ at the repository root (ignored by git)."""
    path = Path(os.environ.get("VDB_TEST_ARTIFACTS") or Path(__file__).resolve().parents[3] / "test-artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path
