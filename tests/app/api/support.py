"""What the in-process API tests share: the gateway under test and the one error body's check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi.testclient import TestClient

from app.api.state import ApiState
from tests.app.api.fake_backend import FakeBackend

ERROR_FIELDS = {"code", "message", "details", "request_id", "timestamp"}


@dataclass
class InProcessGateway:
    http: TestClient  # sends the first-start admin key unless a request names other credentials
    anonymous: TestClient  # sends no credentials
    state: ApiState
    backend: FakeBackend
    admin_key: str

    def new_key(self, permissions: list[str], tier: str = "pro", name: str = "test") -> dict:
        """A key created through the API, as an administrator would create it."""
        response = self.http.post(
            "/api/v1/auth/api-keys", json={"name": name, "permissions": permissions, "tier": tier}
        )
        assert response.status_code == 201, response.text
        return response.json()


def expect_error(response, status: int, code: str | None = None) -> dict:
    """Assert the uniform error body {"error": {code, message, details, request_id, timestamp}}; return it."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == ERROR_FIELDS, body
    error = body["error"]
    assert error["message"] and isinstance(error["details"], dict)
    assert datetime.fromisoformat(error["timestamp"]).tzinfo is not None
    if code is not None:
        assert error["code"] == code, error
    return error
