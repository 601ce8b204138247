"""Per-process state of the API: settings, repositories, the model backend, the runner."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from app.api.backend import ModelBackend
from app.config import Settings
from app.storage.database import get_database
from app.storage.repository import BenchmarkRepository
from app.storage.tasks import TaskRepository

log = logging.getLogger("vid_bench")


@dataclass
class ApiState:
    settings: Settings
    repo: BenchmarkRepository
    tasks: TaskRepository
    backend: ModelBackend
    auth: Any = None  # app.security.auth.Authenticator
    limiter: Any = None  # app.security.ratelimit.RateLimiter
    downloads: Any = None  # DownloadManager
    runner: Any = None  # BenchmarkRunner, created on the first benchmark
    background: set[asyncio.Task] = field(default_factory=set)

    @classmethod
    def create(cls, settings: Settings, backend: ModelBackend) -> ApiState:
        """The state of a starting gateway: refuses to start on an unreachable rate-limit store, and fails the
        tasks a stopped gateway left behind (TaskRepository.fail_interrupted)."""
        settings.ensure_dirs()
        db = get_database(settings.resolved_database_url)
        from app.catalog.downloads import DownloadManager
        from app.security.auth import Authenticator
        from app.security.ratelimit import RateLimiter
        from app.storage.downloads import DownloadRepository

        state = cls(
            settings=settings,
            repo=BenchmarkRepository(db),
            tasks=TaskRepository(db, settings.data_dir / "artifacts"),
            backend=backend,
            auth=Authenticator(settings, db),
            limiter=RateLimiter(settings),
            downloads=DownloadManager(
                DownloadRepository(db),
                settings.resolved_models_dir,
                settings.local_model_roots,
                slots=settings.download_slots,
                on_ready=getattr(backend, "deploy", None),
            ),
        )
        interrupted = state.tasks.fail_interrupted(settings.task_interrupted_after_s)
        if interrupted:
            log.warning(
                "Marked %d task(s) left queued or running by a stopped gateway as failed (interrupted): %s",
                len(interrupted),
                ", ".join(interrupted[:20]),
            )
        return state

    def health(self) -> dict[str, str]:
        """Whether each store the gateway needs answers now: "ok" or "unreachable"."""
        return {
            "database": "ok" if self.tasks.reachable() else "unreachable",
            "rate_limit_store": "ok" if self.limiter.reachable() else "unreachable",
        }

    def spawn(self, coro) -> asyncio.Task:
        """Run a coroutine in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    def get_runner(self):
        if self.runner is None:
            from app.bench.runner import BenchmarkRunner

            self.runner = BenchmarkRunner(self.repo, self.settings)
        return self.runner


_current: ApiState | None = None


def install_state(state: ApiState | None) -> None:
    """Make ``state`` the API state of this process (one gateway per replica process); its models directory is
    where this process's catalog finds the models downloaded through it. None uninstalls both."""
    from app.catalog.spec import use_models_dir

    global _current
    _current = state
    use_models_dir(state.settings.resolved_models_dir if state is not None else None)


def current_state() -> ApiState:
    if _current is None:
        from app.errors import VidBenchError

        raise VidBenchError("The API is not initialised in this process", {})
    return _current
