"""WebSockets: benchmark updates (/ws) and task progress (/ws/tasks/{id}).

Progress lives in the database (replicas and runners write it), so these
endpoints follow the rows and push what changed.

Authentication: credentials in the handshake headers (X-API-Key or
Authorization: Bearer), or, for browsers that cannot set headers, a first
message ``{"type": "authenticate", "token": "<key or token>"}``. A refused
socket gets an error message and is closed with code 1008 (policy violation).
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.api.routes.benchmarks import status_view
from app.api.state import current_state
from app.bench.results import load_result
from app.errors import AuthenticationError, TaskNotFoundError, VidBenchError
from app.security.auth import Principal, credential_from_headers

router = APIRouter()
POLL_S = 0.2
AUTH_TIMEOUT_S = 10.0
POLICY_VIOLATION = 1008


async def authenticate_socket(websocket: WebSocket, scope: str | None, group: str | None) -> Principal | None:
    """The caller, or None after telling them why and closing the socket."""
    state = current_state()
    credential = credential_from_headers(websocket.headers)
    by_message = credential is None
    try:
        if by_message:
            try:
                message = await asyncio.wait_for(websocket.receive_json(), AUTH_TIMEOUT_S)
            except (asyncio.TimeoutError, ValueError):
                message = None
            if not isinstance(message, dict) or message.get("type") != "authenticate":
                raise AuthenticationError("Send credentials in the handshake headers or as the first message "
                                          '{"type": "authenticate", "token": "..."}', {"reason": "missing"})
            credential = message.get("token") or message.get("api_key")
            credential = credential if isinstance(credential, str) else None
        principal = await asyncio.to_thread(state.auth.authenticate, credential)
        if scope is not None:
            principal.require(scope)
        await asyncio.to_thread(state.limiter.hit, principal, group)
    except VidBenchError as error:
        await websocket.send_json({"type": "error", "error": {"code": error.code, "message": error.message}})
        await websocket.close(code=POLICY_VIOLATION)
        return None
    if by_message:
        await websocket.send_json({"type": "authenticated", "principal": principal.name})
    return principal


@router.websocket("/ws/tasks/{task_id}")
async def task_updates(websocket: WebSocket, task_id: str):
    await websocket.accept()
    state = current_state()
    last = None
    try:
        caller = await authenticate_socket(websocket, None, "tasks")
        if caller is None:
            return
        while True:
            try:
                row = state.tasks.get(task_id)
                if not caller.may_see(row.owner):
                    raise TaskNotFoundError(task_id)
            except VidBenchError as error:
                await websocket.send_json({"type": "error", "task_id": task_id,
                                           "error": {"code": error.code, "message": error.message}})
                break
            snapshot = (row.status, round(row.progress, 3))
            if snapshot != last:
                last = snapshot
                if row.status == "completed":
                    await websocket.send_json({"type": "completed", "task_id": task_id, "status": row.status,
                                               "result": row.result})
                    break
                if row.status in ("failed", "cancelled"):
                    await websocket.send_json({"type": "error" if row.status == "failed" else "cancelled",
                                               "task_id": task_id, "status": row.status, "error": row.error})
                    break
                await websocket.send_json({"type": "progress", "task_id": task_id, "status": row.status,
                                           "progress": round(row.progress * 100, 1)})
            await asyncio.sleep(POLL_S)
        await websocket.close()
    except WebSocketDisconnect:
        return


@router.websocket("/ws")
async def benchmark_updates(websocket: WebSocket):
    """Messages: {"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": ...}."""
    await websocket.accept()
    state = current_state()
    subscriptions: dict[str, tuple | None] = {}
    try:
        if await authenticate_socket(websocket, "benchmark.read", "benchmarks") is None:
            return
        while True:
            try:
                message = await asyncio.wait_for(websocket.receive_json(), timeout=POLL_S)
                if message.get("type") == "subscribe" and message.get("channel") == "benchmark_updates":
                    subscriptions[message["benchmark_id"]] = None
                    await websocket.send_json({"type": "subscribed", "benchmark_id": message["benchmark_id"]})
                elif message.get("type") == "unsubscribe":
                    subscriptions.pop(message.get("benchmark_id"), None)
                elif message.get("type") != "authenticate":
                    await websocket.send_json({"type": "error", "error": {"code": "INVALID_MESSAGE",
                                                                          "message": "unknown message type"}})
            except asyncio.TimeoutError:
                pass
            for benchmark_id in list(subscriptions):
                try:
                    view = status_view(state.repo.get(benchmark_id))
                except VidBenchError as error:
                    await websocket.send_json({"type": "benchmark_error", "benchmark_id": benchmark_id,
                                               "data": {"error": error.message}})
                    subscriptions.pop(benchmark_id)
                    continue
                snapshot = (view.status, view.progress.completed_prompts)
                if snapshot == subscriptions[benchmark_id]:
                    continue
                subscriptions[benchmark_id] = snapshot
                if view.status == "completed":
                    results = load_result(state.repo, benchmark_id).to_dict(per_video=False)["results"]
                    await websocket.send_json({"type": "benchmark_completed", "benchmark_id": benchmark_id,
                                               "data": {"results": results}})
                    subscriptions.pop(benchmark_id)
                elif view.status in ("failed", "cancelled"):
                    await websocket.send_json({"type": "benchmark_error", "benchmark_id": benchmark_id,
                                               "data": {"error": view.error or view.status, "status": view.status}})
                    subscriptions.pop(benchmark_id)
                else:
                    await websocket.send_json({"type": "benchmark_progress", "benchmark_id": benchmark_id,
                                               "data": view.progress.model_dump() | {"status": view.status}})
    except WebSocketDisconnect:
        return
