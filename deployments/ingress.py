"""The ingress: the FastAPI app of app.api inside Ray Serve, over the model deployments' handles."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from typing import Any

from ray import serve
from ray.serve.exceptions import BackPressureError, RequestCancelledError
from ray.serve.handle import DeploymentHandle

from app.api import make_app
from app.api.state import ApiState, install_state
from app.config import Settings
from app.errors import ServerOverloadedError, TaskCancelledError, ValidationError, VidBenchError

api = make_app()
log = logging.getLogger("vid_bench")


def _sweep_orphans(state: ApiState) -> None:
    """At start and then periodically: resume benchmarks whose runner went silent (a dead replica, driver or node).

    Every ingress replica sweeps; the claim is a compare-and-set in the database, so each orphan is resumed once.
    """
    while True:
        try:
            resumed = state.get_runner().resume_orphans()
            if resumed:
                log.warning("Resumed benchmarks whose runner went silent: %s", ", ".join(resumed))
        except Exception:
            log.exception("The orphan sweep failed; retrying in %.0fs", state.settings.orphan_after_s)
        time.sleep(state.settings.orphan_after_s)


def _typed(error: BaseException, model: str, task_id: str) -> VidBenchError:
    """Serve / Ray exceptions -> the API's typed errors."""
    if isinstance(error, VidBenchError):
        return error
    if isinstance(error, BackPressureError):
        return ServerOverloadedError(model)
    if isinstance(error, RequestCancelledError):
        return TaskCancelledError(f"Task {task_id} was cancelled", {"task_id": task_id})
    cause = getattr(error, "cause", None)
    if isinstance(cause, VidBenchError):
        return cause
    lines = str(error).strip().splitlines()  # Ray's text ends with the cause's last line; it may be empty
    reason = f"{type(error).__name__}: {lines[-1][:300]}" if lines else type(error).__name__
    return VidBenchError(f"Model '{model}' failed: {reason}", {"model_name": model})


class ServeBackend:
    def __init__(self, handles: dict[str, DeploymentHandle]):
        self.handles = handles
        self.inflight: dict[str, Any] = {}

    def models(self) -> list[str]:
        return list(self.handles)

    def _handle(self, model: str) -> DeploymentHandle:
        if model not in self.handles:
            raise ValidationError(f"Model '{model}' is in the catalog but not deployed on this gateway",
                                  {"model_name": model, "deployed": sorted(self.handles)})
        return self.handles[model]

    async def call(self, model: str, method: str, task_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = getattr(self._handle(model), method).remote(task_id, payload)
        self.inflight[task_id] = response
        try:
            return await response
        except (asyncio.CancelledError, GeneratorExit):  # the client went away: stop the replica's work too
            response.cancel()
            raise
        except BaseException as error:
            raise _typed(error, model, task_id) from error
        finally:
            self.inflight.pop(task_id, None)

    async def stream(self, model: str, method: str, task_id: str, payload: dict[str, Any]) -> AsyncIterator[Any]:
        generator = getattr(self._handle(model).options(stream=True), method).remote(task_id, payload)
        self.inflight[task_id] = generator
        try:
            async for item in generator:
                yield item
        except (asyncio.CancelledError, GeneratorExit):  # the stream's client went away: stop the replica's work
            generator.cancel()
            raise
        except BaseException as error:
            raise _typed(error, model, task_id) from error
        finally:
            self.inflight.pop(task_id, None)

    def cancel(self, task_id: str) -> bool:
        response = self.inflight.get(task_id)
        if response is None:
            return False
        response.cancel()
        return True

    def cluster_state(self) -> dict[str, Any]:
        from deployments.cluster import cluster_state

        return cluster_state()


@serve.deployment(max_ongoing_requests=200)
@serve.ingress(api)
class Gateway:
    def __init__(self, handles: dict[str, DeploymentHandle], settings_json: dict[str, Any]):
        settings = Settings(**settings_json)
        state = ApiState.create(settings, ServeBackend(handles))
        install_state(state)
        threading.Thread(target=_sweep_orphans, args=(state,), name="orphan-sweep", daemon=True).start()
