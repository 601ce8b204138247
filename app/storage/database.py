"""The database handle: one SQLAlchemy engine per URL, its sessions, and the schema brought up to date.

Repositories (benchmarks, searches, tasks, credentials, downloads) are thin classes over a
:class:`Database`; none of them creates an engine. Engines pool connections, so a process
shares one Database per URL through :func:`get_database`.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any, cast

from sqlalchemy import create_engine, event, inspect, make_url, text
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import Session, sessionmaker

from app.storage.tables import Base


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
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, pool_pre_ping=True)


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
                    connection.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))
                added.append(f"{table.name}.{column.name}")
    return added


def json_safe(value: Any) -> Any:
    """JSON columns cannot hold NaN/inf; such values are stored as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through ``Session.execute`` changed.

    At runtime such a statement's result is a :class:`CursorResult`; ``Session.execute`` is typed as returning the
    plain :class:`Result`, which has no ``rowcount`` (SQLAlchemy's documented way round that is this cast).
    """
    return cast(CursorResult[Any], result).rowcount


class Database:
    """Engine, sessions and schema of one database URL (tables created, missing columns added)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        Base.metadata.create_all(self.engine)
        add_missing_columns(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._sessions()

    def dispose(self) -> None:
        self.engine.dispose()


_databases: dict[str, Database] = {}
_databases_lock = threading.Lock()


def get_database(url: str) -> Database:
    """This process's Database for ``url``, created (and its schema brought up to date) on first use."""
    with _databases_lock:
        if url not in _databases:
            _databases[url] = Database(url)
        return _databases[url]
