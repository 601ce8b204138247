"""Reads and writes of serving load tests (`vid-bench loadtest`): one row per run, one per concurrency level.

A run is stored once it has finished, in one transaction, so a crashed or interrupted run leaves nothing half
written. The per-request records stay in the run's JSON file (``json_path``); the levels hold what is read back:
counts, throughputs and, per figure, percentiles with the mean's 95% interval.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from app.errors import LoadTestNotFoundError, ValidationError
from app.storage.database import Database, json_safe
from app.storage.repository import spec_hash
from app.storage.tables import LoadTestLevelRow, LoadTestRow

LEVEL_FIELDS = (
    "concurrency",
    "requests",
    "completed",
    "errors",
    "status_429",
    "status_503",
    "wall_s",
    "request_throughput",
    "output_tokens",
    "output_tokens_per_s",
    "latency_s",
    "ttft_s",
    "itl_s",
    "error_examples",
)


class LoadTestRepository:
    def __init__(self, db: Database):
        self.db = db

    def save(
        self,
        result: dict[str, Any],
        owner: str | None = None,
        json_path: str | None = None,
        plot_path: str | None = None,
    ) -> LoadTestRow:
        """Store a finished run (``app.bench.loadtest.run_load_test``'s result) and its levels together."""
        spec = result["spec"]
        started = result.get("created_at")
        row = LoadTestRow(
            id=result["id"],
            model_name=spec["model"],
            modality=spec["modality"],
            url=spec["url"],
            spec=json_safe(spec),
            spec_hash=spec_hash(spec),
            provenance=json_safe(result.get("provenance")),
            json_path=json_path,
            plot_path=plot_path,
            owner=owner,
            started_at=None if started is None else datetime.fromtimestamp(started, UTC),
        )
        with self.db.session() as s, s.begin():
            s.add(row)
            s.flush()
            for index, level in enumerate(result["levels"]):
                s.add(
                    LoadTestLevelRow(
                        load_test_id=row.id, level_index=index, **{k: json_safe(level.get(k)) for k in LEVEL_FIELDS}
                    )
                )
        return row

    def get(self, load_test_id: str) -> LoadTestRow:
        with self.db.session() as s:
            row = s.get(LoadTestRow, load_test_id)
        if row is None:
            raise LoadTestNotFoundError(load_test_id)
        return row

    def levels(self, load_test_id: str) -> list[LoadTestLevelRow]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(LoadTestLevelRow)
                    .where(LoadTestLevelRow.load_test_id == load_test_id)
                    .order_by(LoadTestLevelRow.level_index)
                )
            )

    def list(self, model_name: str | None = None, page: int = 1, limit: int = 20) -> tuple[list[LoadTestRow], int]:
        """Newest first; (rows of the page, total)."""
        if page < 1 or not 1 <= limit <= 100:
            raise ValidationError("page must be >= 1 and limit between 1 and 100", {"page": page, "limit": limit})
        query = select(LoadTestRow)
        if model_name:
            query = query.where(LoadTestRow.model_name == model_name)
        with self.db.session() as s:
            total = s.execute(select(func.count()).select_from(query.subquery())).scalar_one()
            rows = s.scalars(
                query.order_by(LoadTestRow.created_at.desc(), LoadTestRow.id.desc())
                .offset((page - 1) * limit)
                .limit(limit)
            ).all()
        return list(rows), int(total)

    def delete(self, load_test_id: str) -> None:
        with self.db.session() as s, s.begin():
            row = s.get(LoadTestRow, load_test_id)
            if row is None:
                raise LoadTestNotFoundError(load_test_id)
            for level in s.scalars(select(LoadTestLevelRow).where(LoadTestLevelRow.load_test_id == load_test_id)):
                s.delete(level)
            s.delete(row)


def summary(row: LoadTestRow) -> dict[str, Any]:
    """What a listing shows of a run."""
    return {
        "id": row.id,
        "model": row.model_name,
        "modality": row.modality,
        "url": row.url,
        "concurrency": row.spec.get("concurrency"),
        "requests_per_level": row.spec.get("requests"),
        "started_at": row.started_at,
        "created_at": row.created_at,
    }


TEXT_ONLY = ("output_tokens", "output_tokens_per_s", "ttft_s", "itl_s")


def level_dict(level: LoadTestLevelRow, modality: str) -> dict[str, Any]:
    """A level as `summarize` wrote it: the text-only figures only for text."""
    return {k: getattr(level, k) for k in LEVEL_FIELDS if modality == "text" or k not in TEXT_ONLY}


def full(row: LoadTestRow, levels: list[LoadTestLevelRow]) -> dict[str, Any]:
    """A stored run in the shape `run_load_test` returned it (less the per-request records), plus where they are."""
    return {
        **summary(row),
        "kind": "loadtest",
        "spec": row.spec,
        "spec_hash": row.spec_hash,
        "provenance": row.provenance,
        "levels": [level_dict(level, row.modality) for level in levels],
        "json_path": row.json_path,
        "plot_path": row.plot_path,
        "owner": row.owner,
    }
