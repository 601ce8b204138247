"""Model downloads: HTTP (a local server started here), local paths, refusals."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.catalog.downloads import DownloadManager, safe_target
from app.errors import DownloadConflictError, LocalSourceNotFoundError, PermissionDeniedError, ValidationError
from app.storage.database import Database
from app.storage.downloads import DownloadRepository
from tests.helpers import wait_until

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


@pytest.fixture
def manager(tmp_path):
    (tmp_path / "imports").mkdir()
    store = DownloadRepository(Database(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    return DownloadManager(store, tmp_path / "models", local_roots=[tmp_path / "imports"])


@pytest.fixture
def http_server():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/weights/model.safetensors":
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            for start in range(0, len(PAYLOAD), 65536):
                self.wfile.write(PAYLOAD[start:start + 65536])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _wait(manager, download_id):
    return wait_until(lambda: manager.get(download_id), until=lambda row: row.status != "downloading",
                      what=f"download {download_id} to end")


def test_http_download_with_progress(manager, http_server):
    row = manager.start("my-model", "http", f"{http_server}/weights/model.safetensors")
    done = _wait(manager, row.id)
    assert done.status == "completed" and done.total_bytes == len(PAYLOAD) == done.downloaded_bytes
    assert (manager.models_dir / "downloads" / "my-model" / "model.safetensors").read_bytes() == PAYLOAD


def test_failed_download_leaves_nothing(manager, http_server):
    row = _wait(manager, manager.start("missing", "http", f"{http_server}/nope").id)
    assert row.status == "failed" and "404" in row.error
    assert not (manager.models_dir / "downloads" / "missing").exists()
    assert not any((manager.models_dir / "downloads").iterdir())


def test_local_copy(manager, tmp_path):
    source = tmp_path / "imports" / "src"
    (source / "unet").mkdir(parents=True)
    (source / "unet" / "w.bin").write_bytes(b"x" * 1000)
    (source / "model_index.json").write_text("{}")
    row = _wait(manager, manager.start("copied", "local", str(source)).id)
    assert row.status == "completed" and row.downloaded_bytes == row.total_bytes == 1002
    assert (manager.models_dir / "downloads" / "copied" / "unet" / "w.bin").exists()
    with pytest.raises(DownloadConflictError):  # an existing model is never overwritten
        manager.start("copied", "local", str(source))


def test_local_sources_must_lie_under_the_configured_roots(manager, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    for outside in ("/etc", str(tmp_path / "elsewhere"), str(tmp_path / "imports" / ".." / "elsewhere")):
        with pytest.raises(PermissionDeniedError):
            manager.start("copy", "local", outside)
    with pytest.raises(LocalSourceNotFoundError):
        manager.start("copy", "local", str(tmp_path / "imports" / "missing"))
    assert not (manager.models_dir / "downloads" / "copy").exists()


def test_hub_unreachable_is_a_failed_download_with_the_reason(manager):
    row = _wait(manager, manager.start("tiny", "huggingface", "someone/some-model").id)
    assert row.status == "failed" and row.error
    by_repo_id = _wait(manager, manager.start("someone/other-model", "huggingface", None).id)
    assert by_repo_id.location == "someone/other-model" and by_repo_id.target.endswith("someone--other-model")


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", "/abs", "", "x" * 101, "ok name"])
def test_names_that_could_escape_are_refused(tmp_path, name):
    with pytest.raises(ValidationError):
        safe_target(tmp_path, name)


@pytest.mark.parametrize("name", ["../escape", "..", "/abs", "", "x" * 101, "ok name"])
def test_downloads_with_escaping_names_are_refused(manager, tmp_path, name):
    with pytest.raises(ValidationError):
        manager.start(name, "local", str(tmp_path / "imports"))


@pytest.mark.parametrize("source, location", [("huggingface", "not a repo"), ("http", "ftp://x/y"),
                                              ("http", "http://")])
def test_bad_locations_are_refused(manager, source, location):
    with pytest.raises(ValidationError):
        manager.start("fine-name", source, location)
