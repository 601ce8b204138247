"""Tiered rate limits, endpoint-group limits and concurrency slots, counted by the `limits` library.

Every request of a credential is counted against its tier (per minute and per
hour) and against its endpoint group's limit and burst, unless the settings
declare that group unlimited. A group that is neither is refused: ``make_app``
checks every route's group with :func:`configured_groups` at start-up, so none
goes unlimited by a typo. Counters use moving windows, so a burst can never get
more than the quota of any window, and live in the storage named by
``VDB_RATE_LIMIT_STORAGE``: in memory for one ingress replica, Redis for several.

A request refused for any reason spends no quota: every counter is tested
before any is hit, under a lock per credential (a Redis lock when the counters
are in Redis), and the route takes its concurrency slot before counting. The
store is checked when the limiter is built; if it goes away later the limiter
fails closed with ServiceUnavailableError (503, Retry-After), never a 500.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import cast

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from app.config import GroupLimits, Settings, TierLimits
from app.errors import RateLimitExceededError, ServiceUnavailableError, ValidationError, VidBenchError
from app.security.auth import Principal

NAMESPACE = "vdb"
STORE_TIMEOUT_S = 2.0  # a Redis that does not answer within this is treated as away
STORE_RETRY_AFTER_S = 5
log = logging.getLogger("vid_bench")


def _redacted(uri: str) -> str:
    """The storage URI without a password, for messages and /health."""
    scheme, sep, rest = uri.partition("://")
    return f"{scheme}{sep}***@{rest.rsplit('@', 1)[1]}" if "@" in rest else uri


def _store_errors() -> tuple[type[BaseException], ...]:
    """What a store going away raises: limits' wrapped StorageError, and redis' own errors from the lock."""
    try:
        from redis.exceptions import RedisError
    except ImportError:  # pragma: no cover - redis is a dependency
        return StorageError, OSError
    return StorageError, RedisError, OSError


def configured_groups(settings: Settings) -> dict[str, GroupLimits | None]:
    """Every endpoint group the settings know: its limits, or None where it is unlimited on purpose."""
    return {**{group: None for group in settings.rate_limit_unlimited_groups}, **settings.rate_limit_groups}


@dataclass(frozen=True)
class Window:
    """One limit as the client sees it in the X-RateLimit-* headers."""

    limit: int
    remaining: int
    reset: float  # epoch seconds when the oldest counted request leaves the window
    window_s: int
    scope: str

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(math.ceil(self.reset)),
            "X-RateLimit-Window": str(self.window_s),
        }

    def exceeded(self) -> RateLimitExceededError:
        retry_after = max(1, math.ceil(self.reset - time.time()))
        reset_at = datetime.fromtimestamp(math.ceil(self.reset), UTC).isoformat()
        error = RateLimitExceededError(self.limit, self.remaining, reset_at, retry_after, self.window_s, self.scope)
        error.window = self
        return error


class RateLimiter:
    def __init__(self, settings: Settings):
        """Refuses to build (ServiceUnavailableError) when the store does not answer: a gateway that cannot count
        must not start."""
        uri = settings.rate_limit_storage
        self.store_name = _redacted(uri)
        options = (
            {"socket_connect_timeout": STORE_TIMEOUT_S, "socket_timeout": STORE_TIMEOUT_S}
            if uri.split(":", 1)[0].startswith(("redis", "rediss", "valkey"))
            else {}
        )
        try:
            storage = storage_from_string(uri, wrap_exceptions=True, **options)
        except Exception as error:  # noqa: BLE001 - limits raises several types for bad URIs
            raise ValidationError(
                f"VDB_RATE_LIMIT_STORAGE is not usable: {error}", {"rate_limit_storage": self.store_name}
            ) from None
        if not isinstance(storage, Storage):  # an async+ scheme: its methods return coroutines, never awaited here
            raise ValidationError(
                "VDB_RATE_LIMIT_STORAGE must be a synchronous storage (no async+ scheme)",
                {"rate_limit_storage": self.store_name},
            )
        self.storage: Storage = storage
        if not self.reachable():
            raise ServiceUnavailableError(
                f"VDB_RATE_LIMIT_STORAGE {self.store_name} is unreachable: start it, or point the setting at a "
                "store that answers (memory:// for a single ingress replica)",
                {"rate_limit_storage": self.store_name},
            )
        self._store_errors = _store_errors()
        self._local_lock = threading.Lock()
        self.strategy = MovingWindowRateLimiter(self.storage)
        # keyed by Tier; a principal's tier is a str from the credential store, checked by check_tier when made
        self.tiers = cast(dict[str, TierLimits], settings.rate_limit_tiers)
        self.groups = configured_groups(settings)
        self.login_item = RateLimitItemPerMinute(settings.login_attempts_per_minute)
        self.slot_ttl_s = settings.concurrency_slot_ttl_s

    def reachable(self) -> bool:
        """Whether the store answers now (for start-up and /health)."""
        try:
            return bool(self.storage.check())
        except Exception:  # noqa: BLE001 - any failure to answer is "unreachable"
            return False

    @contextmanager
    def _store(self):
        """Translate a store that went away into a typed 503: fail closed, never admit uncounted requests."""
        try:
            yield
        except self._store_errors as error:
            log.warning("Rate-limit store %s unreachable: %s", self.store_name, error)
            raise ServiceUnavailableError(
                f"The rate-limit store is unreachable; retry in {STORE_RETRY_AFTER_S}s",
                {"rate_limit_storage": self.store_name},
                retry_after_s=STORE_RETRY_AFTER_S,
            ) from None

    @contextmanager
    def _exclusive(self, principal_id: str):
        """Test-then-hit of one credential's counters as one step: in this process, and across replicas through
        a short Redis lock when the counters live in Redis."""
        client = getattr(self.storage, "storage", None)
        with self._local_lock:
            if client is None or not hasattr(client, "lock"):
                yield
                return
            with client.lock(
                f"{NAMESPACE}/lock/{principal_id}", timeout=STORE_TIMEOUT_S * 5, blocking_timeout=STORE_TIMEOUT_S * 5
            ):
                yield

    def _limits(self, principal: Principal, group: str | None) -> list[tuple[RateLimitItem, tuple[str, ...], str]]:
        tier = self.tiers[principal.tier]
        tier_ids, tier_label = (NAMESPACE, principal.id, "tier"), f"tier:{principal.tier}"
        limits: list[tuple[RateLimitItem, tuple[str, ...], str]] = [
            (RateLimitItemPerMinute(tier.per_minute), tier_ids, tier_label),
            (RateLimitItemPerHour(tier.per_hour), tier_ids, tier_label),
        ]
        if group is not None and group not in self.groups:  # make_app refuses such a route: this is a bug
            raise VidBenchError(f"Endpoint group '{group}' has no rate-limit configuration", {"group": group})
        spec = self.groups[group] if group is not None else None
        if group is not None and spec is not None:
            ids = (NAMESPACE, principal.id, "group", group)
            limits.append((RateLimitItemPerSecond(spec.limit, spec.window_s), ids, f"group:{group}"))
            limits.append((RateLimitItemPerMinute(spec.burst), ids + ("burst",), f"group:{group}:burst"))
        return limits

    def _window(self, item: RateLimitItem, ids: tuple[str, ...], label: str) -> Window:
        stats = self.strategy.get_window_stats(item, *ids)
        return Window(
            limit=item.amount,
            remaining=max(0, stats.remaining),
            reset=stats.reset_time,
            window_s=item.get_expiry(),
            scope=label,
        )

    def hit(self, principal: Principal, group: str | None) -> Window:
        """Count one request (``group=None``: the tier only); the tightest window for the headers, or
        RateLimitExceededError."""
        limits = self._limits(principal, group)
        with self._store(), self._exclusive(principal.id):
            for item, ids, label in limits:  # refuse without spending any counter when one is already full
                if not self.strategy.test(item, *ids):
                    raise self._window(item, ids, label).exceeded()
            for item, ids, label in limits:  # all passed under the lock: each hit is admitted
                if not self.strategy.hit(item, *ids):
                    raise self._window(item, ids, label).exceeded()
            return min((self._window(*limit) for limit in limits), key=lambda w: (w.remaining, -w.window_s))

    def hit_login(self, address: str) -> Window:
        ids = (NAMESPACE, "login", address)
        with self._store():
            if not self.strategy.hit(self.login_item, *ids):
                raise self._window(self.login_item, ids, "login").exceeded()
            return self._window(self.login_item, ids, "login")

    # -- concurrency ------------------------------------------------------------------------------
    def _slot_key(self, principal_id: str) -> str:
        return f"{NAMESPACE}/concurrent/{principal_id}"

    def acquire_slot(self, principal: Principal) -> str:
        """Take one of the tier's concurrent slots (released by the middleware when the response ends)."""
        limit = self.tiers[principal.tier].concurrent
        key = self._slot_key(principal.id)
        with self._store():
            in_flight = self.storage.incr(key, self.slot_ttl_s, 1)
            if in_flight > limit:
                self.storage.incr(key, self.slot_ttl_s, -1)
                raise Window(
                    limit=limit,
                    remaining=0,
                    reset=time.time() + 1,
                    window_s=0,
                    scope=f"tier:{principal.tier}:concurrent",
                ).exceeded()
        return key

    def release_slot(self, key: str) -> None:
        """Give a slot back; with the store away the response is already sent, and the counter's TTL frees it."""
        try:
            left = self.storage.incr(key, self.slot_ttl_s, -1)
            if left < 0:  # the counter expired while requests were in flight: never go below zero
                self.storage.incr(key, self.slot_ttl_s, -left)
        except self._store_errors as error:
            log.warning(
                "Could not release concurrency slot %s (store unreachable: %s); it expires in %ss",
                key,
                error,
                self.slot_ttl_s,
            )

    def admit(self, principal: Principal, group: str | None) -> tuple[str, Window]:
        """Take a concurrency slot, then count the request; a request refused by either spends nothing.
        Returns (slot key to release when the response ends, the window for the headers)."""
        slot = self.acquire_slot(principal)
        try:
            return slot, self.hit(principal, group)
        except BaseException:
            self.release_slot(slot)
            raise
