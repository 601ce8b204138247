"""One settings object for the whole application (env prefix ``VDB_``).

Everything tunable lives here so that the CLI, the runner, Ray actors and the
test suite agree on paths and limits. Nothing is created at import time:
directories are made by :meth:`Settings.ensure_dirs` when work starts.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

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

# -- user configuration file and locale (vid-bench config / locale) -------------------------------
OptimizationLevel = Literal["baseline", "balanced", "performance"]
"""Names of app.engines.optimization.PROFILES (a test keeps the two equal)."""
LocaleCode = Literal["en", "es", "fr", "de", "ja", "zh-CN"]
"""Locales with a message catalog (app/i18n/locales)."""
LOCALES: tuple[str, ...] = get_args(LocaleCode)
CONFIG_FILE_NAME = "config.toml"
"""The user configuration file, in the data directory: values under the VDB_* environment variables."""
DEFAULT_DATA_DIR = Path.home() / ".vid-bench"


def normalize_locale(code: str) -> str:
    """'zh_CN', 'zh-cn', 'ES' -> the catalog's spelling ('zh-CN', 'es'); an unknown code is returned as given."""
    wanted = code.strip().replace("_", "-").lower()
    return next((known for known in LOCALES if known.lower() == wanted), code)


def config_file_path(data_dir: str | Path | None = None) -> Path:
    """``<data_dir>/config.toml``, the data directory from the argument, VDB_DATA_DIR or the default."""
    env = next((value for key, value in os.environ.items() if key.upper() == "VDB_DATA_DIR"), None)
    return Path(data_dir or env or DEFAULT_DATA_DIR).expanduser() / CONFIG_FILE_NAME


class UserConfigSource(TomlConfigSettingsSource):
    """The user configuration file as a settings source; a key that is no setting, or data_dir (which locates the
    file itself), is refused rather than ignored, and a syntax error names the file."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path):
        self.path = path
        try:
            super().__init__(settings_cls, toml_file=path)
        except tomllib.TOMLDecodeError as error:
            raise ValueError(f"{path} is not valid TOML: {error}") from None
        unknown = sorted(set(self.toml_data) - set(settings_cls.model_fields))
        if unknown:
            raise ValueError(f"{path}: unknown setting(s) {unknown}; allowed: {sorted(settings_cls.model_fields)}")
        if "data_dir" in self.toml_data:
            raise ValueError(f"{path}: data_dir cannot be set in the file it locates; use VDB_DATA_DIR")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="VDB_", extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ):
        """Arguments, then VDB_* variables, then the user configuration file (`vid-bench config`), then defaults."""
        data_dir = getattr(init_settings, "init_kwargs", {}).get("data_dir")
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            UserConfigSource(settings_cls, config_file_path(data_dir)),
            file_secret_settings,
        )

    data_dir: Path = Field(default=DEFAULT_DATA_DIR, description="Root of all local state.")
    models_dir: Path | None = Field(default=None, description="Model checkpoints; default <data_dir>/models.")
    weights_dir: Path | None = Field(
        default=None, description="Evaluator weights (I3D, Inception, CLIP); default <data_dir>/weights."
    )
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
    ray_dashboard_port: int = Field(
        default=8265, ge=1, le=65535, description="Dashboard / job server port of a Ray started by `vid-bench serve`."
    )
    gpu_memory_gb: float | None = Field(
        default=None, gt=0, description="Memory of the cluster's GPUs, for GPU fractions when the driver sees none."
    )
    actor_min_cpus: float = Field(
        default=0.25, gt=0, le=64, description="Smallest CPU share a benchmark actor takes when fewer are free."
    )
    resource_wait_s: float = Field(
        default=300.0, gt=0, description="How long a benchmark or stream waits for its actor to be placed."
    )
    heartbeat_s: float = Field(default=10.0, gt=0, description="How often a benchmark's or stream's owner reports in.")
    orphan_after_s: float = Field(
        default=60.0, gt=0, description="Silent this long: a benchmark is resumed, a stream ends failed."
    )

    # -- security -------------------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        default=None,
        description="Server secret for API-key digests and JWT signatures; default: a random key "
        "kept in <data_dir>/secret.key (0600), shared by every process on that directory.",
    )
    jwt_issuer: str = Field(default="vid-bench", description="'iss' of issued tokens; tokens with another are refused.")
    jwt_audience: str = Field(default="vid-bench-api", description="'aud' of issued tokens; checked on every token.")
    jwt_ttl_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600, description="Lifetime of a login token.")
    rate_limit_storage: str = Field(
        default="memory://", description="`limits` storage URI; redis://host:6379 shares counters between replicas."
    )
    rate_limit_tiers: dict[Tier, TierLimits] = Field(
        default_factory=lambda: dict(DEFAULT_TIERS), description="Limits of the tiers free, pro and enterprise."
    )
    rate_limit_groups: dict[str, GroupLimits] = Field(
        default_factory=lambda: dict(DEFAULT_GROUPS), description="Limits of the endpoint groups that have one."
    )
    rate_limit_unlimited_groups: list[str] = Field(
        default_factory=lambda: list(UNLIMITED_GROUPS),
        description="Endpoint groups deliberately without a limit of their own (the tier limits still apply). A "
        "group a route names must be here or in rate_limit_groups, or the gateway refuses to start.",
    )
    login_attempts_per_minute: int = Field(default=10, ge=1, description="Logins per client address and minute.")
    concurrency_slot_ttl_s: int = Field(
        default=3600, ge=10, description="A concurrency counter left by a crashed replica resets after this long."
    )
    local_model_roots: list[Path] = Field(
        default_factory=list, description="Directories the API may copy 'local' model downloads from (none: refused)."
    )
    max_body_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="Largest request body accepted.")
    task_interrupted_after_s: float = Field(
        default=3600.0,
        gt=0,
        description="At start, a gateway marks failed ('interrupted') the tasks still queued or running that began "
        "longer ago than this: their gateway is gone. Keep it above the longest generation, so tasks of "
        "other live ingress replicas are never touched.",
    )

    # -- user configuration (vid-bench config) and locale -------------------------------------------
    optimization_level: OptimizationLevel = Field(
        default="baseline", description="Optimization profile of a benchmark that names none (SDK, CLI, REST)."
    )
    default_locale: LocaleCode = Field(
        default="en",
        description="Language of CLI output, of the SDK's translate() and of API error messages when "
        "the request sends no Accept-Language.",
    )
    gpu_memory_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="Share of each GPU's memory this application may allocate: a process loading a model on CUDA "
        "caps itself at this times its Ray GPU share (torch.cuda.set_per_process_memory_fraction), and "
        "GPU shares of benchmark actors are sized against this much of the GPU.",
    )

    @field_validator("default_locale", mode="before")
    @classmethod
    def _locale_spelling(cls, value: Any) -> Any:
        return normalize_locale(value) if isinstance(value, str) else value

    # -- generation limits (refs-errors) -----------------------------------------------------------
    generation_timeout_s: float | None = Field(
        default=None,
        gt=0,
        le=24 * 3600,
        description="Default bound on one local video generation (gateway request or benchmark video) when the "
        "request names none; past it the generation stops at its next denoising step "
        "(GENERATION_TIMEOUT). None: no bound.",
    )
    download_slots: int = Field(
        default=2,
        ge=1,
        le=32,
        description="Model downloads a gateway process runs at once; the others wait in "
        "priority order (high, normal, low).",
    )
    # -- analytics, monitoring and the dashboard (issue 16) --
    monitor_interval_s: float = Field(
        default=1.0, ge=0.05, le=60, description="Sampling interval of enable_monitoring / --monitor (seconds)."
    )
    dashboard_refresh_s: float = Field(
        default=5.0, ge=0.5, le=3600, description="How often the dashboard page refreshes its tables (seconds)."
    )
    # -- federated benchmarking (issue 15) -------------------------------------------------------
    federated_max_tasks: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="Most tasks (models x parameter combinations) a federated session's grid may expand to.",
    )
    federated_coordinator_url: str = Field(
        default="http://127.0.0.1:8080",
        description="Coordinator (gateway) the SDK and CLI talk to when no endpoint is given.",
    )
    federated_public_endpoint: str | None = Field(
        default=None,
        description="Endpoint the coordinator announces to participants; default: the URL the "
        "session was created through.",
    )
    federated_poll_s: float = Field(
        default=5.0, gt=0, le=3600, description="How often a waiting participant asks the coordinator for news."
    )
    # -- speed (issue 17): warm worker pool, flow method, progress writes --------------------------
    flow_method: str = Field(
        default="dis",
        description="Optical flow of the weight-free metrics: 'dis' (DIS, preset FAST), 'dis-medium' or 'farneback'.",
    )
    worker_pool_idle_s: float = Field(
        default=120.0,
        ge=0,
        description="A benchmark worker left idle this long is stopped; 0 turns the pool off "
        "(every benchmark starts and stops its own workers).",
    )
    worker_pool_memory_gb: float = Field(
        default=8.0,
        gt=0,
        description="Idle pooled workers are stopped, least recently used first, while the "
        "pool's resident memory is above this.",
    )
    progress_interval_s: float = Field(
        default=0.25,
        ge=0,
        description="A replica writes a task's step progress (and reads its cancel flag) at most "
        "this often; the last step is always written.",
    )
    # -- streaming (issue #14) ----------------------------------------------------------------------
    streaming_max_duration_s: float = Field(
        default=600.0, gt=0, description="Longest live stream (duration_seconds) accepted."
    )
    streaming_max_buffer_frames: int = Field(default=1000, ge=1, description="Largest playback buffer accepted.")
    streaming_reservoir: float = Field(
        default=0.25, gt=0, lt=1, description="BBA reservoir: buffer share below which the lowest rung is taken."
    )
    streaming_cushion: float = Field(
        default=0.5, gt=0, lt=1, description="BBA cushion: buffer share over which the rate map climbs to the top."
    )

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
            raise ValueError(
                f"endpoint group(s) {both} are both limited (rate_limit_groups) and unlimited "
                "(rate_limit_unlimited_groups)"
            )
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
