"""One Ray Serve deployment class per modality, each over an app.engines engine.

A replica loads its model once. Each call gets the task id: the replica marks
the task running, reports step progress into the task row, and stops at the
next step when the task was cancelled (TaskCancelledError). Results go back
to the ingress as bytes, which stores them as artifacts.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from ray import serve

from app.catalog import get_catalog
from app.catalog.facts import dependency_problems
from app.catalog.spec import GenerationParams
from app.config import Settings
from app.engines.image import ImageEngine
from app.engines.speech import SpeechEngine
from app.engines.text import TextEngine, TextRequest, TextResult, TextStream, make_text_engine
from app.engines.video import VideoEngine
from app.errors import TaskCancelledError, VidBenchError
from app.storage.database import get_database
from app.storage.tasks import TaskRepository
from app.storage.videos import write_mp4


class Engine(Protocol):
    """What a replica needs of any engine; each deployment class names its modality's engine."""

    device: str

    def load(self) -> float: ...


ENGINES: dict[str, Callable[..., Engine]] = {
    "video": VideoEngine,
    "image": ImageEngine,
    "text": make_text_engine,
    "speech": SpeechEngine,
}
"""Engine constructor per modality; each takes (model spec, device, optimization profile, models dir)."""

BatchRequest = tuple[str, dict[str, Any]]  # (task id, payload)
BatchResult = dict[str, Any] | VidBenchError | None  # a request's result, its call's error, or None when cancelled
Key = TypeVar("Key", bound=Hashable)
ImageKey = tuple[int, int, int, float, str | None]  # width, height, steps, guidance, negative prompt


class ClientErrorsOnOneLine(logging.Filter):
    """Serve logs every exception a replica raises with its traceback. A typed refusal (a 4xx: a prompt longer than
    the model's context, a cancelled task) is ordinary: it is logged as one line; real failures keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, VidBenchError) and error.http_status < 500:
            record.msg, record.args = "Request refused: %s: %s", (error.code, error.message)
            record.exc_info = record.exc_text = None
        return True


def quiet_client_errors() -> None:
    """Install the filter on Serve's logger of this process, once."""
    from ray.serve._private.constants import SERVE_LOGGER_NAME

    serve_logger = logging.getLogger(SERVE_LOGGER_NAME)
    if not any(isinstance(f, ClientErrorsOnOneLine) for f in serve_logger.filters):
        serve_logger.addFilter(ClientErrorsOnOneLine())


def _cancelled(task_id: str) -> TaskCancelledError:
    return TaskCancelledError(f"Task {task_id} was cancelled", {"task_id": task_id})


class _Replica:
    """What every replica does: load its model once at start, keep task rows current, answer health checks."""

    modality = ""
    engine: Engine

    def __init__(self, model_name: str, settings_json: dict[str, Any]):
        import torch

        quiet_client_errors()
        self.settings = Settings(**settings_json)
        self.settings.ensure_dirs()
        torch.set_num_threads(self.settings.torch_threads_per_actor)
        self.model_spec = get_catalog(self.settings.resolved_models_dir).get(model_name)  # downloads included
        self.tasks = TaskRepository(
            get_database(self.settings.resolved_database_url), self.settings.data_dir / "artifacts"
        )
        self.engine = ENGINES[self.modality](
            self.model_spec, self.settings.device, None, self.settings.resolved_models_dir
        )
        from app.bench.cluster import cap_to_gpu_share

        self.memory_cap = cap_to_gpu_share(getattr(self.engine, "device", "cpu"), self.settings)  # gpu_memory_fraction
        self.load_s = self.engine.load()  # a load failure is the engine's ModelLoadError; the replica does not start
        self.loaded_at = time.time()

    def worker_id(self) -> str:
        try:
            return str(serve.get_replica_context().replica_id)
        except Exception:  # noqa: BLE001 - outside a replica (direct use in scripts)
            return f"{os.uname().nodename}:{os.getpid()}"

    def begin(self, task_id: str) -> None:
        if not self.tasks.start(task_id, self.worker_id()):
            raise TaskCancelledError(f"Task {task_id} was cancelled before it started", {"task_id": task_id})

    def step_reporter(self, task_id: str):
        progress = self.progress_writer([task_id])

        def on_step(done: int, total: int) -> None:
            if not progress(done / total)[0]:
                raise _cancelled(task_id)

        return on_step

    def cancel_reader(self, task_id: str):
        """live() -> False once the task was cancelled, read from the database at most every progress_interval_s."""
        interval = self.settings.progress_interval_s
        read_at, is_live = time.monotonic(), True

        def live() -> bool:
            nonlocal read_at, is_live
            now = time.monotonic()
            if is_live and now - read_at >= interval:
                is_live, read_at = not self.tasks.is_cancelled(task_id), now
            return is_live

        return live

    def progress_writer(self, task_ids: list[str]):
        """progress(fraction) -> whether each task is still live, written to the database at most every
        ``progress_interval_s`` (each write also reads the cancel flag); between writes the last answer stands.
        A request shorter than the interval writes no step at all: completion sets progress to 1."""
        interval = self.settings.progress_interval_s
        written_at, live = time.monotonic(), [True] * len(task_ids)

        def progress(fraction: float) -> list[bool]:
            nonlocal written_at, live
            now = time.monotonic()
            if now - written_at >= interval:
                live = [self.tasks.progress(task_id, fraction) for task_id in task_ids]
                written_at = now
            return live

        return progress

    def health(self, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Loaded state, load time, memory, and the time of one small real generation."""
        import psutil
        import torch

        started = time.perf_counter()
        self.smoke_test()
        test_ms = (time.perf_counter() - started) * 1000
        device = getattr(self.engine, "device", "cpu")
        gpu_gb = torch.cuda.memory_allocated(device) / 2**30 if str(device).startswith("cuda") else None
        return {
            "status": "healthy",
            "load_time_ms": self.load_s * 1000,
            "test_generation_ms": test_ms,
            "memory_usage_gb": gpu_gb,
            "process_rss_gb": psutil.Process().memory_info().rss / 2**30,
            "details": {
                "model_loaded": True,
                "device": str(device),
                "gpu_available": torch.cuda.is_available(),
                "dependencies_ok": not (problems := dependency_problems(self.model_spec)),
                "dependency_problems": problems,
                "engine": getattr(self.engine, "name", type(self.engine).__name__),
                "replica": self.worker_id(),
            },
        }

    def smoke_test(self) -> None:
        raise NotImplementedError


class _BatchedReplica(_Replica, Generic[Key]):
    """Concurrent requests are collected (@serve.batch); those with the same settings share one pipeline call.

    A request whose task was cancelled before its batch ran, or during it, gets no result (None), and its
    caller a TaskCancelledError.
    """

    def __init__(
        self,
        model_name: str,
        settings_json: dict[str, Any],
        max_batch_size: int = 4,
        batch_wait_timeout_s: float = 0.05,
    ):
        super().__init__(model_name, settings_json)
        self.generate_batch.set_max_batch_size(max_batch_size)
        self.generate_batch.set_batch_wait_timeout_s(batch_wait_timeout_s)

    async def generate(self, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        result = await self.generate_batch((task_id, payload))
        if result is None:
            raise _cancelled(task_id)
        if isinstance(result, VidBenchError):  # this request's call failed (timeout, out of memory); others did not
            raise result
        return result

    @serve.batch(max_batch_size=4, batch_wait_timeout_s=0.05)
    async def generate_batch(self, requests: list[BatchRequest]) -> list[BatchResult]:
        return await asyncio.to_thread(self._run_batch, requests)

    def _run_batch(self, requests: list[BatchRequest]) -> list[BatchResult]:
        raise NotImplementedError

    def _start_groups(self, requests: list[BatchRequest]) -> dict[Key, list[int]]:
        """Mark each task running and group the requests that can share a pipeline call, by index.

        A task cancelled before it started joins no group, so its result stays None.
        """
        groups: dict[Key, list[int]] = {}
        for i, (task_id, payload) in enumerate(requests):
            if self.tasks.start(task_id, self.worker_id()):
                groups.setdefault(self.batch_key(payload), []).append(i)
        return groups

    def batch_key(self, payload: dict[str, Any]) -> Key:
        raise NotImplementedError


def _mp4_output(result, params) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data = write_mp4(result.frames, result.fps, Path(tmp) / "video.mp4").read_bytes()
    meta = {
        "num_frames": result.num_frames,
        "fps": result.fps,
        "width": params.width,
        "height": params.height,
        "seed": result.seed,
    }
    return {"data": data, "media_type": "video/mp4", "meta": meta}


@serve.deployment
class VideoDeployment(_BatchedReplica[str]):
    """Text-to-video requests that arrive together with identical settings share one pipeline call
    (@serve.batch); image-to-video requests run one at a time (the pipeline conditions on one image)."""

    modality = "video"
    engine: VideoEngine

    async def generate(self, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        if self.model_spec.task != "t2v":
            return await asyncio.to_thread(self._generate_one, task_id, payload)
        return await super().generate(task_id, payload)

    def _generate_one(self, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.begin(task_id)
        params = GenerationParams(**payload["params"])
        result = self.engine.generate(
            payload["prompt"],
            params,
            seed=payload["seed"],
            on_step=self.step_reporter(task_id),
            timeout_s=payload.get("timeout_s"),
        )
        return {
            "worker_id": self.worker_id(),
            "outputs": [_mp4_output(result, params)],
            "result": {
                "generation_time": result.timings.total_s,
                "timings": result.timings.to_dict(),
                "steps_completed": params.num_inference_steps,
                "batch_size": 1,
            },
        }

    def batch_key(self, payload: dict[str, Any]) -> str:
        """Requests share a call when their settings and their timeout agree."""
        return json.dumps({"params": payload["params"], "timeout_s": payload.get("timeout_s")}, sort_keys=True)

    def _run_batch(self, requests: list[BatchRequest]) -> list[BatchResult]:
        results: list[BatchResult] = [None] * len(requests)
        for key, members in self._start_groups(requests).items():
            shared = json.loads(key)
            params = GenerationParams(**shared["params"])

            progress = self.progress_writer([requests[i][0] for i in members])

            def on_step(done: int, total: int, progress=progress) -> None:
                if not any(progress(done / total)):  # every request of this call was cancelled: stop the work
                    raise TaskCancelledError("every task of the batch was cancelled", {})

            try:
                videos = self.engine.generate_batch(
                    [requests[i][1]["prompt"] for i in members],
                    params,
                    [requests[i][1]["seed"] for i in members],
                    on_step,
                    timeout_s=shared["timeout_s"],
                )
            except TaskCancelledError:
                continue
            except VidBenchError as error:  # a timeout or out-of-memory ends every request of this call
                for i in members:
                    results[i] = error
                continue
            cancelled = self.tasks.cancelled_among([requests[i][0] for i in members])  # one query for the batch
            for i, video in zip(members, videos, strict=True):
                if requests[i][0] not in cancelled:
                    results[i] = {
                        "worker_id": self.worker_id(),
                        "outputs": [_mp4_output(video, params)],
                        "result": {
                            "generation_time": video.timings.total_s,
                            "timings": video.timings.to_dict(),
                            "steps_completed": params.num_inference_steps,
                            "batch_size": len(members),
                        },
                    }
        return results

    def smoke_test(self) -> None:
        frames = self.model_spec.parameters["num_frames"]
        fewest = min(frames.choices) if frames.choices is not None else frames.min
        if fewest is None:  # the catalog gives every parameter choices or a min and max
            raise ValueError(f"{self.model_spec.name}: num_frames has neither choices nor a min")
        self.engine.generate("health check", {"num_frames": int(fewest), "num_inference_steps": 1}, seed=0)


@serve.deployment
class ImageDeployment(_BatchedReplica[ImageKey]):
    """Concurrent requests are batched (@serve.batch): requests with the same size, steps, guidance and
    negative prompt share one pipeline call; each image keeps its own seed."""

    modality = "image"
    engine: ImageEngine

    def batch_key(self, payload: dict[str, Any]) -> ImageKey:
        return (
            payload["width"],
            payload["height"],
            payload["num_inference_steps"],
            payload["guidance_scale"],
            payload.get("negative_prompt"),
        )

    def _run_batch(self, requests: list[BatchRequest]) -> list[BatchResult]:
        results: list[BatchResult] = [None] * len(requests)
        for (width, height, steps, guidance, negative), members in self._start_groups(requests).items():
            prompts, seeds, owners = [], [], []
            for i in members:
                payload = requests[i][1]
                for k in range(payload["num_images"]):
                    prompts.append(payload["prompt"])
                    seeds.append(payload["seed"] + k)
                    owners.append(i)

            progress = self.progress_writer([requests[i][0] for i in members])

            def on_step(done: int, total: int, progress=progress) -> None:
                progress(done / total)

            images = self.engine.generate_batch(prompts, seeds, width, height, steps, guidance, negative, on_step)
            cancelled = self.tasks.cancelled_among([requests[i][0] for i in members])  # one query for the batch
            for i in members:
                if requests[i][0] in cancelled:
                    continue
                outputs = []
                for image, owner, seed in zip(images, owners, seeds, strict=True):
                    if owner == i:
                        buffer = io.BytesIO()
                        image.save(buffer, format="PNG")
                        outputs.append(
                            {
                                "data": buffer.getvalue(),
                                "media_type": "image/png",
                                "meta": {"width": image.width, "height": image.height, "seed": seed},
                            }
                        )
                results[i] = {
                    "worker_id": self.worker_id(),
                    "outputs": outputs,
                    "result": {"steps_completed": steps, "batch_size": len(prompts)},
                }
        return results

    def smoke_test(self) -> None:
        self.engine.generate("health check", seed=0, num_inference_steps=1)


def _final(pieces: TextStream) -> TextResult:
    """The stream's result, once it has ended."""
    if pieces.result is None:
        raise RuntimeError("The text stream has not ended: it has no result yet")
    return pieces.result


@serve.deployment
class TextDeployment(_Replica):
    modality = "text"
    engine: TextEngine

    def _stream(self, payload: dict[str, Any]) -> tuple[TextRequest, TextStream]:
        request = self.engine.request(
            payload["prompt"],
            payload["max_tokens"],
            payload["temperature"],
            payload["top_p"],
            payload["top_k"],
            payload.get("stop"),
            payload.get("seed"),
        )
        return request, TextStream(self.engine.stream(request))

    def generate(self, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The whole text at once; progress is tokens so far over max_tokens."""
        self.begin(task_id)
        request, pieces = self._stream(payload)
        progress = self.progress_writer([task_id])
        for produced, _ in enumerate(pieces, start=1):
            if not progress(min(produced / request.max_tokens, 0.99))[0]:
                pieces.close()
                raise _cancelled(task_id)
        result = _final(pieces)
        return {
            "worker_id": self.worker_id(),
            "outputs": [],
            "result": {
                "generated_text": result.text,
                "tokens_generated": result.tokens_generated,
                "finish_reason": result.finish_reason,
                "prompt_tokens": result.prompt_tokens,
            },
        }

    def stream(self, task_id: str, payload: dict[str, Any]):
        """Yields {"token": text} per token, then {"finish_reason", "tokens_generated", ...}."""
        self.begin(task_id)
        _, pieces = self._stream(payload)
        live = self.cancel_reader(task_id)
        for piece in pieces:
            if not live():
                pieces.close()
                raise _cancelled(task_id)
            yield {"token": piece}
        result = _final(pieces)
        yield {
            "finish_reason": result.finish_reason,
            "tokens_generated": result.tokens_generated,
            "prompt_tokens": result.prompt_tokens,
            "worker_id": self.worker_id(),
        }

    def smoke_test(self) -> None:
        self.engine.generate(self.engine.request("health check", max_tokens=1, temperature=0.0))


@serve.deployment
class SpeechDeployment(_Replica):
    modality = "speech"
    engine: SpeechEngine

    def generate(self, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        self.begin(task_id)
        result = self.engine.synthesize(
            payload["text"],
            payload["voice"],
            payload["language"],
            payload["speed"],
            payload["pitch"],
            seed=payload["seed"],
        )
        if self.tasks.is_cancelled(task_id):
            raise _cancelled(task_id)
        return {
            "worker_id": self.worker_id(),
            "outputs": [
                {
                    "data": result.wav,
                    "media_type": "audio/wav",
                    "meta": {"duration": result.duration_s, "sample_rate": result.sample_rate},
                }
            ],
            "result": {
                "duration": result.duration_s,
                "sample_rate": result.sample_rate,
                "generation_time": result.seconds,
            },
        }

    def smoke_test(self) -> None:
        self.engine.synthesize("health check", seed=0)


# Serve's decorator makes each class a serve.Deployment (mypy does not apply class decorators: it sees the class)
DEPLOYMENTS: dict[str, serve.Deployment] = {
    "video": VideoDeployment,
    "image": ImageDeployment,
    "text": TextDeployment,
    "speech": SpeechDeployment,
}
