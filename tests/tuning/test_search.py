"""Parameter search on the tiny model, with real Ray Tune trials."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.bench.compare import dominates
from app.catalog import get_catalog
from app.errors import ModelNotFoundError, ValidationError
from tests.helpers import wait_until
from tuning import AIOptimizationEngine, SearchSpace

BASE = {"num_frames": 4}
SPACE = SearchSpace(
    continuous_params={"guidance_scale": (1.0, 15.0)}, discrete_params={"num_inference_steps": [1, 2, 3]}
)


@pytest.mark.parametrize(
    "space, fragment",
    [
        (SearchSpace(continuous_params={"guidance_scale": (5.0, 5.0)}), "empty range"),
        (SearchSpace(continuous_params={"guidance_scale": (0.0, 50.0)}), "exceeds"),
        (SearchSpace(categorical_params={"scheduler": ["warp-drive"]}), "unknown scheduler"),
        (SearchSpace(discrete_params={"num_frames": [4, 64]}), "num_frames"),
        (SearchSpace(categorical_params={"precision": ["fp16"]}), "CPU"),
        (SearchSpace(), "empty"),
    ],
)
def test_invalid_spaces_are_refused_before_any_trial(settings, space, fragment):
    tune_dir = settings.data_dir / "tune"
    before = set(tune_dir.iterdir()) if tune_dir.exists() else set()
    with pytest.raises(ValidationError, match=fragment):
        AIOptimizationEngine(settings=settings).optimize_benchmark_parameters("tiny-t2v", search_space=space)
    assert (set(tune_dir.iterdir()) if tune_dir.exists() else set()) == before  # no experiment was started


def test_bad_strategy_objective_and_model(settings):
    engine = AIOptimizationEngine(settings=settings)
    with pytest.raises(ValidationError, match="strategy"):
        engine.optimize_benchmark_parameters("tiny-t2v", strategy="psychic", search_space=SPACE)
    with pytest.raises(ValidationError, match="latency_budget_ms"):
        engine.optimize_benchmark_parameters("tiny-t2v", objective="quality_under_latency", search_space=SPACE)
    with pytest.raises(ModelNotFoundError):
        engine.optimize_benchmark_parameters("nope", search_space=SPACE)


def test_bayesian_search_records_every_trial_and_beats_its_first(ray_session, settings):
    result = AIOptimizationEngine(settings=settings).optimize_benchmark_parameters(
        "tiny-t2v", "quality", "bayesian", SPACE, max_evaluations=4, base_parameters=BASE, experiment_name="bayes"
    )
    assert len(result.trials) == 4 and all(t["error"] is None for t in result.trials)
    first = min(result.trials, key=lambda t: t["trial_id"])  # any trial: the best is at least as good as all
    assert result.best_score >= max(t["score"] for t in result.trials) >= first["score"]
    assert set(result.best_parameters) == {"guidance_scale", "num_inference_steps"}
    assert (
        json.loads((Path(result.experiment_path) / "vid_bench_result.json").read_text())["best_score"]
        == result.best_score
    )
    from app.storage.database import get_database
    from app.storage.searches import SearchRepository

    row = SearchRepository(get_database(settings.resolved_database_url)).get("bayes")  # stored with provenance
    assert row is not None and row.strategy == "bayesian" and len(row.result["trials"]) == 4
    assert row.provenance["packages"]["ray"] and row.provenance["seeds"] == [0]


def test_pareto_search_returns_a_non_dominated_set(ray_session, settings, monkeypatch):
    """Tune checkpoints the searcher on a clock; a period of 0 checkpoints it at every step, so the NSGA-II
    sampler is pickled many times (a plain optuna NSGAIISampler crashes here: it holds a thread lock)."""
    monkeypatch.setenv("TUNE_GLOBAL_CHECKPOINT_S", "0")
    result = AIOptimizationEngine(settings=settings).optimize_benchmark_parameters(
        "tiny-t2v", "quality", "pareto", SPACE, max_evaluations=4, base_parameters=BASE, experiment_name="pareto"
    )
    assert list(Path(result.experiment_path).glob("searcher-state-*.pkl"))  # the searcher was checkpointed
    assert len(result.trials) == 4 and all(t["error"] is None for t in result.trials)
    front = result.pareto_set
    assert front and all(p in result.trials for p in front)
    for a in front:
        for b in result.trials:
            assert not dominates([b["quality"], b["latency_ms"]], [a["quality"], a["latency_ms"]], [True, False])


def test_interrupted_search_resumes_without_repeating_finished_trials(ray_session, settings, tmp_path, monkeypatch):
    """Kill a Pareto search's driver process after two trials finished, then resume the same experiment.

    The searcher is checkpointed at every step (period 0), so the resumed run restores a pickled NSGA-II sampler."""
    script = tmp_path / "search.py"
    script.write_text(
        "from tuning import AIOptimizationEngine, SearchSpace\n"
        "space = SearchSpace(continuous_params={'guidance_scale': (1.0, 15.0)}, "
        "discrete_params={'num_inference_steps': [1, 2, 3]})\n"
        "AIOptimizationEngine().optimize_benchmark_parameters('tiny-t2v', 'quality', 'pareto', space, "
        "max_evaluations=6, base_parameters={'num_frames': 4}, experiment_name='resume-me')\n"
    )
    monkeypatch.setenv("TUNE_GLOBAL_CHECKPOINT_S", "0")  # for the killed driver and for the resumed run
    env = {
        **os.environ,
        "VDB_RAY_ADDRESS": ray_session.get_runtime_context().gcs_address,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    experiment = settings.data_dir / "tune" / "resume-me"
    free_cpus = ray_session.available_resources().get("CPU", 0)
    process = subprocess.Popen(
        [sys.executable, str(script)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def finished_trials() -> int:
        assert process.poll() is None, "the search ended before it could be interrupted"
        return len([p for p in experiment.glob("*/result.json") if p.stat().st_size > 0])

    try:
        wait_until(
            finished_trials,
            until=lambda n: n >= 2,
            timeout=300,
            interval=0.5,
            what="two trials of the search to finish",
        )
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finished_before = {p.parent.name: p.read_text() for p in experiment.glob("*/result.json") if p.stat().st_size}
    wait_until(
        lambda: ray_session.available_resources().get("CPU", 0),
        until=lambda cpus: cpus >= free_cpus - 1e-6,
        what="Ray to stop the killed driver's trials and free their CPUs",
    )
    result = AIOptimizationEngine(settings=settings).optimize_benchmark_parameters(
        "tiny-t2v", "quality", "pareto", SPACE, max_evaluations=6, base_parameters=BASE, experiment_name="resume-me"
    )
    assert len(result.trials) == 6 and all(t["error"] is None for t in result.trials)
    for trial_dir, content in finished_before.items():  # finished trials were not run again
        if '"done": true' in content or json.loads(content.splitlines()[-1]).get("done"):
            assert (experiment / trial_dir / "result.json").read_text().count("\n") == content.count("\n")


def test_gpu_fraction_is_zero_on_cpu():
    from app.bench.cluster import gpu_fraction

    assert gpu_fraction(get_catalog().get("svd-xt"), "cpu", 80.0) == 0
