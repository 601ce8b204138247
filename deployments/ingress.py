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
from app.api.telemetry import RequestMetricsMiddleware
from app.config import Settings
from app.errors import ServerOverloadedError, TaskCancelledError, ValidationError, VidBenchError
from deployments import telemetry

api = make_app()
log = logging.getLogger("vid_bench")
# request metrics on ray.util.metrics (deployments/telemetry.py), through the HTTP layer's middleware
api.add_middleware(
    RequestMetricsMiddleware, recorder=telemetry.LazyRecorder(), known_model=telemetry.known_model, api=api
)


def _sweep_orphans(state: ApiState) -> None:
    """At start and then periodically: resume benchmarks whose runner went silent (a dead replica, driver or node)
    and end streams whose owner went silent.

    Every ingress replica sweeps; the claim is a compare-and-set in the database, so each orphan is resumed once.
    """
    from app.storage.streams import StreamRepository
    from app.streaming.orphans import end_orphans

    while True:
        try:
            resumed = state.get_runner().resume_orphans()
            if resumed:
                log.warning("Resumed benchmarks whose runner went silent: %s", ", ".join(resumed))
        except Exception:
            log.exception("The orphan sweep failed; retrying in %.0fs", state.settings.orphan_after_s)
        try:  # streams are not resumed (their clock died with the owner): they end failed, with why
            ended = end_orphans(StreamRepository(state.repo.db), state.settings)
            if ended:
                log.warning("Ended streams whose owner went silent: %s", ", ".join(ended))
        except Exception:
            log.exception("The stream orphan sweep failed; retrying in %.0fs", state.settings.orphan_after_s)
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


MODEL_APP_PREFIX = "model-"
"""Serve applications of models deployed after the gateway started (downloads with auto_assign)."""


class ServeBackend:
    def __init__(self, handles: dict[str, DeploymentHandle], settings_json: dict[str, Any] | None = None):
        self.handles = handles  # the gateway's own models (its configuration): they live as long as it does
        self.added: dict[str, DeploymentHandle] = {}  # handles of applications deployed later, while they run
        self.settings_json = settings_json or {}
        self.inflight: dict[str, Any] = {}

    def _added_apps(self) -> list[str]:
        """Models deployed as applications of their own, by any ingress replica, that run now."""
        try:
            applications = serve.status().applications
        except Exception:  # noqa: BLE001 - outside Serve (scripts): only the gateway's own handles
            return []
        return [
            name[len(MODEL_APP_PREFIX) :]
            for name, app in applications.items()
            if name.startswith(MODEL_APP_PREFIX) and str(app.status).endswith("RUNNING")
        ]

    def models(self) -> list[str]:
        return list(dict.fromkeys([*self.handles, *self._added_apps()]))

    def _handle(self, model: str) -> DeploymentHandle:
        if model in self.handles:
            return self.handles[model]
        if model in self._added_apps():  # Serve's status, not a cached handle: a deleted application is gone
            if model not in self.added:
                self.added[model] = serve.get_app_handle(MODEL_APP_PREFIX + model)
            return self.added[model]
        self.added.pop(model, None)
        raise ValidationError(
            f"Model '{model}' is in the catalog but not deployed on this gateway",
            {"model_name": model, "deployed": sorted(self.models())},
        )

    def deploy(self, model: str) -> str:
        """Deploy a catalog model as a Serve application of its own (default deployment options); blocks until
        it runs. Every ingress replica finds it through Serve's status."""
        from deployments.app import ModelDeployment, deployment_for

        if model in self.models():
            return "deployed"
        serve.run(
            deployment_for(ModelDeployment(name=model), self.settings_json),
            name=MODEL_APP_PREFIX + model,
            route_prefix=None,
        )
        return "deployed"

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

    def model_states(self) -> dict[str, dict[str, Any]]:
        from deployments.cluster import model_states

        return model_states(self.models())


@serve.deployment(max_ongoing_requests=200)
@serve.ingress(api)
class Gateway:
    def __init__(self, handles: dict[str, DeploymentHandle], settings_json: dict[str, Any]):
        settings = Settings(**settings_json)
        state = ApiState.create(settings, ServeBackend(handles, settings_json))
        install_state(state)
        threading.Thread(target=_sweep_orphans, args=(state,), name="orphan-sweep", daemon=True).start()
        threading.Thread(target=telemetry.report_state, args=(state,), name="gateway-metrics", daemon=True).start()
