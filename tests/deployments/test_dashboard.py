"""The monitoring dashboard in a real browser: headless Chromium (Debian package `chromium`) driven by Playwright,
against the gateway on Ray Serve. It signs in, a tiny benchmark starts through the API, and its progress rises
on the page without a reload (over the WebSocket); a streaming session's progress and buffer come over its own
socket; no console errors; the screenshots are test artifacts."""

import shutil

import pytest

from tests.app.analytics.artifacts import artifact_dir

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def browser_page():
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian package `chromium`; scripts/setup.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems = []
        page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        yield page, problems
        browser.close()


def _percentage(page, benchmark_id):
    return page.evaluate(
        "id => parseFloat(document.querySelector(`#running tr[data-id=\"${id}\"]`)?.dataset.percentage ?? 'NaN')",
        benchmark_id,
    )


def test_dashboard_shows_live_progress_in_a_browser(gateway, client, admin_key, browser_page):
    page, problems = browser_page
    page.goto(f"{gateway}/dashboard?refresh=1")
    page.fill("#api-key", admin_key)
    page.click("#key-form button")
    page.wait_for_selector("#board:not([hidden])")
    page.wait_for_function("document.getElementById('ws-state').textContent === 'live'", timeout=30_000)
    page.evaluate("window.__sameDocument = true")  # a reload would lose it

    response = client.post(
        "/api/v1/benchmarks",
        json={
            "model_name": "tiny-t2v",
            "prompts": [f"a small test scene {i}" for i in range(6)],
            "parameters": {"num_frames": 8, "num_inference_steps": 12},
            "evaluation_settings": {"metrics": ["temporal_consistency"]},
        },
    )
    assert response.status_code == 202, response.text
    benchmark_id = response.json()["benchmark_id"]

    selector = f'#running tr[data-id="{benchmark_id}"]'
    page.wait_for_selector(selector, timeout=60_000)
    first = _percentage(page, benchmark_id)
    assert first < 100, "the benchmark finished before the page could show it running"
    page.wait_for_function(
        '([id, first]) => parseFloat(document.querySelector(`#running tr[data-id="${id}"]`).dataset.percentage)'
        " > first",
        arg=[benchmark_id, first],
        timeout=300_000,
    )
    risen = _percentage(page, benchmark_id)
    page.wait_for_function(f"document.querySelector('{selector} .status').textContent === 'completed'", timeout=300_000)
    assert first < risen <= _percentage(page, benchmark_id) == 100
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    page.wait_for_function("document.querySelectorAll('#leaderboard tr td').length > 1", timeout=30_000)
    assert "tiny-t2v" in page.inner_text("#leaderboard")
    assert "Gateway" in page.inner_text("#cluster")
    page.screenshot(path=str(artifact_dir() / "dashboard.png"), full_page=True)
    assert problems == []


def test_dashboard_shows_a_streaming_session_live(gateway, client, admin_key, browser_page):
    page, problems = browser_page
    page.goto(f"{gateway}/dashboard?refresh=1")
    page.fill("#api-key", admin_key)
    page.click("#key-form button")
    page.wait_for_function("document.getElementById('ws-state').textContent === 'live'", timeout=30_000)
    response = client.post(
        "/api/v1/streaming/benchmarks",
        json={
            "model_name": "tiny-t2v",
            "prompts": ["A cat playing piano"],
            "stream_config": {"duration_seconds": 6, "target_fps": 8.0, "buffer_size": 24},
            "quality_settings": {"quality_levels": 2, "num_inference_steps": 1},
        },
    )
    assert response.status_code == 202, response.text
    stream_id = response.json()["stream_id"]
    selector = f'#streams tr[data-id="{stream_id}"]'
    page.wait_for_selector(selector, timeout=60_000)
    # the buffer column is filled only by the stream's own WebSocket (buffer_status messages)
    page.wait_for_function(f"document.querySelector('{selector} .buffer').textContent.includes('%')", timeout=180_000)
    page.wait_for_function(f"document.querySelector('{selector} .status').textContent === 'completed'", timeout=180_000)
    row = page.evaluate(
        "s => ({pct: parseFloat(document.querySelector(s).dataset.percentage),"
        " clips: parseInt(document.querySelector(s + ' .clips').textContent, 10)})",
        selector,
    )
    assert row["pct"] == 100 and row["clips"] >= 1
    stored = client.get(f"/api/v1/streaming/benchmarks/{stream_id}").json()
    assert stored["status"] == "completed" and stored["clips"] == row["clips"]
    page.screenshot(path=str(artifact_dir() / "dashboard-streams.png"), full_page=True)
    assert problems == []


def test_dashboard_login_with_username_and_password(gateway, client, browser_page):
    page, problems = browser_page
    created = client.post(
        "/api/v1/auth/users",
        json={
            "username": "dash-viewer",
            "password": "a long passphrase 42",
            "permissions": ["analytics.read", "benchmark.read"],
        },
    )
    assert created.status_code in (201, 409), created.text  # 409: made by an earlier run on this data directory
    page.goto(f"{gateway}/dashboard")
    page.fill("#username", "dash-viewer")
    page.fill("#password", "wrong password")
    page.click("#login-form button")
    page.wait_for_function("document.getElementById('signin-error').textContent.startsWith('Login refused')")
    assert page.is_hidden("#board")
    page.fill("#password", "a long passphrase 42")
    page.click("#login-form button")
    page.wait_for_selector("#board:not([hidden])")
    page.wait_for_function("document.getElementById('ws-state').textContent === 'live'", timeout=30_000)
    # the refused login is the one expected console error (the browser logs the 401 response); nothing else
    assert [p for p in problems if "401" not in p] == []
