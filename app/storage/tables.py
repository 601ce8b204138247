"""Database tables. SQLite by default (WAL), PostgreSQL via VDB_DATABASE_URL."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """Timestamps come back timezone-aware (UTC) from every backend; SQLite would drop the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class BenchmarkRow(Base):
    __tablename__ = "benchmarks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # submitted|running|completed|failed|cancelled
    spec: Mapped[dict] = mapped_column(JSON)
    spec_hash: Mapped[str] = mapped_column(String(64))
    provenance: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    total_videos: Mapped[int] = mapped_column(Integer, default=0)
    completed_videos: Mapped[int] = mapped_column(Integer, default=0)
    failed_videos: Mapped[int] = mapped_column(Integer, default=0)
    current_task: Mapped[str | None] = mapped_column(Text, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    error_details: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the typed error's code + details
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True)  # principal that submitted it
    # Who runs it now ("host:pid" of a driver, or a detached actor's name), when it last reported in, and
    # whether anyone asked it to stop: shared through the database, so any process can cancel or resume it.
    runner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    cancel_requested: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=False)
    # Resource timeline sampled while it ran (enable_monitoring / --monitor): CPU, RSS, GPU series or why absent.
    monitoring: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class VideoResultRow(Base):
    """One generated video: its timings, measurements and per-video metric scores."""

    __tablename__ = "video_results"
    __table_args__ = (UniqueConstraint("benchmark_id", "prompt_index", "seed", name="uq_video_work_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    benchmark_id: Mapped[str] = mapped_column(ForeignKey("benchmarks.id", ondelete="CASCADE"), index=True)
    prompt_index: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # ok|failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    num_frames: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    timings: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    measurement: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    metrics: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    metric_reasons: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    features: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # evaluator features for set-level metrics
    video_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    worker: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AggregateRow(Base):
    """One aggregate figure of a benchmark: a metric or a performance figure, with its CI."""

    __tablename__ = "aggregates"
    __table_args__ = (UniqueConstraint("benchmark_id", "name", name="uq_aggregate_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    benchmark_id: Mapped[str] = mapped_column(ForeignKey("benchmarks.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # metric|performance
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_low: Mapped[float | None] = mapped_column(Float, nullable=True)
    ci_high: Mapped[float | None] = mapped_column(Float, nullable=True)
    n: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)


class TaskRow(Base):
    """One gateway request (inference or benchmark), with its timings and the replica that ran it."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # text-generation|image-generation|text-to-speech|video-generation|benchmark
    type: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # queued|running|completed|failed|cancelled
    request: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    worker_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancel_requested: Mapped[int] = mapped_column(Integer, default=0)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)  # principal that created it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ArtifactRow(Base):
    """A generated file (image, audio, video) served by the gateway at /artifacts/{id}."""

    __tablename__ = "artifacts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    media_type: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class DownloadRow(Base):
    """A model download into the models directory, with byte-level progress."""

    __tablename__ = "downloads"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))  # huggingface|local|http
    location: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # downloading|completed|failed
    downloaded_bytes: Mapped[int] = mapped_column(Integer, default=0)
    total_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # queueing, registration and assignment (refs-errors): status may also be "queued" (waiting for a slot)
    priority: Mapped[str | None] = mapped_column(String(10), nullable=True)  # low|normal|high
    auto_assign: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)  # left the queue
    registered_as: Mapped[str | None] = mapped_column(String(200), nullable=True)  # catalog name once usable
    assignment: Mapped[str | None] = mapped_column(Text, nullable=True)  # "deployed", or why it is not


class SearchRow(Base):
    """A finished parameter search: its space, every trial, the best settings and the Pareto set."""

    __tablename__ = "searches"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)  # the Tune experiment name
    model_name: Mapped[str] = mapped_column(String(200), index=True)
    objective: Mapped[str] = mapped_column(String(40))
    strategy: Mapped[str] = mapped_column(String(20))
    result: Mapped[dict] = mapped_column(JSON)
    provenance: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ApiKeyRow(Base):
    """An API key. Only its HMAC-SHA256 digest (keyed with the server secret) is stored, never the key."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # first characters, so people can tell their keys apart
    digest: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    permissions: Mapped[list] = mapped_column(JSON)
    tier: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class UserRow(Base):
    """A person who logs in with a password (Argon2 hash) and receives short-lived JWTs."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(Text)
    permissions: Mapped[list] = mapped_column(JSON)
    tier: Mapped[str] = mapped_column(String(20))
    disabled: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


# -- streaming benchmarks (issue #14) ---------------------------------------------------------------------
class StreamRow(Base):
    """One streaming benchmark (live or interactive): its spec, status, provenance and final figures."""

    __tablename__ = "streams"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(20))  # live|interactive
    model_name: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)  # submitted|running|completed|failed|cancelled
    spec: Mapped[dict] = mapped_column(JSON)
    spec_hash: Mapped[str] = mapped_column(String(64))
    ladder: Mapped[list | None] = mapped_column(JSON, nullable=True)
    provenance: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    metrics: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    performance: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    reasons: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # why a figure is null
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    runner: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cancel_requested: Mapped[bool | None] = mapped_column(Boolean, nullable=True, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # the owner's last sign of life; an unfinished stream silent for orphan_after_s is ended failed
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)


class StreamClipRow(Base):
    """One generated clip of a stream (live) or one prompt's response (interactive)."""

    __tablename__ = "stream_clips"
    __table_args__ = (UniqueConstraint("stream_id", "clip_index", name="uq_stream_clip"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    clip_index: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    seed: Mapped[int] = mapped_column(Integer)
    quality_level: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    num_frames: Mapped[int] = mapped_column(Integer)
    requested_s: Mapped[float] = mapped_column(Float)  # seconds since the stream began
    arrived_s: Mapped[float] = mapped_column(Float)
    latency_s: Mapped[float] = mapped_column(Float)
    throughput_fps: Mapped[float] = mapped_column(Float)
    details: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # engine timings, first-frame facts


class StreamFrameRow(Base):
    """One frame of a live stream: when it was asked for, arrived, was due and shown (or dropped)."""

    __tablename__ = "stream_frames"
    __table_args__ = (UniqueConstraint("stream_id", "frame_index", name="uq_stream_frame"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    frame_index: Mapped[int] = mapped_column(Integer)
    clip_index: Mapped[int] = mapped_column(Integer)
    quality_level: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    generation_latency_ms: Mapped[float] = mapped_column(Float)
    arrival_s: Mapped[float] = mapped_column(Float)
    deadline_s: Mapped[float] = mapped_column(Float)
    playback_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    dropped: Mapped[bool] = mapped_column(Boolean)


class StreamEventRow(Base):
    """The stream's messages in order (what the WebSocket sends), numbered per stream."""

    __tablename__ = "stream_events"
    __table_args__ = (UniqueConstraint("stream_id", "seq", name="uq_stream_event"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(ForeignKey("streams.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


# -- serving load tests (issue #17) --------------------------------------------------------------------------
class LoadTestRow(Base):
    """One `vid-bench loadtest` run: what was asked of which endpoint, with provenance; its levels are rows below."""

    __tablename__ = "load_tests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_name: Mapped[str] = mapped_column(String(200), index=True)
    modality: Mapped[str] = mapped_column(String(20))
    url: Mapped[str] = mapped_column(Text)
    spec: Mapped[dict] = mapped_column(JSON)  # LoadTestSpec.public(): never the API key
    spec_hash: Mapped[str] = mapped_column(String(64))
    provenance: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    json_path: Mapped[str | None] = mapped_column(Text, nullable=True)  # per-request records live there
    plot_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class LoadTestLevelRow(Base):
    """One concurrency level of a load test: counts, throughputs, and per figure its percentiles and 95% CI."""

    __tablename__ = "load_test_levels"
    __table_args__ = (UniqueConstraint("load_test_id", "level_index", name="uq_load_test_level"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    load_test_id: Mapped[str] = mapped_column(ForeignKey("load_tests.id", ondelete="CASCADE"), index=True)
    level_index: Mapped[int] = mapped_column(Integer)  # order in the spec's concurrency list
    concurrency: Mapped[int] = mapped_column(Integer)
    requests: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    errors: Mapped[int] = mapped_column(Integer)
    status_429: Mapped[int] = mapped_column(Integer)
    status_503: Mapped[int] = mapped_column(Integer)
    wall_s: Mapped[float] = mapped_column(Float)
    request_throughput: Mapped[float | None] = mapped_column(Float, nullable=True)
    output_tokens: Mapped[int | None] = mapped_column(Integer, nullable=True)  # text only
    output_tokens_per_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    latency_s: Mapped[dict] = mapped_column(JSON)  # n, mean, ci_low, ci_high, ci_method, p50, p90, p99 (or reason)
    ttft_s: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    itl_s: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    error_examples: Mapped[list | None] = mapped_column(JSON, nullable=True)
