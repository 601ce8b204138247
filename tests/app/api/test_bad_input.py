"""Bad input is refused at the edge with the one error body, identically on SQLite and PostgreSQL: unbounded
integers, control characters in paths and queries, NUL and lone surrogates in bodies, free-form JSON too deep or
too large. Each probe here once reached the database or a model and came back as a 500."""

import pytest

from tests.app.api.support import expect_error

NUL_PATHS = [
    "/api/v1/tasks/x%00y",
    "/api/v1/artifacts/x%00y",
    "/api/v1/benchmarks/x%00y",
    "/api/v1/benchmarks/x%00y/results",
    "/api/v1/models/download/x%00y/status",
    "/api/v1/models/x%01y",
    "/api/v1/benchmarks?model_name=a%00b",
    "/api/v1/benchmarks?status=running&model_name=%1F",
    "/api/v1/workers?gpu_type=%00",
]
HUGE_INTEGERS = [
    "/api/v1/benchmarks?page=100000000000000000000",
    "/api/v1/benchmarks?page=2000000",
    "/api/v1/models?offset=99999999999999999999",
    "/api/v1/workers?offset=99999999999999999999",
]


def test_control_characters_in_paths_and_queries_are_400(gw_on_each_database, subtests):
    for path in NUL_PATHS:  # subtests: one gateway for the lot, each probe still reported on its own
        with subtests.test(path=path):
            error = expect_error(gw_on_each_database.http.get(path), 400, "INVALID_PARAMETERS")
            assert error["details"]["location"] in ("path", "query")


def test_control_characters_in_deletes_are_400(gw_on_each_database):
    for path in ("/api/v1/tasks/x%00y", "/api/v1/benchmarks/x%00y", "/api/v1/auth/api-keys/x%00y"):
        expect_error(gw_on_each_database.http.delete(path), 400, "INVALID_PARAMETERS")


def test_integers_beyond_their_range_are_422(gw_on_each_database, subtests):
    for path in HUGE_INTEGERS:
        with subtests.test(path=path):
            expect_error(gw_on_each_database.http.get(path), 422, "INVALID_PARAMETERS")


NUL_BODIES = [
    ("/api/v1/auth/api-keys", {"name": "a\x00b", "permissions": ["models.read"]}),
    (
        "/api/v1/auth/users",
        {"username": "u\x00", "password": "long enough password", "permissions": ["models.read"]},
    ),
    ("/api/v1/inference/text-generation", {"model": "tiny-text", "prompt": "a\x00b"}),
    ("/api/v1/inference/text-generation", {"model": "tiny-text\x00", "prompt": "ab"}),
    ("/api/v1/inference/text-generation", {"model": "tiny-text", "prompt": "ab", "stop_sequences": ["\x00"]}),
    ("/api/v1/benchmarks", {"model_name": "tiny-t2v", "prompts": ["a\x00"]}),
    ("/api/v1/benchmarks", {"model_name": "tiny-t2v", "prompts": ["a"], "metadata": {"k\x00": 1}}),
    ("/api/v1/models/download", {"model_name": "m", "source": "local", "location": "/tmp/\x00"}),
    ("/v1/completions", {"model": "tiny-text", "prompt": "a\x00"}),
]


def test_nul_in_bodies_is_422(gw_on_each_database, subtests):
    for route, body in NUL_BODIES:
        with subtests.test(route=route, body=repr(body)):
            expect_error(gw_on_each_database.http.post(route, json=body), 422, "INVALID_PARAMETERS")


def test_lone_surrogates_are_422(gw_on_each_database):
    raw = b'{"model": "tiny-text", "prompt": "a\\ud800b"}'
    response = gw_on_each_database.http.post(
        "/api/v1/inference/text-generation", content=raw, headers={"content-type": "application/json"}
    )
    expect_error(response, 422, "INVALID_PARAMETERS")


def test_nul_in_logins_is_400(gw_on_each_database, subtests):
    login = "/api/v1/auth/login"
    for body in ({"username": "a\x00", "password": "b"}, {"username": "a", "password": "\x00"}):
        with subtests.test(body=repr(body)):
            expect_error(gw_on_each_database.anonymous.post(login, json=body), 400, "INVALID_PARAMETERS")
            expect_error(gw_on_each_database.anonymous.post(login, data=body), 400, "INVALID_PARAMETERS")


def test_metadata_is_bounded_in_depth_and_size(gw_on_each_database):
    deep: dict = {}
    level = deep
    for _ in range(500):
        level["a"] = level = {}
    body = {"model_name": "tiny-t2v", "prompts": ["a"]}
    error = expect_error(gw_on_each_database.http.post("/api/v1/benchmarks", json={**body, "metadata": deep}), 422)
    assert "deeper than 32" in error["details"]["errors"][0]["msg"]
    large = {"notes": "x" * 70_000}
    error = expect_error(gw_on_each_database.http.post("/api/v1/benchmarks", json={**body, "metadata": large}), 422)
    assert "at most 65536" in error["details"]["errors"][0]["msg"]


def test_bodies_nested_beyond_the_parser_are_400(gw_on_each_database):
    raw = "[" * 100_000 + "]" * 100_000
    response = gw_on_each_database.http.post(
        "/api/v1/benchmarks", content=raw, headers={"content-type": "application/json"}
    )
    expect_error(response, 400, "INVALID_PARAMETERS")


def test_websocket_paths_with_control_characters_are_refused_at_the_handshake(gw_on_each_database):
    from starlette.websockets import WebSocketDisconnect

    http = gw_on_each_database.http
    with pytest.raises(WebSocketDisconnect) as info, http.websocket_connect("/api/v1/ws/tasks/x%00y"):
        pass
    assert info.value.code == 1008


INVALID_HOSTS = [
    "http://exa_mple.com/x.bin",
    "http://a..b/x",
    "http://host:99999/x",
    "http://@/x",
    "http://-a.com/x",
    "http://" + "a" * 64 + ".com/x",
]


def test_download_urls_with_an_invalid_host_are_refused_before_202(gw_on_each_database, subtests):
    for url in INVALID_HOSTS:
        with subtests.test(url=url):
            body = {"model_name": "m1", "source": "http", "location": url}
            response = gw_on_each_database.http.post("/api/v1/models/download", json=body)
            error = expect_error(response, 422, "INVALID_PARAMETERS")
            assert any(e["loc"][-1] == "location" and "pattern" in e["msg"] for e in error["details"]["errors"])


def test_direct_callers_get_the_same_url_rule(gw_on_each_database):
    from app.errors import ValidationError

    with pytest.raises(ValidationError, match="valid host name and port"):
        gw_on_each_database.state.downloads.start("m2", "http", "http://exa_mple.com/x.bin")


def test_other_control_characters_in_bodies_are_stored_alike(gw_on_each_database):
    """Storable on both databases, so accepted: a prompt may hold an escape sequence or a form feed."""
    body = {"model": "tiny-text", "prompt": "a\x1b[0m\x0cb", "max_tokens": 2}
    response = gw_on_each_database.http.post("/api/v1/inference/text-generation", json=body)
    assert response.status_code == 200 and response.json()["status"] == "completed"


def test_the_openapi_document_states_the_parameter_rule(gw_on_each_database):
    from app.api.schemas.base import PARAMETER_PATTERN

    document = gw_on_each_database.http.get("/openapi.json").json()
    (task_id,) = document["paths"]["/api/v1/tasks/{task_id}"]["get"]["parameters"]
    assert task_id["schema"]["pattern"] == PARAMETER_PATTERN
