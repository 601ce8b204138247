"""One error body for every error class the API produces: 400, 401, 403, 404, 405, 408, 409, 413, 422, 503."""

import json

import pytest

from app.errors import GenerationTimeoutError, ServerOverloadedError
from tests.app.api.support import expect_error


@pytest.mark.parametrize(
    "path, body, status, fragment",
    [
        ("/api/v1/inference/video-generation", {"model": "tiny-t2v"}, 422, "prompt"),
        (
            "/api/v1/inference/video-generation",
            {"model": "tiny-t2v", "prompt": "x", "num_frames": 400},
            400,
            "num_frames",
        ),
        (
            "/api/v1/inference/text-generation",
            {"model": "tiny-text", "prompt": "x", "temperature": 9},
            422,
            "temperature",
        ),
        (
            "/api/v1/inference/image-generation",
            {"model": "tiny-t2i", "prompt": "x", "num_images": 50},
            422,
            "num_images",
        ),
        (
            "/api/v1/inference/image-generation",
            {"model": "tiny-t2i", "prompt": "x", "width": 48, "height": 48},
            400,
            "48x48",
        ),
        ("/api/v1/inference/text-to-speech", {"model": "tiny-tts", "text": "hi", "voice": "nobody"}, 400, "voice"),
        ("/api/v1/inference/text-generation", {"model": "tiny-t2v", "prompt": "x"}, 400, "not a text model"),
        ("/api/v1/inference/text-generation", {"model": "tiny-text", "prompt": "x", "surprise": 1}, 422, "surprise"),
    ],
)
def test_bad_bodies_are_refused_before_any_task_exists(gw, path, body, status, fragment):
    error = expect_error(gw.http.post(path, json=body), status, "INVALID_PARAMETERS")
    assert fragment in json.dumps(error)
    assert gw.state.tasks.counts() == {}


def test_the_callers_request_id_is_reported(gw):
    response = gw.http.get("/api/v1/tasks/task-missing", headers={"x-request-id": "req-42"})
    assert expect_error(response, 404, "TASK_NOT_FOUND")["request_id"] == "req-42"


def test_not_found_in_each_form(gw):
    unknown_model = gw.http.post("/api/v1/inference/text-generation", json={"model": "nope", "prompt": "x"})
    assert "tiny-text" in expect_error(unknown_model, 404, "MODEL_NOT_FOUND")["details"]["available_models"]
    expect_error(gw.http.get("/api/v1/tasks/task-missing"), 404, "TASK_NOT_FOUND")
    expect_error(gw.http.get("/api/v1/artifacts/art-missing"), 404, "ARTIFACT_NOT_FOUND")
    expect_error(gw.http.get("/api/v1/models/nope"), 404, "MODEL_NOT_FOUND")
    expect_error(gw.http.get("/api/v1/no/such/route"), 404, "NOT_FOUND")


def test_wrong_method_is_405_with_every_allowed_method(gw):
    response = gw.http.put("/api/v1/tasks/task-1")
    expect_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "DELETE, GET"
    assert gw.http.patch("/api/v1/models").headers["allow"] == "GET"


def test_missing_and_unknown_credentials_are_401_with_a_challenge(gw):
    for headers in ({}, {"X-API-Key": "vdb_" + "0" * 43}, {"Authorization": "Bearer not-a-token"}):
        response = gw.anonymous.get("/api/v1/models", headers=headers)
        expect_error(response, 401, "AUTHENTICATION_FAILED")
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_missing_scope_is_403_naming_it(gw):
    reader = gw.new_key(["models.read"])["key"]
    response = gw.http.get("/api/v1/benchmarks", headers={"X-API-Key": reader})
    assert expect_error(response, 403, "PERMISSION_DENIED")["details"]["required"] == "benchmark.read"


def test_finished_task_cannot_be_cancelled_409(gw):
    done = gw.http.post(
        "/api/v1/inference/text-generation", json={"model": "tiny-text", "prompt": "hi", "max_tokens": 2}
    ).json()
    expect_error(gw.http.delete(f"/api/v1/tasks/{done['task_id']}"), 409, "TASK_ALREADY_FINISHED")


def test_oversized_bodies_are_413_declared_or_streamed(start_gateway):
    gw = start_gateway(max_body_bytes=4096)
    too_big = b"{" + b" " * 4096 + b"}"
    declared = gw.http.post("/api/v1/auth/api-keys", content=too_big, headers={"content-type": "application/json"})
    assert expect_error(declared, 413, "PAYLOAD_TOO_LARGE")["details"]["max_body_bytes"] == 4096

    def chunks():  # no Content-Length: the body is counted as it arrives
        yield b"{"
        for _ in range(5):
            yield b" " * 1024
        yield b"}"

    streamed = gw.http.post("/api/v1/auth/api-keys", content=chunks(), headers={"content-type": "application/json"})
    expect_error(streamed, 413, "PAYLOAD_TOO_LARGE")
    assert (
        gw.http.post("/api/v1/auth/api-keys", json={"name": "small", "permissions": ["models.read"]}).status_code == 201
    )


@pytest.mark.parametrize(
    "failure, status, retry_after",
    [
        (ServerOverloadedError("tiny-text", retry_after_s=7), 503, "7"),
        (GenerationTimeoutError(30, "tiny-text"), 408, None),
    ],
)
def test_model_side_failures_keep_the_body_and_fail_the_task(gw, failure, status, retry_after):
    gw.backend.failure = failure
    response = gw.http.post("/api/v1/inference/text-generation", json={"model": "tiny-text", "prompt": "hi"})
    expect_error(response, status, failure.code)
    assert response.headers.get("retry-after") == retry_after
    task = gw.http.get("/api/v1/tasks/" + _only_task_id(gw)).json()
    assert task["status"] == "failed" and task["error"]["code"] == failure.code


def _only_task_id(gw) -> str:
    from sqlalchemy import select

    from app.storage.tables import TaskRow

    with gw.state.repo.db.session() as s:
        [task_id] = s.scalars(select(TaskRow.id)).all()
    return task_id


@pytest.mark.parametrize(
    "path, body",
    [
        ("/api/v1/inference/video-generation", {"model": "tiny-t2v", "prompt": ""}),
        ("/api/v1/inference/video-generation", {"model": "tiny-t2v", "prompt": " \t\n"}),
        ("/api/v1/inference/image-generation", {"model": "tiny-t2i", "prompt": "   "}),
        ("/api/v1/inference/text-generation", {"model": "tiny-text", "prompt": ""}),
        ("/api/v1/inference/text-to-speech", {"model": "tiny-tts", "text": "  "}),
        ("/api/v1/inference/text-generation", {"model": "tiny-text", "prompt": "x" * 2001}),
        ("/api/v1/benchmarks", {"model_name": "tiny-t2v", "prompts": ["A cat", " "]}),
    ],
)
def test_empty_blank_or_overlong_prompts_are_invalid_prompt_as_in_the_sdk(gw, path, body):
    from app.catalog.spec import validate_prompt
    from app.errors import InvalidPromptError

    prompt = body.get("prompt", body.get("text")) or body.get("prompts", [None])[-1]
    with pytest.raises(InvalidPromptError):  # the SDK's verdict on the same prompt
        validate_prompt(prompt)
    error = expect_error(gw.http.post(path, json=body), 422, "INVALID_PROMPT")
    assert error["details"]["errors"][0]["loc"][1] in ("prompt", "prompts", "text")
    assert gw.state.tasks.counts() == {}


def test_a_video_timeout_reaches_the_model_payload_and_a_bad_one_is_refused(gw):
    from app.inference import prepare

    _, payload = prepare("video", {"model": "tiny-t2v", "prompt": "A cat", "timeout_s": 2.5})
    assert payload["timeout_s"] == 2.5
    for bad in (0, -1, 10**9):
        response = gw.http.post(
            "/api/v1/inference/video-generation", json={"model": "tiny-t2v", "prompt": "A cat", "timeout_s": bad}
        )
        assert "timeout_s" in json.dumps(expect_error(response, 422, "INVALID_PARAMETERS"))


def test_a_batch_size_the_pipeline_cannot_take_is_refused_before_anything_is_stored(gw):
    body = {"model_name": "tiny-i2v", "prompts": ["A cat"], "batch_size": 2}
    error = expect_error(gw.http.post("/api/v1/benchmarks", json=body), 400, "INVALID_PARAMETERS")
    assert "only text-to-video pipelines batch" in error["message"]
    assert gw.state.repo.list(limit=10)[1] == 0
