"""A ModelBackend (app/api/backend.py) without Ray and without weights, for the in-process API tests.

It plays the model deployments' side of the contract the way deployments/models.py does: the
replica marks the task running, reports progress per step, stops at the next step once the task
is cancelled, and returns its outputs as bytes with their media type. The outputs are small and
deterministic (a seeded PNG, a WAV of silence, an MP4 written by the real writer, tokens taken
from the prompt), so the HTTP layer is tested in seconds. Generations can be held at their first
step (``hold()`` / ``release()``) to test cancellation and concurrency, or made to fail (``failure``)
with the typed error the Serve backend would raise (a full queue, a timeout).
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
import wave
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from app.catalog import get_catalog
from app.config import Settings
from app.errors import TaskCancelledError, ValidationError, VidBenchError
from app.storage.database import get_database
from app.storage.tasks import TaskRepository

DEPLOYED = ("tiny-t2v", "tiny-t2i", "tiny-text", "tiny-tts")
SAMPLE_RATE = 16000
STEPS = 2
HELD_POLL_S = 0.005


class FakeBackend:
    def __init__(self, settings: Settings, deployed: tuple[str, ...] = DEPLOYED):
        # its own repository over the same database, as a replica in another process has
        self.tasks = TaskRepository(get_database(settings.resolved_database_url), settings.data_dir / "artifacts")
        self.deployed = list(deployed)
        self.inflight: set[str] = set()
        self.cancelled: set[str] = set()
        self.failure: VidBenchError | None = None  # when set, generations fail with it, as Serve would report
        self._open = threading.Event()
        self._open.set()
        self.states: dict[str, dict[str, Any]] = {}  # model -> {"status": "loading" | "error", "message": ...}
        self.extra_nodes: list[dict[str, Any]] = []  # more nodes for cluster_state, as a test describes them
        self.started_ms = time.time() * 1000

    # -- what the tests steer -------------------------------------------------------------------
    def hold(self) -> None:
        """Keep every generation at its first step until ``release()``."""
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    # -- the ModelBackend protocol --------------------------------------------------------------
    def models(self) -> list[str]:
        return list(self.deployed)

    async def call(self, model: str, method: str, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self._check_deployed(model)
        if method == "health":
            return {
                "status": "healthy",
                "details": {"model_loaded": True, "engine": "fake", "replica": self._worker(model)},
            }
        if self.failure is not None:
            raise self.failure
        self.inflight.add(task_id)
        try:
            self._begin(model, task_id)
            for step in range(1, STEPS + 1):
                await self._step(task_id, step / STEPS)
            return GENERATORS[get_catalog().get(model).modality](payload) | {"worker_id": self._worker(model)}
        finally:
            self.inflight.discard(task_id)

    async def stream(self, model: str, method: str, task_id: str, payload: dict[str, Any]) -> AsyncIterator[Any]:
        self._check_deployed(model)
        self.inflight.add(task_id)
        try:
            self._begin(model, task_id)
            tokens, finish_reason = _tokens(payload)
            for step, token in enumerate(tokens, 1):
                await self._step(task_id, step / len(tokens))
                yield {"token": token}
            yield {
                "finish_reason": finish_reason,
                "tokens_generated": len(tokens),
                "prompt_tokens": len(payload["prompt"].split()),
                "worker_id": self._worker(model),
            }
        finally:
            self.inflight.discard(task_id)

    def deploy(self, model: str) -> str:
        """As ServeBackend.deploy: a catalog model (a registered download included) starts serving."""
        get_catalog().get(model)
        if model not in self.deployed:
            self.deployed.append(model)
        return "deployed"

    def cancel(self, task_id: str) -> bool:
        if task_id not in self.inflight:
            return False
        self.cancelled.add(task_id)
        return True

    def cluster_state(self) -> dict[str, Any]:
        """One live CPU node serving the deployed models (the shape deployments/cluster.py reports), probed for
        real on this machine, plus any nodes a test adds to ``extra_nodes``."""
        from app.bench.cluster_report import probe_node

        return {
            "cluster_id": "fake-cluster",
            "nodes": [
                {
                    "id": "node-1",
                    "name": "localhost",
                    "address": "127.0.0.1",
                    "alive": True,
                    "resources": {"CPU": 2.0},
                    "probe": probe_node(sample_s=0.05),
                    "probe_error": None,
                    "replicas": [
                        {
                            "replica": self._worker(m),
                            "class": "ServeReplica",
                            "replica_id": self._worker(m),
                            "model": m,
                        }
                        for m in self.deployed
                    ],
                    "replicas_reason": None,
                    "start_time_ms": self.started_ms,
                    "last_heartbeat_ms": None,
                },
                *self.extra_nodes,
            ],
            "deployments": [
                {
                    "application": "vid-bench",
                    "deployment": "Gateway",
                    "status": "HEALTHY",
                    "replica_states": {"RUNNING": 1},
                }
            ],
            "resources": {"total": {"CPU": 2.0}, "available": {"CPU": 1.5}},
        }

    def model_states(self) -> dict[str, dict[str, Any]]:
        """Every deployed model available, unless a test set another state in ``states``."""
        return {m: self.states.get(m, {"status": "available", "message": None}) for m in self.deployed}

    # -- the replica's side of a task -----------------------------------------------------------
    def _check_deployed(self, model: str) -> None:
        if model not in self.deployed:
            raise ValidationError(
                f"Model '{model}' is in the catalog but not deployed on this gateway",
                {"model_name": model, "deployed": sorted(self.deployed)},
            )

    @staticmethod
    def _worker(model: str) -> str:
        return f"fake-{model}#0"

    def _begin(self, model: str, task_id: str) -> None:
        if not self.tasks.start(task_id, self._worker(model)):
            raise TaskCancelledError(f"Task {task_id} was cancelled before it started", {"task_id": task_id})

    async def _step(self, task_id: str, fraction: float) -> None:
        while not self._open.is_set() and task_id not in self.cancelled:
            await asyncio.sleep(HELD_POLL_S)
        if task_id in self.cancelled or not self.tasks.progress(task_id, fraction):
            raise TaskCancelledError(f"Task {task_id} was cancelled", {"task_id": task_id})


def _tokens(payload: dict[str, Any]) -> tuple[list[str], str]:
    """The prompt's words, repeated, up to max_tokens; cut at the first stop sequence."""
    words = payload["prompt"].split() or ["_"]
    tokens = [" " + words[i % len(words)] for i in range(int(payload["max_tokens"]))]  # catalog defaults are floats
    text = ""
    for i, token in enumerate(tokens):
        text += token
        if any(stop in text for stop in payload.get("stop") or []):
            return tokens[:i], "stop"
    return tokens, "length"


def _text(payload: dict[str, Any]) -> dict[str, Any]:
    tokens, finish_reason = _tokens(payload)
    return {
        "outputs": [],
        "result": {
            "generated_text": "".join(tokens),
            "tokens_generated": len(tokens),
            "finish_reason": finish_reason,
            "prompt_tokens": len(payload["prompt"].split()),
        },
    }


def _image(payload: dict[str, Any]) -> dict[str, Any]:
    from PIL import Image

    outputs = []
    for k in range(payload["num_images"]):
        seed = payload["seed"] + k
        pixels = np.random.default_rng(seed).integers(0, 256, (payload["height"], payload["width"], 3), np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        outputs.append(
            {
                "data": buffer.getvalue(),
                "media_type": "image/png",
                "meta": {"width": payload["width"], "height": payload["height"], "seed": seed},
            }
        )
    return {
        "outputs": outputs,
        "result": {"steps_completed": payload["num_inference_steps"], "batch_size": payload["num_images"]},
    }


def _speech(payload: dict[str, Any]) -> dict[str, Any]:
    duration = 0.05 * len(payload["text"]) / payload["speed"]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(b"\0\0" * int(duration * SAMPLE_RATE))
    return {
        "outputs": [
            {
                "data": buffer.getvalue(),
                "media_type": "audio/wav",
                "meta": {"duration": duration, "sample_rate": SAMPLE_RATE},
            }
        ],
        "result": {"duration": duration, "sample_rate": SAMPLE_RATE},
    }


def _video(payload: dict[str, Any]) -> dict[str, Any]:
    import tempfile
    from pathlib import Path

    from app.storage.videos import write_mp4

    params = payload["params"]
    shape = (params["num_frames"], params["height"], params["width"], 3)
    frames = np.random.default_rng(payload["seed"]).integers(0, 256, shape, np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        data = write_mp4(frames, params["fps"], Path(tmp) / "video.mp4").read_bytes()
    meta = {
        "num_frames": params["num_frames"],
        "fps": params["fps"],
        "width": params["width"],
        "height": params["height"],
        "seed": payload["seed"],
    }
    return {
        "outputs": [{"data": data, "media_type": "video/mp4", "meta": meta}],
        "result": {"steps_completed": params["num_inference_steps"], "batch_size": 1},
    }


GENERATORS = {"text": _text, "image": _image, "speech": _speech, "video": _video}
