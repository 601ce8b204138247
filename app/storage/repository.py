"""Reads and writes of benchmark state. The only module that issues SQL.

Per-video writes are idempotent on (benchmark, prompt index, seed): a work item
retried after an actor crash is stored once, whichever attempt lands first.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from datetime import datetime
from typing import Any, Iterable

from pathlib import Path

from sqlalchemy import create_engine, event, func, inspect, make_url, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.errors import BenchmarkNotFoundError, ValidationError
from app.storage.tables import AggregateRow, Base, BenchmarkRow, VideoResultRow, utcnow

TERMINAL = {"completed", "failed", "cancelled"}
SORTS = {"created_at": BenchmarkRow.created_at.asc(), "-created_at": BenchmarkRow.created_at.desc(),
         "status": BenchmarkRow.status.asc(), "-status": BenchmarkRow.status.desc()}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True)


def spec_hash(spec: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode()).hexdigest()


def _clean(value: Any) -> Any:
    """JSON columns cannot hold NaN/inf; such values are stored as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def add_missing_columns(engine: Engine) -> list[str]:
    """Add nullable columns that a newer version declares to tables an older version created."""
    added = []
    existing_tables = set(inspect(engine).get_table_names())
    for table in Base.metadata.sorted_tables:
        if table.name not in existing_tables:
            continue
        present = {c["name"] for c in inspect(engine).get_columns(table.name)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=engine.dialect)
                with engine.begin() as connection:
                    connection.execute(text(f'ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}'))
                added.append(f"{table.name}.{column.name}")
    return added


class BenchmarkRepository:
    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        Base.metadata.create_all(self.engine)
        add_missing_columns(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    # -- benchmarks -------------------------------------------------------------------------------
    def create_benchmark(self, model_name: str, spec: dict[str, Any], total_videos: int,
                         benchmark_id: str | None = None, owner: str | None = None) -> BenchmarkRow:
        row = BenchmarkRow(id=benchmark_id or f"bench_{uuid.uuid4().hex[:12]}", model_name=model_name,
                           status="submitted", owner=owner, spec=_clean(spec), spec_hash=spec_hash(spec),
                           total_videos=total_videos)
        with self.session() as s, s.begin():
            s.add(row)
        return row

    def get(self, benchmark_id: str) -> BenchmarkRow:
        with self.session() as s:
            row = s.get(BenchmarkRow, benchmark_id)
        if row is None:
            raise BenchmarkNotFoundError(benchmark_id)
        return row

    def update(self, benchmark_id: str, **fields: Any) -> BenchmarkRow:
        with self.session() as s, s.begin():
            row = s.get(BenchmarkRow, benchmark_id)
            if row is None:
                raise BenchmarkNotFoundError(benchmark_id)
            for key, value in fields.items():
                setattr(row, key, _clean(value))
            row.updated_at = utcnow()
        return row

    def mark_running(self, benchmark_id: str, provenance: dict[str, Any]) -> None:
        self.update(benchmark_id, status="running", started_at=utcnow(), provenance=provenance)

    def finish(self, benchmark_id: str, status: str, error: str | None = None) -> None:
        self.update(benchmark_id, status=status, error=error, completed_at=utcnow(), current_task=None)

    def list(self, status: str | None = None, model_name: str | None = None, created_after: datetime | None = None,
             sort: str = "-created_at", page: int = 1, limit: int = 20) -> tuple[list[BenchmarkRow], int]:
        if sort not in SORTS:
            raise ValidationError(f"sort must be one of {sorted(SORTS)}", {"sort": sort})
        if page < 1 or not 1 <= limit <= 100:
            raise ValidationError("page must be >= 1 and limit between 1 and 100", {"page": page, "limit": limit})
        query = select(BenchmarkRow)
        if status:
            query = query.where(BenchmarkRow.status == status)
        if model_name:
            query = query.where(BenchmarkRow.model_name == model_name)
        if created_after:
            query = query.where(BenchmarkRow.created_at >= created_after)
        with self.session() as s:
            total = s.scalar(select(func.count()).select_from(query.subquery()))
            rows = s.scalars(query.order_by(SORTS[sort]).offset((page - 1) * limit).limit(limit)).all()
        return list(rows), int(total)

    # -- per-video results ---------------------------------------------------------------------------
    def record_video(self, benchmark_id: str, record: dict[str, Any]) -> bool:
        """Store one video's result and bump progress; False when it was already stored."""
        try:
            with self.session() as s, s.begin():
                s.add(VideoResultRow(benchmark_id=benchmark_id, **_clean(record)))
                s.flush()
                row = s.get(BenchmarkRow, benchmark_id, with_for_update=True)
                if record["status"] == "ok":
                    row.completed_videos += 1
                else:
                    row.failed_videos += 1
                row.updated_at = utcnow()
        except IntegrityError:
            return False
        return True

    def done_keys(self, benchmark_id: str) -> set[tuple[int, int]]:
        with self.session() as s:
            rows = s.execute(select(VideoResultRow.prompt_index, VideoResultRow.seed)
                             .where(VideoResultRow.benchmark_id == benchmark_id)).all()
        return {(int(p), int(seed)) for p, seed in rows}

    def videos(self, benchmark_id: str) -> list[VideoResultRow]:
        with self.session() as s:
            return list(s.scalars(select(VideoResultRow).where(VideoResultRow.benchmark_id == benchmark_id)
                                  .order_by(VideoResultRow.prompt_index, VideoResultRow.seed)).all())

    # -- aggregates ------------------------------------------------------------------------------
    def write_aggregates(self, benchmark_id: str, rows: Iterable[dict[str, Any]]) -> None:
        """Replace the benchmark's aggregates in one transaction."""
        with self.session() as s, s.begin():
            for old in s.scalars(select(AggregateRow).where(AggregateRow.benchmark_id == benchmark_id)):
                s.delete(old)
            s.flush()
            for row in rows:
                s.add(AggregateRow(benchmark_id=benchmark_id, **_clean(row)))

    def aggregates(self, benchmark_id: str) -> list[AggregateRow]:
        with self.session() as s:
            return list(s.scalars(select(AggregateRow).where(AggregateRow.benchmark_id == benchmark_id)
                                  .order_by(AggregateRow.kind, AggregateRow.name)).all())

    def save_search(self, search_id: str, model_name: str, objective: str, strategy: str, result: dict[str, Any],
                    provenance: dict[str, Any]) -> None:
        """Store (or replace, after a resumed run) a search's outcome."""
        from app.storage.tables import SearchRow

        with self.session() as s, s.begin():
            row = s.get(SearchRow, search_id)
            if row is None:
                s.add(SearchRow(id=search_id, model_name=model_name, objective=objective, strategy=strategy,
                                result=_clean(result), provenance=_clean(provenance)))
            else:
                row.result, row.provenance = _clean(result), _clean(provenance)

    def search(self, search_id: str):
        from app.storage.tables import SearchRow

        with self.session() as s:
            return s.get(SearchRow, search_id)

    def dispose(self) -> None:
        self.engine.dispose()
