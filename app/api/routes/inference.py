from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from app.api.deps import Caller, State, requires
from app.api.dispatch import abandon, run_task
from app.api.schemas.inference import (
    ImageGenerationRequest,
    TextGenerationRequest,
    TextToSpeechRequest,
    VideoGenerationRequest,
)
from app.api.schemas.tasks import TaskResponse
from app.errors import VidBenchError
from app.inference import TASK_TYPES, prepare

router = APIRouter(prefix="/inference", tags=["inference"])


async def _submit(request: Request, state: State, caller: Caller, modality: str, body: Any):
    data = body.model_dump(by_alias=False)
    spec, payload = prepare(modality, data)
    task = await asyncio.to_thread(state.tasks.create, TASK_TYPES[modality], spec.name, data, owner=caller.id)
    base_url = str(request.base_url)
    if body.run_async:
        state.spawn(_quiet(run_task(state, task.id, modality, spec.name, payload, base_url)))
        return _json(TaskResponse.from_task(task), status_code=202)
    done = await run_task(state, task.id, modality, spec.name, payload, base_url)
    if done is None:  # cancelled meanwhile: the row as it is now
        done = await asyncio.to_thread(state.tasks.get, task.id)
    return _json(TaskResponse.from_task(done))


def _json(body: TaskResponse, status_code: int = 200) -> Response:
    """The response encoded once, by pydantic (returning the model would have FastAPI validate and encode it
    again through response_model, which stays for the OpenAPI document)."""
    return Response(body.model_dump_json(), status_code=status_code, media_type="application/json")


async def _quiet(coro):
    with contextlib.suppress(VidBenchError):  # recorded on the task by run_task
        await coro


@router.post(
    "/text-generation",
    response_model=TaskResponse,
    responses={202: {"model": TaskResponse}},
    dependencies=[requires("inference.text", "inference")],
)
async def text_generation(body: TextGenerationRequest, request: Request, state: State, caller: Caller):
    if not body.stream:
        return await _submit(request, state, caller, "text", body)
    data = body.model_dump()
    spec, payload = prepare("text", data)
    task = state.tasks.create(TASK_TYPES["text"], spec.name, data, owner=caller.id)
    return StreamingResponse(
        _sse_tokens(state, task.id, spec.name, payload),
        media_type="text/event-stream",
        headers={"X-Task-Id": task.id, "Cache-Control": "no-cache"},
    )


async def _sse_tokens(state, task_id: str, model: str, payload: dict):
    text = ""
    ended = False
    try:
        async for event in state.backend.stream(model, "stream", task_id, payload):
            if "token" in event:
                text += event["token"]
                yield f"data: {json.dumps({'token': event['token'], 'partial_text': text})}\n\n"
            else:
                result = {
                    "generated_text": text,
                    "tokens_generated": event["tokens_generated"],
                    "finish_reason": event["finish_reason"],
                    "model_used": model,
                }
                state.tasks.complete(task_id, result)
                yield f"data: {json.dumps({'done': True, 'final_text': text, 'task_id': task_id, **result})}\n\n"
        ended = True
    except VidBenchError as error:
        ended = True
        state.tasks.fail(task_id, error)
        yield f"data: {json.dumps({'error': {'code': error.code, 'message': error.message}})}\n\n"
    finally:
        if not ended:  # the client disconnected mid-stream (the generator was closed or cancelled)
            abandon(state, task_id)


@router.post(
    "/image-generation",
    response_model=TaskResponse,
    responses={202: {"model": TaskResponse}},
    dependencies=[requires("inference.image", "inference")],
)
async def image_generation(body: ImageGenerationRequest, request: Request, state: State, caller: Caller):
    return await _submit(request, state, caller, "image", body)


@router.post(
    "/text-to-speech",
    response_model=TaskResponse,
    responses={202: {"model": TaskResponse}},
    dependencies=[requires("inference.speech", "inference")],
)
async def text_to_speech(body: TextToSpeechRequest, request: Request, state: State, caller: Caller):
    return await _submit(request, state, caller, "speech", body)


@router.post(
    "/video-generation",
    response_model=TaskResponse,
    responses={202: {"model": TaskResponse}},
    dependencies=[requires("inference.video", "inference")],
)
async def video_generation(body: VideoGenerationRequest, request: Request, state: State, caller: Caller):
    return await _submit(request, state, caller, "video", body)
