from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from app.api.deps import Caller, State, requires
from app.api.schemas.benchmarks import (
    BenchmarkCreate,
    BenchmarkList,
    BenchmarkStatus,
    BenchmarkSubmitted,
    BenchmarkSummary,
    Pagination,
)
from app.bench.results import load_result
from app.bench.spec import BenchmarkSpec, MetricSettings
from app.errors import PermissionDeniedError, ValidationError

router = APIRouter(prefix="/benchmarks", tags=["benchmarks"])
MAX_PAGE = 1_000_000  # page * limit stays far inside a 64-bit OFFSET on every database
RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"


def parse_date_time(value: str) -> datetime:
    """An RFC 3339 date-time (a leap second counts as :59); a well-formed but impossible date is a 400."""
    try:
        return datetime.fromisoformat(re.sub(r"(T\d{2}:\d{2}):60", r"\1:59", value.replace("z", "Z").replace("t", "T")))
    except ValueError:
        raise ValidationError(f"created_after is not a real date-time: {value}", {"created_after": value}) from None


@router.post(
    "", status_code=202, response_model=BenchmarkSubmitted, dependencies=[requires("benchmark.create", "benchmarks")]
)
async def start_benchmark(body: BenchmarkCreate, state: State, caller: Caller):
    settings = body.evaluation_settings
    spec = BenchmarkSpec(
        model_name=body.model_name,
        prompts=body.prompts,
        parameters=body.parameters,
        videos_per_prompt=body.videos_per_prompt,
        seed=body.seed,
        device=state.settings.device,
        generation_timeout_s=body.generation_timeout_s,
        batch_size=body.batch_size,
        optimization_level=settings.optimization_level or state.settings.optimization_level,
        save_videos=settings.save_videos,
        metric_settings=MetricSettings(
            compute_metrics=settings.compute_metrics,
            metrics=settings.metrics,
            fvd_reference_dir=settings.fvd_reference_dir,
        ),
        metadata=body.metadata,
    )
    runner = state.get_runner()
    benchmark_id = await asyncio.to_thread(runner.submit, spec, caller.id)  # validates before storing anything
    await asyncio.to_thread(runner.start_detached, benchmark_id)  # owned by the cluster: outlives this replica
    return BenchmarkSubmitted.from_benchmark(state.repo.get(benchmark_id), state.repo)


@router.get("", response_model=BenchmarkList, dependencies=[requires("benchmark.read", "benchmarks")])
def list_benchmarks(
    state: State,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    limit: int = Query(20, ge=1, le=100),
    status: Literal["submitted", "running", "completed", "failed", "cancelled"] | None = None,
    model_name: str | None = Query(None, max_length=200),
    created_after: str | None = Query(
        None, pattern=RFC3339, description="RFC 3339 date-time", json_schema_extra={"format": "date-time"}
    ),
    sort: Literal["created_at", "-created_at", "status", "-status"] = "-created_at",
) -> BenchmarkList:
    after = parse_date_time(created_after) if created_after else None
    rows, total = state.repo.list(
        status=status, model_name=model_name, created_after=after, sort=sort, page=page, limit=limit
    )
    summaries = [BenchmarkSummary.from_benchmark(row, state.repo.aggregates(row.id)) for row in rows]
    return BenchmarkList(benchmarks=summaries, pagination=Pagination.of(page, limit, total))


@router.get("/{benchmark_id}", response_model=BenchmarkStatus, dependencies=[requires("benchmark.read", "benchmarks")])
def get_benchmark(benchmark_id: str, state: State) -> BenchmarkStatus:
    return BenchmarkStatus.from_benchmark(state.repo.get(benchmark_id), state.repo)


@router.get("/{benchmark_id}/results", dependencies=[requires("benchmark.read", "benchmarks")])
def get_results(benchmark_id: str, state: State, per_video: bool = False) -> dict:
    return load_result(state.repo, benchmark_id).to_dict(per_video=per_video)


@router.delete("/{benchmark_id}", dependencies=[requires("benchmark.create", "benchmarks")])
def cancel_benchmark(benchmark_id: str, state: State, caller: Caller):
    row = state.repo.get(benchmark_id)
    if not caller.may_see(row.owner):
        raise PermissionDeniedError(
            "Only whoever started a benchmark (or an admin) can cancel it", {"benchmark_id": benchmark_id}
        )
    if row.status in ("completed", "failed", "cancelled"):
        return JSONResponse(
            {"benchmark_id": row.id, "status": row.status, "message": f"Benchmark already {row.status}"},
            status_code=409,
        )
    state.repo.request_cancel(benchmark_id)  # whoever runs it, wherever, reads this between work items
    return {"benchmark_id": row.id, "status": "cancelled", "message": "Benchmark cancelled"}
