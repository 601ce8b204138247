"""A participant: joins a session, runs its tasks through the normal benchmark runner, releases only per-task
aggregates (clamped, with OpenDP noise), signs them and posts them to the coordinator.

Raw per-video results stay in the participant's own database (its data directory). Everything is resumable:
a task's local benchmark is resumed by the runner (stored videos are not generated again), a release once drawn
is kept (spent in the local ledger in the same transaction) and posted again as it is, never redrawn, and the
coordinator's list of reported tasks says what is left to post.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from app import errors as _errors
from app.config import Settings, get_settings
from app.errors import (
    FederatedPhaseError,
    ServiceUnavailableError,
    TaskAlreadyReportedError,
    ValidationError,
    VidBenchError,
)
from app.federated import privacy
from app.federated.signing import KeyType, load_or_create_key, public_pem, sign_report
from app.federated.spec import PERFORMANCE_VALUES, STATISTICS
from app.i18n import Message
from app.storage.database import get_database
from app.storage.federated import ParticipantStore

if TYPE_CHECKING:
    from app.bench.runner import BenchmarkRunner

TERMINAL = {"completed", "failed", "timed_out"}
MAX_RETRY_AFTER_S = 3600


def _error_classes(base: type[VidBenchError] = VidBenchError) -> dict[str, type[VidBenchError]]:
    out = {}
    for cls in base.__subclasses__():
        if cls.__module__ == _errors.__name__:
            out[cls.code] = cls
        out.update(_error_classes(cls))
    return out


class CoordinatorClient:
    """The coordinator's federated routes over HTTP; errors come back as the server's typed errors, and a 429
    is waited out (Retry-After) rather than failed, since the reference limits the group to 10 requests/hour."""

    def __init__(
        self, base_url: str, api_key: str | None = None, timeout: float = 120.0, max_wait_s: float = MAX_RETRY_AFTER_S
    ):
        key = api_key or os.environ.get("VDB_API_KEY")
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, headers={"X-API-Key": key} if key else {}
        )
        self.max_wait_s = max_wait_s

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        waited = 0.0
        while True:
            try:
                response = self.http.request(method, f"/api/v1/federated{path}", **kwargs)
            except httpx.TransportError as exc:
                raise ServiceUnavailableError(
                    f"Coordinator {self.http.base_url} unreachable: {exc}", {"coordinator": str(self.http.base_url)}
                ) from None
            if response.status_code == 429 and waited < self.max_wait_s:
                pause = float(response.headers.get("Retry-After", "1"))
                waited += pause
                time.sleep(pause)  # the server's own Retry-After: a rate-limited client waits its turn
                continue
            if response.is_success:
                return response.json()
            try:
                body = response.json()["error"]
            except (ValueError, KeyError, TypeError):
                raise VidBenchError(
                    f"HTTP {response.status_code} from the coordinator: {response.text[:300]}",
                    {"status": response.status_code},
                ) from None
            cls = _error_classes().get(body.get("code"), VidBenchError)
            error = _errors._rebuild_error(cls, body.get("message", ""), body.get("details") or {})
            error.code, error.http_status = body.get("code"), response.status_code
            raise error

    def create_session(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "/sessions", json=body)

    def join(self, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/sessions/{session_id}/join", json=body)

    def status(self, session_id: str) -> dict[str, Any]:
        return self.request("GET", f"/sessions/{session_id}")

    def tasks(self, session_id: str, participant_id: str) -> dict[str, Any]:
        return self.request("GET", f"/sessions/{session_id}/tasks", params={"participant_id": participant_id})

    def report(self, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", f"/sessions/{session_id}/reports", json=body)

    def results(self, session_id: str) -> dict[str, Any]:
        return self.request("GET", f"/sessions/{session_id}/results")


def local_capabilities(settings: Settings) -> dict[str, Any]:
    """What this machine can run: catalog video models whose VRAM need fits its GPU (none needed: CPU models)."""
    from app.catalog.spec import get_catalog

    memory_gb, capability = 0.0, None
    try:
        import torch

        if torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            memory_gb = props.total_memory / 2**30
            capability = f"{props.major}.{props.minor}"
    except ImportError:
        pass
    models = [m.name for m in get_catalog().list("video") if m.requirements.vram_gb <= memory_gb]
    return {"gpu_memory": f"{memory_gb:.0f}GB", "compute_capability": capability, "models_supported": models}


@dataclass
class ParticipantReport:
    session_id: str
    participant_id: str
    phase: str
    tasks_total: int
    tasks_posted: int
    local_epsilon_spent: float | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class Participant:
    def __init__(
        self,
        session_id: str,
        participant_id: str,
        coordinator_url: str,
        api_key: str | None = None,
        settings: Settings | None = None,
        key_type: KeyType = "ed25519",
        poll_s: float | None = None,
        max_workers: int = 1,
    ):
        self.session_id, self.participant_id = session_id, participant_id
        self.settings = settings or get_settings()
        self.settings.ensure_dirs()
        self.client = CoordinatorClient(coordinator_url, api_key)
        self.store = ParticipantStore(get_database(self.settings.resolved_database_url))
        key_file = self.settings.data_dir / "federated" / f"{session_id}.{participant_id}.key.pem"
        self.key = load_or_create_key(key_file, key_type)
        self.poll_s = poll_s or self.settings.federated_poll_s
        self.max_workers = max_workers
        self._runner: BenchmarkRunner | None = None

    # -- the session ------------------------------------------------------------------------------------
    def join(self) -> dict[str, Any]:
        return self.client.join(
            self.session_id,
            {
                "participant_id": self.participant_id,
                "public_key": public_pem(self.key),
                "capabilities": local_capabilities(self.settings),
            },
        )

    def wait_for_start(self, deadline_s: float | None = None) -> str:
        """Poll until the coordinator gives the start signal (phase execution); the phase it reached."""
        start = time.monotonic()
        while True:
            phase = self.client.status(self.session_id)["phase"]
            if phase != "created" and phase != "joining":
                return phase
            if deadline_s is not None and time.monotonic() - start > deadline_s:
                raise FederatedPhaseError(
                    Message(
                        "Session {session_id} did not start within {seconds}s",
                        session_id=self.session_id,
                        seconds=f"{deadline_s:.0f}",
                    ),
                    {"session_id": self.session_id, "phase": phase},
                )
            time.sleep(self.poll_s)  # polling interval of a waiting participant

    def run(self, wait_s: float | None = None) -> ParticipantReport:
        """Join (again: the same key is accepted), wait for the start, run and release every unreported task,
        post them in one signed report."""
        status = self.client.status(self.session_id)
        if status["phase"] in TERMINAL:  # nothing left to do: say what the coordinator holds from us
            tasks = self.client.tasks(self.session_id, self.participant_id)["tasks"]
            return ParticipantReport(
                self.session_id,
                self.participant_id,
                status["phase"],
                len(tasks),
                sum(t["reported"] for t in tasks),
                self._local_spent(),
            )
        self.join()
        phase = self.wait_for_start(wait_s)
        if phase != "execution":
            raise FederatedPhaseError(
                Message("Session {session_id} is {phase}: nothing to run", session_id=self.session_id, phase=phase),
                {"session_id": self.session_id, "phase": phase},
            )
        assigned = self.client.tasks(self.session_id, self.participant_id)
        privacy_record = assigned["privacy"]
        pending = [task for task in assigned["tasks"] if not task["reported"]]
        releases = [self.release_task(task, assigned["benchmark_spec"], privacy_record) for task in pending]
        posted = self._post(releases) if releases else 0
        status = self.client.status(self.session_id)
        return ParticipantReport(
            self.session_id,
            self.participant_id,
            status["phase"],
            len(assigned["tasks"]),
            len(assigned["tasks"]) - len(pending) + posted,
            self._local_spent(),
        )

    def _local_spent(self) -> float | None:
        budget = self.store.ledger.get(self.session_id, self.participant_id)
        return None if budget is None else budget.epsilon_spent * privacy.EPSILON_UNIT

    def _post(self, releases: list[dict[str, Any]]) -> int:
        envelope = sign_report(self.key, self.session_id, self.participant_id, releases)
        try:
            answer = self.client.report(self.session_id, {"participant_id": self.participant_id, **envelope})
        except TaskAlreadyReportedError:
            # an earlier post landed but its answer was lost: post only what the coordinator still lacks
            reported = {
                t["task_id"] for t in self.client.tasks(self.session_id, self.participant_id)["tasks"] if t["reported"]
            }
            self.store.mark_accepted(self.session_id, self.participant_id, sorted(reported))
            left = [r for r in releases if r["task_id"] not in reported]
            return self._post(left) if left else 0
        self.store.mark_accepted(self.session_id, self.participant_id, answer["tasks"])
        return len(answer["tasks"])

    # -- one task -----------------------------------------------------------------------------------------
    @property
    def runner(self) -> BenchmarkRunner:
        if self._runner is None:
            from app.bench.runner import BenchmarkRunner

            self._runner = BenchmarkRunner(
                settings=self.settings, runner_id=f"federated:{self.session_id}:{self.participant_id}"
            )
        return self._runner

    def benchmark_spec(self, task: dict[str, Any], grid: dict[str, Any]):
        from app.bench.spec import BenchmarkSpec, MetricSettings

        metrics = [m for m in grid["metrics"] if m not in PERFORMANCE_VALUES]
        return BenchmarkSpec(
            model_name=task["model_name"],
            prompts=grid["prompts"],
            parameters=task["parameters"],
            videos_per_prompt=grid.get("videos_per_prompt", 1),
            seed=grid.get("seed", 0),
            device=self.settings.device,
            metric_settings=MetricSettings(compute_metrics=bool(metrics), metrics=metrics or None),
            metadata={
                "federated_session": self.session_id,
                "task_id": task["task_id"],
                "participant_id": self.participant_id,
            },
        )

    def release_task(self, task: dict[str, Any], grid: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
        """The task's release: drawn once (spending the local budget in the same transaction), then kept."""
        if record["privacy_level"] == "differential":  # the local ledger, made once with the session's totals
            self.store.ledger.open(self.session_id, self.participant_id, record["epsilon_units"], record["delta_units"])
        local = self.store.task(self.session_id, self.participant_id, task["task_id"])
        if local.release is None:
            benchmark_id = local.benchmark_id
            if benchmark_id is None:
                benchmark_id = self.runner.submit(self.benchmark_spec(task, grid), owner=self.participant_id)
                self.store.set_benchmark(self.session_id, self.participant_id, task["task_id"], benchmark_id)
            if self.runner.repo.get(benchmark_id).status != "completed":
                self.runner.run([benchmark_id], max_workers=self.max_workers)
            row = self.runner.repo.get(benchmark_id)
            if row.status != "completed":
                raise VidBenchError(
                    f"Task {task['task_id']} ({task['model_name']}) did not complete locally: "
                    f"{row.status}: {row.error}",
                    {"task_id": task["task_id"], "benchmark_id": benchmark_id},
                )
            release, spend = draw_release(task["task_id"], self.runner.repo.videos(benchmark_id), record)
            self.store.store_release(self.session_id, self.participant_id, task["task_id"], release, spend)
            local = self.store.task(self.session_id, self.participant_id, task["task_id"])
        if local.release is None:  # store_release keeps this draw or the one kept before it
            raise VidBenchError(f"Task {task['task_id']}'s release was not kept", {"task_id": task["task_id"]})
        return local.release


def draw_release(task_id: str, videos: list, record: dict[str, Any]) -> tuple[dict[str, Any], tuple[int, int]]:
    """Per metric, the mean and variance of the videos' values, clamped and noised (or exact with 'none')."""
    ok = [v for v in videos if v.status == "ok"]
    differential = record["privacy_level"] == "differential"
    mechanism = record["mechanism"] if differential else None
    share = privacy.Share(record["share"]["epsilon_units"], record["share"]["delta_units"]) if differential else None
    metrics: dict[str, Any] = {}
    spent = [0, 0]
    for metric, bounds in record["clip_bounds"].items():
        values = [value for value in (_value(v, metric) for v in ok) if value is not None]
        metrics[metric] = {}
        for statistic in STATISTICS:
            out = privacy.release(values, tuple(bounds), statistic, mechanism, share)
            metrics[metric][statistic] = out
            if out["spent"] and share is not None:  # only a release with a share spends
                spent[0] += share.epsilon_units
                spent[1] += share.delta_units
    return {"task_id": task_id, "n_videos": len(ok), "metrics": metrics}, (spent[0], spent[1])


def _value(video, metric: str) -> float | None:
    value = getattr(video, metric) if metric in PERFORMANCE_VALUES else (video.metrics or {}).get(metric)
    if value is None:
        return None
    if not isinstance(value, (int, float)):
        raise ValidationError(f"Stored value of {metric} is not a number", {"metric": metric})
    return float(value)
