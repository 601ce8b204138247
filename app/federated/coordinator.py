"""The coordinator: sessions, joins, signed reports, the phases and the published aggregate.

Phases: created -> joining (someone joined) -> execution (a quorum joined: the start signal) -> aggregation
(a quorum of participants reported every task, or the deadline passed with at least one report) -> completed;
timed_out when the deadline passes with nothing reported; failed when the aggregate cannot be built. Phases
move on whenever a session is read or written (:meth:`Coordinator.advance`), with compare-and-set updates, so
every gateway replica sees and makes the same moves and no background thread is needed.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from typing import Any

from app import __version__
from app.config import Settings
from app.errors import (
    FederatedJoinRefusedError,
    FederatedMembershipError,
    FederatedPhaseError,
    ReportReplayError,
    ResultsNotReadyError,
    TaskAlreadyReportedError,
    TaskNotAssignedError,
    ValidationError,
)
from app.federated import privacy
from app.federated.aggregate import aggregate_task
from app.federated.signing import fingerprint, key_type_of, load_public_key, open_report
from app.federated.spec import STATISTICS, SessionSpec, check_capabilities
from app.i18n import Message
from app.storage.federated import FederatedRepository, FederatedSessionRow
from app.storage.tables import utcnow

OPEN = {"created", "joining", "execution"}
TERMINAL = {"completed", "failed", "timed_out"}
STATUS = {
    "created": "created",
    "joining": "waiting_for_participants",
    "execution": "running",
    "aggregation": "aggregating",
    "completed": "completed",
    "failed": "failed",
    "timed_out": "timed_out",
}


def privacy_record(spec: SessionSpec, tasks: int) -> dict[str, Any]:
    """What the session publishes about its privacy: level, mechanism, budget, the per-release share, bounds."""
    config, grid = spec.privacy_config, spec.benchmark_spec
    bounds = {name: list(pair) for name, pair in grid.bounds().items()}
    releases = tasks * len(grid.metrics) * len(STATISTICS)
    record: dict[str, Any] = {
        "privacy_level": config.privacy_level,
        "mechanism": config.mechanism,
        "epsilon": config.epsilon,
        "delta": config.delta,
        "clip_bounds": bounds,
        "releases_per_participant": releases,
        "statistics": list(STATISTICS),
        "composition": "sequential (basic): shares add up to the total",
    }
    if config.privacy_level == "differential":
        if config.epsilon is None:  # PrivacyConfig fills in the default epsilon of a differential config
            raise ValueError("A differential privacy config has an epsilon")
        share = privacy.split_budget(config.epsilon, config.delta, releases)
        record.update(
            epsilon_units=privacy.epsilon_units(config.epsilon),
            delta_units=privacy.delta_units(config.delta),
            share={
                "epsilon": share.epsilon,
                "delta": share.delta,
                "epsilon_units": share.epsilon_units,
                "delta_units": share.delta_units,
            },
        )
    return record


def share_of(row: FederatedSessionRow) -> privacy.Share | None:
    share = row.privacy.get("share")
    return None if share is None else privacy.Share(share["epsilon_units"], share["delta_units"])


def _not_a_participant(session_id: str, participant_id: str) -> FederatedMembershipError:
    return FederatedMembershipError(
        Message(
            "'{participant_id}' is not a participant of session {session_id}",
            participant_id=participant_id,
            session_id=session_id,
        ),
        {"session_id": session_id, "participant_id": participant_id},
    )


class Coordinator:
    def __init__(self, repo: FederatedRepository, settings: Settings):
        self.repo = repo
        self.settings = settings

    # -- sessions ---------------------------------------------------------------------------------------
    def create(self, spec: SessionSpec, created_by: str | None, endpoint: str | None) -> FederatedSessionRow:
        """Check everything, then store the session, its participants and their budgets at once."""
        tasks = spec.tasks(self.settings)
        record = privacy_record(spec, len(tasks))
        now = utcnow()
        row = FederatedSessionRow(
            id=spec.session_id,
            spec=spec.model_dump(mode="json"),
            tasks=[t.to_dict() for t in tasks],
            privacy=record,
            phase="created",
            consensus_threshold=spec.consensus_threshold,
            quorum=spec.quorum(),
            timeout_minutes=spec.timeout_minutes,
            created_by=created_by,
            created_at=now,
            deadline_at=now + timedelta(minutes=spec.timeout_minutes),
            coordinator_endpoint=self.settings.federated_public_endpoint or endpoint,
        )
        budget = (record["epsilon_units"], record["delta_units"]) if "share" in record else None
        self.repo.create_session(row, spec.participants, budget)
        return row

    def created(self, row: FederatedSessionRow) -> dict[str, Any]:
        return {
            "session_id": row.id,
            "status": STATUS[row.phase],
            "coordinator_endpoint": row.coordinator_endpoint,
            "participant_count": len(row.spec["participants"]),
            "estimated_duration": row.timeout_minutes,
            "created_at": row.created_at.isoformat(),
            "tasks_total": len(row.tasks),
            "privacy": row.privacy,
        }

    def join(
        self, session_id: str, participant_id: str, public_key: str, capabilities: dict[str, Any], principal: str | None
    ) -> dict[str, Any]:
        row = self.advance(session_id)
        member = self.repo.participant(session_id, participant_id)
        if member is None:
            raise _not_a_participant(session_id, participant_id)
        if row.phase not in OPEN:
            raise FederatedPhaseError(
                Message("Session {session_id} is {phase}: it takes no joins", session_id=session_id, phase=row.phase),
                {"session_id": session_id, "phase": row.phase},
            )
        key = load_public_key(public_key)
        check_capabilities(row.spec["benchmark_spec"]["models"], capabilities)
        print_ = fingerprint(public_key)
        if member.public_key is None and self.repo.bind_key(
            session_id,
            participant_id,
            public_key=public_key,
            key_fingerprint=print_,
            key_type=key_type_of(key),
            capabilities=capabilities,
            joined_by=principal,
            joined_at=utcnow(),
        ):
            pass
        elif (bound := self.repo.participant(session_id, participant_id)) is None:  # participants are never removed
            raise _not_a_participant(session_id, participant_id)
        elif bound.key_fingerprint != print_:
            raise FederatedJoinRefusedError(
                Message(
                    "'{participant_id}' already joined session {session_id} with another key",
                    participant_id=participant_id,
                    session_id=session_id,
                ),
                {"session_id": session_id, "participant_id": participant_id},
            )
        row = self.advance(session_id)
        return {
            "session_id": session_id,
            "participant_id": participant_id,
            "status": "joined",
            "secure_channel_established": True,
            "benchmark_spec_received": True,
            "next_action": "start_execution" if row.phase == "execution" else "wait_for_start_signal",
            "phase": row.phase,
            "key_fingerprint": print_,
            "benchmark_spec": row.spec["benchmark_spec"],
            "tasks": row.tasks,
            "privacy": row.privacy,
        }

    # -- phases -------------------------------------------------------------------------------------------
    def advance(self, session_id: str) -> FederatedSessionRow:
        """Make whatever phase moves are due now, then return the session."""
        row = self.repo.get(session_id)
        now = utcnow()
        if row.phase in OPEN and now >= row.deadline_at:
            if self.repo.releases(session_id):
                if self.repo.move(session_id, OPEN, phase="aggregation"):
                    return self._aggregate(session_id, "timeout")
            else:
                self.repo.move(
                    session_id,
                    OPEN,
                    phase="timed_out",
                    completed_at=now,
                    error="the session's deadline passed before any participant reported",
                )
            return self.repo.get(session_id)
        if row.phase in ("created", "joining"):
            joined = sum(p.public_key is not None for p in self.repo.participants(session_id))
            if joined >= row.quorum:
                self.repo.move(session_id, {"created", "joining"}, phase="execution", execution_started_at=now)
            elif joined and row.phase == "created":
                self.repo.move(session_id, {"created"}, phase="joining")
            row = self.repo.get(session_id)
        if row.phase == "execution" and len(self._finished(row)) >= row.quorum:
            if self.repo.move(session_id, {"execution"}, phase="aggregation"):
                return self._aggregate(session_id, "consensus")
            row = self.repo.get(session_id)
        if row.phase == "aggregation" and row.result is None:  # an aggregator stopped half-way: do it again
            return self._aggregate(session_id, "consensus" if len(self._finished(row)) >= row.quorum else "timeout")
        return row

    def _finished(self, row: FederatedSessionRow) -> list[str]:
        """Participants that reported every task."""
        total = {task["task_id"] for task in row.tasks}
        return [p for p, tasks in self.repo.reported_tasks(row.id).items() if tasks >= total]

    def _aggregate(self, session_id: str, trigger: str) -> FederatedSessionRow:
        row = self.repo.get(session_id)
        try:
            result = self.build_result(row, trigger)
        except Exception as exc:  # noqa: BLE001 - whatever stops the aggregate ends the session as failed, with why
            self.repo.move(
                session_id,
                {"aggregation"},
                phase="failed",
                completed_at=utcnow(),
                error=f"aggregation failed: {type(exc).__name__}: {exc}",
            )
            return self.repo.get(session_id)
        self.repo.move(session_id, {"aggregation"}, phase="completed", result=result, completed_at=utcnow())
        return self.repo.get(session_id)

    def build_result(self, row: FederatedSessionRow, trigger: str) -> dict[str, Any]:
        bounds = {name: tuple(pair) for name, pair in row.privacy["clip_bounds"].items()}
        by_task: dict[str, list] = {}
        for release in self.repo.releases(row.id):
            by_task.setdefault(release.task_id, []).append((release.participant_id, release.n_videos, release.release))
        noisy = row.privacy["privacy_level"] == "differential"
        tasks = [aggregate_task(task, by_task.get(task["task_id"], []), bounds, noisy) for task in row.tasks]
        members = {p.participant_id: p for p in self.repo.participants(row.id)}
        reports = self.repo.reports(row.id)
        covered = sorted({r.participant_id for r in reports})
        return {
            "session_id": row.id,
            "published_at": utcnow().isoformat(),
            "trigger": trigger,
            "participant_count": len(covered),
            "participants_total": len(members),
            "participants": covered,
            "privacy": {
                key: row.privacy.get(key)
                for key in ("privacy_level", "mechanism", "epsilon", "delta", "share", "clip_bounds", "composition")
            },
            "tasks": tasks,
            "provenance": {
                "coordinator_version": __version__,
                "packages": _versions(),
                "spec_hash": hashlib.sha256(json.dumps(row.spec, sort_keys=True).encode()).hexdigest(),
                "consensus_threshold": row.consensus_threshold,
                "quorum": row.quorum,
                "created_at": row.created_at.isoformat(),
                "deadline_at": row.deadline_at.isoformat(),
                "reports": [
                    {
                        "report_id": r.id,
                        "participant_id": r.participant_id,
                        "nonce": r.nonce,
                        "payload_sha256": r.digest,
                        "received_at": r.received_at.isoformat(),
                        "key_fingerprint": members[r.participant_id].key_fingerprint,
                    }
                    for r in reports
                ],
                "aggregation": "per task and metric: means weighted by videos; 95% CI = 1.96 x sqrt(sampling + "
                "noise variance) (app/federated/aggregate.py, docs/federated.md)",
            },
        }

    # -- reading ------------------------------------------------------------------------------------------
    def status(self, session_id: str) -> dict[str, Any]:
        row = self.advance(session_id)
        members = self.repo.participants(session_id)
        reported = self.repo.reported_tasks(session_id)
        finished = set(self._finished(row))
        joined = [m.participant_id for m in members if m.public_key is not None]
        tasks_total = len(row.tasks) * len(members)
        done = sum(len(tasks) for tasks in reported.values())
        return {
            "session_id": row.id,
            "status": STATUS[row.phase],
            "phase": row.phase,
            "participants": {
                "total": len(members),
                "joined": len(joined),
                "active": len([p for p in joined if p not in finished]) if row.phase in OPEN else 0,
                "completed": len(finished),
                "quorum": row.quorum,
            },
            "progress": {
                "tasks_completed": done,
                "tasks_total": tasks_total,
                "percentage": round(100.0 * done / tasks_total, 1) if tasks_total else 100.0,
            },
            "privacy_budget": self._budget(row, members),
            "estimated_completion": self._estimate(row, done, tasks_total),
            "created_at": row.created_at.isoformat(),
            "deadline_at": row.deadline_at.isoformat(),
            "coordinator_endpoint": row.coordinator_endpoint,
            "error": row.error,
        }

    def _budget(self, row: FederatedSessionRow, members) -> dict[str, Any]:
        if row.privacy["privacy_level"] != "differential":
            return {"privacy_level": "none", "epsilon_total": None, "epsilon_spent": None, "epsilon_remaining": None}
        ledgers = {b.participant_id: b for b in self.repo.ledger.of_session(row.id)}
        per = {}
        for member in members:
            b = ledgers[member.participant_id]
            per[member.participant_id] = {
                "epsilon_spent": b.epsilon_spent * privacy.EPSILON_UNIT,
                "epsilon_remaining": (b.epsilon_total - b.epsilon_spent) * privacy.EPSILON_UNIT,
                "delta_spent": b.delta_spent * privacy.DELTA_UNIT,
            }
        spent = max((p["epsilon_spent"] for p in per.values()), default=0.0)
        delta_spent = max((p["delta_spent"] for p in per.values()), default=0.0)
        return {
            "privacy_level": "differential",
            "mechanism": row.privacy["mechanism"],
            "epsilon_total": row.privacy["epsilon"],
            "epsilon_spent": spent,
            "epsilon_remaining": row.privacy["epsilon"] - spent,
            "delta_total": row.privacy["delta"],
            "delta_spent": delta_spent if row.privacy["delta"] else None,
            "accounting": "per participant; the top-level figures are the largest spend of any participant",
            "participants": per,
        }

    @staticmethod
    def _estimate(row: FederatedSessionRow, done: int, total: int) -> str | None:
        """Linear extrapolation of the tasks reported since execution started, never past the deadline."""
        if row.phase in TERMINAL:
            return row.completed_at.isoformat() if row.completed_at else None
        if row.execution_started_at is None or done == 0:
            return row.deadline_at.isoformat()
        elapsed = utcnow() - row.execution_started_at
        return min(row.execution_started_at + elapsed * (total / done), row.deadline_at).isoformat()

    def tasks_for(self, session_id: str, participant_id: str) -> dict[str, Any]:
        row = self.advance(session_id)
        if self.repo.participant(session_id, participant_id) is None:
            raise FederatedMembershipError(
                Message(
                    "'{participant_id}' is not a participant of session {session_id}",
                    participant_id=participant_id,
                    session_id=session_id,
                ),
                {"session_id": session_id, "participant_id": participant_id},
            )
        reported = self.repo.reported_tasks(session_id, participant_id)
        return {
            "session_id": session_id,
            "participant_id": participant_id,
            "phase": row.phase,
            "tasks": [{**task, "reported": task["task_id"] in reported} for task in row.tasks],
            "benchmark_spec": row.spec["benchmark_spec"],
            "privacy": row.privacy,
        }

    def results(self, session_id: str) -> dict[str, Any]:
        row = self.advance(session_id)
        if row.result is None:
            raise ResultsNotReadyError(
                Message(
                    "Session {session_id} has published no aggregate (phase {phase})",
                    session_id=session_id,
                    phase=row.phase,
                ),
                {"session_id": session_id, "phase": row.phase, "error": row.error},
            )
        return row.result

    # -- reports ------------------------------------------------------------------------------------------
    def submit_report(self, session_id: str, participant_id: str, envelope: dict[str, str]) -> dict[str, Any]:
        """Verify, check and store one signed report, or refuse it with nothing stored."""
        row = self.advance(session_id)
        member = self.repo.participant(session_id, participant_id)
        if member is None or member.public_key is None:
            raise FederatedMembershipError(
                Message(
                    "'{participant_id}' is not a participant of session {session_id}",
                    participant_id=participant_id,
                    session_id=session_id,
                )
                if member is None
                else Message(
                    "'{participant_id}' has not joined session {session_id}",
                    participant_id=participant_id,
                    session_id=session_id,
                ),
                {"session_id": session_id, "participant_id": participant_id},
            )
        payload, digest = open_report(envelope, member.public_key)
        if payload.get("session_id") != session_id or payload.get("participant_id") != participant_id:
            raise ValidationError(
                "The signed report names another session or participant",
                {"signed": {k: payload.get(k) for k in ("session_id", "participant_id")}},
            )
        nonce = payload.get("nonce")
        if not isinstance(nonce, str) or not re.fullmatch(r"[0-9a-f]{32}", nonce):
            raise ValidationError("The signed report needs a nonce of 32 hex digits", {})
        if self.repo.nonce_seen(session_id, participant_id, nonce):
            raise ReportReplayError(
                Message("This report was already received (same nonce): a replay is refused"),
                {"session_id": session_id, "participant_id": participant_id, "nonce": nonce},
            )
        if row.phase != "execution":
            raise FederatedPhaseError(
                Message("Session {session_id} is {phase}: it takes no reports", session_id=session_id, phase=row.phase),
                {"session_id": session_id, "phase": row.phase},
            )
        releases = self._check_releases(row, participant_id, payload.get("releases"))
        spend = None
        if row.privacy["privacy_level"] == "differential":
            spent = [
                stat
                for _, release in releases.values()
                for metric in release.values()
                for stat in metric.values()
                if stat.get("spent")
            ]
            spend = (sum(s["epsilon_units"] for s in spent), sum(s["delta_units"] for s in spent))
        report_id = self.repo.store_report(session_id, participant_id, nonce, digest, envelope, releases, spend)
        row = self.advance(session_id)
        budget = self.repo.ledger.get(session_id, participant_id)
        return {
            "session_id": session_id,
            "participant_id": participant_id,
            "accepted": True,
            "report_id": report_id,
            "tasks": sorted(releases),
            "phase": row.phase,
            "epsilon_spent": None if budget is None else budget.epsilon_spent * privacy.EPSILON_UNIT,
        }

    def _check_releases(self, row: FederatedSessionRow, participant_id: str, items: Any) -> dict[str, tuple]:
        if not isinstance(items, list) or not items:
            raise ValidationError("A report carries a non-empty list of task releases", {})
        assigned = {task["task_id"] for task in row.tasks}
        reported = self.repo.reported_tasks(row.id, participant_id)
        bounds = {name: tuple(pair) for name, pair in row.privacy["clip_bounds"].items()}
        mechanism = row.privacy["mechanism"] if row.privacy["privacy_level"] == "differential" else None
        share = share_of(row)
        out: dict[str, tuple] = {}
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("task_id"), str):
                raise ValidationError("Each release names its task_id", {"release": str(item)[:200]})
            task_id = item["task_id"]
            if task_id not in assigned:
                raise TaskNotAssignedError(
                    Message(
                        "Task '{task_id}' is not assigned to {participant_id} in {session_id}",
                        task_id=task_id,
                        participant_id=participant_id,
                        session_id=row.id,
                    ),
                    {"task_id": task_id, "participant_id": participant_id},
                )
            if task_id in reported or task_id in out:
                raise TaskAlreadyReportedError(
                    Message(
                        "{participant_id} already reported task '{task_id}'",
                        participant_id=participant_id,
                        task_id=task_id,
                    ),
                    {"task_id": task_id, "participant_id": participant_id},
                )
            n_videos, metrics = item.get("n_videos"), item.get("metrics")
            if (
                not isinstance(n_videos, int)
                or n_videos < 0
                or not isinstance(metrics, dict)
                or set(metrics) != set(bounds)
            ):
                raise ValidationError(
                    f"Release of {task_id} needs n_videos and exactly the metrics {sorted(bounds)}",
                    {"task_id": task_id},
                )
            for metric, stats in metrics.items():
                if not isinstance(stats, dict) or set(stats) != set(STATISTICS):
                    raise ValidationError(f"{task_id}.{metric} must release {list(STATISTICS)}", {"task_id": task_id})
                for statistic, stat in stats.items():
                    if not isinstance(stat, dict):
                        raise ValidationError(f"{task_id}.{metric}.{statistic} must be an object", {})
                    if stat.get("value") is not None and not isinstance(stat.get("value"), float):
                        raise ValidationError(f"{task_id}.{metric}.{statistic}.value must be a number or null", {})
                    privacy.check_declared(stat, bounds[metric], statistic, mechanism, share)
            out[task_id] = (n_videos, metrics)
        return out


def _versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str | None] = {}
    for name in ("opendp", "cryptography"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out
