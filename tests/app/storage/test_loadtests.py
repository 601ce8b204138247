"""LoadTestRepository on SQLite and PostgreSQL: a finished run is stored with its levels (counts, percentiles,
CIs, 429/503) and provenance in one transaction, read back in order, listed newest first; never the API key."""

import pytest
from sqlalchemy.exc import IntegrityError

from app.bench.loadtest import LoadTestSpec, RequestRecord, summarize
from app.errors import LoadTestNotFoundError, ValidationError
from app.storage.loadtests import LoadTestRepository, full
from tests.app.storage.test_repository import db  # noqa: F401 - the two-backend fixture


def a_result(run_id: str, model: str = "tiny-text", created_at: float = 1_700_000_000.0) -> dict:
    """What run_load_test returns, built from the real summarize() over recorded requests."""
    spec = LoadTestSpec(
        url="http://127.0.0.1:18850", model=model, modality="text", concurrency=[1, 4], requests=3, api_key="secret-key"
    )
    ok = [
        RequestRecord(
            started=0.0, latency_s=0.5 + i / 10, status=200, ttft_s=0.1, token_times=[0.1, 0.2, 0.35], output_tokens=3
        )
        for i in range(3)
    ]
    refused = [
        RequestRecord(started=0.0, latency_s=0.01, status=429, error="HTTP 429"),
        RequestRecord(started=0.0, latency_s=0.01, status=503, error="HTTP 503"),
    ]
    levels = [summarize(ok, 1.5, 1, "text"), summarize(ok[:1] + refused, 0.6, 4, "text")]
    return {
        "id": run_id,
        "kind": "loadtest",
        "spec": spec.public(),
        "levels": levels,
        "requests": {},
        "created_at": created_at,
        "provenance": {"packages": {"httpx": "0.28"}, "client": "httpx"},
    }


def test_a_load_test_is_stored_with_its_levels_and_read_back(db):  # noqa: F811
    repo = LoadTestRepository(db)
    result = a_result("load_aaaa0001")
    repo.save(result, owner="me", json_path="/r/load_aaaa0001.json", plot_path="/r/load_aaaa0001.png")
    row = repo.get("load_aaaa0001")
    assert (row.model_name, row.modality, row.owner, row.url) == ("tiny-text", "text", "me", "http://127.0.0.1:18850")
    assert "api_key" not in row.spec and "secret-key" not in str(row.spec)
    assert row.provenance["client"] == "httpx" and len(row.spec_hash) == 64
    assert row.started_at.timestamp() == 1_700_000_000.0
    levels = repo.levels(row.id)
    assert [lv.concurrency for lv in levels] == [1, 4]
    second = levels[1]
    assert (second.requests, second.completed, second.errors, second.status_429, second.status_503) == (3, 1, 2, 1, 1)
    assert second.error_examples == ["HTTP 429", "HTTP 503"]
    first = levels[0]
    assert first.request_throughput == pytest.approx(2.0) and first.output_tokens == 9
    assert first.latency_s == result["levels"][0]["latency_s"]  # percentiles and CI exactly as computed
    assert first.latency_s["ci_low"] <= first.latency_s["mean"] <= first.latency_s["ci_high"]
    assert first.ttft_s["p50"] == pytest.approx(0.1) and first.itl_s["n"] == 6
    shown = full(row, levels)
    assert shown["levels"][1]["status_429"] == 1 and shown["json_path"] == "/r/load_aaaa0001.json"


def test_listing_is_newest_first_filtered_and_paged_and_unknown_ids_are_typed_errors(db):  # noqa: F811
    repo = LoadTestRepository(db)
    for i, model in enumerate(["tiny-text", "tiny-t2i", "tiny-text"]):
        repo.save(a_result(f"load_bbbb000{i}", model=model))
    rows, total = repo.list()
    assert total == 3 and [r.id for r in rows] == ["load_bbbb0002", "load_bbbb0001", "load_bbbb0000"]
    rows, total = repo.list(model_name="tiny-text", page=2, limit=1)
    assert total == 2 and [r.id for r in rows] == ["load_bbbb0000"]
    with pytest.raises(ValidationError):
        repo.list(limit=0)
    with pytest.raises(LoadTestNotFoundError) as raised:
        repo.get("load_missing")
    assert raised.value.code == "LOADTEST_NOT_FOUND" and raised.value.http_status == 404
    repo.delete("load_bbbb0001")
    assert repo.list()[1] == 2 and repo.levels("load_bbbb0001") == []


def test_a_failed_save_leaves_nothing_half_written(db):  # noqa: F811
    repo = LoadTestRepository(db)
    repo.save(a_result("load_cccc0001"))
    broken = a_result("load_cccc0002")
    broken["levels"][1]["concurrency"] = None  # a level the table refuses: the whole run is rolled back
    with pytest.raises(IntegrityError):
        repo.save(broken)
    with pytest.raises(LoadTestNotFoundError):
        repo.get("load_cccc0002")
    assert repo.levels("load_cccc0002") == [] and repo.list()[1] == 1
