"""Security at the real gateway (Ray Serve, real HTTP): every route guarded, scopes, revocation,
ownership, rate-limit headers (streaming included), body limits, login, WebSocket refusal."""

import json

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from app.api import OPEN_PATHS, iter_routes, make_app

ROUTES = [
    (method, path)
    for path, route in iter_routes(make_app().router)
    if hasattr(route, "methods") and path not in OPEN_PATHS
    for method in sorted(route.methods - {"HEAD"})
]
WEBSOCKETS = [path for path, route in iter_routes(make_app().router) if not hasattr(route, "methods")]


def _concrete(path: str) -> str:
    return path.replace("{", "").replace("}", "")  # /tasks/{task_id} -> /tasks/task_id


@pytest.fixture(scope="module")
def anonymous(gateway):
    with httpx.Client(base_url=gateway, timeout=60) as c:
        yield c


def _key(client, permissions, tier="pro", name="test") -> dict:
    response = client.post("/api/v1/auth/api-keys", json={"name": name, "permissions": permissions, "tier": tier})
    assert response.status_code == 201, response.text
    return response.json()


def test_the_route_table_is_complete():
    assert len(ROUTES) >= 25 and ("POST", "/api/v1/inference/video-generation") in ROUTES
    assert ("GET", "/v1/models") in ROUTES and ("POST", "/v1/inference/video-generation") in ROUTES
    # each socket at the benchmark reference's /ws, the gateway reference's /v1 and our /api/v1
    bases, tails = ("", "/v1", "/api/v1"), ("", "/tasks/{task_id}")
    streams = {f"{base}/streaming/ws/{{stream_id}}" for base in bases}  # the streaming reference's socket
    assert set(WEBSOCKETS) == {f"{base}/ws{tail}" for base in bases for tail in tails} | streams


@pytest.mark.parametrize("method, path", ROUTES)
@pytest.mark.parametrize(
    "credential",
    [None, {"X-API-Key": "vdb_" + "0" * 43}, {"Authorization": "Bearer nope"}],
    ids=["none", "unknown-key", "bad-token"],
)
def test_every_route_refuses_anonymous_calls(anonymous, method, path, credential):
    response = anonymous.request(
        method, _concrete(path), headers=credential or {}, json={} if method in ("POST", "PUT", "PATCH") else None
    )
    assert response.status_code == 401, (method, path, response.text)
    assert response.json()["error"]["code"] == "AUTHENTICATION_FAILED"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docs", "/redoc"])
def test_health_and_docs_stay_open(anonymous, path):
    assert anonymous.get(path).status_code == 200


@pytest.mark.parametrize("path", WEBSOCKETS)
def test_websockets_refuse_anonymous_and_bad_credentials(gateway, path):
    from websockets.sync.client import connect

    url = gateway.replace("http", "ws") + _concrete(path)
    with connect(url, open_timeout=30) as ws:  # no credentials: the first message is not an authenticate one
        ws.send(json.dumps({"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": "b"}))
        assert json.loads(ws.recv(timeout=30))["error"]["code"] == "AUTHENTICATION_FAILED"
        with pytest.raises(ConnectionClosed):  # the server closed the socket after refusing
            ws.recv(timeout=30)
        assert ws.close_code == 1008
    with connect(url, open_timeout=30, additional_headers={"X-API-Key": "vdb_" + "1" * 43}) as ws:
        assert json.loads(ws.recv(timeout=30))["error"]["code"] == "AUTHENTICATION_FAILED"


def test_missing_scope_is_403(gateway, client):
    reader = _key(client, ["models.read"])
    with httpx.Client(base_url=gateway, timeout=60, headers={"X-API-Key": reader["key"]}) as c:
        assert c.get("/api/v1/models").status_code == 200
        for method, path, body in [
            ("POST", "/api/v1/inference/video-generation", {"model": "tiny-t2v", "prompt": "x"}),
            ("POST", "/api/v1/models/download", {"model_name": "m"}),
            ("GET", "/api/v1/benchmarks", None),
            ("GET", "/api/v1/auth/api-keys", None),
            ("POST", "/v1/chat/completions", {"model": "tiny-text", "messages": []}),
            ("GET", "/api/v1/cluster/status", None),
        ]:
            response = c.request(method, path, json=body)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["error"]["code"] == "PERMISSION_DENIED"
    from websockets.sync.client import connect

    with connect(
        gateway.replace("http", "ws") + "/api/v1/ws",
        open_timeout=30,
        additional_headers={"Authorization": f"Bearer {reader['key']}"},
    ) as ws:
        assert json.loads(ws.recv(timeout=30))["error"]["code"] == "PERMISSION_DENIED"


def test_keys_are_listed_without_secrets_and_stop_working_when_revoked(gateway, client):
    created = _key(client, ["models.read"], name="short-lived")
    listed = client.get("/api/v1/auth/api-keys").json()["api_keys"]
    mine = [k for k in listed if k["key_id"] == created["key_id"]]
    assert mine and "key" not in mine[0] and created["key"] not in json.dumps(listed)
    with httpx.Client(base_url=gateway, timeout=60, headers={"X-API-Key": created["key"]}) as c:
        assert c.get("/api/v1/auth/me").json()["id"] == created["key_id"]
        revoked = client.delete(f"/api/v1/auth/api-keys/{created['key_id']}")
        assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
        refused = c.get("/api/v1/models")
        assert refused.status_code == 401 and refused.json()["error"]["details"]["reason"] == "revoked"
    assert client.delete("/api/v1/auth/api-keys/key_missing").status_code == 404
    bad = client.post("/api/v1/auth/api-keys", json={"name": "x", "permissions": ["root"]})
    assert bad.status_code in (400, 422) and bad.json()["error"]["code"] == "INVALID_PARAMETERS"


def test_login_with_json_and_oauth2_form(gateway, client):
    created = client.post(
        "/api/v1/auth/users",
        json={
            "username": "ann@example.com",
            "password": "correct horse battery",
            "permissions": ["models.read", "inference.text"],
        },
    )
    assert created.status_code == 201
    with httpx.Client(base_url=gateway, timeout=60) as c:
        by_json = c.post(
            "/api/v1/auth/login", json={"username": "ann@example.com", "password": "correct horse battery"}
        )
        by_form = c.post(
            "/api/v1/auth/login",
            data={
                "grant_type": "password",
                "username": "ann@example.com",
                "password": "correct horse battery",
                "scope": "models.read",
            },
        )
        wrong = c.post("/api/v1/auth/login", json={"username": "ann@example.com", "password": "nope"})
        assert by_json.status_code == 200 and by_json.json()["token_type"] == "bearer"
        assert by_form.status_code == 200 and by_form.json()["scope"] == "models.read"
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "AUTHENTICATION_FAILED"
        token = by_form.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert c.get("/api/v1/models", headers=headers).status_code == 200
        narrowed = c.post("/v1/completions", headers=headers, json={"model": "tiny-text", "prompt": "x"})
        assert narrowed.status_code == 403  # the form asked for models.read only
    from openai import OpenAI  # the official client with a login token

    assert "tiny-text" in [m.id for m in OpenAI(base_url=gateway + "/v1", api_key=token).models.list()]


def test_rate_limit_headers_on_plain_and_streaming_responses(gateway, client):
    key = _key(client, ["models.read", "inference.text"], tier="free")["key"]
    with httpx.Client(base_url=gateway, timeout=120, headers={"X-API-Key": key}) as c:
        plain = c.get("/api/v1/models")
        assert plain.headers["x-ratelimit-limit"] == "10" and plain.headers["x-ratelimit-remaining"] == "9"
        assert plain.headers["x-ratelimit-window"] == "60" and int(plain.headers["x-ratelimit-reset"]) > 0
        with c.stream(
            "POST",
            "/api/v1/inference/text-generation",
            json={"model": "tiny-text", "prompt": "Hi", "max_tokens": 3, "stream": True},
        ) as streamed:
            assert streamed.headers["content-type"].startswith("text/event-stream")
            assert streamed.headers["x-ratelimit-remaining"] == "8"
            assert any('"done": true' in line for line in streamed.iter_lines())


def test_tasks_belong_to_their_creator(gateway, client):
    alice = _key(client, ["inference.text", "inference.image"], name="alice")["key"]
    bob = _key(client, ["inference.text", "inference.image"], name="bob")["key"]
    with (
        httpx.Client(base_url=gateway, timeout=300, headers={"X-API-Key": alice}) as a,
        httpx.Client(base_url=gateway, timeout=300, headers={"X-API-Key": bob}) as b,
    ):
        image = a.post("/api/v1/inference/image-generation", json={"model": "tiny-t2i", "prompt": "cat", "steps": 1})
        task_id = image.json()["task_id"]
        artifact = image.json()["result"]["images"][0]["url"].split("/api/v1", 1)[1]
        assert a.get(f"/api/v1/tasks/{task_id}").status_code == 200 and a.get(f"/api/v1{artifact}").status_code == 200
        assert b.get(f"/api/v1/tasks/{task_id}").status_code == 404
        assert b.delete(f"/api/v1/tasks/{task_id}").status_code == 404
        assert b.get(f"/api/v1{artifact}").status_code == 404
    assert client.get(f"/api/v1/tasks/{task_id}").status_code == 200  # the admin sees every task


def test_oversized_bodies_are_413_declared_or_streamed(gateway, client, settings):
    too_big = b"{" + b" " * settings.max_body_bytes + b"}"
    declared = client.post("/api/v1/auth/api-keys", content=too_big, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"

    def chunks():  # no Content-Length: the body is counted as it arrives
        yield b"{"
        for _ in range(settings.max_body_bytes // (1 << 20) + 1):
            yield b" " * (1 << 20)
        yield b"}"

    streamed = client.post("/api/v1/auth/api-keys", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
