"""Live metrics of the gateway on ``ray.util.metrics``: they appear in Ray's Prometheus export (each node's
metrics endpoint, names prefixed ``ray_``) and so in Ray's Grafana dashboards, like any Ray application's.

- ``vid_bench_gateway_requests`` (counter): requests by route template, method, model and status code;
- ``vid_bench_gateway_request_seconds`` (histogram): request latency by route, method and model;
- ``vid_bench_gateway_requests_in_flight`` (gauge): requests inside this ingress replica now;
- ``vid_bench_gateway_tasks`` (gauge): gateway tasks by status (queued / running: the queue depth), from the
  shared database, refreshed by a thread of each replica;
- ``vid_bench_gateway_gpu_memory_used_bytes`` (gauge): NVML memory used per GPU of the ingress's node, only
  where NVML answers (absent otherwise).
The benchmark runner's metrics are in app/bench/telemetry.py.
"""

from __future__ import annotations

import os

from ray.util import metrics

LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300]


class RayRecorder:
    def __init__(self):
        self.requests = metrics.Counter(
            "vid_bench_gateway_requests", "Gateway HTTP requests", tag_keys=("route", "method", "model", "status")
        )
        self.latency = metrics.Histogram(
            "vid_bench_gateway_request_seconds",
            "Gateway request latency (s)",
            boundaries=LATENCY_BUCKETS,
            tag_keys=("route", "method", "model"),
        )
        self.inflight = metrics.Gauge(
            "vid_bench_gateway_requests_in_flight", "Requests inside this ingress replica", tag_keys=("replica",)
        )
        self.tasks = metrics.Gauge(
            "vid_bench_gateway_tasks", "Gateway tasks by status (queued: queue depth)", tag_keys=("status",)
        )
        self.gpu_memory = metrics.Gauge(
            "vid_bench_gateway_gpu_memory_used_bytes", "GPU memory used (NVML)", tag_keys=("gpu",)
        )
        self.replica = f"{os.uname().nodename}:{os.getpid()}"

    def request(self, route: str, method: str, model: str, status: int, seconds: float) -> None:
        self.requests.inc(tags={"route": route, "method": method, "model": model, "status": str(status)})
        self.latency.observe(seconds, tags={"route": route, "method": method, "model": model})

    def in_flight(self, count: int) -> None:
        self.inflight.set(count, tags={"replica": self.replica})

    def task_counts(self, counts: dict[str, int]) -> None:
        for status in ("queued", "running", "completed", "failed", "cancelled"):
            self.tasks.set(counts.get(status, 0), tags={"status": status})

    def gpu(self) -> None:
        """GPU memory of this node where NVML answers; nothing is set where it cannot be measured."""
        try:
            import pynvml

            pynvml.nvmlInit()
            for index in range(pynvml.nvmlDeviceGetCount()):
                used = pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index)).used
                self.gpu_memory.set(used, tags={"gpu": str(index)})
        except Exception:  # noqa: BLE001 - no NVML / no GPU here: the series stays absent, as documented
            return


_recorder: RayRecorder | None = None


def recorder() -> RayRecorder:
    """This process's recorder, created on first use (inside the replica, where Ray is connected)."""
    global _recorder
    if _recorder is None:
        _recorder = RayRecorder()
    return _recorder


class LazyRecorder:
    """What the middleware holds: pickles with the app, creates the Ray metrics in the replica on first use."""

    def request(self, route: str, method: str, model: str, status: int, seconds: float) -> None:
        recorder().request(route, method, model, status, seconds)

    def in_flight(self, count: int) -> None:
        recorder().in_flight(count)


def known_model(name: str) -> bool:
    from app.catalog.spec import get_catalog

    return name in get_catalog().names()


def report_state(state, interval_s: float = 5.0) -> None:
    """Thread body of each ingress replica: task counts (the queue depth) and GPU memory, every interval."""
    import logging
    import time

    while True:
        try:
            recorder().task_counts(state.tasks.counts())
            recorder().gpu()
        except Exception:  # a database hiccup must not end the thread: logged, tried again
            logging.getLogger("vid_bench").exception("Gateway metrics: reading the task counts failed")
        time.sleep(interval_s)
