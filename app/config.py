"""One settings object for the whole application (env prefix ``VDB_``).

Everything tunable lives here so that the CLI, the runner, Ray actors and the
test suite agree on paths and limits. Nothing is created at import time:
directories are made by :meth:`Settings.ensure_dirs` when work starts.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VDB_", extra="ignore")

    data_dir: Path = Field(default=Path.home() / ".vid-bench", description="Root of all local state.")
    models_dir: Path | None = Field(default=None, description="Model checkpoints; default <data_dir>/models.")
    weights_dir: Path | None = Field(default=None, description="Evaluator weights (I3D, Inception, CLIP); default <data_dir>/weights.")
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite file in data_dir.")
    device: str = Field(default="auto", description="'auto', 'cpu', 'cuda' or 'cuda:N'.")
    warmup_runs: int = Field(default=1, ge=0, description="Untimed generations before timing starts.")
    torch_threads_per_actor: int = Field(default=1, ge=1, description="Intra-op threads per Ray actor.")
    ray_address: str | None = Field(default=None, description="Ray cluster address; None starts a local Ray.")
    ray_num_cpus: int | None = Field(default=None, description="CPUs for a locally started Ray.")
    ray_object_store_mb: int = Field(default=512, ge=78, description="Object store size for a local Ray.")
    actor_max_restarts: int = Field(default=3, ge=0, description="Restarts of a dead benchmark actor.")
    remote_api_key: str | None = Field(default=None, description="Key sent to remote (HTTP) generation models.")
    remote_timeout_s: float = Field(default=600.0, gt=0, description="Timeout of one remote generation.")
    bootstrap_resamples: int = Field(default=1000, ge=100, description="Resamples for confidence intervals.")
    bootstrap_seed: int = Field(default=0, description="Seed of the bootstrap, so intervals are reproducible.")

    @property
    def resolved_models_dir(self) -> Path:
        return self.models_dir or self.data_dir / "models"

    @property
    def resolved_weights_dir(self) -> Path:
        return self.weights_dir or self.data_dir / "weights"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'vid-bench.sqlite3'}"

    @property
    def videos_dir(self) -> Path:
        return self.data_dir / "videos"

    def ensure_dirs(self) -> None:
        for path in (self.data_dir, self.resolved_models_dir, self.resolved_weights_dir, self.videos_dir):
            path.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests and the CLI change VDB_* variables)."""
    get_settings.cache_clear()
