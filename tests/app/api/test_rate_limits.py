"""Rate limits in-process, with small limits from Settings: the X-RateLimit-* headers on plain and streaming
responses, 429 with Retry-After for the tier, the endpoint group, the concurrency slots and the login."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.config import DEFAULT_TIERS
from app.errors import ServiceUnavailableError
from tests.app.api.support import expect_error
from tests.app.security.tcp_proxy import TcpProxy, free_port
from tests.conftest import redis_url
from tests.helpers import wait_until

TIERS = {name: limits.model_dump() for name, limits in DEFAULT_TIERS.items()}


def test_headers_on_plain_and_streaming_responses(gw):
    key = {"X-API-Key": gw.new_key(["models.read", "inference.text"], tier="free")["key"]}
    plain = gw.http.get("/api/v1/auth/me", headers=key)
    assert plain.headers["x-ratelimit-limit"] == str(DEFAULT_TIERS["free"].per_minute)
    assert plain.headers["x-ratelimit-remaining"] == str(DEFAULT_TIERS["free"].per_minute - 1)
    assert plain.headers["x-ratelimit-window"] == "60" and int(plain.headers["x-ratelimit-reset"]) > 0
    with gw.http.stream(
        "POST",
        "/api/v1/inference/text-generation",
        headers=key,
        json={"model": "tiny-text", "prompt": "Hi", "max_tokens": 3, "stream": True},
    ) as streamed:
        assert streamed.headers["content-type"].startswith("text/event-stream")
        assert streamed.headers["x-ratelimit-remaining"] == str(DEFAULT_TIERS["free"].per_minute - 2)
        assert any('"done": true' in line for line in streamed.iter_lines())


def test_the_tier_quota_then_429_with_retry_after(start_gateway):
    gw = start_gateway(rate_limit_tiers={**TIERS, "free": {"per_minute": 3, "per_hour": 100, "concurrent": 2}})
    key = {"X-API-Key": gw.new_key(["models.read"], tier="free")["key"]}
    assert [gw.http.get("/api/v1/auth/me", headers=key).status_code for _ in range(3)] == [200] * 3
    refused = gw.http.get("/api/v1/auth/me", headers=key)
    error = expect_error(refused, 429, "RATE_LIMIT_EXCEEDED")
    assert error["details"]["limit"] == 3 and error["details"]["scope"] == "tier:free"
    assert 1 <= int(refused.headers["retry-after"]) <= 60 == error["details"]["window"]
    assert refused.headers["x-ratelimit-remaining"] == "0" and refused.headers["x-ratelimit-limit"] == "3"
    assert gw.http.get("/api/v1/auth/me").status_code == 200  # another credential has its own counters


def test_an_endpoint_groups_burst_is_its_own_limit(start_gateway):
    gw = start_gateway(rate_limit_groups={"benchmarks": {"limit": 100, "window_s": 3600, "burst": 2}})
    key = {"X-API-Key": gw.new_key(["benchmark.read", "models.read"])["key"]}
    assert [gw.http.get("/api/v1/benchmarks", headers=key).status_code for _ in range(2)] == [200, 200]
    error = expect_error(gw.http.get("/api/v1/benchmarks", headers=key), 429, "RATE_LIMIT_EXCEEDED")
    assert error["details"]["scope"] == "group:benchmarks:burst"
    assert gw.http.get("/api/v1/models", headers=key).status_code == 200  # other groups are not affected


def test_concurrent_requests_beyond_the_tier_are_429_and_slots_come_back(start_gateway):
    gw = start_gateway(rate_limit_tiers={**TIERS, "free": {"per_minute": 100, "per_hour": 100, "concurrent": 1}})
    created = gw.new_key(["inference.video"], tier="free")
    key = {"X-API-Key": created["key"]}
    body = {"model": "tiny-t2v", "prompt": "held", "num_frames": 2, "num_inference_steps": 1}
    held = {}
    gw.backend.hold()
    sender = threading.Thread(
        target=lambda: held.update(response=gw.http.post("/api/v1/inference/video-generation", json=body, headers=key))
    )
    sender.start()
    wait_until(
        lambda: gw.state.tasks.counts(),
        until=lambda counts: counts.get("running") == 1,
        what="the first request to hold its slot",
    )
    error = expect_error(gw.http.post("/api/v1/inference/video-generation", json=body, headers=key), 429)
    assert error["details"]["scope"] == "tier:free:concurrent"
    gw.backend.release()
    sender.join(30)
    assert held["response"].status_code == 200 and held["response"].json()["status"] == "completed"
    assert gw.http.post("/api/v1/inference/video-generation", json=body, headers=key).status_code == 200


def test_logins_are_limited_per_client_address(start_gateway):
    gw = start_gateway(login_attempts_per_minute=2)
    attempts = [
        gw.anonymous.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong"}) for _ in range(3)
    ]
    assert [a.status_code for a in attempts] == [401, 401, 429]
    assert expect_error(attempts[-1], 429, "RATE_LIMIT_EXCEEDED")["details"]["scope"] == "login"
    assert attempts[0].headers["x-ratelimit-limit"] == "2"


@pytest.mark.parametrize("store", ["memory", "redis"])
def test_requests_refused_by_the_concurrency_cap_spend_no_quota(start_gateway, store):
    """A free key (2 slots, 5 a minute) sends 15 concurrent requests: 2 are served, 13 are 429, and its next
    request is still admitted, because only the 2 served ones were counted."""
    if store == "redis" and redis_url() is None:
        pytest.skip("Redis is not running on localhost:6379")
    gw = start_gateway(
        rate_limit_storage=redis_url() if store == "redis" else "memory://",
        rate_limit_tiers={**TIERS, "free": {"per_minute": 5, "per_hour": 100, "concurrent": 2}},
    )
    key = {"X-API-Key": gw.new_key(["inference.video"], tier="free")["key"]}
    body = {"model": "tiny-t2v", "prompt": "held", "num_frames": 2, "num_inference_steps": 1}
    gw.backend.hold()
    with ThreadPoolExecutor(15) as pool:
        sent = [
            pool.submit(gw.http.post, "/api/v1/inference/video-generation", json=body, headers=key) for _ in range(15)
        ]
        wait_until(
            lambda: sum(future.done() for future in sent),
            until=lambda done: done == 13,
            what="13 requests to be refused while 2 are held",
        )
        gw.backend.release()
        statuses = sorted(future.result().status_code for future in sent)
    assert statuses == [200] * 2 + [429] * 13
    following = gw.http.post("/api/v1/inference/video-generation", json=body, headers=key)
    assert following.status_code == 200 and following.headers["x-ratelimit-remaining"] == str(5 - 3)


def test_a_gateway_refuses_to_start_on_an_unreachable_store(start_gateway):
    with pytest.raises(ServiceUnavailableError, match="VDB_RATE_LIMIT_STORAGE"):
        start_gateway(rate_limit_storage=f"redis://127.0.0.1:{free_port()}/0")


def test_a_store_that_goes_away_is_503_with_retry_after_and_health_says_so(start_gateway):
    if redis_url() is None:
        pytest.skip("Redis is not running on localhost:6379")
    proxy = TcpProxy(("localhost", 6379))
    gw = start_gateway(rate_limit_storage=f"redis://127.0.0.1:{proxy.port}/0")
    assert gw.http.get("/api/v1/auth/me").status_code == 200
    assert gw.anonymous.get("/health").json()["checks"] == {"database": "ok", "rate_limit_store": "ok"}
    proxy.stop()
    refused = gw.http.get("/api/v1/auth/me")
    expect_error(refused, 503, "SERVICE_UNAVAILABLE")
    assert int(refused.headers["retry-after"]) >= 1
    login = gw.anonymous.post("/api/v1/auth/login", json={"username": "nobody", "password": "wrong"})
    expect_error(login, 503, "SERVICE_UNAVAILABLE")
    health = expect_error(gw.anonymous.get("/health"), 503, "SERVICE_UNAVAILABLE")
    assert health["details"]["checks"] == {"database": "ok", "rate_limit_store": "unreachable"}
