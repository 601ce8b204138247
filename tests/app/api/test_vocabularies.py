"""Vocabularies checked at start-up (rate-limit groups) and WebSocket messages refused in the one error shape,
in-process: make_app over a fake model backend, no Ray."""

import json

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from app.api import make_app, refuse_unconfigured_groups
from app.api.deps import requires
from app.api.state import ApiState, install_state
from app.config import GroupLimits, Settings
from app.errors import ValidationError


class NoModels:
    """A ModelBackend with nothing deployed: these tests never reach a model."""

    def models(self) -> list[str]:
        return []

    async def call(self, model, method, task_id, payload):
        raise AssertionError("no model call expected")

    def stream(self, model, method, task_id, payload):
        raise AssertionError("no model call expected")

    def cancel(self, task_id: str) -> bool:
        return False

    def cluster_state(self) -> dict:
        return {"nodes": [], "resources": {}, "deployments": {}}


@pytest.fixture
def gateway(tmp_path):
    """(client, admin key) of an in-process gateway on its own data directory."""
    state = ApiState.create(Settings(data_dir=tmp_path), NoModels())
    install_state(state)
    _, key = state.auth.keys.create("test", ["admin"], "enterprise")
    with TestClient(make_app(state.settings)) as client:
        yield client, key


def test_make_app_refuses_a_group_that_is_neither_limited_nor_declared_unlimited():
    settings = Settings(rate_limit_unlimited_groups=["auth", "tasks"])  # inference forgotten
    with pytest.raises(ValidationError) as info:
        make_app(settings)
    assert "inference" in info.value.message
    assert "/api/v1/inference/text-generation" in info.value.details["groups"]["inference"]


def test_a_route_naming_an_unknown_group_is_refused_with_its_name():
    router = APIRouter()

    @router.get("/typo", dependencies=[requires("models.read", "modles")])
    def typo() -> dict:
        return {}

    api = FastAPI()
    api.include_router(router)
    with pytest.raises(ValidationError) as info:
        refuse_unconfigured_groups(api, Settings())
    assert "modles" in info.value.message and info.value.details["groups"] == {"modles": ["/typo"]}


def test_every_group_in_use_is_configured_by_default():
    make_app(Settings())  # the defaults limit or deliberately leave unlimited every group a route names


def test_a_group_cannot_be_both_limited_and_unlimited():
    with pytest.raises(ValueError, match="both limited"):
        Settings(rate_limit_groups={"tasks": GroupLimits(limit=5, burst=1)})


def test_unknown_tier_names_are_refused_in_settings():
    tiers = {name: {"per_minute": 1, "per_hour": 1, "concurrent": 1} for name in ("free", "pro", "premium")}
    with pytest.raises(ValueError, match="premium"):
        Settings(rate_limit_tiers=tiers)


def _assert_error(message: dict, code: str) -> dict:
    assert message["type"] == "error"
    error = message["error"]
    assert set(error) == {"code", "message", "details", "request_id", "timestamp"} and error["code"] == code
    return error


BAD_MESSAGES = [
    ("[1, 2]", "not_an_object"),
    ("not json", "not_json"),
    ('"subscribe"', "not_an_object"),
    (json.dumps({"type": "subscribe", "channel": "benchmark_updates"}), "benchmark_id"),
    (json.dumps({"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": 7}), "benchmark_id"),
    (json.dumps({"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": ""}), "benchmark_id"),
    (json.dumps({"type": "unsubscribe"}), "benchmark_id"),
    (json.dumps({"type": "subscribe", "channel": "gossip", "benchmark_id": "b"}), "channel"),
    (json.dumps({"type": "dance"}), "type"),
    (json.dumps({"channel": "benchmark_updates"}), "type"),
]


def test_bad_benchmark_socket_messages_get_an_error_and_the_socket_stays_open(gateway):
    client, key = gateway
    with client.websocket_connect("/api/v1/ws", headers={"X-API-Key": key}) as ws:
        for text, problem in BAD_MESSAGES:
            ws.send_text(text)
            error = _assert_error(ws.receive_json(), "INVALID_PARAMETERS")
            assert problem in json.dumps(error["details"]), (text, error)
        ws.send_bytes(b"\xff\xfe")
        _assert_error(ws.receive_json(), "INVALID_PARAMETERS")
        ws.send_json({"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": "bm-missing"})
        assert ws.receive_json() == {"type": "subscribed", "benchmark_id": "bm-missing"}  # still served
        assert ws.receive_json()["type"] == "benchmark_error"


def test_refusals_and_task_errors_use_the_one_error_shape(gateway):
    client, key = gateway
    with client.websocket_connect("/api/v1/ws") as ws:
        ws.send_text("[]")  # a first message that is not an authenticate one
        _assert_error(ws.receive_json(), "AUTHENTICATION_FAILED")
    with client.websocket_connect("/api/v1/ws/tasks/task-missing", headers={"X-API-Key": key}) as ws:
        message = ws.receive_json()
        assert message["task_id"] == "task-missing"
        _assert_error(message, "TASK_NOT_FOUND")
