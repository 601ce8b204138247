"""The warm worker pool: benchmark workers kept loaded between benchmarks.

A benchmark pays actor start, model load and warm-up once per (model, optimization
profile, device); the next benchmark with the same key leases the idle worker and
starts generating at once. Idle workers are stopped after ``worker_pool_idle_s``,
and, least recently used first, while the pool's resident memory is above
``worker_pool_memory_gb``. A worker is in the pool only while idle: a runner leases
it (``acquire``), returns it when its benchmark ends (``release``), and kills it
instead when the benchmark was cancelled or failed, so a pooled worker never holds
half-done work. A benchmark that needs CPUs held by idle workers asks the pool to
stop them first (``clear``), so warm workers never block new work.

``WorkerPool`` is plain Python (tested without Ray); ``PoolActor`` holds it in one
detached, named Ray actor, so runners in any process (the CLI, a REST benchmark's
detached owner, a Tune trial) share it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ray

POOL_NAME = "vdb-worker-pool"
NAMESPACE = "vid-bench"
# Detached actors are scheduled outside any placement group. Ray Tune runs a trial in a placement group that
# captures its children, and removes it when the trial ends: a pool (or pooled worker) first made from a trial
# would die with that trial, and the next trial would lease a dead worker.
OUTSIDE_PLACEMENT_GROUPS = "DEFAULT"


@dataclass
class _Idle:
    key: str
    handle: Any
    rss_bytes: int
    since: float


class WorkerPool:
    def __init__(
        self,
        idle_s: float,
        memory_bytes: float,
        stop: Callable[[Any], None],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.idle_s = idle_s
        self.memory_bytes = memory_bytes
        self._stop = stop
        self._clock = clock
        self._idle: list[_Idle] = []  # least recently released first
        self._lock = threading.Lock()
        self.counts = {"acquired": 0, "missed": 0, "released": 0, "evicted_idle": 0, "evicted_memory": 0, "cleared": 0}

    def acquire(self, key: str) -> Any | None:
        """Lease the most recently released idle worker with this key, or None (the caller starts a cold one)."""
        with self._lock:
            for entry in reversed(self._idle):
                if entry.key == key:
                    self._idle.remove(entry)
                    self.counts["acquired"] += 1
                    return entry.handle
            self.counts["missed"] += 1
            return None

    def release(self, key: str, handle: Any, rss_bytes: int) -> int:
        """Take back a worker whose benchmark ended well; evicts LRU idle workers over the memory cap.

        Returns how many were evicted (possibly this one, when it alone is over the cap).
        """
        with self._lock:
            self.counts["released"] += 1
            self._idle.append(_Idle(key, handle, rss_bytes, self._clock()))
            evicted = 0
            while self._idle and sum(entry.rss_bytes for entry in self._idle) > self.memory_bytes:
                self._evict(self._idle[0], "evicted_memory")
                evicted += 1
            return evicted

    def expire(self) -> int:
        """Stop the workers idle for longer than ``idle_s``; returns how many."""
        with self._lock:
            now = self._clock()
            old = [entry for entry in self._idle if now - entry.since > self.idle_s]
            for entry in old:
                self._evict(entry, "evicted_idle")
            return len(old)

    def clear(self) -> int:
        """Stop every idle worker (their resources are needed elsewhere); returns how many."""
        with self._lock:
            entries = list(self._idle)
            for entry in entries:
                self._evict(entry, "cleared")
            return len(entries)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            return {
                "idle": [{"key": e.key, "rss_bytes": e.rss_bytes, "idle_s": now - e.since} for e in self._idle],
                "idle_s": self.idle_s,
                "memory_bytes": self.memory_bytes,
                **self.counts,
            }

    def _evict(self, entry: _Idle, reason: str) -> None:
        self._idle.remove(entry)
        self.counts[reason] += 1
        with contextlib.suppress(Exception):  # a worker that is already gone is as evicted as it gets
            self._stop(entry.handle)


class PoolActor:
    """The one pool of the cluster, in a detached actor; a thread stops workers idle for too long."""

    def __init__(self, idle_s: float, memory_bytes: float):
        self.pool = WorkerPool(idle_s, memory_bytes, lambda handle: ray.kill(handle, no_restart=True))
        threading.Thread(target=self._expire_forever, name="pool-expiry", daemon=True).start()

    def _expire_forever(self) -> None:
        while True:
            time.sleep(max(0.2, min(5.0, self.pool.idle_s / 4)))
            self.pool.expire()

    def acquire(self, key: str) -> Any | None:
        return self.pool.acquire(key)

    def release(self, key: str, handle: Any, rss_bytes: int) -> int:
        return self.pool.release(key, handle, rss_bytes)

    def clear(self) -> int:
        return self.pool.clear()

    def stats(self) -> dict[str, Any]:
        return self.pool.stats()


RemotePoolActor = ray.remote(PoolActor)


def get_pool(idle_s: float, memory_gb: float):
    """The cluster's pool actor, created on first use (its limits are those of the first caller)."""
    return RemotePoolActor.options(
        name=POOL_NAME,
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
        max_concurrency=8,
        scheduling_strategy=OUTSIDE_PLACEMENT_GROUPS,
    ).remote(idle_s, memory_gb * 2**30)


class TrialWorker:
    """A pooled worker driven from a Ray Tune trial (tuning/search.py), with BenchmarkWorker's calls.

    The trial already holds the CPUs Tune gave it and only waits while the worker computes, so the worker
    takes no CPUs of its own (num_cpus=0): trials and their workers never wait on each other for resources.
    Such workers are pooled under their own key, apart from the runner's (which reserve their CPUs). CPU
    only: a worker without a GPU reservation would not see the GPU, so GPU trials load in-process.
    """

    def __init__(self, spec_json: dict[str, Any], settings_json: dict[str, Any]):
        from app.bench.runner import RemoteBenchmarkWorker
        from app.bench.worker import pool_key
        from app.config import Settings

        settings = Settings(**settings_json)
        self.key = pool_key(spec_json, settings_json) + "|trial"
        self._pool = get_pool(settings.worker_pool_idle_s, settings.worker_pool_memory_gb)
        self.handle = ray.get(self._pool.acquire.remote(self.key))
        if self.handle is not None:
            try:
                self.info = ray.get(self.handle.configure.remote(spec_json, settings_json))
                return
            except ray.exceptions.RayActorError:  # it died while idle (its node went away): start a cold one
                self.handle = None
        # the runner's actor class: it stops itself if this trial is stopped before it could release it
        self.handle = RemoteBenchmarkWorker.options(
            num_cpus=0, lifetime="detached", max_restarts=0, scheduling_strategy=OUTSIDE_PLACEMENT_GROUPS
        ).remote(spec_json, settings_json)
        self.info = ray.get(self.handle.info.remote())

    def warm_up(self) -> int:
        return ray.get(self.handle.warm_up.remote())

    def run(self, benchmark_id: str, prompt_index: int, prompt: str, seed: int) -> dict[str, Any]:
        return ray.get(self.handle.run.remote(benchmark_id, prompt_index, prompt, seed))

    def release(self) -> None:
        """Back to the pool (or stopped, when the pool will not keep it)."""
        rss = ray.get(self.handle.rss_bytes.remote())
        ray.get(self._pool.release.remote(self.key, self.handle, rss))

    def stop(self) -> None:
        ray.kill(self.handle, no_restart=True)
