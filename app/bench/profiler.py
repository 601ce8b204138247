"""Performance measurement of one generation.

What is measured, and how:
- latency: wall clock around the call, with the device synchronized at both ends;
- peak GPU memory: ``torch.cuda`` peak allocated / reserved, reset before each run;
- peak process RSS: the kernel's high-water mark (``VmHWM``), reset per run
  through ``/proc/self/clear_refs``; null where the kernel refuses the reset;
- energy: NVML's total-energy counter (millijoules) read before and after;
  mean power = energy / latency. Null without an NVIDIA GPU.
Nothing is estimated: a figure this hardware cannot give is ``None``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from app.engines.optimization import synchronize

T = TypeVar("T")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


@dataclass
class Measurement:
    latency_s: float
    peak_vram_allocated_gb: float | None
    peak_vram_reserved_gb: float | None
    peak_rss_mb: float | None
    energy_j: float | None
    mean_power_w: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_hwm_kb() -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_hwm() -> bool:
    try:
        _CLEAR_REFS.write_text("5")  # "5" resets the peak RSS counter (Linux >= 4.0)
        return True
    except OSError:
        return False


class Profiler:
    """Measures calls on one device. Create once per worker; NVML is opened lazily."""

    def __init__(self, device: str):
        self.device = device
        self._nvml_handle: Any = None
        self._nvml_checked = False
        self.nvml_unavailable_reason: str | None = None

    def _nvml(self):
        if self._nvml_checked:
            return self._nvml_handle
        self._nvml_checked = True
        if not self.device.startswith("cuda"):
            self.nvml_unavailable_reason = "no NVIDIA GPU in use"
            return None
        try:
            import pynvml
            import torch

            pynvml.nvmlInit()
            index = torch.device(self.device).index or 0
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)  # Volta and newer only
            self._nvml_handle = handle
        except Exception as exc:  # noqa: BLE001 - missing library, old GPU, no permission: energy is then unknown
            self.nvml_unavailable_reason = f"NVML energy counter unavailable: {exc}"
        return self._nvml_handle

    def energy_available(self) -> bool:
        return self._nvml() is not None

    def _energy_mj(self) -> int | None:
        handle = self._nvml()
        if handle is None:
            return None
        import pynvml

        return pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)

    def measure(self, fn: Callable[[], T]) -> tuple[T, Measurement]:
        cuda = self.device.startswith("cuda")
        if cuda:
            import torch

            torch.cuda.reset_peak_memory_stats(self.device)
        rss_reset = _reset_hwm()
        synchronize(self.device)
        energy_before = self._energy_mj()
        started = time.perf_counter()
        result = fn()
        synchronize(self.device)
        latency = time.perf_counter() - started
        energy_after = self._energy_mj()

        vram_alloc = vram_reserved = None
        if cuda:
            import torch

            vram_alloc = torch.cuda.max_memory_allocated(self.device) / 2**30
            vram_reserved = torch.cuda.max_memory_reserved(self.device) / 2**30
        hwm = _read_hwm_kb() if rss_reset else None
        energy = None if energy_before is None or energy_after is None else (energy_after - energy_before) / 1000.0
        power = energy / latency if energy is not None and latency > 0 else None
        return result, Measurement(
            latency_s=latency,
            peak_vram_allocated_gb=vram_alloc,
            peak_vram_reserved_gb=vram_reserved,
            peak_rss_mb=None if hwm is None else hwm / 1024.0,
            energy_j=energy,
            mean_power_w=power,
        )


def summarize_performance(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate per-video measurements into the benchmark's performance block.

    throughput_fps is frames generated per second of generation time, over all videos.
    """
    ok = [r for r in rows if r.get("latency_s") is not None]
    if not ok:
        return {
            "avg_latency_ms": None,
            "p50_latency_ms": None,
            "p95_latency_ms": None,
            "throughput_fps": None,
            "videos_per_second": None,
            "peak_vram_gb": None,
            "peak_rss_mb": None,
            "avg_power_watts": None,
            "total_energy_j": None,
        }
    import numpy as np

    latencies = np.array([r["latency_s"] for r in ok])
    total_time = float(latencies.sum())
    frames = sum(int(r["num_frames"]) for r in ok)

    def peak(key: str) -> float | None:
        values = [r[key] for r in ok if r.get(key) is not None]
        return max(values) if values else None

    energies = [r["energy_j"] for r in ok if r.get("energy_j") is not None]
    energy_total = float(sum(energies)) if len(energies) == len(ok) else None
    return {
        "avg_latency_ms": float(latencies.mean() * 1000),
        "p50_latency_ms": float(np.percentile(latencies, 50) * 1000),
        "p95_latency_ms": float(np.percentile(latencies, 95) * 1000),
        "throughput_fps": frames / total_time if total_time > 0 else None,
        "videos_per_second": len(ok) / total_time if total_time > 0 else None,
        "peak_vram_gb": peak("peak_vram_allocated_gb"),
        "peak_rss_mb": peak("peak_rss_mb"),
        "avg_power_watts": energy_total / total_time if energy_total is not None and total_time > 0 else None,
        "total_energy_j": energy_total,
    }
