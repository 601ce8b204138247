"""What a node reports about itself (probe_node) and how a GPU node's figures reach the cluster views.

This machine has no GPU, so NVML is a stand-in module with NVML's function names and return shapes; the
probe's CPU, memory and OS figures are this machine's own.
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from app.bench.cluster_report import probe_node, worker_view
from app.storage.tables import utcnow


class _NVML(SimpleNamespace):
    """Two 24 GiB GPUs (NVML's function names), the second unreadable when ``broken``."""

    NVML_TEMPERATURE_GPU = 0

    def __init__(self, broken: bool = False):
        super().__init__(shut=False)
        self.broken = broken

    def nvmlInit(self):
        pass

    def nvmlShutdown(self):
        self.shut = True

    def nvmlDeviceGetCount(self):
        return 2

    def nvmlDeviceGetHandleByIndex(self, index):
        if self.broken and index == 1:
            raise RuntimeError("GPU is lost")
        return index

    def nvmlDeviceGetMemoryInfo(self, handle):
        return SimpleNamespace(total=24 * 2**30, used=(6 + 2 * handle) * 2**30)

    def nvmlDeviceGetName(self, handle):
        return b"AMD Radeon RX 7900 XTX" if handle else "NVIDIA H100"

    def nvmlDeviceGetUtilizationRates(self, handle):
        return SimpleNamespace(gpu=50 + 25 * handle)

    def nvmlDeviceGetTemperature(self, handle, sensor):
        return 60 + handle


def test_probe_reports_this_machine_and_says_why_there_is_no_gpu(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import fails, as on a node without the library
    probe = probe_node(sample_s=0.01)
    assert 0 <= probe["cpu_utilization"] <= 100 and probe["cpu_count"] >= 1
    assert 0 < probe["memory_used_bytes"] <= probe["memory_total_bytes"] and probe["os"]
    assert probe["gpus"] == [] and probe["gpu_reason"].startswith("NVML unavailable on this node")
    assert probe["raylet_started_at"] is None  # not inside a Ray worker


@pytest.mark.parametrize("broken", [False, True])
def test_probe_reads_each_gpu_through_nvml(monkeypatch, broken):
    nvml = _NVML(broken)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    probe = probe_node(sample_s=0.01)
    assert nvml.shut
    first = {
        "index": 0,
        "model": "NVIDIA H100",
        "memory_total_gb": 24.0,
        "memory_used_gb": 6.0,
        "utilization": 50.0,
        "temperature": 60,
    }
    if broken:
        assert probe["gpus"] == [first] and "could not read GPU 1" in probe["gpu_reason"]
    else:
        assert probe["gpus"][0] == first and probe["gpus"][1]["model"] == "AMD Radeon RX 7900 XTX"
        assert probe["gpu_reason"] is None


def test_a_gpu_node_as_a_worker(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", _NVML())
    node = {
        "id": "n",
        "name": "gpu-1",
        "alive": True,
        "probe": probe_node(sample_s=0.01),
        "probe_error": None,
        "replicas": [{"replica_id": "r1", "model": "svd-xt"}],
        "start_time_ms": None,
        "last_heartbeat_ms": None,
    }
    view = worker_view(node, {"Replica(id='r1')": {"running": 1, "completed": 4}}, utcnow())
    assert view["status"] == "busy" and (view["current_tasks"], view["completed_tasks"]) == (1, 4)
    assert view["gpu_info"] == {
        "model": "NVIDIA H100",
        "memory_total": "24.0 GB",
        "memory_used": "6.0 GB",
        "utilization": 50.0,
        "temperature": 60,
    }
    assert view["loaded_models"] == ["svd-xt"] and view["uptime"] is None  # no start time known outside Ray
    assert view["last_heartbeat"] is not None  # it answered its probe just now
