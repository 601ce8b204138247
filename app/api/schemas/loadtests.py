"""Responses of the stored serving load tests (`vid-bench loadtest` runs): read only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from app.api.schemas.benchmarks import Pagination


class LoadTestFigure(BaseModel):
    """One measured figure of a level (seconds): percentiles and the mean with its 95% interval, or why it is
    missing (``n`` 0 and ``reason``)."""

    n: int
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_method: str | None = None
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    reason: str | None = None


class LoadTestLevel(BaseModel):
    concurrency: int
    requests: int
    completed: int
    errors: int
    status_429: int
    status_503: int
    wall_s: float
    request_throughput: float | None
    latency_s: LoadTestFigure
    error_examples: list[str] = []
    # text only (streamed chat completions)
    output_tokens: int | None = None
    output_tokens_per_s: float | None = None
    ttft_s: LoadTestFigure | None = None
    itl_s: LoadTestFigure | None = None


class LoadTestSummary(BaseModel):
    load_test_id: str
    model_name: str
    modality: str
    url: str
    concurrency: list[int]
    requests_per_level: int
    started_at: datetime | None
    created_at: datetime

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> LoadTestSummary:
        return cls(
            load_test_id=item["id"],
            model_name=item["model"],
            modality=item["modality"],
            url=item["url"],
            concurrency=item["concurrency"],
            requests_per_level=item["requests_per_level"],
            started_at=item["started_at"],
            created_at=item["created_at"],
        )


class LoadTestList(BaseModel):
    load_tests: list[LoadTestSummary]
    pagination: Pagination


class LoadTestDetail(LoadTestSummary):
    spec: dict[str, Any]
    spec_hash: str
    provenance: dict[str, Any] | None
    levels: list[LoadTestLevel]

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> LoadTestDetail:
        summary = LoadTestSummary.from_dict(item).model_dump()
        return cls(
            **summary,
            spec=item["spec"],
            spec_hash=item["spec_hash"],
            provenance=item["provenance"],
            levels=[LoadTestLevel(**level) for level in item["levels"]],
        )
