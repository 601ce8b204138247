"""The analytics SQL on PostgreSQL (percentile_cont, JSON extraction), on real tiny runs stored there."""

import numpy as np
import pytest

from app.analytics.service import benchmark_analytics, compare_models
from app.storage.analytics import AnalyticsRepository
from app.storage.database import Database
from app.storage.repository import BenchmarkRepository
from tests.app.analytics.seed import run_tiny_benchmark

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_analytics_on_postgresql(postgres_schema_url, settings):
    db = Database(postgres_schema_url)
    try:
        repo = BenchmarkRepository(db)
        ids = [run_tiny_benchmark(repo, settings, "tiny-t2v", steps, videos_per_prompt=1) for steps in (1, 1, 4)]
        analytics = AnalyticsRepository(db)
        out = benchmark_analytics(analytics, "24h", aggregation="p95", metric="temporal_consistency")
        latencies = [next(a.value for a in repo.aggregates(i) if a.name == "avg_latency_ms") for i in ids]
        assert out["total_benchmarks"] == 3 and out["sample_sizes"]["p95_latency_ms"] == 3
        assert out["metrics"]["p95_latency_ms"] == pytest.approx(np.percentile(latencies, 95))  # percentile_cont
        same = compare_models(
            analytics,
            [f"tiny-t2v@benchmark_id={ids[0]}", f"tiny-t2v@benchmark_id={ids[1]}"],
            metric="temporal_consistency",
            resamples=200,
        )
        assert same["unit"] == "video" and same["pairwise"][0]["n_pairs"] == 4
        assert same["statistical_significance"]["p_value"] == 1.0  # identical outputs, read back from JSON
    finally:
        db.dispose()
