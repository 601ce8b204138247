"""The serving load test: its arithmetic, its refusals, and a run against the tiny text model on the gateway."""

from datetime import UTC
from itertools import pairwise

import pytest
from sqlalchemy import select

from app.bench.loadtest import LoadTestSpec, RequestRecord, plot, run_load_test, summarize
from app.errors import ValidationError


def test_summary_counts_statuses_and_derives_ttft_itl_and_tokens_per_second():
    records = [
        RequestRecord(started=0.0, latency_s=1.0, status=200, ttft_s=0.2, token_times=[0.2, 0.5, 0.9], output_tokens=3),
        RequestRecord(started=0.0, latency_s=2.0, status=200, ttft_s=0.4, token_times=[0.4, 0.6], output_tokens=2),
        RequestRecord(started=0.0, latency_s=0.01, status=429, error="HTTP 429"),
        RequestRecord(started=0.0, latency_s=0.01, status=503, error="HTTP 503"),
        RequestRecord(started=0.0, latency_s=5.0, error="ReadTimeout: timed out"),
    ]
    s = summarize(records, wall_s=2.5, concurrency=2, modality="text")
    assert (s["requests"], s["completed"], s["errors"], s["status_429"], s["status_503"]) == (5, 2, 3, 1, 1)
    assert s["request_throughput"] == pytest.approx(2 / 2.5) and s["output_tokens_per_s"] == pytest.approx(5 / 2.5)
    assert s["ttft_s"]["p50"] == pytest.approx(0.3) and s["ttft_s"]["n"] == 2
    assert s["itl_s"]["n"] == 3 and s["itl_s"]["mean"] == pytest.approx((0.3 + 0.4 + 0.2) / 3)
    assert s["latency_s"]["ci_low"] <= s["latency_s"]["mean"] <= s["latency_s"]["ci_high"]
    empty = summarize([records[2]], wall_s=1.0, concurrency=1, modality="image")
    assert empty["latency_s"]["n"] == 0 and "no completed request" in empty["latency_s"]["reason"]


@pytest.mark.parametrize(
    "change",
    [
        {"modality": "music"},
        {"url": "ftp://host"},
        {"concurrency": [0]},
        {"concurrency": []},
        {"requests": 0},
        {"max_seconds": 0},
    ],
)
def test_bad_load_tests_are_refused_before_any_request(change):
    with pytest.raises(ValidationError):
        run_load_test(LoadTestSpec(**{"url": "http://127.0.0.1:9", "model": "m", **change}))


def test_load_test_of_the_tiny_text_model_agrees_with_the_servers_own_timings(gateway, admin_key, settings, tmp_path):
    """At concurrency 1 the requests map one to one, in order, onto the gateway's task rows: each server span lies
    inside the client's, the first token arrives after the replica started, and no more tokens arrive than the
    server generated."""
    import time

    from app.storage.database import get_database
    from app.storage.tables import TaskRow

    since = time.time()
    spec = LoadTestSpec(
        url=gateway,
        model="tiny-text",
        modality="text",
        concurrency=[1, 2],
        requests=3,
        max_tokens=8,
        api_key=admin_key,
        warmup_requests=0,
    )
    result = run_load_test(spec)
    plot(result, tmp_path / "plot.png")
    assert (tmp_path / "plot.png").read_bytes()[:4] == b"\x89PNG"
    for level in result["levels"]:
        assert level["completed"] == 3 and level["errors"] == 0 and level["output_tokens"] > 0
        assert level["ttft_s"]["n"] == 3 and level["itl_s"]["n"] > 0 and level["request_throughput"] > 0
    with get_database(settings.resolved_database_url).session() as s:
        rows = list(s.scalars(select(TaskRow).where(TaskRow.model == "tiny-text").order_by(TaskRow.created_at)))

    def epoch(moment):
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()

    rows = [r for r in rows if epoch(r.created_at) >= since][:3]  # the concurrency-1 level, in order
    records = sorted(result["requests"]["1"], key=lambda r: r["started"])
    assert len(rows) == 3 and all(r.status == "completed" for r in rows)
    slack = 0.005  # stored timestamps vs the client's clock readings (same machine)
    for record, row in zip(records, rows, strict=True):
        sent, ended = record["started"], record["started"] + record["latency_s"]
        first_token = sent + record["ttft_s"]
        assert sent - slack <= epoch(row.created_at) <= epoch(row.started_at) <= first_token + slack
        assert epoch(row.completed_at) <= ended + slack
        assert record["ttft_s"] >= epoch(row.started_at) - sent - slack  # TTFT includes the server's queue time
        assert 1 <= record["output_tokens"] <= row.result["tokens_generated"]
        gaps = [b - a for a, b in pairwise(record["token_times"])]  # the ITLs
        assert sum(gaps) <= record["latency_s"] - record["ttft_s"] + 1e-9
