"""`vid-bench loadtest`: options parsed as documented; bad input refused before any request; a run against a real
loopback HTTP server is written as JSON and PNG, stored in the database, and listed and shown from there."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from cli.loadtest import _modality
from cli.main import app, expand_multi_value_options

runner = CliRunner()


def test_concurrency_takes_several_values_and_modality_comes_from_the_catalog():
    argv = expand_multi_value_options(["loadtest", "--concurrency", "1", "2", "4", "--requests", "3"])
    assert argv == ["loadtest", "--concurrency", "1", "--concurrency", "2", "--concurrency", "4", "--requests", "3"]
    assert (_modality("tiny-t2i", "auto"), _modality("tiny-tts", "auto")) == ("image", "speech")
    assert _modality("some-llm-the-catalog-does-not-know", "auto") == "text"  # any OpenAI-compatible endpoint


def test_bad_load_tests_exit_2_with_one_line(tmp_path):
    for extra in (
        ["--url", "ftp://x"],
        ["--url", "http://127.0.0.1:9", "--concurrency", "0"],
        ["--url", "http://127.0.0.1:9", "--modality", "music"],
    ):
        result = runner.invoke(app, ["loadtest", "--model", "tiny-text", "--output", str(tmp_path), *extra])
        assert result.exit_code == 2 and result.stderr.startswith("error: INVALID_PARAMETERS")
    assert list(tmp_path.iterdir()) == []  # nothing stored


@pytest.fixture
def own_database(tmp_path, monkeypatch):
    """The CLI's settings pointed at a fresh SQLite file for this test only."""
    from app.config import reset_settings_cache

    url = f"sqlite:///{tmp_path / 'loadtests.sqlite3'}"
    monkeypatch.setenv("VDB_DATABASE_URL", url)
    reset_settings_cache()
    yield url
    monkeypatch.delenv("VDB_DATABASE_URL")
    reset_settings_cache()


@pytest.fixture
def image_endpoint():
    """A real HTTP server on loopback that answers image generations, refusing every third request with 429."""
    answered = {"n": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                answered["n"] += 1
                refuse = answered["n"] % 3 == 0
            body = json.dumps({"error": "slow down"} if refuse else {"data": [{"b64_json": ""}]}).encode()
            self.send_response(429 if refuse else 200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.slow  # about 2 s: matplotlib, the package census of provenance, two levels of real HTTP
def test_a_run_is_stored_and_listed_and_shown_as_written(own_database, image_endpoint, tmp_path):
    argv = [
        "loadtest",
        "--url",
        image_endpoint,
        "--model",
        "some-image-model",
        "--modality",
        "image",
        "--concurrency",
        "1",
        "2",
        "--requests",
        "6",
        "--output",
        str(tmp_path / "out"),
        "--json",
    ]
    result = runner.invoke(app, expand_multi_value_options(argv))
    assert result.exit_code == 0, result.output
    run = json.loads(result.stdout)
    written = json.loads((tmp_path / "out" / f"{run['id']}.json").read_text())
    assert (tmp_path / "out" / f"{run['id']}.png").read_bytes()[:4] == b"\x89PNG"
    assert [lv["requests"] for lv in written["levels"]] == [6, 6]
    assert all(lv["status_429"] >= 1 and lv["status_429"] + lv["completed"] == 6 for lv in written["levels"])

    listed = runner.invoke(app, ["loadtest", "--list", "--json"])
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.stdout)
    assert page["total"] == 1 and page["load_tests"][0]["id"] == run["id"]
    assert page["load_tests"][0]["concurrency"] == [1, 2] and page["load_tests"][0]["modality"] == "image"

    shown = runner.invoke(app, ["loadtest", "show", run["id"], "--json"])
    assert shown.exit_code == 0, shown.output
    stored = json.loads(shown.stdout)
    assert stored["levels"] == [{k: lv[k] for k in stored["levels"][0]} for lv in written["levels"]]
    assert stored["provenance"] == written["provenance"] and stored["spec"] == written["spec"]
    assert stored["json_path"] == str((tmp_path / "out" / f"{run['id']}.json").resolve())

    table = runner.invoke(app, ["loadtest", "show", run["id"]])
    assert table.exit_code == 0 and "mean ms [95% CI]" in table.stdout and run["id"] in table.stdout
    assert run["id"] in runner.invoke(app, ["loadtest", "--list"]).stdout


def test_stored_runs_are_listed_and_shown_from_the_database(own_database):
    from app.storage.database import get_database
    from app.storage.loadtests import LoadTestRepository
    from tests.app.storage.test_loadtests import a_result

    repo = LoadTestRepository(get_database(own_database))
    first, second = a_result("load_dddd0001"), a_result("load_dddd0002", model="other-llm")
    repo.save(first, json_path="/r/load_dddd0001.json")
    repo.save(second)
    page = json.loads(runner.invoke(app, ["loadtest", "--list", "--json", "--model", "tiny-text"]).stdout)
    assert page["total"] == 1 and [item["id"] for item in page["load_tests"]] == ["load_dddd0001"]
    everything = json.loads(runner.invoke(app, ["loadtest", "--list", "--json"]).stdout)
    assert [item["id"] for item in everything["load_tests"]] == ["load_dddd0002", "load_dddd0001"]
    shown = runner.invoke(app, ["loadtest", "show", "load_dddd0001", "--json"])
    assert shown.exit_code == 0, shown.output
    stored = json.loads(shown.stdout)
    assert stored["levels"] == first["levels"] and stored["provenance"] == first["provenance"]
    assert stored["json_path"] == "/r/load_dddd0001.json" and "api_key" not in stored["spec"]
    table = runner.invoke(app, ["loadtest", "show", "load_dddd0001"]).stdout
    assert "mean ms [95% CI]" in table and "TTFT p50" in table and "load_dddd0001" in table
    listing = runner.invoke(app, ["loadtest", "--list"]).stdout
    assert "load_dddd0001" in listing and "other-llm" in listing


def test_unknown_ids_and_a_run_without_url_exit_2(own_database):
    missing = runner.invoke(app, ["loadtest", "show", "load_nothere"])
    assert missing.exit_code == 2 and missing.stderr.startswith("error: LOADTEST_NOT_FOUND")
    bare = runner.invoke(app, ["loadtest", "--model", "m"])
    assert bare.exit_code == 2 and "--url and --model" in bare.stderr
