"""Every script under benchmarks/ runs as written, in a quick mode, so none rots (their figures are in the README).

Each runs in its own process, as a user runs it, on a fresh data directory. The scripts that need no Ray write their
figures with ``--json`` and the test checks them: present, finite, and in the range their definition allows (a
figure of a timing is never asserted against a speed goal: that is the scripts' job, on a quiet machine). The
scripts that start a Ray of their own take 30-60 s each and run in the ``nightly`` tier (``bash scripts/test.sh
--all``), where only their table line is checked.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _positive(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def _check_metrics_throughput(figures: dict) -> None:
    assert figures["frames_per_wall_s"] and set(figures["frames_per_wall_s"]) == set(figures["frames_per_cpu_s"])
    assert all(_positive(v) for v in figures["frames_per_wall_s"].values())
    assert any(name.startswith("all weight-free metrics") for name in figures["frames_per_wall_s"])
    frechet = figures["frechet"]
    assert _positive(frechet["ours_ms"]) and _positive(frechet["scipy_ms"])
    assert frechet["abs_difference"] <= 1e-6 * max(1.0, abs(frechet["value"]))  # ours agrees with scipy's sqrtm


def _check_flow_methods(figures: dict) -> None:
    methods = set(figures["frames_per_s"])
    assert "farneback" in methods and len(methods) >= 2 and all(_positive(v) for v in figures["frames_per_s"].values())
    assert set(figures["end_point_error_px"]) == methods
    for errors in figures["end_point_error_px"].values():
        assert errors and all(math.isfinite(e) and e >= 0 for e in errors.values())
    for other in methods - {"farneback"}:
        agreement = figures["agreement_with_farneback"][other]
        assert 0.0 <= agreement["same_dynamic_degree"] <= 1.0
        assert agreement["spearman"] is None or -1.0 <= agreement["spearman"] <= 1.0


def _check_search_efficiency(figures: dict) -> None:
    assert set(figures) == {"0.2"}
    for counts in figures["0.2"]["evaluations"].values():  # evaluations until within tolerance, or None
        assert len(counts) == 2 and all(c is None or 1 <= c <= 30 for c in counts)
    ratio = figures["0.2"]["median_random_over_tpe"]
    assert ratio is None or _positive(ratio)


def _check_security_overhead(figures: dict) -> None:
    assert set(figures) == {"open", "key+memory", "key+redis", "jwt+memory"}
    assert all(_positive(v["median_ms"]) and _positive(v["x_open"]) for v in figures.values())
    assert figures["open"]["x_open"] == 1.0


CHECKED = {  # script -> (quick arguments, the check of its --json figures)
    "metrics_throughput.py": (["--frames", "4", "--repeats", "1", "--size", "64"], _check_metrics_throughput),
    "flow_methods.py": (["--quick"], _check_flow_methods),
    "search_efficiency.py": (["--seeds", "2", "--budget", "30", "--tolerance", "0.2"], _check_search_efficiency),
    "security_overhead.py": (["--requests", "20", "--rounds", "1"], _check_security_overhead),
}
STARTS_RAY = {  # script -> (quick arguments, a line its output must contain)
    "harness_overhead.py": (["--quick"], "second benchmark (warm worker)"),
    "sweep_scaling.py": (["--quick"], "speed-up of 2 actors over 1"),
    "gateway_overhead.py": (["--quick"], "req/s vs bare"),
    "batching_gain.py": (["--quick"], "req/s vs batch 1"),
    "streaming_adaptation.py": (["--duration", "4", "--repeats", "1"], "delivered quality fixed"),
}


def _run(script: str, arguments: list[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VDB_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
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
    return done


def test_every_script_is_listed():
    assert sorted({**CHECKED, **STARTS_RAY}) == sorted(p.name for p in (ROOT / "benchmarks").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(CHECKED))
def test_script_figures_in_quick_mode(script, tmp_path):
    arguments, check = CHECKED[script]
    _run(script, [*arguments, "--json", str(tmp_path / "figures.json")], tmp_path / "data")
    check(json.loads((tmp_path / "figures.json").read_text()))


@pytest.mark.slow
@pytest.mark.nightly
@pytest.mark.cluster  # a Ray of its own: runs before the session's Ray exists
@pytest.mark.parametrize("script", sorted(STARTS_RAY))
def test_ray_script_runs_in_quick_mode(script, tmp_path):
    arguments, expected = STARTS_RAY[script]
    assert expected in _run(script, arguments, tmp_path).stdout
