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
    spec = BenchmarkSpec(model_name="tiny-t2v", prompts=["A cat playing piano"], videos_per_prompt=2,
                         parameters={"num_frames": 4, "num_inference_steps": 2},
                         metric_settings={"metrics": ["temporal_consistency"]})
    worker = BenchmarkWorker(spec.model_dump(mode="json"), settings.portable())
    worker.warm_up()
    records = [worker.run("in-process", *item) for item in spec.work_items()]
    assert [r["status"] for r in records] == ["ok", "ok"] and all(r["num_frames"] == 4 for r in records)
    values = {(r["kind"], r["name"]): r["value"]
              for r in aggregate_rows(records, spec, worker.evaluator.unavailable, worker.settings)}
    assert values["metric", "temporal_consistency"] is not None
    assert values["performance", "success_rate"] == 1.0 and values["performance", "avg_latency_ms"] > 0
