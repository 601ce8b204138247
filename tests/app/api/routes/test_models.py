"""Model routes in-process, over a stand-in ModelBackend (the Protocol in app/api/backend.py exists for this)."""

import asyncio
from typing import Any

import httpx

from app.api import make_app
from app.api.state import ApiState, install_state


class HealthOnlyBackend:
    """Answers health calls only once ``expected`` of them are in flight, so they overlap for sure."""

    def __init__(self, expected: int):
        self.expected = expected
        self.inflight: dict[str, str] = {}
        self.task_ids: list[str] = []
        self.all_in = asyncio.Event()

    def models(self) -> list[str]:
        return ["tiny-text"]

    async def call(self, model: str, method: str, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        assert task_id not in self.inflight, f"task id {task_id} is already in flight"
        self.inflight[task_id] = model
        self.task_ids.append(task_id)
        if len(self.inflight) == self.expected:
            self.all_in.set()
        try:
            await asyncio.wait_for(self.all_in.wait(), timeout=10)
            return {"status": "healthy", "details": {"model_loaded": True}}
        finally:
            self.inflight.pop(task_id)


def test_concurrent_health_checks_of_one_model_get_their_own_task_ids(settings, admin_key):
    backend = HealthOnlyBackend(expected=2)
    install_state(ApiState.create(settings, backend))

    async def two_checks() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=make_app())
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers={"X-API-Key": admin_key}
        ) as client:
            return await asyncio.gather(*[client.get("/api/v1/models/tiny-text/health") for _ in range(2)])

    responses = asyncio.run(two_checks())
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    assert all(r.json()["status"] == "healthy" for r in responses)
    assert len(set(backend.task_ids)) == 2 and not backend.inflight
