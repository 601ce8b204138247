"""The Federated API in-process: reference bodies, refusals before anything is stored, signed reports (forged,
replayed, non-member, unassigned: refused and stored nowhere), phases, consensus, timeout and the published
aggregate with its provenance. Releases are drawn with the participant's own code from given values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from app.federated.signing import generate_key, public_pem, sign_report
from app.storage.federated import FederatedReleaseRow, FederatedReportRow, FederatedSessionRow, PrivacyBudgetRow
from tests.app.api.support import expect_error
from tests.app.federated.support import draw, session_body

BASE = "/api/v1/federated/sessions"
CAPABILITIES = {"gpu_memory": "0GB", "compute_capability": None, "models_supported": ["tiny-t2v", "tiny-i2v"]}
PARTICIPANTS = ["university_a", "lab_b", "company_c"]


def counts(gw) -> dict[str, int]:
    from sqlalchemy import func, select

    with gw.state.repo.db.session() as s:
        return {
            table.__tablename__: s.scalar(select(func.count()).select_from(table))
            for table in (FederatedSessionRow, FederatedReportRow, FederatedReleaseRow)
        }


def budgets(gw) -> dict[str, int]:
    with gw.state.repo.db.session() as s:
        return {row.participant_id: row.epsilon_spent for row in s.query(PrivacyBudgetRow)}


def create(gw, **overrides) -> dict:
    response = gw.http.post(BASE, json=session_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


def join(gw, participant: str, key=None, session: str = "fed_session_001", capabilities=CAPABILITIES):
    key = key or generate_key()
    response = gw.http.post(
        f"{BASE}/{session}/join",
        json={"participant_id": participant, "public_key": public_pem(key), "capabilities": capabilities},
    )
    return key, response


def report(
    gw, key, participant: str, task_ids: list[str], privacy: dict, session: str = "fed_session_001", values=(0.2, 0.4)
):
    releases = [draw(task_id, list(values), privacy) for task_id in task_ids]
    envelope = sign_report(key, session, participant, releases)
    return envelope, gw.http.post(f"{BASE}/{session}/reports", json={"participant_id": participant, **envelope})


def test_create_answers_the_reference_fields_and_expands_the_grid(gw):
    body = create(gw)
    assert {
        "session_id",
        "status",
        "coordinator_endpoint",
        "participant_count",
        "estimated_duration",
        "created_at",
    } <= set(body)
    assert body["status"] == "created" and body["participant_count"] == 3 and body["estimated_duration"] == 120
    assert body["tasks_total"] == 4  # tiny-t2v x num_frames [4, 8] x guidance_scale [5.0, 7.5]
    assert body["privacy"]["mechanism"] == "gaussian"  # (epsilon, delta) given
    share = body["privacy"]["share"]
    assert share["epsilon_units"] * body["privacy"]["releases_per_participant"] <= body["privacy"]["epsilon_units"]
    status = gw.http.get(f"{BASE}/fed_session_001").json()
    assert status["phase"] == "created" and status["participants"]["total"] == 3
    assert status["privacy_budget"]["epsilon_total"] == 1.0 and status["privacy_budget"]["epsilon_spent"] == 0
    assert status["progress"] == {"tasks_completed": 0, "tasks_total": 12, "percentage": 0.0}
    expect_error(gw.http.post(BASE, json=session_body()), 409, "FEDERATED_SESSION_EXISTS")


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"privacy_config": {"privacy_level": "differential", "epsilon": 0}}, 422),
        ({"privacy_config": {"privacy_level": "differential", "epsilon": -1.0}}, 422),
        ({"privacy_config": {"privacy_level": "differential", "epsilon": 1.0, "delta": 1.0}}, 422),
        ({"privacy_config": {"privacy_level": "differential", "epsilon": 1.0, "delta": 0.0}}, 422),
        ({"privacy_config": {"privacy_level": "differential", "epsilon": 1.0, "mechanism": "gaussian"}}, 400),
        (
            {
                "privacy_config": {
                    "privacy_level": "differential",
                    "epsilon": 1.0,
                    "delta": 1e-5,
                    "mechanism": "laplace",
                }
            },
            400,
        ),
        ({"consensus_threshold": 0}, 422),
        ({"consensus_threshold": 1.5}, 422),
        ({"participants": []}, 422),
        ({"participants": ["a", "b", "a"]}, 400),
        (
            {
                "benchmark_spec": {
                    "models": ["tiny-t2v"],
                    "prompts": ["p"],
                    "parameters": {"num_frames": list(range(2, 17)), "guidance_scale": [1.0 + i for i in range(19)]},
                }
            },
            400,
        ),
        ({"benchmark_spec": {"models": ["no-such-model"], "prompts": ["p"]}}, 404),
        ({"benchmark_spec": {"models": ["tiny-t2v"], "prompts": ["p"], "parameters": {"num_frames": [16, 24]}}}, 400),
        ({"benchmark_spec": {"models": ["tiny-t2v"], "prompts": ["p"], "parameters": {"no_such": [1]}}}, 400),
        ({"benchmark_spec": {"models": ["tiny-t2i"], "prompts": ["p"]}}, 400),
        ({"benchmark_spec": {"models": ["tiny-t2v"], "prompts": ["p"], "metrics": ["fvd"]}}, 422),  # outside the enum
    ],
)
def test_bad_input_is_refused_before_anything_is_stored(gw, change, status):
    before = counts(gw)
    error = expect_error(gw.http.post(BASE, json=session_body(**change)), status)
    assert error["message"]
    assert counts(gw) == before


def test_task_limit_comes_from_the_settings(start_gateway):
    gw = start_gateway(federated_max_tasks=3)
    error = expect_error(gw.http.post(BASE, json=session_body()), 400, "INVALID_PARAMETERS")
    assert error["details"] == {"tasks": 4, "max_tasks": 3}
    assert counts(gw)["federated_sessions"] == 0


def test_join_refusals(gw):
    create(gw)
    _, response = join(gw, "intruder")
    expect_error(response, 403, "NOT_A_PARTICIPANT")
    _, response = join(gw, "lab_b", capabilities={**CAPABILITIES, "models_supported": ["tiny-i2v"]})
    assert "tiny-t2v" in expect_error(response, 409, "JOIN_REFUSED")["message"]
    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    response = gw.http.post(
        f"{BASE}/fed_session_001/join",
        json={"participant_id": "lab_b", "public_key": rsa_pem, "capabilities": CAPABILITIES},
    )
    expect_error(response, 400, "INVALID_PARAMETERS")
    key, response = join(gw, "lab_b")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "joined" and body["secure_channel_established"] is True
    assert body["benchmark_spec_received"] is True and body["next_action"] == "wait_for_start_signal"
    _, response = join(gw, "lab_b", key=key)  # the same key again: still joined
    assert response.status_code == 200
    _, response = join(gw, "lab_b", key=ed25519.Ed25519PrivateKey.generate())
    expect_error(response, 409, "JOIN_REFUSED")
    assert gw.http.get(f"{BASE}/fed_session_001").json()["phase"] == "joining"


@pytest.mark.slow  # OpenDP calibrates each Gaussian scale in about half a second
def test_a_whole_session_in_process_with_refusals_stored_nowhere(gw):
    created = create(gw, consensus_threshold=0.6)  # quorum: 2 of 3
    privacy = created["privacy"]
    keys = {}
    for participant in PARTICIPANTS[:2]:
        keys[participant], response = join(
            gw, participant, key=generate_key("ecdsa-p256" if participant == "lab_b" else "ed25519")
        )
        assert response.status_code == 200
    assert response.json()["next_action"] == "start_execution"
    tasks = [
        t["task_id"]
        for t in gw.http.get(f"{BASE}/fed_session_001/tasks", params={"participant_id": "university_a"}).json()["tasks"]
    ]
    assert len(tasks) == 4

    # a forged signature: signed with a key that is not university_a's
    before, spent = counts(gw), budgets(gw)
    envelope, _ = report(gw, generate_key(), "university_a", tasks, privacy)  # posted once, refused
    expect_error(
        gw.http.post(f"{BASE}/fed_session_001/reports", json={"participant_id": "university_a", **envelope}),
        401,
        "INVALID_SIGNATURE",
    )
    # a report for a task not in the session
    _, response = report(gw, keys["university_a"], "university_a", ["t999-deadbeef"], privacy)
    expect_error(response, 403, "TASK_NOT_ASSIGNED")
    # a non-member, and a member that never joined
    _, response = report(gw, generate_key(), "intruder", tasks, privacy)
    expect_error(response, 403, "NOT_A_PARTICIPANT")
    _, response = report(gw, generate_key(), "company_c", tasks, privacy)
    expect_error(response, 403, "NOT_A_PARTICIPANT")
    assert counts(gw) == before and budgets(gw) == spent

    envelope, response = report(gw, keys["university_a"], "university_a", tasks[:2], privacy)
    assert response.status_code == 201, response.text
    assert response.json()["accepted"] is True
    stored = counts(gw)
    spent = budgets(gw)
    assert spent["university_a"] == 2 * 2 * 2 * privacy["share"]["epsilon_units"]  # 2 tasks x 2 metrics x 2 stats
    # the same signed report again: a replay
    replay = gw.http.post(f"{BASE}/fed_session_001/reports", json={"participant_id": "university_a", **envelope})
    expect_error(replay, 409, "REPORT_REPLAYED")
    # a fresh report for a task already reported
    _, response = report(gw, keys["university_a"], "university_a", tasks[:1], privacy)
    expect_error(response, 409, "TASK_ALREADY_REPORTED")
    # a release that claims the share with less noise than it needs
    cheap = draw(tasks[2], [0.2, 0.4], privacy)
    cheap["metrics"]["temporal_consistency"]["mean"]["scale"] /= 10
    envelope = sign_report(keys["university_a"], "fed_session_001", "university_a", [cheap])
    expect_error(
        gw.http.post(f"{BASE}/fed_session_001/reports", json={"participant_id": "university_a", **envelope}),
        400,
        "INVALID_PARAMETERS",
    )
    assert counts(gw) == stored and budgets(gw) == spent

    status = gw.http.get(f"{BASE}/fed_session_001").json()
    assert status["phase"] == "execution" and status["progress"]["tasks_completed"] == 2
    assert status["privacy_budget"]["epsilon_spent"] == pytest.approx(0.5)
    expect_error(gw.http.get(f"{BASE}/fed_session_001/results"), 409, "RESULTS_NOT_READY")

    _, response = report(gw, keys["university_a"], "university_a", tasks[2:], privacy, values=(0.3, 0.5))
    assert response.status_code == 201
    _, response = report(gw, keys["lab_b"], "lab_b", tasks, privacy, values=(0.6, 0.8, 0.7))
    assert response.status_code == 201 and response.json()["phase"] == "completed"  # 2 of 3: consensus

    results = gw.http.get(f"{BASE}/fed_session_001/results").json()
    assert results["participant_count"] == 2 and results["participants_total"] == 3
    assert results["trigger"] == "consensus" and results["privacy"]["mechanism"] == "gaussian"
    first = results["tasks"][0]["metrics"]["temporal_consistency"]
    assert first["videos"] == 5 and first["participants"] == 2
    assert first["ci95"][0] < first["value"] < first["ci95"][1]
    assert set(first["noise_scale"]) == {"university_a", "lab_b"} and first["noise_sd"] > 0
    provenance = results["provenance"]
    assert {r["participant_id"] for r in provenance["reports"]} == {"university_a", "lab_b"}
    assert all(len(r["key_fingerprint"]) == 64 and len(r["payload_sha256"]) == 64 for r in provenance["reports"])
    # the late participant is refused: the aggregate is published
    key, response = join(gw, "company_c")
    expect_error(response, 409, "FEDERATED_WRONG_PHASE")
    final = gw.http.get(f"{BASE}/fed_session_001").json()
    assert final["status"] == "completed" and final["privacy_budget"]["epsilon_remaining"] >= 0


def test_forged_replayed_and_non_member_reports_are_refused_and_stored_nowhere(gw):
    one_task = {"models": ["tiny-t2v"], "prompts": ["A cat playing piano"], "parameters": {"num_frames": 4}}
    created = create(
        gw,
        benchmark_spec=one_task,
        consensus_threshold=1.0,
        privacy_config={"privacy_level": "differential", "epsilon": 1.0},
    )
    privacy, keys = created["privacy"], {p: join(gw, p)[0] for p in PARTICIPANTS}
    (task,) = [t["task_id"] for t in created_tasks(gw)]
    before, spent = counts(gw), budgets(gw)
    _, forged = report(gw, generate_key(), "lab_b", [task], privacy)
    expect_error(forged, 401, "INVALID_SIGNATURE")
    _, outsider = report(gw, generate_key(), "intruder", [task], privacy)
    expect_error(outsider, 403, "NOT_A_PARTICIPANT")
    _, unassigned = report(gw, keys["lab_b"], "lab_b", ["t002-00000000"], privacy)
    expect_error(unassigned, 403, "TASK_NOT_ASSIGNED")
    assert counts(gw) == before and budgets(gw) == spent
    envelope, accepted = report(gw, keys["lab_b"], "lab_b", [task], privacy)
    assert accepted.status_code == 201
    stored, spent = counts(gw), budgets(gw)
    replay = gw.http.post(f"{BASE}/fed_session_001/reports", json={"participant_id": "lab_b", **envelope})
    expect_error(replay, 409, "REPORT_REPLAYED")
    assert counts(gw) == stored and budgets(gw) == spent


def test_the_deadline_publishes_what_was_reported_or_times_out(gw):
    created = create(gw, consensus_threshold=1.0, privacy_config={"privacy_level": "differential", "epsilon": 2.0})
    assert created["privacy"]["mechanism"] == "laplace"
    keys = {p: join(gw, p)[0] for p in PARTICIPANTS}
    tasks = [t["task_id"] for t in created_tasks(gw)]
    _, response = report(gw, keys["lab_b"], "lab_b", tasks, created["privacy"])
    assert response.status_code == 201 and response.json()["phase"] == "execution"  # 1 of 3: no consensus
    past = FederatedSessionRow.deadline_at
    with gw.state.repo.db.session() as s, s.begin():
        row = s.get(FederatedSessionRow, "fed_session_001")
        row.deadline_at = row.created_at - timedelta(seconds=1)
    assert past is not None
    results = gw.http.get(f"{BASE}/fed_session_001/results").json()
    assert results["trigger"] == "timeout" and results["participant_count"] == 1

    create(gw, session_id="nobody_reports")
    with gw.state.repo.db.session() as s, s.begin():
        row = s.get(FederatedSessionRow, "nobody_reports")
        row.deadline_at = row.created_at - timedelta(seconds=1)
    assert gw.http.get(f"{BASE}/nobody_reports").json()["phase"] == "timed_out"
    expect_error(gw.http.get(f"{BASE}/nobody_reports/results"), 409, "RESULTS_NOT_READY")


def created_tasks(gw) -> list[dict]:
    return gw.http.get(f"{BASE}/fed_session_001/tasks", params={"participant_id": "lab_b"}).json()["tasks"]


def test_scopes_and_the_federated_rate_limit_group(gw):
    reader = gw.new_key(["federated.read"])["key"]
    response = gw.http.post(BASE, json=session_body(), headers={"X-API-Key": reader})
    expect_error(response, 403, "PERMISSION_DENIED")
    expect_error(gw.http.get(f"{BASE}/nope", headers={"X-API-Key": reader}), 404, "FEDERATED_SESSION_NOT_FOUND")
    creator = gw.new_key(["federated.create"])["key"]
    assert gw.http.post(BASE, json=session_body(), headers={"X-API-Key": creator}).status_code == 201
    response = gw.http.get(f"{BASE}/fed_session_001", headers={"X-API-Key": creator})
    expect_error(response, 403, "PERMISSION_DENIED")


def test_reference_group_limits_apply(start_gateway):
    from app.config import DEFAULT_GROUPS

    gw = start_gateway(rate_limit_groups=dict(DEFAULT_GROUPS))
    answers = [gw.http.get(f"{BASE}/nope").status_code for _ in range(DEFAULT_GROUPS["federated"].burst + 1)]
    assert answers[:-1] == [404] * DEFAULT_GROUPS["federated"].burst
    expect_error(gw.http.get(f"{BASE}/nope"), 429, "RATE_LIMIT_EXCEEDED")
