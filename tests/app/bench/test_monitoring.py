"""Resource monitoring during a benchmark (enable_monitoring / --monitor)."""

import os

import psutil

from app.bench.monitoring import ResourceMonitor
from tests.helpers import wait_until


def test_monitor_samples_cpu_and_rss_and_says_why_gpu_is_absent():
    monitor = ResourceMonitor(interval_s=0.05).start()
    wait_until(lambda: len(monitor.samples), lambda n: n >= 3, timeout=10, what="three samples")
    timeline = monitor.stop()
    samples = timeline["samples"]
    assert [s["t_s"] for s in samples] == sorted(s["t_s"] for s in samples)
    assert all(0 <= s["cpu_percent"] <= 100 for s in samples)
    own = psutil.Process(os.getpid()).memory_info().rss / 2**20
    assert all(s["rss_mb"] >= own * 0.5 for s in samples)  # at least this process is counted
    if timeline["gpu_available"]:
        assert all(s["gpu"] for s in samples)
    else:  # this machine has no NVIDIA GPU: no invented series, and the reason
        assert all("gpu" not in s for s in samples) and timeline["gpu_unavailable_reason"]


def test_a_run_shorter_than_one_interval_still_has_a_sample():
    timeline = ResourceMonitor(interval_s=30).start().stop()
    assert len(timeline["samples"]) == 1
