"""Analytics API: period summaries with trends and model comparisons with significance tests (app.analytics)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter, Query

from app.analytics import service
from app.api.deps import State, requires
from app.storage.analytics import AnalyticsRepository

router = APIRouter(prefix="/analytics", tags=["analytics"])
Period = Literal["1h", "24h", "7d", "30d"]
if TYPE_CHECKING:  # a Literal built at run time is no type to mypy: to it a figure is a str
    Figure = str
else:
    Figure = Literal[tuple(service.RANKABLE)]
"""The stored figures that have a direction (quality metrics and performance values; descriptive ones such as
motion_magnitude are refused as objectives), named in the schema so clients see the choice."""


def _repo(state) -> AnalyticsRepository:
    return AnalyticsRepository(state.repo.db)


@router.get("/benchmarks", dependencies=[requires("analytics.read", "analytics")])
async def benchmark_analytics(
    state: State,
    period: Period = "24h",
    model_name: str | None = Query(None, max_length=200),
    metric: Figure | None = None,
    aggregation: Literal["avg", "min", "max", "p95"] = "avg",
) -> dict:
    """Counts, success rate, quality / latency / throughput with their sample sizes, trends against the previous
    period of the same length, and the top models."""
    return await asyncio.to_thread(service.benchmark_analytics, _repo(state), period, model_name, metric, aggregation)


@router.get("/models/compare", dependencies=[requires("analytics.read", "analytics")])
async def compare_models(
    state: State,
    models: str = Query(
        ...,
        max_length=2000,
        description="Comma-separated model selectors: NAME or NAME@KEY=VALUE (a generation parameter or benchmark_id)",
    ),
    metric: str = Query("overall_score", max_length=100),
    period: Period = "30d",
) -> dict:
    """Models ranked on ``metric`` with Wilcoxon / Mann-Whitney tests (Holm-adjusted for more than two models)
    and effect sizes with bootstrap CIs."""
    settings = state.settings
    return await asyncio.to_thread(
        service.compare_models,
        _repo(state),
        models.split(","),
        metric,
        period,
        settings.bootstrap_resamples,
        settings.bootstrap_seed,
    )


@router.get("/dashboard", dependencies=[requires("analytics.read", "analytics")])
async def dashboard_data(state: State, metric: Figure = "temporal_consistency", period: Period = "30d") -> dict:
    """Everything the monitoring dashboard shows: running benchmarks, leaderboard with CIs, Pareto points, recent
    errors, and the cluster's nodes, Serve deployments and replicas."""
    from app.analytics.dashboard import dashboard_data as build

    settings = state.settings
    data = await asyncio.to_thread(
        build, _repo(state), metric, period, settings.bootstrap_resamples, settings.bootstrap_seed
    )
    try:
        data["cluster"] = await asyncio.to_thread(state.backend.cluster_state)
    except Exception as error:  # noqa: BLE001 - the page shows why the cluster view is missing, the rest still works
        data["cluster"] = {"error": f"{type(error).__name__}: {error}"}
    return data
