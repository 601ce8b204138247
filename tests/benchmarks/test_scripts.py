"""Every script under benchmarks/ runs as written, in a quick mode, so none rots (their figures are in the README).

Each runs in its own process, as a user runs it, on a fresh data directory; the ones that start Ray start their
own (marked cluster: they run before the session's Ray). Only that each finishes and prints its table is checked:
no figure is asserted.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {  # script -> (quick arguments, a line its output must contain)
    "metrics_throughput.py": (["--frames", "4", "--repeats", "1", "--size", "64"], "all weight-free metrics"),
    "flow_methods.py": (["--quick"], "end-point error"),
    "search_efficiency.py": (["--seeds", "2", "--budget", "30"], "evaluations until within"),
    "security_overhead.py": (["--requests", "20", "--rounds", "1"], "ms/request"),
    "harness_overhead.py": (["--quick"], "second benchmark (warm worker)"),
    "sweep_scaling.py": (["--quick"], "speed-up of 2 actors over 1"),
    "gateway_overhead.py": (["--quick"], "req/s vs bare"),
    "batching_gain.py": (["--quick"], "req/s vs batch 1"),
    "streaming_adaptation.py": (["--duration", "4", "--repeats", "1"], "delivered quality fixed"),
}
STARTS_RAY = {
    "harness_overhead.py",
    "sweep_scaling.py",
    "gateway_overhead.py",
    "batching_gain.py",
    "streaming_adaptation.py",
}


def test_every_script_is_listed():
    assert sorted(SCRIPTS) == sorted(p.name for p in (ROOT / "benchmarks").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize(
    "script", [pytest.param(name, marks=[pytest.mark.cluster] if name in STARTS_RAY else []) for name in SCRIPTS]
)
def test_script_runs_in_quick_mode(script, tmp_path):
    arguments, expected = SCRIPTS[script]
    env = {**os.environ, "VDB_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert expected in done.stdout
