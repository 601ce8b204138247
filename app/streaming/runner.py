"""Runs streaming benchmarks on Ray: the model in a ``StreamWorker`` actor, the loop in the caller (CLI, SDK)
or in a detached ``StreamOwner`` actor (REST), everything stored as it happens.

Ray must already be connected (the surfaces call ``app.bench.cluster.ensure_ray``; a detached owner runs
inside Ray). A stop request is a flag in the stream's row: the loop reads it while it waits for a clip or for
room in the buffer, kills the actor and ends the stream ``cancelled``; stored clips stay.

Liveness: while it waits, the loop writes the stream's heartbeat every ``heartbeat_s``; a stream whose owner
went silent is ended ``failed`` by app.streaming.orphans, and a late owner that finds its stream ended stops
without writing. The wait for the model actor to be placed on the cluster is bounded by ``resource_wait_s``.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from typing import Any

import ray

from app.config import Settings, get_settings
from app.errors import (
    ClusterConfigurationError,
    ModelLoadError,
    ResourcesUnavailableError,
    StreamCancelledError,
    VidBenchError,
)
from app.i18n import Message
from app.storage.database import get_database
from app.storage.streams import StreamRepository
from app.streaming.controller import ControllerConfig
from app.streaming.ladder import Rung
from app.streaming.session import SessionResult, run_interactive, run_live
from app.streaming.spec import StreamSpec
from app.streaming.worker import StreamWorker

NAMESPACE = "vid-bench"
POOL_NAME = "vdb-worker-pool"  # app.bench.pool's warm pool of idle benchmark workers (a sibling layer: by name)
POLL_S = 0.1
EventCallback = Callable[[str, dict[str, Any]], None]
RemoteStreamWorker = ray.remote(StreamWorker)


class _Ended(Exception):
    """The stream was ended elsewhere (the orphan sweep) while this owner ran: stop and write nothing more."""


def cpu_share(wanted: float, free: float, minimum: float) -> float:
    """CPUs for the stream's actor: ``wanted`` when free, else the free share down to ``minimum`` (the benchmark
    runner's rule, app.bench.cluster.fit_cpus); below that it asks for ``wanted`` and waits, bounded."""
    if free >= wanted:
        return wanted
    fitted = math.floor(100 * free) / 100
    return fitted if fitted >= minimum else wanted


def placement_check(
    actor_state: dict[str, Any],
    waited_s: float,
    wait_limit_s: float,
    needs: dict[str, Any],
    free: dict[str, float] | None = None,
) -> bool:
    """True once Ray placed the actor (a worker holds it); raises ResourcesUnavailableError when it has waited
    for resources longer than ``wait_limit_s`` (with what it needs and what is ``free``); False while it may
    still wait."""
    placed = bool((actor_state.get("Address") or {}).get("Port"))
    if placed or actor_state.get("State") not in (None, "PENDING_CREATION", "DEPENDENCIES_UNREADY"):
        return True
    if waited_s > wait_limit_s:
        raise ResourcesUnavailableError(
            f"The stream's model actor could not be placed within {wait_limit_s:g}s: it needs {needs}, "
            f"the cluster has {free or {}} free",
            {"needs": needs, "free": free or {}, "waited_s": round(waited_s, 1)},
        )
    return False


def _message(error: Exception) -> tuple[str, str]:
    cause = getattr(error, "cause", None) or error
    if isinstance(cause, VidBenchError):
        return cause.code, cause.message
    text = str(error).strip().splitlines()
    return ModelLoadError.code, text[-1] if text else type(error).__name__


class StreamRunner:
    def __init__(self, repo: StreamRepository | None = None, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.settings.ensure_dirs()
        self.repo = repo or StreamRepository(get_database(self.settings.resolved_database_url))

    def submit(self, spec: StreamSpec, owner: str | None = None) -> str:
        """Validate (raises before storing anything) and store a new stream; returns its id."""
        _, ladder = spec.check(self.settings)
        return self.repo.create(
            spec.mode, spec.model_name, spec.model_dump(mode="json"), [rung.to_dict() for rung in ladder], owner=owner
        ).id

    def cancel(self, stream_id: str) -> str:
        return self.repo.request_cancel(stream_id)

    def start_detached(self, stream_id: str) -> None:
        """Run the stream in a detached actor that outlives the calling process (the REST path)."""
        _connected()
        owner = RemoteStreamOwner.options(
            name=f"stream-{stream_id}", namespace=NAMESPACE, lifetime="detached", num_cpus=0, max_restarts=0
        ).remote(self.settings.portable())
        owner.run.remote(stream_id)

    def run(self, stream_id: str, on_event: EventCallback | None = None) -> SessionResult | None:
        """Run a submitted stream to its end (blocks); ``on_event`` sees every message as it is stored."""
        _connected()
        row = self.repo.get(stream_id)
        spec = StreamSpec(**row.spec)
        model, ladder = spec.check(self.settings)
        config = ControllerConfig(self.settings.streaming_reservoir, self.settings.streaming_cushion)
        if self.repo.cancel_requested(stream_id) or row.status != "submitted":
            return None
        runner_id = f"{os.uname().nodename}:{os.getpid()}"
        if not self.repo.heartbeat(stream_id, runner_id):
            return None  # ended meanwhile (cancelled, or the sweep found it silent)
        self.repo.update(stream_id, status="running")
        actor = None
        last_beat = time.monotonic()

        def should_stop() -> bool:
            nonlocal last_beat
            if time.monotonic() - last_beat >= self.settings.heartbeat_s:
                if not self.repo.heartbeat(stream_id, runner_id):
                    raise _Ended()
                last_beat = time.monotonic()
            return self.repo.cancel_requested(stream_id)

        def emit(events: list[tuple[str, dict[str, Any]]]) -> None:
            if on_event is not None:
                for kind, data in events:
                    on_event(kind, data)

        try:
            device = (
                spec.device
                if spec.device != "auto"
                else ("cuda" if ray.cluster_resources().get("GPU", 0) > 0 else "cpu")
            )
            settings = self.settings.portable()
            needs = {
                "CPU": min(1.0, float(self.settings.torch_threads_per_actor)),
                "GPU": 1 if device.startswith("cuda") else 0,
            }
            _free_idle_workers(needs)
            free_cpus = ray.available_resources().get("CPU", 0.0)
            needs["CPU"] = cpu_share(needs["CPU"], free_cpus, self.settings.actor_min_cpus)
            actor = RemoteStreamWorker.options(num_cpus=needs["CPU"], num_gpus=needs["GPU"], max_restarts=0).remote(
                spec.model_name, device, settings
            )
            rungs = [self._rung_args(rung, spec) for rung in ladder]
            self._wait(
                actor.warm_up.remote(rungs, spec.prompts[0], self.settings.warmup_runs),
                self._until_placed(actor, needs, should_stop),
            )
            info = self._wait(actor.info.remote(), should_stop)
            self.repo.update(
                stream_id,
                started_at=_now(),
                provenance={
                    **info,
                    "spec_hash": row.spec_hash,
                    "ladder": [rung.to_dict() for rung in ladder],
                    "controller": {
                        "algorithm": "BBA-0 (Huang et al., SIGCOMM 2014)",
                        "reservoir": config.reservoir,
                        "cushion": config.cushion,
                    }
                    if spec.adaptive_quality and spec.mode == "live"
                    else None,
                    "warmup_runs_per_rung": self.settings.warmup_runs,
                    "actor_resources": needs,
                },
            )
            self._event(
                stream_id,
                emit,
                "stream_started",
                {"mode": spec.mode, "model_name": model.name, "ladder": [rung.to_dict() for rung in ladder]},
            )

            def generate(prompt: str, rung: Rung, seed: int) -> dict[str, Any]:
                return self._wait(actor.generate_clip.remote(prompt, self._rung_args(rung, spec), seed), should_stop)

            def sink(clip, frames, events) -> None:
                if not self.repo.record_clip(stream_id, clip, frames, events):
                    raise _Ended()
                emit(events)

            def wait(seconds: float) -> None:
                until = time.monotonic() + seconds
                while (left := until - time.monotonic()) > 0:
                    if should_stop():
                        raise StreamCancelledError(Message("The stream was stopped"), {})
                    time.sleep(min(POLL_S, left))

            if spec.mode == "live":
                result = run_live(spec, ladder, generate, sink, wait, config)
            else:
                result = run_interactive(spec, ladder, generate, sink)
        except _Ended:
            return None  # someone else ended it (with the reason); what is stored stays as it is
        except StreamCancelledError:
            event: tuple[str, dict[str, Any]] = ("stream_cancelled", {"reason": "stopped on request"})
            self.repo.finish(stream_id, "cancelled", None, event=event)
            emit([event])
            return None
        except (VidBenchError, ray.exceptions.RayError) as exc:
            code, message = _message(exc)
            event = ("stream_error", {"error": f"{code}: {message}"})
            self.repo.finish(stream_id, "failed", f"{code}: {message}", event=event)
            emit([event])
            raise
        except BaseException as exc:
            event = ("stream_error", {"error": f"runner error: {type(exc).__name__}: {exc}"})
            self.repo.finish(stream_id, "failed", event[1]["error"], event=event)
            emit([event])
            raise
        finally:
            if actor is not None:
                ray.kill(actor, no_restart=True)
        final = {"metrics": result.metrics, "performance": result.performance, "reasons": result.reasons}
        event = ("stream_completed", {"final_metrics": final})
        if not self.repo.finish(
            stream_id,
            "completed",
            None,
            metrics=result.metrics,
            performance=result.performance,
            reasons=result.reasons,
            event=event,
        ):
            return None  # ended elsewhere meanwhile: that ending stands
        emit([event])
        return result

    @staticmethod
    def _rung_args(rung: Rung, spec: StreamSpec) -> dict[str, Any]:
        return {
            "width": rung.width,
            "height": rung.height,
            "num_frames": rung.num_frames,
            "num_inference_steps": spec.num_inference_steps,
        }

    def _until_placed(self, actor: Any, needs: dict[str, Any], should_stop: Callable[[], bool]) -> Callable[[], bool]:
        """``should_stop`` that also ends the wait for an actor Ray cannot place within ``resource_wait_s``."""
        from ray._private import state

        launched, checked, placed = time.monotonic(), 0.0, False

        def check() -> bool:
            nonlocal checked, placed
            if not placed and time.monotonic() - checked >= 1.0:  # one GCS query a second at most
                checked = time.monotonic()
                info = state.actors(actor_id=actor._actor_id.hex()) or {}
                free = {k: round(v, 2) for k, v in ray.available_resources().items() if k in ("CPU", "GPU")}
                placed = placement_check(info, checked - launched, self.settings.resource_wait_s, needs, free)
            return should_stop()

        return check

    def _event(self, stream_id: str, emit, kind: str, data: dict[str, Any]) -> None:
        self.repo.add_events(stream_id, [(kind, data)])
        emit([(kind, data)])

    @staticmethod
    def _wait(ref: Any, should_stop: Callable[[], bool]) -> Any:
        """The value of ``ref``; a stop request meanwhile raises StreamCancelledError (the caller kills the actor)."""
        while not ray.wait([ref], timeout=POLL_S)[0]:
            if should_stop():
                raise StreamCancelledError(Message("The stream was stopped"), {})
        return ray.get(ref)


def _now():
    from app.storage.tables import utcnow

    return utcnow()


def _free_idle_workers(needs: dict[str, float], wait_s: float = 5.0) -> None:
    """Idle benchmark workers kept warm in the pool may hold the CPUs (or GPU) this stream's actor needs: stop
    them, as the benchmark runner does, and wait briefly for Ray to hand their resources back."""

    def short() -> bool:
        free = ray.available_resources()
        return any(free.get(kind, 0.0) < amount for kind, amount in needs.items() if amount)

    if not short():
        return
    try:
        pool = ray.get_actor(POOL_NAME, namespace=NAMESPACE)
    except ValueError:
        return  # no pool on this cluster
    if not ray.get(pool.clear.remote(), timeout=30):
        return
    deadline = time.monotonic() + wait_s
    while short() and time.monotonic() < deadline:
        time.sleep(0.1)


def _connected() -> None:
    if not ray.is_initialized():
        raise ClusterConfigurationError(
            "Ray is not connected in this process; call app.bench.cluster.ensure_ray first", {}
        )


class StreamOwner:
    """Runs one stream to its end inside a detached actor, then exits."""

    def __init__(self, settings_json: dict[str, Any]):
        self.runner = StreamRunner(settings=Settings(**settings_json))

    def run(self, stream_id: str) -> None:
        try:
            self.runner.run(stream_id)
        except Exception:  # noqa: BLE001 - the failure is stored in the stream's row and its last message
            pass
        finally:
            ray.actor.exit_actor()


RemoteStreamOwner = ray.remote(StreamOwner)
