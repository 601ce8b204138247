"""A database seeded by real tiny benchmarks: the built-in tiny pipelines generate and the metrics score every
video (BenchmarkWorker in-process, as a search trial runs it), stored through the same repository calls as the
runner. Seeded once per session (a plugin of tests/conftest.py, so every directory shares the one fixture)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

# Imports of the app happen inside the functions: this plugin is loaded by every test run, and only the tests
# that ask for `seeded` should pay for torch and the pipelines.

PROMPTS = ["a red ball rolling", "waves on a beach", "a cat walking", "city lights at night"]
METRICS = ["temporal_consistency", "consecutive_ssim", "overall_score"]


@dataclass
class Seeded:
    repo: Any  # BenchmarkRepository
    analytics: Any  # AnalyticsRepository
    ids: dict[str, str]
    url: str


def run_tiny_benchmark(
    repo,
    settings,
    model: str,
    steps: int,
    videos_per_prompt: int = 2,
    prompts: list[str] | None = None,
    monitor: bool = False,
) -> str:
    from app.bench.aggregates import aggregate_rows
    from app.bench.monitoring import ResourceMonitor
    from app.bench.provenance import package_versions
    from app.bench.spec import BenchmarkSpec
    from app.bench.worker import BenchmarkWorker

    spec = BenchmarkSpec(
        model_name=model,
        prompts=prompts or PROMPTS,
        videos_per_prompt=videos_per_prompt,
        parameters={"num_frames": 4, "num_inference_steps": steps},
        metric_settings={"metrics": METRICS},
        device="cpu",
    )
    row = repo.create_benchmark(model, spec.model_dump(mode="json"), len(spec.work_items()))
    worker = BenchmarkWorker(spec.model_dump(mode="json"), settings.portable())
    repo.mark_running(
        row.id,
        {"packages": package_versions(), "worker": worker.info(), "spec_hash": row.spec_hash, "seeds": spec.seeds()},
    )
    records = []
    resources = ResourceMonitor(interval_s=0.1).start() if monitor else None
    for item in spec.work_items():
        record = worker.run(row.id, *item)
        repo.record_video(row.id, record)
        records.append(record)
    if resources is not None:
        repo.update(row.id, monitoring=resources.stop())
    repo.write_aggregates(row.id, aggregate_rows(records, spec, worker.evaluator.unavailable, worker.settings))
    repo.finish(row.id, "completed")
    return row.id


@pytest.fixture(scope="session")
def seeded(tmp_path_factory, settings):
    """Model 'tiny-t2v' twice at 1 step (identical runs: same prompts, seeds, deterministic CPU pipeline) and once
    at 8 steps, its resources monitored: each a real benchmark."""
    from app.storage.analytics import AnalyticsRepository
    from app.storage.database import Database
    from app.storage.repository import BenchmarkRepository

    url = f"sqlite:///{tmp_path_factory.mktemp('analytics')}/seeded.db"
    db = Database(url)
    repo = BenchmarkRepository(db)
    ids = {
        "t2v_1step_a": run_tiny_benchmark(repo, settings, "tiny-t2v", 1),
        "t2v_1step_b": run_tiny_benchmark(repo, settings, "tiny-t2v", 1),
        "t2v_8step": run_tiny_benchmark(repo, settings, "tiny-t2v", 8, monitor=True),
    }
    yield Seeded(repo, AnalyticsRepository(db), ids, url)
    db.dispose()
