"""`vid-bench cancel`: a cancel request written where every runner reads it."""

from typer.testing import CliRunner

from app.config import get_settings
from app.storage.database import get_database
from app.storage.repository import BenchmarkRepository
from cli.main import app

runner = CliRunner()


def _repo() -> BenchmarkRepository:
    return BenchmarkRepository(get_database(get_settings().resolved_database_url))


def test_cancel_asks_the_runner_of_a_running_benchmark_to_stop():
    repo = _repo()
    row = repo.create_benchmark("tiny-t2v", {"model_name": "tiny-t2v"}, 2)
    repo.update(row.id, status="running")
    result = runner.invoke(app, ["cancel", row.id])
    assert result.exit_code == 0, result.output
    assert repo.cancel_requested([row.id]) == {row.id} and repo.get(row.id).status == "running"  # the runner ends it
    repo.finish(row.id, "cancelled")  # as its runner would: nothing is left running for the gateway's orphan sweep


def test_cancel_of_a_submitted_benchmark_ends_it_and_a_finished_one_is_left_alone():
    repo = _repo()
    row = repo.create_benchmark("tiny-t2v", {"model_name": "tiny-t2v"}, 2)
    assert runner.invoke(app, ["cancel", row.id]).exit_code == 0
    assert repo.get(row.id).status == "cancelled"
    again = runner.invoke(app, ["cancel", row.id])
    assert again.exit_code == 0 and "already cancelled" in again.stdout


def test_cancel_of_an_unknown_benchmark_is_one_error_line():
    result = runner.invoke(app, ["cancel", "bench_nope"])
    assert result.exit_code == 2 and result.stderr.strip().startswith("error: BENCHMARK_NOT_FOUND")
