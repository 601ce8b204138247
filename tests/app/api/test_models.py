"""Models in-process: the catalog as the API lists it, deployment status and health, downloads."""

from datetime import datetime

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


def test_a_deployed_model_removed_from_the_catalog_does_not_break_the_list(gw):
    """A downloaded model's registration deleted while its application still runs: the list leaves it out."""
    gw.backend.deployed.append("unregistered-model")
    listed = gw.http.get("/v1/models")
    assert listed.status_code == 200, listed.text
    ids = [m["id"] for m in listed.json()["data"]]
    assert "unregistered-model" not in ids and "tiny-t2v" in ids


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
    not_deployed = gw.http.get("/api/v1/models/svd-xt/health").json()
    assert datetime.fromisoformat(not_deployed.pop("last_check")).tzinfo is not None
    assert not_deployed == {
        "model_name": "svd-xt",
        "status": "not_deployed",
        "details": {"model_loaded": False, "dependencies_ok": True, "dependency_problems": []},
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


def test_a_download_reports_the_references_fields_and_with_auto_assign_is_deployed_by_name(gw, tmp_path):
    source = tmp_path / "imports" / "pipeline"
    source.mkdir(parents=True)
    (source / "model_index.json").write_text('{"_class_name": "CogVideoXPipeline"}')
    (source / "vid_bench_builtin.json").write_text('{"builder": "cogvideox"}')  # a copy of the built-in tiny-t2v
    (source / "weights.safetensors").write_bytes(b"\0" * 2_000_000)
    body = {
        "model_name": "my-video",
        "source": "local",
        "location": str(source),
        "priority": "high",
        "auto_assign": True,
    }
    started = gw.http.post("/api/v1/models/download", json=body)
    assert started.status_code == 202
    accepted = started.json()
    assert accepted["status"] == "downloading" and accepted["progress"] == 0 and accepted["created_at"]
    assert accepted["estimated_size"] == "1.9 MB" and accepted["estimated_size_bytes"] == 2_000_060
    assert accepted["priority"] == "high" and accepted["auto_assign"] is True
    if accepted["estimated_time"] is None:  # no local download measured yet in this data directory
        assert accepted["estimated_time_reason"] == "no finished local download has been measured yet"
    done = wait_until(
        lambda: gw.http.get(f"/api/v1/models/download/{accepted['download_id']}/status").json(),
        until=lambda s: s["assignment"] is not None,
        what="the download to be deployed",
    )
    assert done["status"] == "completed" and done["registered_as"] == "my-video" and done["assignment"] == "deployed"
    assert done["downloaded_size"] == done["total_size"] == "1.9 MB" and done["estimated_remaining"] is None
    assert done["download_speed"].endswith("/s")
    model = gw.http.get("/api/v1/models/my-video").json()
    assert model["status"] == "available" and model["type"] == "video"
    video = gw.http.post("/api/v1/inference/video-generation", json={"model": "my-video", "prompt": "A cat"})
    assert video.status_code == 200 and video.json()["status"] == "completed"
    again = gw.http.post("/api/v1/models/download", json={**body, "model_name": "another", "priority": "urgent"})
    expect_error(again, 422, "INVALID_PARAMETERS")
