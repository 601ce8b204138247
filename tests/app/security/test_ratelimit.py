"""Rate limits and concurrency slots, on memory storage and on the machine's Redis."""

import threading
import uuid

import pytest

from app.config import GroupLimits, Settings, TierLimits
from app.errors import RateLimitExceededError, ServiceUnavailableError
from app.security.auth import Principal
from app.security.ratelimit import RateLimiter
from tests.app.security.tcp_proxy import TcpProxy, free_port
from tests.conftest import redis_url


@pytest.fixture(params=["memory", "redis"])
def storage(request) -> str:
    if request.param == "redis":
        if redis_url() is None:
            pytest.skip("Redis is not running on localhost:6379")
        return redis_url()
    return "memory://"


def _limiter(tmp_path, storage, **limits) -> RateLimiter:
    tiers = {
        "free": TierLimits(per_minute=5, per_hour=8, concurrent=2),
        "pro": TierLimits(per_minute=50, per_hour=500, concurrent=10),
        "enterprise": TierLimits(per_minute=500, per_hour=5000, concurrent=50),
    }
    groups = {"benchmarks": GroupLimits(limit=6, window_s=3600, burst=3)}
    return RateLimiter(
        Settings(
            data_dir=tmp_path, rate_limit_storage=storage, rate_limit_tiers=tiers, rate_limit_groups=groups, **limits
        )
    )


def _who(tier="free") -> Principal:
    return Principal(id=f"key_{uuid.uuid4().hex[:12]}", kind="api_key", name="t", scopes=("admin",), tier=tier)


def _count_allowed(limiter, principal, group, attempts):
    allowed, refusals = 0, []
    for _ in range(attempts):
        try:
            limiter.hit(principal, group)
            allowed += 1
        except RateLimitExceededError as error:
            refusals.append(error)
    return allowed, refusals


def test_tier_quota_is_exact_and_refusals_say_when_to_retry(tmp_path, storage):
    limiter = _limiter(tmp_path, storage)
    principal = _who()
    first = limiter.hit(principal, None)
    assert (first.limit, first.remaining, first.window_s) == (5, 4, 60)
    allowed, refusals = _count_allowed(limiter, principal, None, 10)
    assert allowed == 4 and len(refusals) == 10 - 4
    details = refusals[0].details
    assert details["limit"] == 5 and details["remaining"] == 0 and 1 <= details["retry_after"] <= 60
    assert details["reset_at"].endswith("+00:00") and refusals[0].http_status == 429
    assert _count_allowed(limiter, _who(), None, 3)[0] == 3  # another key has its own counters


def test_group_burst_applies_on_top_of_the_tier(tmp_path, storage):
    limiter = _limiter(tmp_path, storage)
    principal = _who("pro")
    allowed, refusals = _count_allowed(limiter, principal, "benchmarks", 5)
    assert allowed == 3 and refusals[0].details["scope"] == "group:benchmarks:burst"
    assert limiter.hit(principal, "tasks").limit == 50  # a group unlimited on purpose only meets the tier's limits


def test_a_group_without_configuration_is_an_error_not_unlimited(tmp_path):
    from app.errors import VidBenchError

    limiter = _limiter(tmp_path, "memory://")
    with pytest.raises(VidBenchError) as info:
        limiter.hit(_who(), "modles")  # neither limited nor declared unlimited
    assert info.value.details == {"group": "modles"}


def test_refused_requests_spend_no_quota(tmp_path, storage):
    limiter = _limiter(tmp_path, storage)
    principal = _who("pro")
    _count_allowed(limiter, principal, "benchmarks", 10)  # 3 allowed, 7 refused by the burst
    window = limiter.hit(principal, None)  # the tier counted only the 3 that were let through
    assert window.remaining == 50 - 4


def test_concurrency_slots(tmp_path, storage):
    limiter = _limiter(tmp_path, storage)
    principal = _who()
    slots = [limiter.acquire_slot(principal), limiter.acquire_slot(principal)]
    with pytest.raises(RateLimitExceededError) as info:
        limiter.acquire_slot(principal)
    assert info.value.details["scope"] == "tier:free:concurrent" and info.value.details["limit"] == 2
    limiter.release_slot(slots.pop())
    slots.append(limiter.acquire_slot(principal))  # a released slot can be taken again
    for slot in slots:
        limiter.release_slot(slot)
    limiter.release_slot(slots[0])  # a stray release never pushes the counter below zero
    assert [limiter.acquire_slot(principal) for _ in range(2)]
    with pytest.raises(RateLimitExceededError):
        limiter.acquire_slot(principal)


def test_login_attempts_are_limited_per_address(tmp_path, storage):
    limiter = _limiter(tmp_path, storage, login_attempts_per_minute=3)
    address = f"10.0.0.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"
    for _ in range(3):
        limiter.hit_login(address)
    with pytest.raises(RateLimitExceededError):
        limiter.hit_login(address)
    limiter.hit_login(address + "-other")


def test_unusable_storage_is_a_clear_error(tmp_path):
    from app.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        RateLimiter(Settings(data_dir=tmp_path, rate_limit_storage="nosuch://x"))
    assert "VDB_RATE_LIMIT_STORAGE" in info.value.message


def test_a_request_refused_by_the_concurrency_cap_spends_no_quota(tmp_path, storage):
    """15 concurrent admissions of a free key (2 slots, 5 a minute): exactly the admitted ones are counted."""
    limiter = _limiter(tmp_path, storage)
    principal = _who()
    start, outcomes = threading.Barrier(15), []

    def admit():
        start.wait()
        try:
            outcomes.append(limiter.admit(principal, None)[0])
        except RateLimitExceededError as error:
            outcomes.append(error)

    threads = [threading.Thread(target=admit) for _ in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    admitted = [slot for slot in outcomes if isinstance(slot, str)]
    assert len(outcomes) == 15 and len(admitted) == 2
    for slot in admitted:
        limiter.release_slot(slot)
    slot, window = limiter.admit(principal, None)  # the 13 refusals left the per-minute quota untouched
    assert window.remaining == 5 - 3
    limiter.release_slot(slot)


def test_a_request_refused_by_its_quota_gives_its_slot_back(tmp_path, storage):
    limiter = _limiter(tmp_path, storage)
    principal = _who()
    for _ in range(5):
        limiter.release_slot(limiter.admit(principal, None)[0])
    for _ in range(3):  # refused by the tier quota: no slot stays taken
        with pytest.raises(RateLimitExceededError):
            limiter.admit(principal, None)
    assert [limiter.acquire_slot(principal) for _ in range(2)]


def test_concurrent_hits_never_spend_more_than_they_admit(tmp_path, storage):
    """Test-then-hit of the tier and the group counters is one step: the tier counts exactly the admitted hits."""
    limiter = _limiter(tmp_path, storage)
    principal = _who("pro")
    start, admitted = threading.Barrier(12), []

    def hit():
        start.wait()
        try:
            limiter.hit(principal, "benchmarks")
            admitted.append(1)
        except RateLimitExceededError:
            pass

    threads = [threading.Thread(target=hit) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(admitted) == 3  # the group's burst
    assert limiter.hit(principal, None).remaining == 50 - 4


def test_an_unreachable_store_refuses_to_start(tmp_path):
    with pytest.raises(ServiceUnavailableError) as info:
        RateLimiter(Settings(data_dir=tmp_path, rate_limit_storage=f"redis://:secret@127.0.0.1:{free_port()}/0"))
    assert "VDB_RATE_LIMIT_STORAGE" in info.value.message and "unreachable" in info.value.message
    assert "secret" not in info.value.message


def test_a_store_that_goes_away_fails_closed_with_503(tmp_path):
    if redis_url() is None:
        pytest.skip("Redis is not running on localhost:6379")
    proxy = TcpProxy(("localhost", 6379))
    limiter = _limiter(tmp_path, f"redis://127.0.0.1:{proxy.port}/0")
    principal = _who()
    limiter.release_slot(limiter.admit(principal, None)[0])
    proxy.stop()
    assert not limiter.reachable()
    with pytest.raises(ServiceUnavailableError) as info:
        limiter.admit(principal, None)
    assert info.value.http_status == 503 and info.value.retry_after_s >= 1
    with pytest.raises(ServiceUnavailableError):
        limiter.hit_login("10.0.0.1")
    limiter.release_slot("vdb/concurrent/nobody")  # after the response: logged, not raised
