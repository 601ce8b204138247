"""The request-metrics middleware in-process: route templates, models, statuses and in-flight counts reach the
recorder (on Serve the recorder is ray.util.metrics: tests/deployments/test_metrics_endpoint.py)."""

from fastapi.testclient import TestClient

from app.api import make_app
from app.api.telemetry import RequestMetricsMiddleware


class ListRecorder:
    def __init__(self):
        self.requests, self.in_flight_counts = [], []

    def request(self, route, method, model, status, seconds):
        self.requests.append((route, method, model, status, seconds))

    def in_flight(self, count):
        self.in_flight_counts.append(count)


def test_requests_are_recorded_by_route_template_model_and_status(gw):
    recorder = ListRecorder()
    api = make_app()
    api.add_middleware(
        RequestMetricsMiddleware, recorder=recorder, known_model=lambda n: n.startswith("tiny-"), api=api
    )
    http = TestClient(api, headers={"X-API-Key": gw.admin_key})
    http.get("/api/v1/models/tiny-t2v")
    http.post("/api/v1/inference/text-generation", json={"model": "tiny-text", "prompt": "hi", "max_tokens": 2})
    http.get("/api/v1/benchmarks", params={"model_name": "not-a-model"})
    http.get("/no/such/path")
    got = [(route, method, model, status) for route, method, model, status, _ in recorder.requests]
    assert got == [
        ("/api/v1/models/{model_name}", "GET", "tiny-t2v", 200),
        ("/api/v1/inference/text-generation", "POST", "tiny-text", 200),
        ("/api/v1/benchmarks", "GET", "none", 200),  # unknown names never become label values
        ("unmatched", "GET", "none", 404),
    ]
    assert all(seconds > 0 for *_, seconds in recorder.requests)
    assert recorder.in_flight_counts == [1, 0] * 4
