"""Runs benchmarks on Ray: one actor per model, results stored as they arrive.

Flow for each benchmark:
  1. the spec is checked against the catalog before anything is stored;
  2. one ``BenchmarkWorker`` actor per model loads the pipeline once and warms up;
  3. work items (prompt x seed) not yet stored are sent, a few in flight per actor;
  4. each finished video is written to the database at once (idempotent per item),
     and a progress event is emitted;
  5. if an actor dies, Ray restarts it and its unfinished items are sent again;
  6. at the end the aggregates (CIs, set-level metrics, performance) are computed
     from what is stored and written in one transaction.
Cancellation stops sending work, kills the actors and marks the benchmark
cancelled; stored videos stay as they are.

Ownership lives in the shared database, so it works from any process on the cluster: the
runner writes a heartbeat for every benchmark it holds and reads cancel requests between
work items; a benchmark whose runner went silent is an orphan that another process claims
(compare-and-set) and resumes, redoing only what is not stored. REST benchmarks run in a
detached ``BenchmarkOwner`` actor, so they outlive the replica that accepted them.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import ray

from app.bench import telemetry
from app.bench.aggregates import aggregate_rows
from app.bench.cluster import check_shared_state, ensure_ray, fit_cpus, gpu_fraction, gpu_memory_gb
from app.bench.pool import OUTSIDE_PLACEMENT_GROUPS, get_pool
from app.bench.provenance import package_versions
from app.bench.results import video_record
from app.bench.spec import BenchmarkSpec
from app.bench.worker import BenchmarkWorker, pool_key
from app.config import Settings, get_settings
from app.errors import ModelLoadError, ResourcesUnavailableError, VidBenchError
from app.storage.database import get_database
from app.storage.repository import TERMINAL, BenchmarkRepository
from app.storage.tables import utcnow

ProgressCallback = Callable[[dict[str, Any]], None]
NAMESPACE = "vid-bench"  # Ray namespace of the detached benchmark owners
IN_FLIGHT_PER_ACTOR = 2


def orphan_after_s(idle_s: float) -> float:
    """How long a pooled worker may go without a call before it stops itself: well past the pool's own idle
    eviction (``idle_s``, checked every few seconds), so a worker the pool holds is always evicted by the pool
    first, and only a worker nobody holds (its runner died mid-benchmark) reaches this limit."""
    return 2 * idle_s + 10


def _tracked(method: Callable[..., Any]) -> Callable[..., Any]:
    """Counts the call as activity for the orphan watch."""

    def call(self: ActorWorker, *args: Any, **kwargs: Any) -> Any:
        with self._activity:
            self._calls += 1
        try:
            return method(self, *args, **kwargs)
        finally:
            with self._activity:
                self._calls -= 1
                self._last_call = time.monotonic()

    call.__name__, call.__doc__ = method.__name__, method.__doc__
    return call


class ActorWorker:
    """The worker as a Ray actor. Ray hands on a constructor's exception as text only, so a typed load refusal
    (INSUFFICIENT_MEMORY, MODEL_LOAD_FAILED) is kept and raised by the first call, where Ray passes the error
    object on whole, its code and details included.

    A pooled worker is detached (it outlives the runner that started it), so nothing would stop it if that
    runner died mid-benchmark: it would hold its CPUs and memory for good. It watches its own calls and stops
    itself once none came for ``orphan_after_s``."""

    def __init__(self, spec_json: dict[str, Any], settings_json: dict[str, Any]):
        self._error: VidBenchError | None = None
        self._activity, self._calls, self._last_call = threading.Lock(), 0, time.monotonic()
        idle_s = float(settings_json.get("worker_pool_idle_s") or 0)
        in_actor = ray.is_initialized() and ray.get_runtime_context().get_actor_id() is not None
        if idle_s > 0 and in_actor:  # (a test may build the class in-process: nothing to stop there)
            threading.Thread(
                target=self._stop_when_orphaned, args=(orphan_after_s(idle_s),), name="orphan-watch", daemon=True
            ).start()
        try:
            self._worker = BenchmarkWorker(spec_json, settings_json)
        except VidBenchError as exc:
            self._error = exc

    def _stop_when_orphaned(self, limit_s: float) -> None:
        while True:
            time.sleep(min(5.0, limit_s / 4))
            with self._activity:
                silent_s = 0.0 if self._calls else time.monotonic() - self._last_call
            if silent_s > limit_s:
                ray.kill(ray.get_runtime_context().current_actor, no_restart=True)
                return

    def _ready(self) -> BenchmarkWorker:
        if self._error is not None:
            raise self._error
        return self._worker

    @_tracked
    def configure(self, spec_json: dict[str, Any], settings_json: dict[str, Any]) -> dict[str, Any]:
        return self._ready().configure(spec_json, settings_json)  # a pooled worker taking on the next benchmark

    @_tracked
    def info(self) -> dict[str, Any]:
        return self._ready().info()

    @_tracked
    def warm_up(self) -> int:
        return self._ready().warm_up()

    @_tracked
    def run(self, benchmark_id: str, prompt_index: int, prompt: str, seed: int) -> dict[str, Any]:
        return self._ready().run(benchmark_id, prompt_index, prompt, seed)

    @_tracked
    def run_batch(self, benchmark_id: str, items: list[tuple[int, str, int]]) -> list[dict[str, Any]]:
        return self._ready().run_batch(benchmark_id, items)

    @_tracked
    def rss_bytes(self) -> int:
        return self._ready().rss_bytes()

    def pid(self) -> int:
        return os.getpid()


RemoteBenchmarkWorker = ray.remote(ActorWorker)  # the actor class; per-model resources come with .options()


def actors_for(settings: Settings) -> int:
    """How many benchmark actors the cluster holds at once without oversubscribing its cores: its CPUs over
    the torch threads (and CPUs) each actor takes; at least one."""
    cpus = ray.cluster_resources().get("CPU", 0.0)
    return max(1, int(cpus // max(1, settings.torch_threads_per_actor)))


def _cause(error: Exception) -> str:
    """The message of the exception that killed an actor's constructor, if Ray kept it."""
    cause = getattr(error, "cause", None) or getattr(error, "__cause__", None)
    if isinstance(cause, VidBenchError):
        return cause.message
    text = str(error).strip()
    last = text.splitlines()[-1] if text else type(error).__name__
    return re.sub(r"^[\w.]+(Error|Exception): ", "", last)  # "app.errors.ValidationError: msg" -> "msg"


@dataclass
class _Job:
    benchmark_id: str
    benchmark_spec: BenchmarkSpec
    pending: list[tuple[int, str, int]]
    actor: Any = None
    # each actor call's ref -> the work items it holds (batch_size of them)
    in_flight: dict[Any, tuple[tuple[int, str, int], ...]] = field(default_factory=dict)
    retries: int = 0
    info: dict[str, Any] | None = None
    info_ref: Any = None
    ready_ref: Any = None  # set while the actor starts or restarts; no work is sent meanwhile
    launched_at: float = 0.0  # monotonic time the actor was asked for, to bound the wait for resources
    resources: dict[str, Any] | None = None
    pool_key: str | None = None  # set when the worker came from, or goes back to, the warm pool


class BenchmarkRunner:
    def __init__(
        self, repo: BenchmarkRepository | None = None, settings: Settings | None = None, runner_id: str | None = None
    ):
        self.settings = settings or get_settings()
        self.settings.ensure_dirs()
        self.repo = repo or BenchmarkRepository(get_database(self.settings.resolved_database_url))
        self.runner_id = runner_id or f"{os.uname().nodename}:{os.getpid()}"
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()

    # -- submission -----------------------------------------------------------------------------
    def submit(self, spec: BenchmarkSpec, owner: str | None = None) -> str:
        """Validate (raises before storing anything) and store a new benchmark; returns its id."""
        spec.check()
        ensure_ray(self.settings)
        check_shared_state(self.settings, gateway=False)  # several nodes on node-local SQLite: refused, nothing stored
        spec.profile().check_device(self._effective_device(spec.device))
        row = self.repo.create_benchmark(
            spec.model_name, spec.model_dump(mode="json"), len(spec.work_items()), owner=owner
        )
        return row.id

    def _effective_device(self, device: str) -> str:
        """Where the actors will run: 'auto' means a GPU when the cluster has one."""
        if device != "auto":
            return device
        ensure_ray(self.settings)
        return "cuda" if ray.cluster_resources().get("GPU", 0) > 0 else "cpu"

    def cancel(self, benchmark_id: str) -> None:
        """Ask for a stop, from any process: the runner holding it reads the request between work items."""
        with self._lock:
            self._cancelled.add(benchmark_id)
        self.repo.request_cancel(benchmark_id)

    def _is_cancelled(self, benchmark_id: str) -> bool:
        with self._lock:
            return benchmark_id in self._cancelled

    # -- ownership: detached owners, heartbeats, orphans ----------------------------------------------
    def start_detached(self, benchmark_id: str) -> None:
        """Run the benchmark in a detached actor that outlives this process (the REST path)."""
        ensure_ray(self.settings)
        name = f"benchmark-{benchmark_id}"
        owner = RemoteBenchmarkOwner.options(
            name=name, namespace=NAMESPACE, lifetime="detached", num_cpus=0, max_restarts=0
        ).remote(self.settings.portable(), f"actor:{name}")
        owner.run.remote(benchmark_id)

    def resume_orphans(self) -> list[str]:
        """Claim every benchmark whose runner went silent and resume it in a detached owner; returns their ids."""
        silent_since = utcnow() - timedelta(seconds=self.settings.orphan_after_s)
        resumed = []
        for row in self.repo.orphans(silent_since):
            if not self.repo.claim(row.id, self.runner_id, silent_since):
                continue  # another process took it first
            self.repo.update(
                row.id, current_task=f"resuming: the previous runner ({row.runner or 'unknown'}) went silent"
            )
            try:
                self.start_detached(row.id)
            except Exception as exc:  # noqa: BLE001 - whatever stops the resume ends the benchmark, with why
                self.repo.finish(
                    row.id,
                    "failed",
                    f"interrupted: its runner went silent and it could not be resumed: {type(exc).__name__}: {exc}",
                )
                continue
            resumed.append(row.id)
        return resumed

    def _report_in(self, benchmark_ids: list[str]) -> set[str]:
        """Heartbeat for what this runner holds; returns those that someone asked to cancel."""
        self.repo.heartbeat(benchmark_ids, self.runner_id)
        requested = self.repo.cancel_requested(benchmark_ids)
        with self._lock:
            self._cancelled |= requested
        return requested

    # -- execution ------------------------------------------------------------------------------
    def run(self, benchmark_ids: list[str], max_workers: int = 1, on_progress: ProgressCallback | None = None) -> None:
        """Run (or resume) benchmarks, at most ``max_workers`` model actors at once (0: as many as the cluster's
        cores hold, ``actors_for``). Blocks until done.

        The loop never blocks on one actor: an actor's start (load + warm-up) and its restart
        after a crash are refs watched by the same ray.wait as the work items, so a model that
        waits for cluster resources does not hold up the others. Whatever error escapes the loop
        (a database outage, a bug) ends every benchmark it held as failed, with the error.
        """
        try:
            self._run(benchmark_ids, max_workers, on_progress)
        except BaseException as exc:
            for benchmark_id in benchmark_ids:
                try:
                    if self.repo.get(benchmark_id).status not in TERMINAL:
                        self.repo.finish(benchmark_id, "failed", f"runner error: {type(exc).__name__}: {exc}")
                except Exception:  # noqa: BLE001 - the database itself may be what failed; the sweep resumes it
                    pass
            raise

    def _run(self, benchmark_ids: list[str], max_workers: int, on_progress: ProgressCallback | None) -> None:
        ensure_ray(self.settings)
        check_shared_state(self.settings, gateway=False)
        self._report_in(benchmark_ids)
        if max_workers <= 0:
            max_workers = actors_for(self.settings)
        waiting = [self._job(bid) for bid in benchmark_ids]
        active: list[_Job] = []
        last_report = time.monotonic()
        while waiting or active:
            if time.monotonic() - last_report >= min(1.0, self.settings.heartbeat_s):
                self._report_in([job.benchmark_id for job in waiting + active])
                last_report = time.monotonic()
            while waiting and len(active) < max(1, max_workers):
                job = waiting.pop(0)
                if self._launch(job, on_progress):
                    active.append(job)
            refs = [ref for job in active for ref in ([job.ready_ref] if job.ready_ref else job.in_flight)]
            ready = set(ray.wait(refs, num_returns=1, timeout=0.5)[0]) if refs else set()
            for job in list(active):
                if self._is_cancelled(job.benchmark_id):
                    self._stop(job, "cancelled")
                    active.remove(job)
                elif job.ready_ref is not None:
                    if job.ready_ref in ready:
                        if not self._on_ready(job, on_progress):
                            active.remove(job)
                    elif not self._still_placeable(job, on_progress):
                        active.remove(job)
                elif not all(self._collect(job, ref, on_progress) for ref in [r for r in ready if r in job.in_flight]):
                    active.remove(job)
                else:
                    self._feed(job)
                    if not job.in_flight and not job.pending:
                        self._finish(job, on_progress)
                        active.remove(job)

    def _job(self, benchmark_id: str) -> _Job:
        row = self.repo.get(benchmark_id)
        spec = BenchmarkSpec(**row.spec)
        done = self.repo.done_keys(benchmark_id)
        pending = [item for item in spec.work_items() if (item[0], item[2]) not in done]
        return _Job(benchmark_id, spec, pending, in_flight={})

    def _actor_resources(self, spec: BenchmarkSpec) -> dict[str, Any]:
        """CPUs that fit the cluster now (a share where fewer are free) and a GPU fraction from the model's VRAM.

        Raises ResourcesUnavailableError when no node could ever hold the actor.
        """
        gpus = ray.cluster_resources().get("GPU", 0)
        wants_gpu = spec.device.startswith("cuda") or (spec.device == "auto" and gpus > 0)
        num_gpus = (
            gpu_fraction(spec.check(), "cuda", gpu_memory_gb(self.settings), self.settings.gpu_memory_fraction)
            if wants_gpu
            else 0.0
        )
        if wants_gpu and gpus < num_gpus:
            raise ResourcesUnavailableError(
                f"The benchmark needs {num_gpus} GPU and this cluster has {gpus}: infeasible here",
                {"needs": {"GPU": num_gpus}, "cluster": {"GPU": gpus}},
            )
        wanted = float(self.settings.torch_threads_per_actor)
        if self.settings.worker_pool_idle_s > 0 and ray.available_resources().get("CPU", 0.0) < wanted:
            self._free_pooled_cpus(wanted)
        cpus, why = fit_cpus(wanted, self.settings.actor_min_cpus)
        if cpus is None:
            raise ResourcesUnavailableError(
                f"No node can hold the benchmark's actor: {why}", {"needs": {"CPU": self.settings.actor_min_cpus}}
            )
        return {"num_cpus": cpus, "num_gpus": num_gpus, "why": why}

    def _free_pooled_cpus(self, wanted: float, wait_s: float = 5.0) -> None:
        """Idle pooled workers hold CPUs a new worker needs: stop them and wait (briefly) for Ray to return them."""
        if not ray.get(self._pool().clear.remote()):
            return
        deadline = time.monotonic() + wait_s
        while ray.available_resources().get("CPU", 0.0) < wanted and time.monotonic() < deadline:
            time.sleep(0.1)

    def _still_placeable(self, job: _Job, on_progress: ProgressCallback | None) -> bool:
        """While the actor is not placed, say so with what it waits for; fail after ``resource_wait_s``."""
        from ray._private import state

        if job.retries or job.actor is None:
            return True
        actor = state.actors(actor_id=job.actor._actor_id.hex()) or {}
        placed = bool((actor.get("Address") or {}).get("Port"))  # a worker holds it: loading, not waiting
        if actor.get("State") != "PENDING_CREATION" or placed:
            return True
        waited = time.monotonic() - job.launched_at
        needs = {k: v for k, v in (job.resources or {}).items() if k != "why"}
        free = {k: round(v, 2) for k, v in ray.available_resources().items() if k in ("CPU", "GPU")}
        if waited > self.settings.resource_wait_s:
            error = ResourcesUnavailableError(
                f"The benchmark's actor could not be placed within {self.settings.resource_wait_s:.0f}s: "
                f"it needs {needs}, the cluster has {free} free",
                {"needs": needs, "free": free},
            )
            self._stop(job, "failed", f"{error.code}: {error.message}")
            self._emit(on_progress, job, "benchmark_error", error=error.message)
            return False
        self.repo.update(
            job.benchmark_id,
            current_task=f"waiting for resources: needs {needs}, free {free} "
            f"({waited:.0f}s of {self.settings.resource_wait_s:.0f}s)",
        )
        return True

    def _launch(self, job: _Job, on_progress: ProgressCallback | None) -> bool:
        """Create the job's actor and ask it to get ready; does not wait for it."""
        if self._is_cancelled(job.benchmark_id):
            self._stop(job, "cancelled")
            return False
        if not job.pending:  # everything already stored (a resumed run): only the aggregates are left
            self._finish(job, on_progress)
            return False
        settings = self.settings.portable()
        spec_json = job.benchmark_spec.model_dump(mode="json")
        pooled = None
        if self.settings.worker_pool_idle_s > 0:
            try:
                settings["torch_threads_per_actor"] = self._pool_threads()
                job.pool_key = pool_key(spec_json, settings)
                pooled = ray.get(self._pool().acquire.remote(job.pool_key))
            except VidBenchError as exc:
                self._stop(job, "failed", f"{exc.code}: {exc.message}")
                self._emit(on_progress, job, "benchmark_error", error=exc.message)
                return False
        if pooled is not None:  # a warm worker: no start, no load; it only takes on this benchmark
            self.repo.update(job.benchmark_id, status="running", current_task="reusing a warm worker")
            job.actor, job.launched_at, job.resources = pooled, time.monotonic(), {}
            job.info_ref = job.actor.configure.remote(spec_json, settings)
            job.ready_ref = job.actor.warm_up.remote()
            return True
        try:
            job.resources = self._actor_resources(job.benchmark_spec)
        except VidBenchError as exc:
            self._stop(job, "failed", f"{exc.code}: {exc.message}")
            self._emit(on_progress, job, "benchmark_error", error=exc.message)
            return False
        self.repo.update(job.benchmark_id, status="running", current_task="loading model")
        settings["torch_threads_per_actor"] = max(1, int(job.resources["num_cpus"]))  # threads match the CPU share
        if job.pool_key is not None:
            job.pool_key = pool_key(spec_json, settings)
        job.launched_at = time.monotonic()
        # A pooled worker outlives this runner (a REST benchmark's owner exits after one benchmark): detached.
        outliving = (
            {"lifetime": "detached", "scheduling_strategy": OUTSIDE_PLACEMENT_GROUPS}
            if job.pool_key is not None
            else {}
        )
        job.actor = RemoteBenchmarkWorker.options(
            num_cpus=job.resources["num_cpus"],
            num_gpus=job.resources["num_gpus"],
            max_restarts=self.settings.actor_max_restarts,
            max_task_retries=0,
            **outliving,
        ).remote(spec_json, settings)
        job.info_ref = job.actor.info.remote()
        job.ready_ref = job.actor.warm_up.remote()  # actor calls run in order: info, then warm-up
        return True

    # -- the warm pool ----------------------------------------------------------------------------------
    def _pool(self):
        return get_pool(self.settings.worker_pool_idle_s, self.settings.worker_pool_memory_gb)

    def _pool_threads(self) -> int:
        """Torch threads of a worker started now: what a fresh actor would get if it had its full share."""
        return max(1, int(self.settings.torch_threads_per_actor))

    def _release(self, job: _Job) -> None:
        """Return a worker whose benchmark ended well to the pool (or stop it when the pool is off or it fails)."""
        if job.actor is None:
            return
        if job.pool_key is not None:
            try:
                rss = ray.get(job.actor.rss_bytes.remote(), timeout=30)
                ray.get(self._pool().release.remote(job.pool_key, job.actor, rss), timeout=30)
                return
            except ray.exceptions.RayError:
                pass  # the worker or the pool is gone: make sure the worker is too
        ray.kill(job.actor, no_restart=True)

    def _on_ready(self, job: _Job, on_progress: ProgressCallback | None) -> bool:
        """The actor answered its readiness call: start sending work, or fail the job. False when it stops."""
        ready_ref, job.ready_ref = job.ready_ref, None
        try:
            ray.get(ready_ref)
            if job.info is None:
                job.info = ray.get(job.info_ref)
        except ray.exceptions.ActorUnavailableError:
            job.ready_ref = job.actor.warm_up.remote()  # still restarting: ask again on the next turn
            return True
        except ray.exceptions.RayError as exc:
            cause = getattr(exc, "cause", None)
            code = cause.code if isinstance(cause, VidBenchError) else ModelLoadError.code
            details = {"code": cause.code, **cause.details} if isinstance(cause, VidBenchError) else None
            self._stop(job, "failed", f"{code}: {_cause(exc)}", details)
            self._emit(on_progress, job, "benchmark_error", error=_cause(exc))
            return False
        if job.retries == 0:
            spec = job.benchmark_spec
            provenance = {
                "packages": package_versions(),
                "worker": job.info,
                "spec_hash": self.repo.get(job.benchmark_id).spec_hash,
                "seeds": spec.seeds(),
                "precision": spec.profile().precision,
                "optimization": spec.profile().to_dict(),
            }
            self.repo.mark_running(job.benchmark_id, provenance)
            self._emit(on_progress, job, "benchmark_progress")
        self._feed(job)
        return True

    def _feed(self, job: _Job) -> None:
        """Send work items, ``batch_size`` per actor call; in_flight maps each call to the items it holds."""
        size = job.benchmark_spec.batch_size
        while job.ready_ref is None and job.pending and len(job.in_flight) < IN_FLIGHT_PER_ACTOR:
            batch, job.pending = tuple(job.pending[:size]), job.pending[size:]
            ref = (
                job.actor.run.remote(job.benchmark_id, *batch[0])
                if size == 1
                else job.actor.run_batch.remote(job.benchmark_id, list(batch))
            )
            job.in_flight[ref] = batch

    def _collect(self, job: _Job, ref: Any, on_progress: ProgressCallback | None) -> bool:
        """Store one finished item. False when the job had to stop."""
        if ref not in job.in_flight:  # dropped when the actor died earlier in this turn
            return True
        batch = job.in_flight.pop(ref)
        try:
            records = ray.get(ref)
            records = records if isinstance(records, list) else [records]
        except ray.exceptions.RayActorError as exc:
            # The actor died (crash, OOM, node loss). Ray restarts it; its unfinished items are sent
            # again once it answers (Ray fails calls made while it restarts).
            job.retries += 1
            lost = [item for held in (batch, *job.in_flight.values()) for item in held]
            job.in_flight.clear()
            job.pending = sorted(set(lost) | set(job.pending), key=lambda it: (it[0], it[2]))
            if job.retries > self.settings.actor_max_restarts:
                self._stop(job, "failed", f"worker died {job.retries} times; last error: {_cause(exc)}")
                self._emit(on_progress, job, "benchmark_error", error=_cause(exc))
                return False
            self.repo.update(job.benchmark_id, current_task="worker restarting")
            if job.pool_key is not None:  # a restarted pooled actor runs its constructor's benchmark: re-configure
                job.actor.configure.remote(job.benchmark_spec.model_dump(mode="json"), self._settings_of(job))
            job.ready_ref = job.actor.warm_up.remote()
            return True
        except ray.exceptions.RayTaskError as exc:  # an unexpected error inside generation: keep it, move on
            records = [
                {"prompt_index": item[0], "prompt": item[1], "seed": item[2], "status": "failed", "error": _cause(exc)}
                for item in batch
            ]
        for record in records:
            self.repo.record_video(job.benchmark_id, record)
        row = self.repo.get(job.benchmark_id)
        telemetry.video_done(
            job.benchmark_id, row.model_name, record, row.completed_videos + row.failed_videos, row.total_videos
        )
        next_video = row.completed_videos + row.failed_videos + 1
        self.repo.update(
            job.benchmark_id,
            current_task=f"Generating video {next_video}/{row.total_videos}"
            if job.pending or job.in_flight
            else "aggregating",
        )
        self._emit(on_progress, job, "benchmark_progress", current_prompt=batch[-1][1])
        return True

    def _settings_of(self, job: _Job) -> dict[str, Any]:
        settings = self.settings.portable()
        settings["torch_threads_per_actor"] = (
            json.loads(job.pool_key)["torch_threads"]
            if job.pool_key
            else max(1, int((job.resources or {}).get("num_cpus", 1)))
        )
        return settings

    def _stop(
        self, job: _Job, status: str, error: str | None = None, error_details: dict[str, Any] | None = None
    ) -> None:
        if job.actor is not None:
            ray.kill(job.actor, no_restart=True)
        job.in_flight = {}
        job.pending = []
        self.repo.finish(job.benchmark_id, status, error, error_details)

    def _finish(self, job: _Job, on_progress: ProgressCallback | None) -> None:
        self._release(job)  # the worker is done: free it for the next benchmark while the aggregates compute
        self.write_aggregates(job.benchmark_id, job.benchmark_spec, (job.info or {}).get("unavailable_evaluators", {}))
        row = self.repo.get(job.benchmark_id)
        status = "completed" if row.completed_videos > 0 else "failed"
        error = None if status == "completed" else "every video failed; see the per-video errors"
        self.repo.finish(job.benchmark_id, status, error)
        self._emit(on_progress, job, "benchmark_completed" if status == "completed" else "benchmark_error", error=error)

    def write_aggregates(self, benchmark_id: str, spec: BenchmarkSpec, unavailable: dict[str, str]) -> None:
        """The aggregates of what is stored, in one transaction (also after a resume)."""
        records = [video_record(v) for v in self.repo.videos(benchmark_id)]
        self.repo.write_aggregates(benchmark_id, aggregate_rows(records, spec, unavailable, self.settings))

    def _emit(self, on_progress: ProgressCallback | None, job: _Job, kind: str, **extra: Any) -> None:
        if on_progress is None:
            return
        row = self.repo.get(job.benchmark_id)
        done = row.completed_videos + row.failed_videos
        on_progress(
            {
                "type": kind,
                "benchmark_id": job.benchmark_id,
                "model_name": row.model_name,
                "completed": done,
                "failed": row.failed_videos,
                "total": row.total_videos,
                "percentage": 100.0 * done / row.total_videos if row.total_videos else 100.0,
                "status": row.status,
                **extra,
            }
        )


class BenchmarkOwner:
    """Runs one benchmark to its end inside a detached actor, then exits: the cluster owns the work."""

    def __init__(self, settings_json: dict[str, Any], runner_id: str):
        self.runner = BenchmarkRunner(settings=Settings(**settings_json), runner_id=runner_id)

    def run(self, benchmark_id: str) -> None:
        try:
            self.runner.run([benchmark_id])
        finally:
            ray.actor.exit_actor()


RemoteBenchmarkOwner = ray.remote(BenchmarkOwner)
