"""The one error body, for every error the API can produce.

Messages are given in the request's language (Accept-Language, else the default_locale setting) where the
catalog has them, with Content-Language saying which; the ``code`` is never translated.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection

from app.catalog.spec import MAX_PROMPT_CHARS
from app.errors import InvalidPromptError, ValidationError, VidBenchError, error_body
from app.i18n import Message, get_locale, localize, negotiate

HTTP_CODES = {
    400: "INVALID_PARAMETERS",
    401: "AUTHENTICATION_FAILED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "INVALID_PARAMETERS",
    429: "RATE_LIMIT_EXCEEDED",
    503: "SERVER_OVERLOADED",
}
HTTP_MESSAGES = {
    "Not Found": Message("Not Found"),
    "Method Not Allowed": Message("Method Not Allowed"),
    "Unsupported Media Type": Message("Unsupported Media Type"),
}
"""Starlette's own details that the catalogs translate."""


PROMPT_FIELDS = {"prompt", "prompts", "text"}
"""Body fields that hold prompts (``text`` is the text-to-speech prompt)."""
PROMPT_ERROR_TYPES = {"string_too_short", "string_too_long", "string_pattern_mismatch", "string_type"}


def is_prompt_error(error: dict) -> bool:
    """An empty, blank, over-long or non-string prompt in a request body: what validate_prompt refuses."""
    loc = error["loc"]
    return len(loc) >= 2 and loc[0] == "body" and loc[1] in PROMPT_FIELDS and error["type"] in PROMPT_ERROR_TYPES


def request_id(request: HTTPConnection) -> str | None:
    """Serve's x-request-id (also set on the response), or the client's."""
    return request.headers.get("x-request-id") or getattr(request.state, "request_id", None)


def error_response(request: Request, error: VidBenchError, headers: dict | None = None) -> JSONResponse:
    headers = dict(headers or {})
    retry_after_s = getattr(error, "retry_after_s", None)
    if retry_after_s is not None:  # 429 and 503 say when to come back
        headers["Retry-After"] = str(retry_after_s)
    if error.http_status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="vid-bench"'
    body, headers["Content-Language"] = localized_error_body(request, error)
    return JSONResponse(body, status_code=error.http_status, headers=headers)


def localized_error_body(connection: HTTPConnection, error: VidBenchError) -> tuple[dict, str]:
    """The error body with its message in the connection's language, and that language (HTTP and WebSocket)."""
    body = error_body(error, request_id(connection))
    body["error"]["message"], language = localize(error.message, request_locale(connection))
    return body, language


def request_locale(request: HTTPConnection) -> str:
    """The catalog the client asks for in Accept-Language, else the gateway's default_locale setting."""
    from app.api.state import current_state

    asked = negotiate(request.headers.get("accept-language"))
    if asked:
        return asked
    try:
        return current_state().settings.default_locale
    except VidBenchError:  # no gateway in this process (an app made for its schema only)
        return get_locale()


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path, for the Allow header of a 405."""
    from starlette.routing import compile_path

    from app.api import iter_routes

    path = request.url.path
    root = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
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
        if any(is_prompt_error(e) for e in errors):  # the SDK's rule: the prompt is checked first, INVALID_PROMPT
            return error_response(
                request,
                InvalidPromptError(
                    Message(
                        "Prompt must be a non-empty string of at most {limit} characters with at least one "
                        "non-space character",
                        limit=MAX_PROMPT_CHARS,
                    ),
                    {"errors": errors},
                ),
            )
        error = ValidationError(Message("Request body or parameters are invalid"), {"errors": errors})
        error.http_status = 422
        return error_response(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        error = VidBenchError(HTTP_MESSAGES.get(str(exc.detail), str(exc.detail)), {})
        error.code = HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        error.http_status = exc.status_code
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names only the first matching route's methods
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_response(request, error, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        error = VidBenchError(Message("Internal error: {name}", name=type(exc).__name__), {})
        return error_response(request, error)
