"""The remote model kind against a real local HTTP server that returns an MP4."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from app.catalog import get_catalog
from app.engines.remote import RemoteVideoEngine
from app.errors import RemoteGenerationError, ValidationError


def _mp4_bytes(tmp_path, frames):
    from app.storage.videos import write_mp4

    return write_mp4(frames, 8, tmp_path / "answer.mp4").read_bytes()


@pytest.fixture
def server(tmp_path):
    frames = np.zeros((6, 32, 48, 3), np.uint8)
    frames[:, :, :, 0] = np.arange(6, dtype=np.uint8)[:, None, None] * 40
    state = {"video": _mp4_bytes(tmp_path, frames), "requests": [], "mode": "ok"}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state["requests"].append({"body": body, "auth": self.headers.get("Authorization")})
            if state["mode"] == "error":
                self.send_response(500)
                self.end_headers()
                self.wfile.write(b"model overloaded")
                return
            payload = state["video"] if state["mode"] == "ok" else b"not a video at all"
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/generate", state
    httpd.shutdown()


def test_remote_model_returns_decoded_frames_and_sends_key(server, monkeypatch):
    url, state = server
    monkeypatch.setenv("VDB_PIKA_LUMIERE_URL", url)
    engine = RemoteVideoEngine(get_catalog().get("pika-lumiere"), api_key="secret-key")
    result = engine.generate("A cat playing piano", {"num_frames": 6, "resolution": "512x512"}, seed=7)
    assert result.frames.shape[0] == 6 and result.frames.shape[-1] == 3
    assert result.frames[5, ..., 0].mean() > result.frames[0, ..., 0].mean()  # the server's ramp survives decoding
    sent = state["requests"][0]
    assert sent["auth"] == "Bearer secret-key"
    assert sent["body"]["prompt"] == "A cat playing piano" and sent["body"]["seed"] == 7
    assert result.timings.total_s > 0 and result.timings.denoise_s is None


@pytest.mark.parametrize("mode, match", [("error", "HTTP 500"), ("garbage", "not a decodable video")])
def test_remote_failures_are_errors(server, monkeypatch, mode, match):
    url, state = server
    state["mode"] = mode
    monkeypatch.setenv("VDB_PIKA_LUMIERE_URL", url)
    with pytest.raises(RemoteGenerationError, match=match):
        RemoteVideoEngine(get_catalog().get("pika-lumiere")).generate("A cat", {"resolution": "512x512"})


def test_remote_without_endpoint_is_refused(monkeypatch):
    monkeypatch.delenv("VDB_PIKA_LUMIERE_URL", raising=False)
    with pytest.raises(ValidationError, match="VDB_PIKA_LUMIERE_URL"):
        RemoteVideoEngine(get_catalog().get("pika-lumiere"))
