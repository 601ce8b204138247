"""The benchmark worker in-process, as a search trial runs it: no Ray involved."""

import subprocess
import sys

from app.bench.aggregates import aggregate_rows
from app.bench.spec import BenchmarkSpec
from app.bench.worker import BenchmarkWorker


def test_worker_module_does_not_import_ray():
    code = "import sys, app.bench.worker; assert 'ray' not in sys.modules, 'ray was imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_in_process_worker_records_feed_the_aggregates(settings):
    spec = BenchmarkSpec(
        model_name="tiny-t2v",
        prompts=["A cat playing piano"],
        videos_per_prompt=2,
        parameters={"num_frames": 4, "num_inference_steps": 2},
        metric_settings={"metrics": ["temporal_consistency"]},
    )
    worker = BenchmarkWorker(spec.model_dump(mode="json"), settings.portable())
    worker.warm_up()
    records = [worker.run("in-process", *item) for item in spec.work_items()]
    assert [r["status"] for r in records] == ["ok", "ok"] and all(r["num_frames"] == 4 for r in records)
    values = {
        (r["kind"], r["name"]): r["value"]
        for r in aggregate_rows(records, spec, worker.evaluator.unavailable, worker.settings)
    }
    assert values["metric", "temporal_consistency"] is not None
    assert values["performance", "success_rate"] == 1.0 and values["performance", "avg_latency_ms"] > 0


def test_a_video_past_the_benchmarks_timeout_is_a_failed_record_with_generation_timeout(settings):
    spec = BenchmarkSpec(
        model_name="tiny-t2v",
        prompts=["A cat playing piano"],
        generation_timeout_s=1e-9,
        parameters={"num_frames": 2, "num_inference_steps": 3},
        warmup_runs=0,
        metric_settings={"compute_metrics": False},
    )
    worker = BenchmarkWorker(spec.model_dump(mode="json"), settings.portable())
    [record] = [worker.run("in-process", *item) for item in spec.work_items()]
    assert record["status"] == "failed"
    assert record["error"].startswith("GENERATION_TIMEOUT: ") and "after step 1 of 3" in record["error"]


def test_a_benchmark_timeout_must_be_positive():
    import pytest

    from app.errors import ValidationError

    with pytest.raises(ValidationError, match="generation_timeout_s"):
        BenchmarkSpec(model_name="tiny-t2v", prompts=["x"], generation_timeout_s=0)


def test_a_batched_worker_makes_one_call_per_batch_and_shares_its_latency(settings):
    import pytest

    spec = BenchmarkSpec(
        model_name="tiny-t2v",
        prompts=["A cat", "Ocean waves", "A dog"],
        batch_size=2,
        parameters={"num_frames": 2, "num_inference_steps": 1},
        warmup_runs=1,
        metric_settings={"compute_metrics": False},
    )
    worker = BenchmarkWorker(spec.model_dump(mode="json"), settings.portable())
    assert worker.warm_up() == 1
    batches = spec.batches(spec.work_items())
    assert [len(b) for b in batches] == [2, 1]
    records = [record for batch in batches for record in worker.run_batch("in-process", list(batch))]
    assert [r["status"] for r in records] == ["ok", "ok", "ok"] and [r["prompt"] for r in records] == spec.prompts
    first, second, third = (r["measurement"] for r in records)
    assert first["batch_size"] == second["batch_size"] == 2 and third["batch_size"] == 1
    assert first["batch_latency_s"] == second["batch_latency_s"]  # one call for both
    assert records[0]["latency_s"] == pytest.approx(first["batch_latency_s"] / 2)
    assert records[2]["latency_s"] == pytest.approx(third["batch_latency_s"])
    performance = {
        r["name"]: r["value"] for r in aggregate_rows(records, spec, {}, worker.settings) if r["kind"] == "performance"
    }
    calls = [first["batch_latency_s"], third["batch_latency_s"]]
    assert performance["avg_batch_latency_ms"] == pytest.approx(sum(calls) / 2 * 1000)
    assert performance["avg_latency_ms"] == pytest.approx(sum(r["latency_s"] for r in records) / 3 * 1000)
    assert performance["batch_size"] == 2


def test_batching_is_refused_where_the_pipeline_cannot_batch():
    import pytest

    from app.errors import ValidationError

    with pytest.raises(ValidationError, match="batch_size=2 is refused for 'tiny-i2v'"):
        BenchmarkSpec(model_name="tiny-i2v", prompts=["x"], batch_size=2).check()
    BenchmarkSpec(model_name="tiny-t2v", prompts=["x"], batch_size=2).check()


def test_the_actor_keeps_a_typed_load_refusal_for_its_first_call(settings, tmp_path):
    """Ray passes a constructor's exception as text only; the actor class raises it from its first call instead,
    where Ray passes the object (code and details) on. Here in-process, with a registered model too big to load."""
    import psutil
    import pytest
    import yaml

    from app.bench.runner import ActorWorker
    from app.catalog.spec import get_catalog, registered_dir
    from app.errors import InsufficientMemoryError

    models = tmp_path / "models"
    entry = get_catalog().get("tiny-t2v").model_dump(mode="json")
    above = round(psutil.virtual_memory().total / 2**30 * 4 + 1, 1)
    entry.update(name="too-big", requirements={**entry["requirements"], "vram_gb": above})
    registered_dir(models).mkdir(parents=True)
    (registered_dir(models) / "too-big.yaml").write_text(yaml.safe_dump(entry))
    spec = BenchmarkSpec(model_name="too-big", prompts=["x"], device="cpu")
    actor = ActorWorker(spec.model_dump(mode="json"), {**settings.portable(), "models_dir": str(models)})
    for call in (actor.warm_up, actor.info, lambda: actor.run("b", 0, "x", 0)):
        with pytest.raises(InsufficientMemoryError) as refused:
            call()
        assert refused.value.required_gb == above and refused.value.details["device"] == "cpu"
    assert actor.pid() > 0
