"""One settings object for the whole application (env prefix ``VDB_``).

Everything tunable lives here so that the CLI, the runner, Ray actors and the
test suite agree on paths and limits. Nothing is created at import time:
directories are made by :meth:`Settings.ensure_dirs` when work starts.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Tier = Literal["free", "pro", "enterprise"]
"""The rate-limit tiers a credential can have. The names are fixed here; their limits are settings."""
TIERS: tuple[Tier, ...] = get_args(Tier)


class TierLimits(BaseModel):
    """What one credential of a tier may do (gateway reference's tier table)."""

    per_minute: int = Field(ge=1)
    per_hour: int = Field(ge=1)
    concurrent: int = Field(ge=1)


class GroupLimits(BaseModel):
    """Extra limits of one endpoint group, per credential: ``limit`` per ``window_s``, at most ``burst`` per minute."""

    limit: int = Field(ge=1)
    window_s: int = Field(default=3600, ge=1)
    burst: int = Field(ge=1)


DEFAULT_TIERS: dict[Tier, TierLimits] = {
    "free": TierLimits(per_minute=10, per_hour=100, concurrent=2),
    "pro": TierLimits(per_minute=100, per_hour=1000, concurrent=10),
    "enterprise": TierLimits(per_minute=1000, per_hour=10000, concurrent=50),
}
DEFAULT_GROUPS = {
    "benchmarks": GroupLimits(limit=100, burst=20),
    "models": GroupLimits(limit=1000, burst=100),
    "analytics": GroupLimits(limit=500, burst=50),
    "streaming": GroupLimits(limit=50, burst=10),
    "federated": GroupLimits(limit=10, burst=2),
}
UNLIMITED_GROUPS = ("auth", "inference", "tasks")
"""Endpoint groups with no limit of their own on purpose: the reference sets none, the tier limits still apply."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VDB_", extra="ignore")

    data_dir: Path = Field(default=Path.home() / ".vid-bench", description="Root of all local state.")
    models_dir: Path | None = Field(default=None, description="Model checkpoints; default <data_dir>/models.")
    weights_dir: Path | None = Field(
        default=None, description="Evaluator weights (I3D, Inception, CLIP); default <data_dir>/weights.")
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

    # -- cluster --------------------------------------------------------------------------------
    ray_dashboard_port: int = Field(default=8265, ge=1, le=65535,
                                    description="Dashboard / job server port of a Ray started by `vid-bench serve`.")
    gpu_memory_gb: float | None = Field(
        default=None, gt=0, description="Memory of the cluster's GPUs, for GPU fractions when the driver sees none.")
    actor_min_cpus: float = Field(default=0.25, gt=0, le=64,
                                  description="Smallest CPU share a benchmark actor takes when fewer are free.")
    resource_wait_s: float = Field(default=300.0, gt=0,
                                   description="How long a benchmark waits for its actor to be placed before failing.")
    heartbeat_s: float = Field(default=10.0, gt=0, description="How often a running benchmark's owner reports in.")
    orphan_after_s: float = Field(default=60.0, gt=0,
                                  description="A running benchmark whose owner is silent this long is resumed.")

    # -- security -------------------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        default=None, description="Server secret for API-key digests and JWT signatures; default: a random key "
                                  "kept in <data_dir>/secret.key (0600), shared by every process on that directory.")
    jwt_issuer: str = Field(default="vid-bench", description="'iss' of issued tokens; tokens with another are refused.")
    jwt_audience: str = Field(default="vid-bench-api", description="'aud' of issued tokens; checked on every token.")
    jwt_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600, description="Lifetime of a login token.")
    rate_limit_storage: str = Field(
        default="memory://", description="`limits` storage URI; redis://host:6379 shares counters between replicas.")
    rate_limit_tiers: dict[Tier, TierLimits] = Field(default_factory=lambda: dict(DEFAULT_TIERS),
                                                     description="Limits of the tiers free, pro and enterprise.")
    rate_limit_groups: dict[str, GroupLimits] = Field(
        default_factory=lambda: dict(DEFAULT_GROUPS), description="Limits of the endpoint groups that have one.")
    rate_limit_unlimited_groups: list[str] = Field(
        default_factory=lambda: list(UNLIMITED_GROUPS),
        description="Endpoint groups deliberately without a limit of their own (the tier limits still apply). A "
                    "group a route names must be here or in rate_limit_groups, or the gateway refuses to start.")
    login_attempts_per_minute: int = Field(default=10, ge=1, description="Logins per client address and minute.")
    concurrency_slot_ttl_s: int = Field(
        default=3600, ge=10, description="A concurrency counter left by a crashed replica resets after this long.")
    local_model_roots: list[Path] = Field(
        default_factory=list, description="Directories the API may copy 'local' model downloads from (none: refused).")
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="Largest request body accepted.")
    task_interrupted_after_s: float = Field(
        default=3600.0, gt=0,
        description="At start, a gateway marks failed ('interrupted') the tasks still queued or running that began "
                    "longer ago than this: their gateway is gone. Keep it above the longest generation, so tasks of "
                    "other live ingress replicas are never touched.")

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

    @field_validator("rate_limit_tiers")
    @classmethod
    def _every_tier(cls, tiers: dict[Tier, TierLimits]) -> dict[Tier, TierLimits]:
        if tuple(tiers) != TIERS:
            raise ValueError(f"rate_limit_tiers must configure exactly {list(TIERS)}, in that order")
        return tiers

    @model_validator(mode="after")
    def _groups_limited_or_unlimited(self) -> Settings:
        both = sorted(set(self.rate_limit_groups) & set(self.rate_limit_unlimited_groups))
        if both:
            raise ValueError(f"endpoint group(s) {both} are both limited (rate_limit_groups) and unlimited "
                             "(rate_limit_unlimited_groups)")
        return self

    def portable(self) -> dict:
        """These settings as JSON for another process (a Ray actor or replica), secrets included."""
        data = self.model_dump(mode="json")
        if self.secret_key is not None:
            data["secret_key"] = self.secret_key.get_secret_value()
        return data

    def ensure_dirs(self) -> None:
        for path in (self.data_dir, self.resolved_models_dir, self.resolved_weights_dir, self.videos_dir):
            path.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    """Forget the cached settings (tests and the CLI change VDB_* variables)."""
    get_settings.cache_clear()
