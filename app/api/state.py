"""Per-process state of the API: settings, repositories, the model backend, the runner."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.api.backend import ModelBackend
from app.config import Settings
from app.storage.database import get_database
from app.storage.repository import BenchmarkRepository
from app.storage.tasks import TaskRepository

if TYPE_CHECKING:  # imported where used at run time: their import cost (and cycles) stay off the gateway's import
    from app.bench.runner import BenchmarkRunner
    from app.catalog.downloads import DownloadManager
    from app.security.auth import Authenticator
    from app.security.ratelimit import RateLimiter

log = logging.getLogger("vid_bench")


@dataclass
class ApiState:
    settings: Settings
    repo: BenchmarkRepository
    tasks: TaskRepository
    backend: ModelBackend
    # Set by create(); None only in a state built by hand (a test's), which then must not reach them: the
    # get_* accessors below say so with a clear error instead of an AttributeError on None.
    auth: Authenticator | None = None
    limiter: RateLimiter | None = None
    downloads: DownloadManager | None = None
    runner: BenchmarkRunner | None = None  # created on the first benchmark (get_runner)
    background: set[asyncio.Task[Any]] = field(default_factory=set)

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
            "rate_limit_store": "ok" if self.get_limiter().reachable() else "unreachable",
        }

    def get_auth(self) -> Authenticator:
        if self.auth is None:
            raise _not_built("authenticator")
        return self.auth

    def get_limiter(self) -> RateLimiter:
        if self.limiter is None:
            raise _not_built("rate limiter")
        return self.limiter

    def get_downloads(self) -> DownloadManager:
        if self.downloads is None:
            raise _not_built("download manager")
        return self.downloads

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a coroutine in the background, keeping a reference until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    def get_runner(self) -> BenchmarkRunner:
        if self.runner is None:
            from app.bench.runner import BenchmarkRunner

            self.runner = BenchmarkRunner(self.repo, self.settings)
        return self.runner


def _not_built(what: str) -> Exception:
    from app.errors import VidBenchError

    return VidBenchError(f"The API state has no {what}: build it with ApiState.create", {})


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
