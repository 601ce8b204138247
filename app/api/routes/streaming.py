"""Streaming benchmarks (reference "Streaming API"): start, read, results, stop. The logic is in app.streaming."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.api.deps import Caller, State, requires
from app.api.schemas.streaming import StreamCreate, StreamResults, StreamStarted, StreamStatus
from app.errors import StreamNotFoundError
from app.storage.repository import TERMINAL
from app.storage.streams import StreamRepository
from app.streaming.orphans import end_orphans
from app.streaming.results import stream_result
from app.streaming.runner import StreamRunner

router = APIRouter(prefix="/streaming", tags=["streaming"])


def _runner(state) -> StreamRunner:
    return StreamRunner(StreamRepository(state.repo.db), state.settings)


def _visible(state, caller, stream_id: str):
    repo = StreamRepository(state.repo.db)
    end_orphans(repo, state.settings, stream_id)  # a stream whose owner died reads as failed, not running forever
    row = repo.get(stream_id)
    if not caller.may_see(row.owner):  # someone else's stream does not exist for them
        raise StreamNotFoundError(stream_id)
    return row


def websocket_url(request: Request, stream_id: str) -> str:
    base = str(request.base_url).rstrip("/")
    return base.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + f"/streaming/ws/{stream_id}"


@router.post(
    "/benchmarks",
    status_code=202,
    response_model=StreamStarted,
    dependencies=[requires("streaming.create", "streaming")],
)
async def start_stream(body: StreamCreate, request: Request, state: State, caller: Caller) -> StreamStarted:
    from app.bench.cluster import ensure_ray

    runner = _runner(state)
    spec = body.to_spec(state.settings.device)
    stream_id = await asyncio.to_thread(runner.submit, spec, caller.id)  # validates before storing anything
    await asyncio.to_thread(ensure_ray, state.settings)
    await asyncio.to_thread(runner.start_detached, stream_id)  # owned by the cluster: outlives this replica
    row = runner.repo.get(stream_id)
    return StreamStarted(
        stream_id=stream_id,
        status="started",
        websocket_url=websocket_url(request, stream_id),
        estimated_duration=spec.duration_seconds if spec.mode == "live" else None,
        created_at=row.created_at,
    )


@router.get(
    "/benchmarks/{stream_id}", response_model=StreamStatus, dependencies=[requires("streaming.read", "streaming")]
)
def get_stream(stream_id: str, state: State, caller: Caller) -> StreamStatus:
    row = _visible(state, caller, stream_id)
    return StreamStatus.from_row(row, len(StreamRepository(state.repo.db).clips(stream_id)))


@router.get(
    "/benchmarks/{stream_id}/results",
    response_model=StreamResults,
    dependencies=[requires("streaming.read", "streaming")],
)
def get_stream_results(stream_id: str, state: State, caller: Caller, details: bool = False) -> StreamResults:
    """Final figures (null with a reason where one could not be computed); ``details`` adds clips and frames."""
    _visible(state, caller, stream_id)
    return StreamResults(**stream_result(StreamRepository(state.repo.db), stream_id, details=details))


@router.delete("/benchmarks/{stream_id}", dependencies=[requires("streaming.create", "streaming")])
def stop_stream(stream_id: str, state: State, caller: Caller):
    row = _visible(state, caller, stream_id)
    if row.status in TERMINAL:
        return JSONResponse(
            {"stream_id": row.id, "status": row.status, "message": f"Stream already {row.status}"}, status_code=409
        )
    status = _runner(state).cancel(stream_id)
    return {
        "stream_id": row.id,
        "status": "cancelled" if status == "cancelled" else "cancelling",
        "message": "Stream stop requested",
    }
