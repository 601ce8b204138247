"""Federated sessions: create, join, status, tasks, signed reports and the published aggregate."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query, Request

from app.api.deps import Caller, State, requires
from app.api.schemas.federated import JoinRequest, SessionCreate, SignedReport
from app.federated.coordinator import Coordinator
from app.federated.spec import ID_PATTERN, SessionSpec
from app.storage.federated import FederatedRepository

router = APIRouter(prefix="/federated", tags=["federated"])
GROUP = "federated"


_coordinators: dict[int, Coordinator] = {}


def coordinator(state) -> Coordinator:
    """One coordinator per API state (its tables are checked once per database)."""
    found = _coordinators.get(id(state))
    if found is None or found.settings is not state.settings or found.repo.db is not state.repo.db:
        found = _coordinators[id(state)] = Coordinator(FederatedRepository(state.repo.db), state.settings)
    return found


@router.post("/sessions", status_code=201, dependencies=[requires("federated.create", GROUP)])
async def create_session(body: SessionCreate, request: Request, state: State, caller: Caller) -> dict:
    spec = SessionSpec(**body.model_dump(mode="json", exclude_none=True))
    endpoint = str(request.base_url).rstrip("/")
    row = await asyncio.to_thread(coordinator(state).create, spec, caller.id, endpoint)
    return coordinator(state).created(row)


@router.post("/sessions/{session_id}/join", dependencies=[requires("federated.join", GROUP)])
async def join_session(session_id: str, body: JoinRequest, state: State, caller: Caller) -> dict:
    return await asyncio.to_thread(
        coordinator(state).join, session_id, body.participant_id, body.public_key, body.capabilities, caller.id
    )


@router.get("/sessions/{session_id}", dependencies=[requires("federated.read", GROUP)])
async def session_status(session_id: str, state: State) -> dict:
    return await asyncio.to_thread(coordinator(state).status, session_id)


@router.get("/sessions/{session_id}/tasks", dependencies=[requires("federated.join", GROUP)])
async def participant_tasks(
    session_id: str, state: State, participant_id: str = Query(pattern=ID_PATTERN, max_length=100)
) -> dict:
    return await asyncio.to_thread(coordinator(state).tasks_for, session_id, participant_id)


@router.post("/sessions/{session_id}/reports", status_code=201, dependencies=[requires("federated.join", GROUP)])
async def submit_report(session_id: str, body: SignedReport, state: State) -> dict:
    envelope = {"payload": body.payload, "signature": body.signature}
    return await asyncio.to_thread(coordinator(state).submit_report, session_id, body.participant_id, envelope)


@router.get("/sessions/{session_id}/results", dependencies=[requires("federated.read", GROUP)])
async def session_results(session_id: str, state: State) -> dict:
    return await asyncio.to_thread(coordinator(state).results, session_id)
