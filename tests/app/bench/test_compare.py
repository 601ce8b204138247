import pytest

from app.bench.compare import compare_models, dominates, pareto_frontier
from app.bench.results import BenchmarkResult
from app.errors import ValidationError


def _result(name, score, latency, vram=None):
    return BenchmarkResult(
        benchmark_id=f"b_{name}",
        model_name=name,
        status="completed",
        metrics={"overall_score": score, "temporal_consistency": None if score is None else score / 100},
        metric_details={},
        performance={"avg_latency_ms": latency, "peak_vram_gb": vram},
        success_rate=1.0,
    )


def test_dominance():
    assert dominates([2, 1], [1, 1], [True, False])
    assert not dominates([1, 1], [1, 1], [True, False])
    assert not dominates([2, 2], [1, 1], [True, False])  # better quality but slower: no dominance


def test_pareto_frontier_quality_up_latency_down():
    points = {
        "a": {"q": 90, "lat": 100},
        "b": {"q": 80, "lat": 50},
        "c": {"q": 70, "lat": 120},
        "d": {"q": 90, "lat": 100},
    }
    front = pareto_frontier(points, {"q": True, "lat": False})
    assert front["frontier"] == ["a", "b", "d"]  # c is dominated by a and b; equal points both stay


def test_compare_ranks_and_reports_skipped_objectives():
    report = compare_models([_result("x", 60, 100), _result("y", 80, 300), _result("z", None, 50)])
    assert [r["model_name"] for r in report["ranking"]] == ["y", "x", "z"]
    assert report["ranking"][-1]["rank"] is None  # no score: not ranked, not invented
    assert "overall_score" in report["skipped_objectives"] and "peak_vram_gb" in report["skipped_objectives"]
    assert report["pareto_objectives"] == ["avg_latency_ms"]
    report = compare_models(
        [_result("x", 60, 100), _result("y", 80, 300)], objectives=["overall_score", "avg_latency_ms"]
    )
    assert report["pareto_frontier"] == ["x", "y"]
    assert report["pairwise_fvd"]["x|y"]["value"] is None


def test_unknown_objective():
    with pytest.raises(ValidationError):
        compare_models([_result("x", 1, 1)], objectives=["speediness"])


@pytest.mark.parametrize("name", ["motion_magnitude", "dynamic_degree"])
def test_descriptive_metrics_are_refused_as_objectives(name):
    from app.bench.compare import direction
    from app.errors import ValidationError
    from app.metrics.registry import METRICS

    assert METRICS[name].higher_is_better is None  # how much motion, not how good
    with pytest.raises(ValidationError, match="descriptive"):
        direction(name)
