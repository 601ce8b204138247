"""The optimization_level setting (`vid-bench config set optimization_level`) is the default of every surface."""

from __future__ import annotations

from app.bench.suite import BenchmarkSuite
from app.config import Settings


def test_sdk_default_follows_the_setting(tmp_path):
    suite = BenchmarkSuite(device="cpu", settings=Settings(data_dir=tmp_path, optimization_level="performance"))
    assert suite.build_spec("tiny-t2v", ["A cat"]).optimization_level == "performance"
    assert suite.build_spec("tiny-t2v", ["A cat"], optimization_level="baseline").optimization_level == "baseline"
    named = BenchmarkSuite(
        device="cpu",
        optimization_profile="balanced",
        settings=Settings(data_dir=tmp_path, optimization_level="performance"),
    )
    assert named.build_spec("tiny-t2v", ["A cat"]).optimization_level == "balanced"


def test_batch_default_follows_the_setting_and_the_batch_may_name_one():
    import pytest

    from app.bench.batch import BatchSpec
    from app.errors import ValidationError

    batch = BatchSpec(models=["tiny-t2v"], prompts=["A cat"])
    assert [s.optimization_level for s in batch.benchmark_specs("cpu", "baseline")] == ["baseline"]
    with pytest.raises(ValidationError, match="fp16"):  # the setting's profile, checked against this CPU
        batch.benchmark_specs("cpu", "performance")
    named = BatchSpec(models=["tiny-t2v"], prompts=["A cat"], optimization_level="baseline")
    assert [s.optimization_level for s in named.benchmark_specs("cpu", "performance")] == ["baseline"]
