"""Cluster routes in-process: the backend's cluster state as the API reports it, with the task counts."""


def test_status_counts_workers_and_tasks(gw):
    gw.http.post("/api/v1/inference/text-generation", json={"model": "tiny-text", "prompt": "hi", "max_tokens": 2})
    status = gw.http.get("/api/v1/cluster/status").json()
    assert status["status"] == "operational" and status["cluster_id"] == "fake-cluster"
    assert status["workers"] == {"total": 1, "online": 1, "offline": 0, "busy": 0, "error": 0}
    assert status["tasks"] == {
        "queued": 0,
        "running": 0,
        "completed": 1,
        "failed": 0,
        "cancelled": 0,
        "completed_today": 1,
        "failed_today": 0,
    }
    assert status["resources"]["total"] == {"CPU": 2.0}
    assert {d["deployment"] for d in status["deployments"]} == {"Gateway"}


def test_workers_are_filtered(gw):
    workers = gw.http.get("/api/v1/workers").json()
    assert workers["total"] == workers["online"] == 1 and workers["workers"][0]["status"] == "online"
    assert gw.http.get("/api/v1/workers", params={"status": "offline"}).json()["total"] == 0
    assert gw.http.get("/api/v1/workers", params={"gpu_type": "H100"}).json()["workers"] == []
    assert gw.http.get("/api/v1/workers", params={"status": "lost"}).status_code == 422
