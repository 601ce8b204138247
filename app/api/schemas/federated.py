"""Federated API bodies (benchmark-suite reference, "Federated API"). The domain checks (catalog, grid,
budget split) run in app.federated.spec when the route builds a SessionSpec."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from app.api.schemas.base import RequestBody
from app.catalog.spec import MAX_PROMPT_CHARS, PROMPT_PATTERN
from app.federated.spec import ID_PATTERN, releasable

Identifier = Annotated[str, Field(pattern=ID_PATTERN, max_length=100)]
GridValue = int | float | Annotated[str, Field(max_length=100)]
if TYPE_CHECKING:  # a Literal built at run time is no type to mypy: to it a metric name is a str
    ReleasableMetric = str
else:
    ReleasableMetric = Literal[tuple(releasable())]  # the names a session can release, in the schema


class PrivacyConfigBody(RequestBody):
    privacy_level: Literal["none", "differential"] = "differential"
    epsilon: float | None = Field(default=None, gt=0, le=100, description="Per participant; default 1.0.")
    delta: float | None = Field(default=None, gt=0, lt=1, description="Gaussian mechanism only.")
    mechanism: Literal["laplace", "gaussian"] | None = Field(
        default=None, description="Default: laplace without delta, gaussian with one."
    )


class BenchmarkGridBody(RequestBody):
    models: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(min_length=1, max_length=64)
    prompts: list[Annotated[str, Field(min_length=1, max_length=MAX_PROMPT_CHARS, pattern=PROMPT_PATTERN)]] = Field(
        min_length=1, max_length=1000
    )
    parameters: dict[str, GridValue | Annotated[list[GridValue], Field(max_length=1000)]] = Field(
        default_factory=dict, description="A value or a list of values per VideoParameters field; lists make a grid."
    )
    videos_per_prompt: int = Field(default=1, ge=1, le=100)
    seed: int = Field(default=0, ge=0, le=2**31 - 101)
    metrics: list[ReleasableMetric] | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        description="Released per task; default temporal_consistency and latency_s.",
    )
    clip_bounds: dict[str, Annotated[list[float], Field(min_length=2, max_length=2)]] | None = Field(
        default=None, description="[low, high] per released metric, over the published defaults."
    )


class SessionCreate(RequestBody):
    session_id: Identifier
    participants: list[Identifier] = Field(min_length=1, max_length=100)
    benchmark_spec: BenchmarkGridBody
    privacy_config: PrivacyConfigBody = Field(default_factory=PrivacyConfigBody)
    consensus_threshold: float = Field(default=1.0, gt=0, le=1)
    timeout_minutes: int = Field(default=120, ge=1, le=7 * 24 * 60)


class JoinRequest(RequestBody):
    participant_id: Identifier
    public_key: str = Field(min_length=1, max_length=10_000, description="PEM Ed25519 or ECDSA public key.")
    capabilities: dict[str, Any] = Field(description="gpu_memory, compute_capability, models_supported.")


class SignedReport(RequestBody):
    participant_id: Identifier
    payload: str = Field(
        min_length=1,
        max_length=4 * 1024 * 1024,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="base64url of the signed JSON report.",
    )
    signature: str = Field(
        min_length=1,
        max_length=1000,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="base64url of the Ed25519 / ECDSA-SHA256 signature over the payload bytes.",
    )
