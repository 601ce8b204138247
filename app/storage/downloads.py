"""Reads and writes of model downloads: the rows behind ``app.catalog.downloads.DownloadManager``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update

from app.errors import DownloadNotFoundError
from app.storage.database import Database
from app.storage.tables import DownloadRow, utcnow


class DownloadRepository:
    def __init__(self, db: Database):
        self.db = db

    def add(
        self,
        model_name: str,
        source: str,
        location: str,
        target: str,
        total_bytes: int | None = None,
        priority: str = "normal",
        auto_assign: bool = False,
    ) -> DownloadRow:
        """A new download, queued until a slot frees (``start`` marks it downloading)."""
        row = DownloadRow(
            id=f"dl-{uuid.uuid4().hex[:16]}",
            model_name=model_name,
            source=source,
            location=location,
            target=target,
            status="queued",
            downloaded_bytes=0,
            total_bytes=total_bytes,
            priority=priority,
            auto_assign=auto_assign,
        )
        with self.db.session() as s, s.begin():
            s.add(row)
        return row

    def start(self, download_id: str) -> None:
        now = utcnow()
        self.update(download_id, status="downloading", started_at=now)

    def measured_speed(self, source: str) -> float | None:
        """Bytes per second of the finished downloads from this kind of source (all bytes over all their time)."""
        with self.db.session() as s:
            rows = s.scalars(
                select(DownloadRow)
                .where(
                    DownloadRow.source == source,
                    DownloadRow.status == "completed",
                    DownloadRow.completed_at.is_not(None),
                )
                .order_by(DownloadRow.completed_at.desc())
                .limit(20)
            ).all()
        spans = [
            ((r.completed_at - (r.started_at or r.created_at)).total_seconds(), r.downloaded_bytes)
            for r in rows
            if r.completed_at is not None  # always so (the query asks it); narrows the type
        ]
        seconds = sum(t for t, _ in spans if t > 0)
        done = sum(b for t, b in spans if t > 0)
        return done / seconds if seconds > 0 and done > 0 else None

    def get(self, download_id: str) -> DownloadRow:
        with self.db.session() as s:
            row = s.get(DownloadRow, download_id)
        if row is None:
            raise DownloadNotFoundError(download_id)
        return row

    def update(self, download_id: str, **fields: Any) -> None:
        with self.db.session() as s, s.begin():
            s.execute(update(DownloadRow).where(DownloadRow.id == download_id).values(updated_at=utcnow(), **fields))

    def finish(self, download_id: str, status: str, **fields: Any) -> None:
        self.update(download_id, status=status, completed_at=utcnow(), **fields)
