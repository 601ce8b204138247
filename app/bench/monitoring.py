"""Resource timeline of a benchmark (``enable_monitoring=True`` / ``--monitor``): CPU, RSS and GPU sampled at an
interval by a thread of the driver, stored with each benchmark it watched and plotted in reports.

What each series measures (honestly, from this node):

- ``cpu_percent``: the node's CPU utilisation over the last interval (psutil, all cores = 100);
- ``rss_mb``: resident memory of the driver plus this node's ``BenchmarkWorker`` actor processes (the
  processes that load the model and generate), found by their Ray process title;
- ``gpu``: per device, utilisation (%) and memory used (MiB) from NVML. Without NVML (no NVIDIA GPU, or
  nvidia-ml-py not installed) there is no GPU series and ``gpu_unavailable_reason`` says why.

Actors on other nodes are not sampled (``scope`` says so): the timeline is this node's view.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from typing import Any

import psutil

WORKER_TITLE = "ray::ActorWorker"  # the runner's actor class around BenchmarkWorker


def _gpu_handles() -> tuple[list[Any], str | None]:
    try:
        import pynvml
    except ImportError:
        return [], "nvidia-ml-py (pynvml) is not installed"
    try:
        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception as exc:  # noqa: BLE001 - NVMLError of any kind: no NVIDIA driver or GPU here
        return [], f"NVML unavailable: {exc}"
    if not handles:
        return [], "NVML found no GPU"
    return handles, None


def worker_processes() -> list[psutil.Process]:
    """This node's benchmark actor processes (Ray sets their title to ray::ActorWorker...)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info.get("cmdline") or []
        if cmdline and cmdline[0].startswith(WORKER_TITLE):
            found.append(process)
    return found


class ResourceMonitor:
    """Samples in a daemon thread between start() and stop(); stop() returns the timeline."""

    def __init__(self, interval_s: float = 1.0):
        self.interval_s = interval_s
        self.samples: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self._started_at: datetime | None = None
        self._handles: list[Any] = []
        self.gpu_unavailable_reason: str | None = None

    def start(self) -> ResourceMonitor:
        self._handles, self.gpu_unavailable_reason = _gpu_handles()
        psutil.cpu_percent(interval=None)  # the first call only sets the reference point
        self._started, self._started_at = time.monotonic(), datetime.now(UTC)
        self._thread = threading.Thread(target=self._loop, name="vdb-resource-monitor", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.samples.append(self.sample())

    def sample(self) -> dict[str, Any]:
        rss = psutil.Process(os.getpid()).memory_info().rss
        for process in worker_processes():
            try:
                rss += process.memory_info().rss
            except psutil.Error:  # ended between listing and reading
                continue
        out: dict[str, Any] = {
            "t_s": round(time.monotonic() - self._started, 3),
            "cpu_percent": psutil.cpu_percent(interval=None),
            "rss_mb": rss / 2**20,
        }
        if self._handles:
            import pynvml

            out["gpu"] = []
            for index, handle in enumerate(self._handles):
                memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
                util = pynvml.nvmlDeviceGetUtilizationRates(handle)
                out["gpu"].append(
                    {"index": index, "utilization_percent": float(util.gpu), "memory_used_mb": memory.used / 2**20}
                )
        return out

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if not self.samples or self.samples[-1]["t_s"] < time.monotonic() - self._started - self.interval_s / 2:
            self.samples.append(self.sample())  # a run shorter than one interval still has its sample
        return {
            "interval_s": self.interval_s,
            "started_at": self._started_at.isoformat() if self._started_at else None,
            "scope": f"node {os.uname().nodename}: CPU of the node; RSS of the driver and its BenchmarkWorker "
            "actor processes",
            "samples": self.samples,
            "gpu_available": bool(self._handles),
            "gpu_unavailable_reason": self.gpu_unavailable_reason,
        }
