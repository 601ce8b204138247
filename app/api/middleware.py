"""ASGI middleware: paths and query strings with control characters refused (400), request body cap,
X-RateLimit-* headers on every counted response
(streaming ones included: they are added to the response start), and release of the
caller's concurrency slot when the response has been sent, however it ended.

The route dependency in ``app.api.deps`` does the counting and leaves its outcome in
the request state (``rate_limit``, ``concurrency_slot``); this middleware reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote_plus

from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.api.errors import error_response
from app.api.schemas.base import unsafe_character
from app.errors import PayloadTooLargeError, ValidationError


def unsafe_target(scope) -> ValidationError | None:
    """The error for a path or query string holding a control character (ids, filters, names: every parameter
    that could reach the database), or None."""
    query = unquote_plus(scope.get("query_string", b"").decode("latin-1"), errors="replace")
    for part, text in (("path", scope.get("path", "")), ("query", query)):
        character = unsafe_character(text)
        if character is not None:
            return ValidationError(
                f"Control character {character} is not allowed in the {part}",
                {"location": part, "character": character},
            )
    return None


class SecurityMiddleware:
    def __init__(self, app, max_body_bytes: Callable[[], int], release_slot: Callable[[str], None]):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.release_slot = release_slot

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        refused = unsafe_target(scope)
        if refused is not None:
            if scope["type"] == "websocket":  # closing before accepting answers the handshake with 403
                return await send({"type": "websocket.close", "code": 1008, "reason": refused.message[:100]})
            return await error_response(Request(scope), refused)(scope, receive, send)
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        state = scope.setdefault("state", {})
        limit = self.max_body_bytes()
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._too_large(scope, receive, send, limit)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:  # an HTTPException passes FastAPI's body reader untouched -> 413
                    raise HTTPException(413, f"Request body exceeds {limit} bytes")
            return message

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                window = state.get("rate_limit")
                if window is not None:
                    present = {name.lower() for name, _ in message.get("headers", [])}
                    extra = [
                        (k.lower().encode(), v.encode())
                        for k, v in window.headers().items()
                        if k.lower().encode() not in present
                    ]
                    message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        finally:
            slot = state.pop("concurrency_slot", None)
            if slot is not None:
                self.release_slot(slot)

    async def _too_large(self, scope, receive, send, limit: int):
        error = PayloadTooLargeError(f"Request body exceeds {limit} bytes", {"max_body_bytes": limit})
        response = error_response(Request(scope), error)
        await response(scope, receive, send)
