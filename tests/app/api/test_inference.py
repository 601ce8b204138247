"""Inference routes in-process over the fake model backend: task records, artifacts, SSE, async requests."""

import io
import json
import wave

from tests.app.api.support import expect_error
from tests.helpers import wait_until


def test_text_generation_records_a_task(gw):
    body = gw.http.post(
        "/api/v1/inference/text-generation",
        json={"model": "tiny-text", "prompt": "Hello world", "max_tokens": 6, "temperature": 0},
    ).json()
    assert body["status"] == "completed" and body["type"] == "text-generation" and body["progress"] == 100.0
    assert body["result"] == {
        "generated_text": " Hello world Hello world Hello world",
        "tokens_generated": 6,
        "finish_reason": "length",
        "prompt_tokens": 2,
        "model_used": "tiny-text",
    }
    assert body["worker_id"] == "fake-tiny-text#0"
    assert body["processing_time"] > 0 and body["queue_time"] >= 0
    assert body["total_time"] >= body["processing_time"]
    assert gw.http.get(f"/api/v1/tasks/{body['task_id']}").json() == body


def test_stop_sequences_end_the_text(gw):
    result = gw.http.post(
        "/api/v1/inference/text-generation",
        json={"model": "tiny-text", "prompt": "a b c d", "max_tokens": 8, "stop_sequences": ["c"]},
    ).json()["result"]
    assert result["generated_text"] == " a b" and result["finish_reason"] == "stop"
    expect_error(
        gw.http.post(
            "/api/v1/inference/text-generation", json={"model": "tiny-text", "prompt": "x", "stop_sequences": [""]}
        ),
        400,
    )


def test_text_streaming_is_server_sent_events(gw):
    events = []
    with gw.http.stream(
        "POST",
        "/api/v1/inference/text-generation",
        json={"model": "tiny-text", "prompt": "Hi there", "max_tokens": 5, "stream": True},
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        task_id = response.headers["x-task-id"]
        events = [json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: ")]
    tokens = [e for e in events if "token" in e]
    assert len(tokens) == 5 and events[-1]["done"] is True and events[-1]["tokens_generated"] == 5
    assert events[-1]["final_text"] == "".join(e["token"] for e in tokens) == tokens[-1]["partial_text"]
    task = gw.http.get(f"/api/v1/tasks/{task_id}").json()
    assert task["status"] == "completed" and task["result"]["generated_text"] == events[-1]["final_text"]


def test_images_are_artifacts_with_their_own_seeds(gw):
    image = gw.http.post(
        "/api/v1/inference/image-generation",
        json={
            "model": "tiny-t2i",
            "prompt": "A cat",
            "steps": 2,
            "num_images": 2,
            "seed": 5,
            "width": 64,
            "height": 64,
        },
    ).json()
    files = image["result"]["images"]
    assert [(f["seed"], f["width"], f["format"]) for f in files] == [(5, 64, "png"), (6, 64, "png")]
    first, second = (gw.http.get(f["url"]) for f in files)
    assert first.headers["content-type"] == "image/png" and first.content[:4] == b"\x89PNG"
    assert first.content != second.content
    again = gw.http.post(
        "/api/v1/inference/image-generation",
        json={"model": "tiny-t2i", "prompt": "A cat", "seed": 5, "width": 64, "height": 64},
    ).json()
    assert gw.http.get(again["result"]["images"][0]["url"]).content == first.content


def test_speech_is_a_wav_artifact(gw):
    speech = gw.http.post("/api/v1/inference/text-to-speech", json={"model": "tiny-tts", "text": "hello there"}).json()
    result = speech["result"]
    assert result["sample_rate"] == 16000 and result["format"] == "wav" and result["model_used"] == "tiny-tts"
    wav = gw.http.get(result["audio_url"])
    assert wav.headers["content-type"] == "audio/wav" and wav.content[:4] == b"RIFF"
    with wave.open(io.BytesIO(wav.content)) as audio:
        assert audio.getframerate() == 16000 and audio.getnframes() / 16000 == result["duration"]


def test_video_is_an_mp4_artifact(gw):
    video = gw.http.post(
        "/api/v1/inference/video-generation",
        json={"model": "tiny-t2v", "prompt": "waves", "num_frames": 4, "num_inference_steps": 2},
    ).json()
    assert video["status"] == "completed" and video["result"]["format"] == "mp4"
    mp4 = gw.http.get(video["result"]["video_url"])
    assert mp4.headers["content-type"] == "video/mp4" and b"ftyp" in mp4.content[:32]
    stored = gw.state.tasks.get(video["task_id"]).request
    assert stored["num_frames"] == 4 and stored["prompt"] == "waves"


def test_async_request_returns_202_and_completes(gw):
    response = gw.http.post(
        "/api/v1/inference/text-to-speech", json={"model": "tiny-tts", "text": "later", "async": True}
    )
    assert response.status_code == 202 and response.json()["status"] in ("queued", "running")
    task_id = response.json()["task_id"]
    task = wait_until(
        lambda: gw.http.get(f"/api/v1/tasks/{task_id}").json(),
        until=lambda t: t["status"] in ("completed", "failed"),
        what=f"task {task_id} to finish",
    )
    assert task["status"] == "completed" and task["result"]["audio_url"]


def test_a_catalog_model_without_a_deployment_fails_its_task(gw):
    response = gw.http.post("/api/v1/inference/video-generation", json={"model": "tiny-i2v", "prompt": "x"})
    assert "not deployed" in expect_error(response, 400, "INVALID_PARAMETERS")["message"]
    assert gw.state.tasks.counts() == {"failed": 1}
