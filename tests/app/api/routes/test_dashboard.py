"""The dashboard's Streaming sessions panel in headless Chromium against the in-process app served over real
HTTP (uvicorn in a thread, fake model backend, no Ray): rows from the snapshot, then the running stream's buffer
and end arriving over its own WebSocket without a reload. The whole path on Ray Serve:
tests/deployments/test_dashboard.py."""

from __future__ import annotations

import socket
import threading

import pytest

from app.storage.streams import StreamRepository
from tests.app.analytics.artifacts import artifact_dir
from tests.deployments.test_dashboard import browser_page  # noqa: F401 - the Chromium fixture
from tests.helpers import wait_until

pytestmark = pytest.mark.slow

CLIP = {
    "clip_index": 0,
    "prompt": "A cat",
    "seed": 0,
    "quality_level": 0,
    "width": 32,
    "height": 32,
    "num_frames": 2,
    "requested_s": 0.0,
    "arrived_s": 2.0,
    "latency_s": 2.0,
    "throughput_fps": 1.0,
}


@pytest.fixture
def served(gw):
    import uvicorn

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(gw.http.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=20, what="uvicorn to start")
    yield gw, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_streaming_sessions_panel_follows_a_running_stream(served, browser_page):  # noqa: F811
    gw, base = served
    page, problems = browser_page
    repo = StreamRepository(gw.state.repo.db)
    failed = repo.create("live", "tiny-t2v", {"prompts": ["a"], "duration_seconds": 8}, [])
    repo.finish(failed.id, "failed", "interrupted: the stream's owner (node:1) sent no heartbeat")
    live = repo.create("live", "tiny-t2v", {"prompts": ["a"], "duration_seconds": 8}, [])
    repo.update(live.id, status="running")
    repo.add_events(live.id, [("stream_started", {"mode": "live"})])
    frames = [
        {
            "frame_index": i,
            "clip_index": 0,
            "quality_level": 0,
            "width": 32,
            "height": 32,
            "generation_latency_ms": 2000.0,
            "arrival_s": 2.0,
            "deadline_s": 2.0 + i / 8,
            "playback_s": 2.0 + i / 8,
            "dropped": False,
        }
        for i in range(2)
    ]
    events = [
        ("frame_generated", {"frame_id": i, "clip_index": 0, "latency_ms": 2000.0, "dropped": False}) for i in (0, 1)
    ]
    events.append(("buffer_status", {"utilization": 0.4, "occupancy": 12, "capacity": 30, "time_s": 2.0}))
    repo.record_clip(live.id, CLIP, frames, events)

    page.goto(f"{base}/dashboard?refresh=1")
    page.fill("#api-key", gw.admin_key)
    page.click("#key-form button")
    row = f'#streams tr[data-id="{live.id}"]'
    page.wait_for_function(f"document.querySelector('{row} .buffer')?.textContent === '40% (12/30)'", timeout=30_000)
    assert page.evaluate(f"parseFloat(document.querySelector('{row}').dataset.percentage)") == 25.0
    assert page.inner_text(f"{row} .clips") == "1" and page.inner_text(f"{row} .status") == "running"
    failed_row = f'#streams tr[data-id="{failed.id}"]'
    assert page.inner_text(f"{failed_row} .status") == "failed" and "no heartbeat" in page.inner_text(failed_row)
    ids = page.eval_on_selector_all("#streams tr[data-id]", "rows => rows.map(r => r.dataset.id)")
    assert ids == [live.id, failed.id]  # newest first
    page.evaluate("window.__sameDocument = true")

    repo.finish(live.id, "completed", None, event=("stream_completed", {"final_metrics": {}}))
    page.wait_for_function(f"document.querySelector('{row} .status').textContent === 'completed'", timeout=30_000)
    assert page.evaluate(f"parseFloat(document.querySelector('{row}').dataset.percentage)") == 100.0
    assert page.evaluate("window.__sameDocument") is True
    page.wait_for_timeout(500)  # the progress bar's width transition, for the screenshot only
    page.screenshot(path=str(artifact_dir() / "dashboard-streams-panel.png"), full_page=True)
    assert problems == []
