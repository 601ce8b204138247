"""Authentication and permissions in-process: every route guarded, scopes, revocation, logins, ownership,
and the WebSockets' refusals."""

import json

import pytest
from starlette.websockets import WebSocketDisconnect

from app.api import OPEN_PATHS, iter_routes, make_app
from tests.app.api.support import expect_error

ROUTES = [
    (method, path)
    for path, route in iter_routes(make_app().router)
    if hasattr(route, "methods") and path not in OPEN_PATHS
    for method in sorted(route.methods - {"HEAD"})
]


def _concrete(path: str) -> str:
    return path.replace("{", "").replace("}", "")  # /tasks/{task_id} -> /tasks/task_id


def test_the_route_table_is_complete():
    assert len(ROUTES) >= 25 and ("POST", "/api/v1/inference/video-generation") in ROUTES
    assert ("GET", "/v1/models") in ROUTES and ("DELETE", "/api/v1/tasks/{task_id}") in ROUTES


@pytest.mark.parametrize(
    "credential",
    [{}, {"X-API-Key": "vdb_" + "0" * 43}, {"Authorization": "Bearer nope"}],
    ids=["none", "unknown-key", "bad-token"],
)
def test_every_route_refuses_anonymous_calls(gw, credential):
    admitted = []
    for method, path in ROUTES:
        response = gw.anonymous.request(
            method, _concrete(path), headers=credential, json={} if method in ("POST", "PUT", "PATCH") else None
        )
        if response.status_code != 401 or response.json()["error"]["code"] != "AUTHENTICATION_FAILED":
            admitted.append((method, path, response.status_code))
    assert admitted == []
    assert gw.state.tasks.counts() == {}


@pytest.mark.parametrize("path", ["/health", "/openapi.json", "/docs", "/redoc"])
def test_health_and_docs_stay_open(gw, path):
    assert gw.anonymous.get(path).status_code == 200


def test_health_and_the_schema_of_both_apis(gw):
    assert gw.anonymous.get("/health").json()["status"] == "ok"
    paths = gw.anonymous.get("/openapi.json").json()["paths"]
    assert "/api/v1/inference/text-generation" in paths and "/v1/chat/completions" in paths


def test_missing_scope_is_403_everywhere_it_applies(gw):
    reader = {"X-API-Key": gw.new_key(["models.read"])["key"]}
    assert gw.http.get("/api/v1/models", headers=reader).status_code == 200
    for method, path, body in [
        ("POST", "/api/v1/inference/video-generation", {"model": "tiny-t2v", "prompt": "x"}),
        ("POST", "/api/v1/models/download", {"model_name": "m"}),
        ("GET", "/api/v1/benchmarks", None),
        ("GET", "/api/v1/auth/api-keys", None),
        ("POST", "/v1/chat/completions", {"model": "tiny-text", "messages": []}),
        ("GET", "/api/v1/cluster/status", None),
    ]:
        expect_error(gw.http.request(method, path, json=body, headers=reader), 403, "PERMISSION_DENIED")
    assert gw.state.tasks.counts() == {}


def test_keys_are_listed_without_secrets_and_stop_working_when_revoked(gw):
    created = gw.new_key(["models.read"], name="short-lived")
    listed = gw.http.get("/api/v1/auth/api-keys").json()["api_keys"]
    [mine] = [k for k in listed if k["key_id"] == created["key_id"]]
    assert "key" not in mine and created["key"] not in json.dumps(listed) and mine["status"] == "active"
    headers = {"X-API-Key": created["key"]}
    assert gw.http.get("/api/v1/auth/me", headers=headers).json()["id"] == created["key_id"]
    revoked = gw.http.delete(f"/api/v1/auth/api-keys/{created['key_id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    refused = gw.http.get("/api/v1/models", headers=headers)
    assert expect_error(refused, 401, "AUTHENTICATION_FAILED")["details"]["reason"] == "revoked"
    expect_error(gw.http.delete("/api/v1/auth/api-keys/key_missing"), 404, "API_KEY_NOT_FOUND")
    bad = gw.http.post("/api/v1/auth/api-keys", json={"name": "x", "permissions": ["root"]})
    assert expect_error(bad, 422, "INVALID_PARAMETERS")["details"]["errors"][0]["loc"] == ["body", "permissions", 0]


def test_login_with_json_and_oauth2_form(gw):
    password = "correct horse battery"
    created = gw.http.post(
        "/api/v1/auth/users",
        json={"username": "ann@example.com", "password": password, "permissions": ["models.read", "inference.text"]},
    )
    assert created.status_code == 201
    by_json = gw.anonymous.post("/api/v1/auth/login", json={"username": "ann@example.com", "password": password})
    by_form = gw.anonymous.post(
        "/api/v1/auth/login",
        data={"grant_type": "password", "username": "ann@example.com", "password": password, "scope": "models.read"},
    )
    assert by_json.status_code == 200 and by_json.json()["token_type"] == "bearer"
    assert by_json.json()["scope"] == "models.read inference.text"
    assert by_form.status_code == 200 and by_form.json()["scope"] == "models.read"
    wrong = gw.anonymous.post("/api/v1/auth/login", json={"username": "ann@example.com", "password": "nope"})
    expect_error(wrong, 401, "AUTHENTICATION_FAILED")
    expect_error(
        gw.anonymous.post("/api/v1/auth/login", content="ann", headers={"content-type": "text/plain"}),
        400,
        "INVALID_PARAMETERS",
    )
    narrowed = {"Authorization": f"Bearer {by_form.json()['access_token']}"}
    assert gw.anonymous.get("/v1/models", headers=narrowed).status_code == 200
    expect_error(
        gw.anonymous.post("/v1/completions", headers=narrowed, json={"model": "tiny-text", "prompt": "x"}),
        403,
        "PERMISSION_DENIED",
    )  # the form asked for models.read only


def test_tasks_and_artifacts_belong_to_their_creator(gw):
    alice = {"X-API-Key": gw.new_key(["inference.image"], name="alice")["key"]}
    bob = {"X-API-Key": gw.new_key(["inference.image"], name="bob")["key"]}
    image = gw.http.post(
        "/api/v1/inference/image-generation", headers=alice, json={"model": "tiny-t2i", "prompt": "cat", "steps": 1}
    ).json()
    task_path, artifact_url = f"/api/v1/tasks/{image['task_id']}", image["result"]["images"][0]["url"]
    assert gw.http.get(task_path, headers=alice).status_code == 200
    assert gw.http.get(artifact_url, headers=alice).status_code == 200
    expect_error(gw.http.get(task_path, headers=bob), 404, "TASK_NOT_FOUND")
    expect_error(gw.http.delete(task_path, headers=bob), 404, "TASK_NOT_FOUND")
    expect_error(gw.http.get(artifact_url, headers=bob), 404, "ARTIFACT_NOT_FOUND")
    assert gw.http.get(task_path).status_code == 200  # the admin sees every task


@pytest.mark.parametrize("path", ["/api/v1/ws", "/api/v1/ws/tasks/task-1"])
def test_websockets_refuse_anonymous_and_bad_credentials(gw, path):
    with gw.anonymous.websocket_connect(path) as ws:  # no credentials: the first message is not an authenticate one
        ws.send_json({"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": "b"})
        assert ws.receive_json()["error"]["code"] == "AUTHENTICATION_FAILED"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1008
    with gw.anonymous.websocket_connect(path, headers={"X-API-Key": "vdb_" + "1" * 43}) as ws:
        assert ws.receive_json()["error"]["code"] == "AUTHENTICATION_FAILED"


def test_websocket_needs_the_scope_and_accepts_a_first_message_credential(gw):
    reader = gw.new_key(["models.read"])["key"]
    with gw.anonymous.websocket_connect("/api/v1/ws", headers={"Authorization": f"Bearer {reader}"}) as ws:
        assert ws.receive_json()["error"]["code"] == "PERMISSION_DENIED"
    with gw.anonymous.websocket_connect("/api/v1/ws") as ws:
        ws.send_json({"type": "authenticate", "token": gw.admin_key})
        assert ws.receive_json()["type"] == "authenticated"
