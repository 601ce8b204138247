"""Property-based: arbitrary JSON in every request schema's fields, arbitrary strings in every path and query
parameter, arbitrary WebSocket messages. No response is a 5xx, every error has the one error body, and a socket
that received a bad message still answers. Few examples on SQLite in the fast tier; the ``slow``-marked run throws
many more, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.config import DEFAULT_GROUPS, DEFAULT_TIERS
from tests.app.api.support import ERROR_FIELDS

FAST_EXAMPLES, SLOW_EXAMPLES = 10, 60  # per operation; the slow run (about 2 minutes) finds each known class
SKIPPED_PATHS = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
BASE_BODIES = {  # bodies that pass validation, so a field's mutation reaches the code behind the schema
    "/api/v1/auth/api-keys": {"name": "fuzz", "permissions": ["models.read"]},
    "/api/v1/auth/users": {"username": "fuzz", "password": "a long enough password", "permissions": ["models.read"]},
    "/api/v1/auth/login": {"username": "fuzz", "password": "wrong"},
    "/api/v1/inference/text-generation": {"model": "tiny-text", "prompt": "hello", "max_tokens": 2},
    "/api/v1/inference/image-generation": {"model": "tiny-t2i", "prompt": "a square"},
    "/api/v1/inference/text-to-speech": {"model": "tiny-tts", "text": "hello"},
    "/api/v1/inference/video-generation": {
        "model": "tiny-t2v",
        "prompt": "a square",
        "num_frames": 2,
        "num_inference_steps": 1,
    },
    # an unknown model: the benchmark is refused before a runner (and Ray) would start
    "/api/v1/benchmarks": {"model_name": "no-such-model", "prompts": ["a square"]},
    "/api/v1/streaming/benchmarks": {"model_name": "no-such-model", "prompts": ["a square"]},  # refused likewise
    # a local source outside the allowed roots: refused before a download thread would start
    "/api/v1/models/download": {"model_name": "fuzz", "source": "local", "location": "/nowhere"},
    # an unknown model: the federated session is refused before anything is stored
    "/api/v1/federated/sessions": {
        "session_id": "fuzz",
        "participants": ["a"],
        "benchmark_spec": {"models": ["no-such-model"], "prompts": ["a square"]},
    },
    "/v1/completions": {"model": "tiny-text", "prompt": "hello", "max_tokens": 2},
    "/v1/chat/completions": {"model": "tiny-text", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2},
    "/v1/images/generations": {"model": "tiny-t2i", "prompt": "a square"},
    "/v1/audio/speech": {"model": "tiny-tts", "input": "hello"},
}
DANGEROUS = [
    "\x00",
    "a\x00b",
    "\x1b[0m",
    "\U0001f600",
    "1e400",
    "NaN",
    "2147483648",
    "9223372036854775808",
    "100000000000000000000",
    "x" * 3000,
]
"""Strings of the classes that once reached a database or a model unchecked (NUL, controls, emoji only, numbers
past 32 and 64 bits, oversize), drawn often besides arbitrary text."""
NASTY_TEXT = st.one_of(
    st.sampled_from(DANGEROUS),
    st.sampled_from(DANGEROUS),
    st.integers().map(str),
    st.text(st.characters(max_codepoint=0x7F), max_size=12),
    st.text(max_size=30),
)
NUMBERS = st.integers() | st.sampled_from([2**31, 2**63, 10**20, -(2**63) - 1]) | st.floats()
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | NUMBERS | NASTY_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NASTY_TEXT, inner, max_size=3),
    max_leaves=8,
)
BIG = {"per_minute": 10**6, "per_hour": 10**7, "concurrent": 1000}


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _fields(spec: dict, schema: dict) -> list[str]:
    """Property names of a body schema, through $ref and unions."""
    schema = _resolve(spec, schema)
    names = list(schema.get("properties", {}))
    for variant in schema.get("anyOf", []) + schema.get("oneOf", []):
        names += _fields(spec, variant)
    return sorted(set(names))


def _operations(spec: dict) -> list[dict]:
    operations = []
    for path, methods in spec["paths"].items():
        if path in SKIPPED_PATHS:
            continue
        for method, operation in methods.items():
            parameters = operation.get("parameters", [])
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            operations.append(
                {
                    "path": path,
                    "method": method.upper(),
                    "path_params": [p["name"] for p in parameters if p["in"] == "path"],
                    "query_params": [p["name"] for p in parameters if p["in"] == "query"],
                    "fields": _fields(spec, body) if body else [],
                }
            )
    return operations


@pytest.fixture
def fuzzed(database_url, start_gateway):
    """(client that reports 5xx instead of raising, the operations) on a gateway whose limits stay out of the way."""
    overrides = {
        "rate_limit_tiers": {name: BIG for name in DEFAULT_TIERS},
        "rate_limit_groups": {name: {"limit": 10**6, "window_s": 60, "burst": 10**6} for name in DEFAULT_GROUPS},
        "login_attempts_per_minute": 10**6,
    }
    gw = start_gateway(**overrides, **({"database_url": database_url} if database_url else {}))
    client = TestClient(gw.http.app, headers={"X-API-Key": gw.admin_key}, raise_server_exceptions=False)
    return client, _operations(gw.http.app.openapi())


def _assert_handled(response) -> None:
    assert response.status_code < 500, (response.request.method, response.request.url, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == ERROR_FIELDS, body


def _run(examples: int, strategy, check) -> None:
    given(strategy)(
        settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))(check)
    )()


def _bodies(client, operations, examples: int) -> None:
    """``examples`` mutations of one or two fields of each operation's body."""
    for operation in [op for op in operations if op["fields"]]:
        _run(examples, _mutated_body(operation), _sender(client, operation))


@st.composite
def _mutated_body(draw, operation: dict) -> tuple[str, dict]:
    body = dict(BASE_BODIES.get(operation["path"], {}))
    for field in draw(st.lists(st.sampled_from(operation["fields"]), min_size=1, max_size=2, unique=True)):
        body[field] = draw(JSON_VALUES)
    return operation["path"].replace("{", "").replace("}", ""), {}, body  # a literal id for a path parameter


def _paths_and_queries(client, operations, examples: int) -> None:
    """``examples`` requests to each operation with arbitrary strings in its path and query parameters."""
    for operation in [op for op in operations if op["path_params"] or op["query_params"]]:
        _run(examples, _mutated_target(operation), _sender(client, operation))


@st.composite
def _mutated_target(draw, operation: dict) -> tuple[str, dict, dict | None]:
    """One or two parameters arbitrary, the others absent (or, in the path, a plain id): a value is not hidden
    behind another parameter's refusal."""
    names = draw(
        st.lists(
            st.sampled_from(operation["path_params"] + operation["query_params"]), min_size=1, max_size=2, unique=True
        )
    )
    path = operation["path"]
    for name in operation["path_params"]:
        path = path.replace("{" + name + "}", quote(draw(NASTY_TEXT) if name in names else "x", safe=""))
    query = {name: draw(NASTY_TEXT) for name in operation["query_params"] if name in names}
    return path, query, BASE_BODIES.get(operation["path"])


def _sender(client, operation: dict):
    def send(request: tuple[str, dict, dict | None]) -> None:
        path, query, body = request
        _assert_handled(
            client.request(
                operation["method"],
                path,
                params=query,
                content=json.dumps(body),
                headers={"content-type": "application/json"},
            )
        )

    return send


def _socket_messages(client, examples: int) -> None:
    messages = st.one_of(
        NASTY_TEXT,
        JSON_VALUES.map(json.dumps),
        st.fixed_dictionaries(
            {
                "type": st.sampled_from(["subscribe", "unsubscribe", "authenticate"]),
                "channel": st.just("benchmark_updates"),
                "benchmark_id": JSON_VALUES,
            }
        ).map(json.dumps),
    )

    def check(message):
        with client.websocket_connect("/api/v1/ws") as socket:
            socket.send_text(message)
            socket.send_json({"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": "probe"})
            for _ in range(10):  # the probe's answer proves the socket survived the message
                reply = socket.receive_json()
                if reply["type"] == "error":
                    assert set(reply) == {"type", "error"} and set(reply["error"]) == ERROR_FIELDS, reply
                if reply == {"type": "subscribed", "benchmark_id": "probe"}:
                    break
            else:
                pytest.fail(f"no answer to the probe after {message!r}")

    _run(examples, messages, check)


# The fast tier fuzzes SQLite only; the slow run below throws its many more examples at both databases.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@SQLITE_ONLY
def test_no_body_field_value_is_a_5xx(fuzzed):
    _bodies(*fuzzed, FAST_EXAMPLES)


@SQLITE_ONLY
def test_no_path_or_query_string_is_a_5xx(fuzzed):
    _paths_and_queries(*fuzzed, FAST_EXAMPLES)


@SQLITE_ONLY
def test_no_websocket_message_drops_the_socket(fuzzed):
    _socket_messages(fuzzed[0], 3 * FAST_EXAMPLES)


@pytest.mark.slow
@pytest.mark.nightly  # about a minute: the fast examples above run in every tier
def test_many_more_examples(fuzzed):
    _bodies(*fuzzed, SLOW_EXAMPLES)
    _paths_and_queries(*fuzzed, SLOW_EXAMPLES)
    _socket_messages(fuzzed[0], 3 * SLOW_EXAMPLES)
