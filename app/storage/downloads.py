"""Reads and writes of model downloads: the rows behind ``app.catalog.downloads.DownloadManager``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from app.errors import DownloadNotFoundError
from app.storage.database import Database
from app.storage.tables import DownloadRow, utcnow


class DownloadRepository:
    def __init__(self, db: Database):
        self.db = db

    def add(self, model_name: str, source: str, location: str, target: str) -> DownloadRow:
        row = DownloadRow(id=f"dl-{uuid.uuid4().hex[:16]}", model_name=model_name, source=source, location=location,
                          target=target, status="downloading", downloaded_bytes=0)
        with self.db.session() as s, s.begin():
            s.add(row)
        return row

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
