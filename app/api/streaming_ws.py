"""Streaming benchmark WebSocket (reference "Streaming Benchmark WebSocket"): /streaming/ws/{stream_id}.

The runner stores each message in order (``stream_events``, numbered per stream) in the shared database, so
this socket follows the rows from whatever replica and sends each one once, in order, as
``{"type", "stream_id", "seq", "data"}``: frame_generated, buffer_status, quality_adapted, then one of
stream_completed (data.final_metrics), stream_cancelled or stream_error, after which it closes.
Authentication is that of every socket (app.api.ws.socket_guard).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, WebSocket

from app.api.state import current_state
from app.api.ws import error_message, socket_guard
from app.errors import StreamNotFoundError, VidBenchError
from app.storage.streams import StreamRepository

router = APIRouter()
POLL_S = 0.1
FINAL = {"stream_completed", "stream_cancelled", "stream_error"}


@router.websocket("/streaming/ws/{stream_id}")
@socket_guard("streaming.read", "streaming")
async def stream_updates(websocket: WebSocket, stream_id: str):
    repo = StreamRepository(current_state().repo.db)
    seq = -1
    while True:
        try:
            row = await asyncio.to_thread(repo.get, stream_id)
            if not websocket.state.principal.may_see(row.owner):
                raise StreamNotFoundError(stream_id)
            events = await asyncio.to_thread(repo.events_after, stream_id, seq)
        except VidBenchError as error:
            await websocket.send_json(error_message(websocket, error, stream_id=stream_id))
            break
        for event in events:
            seq = event.seq
            await websocket.send_json(
                {"type": event.type, "stream_id": stream_id, "seq": event.seq, "data": event.data}
            )
        if any(event.type in FINAL for event in events):
            break
        if not events and row.status in ("completed", "failed", "cancelled"):
            break  # finished and every message sent
        await asyncio.sleep(POLL_S)
    await websocket.close()
