"""Gateway requests: a seed for every unseeded image/speech/video request, recorded in the task's result."""

import asyncio

import pytest

from app.api.dispatch import run_task
from app.api.state import ApiState
from app.errors import ValidationError
from app.inference import SEED_RANGE, prepare
from app.storage.database import get_database
from app.storage.repository import BenchmarkRepository
from app.storage.tasks import TaskRepository

VIDEO = {"model": "tiny-t2v", "prompt": "A cat"}


def test_unseeded_requests_draw_fresh_seeds_and_given_seeds_are_kept():
    seeds = {prepare("video", dict(VIDEO))[1]["seed"] for _ in range(5)}
    assert len(seeds) > 1 and all(0 <= s < SEED_RANGE for s in seeds)
    assert prepare("video", {**VIDEO, "seed": 0})[1]["seed"] == 0
    assert prepare("image", {"model": "tiny-t2i", "prompt": "A cat"})[1]["seed"] is not None
    assert prepare("text", {"model": "tiny-text", "prompt": "Hi"})[1]["seed"] is None  # text samples unseeded


def test_video_requests_take_every_parameter_of_the_one_model():
    _, payload = prepare("video", {**VIDEO, "resolution": "64x64", "scheduler": "ddim", "num_frames": 4})
    assert payload["params"]["width"] == 64 and payload["params"]["scheduler"] == "ddim"
    with pytest.raises(ValidationError, match="num_frames"):
        prepare("video", {**VIDEO, "num_frames": 99})


class _FakeBackend:
    """Answers like a video deployment, without generating anything."""

    async def call(self, model, method, task_id, payload):
        return {
            "worker_id": "w",
            "outputs": [{"data": b"mp4", "media_type": "video/mp4", "meta": {}}],
            "result": {"steps_completed": payload["params"]["num_inference_steps"]},
        }


def test_the_seed_used_is_recorded_in_the_result(settings):
    repo = BenchmarkRepository(get_database(settings.resolved_database_url))
    state = ApiState(
        settings=settings,
        repo=repo,
        tasks=TaskRepository(repo.db, settings.data_dir / "artifacts"),
        backend=_FakeBackend(),
    )
    spec, payload = prepare("video", dict(VIDEO))
    task = state.tasks.create("video-generation", spec.name, VIDEO)
    asyncio.run(run_task(state, task.id, "video", spec.name, payload, "http://test"))
    assert state.tasks.get(task.id).result["seed"] == payload["seed"]


def test_the_gateway_references_names_resolve():
    spec, payload = prepare(
        "speech",
        {
            "model": "bark",
            "text": "Hello, welcome!",
            "voice": "speaker_1",
            "language": "en",
            "speed": 1.0,
            "pitch": 1.0,
        },
    )
    assert spec.name == "bark" and payload["voice"] == "v2/en_speaker_1" and payload["language"] == "en"
    spec, payload = prepare(
        "image",
        {
            "model": "stable-diffusion-xl",
            "prompt": "A sunset",
            "width": 1024,
            "height": 1024,
            "steps": 50,
            "guidance_scale": 7.5,
            "seed": 42,
        },
    )
    assert spec.name == "sdxl" and payload["num_inference_steps"] == 50
