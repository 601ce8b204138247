"""The SDK's HTTP client against the real gateway."""

import httpx
import pytest

from vid_diffusion_bench.client import VidBenchClient
from vid_diffusion_bench.exceptions import ModelNotFoundError, ServerOverloadedError, ValidationError


def test_client_round_trip(gateway, admin_key, tmp_path):
    with VidBenchClient(gateway, api_key=admin_key) as client:
        text = client.generate_text("tiny-text", "Hello", max_tokens=4, temperature=0)
        assert text["status"] == "completed"
        tokens = list(client.stream_text("tiny-text", "Hello", max_tokens=4, temperature=0))
        assert "".join(tokens) == text["result"]["generated_text"]
        image = client.generate_image("tiny-t2i", "A cat", steps=1)
        saved = client.download(image["result"]["images"][0]["url"], tmp_path / "cat.png")
        assert saved.read_bytes()[:4] == b"\x89PNG"
        task = client.text_to_speech("tiny-tts", "hello", **{"async": True})
        assert client.wait_for_task(task["task_id"], timeout=120)["status"] == "completed"
        assert client.list_models(type="text", status="available")["total"] == 1
        assert client.cluster_status()["workers"]["online"] >= 1


def test_client_waits_for_a_benchmark(gateway, admin_key):
    with VidBenchClient(gateway, api_key=admin_key) as client:
        started = client.start_benchmark("tiny-t2v", ["A cat"], {"num_frames": 4, "num_inference_steps": 2})
        results = client.wait_for_benchmark(started["benchmark_id"], timeout=300, poll_s=1)
        assert results["status"] == "completed" and results["results"]["metrics"]["temporal_consistency"] is not None


def test_client_raises_typed_errors(gateway, admin_key):
    with VidBenchClient(gateway, api_key=admin_key) as client:
        with pytest.raises(ModelNotFoundError) as info:
            client.generate_text("nope", "x")
        assert "tiny-text" in info.value.details["available_models"] and info.value.request_id
        with pytest.raises(ValidationError):
            client.generate_video("tiny-t2v", "x", num_frames=500)
        assert ServerOverloadedError.code == "SERVER_OVERLOADED"


def test_client_credentials_and_typed_auth_errors(gateway, admin_key, monkeypatch):
    from vid_diffusion_bench.exceptions import AuthenticationError, PermissionDeniedError, RateLimitExceededError

    with VidBenchClient(gateway, api_key=admin_key) as admin:
        assert admin.whoami()["permissions"] == ["admin"]
        created = admin.create_api_key("sdk", ["models.read"], tier="free")
    monkeypatch.setenv("VDB_API_KEY", created["key"])  # taken from the environment when not given
    with VidBenchClient(gateway) as client:
        assert client.whoami()["id"] == created["key_id"]
        with pytest.raises(PermissionDeniedError):
            client.start_benchmark("tiny-t2v", ["x"])
        with pytest.raises(RateLimitExceededError) as info:
            for _ in range(20):  # free tier: 10 a minute
                client.list_models()
        assert info.value.details["retry_after"] >= 1 and info.value.http_status == 429
    monkeypatch.delenv("VDB_API_KEY")
    with VidBenchClient(gateway) as anonymous, pytest.raises(AuthenticationError):
        anonymous.list_models()


def test_every_error_code_maps_to_its_class():
    import httpx

    from app import errors
    from app.errors import TaskCancelledError, VidBenchError, error_body
    from vid_diffusion_bench.client import _raise_for, error_classes

    typed = [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, VidBenchError) and obj is not VidBenchError
    ]
    assert len({cls.code for cls in typed}) == len(typed)  # one code, one class
    assert error_classes() == {cls.code: cls for cls in typed}
    body = error_body(TaskCancelledError("Task t was cancelled", {"task_id": "t"}), "req-1")
    with pytest.raises(TaskCancelledError) as info:
        _raise_for(httpx.Response(409, json=body))
    assert info.value.details == {"task_id": "t"} and info.value.request_id == "req-1"


def test_client_analytics(gateway, admin_key):
    with VidBenchClient(gateway, api_key=admin_key) as client:
        started = client.start_benchmark("tiny-t2v", ["A cat", "A dog"], {"num_frames": 4, "num_inference_steps": 2})
        client.wait_for_benchmark(started["benchmark_id"], timeout=300, poll_s=1)
        summary = client.benchmark_analytics("24h", model_name="tiny-t2v", metric="temporal_consistency")
        assert summary["total_benchmarks"] >= 1 and summary["sample_sizes"]["avg_temporal_consistency"] >= 1
        # svd never runs in this suite (no weights here); other tests may have benchmarked the other tiny models
        comparison = client.compare_models(["tiny-t2v", "svd"], metric="temporal_consistency", period="24h")
        assert comparison["models"][0]["model_name"] == "tiny-t2v" and comparison["models"][0]["rank"] == 1
        assert comparison["statistical_significance"]["p_value"] is None  # svd has no runs: said, not guessed


def test_waiting_rides_out_the_endpoint_groups_rate_limit():
    """The benchmarks group allows 20 requests a minute: a 429 while waiting is waited out, never raised."""
    from app.errors import RateLimitExceededError

    limited = RateLimitExceededError(20, 0, "2026-01-01T00:00:00Z", 0, 60, "benchmarks")
    refused = (429, {"error": {"code": limited.code, "message": str(limited), "details": limited.details}})
    replies = iter(
        [
            refused,
            (200, {"status": "running"}),
            refused,
            (200, {"status": "completed"}),
            refused,
            (200, {"status": "completed", "results": {"metrics": {}}}),
        ]
    )
    paths = []

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        status, body = next(replies)
        return httpx.Response(status, json=body)

    client = VidBenchClient("http://gateway", api_key="key")
    client.http = httpx.Client(base_url="http://gateway", transport=httpx.MockTransport(answer))
    assert client.wait_for_benchmark("b1", timeout=30, poll_s=0)["results"] == {"metrics": {}}
    assert paths == ["/api/v1/benchmarks/b1"] * 4 + ["/api/v1/benchmarks/b1/results"] * 2
