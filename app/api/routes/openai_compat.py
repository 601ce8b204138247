"""OpenAI-compatible routes, so the official `openai` client works against the gateway.

GET /v1/models and /v1/models/{id} are the models routes mounted at /v1 (app/api/routes/models.py): their one
answer carries OpenAI's list and model object beside the references' fields."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ConfigDict, Field

from app.api.deps import Caller, State, requires
from app.api.dispatch import abandon, run_task
from app.api.schemas.base import RequestBody
from app.catalog.spec import MAX_PROMPT_CHARS, PROMPT_PATTERN
from app.errors import TaskCancelledError, ValidationError, VidBenchError
from app.inference import TASK_TYPES, prepare
from app.storage.tables import TaskRow

router = APIRouter(prefix="/v1", tags=["openai"])


class ChatMessage(RequestBody):
    role: Literal["system", "user", "assistant"]
    content: str = Field(max_length=MAX_PROMPT_CHARS)


class _Sampling(RequestBody):
    model_config = ConfigDict(extra="ignore")

    model: str
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, ge=0.0, le=1.0)
    stop: str | list[str] | None = None
    stream: bool = False
    seed: int | None = Field(default=None, ge=0, le=2**32 - 1)

    def body(self, prompt: str) -> dict[str, Any]:
        stop = [self.stop] if isinstance(self.stop, str) else self.stop
        return {
            "model": self.model,
            "prompt": prompt,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "top_k": None,
            "stop_sequences": stop,
            "seed": self.seed,
        }


class CompletionRequest(_Sampling):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)


class ChatCompletionRequest(_Sampling):
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)


class ImageRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    model: str
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)
    n: int = Field(default=1, ge=1, le=4)
    size: str | None = None
    response_format: Literal["url", "b64_json"] = "url"


class SpeechRequest(RequestBody):
    model_config = ConfigDict(extra="ignore")

    model: str
    input: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)
    voice: str | None = None
    response_format: Literal["wav"] = "wav"
    speed: float | None = Field(default=None, gt=0.0, le=4.0)


def render_chat(messages: list[ChatMessage]) -> str:
    """A plain transcript ending with the assistant's turn (models without a chat template)."""
    lines = [f"{m.role}: {m.content}" for m in messages]
    return "\n".join(lines) + "\nassistant:"


def _result(state: State, task_id: str, done: TaskRow | None) -> dict[str, Any]:
    """The result of the task run_task waited for; one cancelled meanwhile (run_task's None) has none."""
    result = (done or state.tasks.get(task_id)).result
    if result is None:
        raise TaskCancelledError(f"Task {task_id} was cancelled", {"task_id": task_id})
    return result


async def _text(state: State, caller, request: _Sampling, prompt: str, chat: bool):
    spec, payload = prepare("text", request.body(prompt))
    task = state.tasks.create(TASK_TYPES["text"], spec.name, request.model_dump(), owner=caller.id)
    created, ident = int(time.time()), f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex[:24]}"
    if request.stream:
        return StreamingResponse(
            _stream(state, task.id, spec.name, payload, ident, created, chat), media_type="text/event-stream"
        )
    done = await run_task(state, task.id, "text", spec.name, payload, "")
    result = _result(state, task.id, done)
    usage = {
        "prompt_tokens": result["prompt_tokens"],
        "completion_tokens": result["tokens_generated"],
        "total_tokens": result["prompt_tokens"] + result["tokens_generated"],
    }
    if chat:
        choice = {
            "index": 0,
            "message": {"role": "assistant", "content": result["generated_text"]},
            "finish_reason": result["finish_reason"],
        }
    else:
        choice = {
            "index": 0,
            "text": result["generated_text"],
            "logprobs": None,
            "finish_reason": result["finish_reason"],
        }
    return {
        "id": ident,
        "object": "chat.completion" if chat else "text_completion",
        "created": created,
        "model": spec.name,
        "choices": [choice],
        "usage": usage,
    }


async def _stream(state, task_id, model, payload, ident, created, chat):
    kind = "chat.completion.chunk" if chat else "text_completion"
    text = ""

    def chunk(choice: dict) -> str:
        body = {"id": ident, "object": kind, "created": created, "model": model, "choices": [choice]}
        return f"data: {json.dumps(body)}\n\n"

    ended = False
    try:
        if chat:
            first = {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
            yield chunk(first)
        async for event in state.backend.stream(model, "stream", task_id, payload):
            if "token" in event:
                text += event["token"]
                choice = (
                    {"index": 0, "delta": {"content": event["token"]}, "finish_reason": None}
                    if chat
                    else {"index": 0, "text": event["token"], "logprobs": None, "finish_reason": None}
                )
            else:
                state.tasks.complete(
                    task_id,
                    {
                        "generated_text": text,
                        "finish_reason": event["finish_reason"],
                        "tokens_generated": event["tokens_generated"],
                        "model_used": model,
                    },
                )
                choice = (
                    {"index": 0, "delta": {}, "finish_reason": event["finish_reason"]}
                    if chat
                    else {"index": 0, "text": "", "logprobs": None, "finish_reason": event["finish_reason"]}
                )
            yield chunk(choice)
        ended = True
        yield "data: [DONE]\n\n"
    except VidBenchError as error:
        ended = True
        state.tasks.fail(task_id, error)
        yield f"data: {json.dumps({'error': {'message': error.message, 'code': error.code}})}\n\n"
    finally:
        if not ended:  # the client disconnected mid-stream (the generator was closed or cancelled)
            abandon(state, task_id)


@router.post("/completions", dependencies=[requires("inference.text", "inference")])
async def completions(body: CompletionRequest, state: State, caller: Caller):
    return await _text(state, caller, body, body.prompt, chat=False)


@router.post("/chat/completions", dependencies=[requires("inference.text", "inference")])
async def chat_completions(body: ChatCompletionRequest, state: State, caller: Caller):
    return await _text(state, caller, body, render_chat(body.messages), chat=True)


@router.post("/images/generations", dependencies=[requires("inference.image", "inference")])
async def images(body: ImageRequest, request: Request, state: State, caller: Caller) -> dict:
    width = height = None
    if body.size:
        try:
            width, height = (int(x) for x in body.size.lower().split("x"))
        except ValueError:
            raise ValidationError("size must look like WIDTHxHEIGHT", {"size": body.size}) from None
    spec, payload = prepare(
        "image",
        {
            "model": body.model,
            "prompt": body.prompt,
            "width": width,
            "height": height,
            "num_images": body.n,
            "seed": None,
        },
    )
    task = state.tasks.create(TASK_TYPES["image"], spec.name, body.model_dump(), owner=caller.id)
    done = await run_task(state, task.id, "image", spec.name, payload, str(request.base_url))
    images = _result(state, task.id, done)["images"]
    if body.response_format == "b64_json":
        data = [
            {"b64_json": base64.b64encode(Path(state.tasks.artifact(i["artifact_id"]).path).read_bytes()).decode()}
            for i in images
        ]
    else:
        data = [{"url": i["url"]} for i in images]
    return {"created": int(time.time()), "data": data}


@router.post(
    "/audio/speech",
    dependencies=[requires("inference.speech", "inference")],
    response_class=Response,
    responses={200: {"content": {"audio/wav": {}}}},
)
async def speech(body: SpeechRequest, state: State, caller: Caller) -> Response:
    spec, payload = prepare(
        "speech", {"model": body.model, "text": body.input, "voice": body.voice, "speed": body.speed, "seed": None}
    )
    task = state.tasks.create(TASK_TYPES["speech"], spec.name, body.model_dump(), owner=caller.id)
    done = await run_task(state, task.id, "speech", spec.name, payload, "")
    artifact_id = _result(state, task.id, done)["audio_url"].rsplit("/", 1)[-1]
    return Response(Path(state.tasks.artifact(artifact_id).path).read_bytes(), media_type="audio/wav")
