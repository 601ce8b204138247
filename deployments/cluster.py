"""Cluster figures from Ray's own state: nodes, resources, Serve replicas, GPUs via NVML where present."""

from __future__ import annotations

from typing import Any

import ray


def _local_gpus() -> tuple[list[dict[str, Any]], str | None]:
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as exc:  # noqa: BLE001 - no driver / no library: say so instead of reporting zeros
        return [], f"NVML unavailable on this node: {exc}"
    gpus = []
    for index in range(pynvml.nvmlDeviceGetCount()):
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
        utilization = pynvml.nvmlDeviceGetUtilizationRates(handle)
        gpus.append({"index": index, "model": pynvml.nvmlDeviceGetName(handle),
                     "memory_total_gb": memory.total / 2**30, "memory_used_gb": memory.used / 2**30,
                     "utilization": float(utilization.gpu),
                     "temperature": pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)})
    return gpus, None


def _replicas_by_node() -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    from ray import serve

    status = serve.status()
    by_node: dict[str, list[dict[str, Any]]] = {}
    deployments = []
    for app_name, app in status.applications.items():
        for name, deployment in app.deployments.items():
            deployments.append({"application": app_name, "deployment": name, "status": str(deployment.status.value),
                                "replica_states": {str(k.value if hasattr(k, "value") else k): v
                                                   for k, v in deployment.replica_states.items()}})
    try:
        from ray.util.state import list_actors

        for actor in list_actors(filters=[("state", "=", "ALIVE")], limit=10_000):
            if actor.class_name and actor.class_name.startswith("ServeReplica:"):
                by_node.setdefault(actor.node_id, []).append({"replica": actor.name, "class": actor.class_name})
    except Exception as exc:  # noqa: BLE001 - the state API needs the dashboard; say why replicas per node are missing
        by_node["_unavailable"] = [{"reason": str(exc).splitlines()[0]}]
    return by_node, deployments


def cluster_state() -> dict[str, Any]:
    gpus, gpu_reason = _local_gpus()
    here = ray.get_runtime_context().get_node_id()
    replicas, deployments = _replicas_by_node()
    nodes = []
    for node in ray.nodes():
        resources = node.get("Resources", {})
        nodes.append({
            "id": node["NodeID"], "name": node.get("NodeManagerHostname"), "address": node.get("NodeManagerAddress"),
            "alive": bool(node.get("Alive")), "resources": {k: v for k, v in resources.items() if "node:" not in k},
            "gpus": gpus if node["NodeID"] == here else [],
            "gpu_reason": gpu_reason if node["NodeID"] == here else "GPU details are read on the gateway's node only",
            "replicas": replicas.get(node["NodeID"], []),
            "last_heartbeat_ms": node.get("LastHeartbeatTimeMs") or None,
        })
    total, available = ray.cluster_resources(), ray.available_resources()
    return {"cluster_id": ray.get_runtime_context().get_job_id() and ray.get_runtime_context().gcs_address,
            "nodes": nodes, "deployments": deployments,
            "resources": {"total": {k: v for k, v in total.items() if "node:" not in k},
                          "available": {k: v for k, v in available.items() if "node:" not in k}}}
