"""Reads and writes of streaming benchmarks: the stream row, its clips, frames and ordered events.

A clip is stored with its frames and its events in one transaction, as it arrives, so a crash or a cancel
keeps everything already generated and never half a clip. One runner writes a stream, so the event
numbers (``seq``) are taken in that transaction without races.
"""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, or_, select, update

from app.errors import StreamNotFoundError, ValidationError
from app.storage.database import Database, json_safe, rows_changed
from app.storage.repository import TERMINAL, spec_hash
from app.storage.tables import StreamClipRow, StreamEventRow, StreamFrameRow, StreamRow, utcnow

FRAME_FIELDS = (
    "frame_index",
    "clip_index",
    "quality_level",
    "width",
    "height",
    "generation_latency_ms",
    "arrival_s",
    "deadline_s",
    "playback_s",
    "dropped",
)
CLIP_FIELDS = (
    "clip_index",
    "prompt",
    "seed",
    "quality_level",
    "width",
    "height",
    "num_frames",
    "requested_s",
    "arrived_s",
    "latency_s",
    "throughput_fps",
    "details",
)


class StreamRepository:
    def __init__(self, db: Database):
        self.db = db

    def create(
        self, mode: str, model_name: str, spec: dict[str, Any], ladder: list[dict[str, Any]], owner: str | None = None
    ) -> StreamRow:
        row = StreamRow(
            id=f"stream_{uuid.uuid4().hex[:12]}",
            mode=mode,
            model_name=model_name,
            status="submitted",
            spec=json_safe(spec),
            spec_hash=spec_hash(spec),
            ladder=json_safe(ladder),
            owner=owner,
            cancel_requested=False,
            heartbeat_at=utcnow(),  # the owner has orphan_after_s to start and report in
        )
        with self.db.session() as s, s.begin():
            s.add(row)
        return row

    def get(self, stream_id: str) -> StreamRow:
        with self.db.session() as s:
            row = s.get(StreamRow, stream_id)
        if row is None:
            raise StreamNotFoundError(stream_id)
        return row

    def update(self, stream_id: str, **fields: Any) -> StreamRow:
        with self.db.session() as s, s.begin():
            row = s.get(StreamRow, stream_id)
            if row is None:
                raise StreamNotFoundError(stream_id)
            for key, value in fields.items():
                setattr(row, key, json_safe(value))
        return row

    def list(self, limit: int = 20, model_name: str | None = None) -> list[StreamRow]:
        query = select(StreamRow).order_by(StreamRow.created_at.desc()).limit(limit)
        if model_name:
            query = query.where(StreamRow.model_name == model_name)
        with self.db.session() as s:
            return list(s.scalars(query))

    def unfinished(self, limit: int = 100) -> builtins.list[StreamRow]:
        """Streams submitted or running, newest first."""
        query = select(StreamRow).where(StreamRow.status.not_in(TERMINAL)).order_by(StreamRow.created_at.desc())
        with self.db.session() as s:
            return list(s.scalars(query.limit(limit)))

    def request_cancel(self, stream_id: str) -> str:
        """Ask the runner to stop (read between and during clips); a stream not started yet ends at once."""
        row = self.get(stream_id)
        if row.status in TERMINAL:
            return row.status
        self.update(stream_id, cancel_requested=True)
        if row.status == "submitted":
            self.finish(stream_id, "cancelled", None, event=("stream_cancelled", {"reason": "cancelled before start"}))
            return "cancelled"
        return row.status

    def cancel_requested(self, stream_id: str) -> bool:
        with self.db.session() as s:
            return bool(s.scalar(select(StreamRow.cancel_requested).where(StreamRow.id == stream_id)))

    # -- liveness: the owner's heartbeat, and ending streams whose owner went silent ------------------
    def heartbeat(self, stream_id: str, runner: str) -> bool:
        """The stream's owner is alive. False when the stream already ended (say, the sweep ended it failed):
        the owner must then stop without writing anything more."""
        with self.db.session() as s, s.begin():
            result = s.execute(
                update(StreamRow)
                .where(StreamRow.id == stream_id, StreamRow.status.not_in(TERMINAL))
                .values(heartbeat_at=utcnow(), runner=runner)
            )
        return rows_changed(result) == 1

    @staticmethod
    def _silent(silent_since: datetime):
        return StreamRow.status.not_in(TERMINAL), or_(
            StreamRow.heartbeat_at.is_(None), StreamRow.heartbeat_at < silent_since
        )

    def orphans(self, silent_since: datetime, stream_id: str | None = None) -> builtins.list[StreamRow]:
        """Unfinished streams whose owner has not reported in since ``silent_since`` (only ``stream_id``'s if given)."""
        query = select(StreamRow).where(*self._silent(silent_since))
        if stream_id is not None:
            query = query.where(StreamRow.id == stream_id)
        with self.db.session() as s:
            return list(s.scalars(query))

    def end_orphan(self, stream_id: str, silent_since: datetime, reason: str) -> bool:
        """End a silent stream ``failed`` with ``reason`` and a final stream_error message, in one transaction.

        A compare-and-set: only a stream still unfinished and still silent is ended, so an owner that reported
        in meanwhile keeps it and several sweepers end it once. Stored clips, frames and messages stay as they are.
        """
        with self.db.session() as s, s.begin():
            result = s.execute(
                update(StreamRow)
                .where(StreamRow.id == stream_id, *self._silent(silent_since))
                .values(status="failed", error=reason, completed_at=utcnow())
            )
            if rows_changed(result) != 1:
                return False
            self._add_events(s, stream_id, [("stream_error", {"error": reason})])
        return True

    def clip_counts(self, stream_ids: builtins.list[str]) -> dict[str, dict[str, Any]]:
        """Per stream: how many clips are stored and the stream time (s) the last one arrived at."""
        if not stream_ids:
            return {}
        query = (
            select(StreamClipRow.stream_id, func.count(StreamClipRow.id), func.max(StreamClipRow.arrived_s))
            .where(StreamClipRow.stream_id.in_(stream_ids))
            .group_by(StreamClipRow.stream_id)
        )
        with self.db.session() as s:
            return {sid: {"clips": n, "last_arrived_s": last} for sid, n, last in s.execute(query)}

    def _add_events(self, s, stream_id: str, events: builtins.list[tuple[str, dict[str, Any]]]) -> None:
        seq = s.scalar(select(func.max(StreamEventRow.seq)).where(StreamEventRow.stream_id == stream_id))
        seq = -1 if seq is None else seq
        for kind, data in events:
            seq += 1
            s.add(StreamEventRow(stream_id=stream_id, seq=seq, type=kind, data=json_safe(data)))

    def add_events(self, stream_id: str, events: builtins.list[tuple[str, dict[str, Any]]]) -> None:
        with self.db.session() as s, s.begin():
            self._add_events(s, stream_id, events)

    def record_clip(
        self,
        stream_id: str,
        clip: dict[str, Any],
        frames: builtins.list[dict[str, Any]],
        events: builtins.list[tuple[str, dict[str, Any]]],
    ) -> bool:
        """A clip, its frames and its messages, in one transaction. False (nothing written) when the stream has
        already ended: an ended stream's stored results are final."""
        with self.db.session() as s, s.begin():
            if s.scalar(select(StreamRow.status).where(StreamRow.id == stream_id)) in TERMINAL:
                return False
            s.add(StreamClipRow(stream_id=stream_id, **{k: json_safe(clip.get(k)) for k in CLIP_FIELDS}))
            for frame in frames:
                s.add(StreamFrameRow(stream_id=stream_id, **{k: frame[k] for k in FRAME_FIELDS}))
            self._add_events(s, stream_id, events)
        return True

    def finish(
        self,
        stream_id: str,
        status: str,
        error: str | None,
        *,
        metrics: dict | None = None,
        performance: dict | None = None,
        reasons: dict | None = None,
        event: tuple[str, dict[str, Any]] | None = None,
    ) -> bool:
        """The final status (and figures) and the last message, in one transaction. A stream that already
        ended keeps its first ending (False): a late owner never overwrites what the orphan sweep decided."""
        if status not in TERMINAL:
            raise ValidationError(f"'{status}' is not a final status", {"status": status})
        with self.db.session() as s, s.begin():
            row = s.get(StreamRow, stream_id)
            if row is None:
                raise StreamNotFoundError(stream_id)
            if row.status in TERMINAL:
                return False
            row.status, row.error, row.completed_at = status, error, utcnow()
            if metrics is not None:
                row.metrics, row.performance, row.reasons = (
                    json_safe(metrics),
                    json_safe(performance),
                    json_safe(reasons),
                )
            if event is not None:
                self._add_events(s, stream_id, [event])
        return True

    def events_after(self, stream_id: str, seq: int, limit: int = 500) -> builtins.list[StreamEventRow]:
        query = (
            select(StreamEventRow)
            .where(StreamEventRow.stream_id == stream_id, StreamEventRow.seq > seq)
            .order_by(StreamEventRow.seq)
            .limit(limit)
        )
        with self.db.session() as s:
            return list(s.scalars(query))

    def clips(self, stream_id: str) -> builtins.list[dict[str, Any]]:
        query = select(StreamClipRow).where(StreamClipRow.stream_id == stream_id).order_by(StreamClipRow.clip_index)
        with self.db.session() as s:
            return [{k: getattr(row, k) for k in CLIP_FIELDS} for row in s.scalars(query)]

    def frames(self, stream_id: str) -> builtins.list[dict[str, Any]]:
        query = select(StreamFrameRow).where(StreamFrameRow.stream_id == stream_id).order_by(StreamFrameRow.frame_index)
        with self.db.session() as s:
            return [{k: getattr(row, k) for k in FRAME_FIELDS} for row in s.scalars(query)]


FRAME_SCHEMA = pa.schema(
    [
        ("stream_id", pa.string()),
        ("model_name", pa.string()),
        ("frame_index", pa.int32()),
        ("clip_index", pa.int32()),
        ("quality_level", pa.int32()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("generation_latency_ms", pa.float64()),
        ("arrival_s", pa.float64()),
        ("deadline_s", pa.float64()),
        ("playback_s", pa.float64()),
        ("dropped", pa.bool_()),
    ],
    metadata={"vid_bench_schema": "stream-frames-1"},
)
CLIP_SCHEMA = pa.schema(
    [
        ("stream_id", pa.string()),
        ("model_name", pa.string()),
        ("clip_index", pa.int32()),
        ("prompt", pa.string()),
        ("seed", pa.int64()),
        ("quality_level", pa.int32()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("num_frames", pa.int32()),
        ("requested_s", pa.float64()),
        ("arrived_s", pa.float64()),
        ("latency_s", pa.float64()),
        ("throughput_fps", pa.float64()),
    ],
    metadata={"vid_bench_schema": "stream-clips-1"},
)


def export_stream_parquet(repo: StreamRepository, stream_id: str, directory: Path) -> dict[str, Path]:
    """``<id>.frames.parquet`` (live) and ``<id>.clips.parquet`` in ``directory``; nulls stay nulls."""
    row = repo.get(stream_id)
    directory.mkdir(parents=True, exist_ok=True)
    frames = [{"stream_id": stream_id, "model_name": row.model_name, **f} for f in repo.frames(stream_id)]
    clips = [
        {"stream_id": stream_id, "model_name": row.model_name, **{k: v for k, v in c.items() if k != "details"}}
        for c in repo.clips(stream_id)
    ]
    paths = {"frames": directory / f"{stream_id}.frames.parquet", "clips": directory / f"{stream_id}.clips.parquet"}
    pq.write_table(pa.Table.from_pylist(frames, schema=FRAME_SCHEMA), paths["frames"])
    pq.write_table(pa.Table.from_pylist(clips, schema=CLIP_SCHEMA), paths["clips"])
    return paths
