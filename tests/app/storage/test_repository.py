"""The database and its repositories against SQLite and PostgreSQL (when the server on localhost is up)."""

from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from app.errors import BenchmarkNotFoundError, DownloadNotFoundError, ValidationError
from app.metrics.registry import video_metric_names
from app.storage.database import Database, get_database
from app.storage.downloads import DownloadRepository
from app.storage.export import export_parquet, parquet_schema
from app.storage.repository import BenchmarkRepository
from app.storage.searches import SearchRepository
from tests.conftest import BACKENDS_RAN, emptied_postgres_schema, postgres_url


def _backends():
    yield pytest.param("sqlite", id="sqlite")
    yield pytest.param("postgresql", id="postgresql")


@pytest.fixture(params=list(_backends()))
def db(request, tmp_path):
    if request.param == "sqlite":
        BACKENDS_RAN["sqlite"] = "ran"
        database = Database(f"sqlite:///{tmp_path / 'bench.sqlite3'}")
        yield database
        database.dispose()
        return
    url = postgres_url()
    if url is None:
        BACKENDS_RAN["postgresql"] = "SKIPPED: no server on localhost:5432"
        pytest.skip("PostgreSQL is not running on localhost:5432")
    BACKENDS_RAN["postgresql"] = f"ran against {url}"
    with emptied_postgres_schema(url) as schema:  # every table empty; the schema is the session's, reused
        database = Database(f"{url}?options=-csearch_path%3D{schema}")
        yield database
        database.dispose()


@pytest.fixture
def repo(db):
    return BenchmarkRepository(db)


def _record(prompt_index=0, seed=0, status="ok", **extra):
    base = {
        "prompt_index": prompt_index,
        "prompt": f"prompt {prompt_index}",
        "seed": seed,
        "status": status,
        "num_frames": 8,
        "latency_s": 0.25,
        "timings": {"total_s": 0.25, "encode_s": 0.01},
        "measurement": {"peak_rss_mb": 100.0, "peak_vram_allocated_gb": None, "energy_j": None},
        "metrics": {"temporal_consistency": 0.5, "consecutive_psnr": None},
        "metric_reasons": {"consecutive_psnr": "identical"},
        "features": {},
    }
    base.update(extra)
    return base


def test_benchmark_lifecycle_and_progress(repo):
    row = repo.create_benchmark("tiny-t2v", {"model_name": "tiny-t2v", "prompts": ["a"]}, total_videos=2)
    assert row.status == "submitted" and row.spec_hash
    repo.mark_running(row.id, {"packages": {"torch": "x"}})
    assert repo.record_video(row.id, _record(0, 0)) is True
    assert repo.record_video(row.id, _record(0, 0)) is False  # same work item again: stored once
    assert repo.record_video(row.id, _record(1, 0, status="failed", error="boom")) is True
    got = repo.get(row.id)
    assert (got.completed_videos, got.failed_videos, got.status) == (1, 1, "running")
    assert got.provenance == {"packages": {"torch": "x"}}
    assert repo.done_keys(row.id) == {(0, 0), (1, 0)}
    repo.finish(row.id, "completed")
    assert repo.get(row.id).completed_at is not None


def test_nan_and_inf_are_stored_as_null(repo):
    row = repo.create_benchmark("tiny-t2v", {"x": 1}, 1)
    repo.record_video(row.id, _record(metrics={"consecutive_psnr": float("inf"), "warping_error": float("nan")}))
    stored = repo.videos(row.id)[0]
    assert stored.metrics == {"consecutive_psnr": None, "warping_error": None}


def test_aggregates_are_replaced_atomically(repo):
    row = repo.create_benchmark("tiny-t2v", {"x": 1}, 1)
    repo.write_aggregates(row.id, [{"kind": "metric", "name": "fvd", "value": None, "reason": "missing"}])
    repo.write_aggregates(
        row.id,
        [
            {"kind": "metric", "name": "fvd", "value": 12.5, "n": 4},
            {"kind": "performance", "name": "avg_latency_ms", "value": 250.0},
        ],
    )
    rows = {a.name: a for a in repo.aggregates(row.id)}
    assert rows["fvd"].value == 12.5 and rows["fvd"].reason is None and len(rows) == 2
    with pytest.raises(IntegrityError):  # duplicate names in one write fail the whole write ...
        repo.write_aggregates(
            row.id, [{"kind": "metric", "name": "x", "value": 1.0}, {"kind": "metric", "name": "x", "value": 2.0}]
        )
    assert {a.name for a in repo.aggregates(row.id)} == {"fvd", "avg_latency_ms"}  # ... and leave the old rows


def test_list_filters_sort_and_pagination(repo):
    ids = [repo.create_benchmark(m, {"i": i}, 1).id for i, m in enumerate(["a", "b", "a", "a"])]
    repo.finish(ids[0], "completed")
    rows, total = repo.list(model_name="a", limit=2, page=1, sort="created_at")
    assert total == 3 and [r.id for r in rows] == [ids[0], ids[2]]
    rows, total = repo.list(model_name="a", limit=2, page=2, sort="created_at")
    assert [r.id for r in rows] == [ids[3]]
    rows, total = repo.list(status="completed")
    assert [r.id for r in rows] == [ids[0]]
    future = datetime.now(UTC) + timedelta(days=1)
    assert repo.list(created_after=future)[1] == 0
    assert [r.id for r in repo.list(sort="-created_at")[0]] == ids[::-1]
    with pytest.raises(ValidationError):
        repo.list(sort="nonsense")
    with pytest.raises(ValidationError):
        repo.list(limit=1000)


def test_unknown_benchmark(repo):
    with pytest.raises(BenchmarkNotFoundError):
        repo.get("bench_missing")


def test_parquet_export_keeps_nulls(repo, tmp_path):
    row = repo.create_benchmark("tiny-t2v", {"x": 1}, 2)
    repo.record_video(row.id, _record(0, 0))
    repo.record_video(row.id, _record(0, 1, status="failed", error="boom", num_frames=None, latency_s=None))
    table = pq.read_table(export_parquet(repo, [row.id], tmp_path / "out.parquet", video_metric_names()))
    assert table.schema.equals(parquet_schema(video_metric_names()), check_metadata=False)
    data = table.to_pylist()
    assert [d["status"] for d in data] == ["ok", "failed"]
    assert data[0]["metric_temporal_consistency"] == 0.5 and data[0]["metric_consecutive_psnr"] is None
    assert data[0]["peak_vram_allocated_gb"] is None and data[1]["latency_s"] is None


def test_searches_are_stored_and_replaced(db):
    searches = SearchRepository(db)
    assert searches.get("exp") is None
    searches.save("exp", "tiny-t2v", "quality", "random", {"best_score": float("nan")}, {"seeds": [0]})
    searches.save("exp", "tiny-t2v", "quality", "random", {"best_score": 0.5}, {"seeds": [1]})  # a resumed run
    row = searches.get("exp")
    assert (row.strategy, row.result, row.provenance) == ("random", {"best_score": 0.5}, {"seeds": [1]})


def test_download_rows(db):
    downloads = DownloadRepository(db)
    row = downloads.add("m", "http", "http://x/m.bin", "/models/downloads/m")
    downloads.update(row.id, total_bytes=10, downloaded_bytes=4)
    assert (downloads.get(row.id).downloaded_bytes, downloads.get(row.id).completed_at) == (4, None)
    downloads.finish(row.id, "completed", downloaded_bytes=10)
    done = downloads.get(row.id)
    assert (done.status, done.downloaded_bytes) == ("completed", 10) and done.completed_at >= done.created_at
    with pytest.raises(DownloadNotFoundError):
        downloads.get("dl-missing")


def test_one_database_per_url_and_process(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    assert get_database(url) is get_database(url)
    assert get_database(f"sqlite:///{tmp_path / 'other.sqlite3'}") is not get_database(url)


def test_an_older_schema_gets_the_new_nullable_columns(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    old = Database(url)
    with old.engine.begin() as connection:  # as a version without 'owner' had created it
        connection.execute(text("ALTER TABLE benchmarks DROP COLUMN owner"))
    old.dispose()
    upgraded = Database(url)
    row = BenchmarkRepository(upgraded).create_benchmark("tiny-t2v", {"x": 1}, 1, owner="someone")
    assert BenchmarkRepository(upgraded).get(row.id).owner == "someone"
    upgraded.dispose()
