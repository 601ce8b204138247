"""Stored serving load tests, read only (runs are made by `vid-bench loadtest`, which needs no gateway)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from app.api.deps import State, requires
from app.api.routes.benchmarks import MAX_PAGE
from app.api.schemas.benchmarks import Pagination
from app.api.schemas.loadtests import LoadTestDetail, LoadTestList, LoadTestSummary
from app.storage.loadtests import LoadTestRepository, full, summary

router = APIRouter(prefix="/loadtests", tags=["loadtests"])


@router.get("", response_model=LoadTestList, dependencies=[requires("benchmark.read", "benchmarks")])
def list_load_tests(
    state: State,
    page: int = Query(1, ge=1, le=MAX_PAGE),
    limit: int = Query(20, ge=1, le=100),
    model_name: str | None = Query(None, max_length=200),
) -> LoadTestList:
    rows, total = LoadTestRepository(state.repo.db).list(model_name=model_name, page=page, limit=limit)
    return LoadTestList(
        load_tests=[LoadTestSummary.from_dict(summary(row)) for row in rows],
        pagination=Pagination.of(page, limit, total),
    )


@router.get("/{load_test_id}", response_model=LoadTestDetail, dependencies=[requires("benchmark.read", "benchmarks")])
def get_load_test(load_test_id: str, state: State) -> LoadTestDetail:
    repo = LoadTestRepository(state.repo.db)
    return LoadTestDetail.from_dict(full(repo.get(load_test_id), repo.levels(load_test_id)))
