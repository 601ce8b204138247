"""The cluster and its workers as the gateway reference reports them, from real state only.

Two sources meet here: what each node says about itself (``probe_node``, run on every node by
deployments/cluster.py as a small Ray task pinned to it: CPU, memory and NVML figures of that node) and
what the task table says about the work (which replica ran what, and when). A figure that cannot be read
is null with the reason beside it.

A worker is a Ray node. It is ``busy`` while a gateway task runs on one of its replicas, ``error`` when
Ray lists it alive but its probe failed (no answer in time, or it raised), ``offline`` when Ray lists it
dead, and ``online`` otherwise.
"""

from __future__ import annotations

import platform
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from app.catalog.facts import human_bytes, human_duration
from app.storage.tables import utcnow
from app.storage.tasks import TaskRepository

WORKER_STATUSES = ("online", "offline", "busy", "error")


def _gpus() -> tuple[list[dict[str, Any]], str | None]:
    """This node's GPUs through NVML, or ([], why)."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - no driver / no library: say so instead of reporting zeros
        return [], f"NVML unavailable on this node: {type(exc).__name__}: {exc}"
    gpus: list[dict[str, Any]] = []
    try:
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            name = pynvml.nvmlDeviceGetName(handle)
            gpus.append(
                {
                    "index": index,
                    "model": name.decode() if isinstance(name, bytes) else name,
                    "memory_total_gb": memory.total / 2**30,
                    "memory_used_gb": memory.used / 2**30,
                    "utilization": float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu),
                    "temperature": pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU),
                }
            )
    except Exception as exc:  # noqa: BLE001 - a GPU NVML cannot read: report the ones read, and why the rest are not
        return gpus, f"NVML could not read GPU {len(gpus)}: {type(exc).__name__}: {exc}"
    finally:
        pynvml.nvmlShutdown()
    return gpus, None if gpus else "NVML found no GPU on this node"


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _os_name() -> str:
    try:
        return platform.freedesktop_os_release().get("PRETTY_NAME") or platform.platform()
    except OSError:
        return platform.platform()


def _raylet_started_at() -> float | None:
    """When this node's raylet started (Unix time): the probe runs in a Ray worker, a child of the raylet."""
    import psutil

    try:
        for process in psutil.Process().parents():
            if process.name().startswith("raylet"):
                return process.create_time()
    except psutil.Error:
        pass
    return None


def probe_node(sample_s: float = 0.2) -> dict[str, Any]:
    """What this node says about itself now: CPU use over ``sample_s``, memory, OS, its GPUs via NVML, and when
    its raylet started (None outside Ray)."""
    import psutil

    memory = psutil.virtual_memory()
    gpus, gpu_reason = _gpus()
    return {
        "cpu_utilization": psutil.cpu_percent(interval=sample_s),
        "cpu_count": psutil.cpu_count(),
        "memory_total_bytes": memory.total,
        "memory_used_bytes": memory.total - memory.available,
        "memory_utilization": memory.percent,
        "cpu": _cpu_model(),
        "os": _os_name(),
        "hostname": platform.node(),
        "gpus": gpus,
        "gpu_reason": gpu_reason,
        "probed_at": time.time(),
        "raylet_started_at": _raylet_started_at(),
    }


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _since_ms(start_ms: float | None, now: datetime) -> float | None:
    return None if not start_ms else max(0.0, now.timestamp() - start_ms / 1000.0)


def node_start_ms(node: dict[str, Any]) -> float | None:
    """When the node started: Ray's state API, else its raylet's start as the node itself reports it."""
    if node.get("start_time_ms"):
        return node["start_time_ms"]
    started = (node.get("probe") or {}).get("raylet_started_at")
    return started * 1000.0 if started else None


def worker_view(node: dict[str, Any], by_worker: dict[str, dict[str, int]], now: datetime) -> dict[str, Any]:
    """One node as the workers list shows it: Ray's view, its probe, and the tasks its replicas ran."""
    probe, replica_ids = node.get("probe"), [r["replica_id"] for r in node.get("replicas", []) if r.get("replica_id")]

    def tasks(status: str) -> int:
        return sum(n.get(status, 0) for worker, n in by_worker.items() if any(rid in worker for rid in replica_ids))

    current = tasks("running")
    if not node["alive"]:
        status = "offline"
    elif probe is None:
        status = "error"
    elif current:
        status = "busy"
    else:
        status = "online"
    gpus = probe["gpus"] if probe else []
    gpu = gpus[0] if gpus else None
    uptime_s = _since_ms(node_start_ms(node), now) if node["alive"] else None
    # Ray's last heartbeat where it reports one, else when the node last answered its probe (just now)
    heartbeat = node.get("last_heartbeat_ms") or (probe["probed_at"] * 1000.0 if probe else None)
    return {
        **node,
        "status": status,
        "gpus": gpus,
        "gpu_reason": (probe or {}).get("gpu_reason") or node.get("probe_error"),
        "gpu_info": None
        if gpu is None
        else {
            "model": gpu["model"],
            "memory_total": human_bytes(gpu["memory_total_gb"] * 2**30),
            "memory_used": human_bytes(gpu["memory_used_gb"] * 2**30),
            "utilization": gpu["utilization"],
            "temperature": gpu["temperature"],
        },
        "system_info": None
        if probe is None
        else {
            "cpu": probe["cpu"],
            "ram_total": human_bytes(probe["memory_total_bytes"]),
            "ram_used": human_bytes(probe["memory_used_bytes"]),
            "os": probe["os"],
            "cpu_count": probe["cpu_count"],
            "cpu_utilization": probe["cpu_utilization"],
            "memory_utilization": probe["memory_utilization"],
        },
        "loaded_models": sorted({r["model"] for r in node.get("replicas", []) if r.get("model")}),
        "current_tasks": current,
        "completed_tasks": tasks("completed"),
        "uptime": human_duration(uptime_s),
        "uptime_s": uptime_s,
        "last_heartbeat": None if not heartbeat else datetime.fromtimestamp(heartbeat / 1000, UTC).isoformat(),
    }


def workers(cluster: dict[str, Any], tasks: TaskRepository, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or utcnow()
    by_worker = tasks.counts_by_worker()
    return [worker_view(node, by_worker, now) for node in cluster["nodes"]]


def cluster_status(cluster: dict[str, Any], tasks: TaskRepository, version: str) -> dict[str, Any]:
    """GET /cluster/status: workers, tasks (today's counts from midnight UTC), resources and performance (tasks
    that ended in the last hour)."""
    now = utcnow()
    views = workers(cluster, tasks, now)
    counts = tasks.counts()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = tasks.counts_ended_since(midnight)
    hour = tasks.performance_over(timedelta(hours=1))
    probes = [v for v in views if v["status"] in ("online", "busy")]
    gpus = [g for v in probes for g in v["gpus"]]
    total_gpu_gb = sum(g["memory_total_gb"] for g in gpus) if gpus else None
    used_gpu_gb = sum(g["memory_used_gb"] for g in gpus) if gpus else None
    ram_total = sum(_probe(v)["memory_total_bytes"] for v in probes)
    ram_used = sum(_probe(v)["memory_used_bytes"] for v in probes)
    cpu_weighted = [_probe(v)["cpu_utilization"] * _probe(v)["cpu_count"] for v in probes]
    cpu_count = sum(_probe(v)["cpu_count"] for v in probes)
    starts = [start for n in cluster["nodes"] if n["alive"] and (start := node_start_ms(n))]
    uptime_s = _since_ms(min(starts), now) if starts else None
    no_gpu = "no GPU reported by NVML on any live node" if not gpus else None
    alive = [v for v in views if v["status"] != "offline"]
    return {
        "cluster_id": cluster.get("cluster_id"),
        "status": "operational" if alive else "down",
        "version": version,
        "uptime": human_duration(uptime_s),
        "uptime_s": uptime_s,
        "workers": {
            "total": len(views),
            "online": len(alive),
            "offline": len(views) - len(alive),
            "busy": sum(v["status"] == "busy" for v in views),
            "error": sum(v["status"] == "error" for v in views),
        },
        "tasks": {
            "queued": counts.get("queued", 0),
            "running": counts.get("running", 0),
            "completed": counts.get("completed", 0),
            "failed": counts.get("failed", 0),
            "cancelled": counts.get("cancelled", 0),
            "completed_today": today.get("completed", 0),
            "failed_today": today.get("failed", 0),
        },
        "resources": {
            **cluster["resources"],
            "total_gpu_memory": human_bytes(total_gpu_gb * 2**30) if total_gpu_gb is not None else None,
            "available_gpu_memory": (
                human_bytes((total_gpu_gb - used_gpu_gb) * 2**30)
                if total_gpu_gb is not None and used_gpu_gb is not None
                else None
            ),
            "gpu_utilization": _mean([g["utilization"] for g in gpus]),
            "gpu_reason": no_gpu,
            "cpu_utilization": sum(cpu_weighted) / cpu_count if cpu_count else None,
            "memory_utilization": 100.0 * ram_used / ram_total if ram_total else None,
        },
        "performance": hour,
        "deployments": cluster["deployments"],
    }


def _probe(view: dict[str, Any]) -> dict[str, Any]:
    return view["probe"]
