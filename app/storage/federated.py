"""Federated sessions in the database: sessions, participants, signed reports, releases and privacy budgets.

The coordinator keeps sessions, participants, reports and the released per-task aggregates; a participant keeps
its own tasks and releases in its own database (its data directory). Both keep a privacy budget ledger here.

The ledger's spend is one conditional UPDATE (``spent + share <= total``) in integer units, the first statement
of its transaction: SQLite takes its write lock there and PostgreSQL its row lock, so concurrent releases are
serialised, a refused one changes nothing, and what is committed survives any restart.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any, overload

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.schema import Table

from app.errors import (
    FederatedSessionExistsError,
    FederatedSessionNotFoundError,
    PrivacyBudgetExceededError,
    TaskAlreadyReportedError,
    ValidationError,
)
from app.i18n import Message
from app.storage.database import Database, json_safe, rows_changed
from app.storage.tables import Base, UtcDateTime, utcnow


class FederatedSessionRow(Base):
    __tablename__ = "federated_sessions"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    spec: Mapped[dict] = mapped_column(JSON)  # the create body as checked (SessionSpec)
    tasks: Mapped[list] = mapped_column(JSON)  # the grid expanded: [{task_id, model_name, parameters}]
    privacy: Mapped[dict] = mapped_column(JSON)  # level, mechanism, epsilon, delta, share, bounds
    phase: Mapped[str] = mapped_column(String(20), index=True)
    consensus_threshold: Mapped[float] = mapped_column(Float)
    quorum: Mapped[int] = mapped_column(Integer)
    timeout_minutes: Mapped[int] = mapped_column(Integer)
    coordinator_endpoint: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime())
    execution_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    result: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # the published aggregate, with provenance
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class FederatedParticipantRow(Base):
    __tablename__ = "federated_participants"
    __table_args__ = (UniqueConstraint("session_id", "participant_id", name="uq_federated_participant"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("federated_sessions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(String(100))
    public_key: Mapped[str | None] = mapped_column(Text, nullable=True)
    key_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    key_type: Mapped[str | None] = mapped_column(String(30), nullable=True)
    capabilities: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    joined_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class FederatedReportRow(Base):
    """One signed report as received: its nonce (replays are refused on it) and the exact signed bytes."""

    __tablename__ = "federated_reports"
    __table_args__ = (UniqueConstraint("session_id", "participant_id", "nonce", name="uq_federated_nonce"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("federated_sessions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(String(100))
    nonce: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of the signed bytes
    envelope: Mapped[dict] = mapped_column(JSON)  # {payload, signature} as received
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class FederatedReleaseRow(Base):
    """One participant's released aggregate of one task (every metric and statistic of it)."""

    __tablename__ = "federated_releases"
    __table_args__ = (UniqueConstraint("session_id", "participant_id", "task_id", name="uq_federated_release"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("federated_sessions.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[str] = mapped_column(String(100))
    task_id: Mapped[str] = mapped_column(String(100))
    report_id: Mapped[int] = mapped_column(ForeignKey("federated_reports.id", ondelete="CASCADE"))
    n_videos: Mapped[int] = mapped_column(Integer)
    release: Mapped[dict] = mapped_column(JSON)  # metric -> statistic -> {value, n, scale, ...}
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class PrivacyBudgetRow(Base):
    """A participant's privacy budget in one session, in integer units (app.federated.privacy)."""

    __tablename__ = "privacy_budgets"

    session_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    epsilon_total: Mapped[int] = mapped_column(BigInteger)
    delta_total: Mapped[int] = mapped_column(BigInteger)
    epsilon_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    delta_spent: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class FederatedLocalTaskRow(Base):
    """A participant's own record of one task: its local benchmark and, once drawn, the release it posts."""

    __tablename__ = "federated_local_tasks"

    session_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    task_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    benchmark_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    release: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


# From the metadata, which types them as Table (``__table__`` is typed as the wider FromClause).
TABLES: list[Table] = [
    Base.metadata.tables[row.__tablename__]
    for row in (
        FederatedSessionRow,
        FederatedParticipantRow,
        FederatedReportRow,
        FederatedReleaseRow,
        PrivacyBudgetRow,
        FederatedLocalTaskRow,
    )
]
_ready: set[int] = set()
_ready_lock = threading.Lock()


class PrivacyLedger:
    """Check-and-spend of (epsilon, delta) per session and participant, atomic on SQLite and PostgreSQL."""

    def __init__(self, db: Database):
        self.db = db
        _ensure_tables(db)

    def open(self, session_id: str, participant_id: str, epsilon_units: int, delta_units: int) -> None:
        """Create the budget if it does not exist yet (a second open leaves the first's totals and spends)."""
        try:
            with self.db.session() as s, s.begin():
                s.add(
                    PrivacyBudgetRow(
                        session_id=session_id,
                        participant_id=participant_id,
                        epsilon_total=epsilon_units,
                        delta_total=delta_units,
                        epsilon_spent=0,
                        delta_spent=0,
                    )
                )
        except IntegrityError:
            pass

    def spend_in(self, s, session_id: str, participant_id: str, epsilon_units: int, delta_units: int) -> None:
        """Spend inside the caller's transaction (its first statement); raises, spending nothing, past the total."""
        row = PrivacyBudgetRow
        result = s.execute(
            update(row)
            .where(
                row.session_id == session_id,
                row.participant_id == participant_id,
                row.epsilon_spent + epsilon_units <= row.epsilon_total,
                row.delta_spent + delta_units <= row.delta_total,
            )
            .values(
                epsilon_spent=row.epsilon_spent + epsilon_units,
                delta_spent=row.delta_spent + delta_units,
                updated_at=utcnow(),
            )
        )
        if rows_changed(result) != 1:
            if s.get(PrivacyBudgetRow, (session_id, participant_id)) is None:
                raise ValidationError(
                    f"No privacy budget is open for {participant_id} in session {session_id}",
                    {"session_id": session_id, "participant_id": participant_id},
                )
            raise PrivacyBudgetExceededError(
                Message(
                    "Releasing this would exceed {participant_id}'s privacy budget in session {session_id}",
                    participant_id=participant_id,
                    session_id=session_id,
                ),
                {
                    "session_id": session_id,
                    "participant_id": participant_id,
                    "requested": {"epsilon_units": epsilon_units, "delta_units": delta_units},
                },
            )

    def spend(self, session_id: str, participant_id: str, epsilon_units: int, delta_units: int) -> None:
        with self.db.session() as s, s.begin():
            self.spend_in(s, session_id, participant_id, epsilon_units, delta_units)

    def get(self, session_id: str, participant_id: str) -> PrivacyBudgetRow | None:
        with self.db.session() as s:
            return s.get(PrivacyBudgetRow, (session_id, participant_id))

    def of_session(self, session_id: str) -> list[PrivacyBudgetRow]:
        with self.db.session() as s:
            return list(s.scalars(select(PrivacyBudgetRow).where(PrivacyBudgetRow.session_id == session_id)))


def _ensure_tables(db: Database) -> None:
    with _ready_lock:
        if id(db) not in _ready:
            Base.metadata.create_all(db.engine, tables=TABLES)
            _ready.add(id(db))


class FederatedRepository:
    """The coordinator's reads and writes of sessions."""

    def __init__(self, db: Database):
        self.db = db
        self.ledger = PrivacyLedger(db)

    def create_session(self, row: FederatedSessionRow, participants: list[str], budget: tuple[int, int] | None) -> None:
        """The session, its participants and (with a budget) each participant's ledger, in one transaction."""
        try:
            with self.db.session() as s, s.begin():
                s.add(row)
                s.flush()
                for participant_id in participants:
                    s.add(FederatedParticipantRow(session_id=row.id, participant_id=participant_id))
                    if budget is not None:
                        s.add(
                            PrivacyBudgetRow(
                                session_id=row.id,
                                participant_id=participant_id,
                                epsilon_total=budget[0],
                                delta_total=budget[1],
                                epsilon_spent=0,
                                delta_spent=0,
                            )
                        )
        except IntegrityError:
            raise FederatedSessionExistsError(
                Message("Federated session '{session_id}' already exists", session_id=row.id), {"session_id": row.id}
            ) from None

    def get(self, session_id: str) -> FederatedSessionRow:
        with self.db.session() as s:
            row = s.get(FederatedSessionRow, session_id)
        if row is None:
            raise FederatedSessionNotFoundError(session_id)
        return row

    def participants(self, session_id: str) -> list[FederatedParticipantRow]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(FederatedParticipantRow)
                    .where(FederatedParticipantRow.session_id == session_id)
                    .order_by(FederatedParticipantRow.id)
                )
            )

    def participant(self, session_id: str, participant_id: str) -> FederatedParticipantRow | None:
        with self.db.session() as s:
            return s.scalar(
                select(FederatedParticipantRow).where(
                    FederatedParticipantRow.session_id == session_id,
                    FederatedParticipantRow.participant_id == participant_id,
                )
            )

    def bind_key(self, session_id: str, participant_id: str, **fields: Any) -> bool:
        """Record the join unless the participant already has a key (compare-and-set); True when this call won."""
        row = FederatedParticipantRow
        with self.db.session() as s, s.begin():
            result = s.execute(
                update(row)
                .where(row.session_id == session_id, row.participant_id == participant_id, row.public_key.is_(None))
                .values(**json_safe(fields))
            )
        return rows_changed(result) == 1

    def move(self, session_id: str, from_phases: set[str], **fields: Any) -> bool:
        """Change the session's phase (and other fields) only if it is in one of ``from_phases``."""
        row = FederatedSessionRow
        with self.db.session() as s, s.begin():
            result = s.execute(
                update(row).where(row.id == session_id, row.phase.in_(from_phases)).values(**json_safe(fields))
            )
        return rows_changed(result) == 1

    def nonce_seen(self, session_id: str, participant_id: str, nonce: str) -> bool:
        with self.db.session() as s:
            return (
                s.execute(
                    select(func.count())
                    .select_from(FederatedReportRow)
                    .where(
                        FederatedReportRow.session_id == session_id,
                        FederatedReportRow.participant_id == participant_id,
                        FederatedReportRow.nonce == nonce,
                    )
                ).scalar_one()
                > 0
            )

    @overload
    def reported_tasks(self, session_id: str, participant_id: None = None) -> dict[str, set[str]]: ...

    @overload
    def reported_tasks(self, session_id: str, participant_id: str) -> set[str]: ...

    def reported_tasks(self, session_id: str, participant_id: str | None = None) -> set[str] | dict[str, set[str]]:
        """Per participant, the tasks it reported; with ``participant_id``, only that participant's."""
        query = select(FederatedReleaseRow.participant_id, FederatedReleaseRow.task_id).where(
            FederatedReleaseRow.session_id == session_id
        )
        with self.db.session() as s:
            rows = s.execute(query).all()
        by_participant: dict[str, set[str]] = {}
        for participant, task in rows:
            by_participant.setdefault(participant, set()).add(task)
        return by_participant.get(participant_id, set()) if participant_id is not None else by_participant

    def store_report(
        self,
        session_id: str,
        participant_id: str,
        nonce: str,
        digest: str,
        envelope: dict[str, str],
        releases: dict[str, tuple[int, dict[str, Any]]],
        spend: tuple[int, int] | None,
    ) -> int:
        """Spend, then store the report and its releases: all of it or nothing. Returns the report's id."""
        try:
            with self.db.session() as s, s.begin():
                if spend is not None and (spend[0] or spend[1]):
                    self.ledger.spend_in(s, session_id, participant_id, *spend)
                report = FederatedReportRow(
                    session_id=session_id, participant_id=participant_id, nonce=nonce, digest=digest, envelope=envelope
                )
                s.add(report)
                s.flush()
                for task_id, (n_videos, release) in releases.items():
                    s.add(
                        FederatedReleaseRow(
                            session_id=session_id,
                            participant_id=participant_id,
                            task_id=task_id,
                            report_id=report.id,
                            n_videos=n_videos,
                            release=json_safe(release),
                        )
                    )
                s.flush()
                return report.id
        except IntegrityError:
            raise TaskAlreadyReportedError(
                Message("A report with this nonce or for one of these tasks was stored meanwhile"),
                {"session_id": session_id, "participant_id": participant_id},
            ) from None

    def releases(self, session_id: str) -> list[FederatedReleaseRow]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(FederatedReleaseRow)
                    .where(FederatedReleaseRow.session_id == session_id)
                    .order_by(FederatedReleaseRow.id)
                )
            )

    def reports(self, session_id: str) -> list[FederatedReportRow]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(FederatedReportRow)
                    .where(FederatedReportRow.session_id == session_id)
                    .order_by(FederatedReportRow.id)
                )
            )


class _AlreadyKept(Exception):
    pass


class ParticipantStore:
    """A participant's own records, in its own database: tasks, their local benchmarks, releases, its ledger."""

    def __init__(self, db: Database):
        self.db = db
        self.ledger = PrivacyLedger(db)

    def task(self, session_id: str, participant_id: str, task_id: str) -> FederatedLocalTaskRow:
        with self.db.session() as s, s.begin():
            row = s.get(FederatedLocalTaskRow, (session_id, participant_id, task_id))
            if row is None:
                row = FederatedLocalTaskRow(session_id=session_id, participant_id=participant_id, task_id=task_id)
                s.add(row)
        return row

    def set_benchmark(self, session_id: str, participant_id: str, task_id: str, benchmark_id: str) -> None:
        with self.db.session() as s, s.begin():
            row = s.get(FederatedLocalTaskRow, (session_id, participant_id, task_id))
            if row is None:
                raise ValidationError(
                    f"No local task {task_id} of {participant_id} in session {session_id}",
                    {"session_id": session_id, "participant_id": participant_id, "task_id": task_id},
                )
            row.benchmark_id = benchmark_id

    def store_release(
        self, session_id: str, participant_id: str, task_id: str, release: dict[str, Any], spend: tuple[int, int] | None
    ) -> bool:
        """Spend and keep the release in one transaction, once per task: False (nothing spent) when one is kept."""
        try:
            with self.db.session() as s, s.begin():
                if spend is not None and (spend[0] or spend[1]):
                    self.ledger.spend_in(s, session_id, participant_id, *spend)
                result = s.execute(
                    update(FederatedLocalTaskRow)
                    .where(
                        FederatedLocalTaskRow.session_id == session_id,
                        FederatedLocalTaskRow.participant_id == participant_id,
                        FederatedLocalTaskRow.task_id == task_id,
                        FederatedLocalTaskRow.released_at.is_(None),
                    )
                    .values(release=json_safe(release), released_at=utcnow())
                )
                if rows_changed(result) != 1:
                    raise _AlreadyKept
        except _AlreadyKept:  # the transaction rolled back: the spend with it
            return False
        return True

    def mark_accepted(self, session_id: str, participant_id: str, task_ids: list[str]) -> None:
        with self.db.session() as s, s.begin():
            s.execute(
                update(FederatedLocalTaskRow)
                .where(
                    FederatedLocalTaskRow.session_id == session_id,
                    FederatedLocalTaskRow.participant_id == participant_id,
                    FederatedLocalTaskRow.task_id.in_(task_ids),
                    FederatedLocalTaskRow.accepted_at.is_(None),
                )
                .values(accepted_at=utcnow())
            )
