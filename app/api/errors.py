"""The one error body, for every error the API can produce."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import ValidationError, VidBenchError, error_body

HTTP_CODES = {400: "INVALID_PARAMETERS", 401: "AUTHENTICATION_FAILED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              405: "METHOD_NOT_ALLOWED", 409: "CONFLICT", 413: "PAYLOAD_TOO_LARGE", 415: "UNSUPPORTED_MEDIA_TYPE",
              422: "INVALID_PARAMETERS", 429: "RATE_LIMIT_EXCEEDED", 503: "SERVER_OVERLOADED"}


def request_id(request: Request) -> str | None:
    """Serve's x-request-id (also set on the response), or the client's."""
    return request.headers.get("x-request-id") or getattr(request.state, "request_id", None)


def error_response(request: Request, error: VidBenchError, headers: dict | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if getattr(error, "retry_after_s", None) is not None:  # 429 and 503 say when to come back
        headers["Retry-After"] = str(error.retry_after_s)
    if error.http_status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="vid-bench"'
    return JSONResponse(error_body(error, request_id(request)), status_code=error.http_status, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path, for the Allow header of a 405."""
    from starlette.routing import compile_path

    from app.api import iter_routes

    path = request.url.path
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    matches: dict[int, set[str]] = {}  # by number of path parameters: the most literal template names the resource
    for full_path, route in iter_routes(request.app.router):
        if getattr(route, "methods", None) and compile_path(full_path)[0].match(path):
            matches.setdefault(full_path.count("{"), set()).update(route.methods)
    return sorted(matches[min(matches)]) if matches else []


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(VidBenchError)
    async def _typed(request: Request, exc: VidBenchError):
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg"), "type": e.get("type")} for e in exc.errors()]
        error = ValidationError("Request body or parameters are invalid", {"errors": errors})
        error.http_status = 422
        return error_response(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        error = VidBenchError(str(exc.detail), {})
        error.code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        error.http_status = exc.status_code
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names only the first matching route's methods
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_response(request, error, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        error = VidBenchError(f"Internal error: {type(exc).__name__}", {})
        return error_response(request, error)
