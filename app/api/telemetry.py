"""Request metrics of the gateway, as an ASGI middleware that calls a recorder (no metrics library here).

For each HTTP request it reports the route template (``/api/v1/tasks/{task_id}``, never the raw path, so
labels stay few), the method, the model (the ``model`` / ``model_name`` field of a JSON body the route read,
or of the path or query, when it names a catalog model; otherwise ``none``), the status code and the
seconds until the response ended. It also keeps the number of requests in flight. The Serve ingress
plugs in a recorder on ``ray.util.metrics`` (deployments/telemetry.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

BODY_PEEK_BYTES = 64 * 1024  # the model field is near the start of every request body


class Recorder(Protocol):
    def request(self, route: str, method: str, model: str, status: int, seconds: float) -> None: ...

    def in_flight(self, count: int) -> None: ...


def model_label(candidates: list[Any], known: Callable[[str], bool]) -> str:
    for value in candidates:
        if isinstance(value, str) and known(value):
            return value
    return "none"


class RequestMetricsMiddleware:
    def __init__(self, app, recorder: Recorder, known_model: Callable[[str], bool], api=None):
        self.app = app
        self.recorder = recorder
        self.known_model = known_model
        self.api = api  # the FastAPI app, to name routes by their full template (with the /api/v1 prefix)
        self.paths: dict[int, list[str]] | None = None
        self.in_flight = 0

    def _route(self, scope) -> str:
        route = scope.get("route")
        if route is None:
            return "unmatched"
        if self.paths is None and self.api is not None:
            from app.api import iter_routes

            self.paths = {}
            for path, r in iter_routes(self.api.router):  # one route object can be mounted at /api/v1 and /v1
                self.paths.setdefault(id(r), []).append(path)
        own = getattr(route, "path", "unmatched")
        # the mount the request came through: the longest prefix (full template minus the route's own) it starts with
        mounts = sorted((self.paths or {}).get(id(route), []), key=len, reverse=True)
        return next((full for full in mounts if scope["path"].startswith(full[: len(full) - len(own)])), own)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        body = bytearray()
        status = 500

        async def peek_receive():
            message = await receive()
            if message["type"] == "http.request" and len(body) < BODY_PEEK_BYTES:
                body.extend(message.get("body", b"")[: BODY_PEEK_BYTES - len(body)])
            return message

        async def watch_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.in_flight += 1
        self.recorder.in_flight(self.in_flight)
        try:
            await self.app(scope, peek_receive, watch_send)
        finally:
            self.in_flight -= 1
            self.recorder.in_flight(self.in_flight)
            self.recorder.request(
                self._route(scope),
                scope["method"],
                self._model(scope, bytes(body)),
                status,
                time.perf_counter() - started,
            )

    def _model(self, scope, body: bytes) -> str:
        candidates: list[Any] = []
        if body[:1] == b"{":
            try:
                data = json.loads(body)
                candidates += [data.get("model"), data.get("model_name")]
            except ValueError:  # cut at the peek limit or not JSON: no model from the body
                pass
        candidates += list((scope.get("path_params") or {}).values())
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        candidates += query.get("model_name", []) + query.get("model", [])
        return model_label(candidates, self.known_model)
