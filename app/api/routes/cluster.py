from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from app import __version__
from app.api.deps import State, requires

router = APIRouter(tags=["cluster"])


@router.get("/cluster/status", dependencies=[requires("analytics.read", "analytics")])
def cluster_status(state: State) -> dict:
    cluster = state.backend.cluster_state()
    nodes = cluster["nodes"]
    counts = state.tasks.counts()
    return {
        "cluster_id": cluster.get("cluster_id"), "status": "operational" if any(n["alive"] for n in nodes) else "down",
        "version": __version__,
        "workers": {"total": len(nodes), "online": sum(n["alive"] for n in nodes),
                    "offline": sum(not n["alive"] for n in nodes)},
        "tasks": {"queued": counts.get("queued", 0), "running": counts.get("running", 0),
                  "completed": counts.get("completed", 0), "failed": counts.get("failed", 0),
                  "cancelled": counts.get("cancelled", 0)},
        "resources": cluster["resources"],
        "deployments": cluster["deployments"],
    }


@router.get("/workers", dependencies=[requires("analytics.read", "analytics")])
def list_workers(state: State, status: Literal["online", "offline"] | None = None, gpu_type: str | None = None,
                 limit: int = Query(50, ge=1, le=100), offset: int = Query(0, ge=0, le=1_000_000)) -> dict:
    nodes = state.backend.cluster_state()["nodes"]
    workers = [{**n, "status": "online" if n["alive"] else "offline"} for n in nodes]
    if status:
        workers = [w for w in workers if w["status"] == status]
    if gpu_type:
        workers = [w for w in workers if any(gpu_type.lower() in (g.get("model") or "").lower() for g in w["gpus"])]
    return {"workers": workers[offset:offset + limit], "total": len(workers),
            "online": sum(w["status"] == "online" for w in workers),
            "offline": sum(w["status"] == "offline" for w in workers)}
