"""Where work runs on Ray: joining the cluster, the rule on shared state, and actors sized to fit.

The same code runs on a laptop and on a cluster. On a laptop it starts a local Ray (with the
dashboard and job server when asked, so ``ray job submit`` works against it); wherever a cluster
is already there (``VDB_RAY_ADDRESS``, or ``RAY_ADDRESS`` as set inside ``ray job submit``) it
connects and passes no resource arguments, which Ray refuses for an existing cluster.

On more than one node every process must reach the same database and rate-limit store, so a
node-local SQLite file (or in-memory limits, for the gateway) is refused at start rather than
discovered later as 401s and missing task rows.
"""

from __future__ import annotations

import math
import os
from typing import Any

from app.config import Settings, get_settings
from app.errors import ClusterConfigurationError

LOCAL_DASHBOARD_HOST = "127.0.0.1"


def cluster_address(settings: Settings) -> str | None:
    """The address of an existing cluster to join, if one is configured or we run inside a Ray job."""
    return settings.ray_address or os.environ.get("RAY_ADDRESS") or None


def ensure_ray(settings: Settings | None = None, *, dashboard: bool = False) -> None:
    """Connect to the configured cluster, or start a local Ray once per process.

    ``dashboard`` starts the local Ray's dashboard and job server (``vid-bench serve`` asks for
    it), at ``settings.ray_dashboard_port`` on 127.0.0.1.
    """
    import ray

    if ray.is_initialized():
        return
    settings = settings or get_settings()
    common: dict[str, Any] = {"logging_level": "WARNING", "log_to_driver": True}
    address = cluster_address(settings)
    if address:
        ray.init(address=address, **common)
    else:
        ray.init(
            num_cpus=settings.ray_num_cpus,
            object_store_memory=settings.ray_object_store_mb * 2**20,
            include_dashboard=dashboard,
            dashboard_host=LOCAL_DASHBOARD_HOST,
            dashboard_port=settings.ray_dashboard_port,
            **common,
        )


def alive_nodes() -> list[dict[str, Any]]:
    import ray

    return [node for node in ray.nodes() if node.get("Alive")]


def check_shared_state(settings: Settings, *, gateway: bool) -> None:
    """Refuse node-local state on a cluster of more than one node (call once Ray is up).

    Benchmarks need a shared database; the gateway also needs shared rate-limit counters.
    """
    nodes = len(alive_nodes())
    if nodes <= 1:
        return
    database = settings.resolved_database_url
    if database.startswith("sqlite"):
        raise ClusterConfigurationError(
            f"This Ray cluster has {nodes} nodes, but the database is a node-local SQLite file ({database}). "
            "Every node must reach the same database: set VDB_DATABASE_URL to a PostgreSQL URL on every node.",
            {"nodes": nodes, "database_url": database, "setting": "VDB_DATABASE_URL"},
        )
    if gateway and settings.rate_limit_storage.startswith("memory"):
        raise ClusterConfigurationError(
            f"This Ray cluster has {nodes} nodes, but rate-limit counters are kept in each replica's memory. "
            "Set VDB_RATE_LIMIT_STORAGE to a Redis URL (redis://host:6379/0) that every node reaches.",
            {"nodes": nodes, "rate_limit_storage": settings.rate_limit_storage, "setting": "VDB_RATE_LIMIT_STORAGE"},
        )


def gpu_fraction(model_spec, device: str, gpu_memory_gb: float | None, memory_fraction: float = 1.0) -> float:
    """GPUs per actor from the model's VRAM requirement, in quarters, so small models share a GPU.

    Only ``memory_fraction`` of each GPU is ours (the gpu_memory_fraction setting), so a share s gives the actor
    s x memory_fraction x gpu_memory_gb, the cap :func:`cap_to_gpu_share` sets inside it. CPU devices take none;
    an unknown GPU size or requirement takes a whole GPU (never oversubscribe blindly).
    """
    if not device.startswith("cuda") and device != "auto":
        return 0.0
    vram_gb = model_spec.requirements.vram_gb
    if not gpu_memory_gb or not vram_gb:
        return 1.0
    return min(1.0, math.ceil(4 * vram_gb / (gpu_memory_gb * memory_fraction)) / 4)


def assigned_gpu_share() -> float | None:
    """The GPUs Ray assigned to the current actor or task (0.25 for a quarter), or None outside Ray."""
    import ray

    if not ray.is_initialized():
        return None
    return ray.get_runtime_context().get_assigned_resources().get("GPU")


def cap_to_gpu_share(device: str, settings: Settings) -> float | None:
    """Cap this process's CUDA memory at gpu_memory_fraction x its Ray GPU share; returns the fraction applied."""
    from app.engines.optimization import cap_cuda_memory

    if not device.startswith("cuda"):
        return None
    return cap_cuda_memory(device, settings.gpu_memory_fraction * min(1.0, assigned_gpu_share() or 1.0))


def gpu_memory_gb(settings: Settings) -> float | None:
    """Memory of the cluster's GPUs: the setting where given (a CPU head cannot see them), else this node's GPU."""
    if settings.gpu_memory_gb:
        return settings.gpu_memory_gb
    import torch

    return torch.cuda.get_device_properties(0).total_memory / 2**30 if torch.cuda.is_available() else None


def fit_cpus(wanted: float, minimum: float) -> tuple[float | None, str]:
    """CPUs to ask for one actor: ``wanted`` when free, else what is free down to ``minimum``.

    Returns (cpus, why); cpus is None when not even ``minimum`` fits on any node (infeasible).
    """
    import ray

    largest_node = max((node["Resources"].get("CPU", 0.0) for node in alive_nodes()), default=0.0)
    if largest_node < minimum:
        return None, f"no node has {minimum} CPU (largest: {largest_node})"
    free = ray.available_resources().get("CPU", 0.0)
    if free >= wanted and largest_node >= wanted:
        return wanted, f"{wanted} CPU free"
    fitted = math.floor(100 * min(free, largest_node, wanted)) / 100
    if fitted >= minimum:
        return fitted, f"{fitted} of the {wanted} CPU wanted are free; the actor takes what fits"
    return min(wanted, largest_node), f"only {free:.2f} CPU free now; waiting for {min(wanted, largest_node)}"
