from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from app import __version__
from app.api.deps import State, requires
from app.bench import cluster_report

router = APIRouter(tags=["cluster"])


@router.get("/cluster/status", dependencies=[requires("analytics.read", "analytics")])
def cluster_status(state: State) -> dict:
    return cluster_report.cluster_status(state.backend.cluster_state(), state.tasks, __version__)


@router.get("/workers", dependencies=[requires("analytics.read", "analytics")])
def list_workers(
    state: State,
    status: Literal["online", "offline", "busy", "error"] | None = None,
    gpu_type: str | None = None,
    limit: int = Query(50, ge=1, le=100),
    offset: int = Query(0, ge=0, le=1_000_000),
) -> dict:
    """Nodes as workers. ``online`` counts every live node (busy ones included); the status filter matches the
    worker's own status (online, busy, error, offline: app/bench/cluster_report.py)."""
    workers = cluster_report.workers(state.backend.cluster_state(), state.tasks)
    if status:
        workers = [w for w in workers if w["status"] == status]
    if gpu_type:
        workers = [w for w in workers if any(gpu_type.lower() in (g.get("model") or "").lower() for g in w["gpus"])]
    return {
        "workers": workers[offset : offset + limit],
        "total": len(workers),
        "online": sum(w["status"] != "offline" for w in workers),
        "offline": sum(w["status"] == "offline" for w in workers),
        "busy": sum(w["status"] == "busy" for w in workers),
        "error": sum(w["status"] == "error" for w in workers),
    }
