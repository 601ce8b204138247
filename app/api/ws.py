"""WebSockets: benchmark updates (/ws) and task progress (/ws/tasks/{id}), each under /api/v1, /v1 and the root.

Progress lives in the database (replicas and runners write it), so these
endpoints follow the rows and push what changed.

Authentication: credentials in the handshake headers (X-API-Key or
Authorization: Bearer), or, for browsers that cannot set headers, a first
message ``{"type": "authenticate", "token": "<key or token>"}``. A refused
socket gets an error message and is closed with code 1008 (policy violation).
Every error message has the one error body: ``{"type": "error", "error": {code, message, details, ...}}``;
a message the server cannot use gets one and the socket stays open.
"""

from __future__ import annotations

import asyncio
import functools
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.api import declare_guard
from app.api.deps import owned_task
from app.api.errors import localized_error_body
from app.api.schemas.base import check_json
from app.api.schemas.benchmarks import BenchmarkStatus
from app.api.schemas.tasks import seconds_between
from app.api.state import current_state
from app.bench.reports import task_estimated_remaining
from app.bench.results import load_result
from app.catalog.facts import human_duration
from app.errors import AuthenticationError, ValidationError, VidBenchError
from app.security.auth import Principal, credential_from_headers

router = APIRouter()
POLL_S = 0.2
AUTH_TIMEOUT_S = 10.0
POLICY_VIOLATION = 1008
MAX_SUBSCRIPTIONS = 100


def error_message(websocket: WebSocket, error: VidBenchError, **fields: Any) -> dict[str, Any]:
    return {"type": "error", **fields, **localized_error_body(websocket, error)[0]}  # Accept-Language of the handshake


async def authenticate_socket(websocket: WebSocket, scope: str | None, group: str) -> Principal | None:
    """The caller, or None after telling them why and closing the socket."""
    state = current_state()
    credential = credential_from_headers(websocket.headers)
    by_message = credential is None
    try:
        if by_message:
            try:
                message = await asyncio.wait_for(receive_message(websocket), AUTH_TIMEOUT_S)
            except (TimeoutError, ValidationError):
                message = None
            if message is None or message.get("type") != "authenticate":
                raise AuthenticationError(
                    "Send credentials in the handshake headers or as the first message "
                    '{"type": "authenticate", "token": "..."}',
                    {"reason": "missing"},
                )
            credential = message.get("token") or message.get("api_key")
            credential = credential if isinstance(credential, str) else None
        principal = await asyncio.to_thread(state.get_auth().authenticate, credential)
        if scope is not None:
            principal.require(scope)
        await asyncio.to_thread(state.get_limiter().hit, principal, group)
    except VidBenchError as error:
        await websocket.send_json(error_message(websocket, error))
        await websocket.close(code=POLICY_VIOLATION)
        return None
    if by_message:
        await websocket.send_json({"type": "authenticated", "principal": principal.name})
    return principal


def socket_guard(scope: str | None, group: str):
    """Accept the socket and admit only a caller with ``scope``, counted in rate-limit ``group``; the handler
    finds the caller in ``websocket.state.principal``. The WebSocket twin of ``requires(scope, group)``:
    make_app checks this declaration the same way."""

    def decorate(handler):
        @functools.wraps(handler)
        async def endpoint(websocket: WebSocket, **params: Any) -> None:
            await websocket.accept()
            try:
                websocket.state.principal = await authenticate_socket(websocket, scope, group)
                if websocket.state.principal is not None:
                    await handler(websocket, **params)
            except WebSocketDisconnect:
                return

        declare_guard(endpoint, scope, group)
        return endpoint

    return decorate


async def receive_message(websocket: WebSocket) -> dict[str, Any]:
    """The client's next message as a JSON object; anything else is a ValidationError."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    raw = message.get("text")
    if raw is None:
        raw = (message.get("bytes") or b"").decode("utf-8", errors="replace")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValidationError("Messages must be JSON objects", {"reason": "not_json"}) from None
    if not isinstance(data, dict):
        raise ValidationError(
            "Messages must be JSON objects", {"reason": "not_an_object", "received": type(data).__name__}
        )
    try:
        check_json(data)  # the same edge as every HTTP body: no NUL or lone surrogate, bounded depth
    except ValueError as error:
        raise ValidationError(f"Message refused: {error}", {"reason": "unsafe"}) from None
    return data


def benchmark_id_of(message: dict[str, Any]) -> str:
    benchmark_id = message.get("benchmark_id")
    if not isinstance(benchmark_id, str) or not benchmark_id or len(benchmark_id) > 200:
        raise ValidationError(
            f"A {message['type']} message needs a benchmark_id string (1-200 characters)",
            {"field": "benchmark_id", "type": message["type"]},
        )
    return benchmark_id


@router.websocket("/ws/tasks/{task_id}")
@socket_guard(None, "tasks")
async def task_updates(websocket: WebSocket, task_id: str):
    state = current_state()
    last = None
    while True:
        try:
            row = owned_task(state, websocket.state.principal, task_id)
        except VidBenchError as error:
            await websocket.send_json(error_message(websocket, error, task_id=task_id))
            break
        snapshot = (row.status, round(row.progress, 3))
        if snapshot != last:
            last = snapshot
            if row.status == "completed":
                await websocket.send_json(
                    {
                        "type": "completed",
                        "task_id": task_id,
                        "status": row.status,
                        "result": row.result,
                        "processing_time": seconds_between(row.started_at, row.completed_at),
                    }
                )
                break
            if row.status in ("failed", "cancelled"):
                await websocket.send_json(
                    {
                        "type": "error" if row.status == "failed" else "cancelled",
                        "task_id": task_id,
                        "status": row.status,
                        "error": row.error,
                    }
                )
                break
            remaining, reason = task_estimated_remaining(row)
            await websocket.send_json(
                {
                    "type": "progress",
                    "task_id": task_id,
                    "status": row.status,
                    "progress": round(row.progress * 100, 1),
                    "estimated_remaining": human_duration(remaining),
                    "estimated_remaining_s": remaining,
                    "estimated_remaining_reason": reason,
                }
            )
        await asyncio.sleep(POLL_S)
    await websocket.close()


@router.websocket("/ws")
@socket_guard("benchmark.read", "benchmarks")
async def benchmark_updates(websocket: WebSocket):
    """Messages: {"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": ...}, and "unsubscribe"."""
    state = current_state()
    subscriptions: dict[str, tuple | None] = {}
    while True:
        try:
            message = await asyncio.wait_for(receive_message(websocket), timeout=POLL_S)
            await _handle(websocket, message, subscriptions)
        except TimeoutError:
            pass
        except ValidationError as error:
            await websocket.send_json(error_message(websocket, error))
        for benchmark_id in list(subscriptions):
            try:
                view = BenchmarkStatus.from_benchmark(state.repo.get(benchmark_id), state.repo)
            except VidBenchError as error:
                await websocket.send_json(
                    {"type": "benchmark_error", "benchmark_id": benchmark_id, "data": {"error": error.message}}
                )
                subscriptions.pop(benchmark_id)
                continue
            snapshot = (view.status, view.progress.completed_videos + view.progress.failed_videos)
            if snapshot == subscriptions[benchmark_id]:
                continue
            subscriptions[benchmark_id] = snapshot
            if view.status == "completed":
                results = load_result(state.repo, benchmark_id).to_dict(per_video=False)["results"]
                await websocket.send_json(
                    {"type": "benchmark_completed", "benchmark_id": benchmark_id, "data": {"results": results}}
                )
                subscriptions.pop(benchmark_id)
            elif view.status in ("failed", "cancelled"):
                await websocket.send_json(
                    {
                        "type": "benchmark_error",
                        "benchmark_id": benchmark_id,
                        "data": {"error": view.error or view.status, "status": view.status},
                    }
                )
                subscriptions.pop(benchmark_id)
            else:
                await websocket.send_json(
                    {
                        "type": "benchmark_progress",
                        "benchmark_id": benchmark_id,
                        "data": view.progress.model_dump() | {"status": view.status},
                    }
                )


async def _handle(websocket: WebSocket, message: dict[str, Any], subscriptions: dict[str, tuple | None]) -> None:
    """Apply one client message to the subscriptions; a message that cannot be applied is a ValidationError."""
    kind = message.get("type")
    if kind == "subscribe":
        if message.get("channel") != "benchmark_updates":
            raise ValidationError(
                "The only channel is benchmark_updates",
                {"field": "channel", "channel": str(message.get("channel"))[:100]},
            )
        benchmark_id = benchmark_id_of(message)
        if benchmark_id not in subscriptions and len(subscriptions) >= MAX_SUBSCRIPTIONS:
            raise ValidationError(f"At most {MAX_SUBSCRIPTIONS} subscriptions per socket", {"limit": MAX_SUBSCRIPTIONS})
        subscriptions[benchmark_id] = None
        await websocket.send_json({"type": "subscribed", "benchmark_id": benchmark_id})
    elif kind == "unsubscribe":
        subscriptions.pop(benchmark_id_of(message), None)
    elif kind != "authenticate":  # a browser that authenticated by message may send it again: harmless
        raise ValidationError(
            "Unknown message type; send subscribe or unsubscribe", {"field": "type", "type": str(kind)[:100]}
        )
