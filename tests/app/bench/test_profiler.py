import numpy as np
import pytest

from app.bench.profiler import Profiler, summarize_performance


def test_cpu_measurement_has_latency_and_rss_and_no_invented_gpu_figures():
    profiler = Profiler("cpu")
    # 64 MB: above glibc's largest dynamic mmap threshold (32 MB), so the array is always mapped and unmapped on
    # free, whatever this process allocated before (a smaller one may stay in the heap: the next peak stays high)
    value, m = profiler.measure(lambda: np.ones((4000, 2000)).sum())
    assert value == 8_000_000 and m.latency_s > 0
    assert m.peak_rss_mb is not None and m.peak_rss_mb > 61  # the 64 MB array shows in the per-run peak
    _, small = profiler.measure(lambda: 1)
    assert small.peak_rss_mb < m.peak_rss_mb  # the peak is reset between runs
    assert (m.peak_vram_allocated_gb, m.energy_j, m.mean_power_w) == (None, None, None)
    assert not profiler.energy_available() and "no NVIDIA GPU" in profiler.nvml_unavailable_reason


def test_summary_arithmetic():
    rows = [
        {"latency_s": 1.0, "num_frames": 8, "peak_rss_mb": 10.0, "energy_j": None},
        {"latency_s": 3.0, "num_frames": 8, "peak_rss_mb": 30.0, "energy_j": None},
    ]
    s = summarize_performance(rows)
    assert s["avg_latency_ms"] == pytest.approx(2000.0)
    assert s["throughput_fps"] == pytest.approx(16 / 4.0)  # frames generated per second of generation
    assert s["videos_per_second"] == pytest.approx(0.5)
    assert s["peak_rss_mb"] == 30.0 and s["avg_power_watts"] is None and s["total_energy_j"] is None
    assert summarize_performance([])["avg_latency_ms"] is None
