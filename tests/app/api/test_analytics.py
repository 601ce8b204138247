"""Analytics routes in-process: guards, validation with the one error body, and the dashboard page."""

from tests.app.api.support import expect_error


def test_analytics_needs_the_analytics_scope(gw):
    expect_error(gw.anonymous.get("/api/v1/analytics/benchmarks"), 401)
    reader = gw.new_key(["benchmark.read"])
    expect_error(gw.anonymous.get("/api/v1/analytics/benchmarks", headers={"X-API-Key": reader["key"]}), 403)
    analyst = gw.new_key(["analytics.read"])
    response = gw.anonymous.get("/api/v1/analytics/benchmarks", headers={"X-API-Key": analyst["key"]})
    assert response.status_code == 200 and response.json()["total_benchmarks"] == 0
    assert "X-RateLimit-Limit" in response.headers


def test_empty_database_gives_nulls_with_sample_sizes(gw):
    body = gw.http.get("/api/v1/analytics/benchmarks", params={"period": "7d", "aggregation": "p95"}).json()
    assert body["success_rate"] is None and body["metrics"]["p95_latency_ms"] is None
    assert body["sample_sizes"]["p95_latency_ms"] == 0 and body["top_models"] == []
    assert body["trend_details"]["quality_trend"]["reason"] == "no value in this period"


def test_bad_parameters_are_400s_with_the_error_body(gw):
    expect_error(gw.http.get("/api/v1/analytics/benchmarks", params={"metric": "speediness"}), 422)  # the enum
    expect_error(gw.http.get("/api/v1/analytics/models/compare", params={"models": "a"}), 400)
    expect_error(
        gw.http.get("/api/v1/analytics/models/compare", params={"models": "a,b", "metric": "dynamic_degree"}), 400
    )
    assert gw.http.get("/api/v1/analytics/benchmarks", params={"period": "2w"}).status_code == 422


def test_compare_without_results_says_why(gw):
    body = gw.http.get(
        "/api/v1/analytics/models/compare", params={"models": "tiny-t2v,tiny-i2v", "metric": "temporal_consistency"}
    ).json()
    assert body["statistical_significance"]["p_value"] is None
    assert body["statistical_significance"]["reason"] == "fewer than two models have values to compare"
    assert [m["rank"] for m in body["models"]] == [None, None]


def test_dashboard_page_is_open_and_its_data_is_guarded(gw):
    page = gw.anonymous.get("/dashboard", params={"refresh": 2})
    assert page.status_code == 200 and 'data-refresh-s="2.0"' in page.text and "/dashboard/dashboard.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # works offline: nothing from a CDN
    script = gw.anonymous.get("/dashboard/dashboard.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    expect_error(gw.anonymous.get("/api/v1/analytics/dashboard"), 401)
    data = gw.http.get("/api/v1/analytics/dashboard").json()
    assert data["running"] == [] and data["leaderboard"] == [] and data["recent_errors"] == []
    assert data["streams"] == []
    assert data["cluster"]["nodes"][0]["alive"] is True


def test_dashboard_data_lists_streaming_sessions(gw):
    from app.storage.streams import StreamRepository

    repo = StreamRepository(gw.state.repo.db)
    stream = repo.create("live", "tiny-t2v", {"prompts": ["a"], "duration_seconds": 4}, [], owner="someone")
    repo.update(stream.id, status="running")
    analyst = gw.new_key(["analytics.read"])["key"]
    streams = gw.anonymous.get("/api/v1/analytics/dashboard", headers={"X-API-Key": analyst}).json()["streams"]
    assert [(s["stream_id"], s["status"], s["percentage"], s["clips"]) for s in streams] == [
        (stream.id, "running", 0.0, 0)
    ]
