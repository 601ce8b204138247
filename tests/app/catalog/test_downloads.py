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
                self.wfile.write(PAYLOAD[start : start + 65536])

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _wait(manager, download_id):
    return wait_until(
        lambda: manager.get(download_id),
        until=lambda row: row.status in ("completed", "failed"),
        what=f"download {download_id} to end",
    )


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


@pytest.mark.parametrize(
    "source, location", [("huggingface", "not a repo"), ("http", "ftp://x/y"), ("http", "http://")]
)
def test_bad_locations_are_refused(manager, source, location):
    with pytest.raises(ValidationError):
        manager.start("fine-name", source, location)


def _copy_of_tiny_t2v(settings, tmp_path):
    """The built-in tiny-t2v checkpoint as an import source (a directory with its builtin marker)."""
    import shutil

    from app.catalog.tiny import ensure_builtin

    source = tmp_path / "imports" / "tiny-copy-src"
    shutil.copytree(ensure_builtin("tiny-t2v", "cogvideox", settings.resolved_models_dir), source)
    return source


def test_the_size_is_known_at_the_start_and_progress_is_zero(manager, tmp_path):
    source = tmp_path / "imports" / "w.bin"
    source.write_bytes(b"x" * 5000)
    row = manager.start("sized", "local", str(source))
    assert row.total_bytes == 5000 and row.downloaded_bytes == 0 and row.priority == "normal"
    assert row.created_at is not None and row.status == "downloading"


@pytest.mark.slow
def test_a_downloaded_checkpoint_is_registered_and_usable_by_name(settings, manager, tmp_path):
    from app.catalog.spec import get_catalog
    from app.engines.video import VideoEngine

    row = _wait(manager, manager.start("tiny-copy", "local", str(_copy_of_tiny_t2v(settings, tmp_path))).id)
    assert row.status == "completed" and row.registered_as == "tiny-copy" and row.assignment is None
    spec = get_catalog(manager.models_dir).get("tiny-copy")
    assert spec.source.kind == "local" and spec.source.path == row.target
    assert spec.pipeline_class == "CogVideoXPipeline" and spec.parameters == get_catalog().get("tiny-t2v").parameters
    assert 0 < spec.requirements.vram_gb < 0.1  # the weights' size on disk
    video = VideoEngine(spec, device="cpu").generate("A cat", {"num_frames": 2, "num_inference_steps": 1})
    assert video.frames.shape == (2, 32, 32, 3)


def test_a_checkpoint_of_unknown_kind_completes_unregistered_saying_why(manager, tmp_path):
    source = tmp_path / "imports" / "mystery"
    source.mkdir()
    (source / "weights.bin").write_bytes(b"x" * 10)
    row = _wait(manager, manager.start("mystery", "local", str(source)).id)
    assert row.status == "completed" and row.registered_as is None
    assert row.assignment.startswith("not registered: cannot tell what kind of model")


def test_auto_assign_deploys_through_the_gateway_hook_or_is_refused(tmp_path):
    store = DownloadRepository(Database(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    (tmp_path / "imports").mkdir()
    without = DownloadManager(store, tmp_path / "models", local_roots=[tmp_path / "imports"])
    with pytest.raises(ValidationError, match="auto_assign"):
        without.start("x", "local", str(tmp_path / "imports"), auto_assign=True)
    deployed = []
    manager = DownloadManager(
        store,
        tmp_path / "models",
        local_roots=[tmp_path / "imports"],
        on_ready=lambda name: deployed.append(name) or "deployed",
    )
    source = tmp_path / "imports" / "pipeline"
    source.mkdir()
    (source / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')  # all registration reads
    row = _wait(manager, manager.start("tiny-auto", "local", str(source), auto_assign=True).id)
    wait_until(lambda: manager.get(row.id).assignment, until=bool, what="the deployment outcome")
    assert deployed == ["tiny-auto"] and manager.get(row.id).assignment == "deployed"


def test_an_unknown_priority_is_refused(manager, tmp_path):
    with pytest.raises(ValidationError, match="priority"):
        manager.start("x", "local", str(tmp_path / "imports"), priority="urgent")


def test_queued_downloads_start_in_priority_order(tmp_path):
    release = threading.Event()

    class Held(BaseHTTPRequestHandler):
        def do_GET(self):
            release.wait(30)
            self.send_response(200)
            self.send_header("Content-Length", "3")
            self.end_headers()
            self.wfile.write(b"abc")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Held)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/w.bin"
    store = DownloadRepository(Database(f"sqlite:///{tmp_path / 'db.sqlite3'}"))
    manager = DownloadManager(store, tmp_path / "models", slots=1)
    try:
        first = manager.start("first", "http", url)  # takes the one slot and is held
        low = manager.start("later-low", "http", url, priority="low")
        high = manager.start("later-high", "http", url, priority="high")
        assert manager.get(low.id).status == manager.get(high.id).status == "queued"
        release.set()
        rows = [_wait(manager, row.id) for row in (first, low, high)]
        assert all(row.status == "completed" for row in rows)
        assert rows[2].started_at <= rows[1].started_at  # high left the queue before low, though it came after
    finally:
        release.set()
        server.shutdown()


def test_the_time_estimate_comes_from_measured_downloads(manager, tmp_path):
    source = tmp_path / "imports" / "w.bin"
    source.write_bytes(b"x" * 100_000)
    assert manager.estimated_speed("local") is None  # nothing measured yet: no estimate
    _wait(manager, manager.start("one", "local", str(source)).id)
    speed = manager.estimated_speed("local")
    assert speed is not None and speed > 0
