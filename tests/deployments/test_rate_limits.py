"""Rate-limit accuracy across gateway instances: two ingress deployments (separate processes, separate
Serve applications) count one key's requests in the machine's Redis, with the reference's default limits."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from app.config import DEFAULT_GROUPS, DEFAULT_TIERS
from tests.conftest import redis_url
from tests.helpers import wait_until

INSTANCES = ("/rl-a", "/rl-b")


@pytest.fixture(scope="module")
def instances(gateway):
    """Two gateway instances sharing Redis, each with its own tiny-t2v replica."""
    if redis_url() is None:
        pytest.skip("Redis is not running on localhost:6379")
    from ray import serve

    from deployments.app import build_app

    settings = {
        "rate_limit_storage": redis_url(),
        "rate_limit_tiers": {k: v.model_dump() for k, v in DEFAULT_TIERS.items()},
        "rate_limit_groups": {k: v.model_dump() for k, v in DEFAULT_GROUPS.items()},
    }
    models = [{"name": "tiny-t2v", "num_cpus": 0.05, "max_ongoing_requests": 4, "max_queued_requests": 8}]
    for prefix in INSTANCES:
        serve.run(
            build_app({"models": models, "settings": settings, "ingress_num_cpus": 0.05}),
            name=prefix.strip("/"),
            route_prefix=prefix,
        )
    yield [gateway + prefix for prefix in INSTANCES]
    for prefix in INSTANCES:
        serve.delete(prefix.strip("/"))


def _key(client, permissions, tier) -> dict:
    response = client.post("/api/v1/auth/api-keys", json={"name": "burst", "permissions": permissions, "tier": tier})
    assert response.status_code == 201
    return response.json()


def test_a_burst_gets_exactly_the_tier_quota_across_instances(instances, client):
    key = _key(client, ["benchmark.read"], "pro")["key"]
    quota = DEFAULT_TIERS["pro"].per_minute
    assert DEFAULT_TIERS["pro"].concurrent > 8  # the 8 parallel senders never meet the concurrency limit
    clients = [httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": key}) for url in instances]
    try:

        def send(i):
            return clients[i % 2].get("/api/v1/auth/me")  # counted by the tier only (no group limit)

        with ThreadPoolExecutor(8) as pool:  # 2 x quota requests, in parallel, alternating instances
            responses = list(pool.map(send, range(2 * quota)))
    finally:
        for c in clients:
            c.close()
    ok = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert len(ok) + len(limited) == len(responses)
    assert abs(len(ok) - quota) <= 1 and len(ok) <= quota  # moving windows never admit more than the quota
    assert {r.url.path.split("/api")[0] for r in ok} == set(INSTANCES)  # both instances served the quota
    for refused in limited:
        body = refused.json()["error"]
        assert body["code"] == "RATE_LIMIT_EXCEEDED" and body["details"]["limit"] == quota
        assert body["details"]["scope"] == "tier:pro"
        assert 1 <= int(refused.headers["retry-after"]) <= 60 == body["details"]["window"]
        assert refused.headers["x-ratelimit-remaining"] == "0"


def test_the_concurrent_limit_holds_across_instances(instances, client, settings):
    from sqlalchemy import select

    from app.storage.database import get_database
    from app.storage.tables import TaskRow

    created = _key(client, ["inference.video"], "free")
    limit = DEFAULT_TIERS["free"].concurrent
    db = get_database(settings.resolved_database_url)
    slow = {
        "model": "tiny-t2v",
        "prompt": "slow",
        "num_frames": 16,
        "num_inference_steps": 400,
        "width": 64,
        "height": 64,
    }
    results = {}

    def generate(i):
        with httpx.Client(base_url=instances[i % 2], timeout=300, headers={"X-API-Key": created["key"]}) as c:
            results[i] = c.post("/api/v1/inference/video-generation", json=slow)

    holders = [threading.Thread(target=generate, args=(i,)) for i in range(limit)]
    for thread in holders:
        thread.start()

    def live_tasks() -> int:
        with db.session() as s:
            return len(
                s.scalars(
                    select(TaskRow).where(TaskRow.owner == created["key_id"], TaskRow.status.in_(["queued", "running"]))
                ).all()
            )

    wait_until(
        live_tasks,
        until=lambda n: n == limit,
        timeout=120,
        what="the held requests to be inside the gateways (their tasks exist)",
    )
    with ThreadPoolExecutor(4) as pool:  # more parallel requests, on both instances, while both slots are held
        extra = list(
            pool.map(
                lambda i: httpx.post(
                    instances[i % 2] + "/api/v1/inference/video-generation",
                    json=slow,
                    headers={"X-API-Key": created["key"]},
                    timeout=60,
                ),
                range(4),
            )
        )
    assert [r.status_code for r in extra] == [429] * 4
    assert {r.json()["error"]["details"]["scope"] for r in extra} == {"tier:free:concurrent"}
    for thread in holders:
        thread.join(300)
    assert [results[i].status_code for i in range(limit)] == [200] * limit
    with httpx.Client(base_url=instances[1], timeout=300, headers={"X-API-Key": created["key"]}) as c:
        again = c.post("/api/v1/inference/video-generation", json={**slow, "num_inference_steps": 1})
    assert again.status_code == 200  # the slots were given back when the responses ended
