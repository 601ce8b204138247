"""Participants as Ray actors: each with its own data directory (database, raw results, key), talking to the
coordinator over HTTP. ``vid-bench federated join`` runs one on the participant's own cluster; a simulation
runs one per participant on one cluster, as a consortium rehearses a session."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, cast

import ray

from app.config import Settings
from app.federated.participant import Participant
from app.federated.signing import KeyType

NAMESPACE = "vid-bench"


class ParticipantActor:
    def __init__(
        self,
        session_id: str,
        participant_id: str,
        coordinator_url: str,
        api_key: str | None,
        settings_json: dict[str, Any],
        key_type: str,
        poll_s: float | None,
    ):
        # ``key_type`` comes as given on the command line: generate_key refuses an unknown one when it makes the key
        # (an existing key file is used whatever the type named)
        self.participant = Participant(
            session_id,
            participant_id,
            coordinator_url,
            api_key,
            Settings(**settings_json),
            cast(KeyType, key_type),
            poll_s,
        )

    def run(self, wait_s: float | None) -> dict[str, Any]:
        return self.participant.run(wait_s).to_dict()


RemoteParticipant = ray.remote(ParticipantActor)


def participant_settings(base: Settings, data_dir: Path) -> Settings:
    """``base`` with its own data directory and database there; models and evaluator weights stay shared."""
    data = base.portable()
    data.update(
        data_dir=str(data_dir),
        database_url=None,
        models_dir=str(base.resolved_models_dir),
        weights_dir=str(base.resolved_weights_dir),
    )
    return Settings(**data)


def start_participant(
    session_id: str,
    participant_id: str,
    coordinator_url: str,
    api_key: str | None,
    settings: Settings,
    key_type: str = "ed25519",
    poll_s: float | None = None,
):
    """The participant's actor (0 CPUs: its benchmark workers take the cluster's CPUs), started now."""
    from app.bench.cluster import ensure_ray

    ensure_ray(settings)
    api_key = api_key or os.environ.get("VDB_API_KEY")  # the actor's process does not see this one's environment
    return RemoteParticipant.options(
        name=f"federated-{session_id}-{participant_id}-{uuid.uuid4().hex[:6]}",
        namespace=NAMESPACE,
        num_cpus=0,
        max_restarts=0,
    ).remote(session_id, participant_id, coordinator_url, api_key, settings.portable(), key_type, poll_s)


def run_participants(
    session_id: str,
    participants: dict[str, Settings],
    coordinator_url: str,
    api_key: str | None,
    key_type: str = "ed25519",
    poll_s: float | None = None,
    wait_s: float | None = None,
) -> dict[str, dict[str, Any]]:
    """Run each participant in its own actor at once; their reports, by participant id. An actor that fails
    raises its error here, after every actor has ended."""
    actors = {
        pid: start_participant(session_id, pid, coordinator_url, api_key, settings, key_type, poll_s)
        for pid, settings in participants.items()
    }
    refs = {pid: actor.run.remote(wait_s) for pid, actor in actors.items()}
    results, failure = {}, None
    try:
        for pid, ref in refs.items():
            try:
                results[pid] = ray.get(ref)
            except ray.exceptions.RayTaskError as exc:
                cause = getattr(exc, "cause", None)
                failure = failure or (cause if isinstance(cause, Exception) else exc)
    finally:
        for actor in actors.values():
            ray.kill(actor)
    if failure is not None:
        raise failure
    return results
