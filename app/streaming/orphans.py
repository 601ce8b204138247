"""Streams whose owner died: an unfinished stream whose owner has not written its heartbeat for
``orphan_after_s`` is ended ``failed`` with the reason, by the gateway's periodic sweep and whenever its status
is read. A stream is not resumed (its clock and buffer were in the dead process); the clips, frames and
messages stored before are kept as they are, and a late owner can no longer write (StreamRepository)."""

from __future__ import annotations

from datetime import timedelta

from app.config import Settings
from app.storage.streams import StreamRepository
from app.storage.tables import StreamRow, utcnow


def _reason(row: StreamRow, silent_s: float) -> str:
    if row.status == "submitted":
        return (
            f"interrupted: the stream's owner never started within {silent_s:g}s "
            "(its actor could not be created or died before it began)"
        )
    return (
        f"interrupted: the stream's owner ({row.runner or 'unknown'}) sent no heartbeat for over {silent_s:g}s "
        "(its actor, process or node died); the clips stored before that are kept"
    )


def end_orphans(repo: StreamRepository, settings: Settings, stream_id: str | None = None) -> list[str]:
    """End every silent unfinished stream (or only ``stream_id``) ``failed``; returns the ids ended here."""
    silent_since = utcnow() - timedelta(seconds=settings.orphan_after_s)
    return [
        row.id
        for row in repo.orphans(silent_since, stream_id)
        if repo.end_orphan(row.id, silent_since, _reason(row, settings.orphan_after_s))
    ]
