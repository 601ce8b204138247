"""Models in-process: the catalog as the API lists it, deployment status and health, downloads."""

from tests.app.api.support import expect_error
from tests.helpers import wait_until


def test_list_filters_and_pages(gw):
    listed = gw.http.get("/api/v1/models", params={"type": "audio", "status": "available"}).json()
    assert [m["id"] for m in listed["models"]] == ["tiny-tts"] and listed["total"] == 1
    available = gw.http.get("/api/v1/models", params={"status": "available", "limit": 100}).json()
    assert sorted(m["id"] for m in available["models"]) == sorted(gw.backend.models())
    everything = gw.http.get("/api/v1/models", params={"limit": 100}).json()
    page = gw.http.get("/api/v1/models", params={"limit": 2, "offset": 1}).json()
    assert page["models"] == everything["models"][1:3] and page["offset"] == 1
    assert page["total"] == everything["total"] > len(available["models"])
    expect_error(gw.http.get("/api/v1/models", params={"type": "hologram"}), 422, "INVALID_PARAMETERS")
    expect_error(gw.http.get("/api/v1/models", params={"limit": 0}), 422, "INVALID_PARAMETERS")


def test_details_and_health(gw):
    detail = gw.http.get("/api/v1/models/svd-xt").json()
    assert detail["status"] == "not_deployed" and detail["max_frames"] == 25 and detail["requirements"]["vram_gb"] > 0
    assert gw.http.get("/api/v1/models/tiny-t2v").json()["parameters"]["num_frames"] == {
        "min": 2,
        "max": 16,
        "default": 8,
    }
    health = gw.http.get("/api/v1/models/tiny-text/health").json()
    assert health["model_name"] == "tiny-text" and health["status"] == "healthy"
    assert gw.http.get("/api/v1/models/svd-xt/health").json() == {
        "model_name": "svd-xt",
        "status": "not_deployed",
        "details": {"model_loaded": False},
    }
    expect_error(gw.http.get("/api/v1/models/nope/health"), 404, "MODEL_NOT_FOUND")


def test_local_download_with_progress_and_refusals(gw, tmp_path):
    source = tmp_path / "imports" / "checkpoint"
    source.mkdir(parents=True)
    (source / "model_index.json").write_text("{}")
    (source / "weights.bin").write_bytes(b"\0" * 4096)
    started = gw.http.post(
        "/api/v1/models/download", json={"model_name": "my-ckpt", "source": "local", "location": str(source)}
    )
    assert started.status_code == 202 and started.json()["status"] == "downloading"
    download_id = started.json()["download_id"]
    status = wait_until(
        lambda: gw.http.get(f"/api/v1/models/download/{download_id}/status").json(),
        until=lambda s: s["status"] != "downloading",
        what=f"download {download_id} to end",
    )
    assert status["status"] == "completed" and status["progress"] == 100.0 and status["total_bytes"] == 4098
    escape = gw.http.post(
        "/api/v1/models/download", json={"model_name": "../../etc", "source": "local", "location": str(source)}
    )
    expect_error(escape, 422, "INVALID_PARAMETERS")
    expect_error(gw.http.get("/api/v1/models/download/dl-missing/status"), 404, "DOWNLOAD_NOT_FOUND")
    outside = gw.http.post(
        "/api/v1/models/download", json={"model_name": "etc-copy", "source": "local", "location": "/etc"}
    )
    assert "VDB_LOCAL_MODEL_ROOTS" in expect_error(outside, 403)["message"]
    again = gw.http.post(
        "/api/v1/models/download", json={"model_name": "my-ckpt", "source": "local", "location": str(source)}
    )
    expect_error(again, 409, "DOWNLOAD_TARGET_EXISTS")
