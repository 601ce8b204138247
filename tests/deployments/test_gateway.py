"""The gateway on a real Ray Serve: every endpoint group, errors, streaming, cancel, overload."""

import json
import threading

import httpx
import pytest
from sqlalchemy import select

from app.storage.database import get_database
from app.storage.tables import TaskRow
from tests.helpers import wait_until


def test_health_docs_and_openapi(client):
    assert client.get("/health").json()["status"] == "ok"
    schema = client.get("/openapi.json").json()
    assert "/api/v1/inference/text-generation" in schema["paths"] and "/v1/chat/completions" in schema["paths"]


@pytest.mark.parametrize(
    "path, body, fragment",
    [
        ("/api/v1/inference/video-generation", {"model": "tiny-t2v"}, "prompt"),
        ("/api/v1/inference/video-generation", {"model": "tiny-t2v", "prompt": "x", "num_frames": 400}, "num_frames"),
        ("/api/v1/inference/text-generation", {"model": "tiny-text", "prompt": "x", "temperature": 9}, "temperature"),
        ("/api/v1/inference/image-generation", {"model": "tiny-t2i", "prompt": "x", "num_images": 50}, "num_images"),
        ("/api/v1/inference/text-to-speech", {"model": "tiny-tts", "text": "hi", "voice": "nobody"}, "voice"),
        ("/api/v1/inference/text-generation", {"model": "tiny-t2v", "prompt": "x"}, "not a text model"),
    ],
)
def test_bad_bodies_get_the_uniform_error(client, path, body, fragment):
    response = client.post(path, json=body)
    assert response.status_code in (400, 422)
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "request_id", "timestamp"}
    assert error["code"] == "INVALID_PARAMETERS" and error["request_id"]
    assert fragment in json.dumps(error)


def test_a_video_past_its_timeout_is_408_generation_timeout_from_the_replica(client):
    body = {"model": "tiny-t2v", "prompt": "too slow", "num_frames": 2, "num_inference_steps": 3, "timeout_s": 1e-6}
    response = client.post("/api/v1/inference/video-generation", json=body)
    assert response.status_code == 408, response.text
    error = response.json()["error"]
    assert error["code"] == "GENERATION_TIMEOUT" and error["details"]["steps_done"] == 1
    blank = client.post("/api/v1/inference/video-generation", json={"model": "tiny-t2v", "prompt": "   "})
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "INVALID_PROMPT"


def test_unknown_model_and_task_are_404(client):
    response = client.post("/api/v1/inference/text-generation", json={"model": "nope", "prompt": "x"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "MODEL_NOT_FOUND"
    assert "tiny-text" in response.json()["error"]["details"]["available_models"]
    assert client.get("/api/v1/tasks/task-missing").json()["error"]["code"] == "TASK_NOT_FOUND"
    assert client.get("/api/v1/artifacts/art-missing").status_code == 404


def test_text_generation_records_a_task(client):
    body = client.post(
        "/api/v1/inference/text-generation",
        json={"model": "tiny-text", "prompt": "Hello", "max_tokens": 6, "temperature": 0},
    ).json()
    assert body["status"] == "completed" and body["result"]["tokens_generated"] == 6
    assert body["result"]["finish_reason"] == "length" and "text-tiny-text" in body["worker_id"]
    assert body["processing_time"] > 0 and body["queue_time"] >= 0
    again = client.get(f"/api/v1/tasks/{body['task_id']}").json()
    assert again["result"] == body["result"]


def test_text_streaming_is_server_sent_events(client):
    events = []
    with client.stream(
        "POST",
        "/api/v1/inference/text-generation",
        json={"model": "tiny-text", "prompt": "Hi", "max_tokens": 6, "temperature": 0, "stream": True},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    tokens = [e for e in events if "token" in e]
    assert len(tokens) >= 2 and events[-1]["done"] is True
    assert events[-1]["final_text"] == "".join(e["token"] for e in tokens) == tokens[-1]["partial_text"]


def test_image_speech_video_artifacts(client):
    image = client.post(
        "/api/v1/inference/image-generation",
        json={"model": "tiny-t2i", "prompt": "A cat", "steps": 2, "num_images": 2, "seed": 5},
    ).json()
    files = image["result"]["images"]
    assert [f["seed"] for f in files] == [5, 6]
    png = client.get(files[0]["url"])
    assert png.headers["content-type"] == "image/png" and png.content[:4] == b"\x89PNG"
    speech = client.post("/api/v1/inference/text-to-speech", json={"model": "tiny-tts", "text": "hello there"}).json()
    wav = client.get(speech["result"]["audio_url"])
    assert wav.content[:4] == b"RIFF" and speech["result"]["sample_rate"] == 16000
    video = client.post(
        "/api/v1/inference/video-generation",
        json={"model": "tiny-t2v", "prompt": "waves", "num_frames": 4, "num_inference_steps": 2},
    ).json()
    mp4 = client.get(video["result"]["video_url"])
    assert mp4.headers["content-type"] == "video/mp4" and b"ftyp" in mp4.content[:32]


def test_async_request_returns_202_and_completes(client):
    response = client.post(
        "/api/v1/inference/text-to-speech", json={"model": "tiny-tts", "text": "later", "async": True}
    )
    assert response.status_code == 202
    task_id = response.json()["task_id"]
    task = _wait_for(client, task_id, lambda t: t["status"] in ("completed", "failed"), timeout=60)
    assert task["status"] == "completed"


SLOW_VIDEO = {
    "model": "tiny-t2v",
    "prompt": "a long one",
    "num_frames": 16,
    "num_inference_steps": 500,  # ~5 s
    "width": 64,
    "height": 64,
}


def _wait_for(client, task_id, predicate, timeout=120):
    return wait_until(
        lambda: client.get(f"/api/v1/tasks/{task_id}").json(),
        until=predicate,
        timeout=timeout,
        what=f"task {task_id} to reach the expected state",
    )


def test_cancel_a_running_task_leaves_no_result(client):
    task_id = client.post("/api/v1/inference/video-generation", json={**SLOW_VIDEO, "async": True}).json()["task_id"]
    _wait_for(client, task_id, lambda t: t["status"] == "running" and t["progress"] > 0)
    cancelled = client.delete(f"/api/v1/tasks/{task_id}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    # tiny-t2v takes one request at a time: this one completes once the replica has let the cancelled one go
    done = client.post(
        "/api/v1/inference/video-generation",
        json={"model": "tiny-t2v", "prompt": "next", "num_frames": 2, "num_inference_steps": 1},
    ).json()
    assert done["status"] == "completed"
    task = client.get(f"/api/v1/tasks/{task_id}").json()
    assert task["status"] == "cancelled" and task["result"] is None and task["progress"] < 100
    assert client.delete(f"/api/v1/tasks/{task_id}").status_code == 409  # already finished


def test_websocket_task_progress(gateway, client, admin_key):
    from websockets.sync.client import connect

    task_id = client.post(
        "/api/v1/inference/video-generation", json={**SLOW_VIDEO, "num_inference_steps": 300, "async": True}
    ).json()["task_id"]
    messages = []
    with connect(
        gateway.replace("http", "ws") + f"/api/v1/ws/tasks/{task_id}",
        open_timeout=30,
        additional_headers={"X-API-Key": admin_key},
    ) as ws:
        while True:
            message = json.loads(ws.recv(timeout=120))
            messages.append(message)
            if message["type"] != "progress":
                break
    assert messages[-1]["type"] == "completed" and messages[-1]["result"]["video_url"]
    progress = [m["progress"] for m in messages if m["type"] == "progress"]
    assert progress == sorted(progress) and any(0 < p < 100 for p in progress)


def test_full_queue_is_503_and_held_requests_complete(gateway, client, settings):
    """tiny-t2v takes one request at a time with a queue of one: a third concurrent request is refused."""
    created = client.post(
        "/api/v1/auth/api-keys", json={"name": "queue", "permissions": ["inference.video"], "tier": "enterprise"}
    ).json()
    db = get_database(settings.resolved_database_url)
    results = {}

    def send(name):
        with httpx.Client(base_url=gateway, timeout=300, headers={"X-API-Key": created["key"]}) as c:
            results[name] = c.post(
                "/api/v1/inference/video-generation", json={**SLOW_VIDEO, "num_inference_steps": 300}
            )

    def statuses():  # of this key's tasks, oldest first
        with db.session() as s:
            return s.scalars(
                select(TaskRow.status).where(TaskRow.owner == created["key_id"]).order_by(TaskRow.created_at)
            ).all()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    wait_until(statuses, until=lambda s: s == ["running"], what="the first request to run on the replica")
    second = threading.Thread(target=send, args=("second",))
    second.start()
    wait_until(statuses, until=lambda s: s == ["running", "queued"], what="the second request to queue")
    send("third")
    first.join()
    second.join()
    third = results["third"]
    assert third.status_code == 503, third.text
    assert third.json()["error"]["code"] == "SERVER_OVERLOADED" and int(third.headers["Retry-After"]) > 0
    assert results["first"].status_code == 200 and results["second"].status_code == 200
    assert results["first"].json()["status"] == results["second"].json()["status"] == "completed"


def test_models_list_details_and_health(client):
    listed = client.get("/api/v1/models", params={"type": "audio", "status": "available"}).json()
    assert [m["id"] for m in listed["models"]] == ["tiny-tts"] and listed["total"] == 1
    page = client.get("/api/v1/models", params={"limit": 2, "offset": 1}).json()
    assert len(page["models"]) == 2 and page["offset"] == 1
    detail = client.get("/api/v1/models/svd-xt").json()
    assert detail["status"] == "not_deployed" and detail["max_frames"] == 25 and detail["requirements"]["vram_gb"] > 0
    health = client.get("/api/v1/models/tiny-text/health").json()
    assert health["status"] == "healthy" and health["details"]["model_loaded"] is True
    assert health["load_time_ms"] > 0 and health["test_generation_ms"] > 0


def test_cluster_and_workers_from_ray(client):
    status = client.get("/api/v1/cluster/status").json()
    assert status["workers"]["online"] >= 1 and status["resources"]["total"]["CPU"] >= 1
    names = {d["deployment"] for d in status["deployments"]}
    assert {"video-tiny-t2v", "text-tiny-text", "Gateway"} <= names
    workers = client.get("/api/v1/workers").json()
    node = workers["workers"][0]
    assert node["status"] == "online" and node["gpus"] == [] and "NVML" in node["gpu_reason"]


def test_benchmarks_api_and_websocket(gateway, client, admin_key):
    from websockets.sync.client import connect

    bad = client.post(
        "/api/v1/benchmarks", json={"model_name": "tiny-t2v", "prompts": ["x"], "parameters": {"num_frames": 99}}
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_PARAMETERS"
    submitted = client.post(
        "/api/v1/benchmarks",
        json={
            "model_name": "tiny-t2v",
            "prompts": ["A cat", "Waves"],
            "parameters": {"num_frames": 4, "num_inference_steps": 2},
        },
    )
    assert submitted.status_code == 202
    benchmark_id = submitted.json()["benchmark_id"]
    kinds = []
    with connect(gateway.replace("http", "ws") + "/api/v1/ws", open_timeout=30) as ws:
        ws.send(json.dumps({"type": "authenticate", "token": admin_key}))  # the browser way: a first message
        assert json.loads(ws.recv(timeout=30))["type"] == "authenticated"
        ws.send(json.dumps({"type": "subscribe", "channel": "benchmark_updates", "benchmark_id": benchmark_id}))
        while True:
            message = json.loads(ws.recv(timeout=300))
            kinds.append(message["type"])
            if message["type"] in ("benchmark_completed", "benchmark_error"):
                break
    assert kinds[0] == "subscribed" and kinds[-1] == "benchmark_completed", kinds
    status = client.get(f"/api/v1/benchmarks/{benchmark_id}").json()
    assert status["status"] == "completed" and status["progress"]["percentage"] == 100.0
    results = client.get(f"/api/v1/benchmarks/{benchmark_id}/results").json()
    assert results["results"]["metrics"]["temporal_consistency"] is not None
    assert results["results"]["metrics"]["fvd"] is None
    listed = client.get(
        "/api/v1/benchmarks", params={"model_name": "tiny-t2v", "status": "completed", "limit": 1}
    ).json()
    assert listed["pagination"]["limit"] == 1 and listed["benchmarks"][0]["model_name"] == "tiny-t2v"
    assert client.delete(f"/api/v1/benchmarks/{benchmark_id}").status_code == 409
    assert client.get("/api/v1/benchmarks/bench_missing").json()["error"]["code"] == "BENCHMARK_NOT_FOUND"


def test_official_openai_client(gateway, admin_key):
    import base64

    from openai import OpenAI

    client = OpenAI(base_url=gateway + "/v1", api_key=admin_key)
    assert "tiny-text" in [m.id for m in client.models.list()]
    chat = client.chat.completions.create(
        model="tiny-text", messages=[{"role": "user", "content": "Hi"}], max_tokens=5, temperature=0
    )
    assert chat.choices[0].message.role == "assistant" and chat.usage.completion_tokens == 5
    completion = client.completions.create(model="tiny-text", prompt="Once", max_tokens=4, temperature=0)
    assert completion.choices[0].finish_reason == "length"
    chunks = list(
        client.chat.completions.create(
            model="tiny-text", messages=[{"role": "user", "content": "Hi"}], max_tokens=5, temperature=0, stream=True
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert streamed == chat.choices[0].message.content and chunks[-1].choices[0].finish_reason == "length"
    image = client.images.generate(model="tiny-t2i", prompt="A cat", n=1, size="32x32", response_format="b64_json")
    assert base64.b64decode(image.data[0].b64_json)[:4] == b"\x89PNG"
    audio = client.audio.speech.create(model="tiny-tts", input="hello", voice="speaker_0", response_format="wav")
    assert audio.content[:4] == b"RIFF"
    with pytest.raises(Exception) as info:
        client.chat.completions.create(model="nope", messages=[{"role": "user", "content": "Hi"}])
    assert getattr(info.value, "status_code", None) == 404


def test_model_download_endpoints(client, settings):
    source = settings.local_model_roots[0] / "checkpoint"
    source.mkdir(parents=True)
    (source / "model_index.json").write_text("{}")
    (source / "weights.bin").write_bytes(b"\0" * 4096)
    started = client.post(
        "/api/v1/models/download", json={"model_name": "my-ckpt", "source": "local", "location": str(source)}
    )
    assert started.status_code == 202 and started.json()["status"] == "downloading"
    download_id = started.json()["download_id"]
    status = wait_until(
        lambda: client.get(f"/api/v1/models/download/{download_id}/status").json(),
        until=lambda s: s["status"] != "downloading",
        what=f"download {download_id} to end",
    )
    assert status["status"] == "completed" and status["progress"] == 100.0 and status["total_bytes"] == 4098
    escape = client.post(
        "/api/v1/models/download", json={"model_name": "../../etc", "source": "local", "location": str(source)}
    )
    assert escape.status_code == 422 and escape.json()["error"]["code"] == "INVALID_PARAMETERS"
    assert client.get("/api/v1/models/download/dl-missing/status").status_code == 404
    outside = client.post(
        "/api/v1/models/download", json={"model_name": "etc-copy", "source": "local", "location": "/etc"}
    )
    assert outside.status_code == 403 and "VDB_LOCAL_MODEL_ROOTS" in outside.json()["error"]["message"]
    again = client.post(
        "/api/v1/models/download", json={"model_name": "my-ckpt", "source": "local", "location": str(source)}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "DOWNLOAD_TARGET_EXISTS"


def test_concurrent_image_requests_are_batched_with_their_own_seeds(gateway, admin_key):
    from concurrent.futures import ThreadPoolExecutor

    def send(seed):
        with httpx.Client(base_url=gateway, timeout=300, headers={"X-API-Key": admin_key}) as c:
            return c.post(
                "/api/v1/inference/image-generation",
                json={"model": "tiny-t2i", "prompt": f"cat {seed}", "steps": 3, "seed": seed},
            ).json()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(send, [11, 12, 13, 14]))
    assert all(r["status"] == "completed" for r in results)
    assert [r["result"]["images"][0]["seed"] for r in results] == [11, 12, 13, 14]
    assert max(r["result"]["batch_size"] for r in results) > 1  # some requests shared a pipeline call


def test_a_download_with_auto_assign_is_deployed_and_served_by_name(client, settings):
    """A copy of the built-in tiny-t2i, downloaded from a local path: registered, deployed as a Serve application of
    its own by the ingress, listed as available and generating under its new name."""
    import shutil
    import uuid

    from ray import serve

    from app.catalog.spec import registered_dir
    from app.catalog.tiny import ensure_builtin

    name = f"auto-{uuid.uuid4().hex[:8]}"
    source = settings.data_dir / "imports" / name
    shutil.copytree(ensure_builtin("tiny-t2i", "stable_diffusion", settings.resolved_models_dir), source)
    try:
        started = client.post(
            "/api/v1/models/download",
            json={"model_name": name, "source": "local", "location": str(source), "auto_assign": True},
        )
        assert started.status_code == 202, started.text
        status = wait_until(
            lambda: client.get(f"/api/v1/models/download/{started.json()['download_id']}/status").json(),
            until=lambda s: s["assignment"] is not None or s["status"] == "failed",
            timeout=240,
            what="the download to be deployed",
        )
        assert status["registered_as"] == name and status["assignment"] == "deployed", status
        assert client.get(f"/api/v1/models/{name}").json()["status"] == "available"
        image = client.post(
            "/api/v1/inference/image-generation", json={"model": name, "prompt": "A red fox", "steps": 1}
        )
        assert image.status_code == 200 and image.json()["status"] == "completed", image.text
    finally:
        serve.delete(f"model-{name}")
        (registered_dir(settings.resolved_models_dir) / f"{name}.yaml").unlink(missing_ok=True)
        shutil.rmtree(settings.resolved_models_dir / "downloads" / name, ignore_errors=True)
        shutil.rmtree(source, ignore_errors=True)
