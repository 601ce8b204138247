"""Cluster figures from Ray's own state: nodes (state API), Serve replicas per node, and what each live node
says about itself (app.bench.cluster_report.probe_node: CPU, memory, NVML), read by a small Ray task pinned
to that node, so every GPU node reports its own GPUs, not only the gateway's."""

from __future__ import annotations

import logging
from typing import Any

import ray

from app.bench.cluster_report import probe_node
from app.catalog import get_catalog

PROBE_TIMEOUT_S = 10.0
log = logging.getLogger("vid_bench")


@ray.remote(num_cpus=0, max_retries=0)
def _probe() -> dict[str, Any]:
    return probe_node()


def _deployment_models() -> dict[str, str]:
    """Serve deployment name -> catalog model (deployments/app.py names them <modality>-<model>)."""
    return {f"{spec.modality}-{spec.name}": spec.name for spec in get_catalog().list()}


def _replicas_by_node() -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]], str | None]:
    from ray import serve

    status = serve.status()
    deployments = []
    for app_name, app in status.applications.items():
        for name, deployment in app.deployments.items():
            deployments.append(
                {
                    "application": app_name,
                    "deployment": name,
                    "status": str(deployment.status.value),
                    "message": deployment.message or None,
                    "replica_states": {
                        str(k.value if hasattr(k, "value") else k): v for k, v in deployment.replica_states.items()
                    },
                }
            )
    models = _deployment_models()
    by_node: dict[str, list[dict[str, Any]]] = {}
    try:
        actors = _live_actors()
    except Exception as exc:  # noqa: BLE001 - say why replicas per node are missing instead of listing none
        return by_node, deployments, str(exc).splitlines()[0]
    for node_id, class_name, name in actors:
        if class_name.startswith("ServeReplica:"):
            deployment = class_name.split(":")[-1]
            # actor names are SERVE_REPLICA::<app>#<deployment>#<replica id>; task rows name the replica id
            replica_id = (name or "").rsplit("#", 1)[-1] or None
            by_node.setdefault(node_id, []).append(
                {
                    "replica": name,
                    "class": class_name,
                    "deployment": deployment,
                    "replica_id": replica_id,
                    "model": models.get(deployment),
                }
            )
    return by_node, deployments, None


def _live_actors() -> list[tuple[str, str, str | None]]:
    """(node id, class name, actor name) of every live actor: Ray's state API, or, where the dashboard that
    serves it is off (a local Ray started without it), the same GCS actor table read directly."""
    try:
        from ray.util.state import list_actors

        return [
            (a.node_id, a.class_name or "", a.name)
            for a in list_actors(filters=[("state", "=", "ALIVE")], limit=10_000)
        ]
    except Exception:  # noqa: BLE001 - ServerUnavailable without the dashboard: read the GCS table instead
        from ray._private.state import actors

        return [
            (a["Address"]["NodeID"], a.get("ActorClassName") or "", a.get("Name") or None)
            for a in actors().values()
            if a.get("State") == "ALIVE"
        ]


def _node_starts() -> dict[str, float | None]:
    try:
        from ray.util.state import list_nodes

        return {node.node_id: node.start_time_ms for node in list_nodes(limit=10_000)}
    except Exception:  # noqa: BLE001 - without the dashboard there is no start time: uptime is null
        return {}


def _probes(node_ids: list[str]) -> dict[str, dict[str, Any] | str]:
    """Each node's own report, or the reason it gave none, from one task pinned to each node."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    refs = {
        node_id: _probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False)).remote()
        for node_id in node_ids
    }
    ready, _ = ray.wait(list(refs.values()), num_returns=len(refs), timeout=PROBE_TIMEOUT_S)
    out: dict[str, dict[str, Any] | str] = {}
    for node_id, ref in refs.items():
        if ref not in ready:
            ray.cancel(ref, force=True)
            out[node_id] = f"the node's probe did not answer within {PROBE_TIMEOUT_S:.0f}s"
            continue
        try:
            out[node_id] = ray.get(ref)
        except Exception as exc:  # noqa: BLE001 - a node whose probe fails is reported in error, with the reason
            out[node_id] = f"the node's probe failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
    return out


def cluster_state() -> dict[str, Any]:
    replicas, deployments, replicas_reason = _replicas_by_node()
    starts = _node_starts()
    live = [node for node in ray.nodes() if node.get("Alive")]
    probes = _probes([node["NodeID"] for node in live])
    nodes = []
    for node in ray.nodes():
        resources = node.get("Resources", {})
        probe = probes.get(node["NodeID"])
        nodes.append(
            {
                "id": node["NodeID"],
                "name": node.get("NodeManagerHostname"),
                "address": node.get("NodeManagerAddress"),
                "alive": bool(node.get("Alive")),
                "resources": {k: v for k, v in resources.items() if "node:" not in k},
                "probe": probe if isinstance(probe, dict) else None,
                "probe_error": probe if isinstance(probe, str) else (None if node.get("Alive") else "node is dead"),
                "replicas": replicas.get(node["NodeID"], []),
                "replicas_reason": replicas_reason,
                "start_time_ms": starts.get(node["NodeID"]),
                "last_heartbeat_ms": node.get("LastHeartbeatTimeMs") or None,
            }
        )
    total, available = ray.cluster_resources(), ray.available_resources()
    return {
        "cluster_id": ray.get_runtime_context().get_job_id() and ray.get_runtime_context().gcs_address,
        "nodes": nodes,
        "deployments": deployments,
        "resources": {
            "total": {k: v for k, v in total.items() if "node:" not in k},
            "available": {k: v for k, v in available.items() if "node:" not in k},
        },
    }


SERVE_STATES = {
    "HEALTHY": "available",
    "UPSCALING": "available",
    "DOWNSCALING": "available",
    "UPDATING": "loading",
    "UNHEALTHY": "error",
    "DEPLOY_FAILED": "error",
}
"""Serve's deployment status -> the references' model status."""


def model_states(models: list[str]) -> dict[str, dict[str, Any]]:
    """Each deployed model's status from its Serve deployment (available, loading or error), with Serve's message."""
    from ray import serve

    by_deployment = {
        name: deployment for app in serve.status().applications.values() for name, deployment in app.deployments.items()
    }
    names = {model: deployment for deployment, model in _deployment_models().items()}
    out: dict[str, dict[str, Any]] = {}
    for model in models:
        deployment = by_deployment.get(names.get(model, ""))
        if deployment is None:
            out[model] = {"status": "error", "message": "its Serve deployment is not listed by the controller"}
            continue
        state = str(deployment.status.value)
        out[model] = {"status": SERVE_STATES.get(state, "loading"), "message": deployment.message or None}
    return out
