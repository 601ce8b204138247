"""The privacy budget ledger on SQLite and PostgreSQL: 20 concurrent release attempts never exceed the budget,
a refused spend changes nothing, and what was spent is the same after a restart (a new engine, or a new
process)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from app.errors import PrivacyBudgetExceededError
from app.storage.database import Database
from app.storage.federated import FederatedReleaseRow, FederatedRepository, FederatedSessionRow, PrivacyLedger
from app.storage.tables import utcnow

ATTEMPTS = 20
TOTAL = 1_000_000  # units
SHARE = 150_000  # 6 of these fit: 900 000; the 7th would pass the total


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite3'}"
        return
    yield request.getfixturevalue("postgres_schema_url")  # skips when PostgreSQL is not running


def attempt_all(ledger: PrivacyLedger, session: str, participant: str) -> list[bool]:
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[bool] = []
    lock = threading.Lock()

    def spend():
        barrier.wait()
        try:
            ledger.spend(session, participant, SHARE, 10)
            ok = True
        except PrivacyBudgetExceededError:
            ok = False
        with lock:
            outcomes.append(ok)

    threads = [threading.Thread(target=spend) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_spends_never_exceed_the_budget(url):
    db = Database(url)
    ledger = PrivacyLedger(db)
    ledger.open("s1", "lab_b", TOTAL, 100)
    outcomes = attempt_all(ledger, "s1", "lab_b")
    assert len(outcomes) == ATTEMPTS and outcomes.count(True) == TOTAL // SHARE
    row = ledger.get("s1", "lab_b")
    assert row.epsilon_spent == (TOTAL // SHARE) * SHARE <= row.epsilon_total
    assert row.delta_spent == (TOTAL // SHARE) * 10 <= row.delta_total
    db.dispose()

    restarted = PrivacyLedger(Database(url))  # a coordinator restart: a new engine on the same database
    again = restarted.get("s1", "lab_b")
    assert (again.epsilon_spent, again.delta_spent) == (row.epsilon_spent, row.delta_spent)
    with pytest.raises(PrivacyBudgetExceededError):
        restarted.spend("s1", "lab_b", SHARE, 0)
    restarted.spend("s1", "lab_b", TOTAL - again.epsilon_spent, 0)  # exactly what is left still fits
    assert restarted.get("s1", "lab_b").epsilon_spent == TOTAL
    restarted.db.dispose()


def test_delta_is_a_budget_too(url):
    ledger = PrivacyLedger(Database(url))
    ledger.open("s1", "lab_b", TOTAL, 25)
    outcomes = attempt_all(ledger, "s1", "lab_b")  # each attempt asks 10 delta units: 2 fit
    assert outcomes.count(True) == 2 and ledger.get("s1", "lab_b").delta_spent == 20
    ledger.db.dispose()


def test_a_refused_report_stores_nothing_and_spends_nothing(url):
    db = Database(url)
    repo = FederatedRepository(db)
    now = utcnow()
    repo.create_session(
        FederatedSessionRow(
            id="s2",
            spec={},
            tasks=[],
            privacy={},
            phase="execution",
            consensus_threshold=1.0,
            quorum=1,
            timeout_minutes=1,
            created_at=now,
            deadline_at=now,
        ),
        ["lab_b"],
        (TOTAL, 0),
    )
    repo.store_report(
        "s2", "lab_b", "a" * 32, "d" * 64, {"payload": "x", "signature": "y"}, {"t1": (2, {})}, (SHARE * 6, 0)
    )
    with pytest.raises(PrivacyBudgetExceededError):
        repo.store_report(
            "s2", "lab_b", "b" * 32, "d" * 64, {"payload": "x", "signature": "y"}, {"t2": (2, {})}, (SHARE, 0)
        )
    assert [r.task_id for r in repo.releases("s2")] == ["t1"] and len(repo.reports("s2")) == 1
    assert repo.ledger.get("s2", "lab_b").epsilon_spent == SHARE * 6
    with db.session() as s:
        assert s.query(FederatedReleaseRow).count() == 1
    db.dispose()


@pytest.mark.slow  # starts Python processes
def test_concurrent_processes_and_a_restart_keep_the_budget(url):
    """20 attempts from 4 separate processes (5 threads each), then a fresh process reads the same spend."""
    ledger = PrivacyLedger(Database(url))
    ledger.open("s3", "lab_b", TOTAL, 0)
    ledger.db.dispose()
    script = (
        "import sys, threading\n"
        "from app.errors import PrivacyBudgetExceededError\n"
        "from app.storage.database import Database\n"
        "from app.storage.federated import PrivacyLedger\n"
        "ledger = PrivacyLedger(Database(sys.argv[1]))\n"
        "won = []\n"
        "def spend():\n"
        "    try:\n"
        f"        ledger.spend('s3', 'lab_b', {SHARE}, 0); won.append(1)\n"
        "    except PrivacyBudgetExceededError:\n"
        "        pass\n"
        "threads = [threading.Thread(target=spend) for _ in range(5)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(len(won))\n"
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script, url], stdout=subprocess.PIPE, text=True) for _ in range(4)
    ]
    won = sum(int(p.communicate(timeout=120)[0].strip()) for p in processes)
    assert won == TOTAL // SHARE
    read = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\nfrom app.storage.database import Database\n"
            "from app.storage.federated import PrivacyLedger\n"
            "print(PrivacyLedger(Database(sys.argv[1])).get('s3', 'lab_b').epsilon_spent)",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(read.stdout.strip()) == (TOTAL // SHARE) * SHARE
