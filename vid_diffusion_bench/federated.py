"""Federated benchmarking from Python: create a session on a coordinator, or join one as a participant.

Both are coroutines, as in the reference. The coordinator is the gateway at ``coordinator_endpoint``
(default VDB_FEDERATED_COORDINATOR_URL), reached with VDB_API_KEY unless ``api_key`` is given. A participant
runs as a Ray actor on its own Ray (local unless VDB_RAY_ADDRESS), with its data directory (default
<data_dir>/federated/<session>/<participant>), and posts only signed, privatised per-task aggregates.
``simulate=True`` rehearses a whole session on one cluster: every participant an actor with its own directory.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import Settings, get_settings
from app.federated.actors import participant_settings, run_participants
from app.federated.participant import CoordinatorClient

__all__ = [
    "FederatedSession",
    "ParticipantResult",
    "create_federated_session",
    "join_federated_session",
    "session_results",
    "session_status",
]


@dataclass
class FederatedSession:
    """What creating a session answered; truthy when the session was created. With ``simulate=True`` also the
    participants' reports and the published aggregate."""

    session_id: str
    status: str
    coordinator_endpoint: str | None
    participant_count: int
    estimated_duration: int
    created_at: str
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    participants: dict[str, dict[str, Any]] | None = None
    results: dict[str, Any] | None = field(default=None, repr=False)

    def __bool__(self) -> bool:
        return self.status not in ("failed", "timed_out")


@dataclass
class ParticipantResult:
    """What a participant's run did; truthy when every assigned task is reported."""

    session_id: str
    participant_id: str
    phase: str
    tasks_total: int
    tasks_posted: int
    local_epsilon_spent: float | None

    def __bool__(self) -> bool:
        return self.tasks_posted == self.tasks_total


def _data_dir(settings: Settings, session_id: str, participant_id: str, data_dir: str | Path | None) -> Path:
    return Path(data_dir) if data_dir else settings.data_dir / "federated" / session_id / participant_id


def _create(body: dict[str, Any], endpoint: str, api_key: str | None) -> dict[str, Any]:
    client = CoordinatorClient(endpoint, api_key)
    try:
        return client.create_session(body)
    finally:
        client.close()


async def create_federated_session(
    session_id: str,
    participants: list[str],
    benchmark_spec: dict[str, Any],
    privacy_level: str = "differential",
    epsilon: float | None = None,
    delta: float | None = None,
    mechanism: str | None = None,
    consensus_threshold: float = 1.0,
    timeout_minutes: int = 120,
    coordinator_endpoint: str | None = None,
    api_key: str | None = None,
    simulate: bool = False,
    simulation_dir: str | Path | None = None,
) -> FederatedSession:
    """Create the session on the coordinator (everything is checked there before it is stored).

    ``simulate=True`` then runs every participant as a Ray actor here, each with its own data directory under
    ``simulation_dir`` (default <data_dir>/federated-simulation/<session>), and waits for the published aggregate.
    """
    settings = get_settings()
    endpoint = coordinator_endpoint or settings.federated_coordinator_url
    privacy = {"privacy_level": privacy_level, "epsilon": epsilon, "delta": delta, "mechanism": mechanism}
    body = {
        "session_id": session_id,
        "participants": participants,
        "benchmark_spec": benchmark_spec,
        "privacy_config": {k: v for k, v in privacy.items() if v is not None},
        "consensus_threshold": consensus_threshold,
        "timeout_minutes": timeout_minutes,
    }
    created = await asyncio.to_thread(_create, body, endpoint, api_key)
    session = FederatedSession(
        **{
            k: created[k]
            for k in (
                "session_id",
                "status",
                "coordinator_endpoint",
                "participant_count",
                "estimated_duration",
                "created_at",
            )
        },
        details=created,
    )
    if simulate:
        root = Path(simulation_dir) if simulation_dir else settings.data_dir / "federated-simulation" / session_id
        each = {pid: participant_settings(settings, root / pid) for pid in participants}
        session.participants = await asyncio.to_thread(run_participants, session_id, each, endpoint, api_key)
        session.results = await asyncio.to_thread(session_results, session_id, endpoint, api_key)
        session.status = (await asyncio.to_thread(session_status, session_id, endpoint, api_key))["status"]
    return session


async def join_federated_session(
    participant_id: str,
    session_id: str,
    coordinator_endpoint: str | None = None,
    api_key: str | None = None,
    data_dir: str | Path | None = None,
    key_type: str = "ed25519",
    wait_minutes: float | None = None,
) -> ParticipantResult:
    """Join, wait for the start signal, run every task locally in a Ray actor and post the signed releases.

    Interrupted, it resumes where it stopped when called again with the same data directory.
    """
    settings = get_settings()
    endpoint = coordinator_endpoint or settings.federated_coordinator_url
    mine = participant_settings(settings, _data_dir(settings, session_id, participant_id, data_dir))
    reports = await asyncio.to_thread(
        run_participants,
        session_id,
        {participant_id: mine},
        endpoint,
        api_key,
        key_type,
        None,
        None if wait_minutes is None else wait_minutes * 60,
    )
    return ParticipantResult(**reports[participant_id])


def session_status(session_id: str, coordinator_endpoint: str | None = None, api_key: str | None = None) -> dict:
    client = CoordinatorClient(coordinator_endpoint or get_settings().federated_coordinator_url, api_key)
    try:
        return client.status(session_id)
    finally:
        client.close()


def session_results(session_id: str, coordinator_endpoint: str | None = None, api_key: str | None = None) -> dict:
    client = CoordinatorClient(coordinator_endpoint or get_settings().federated_coordinator_url, api_key)
    try:
        return client.results(session_id)
    finally:
        client.close()
