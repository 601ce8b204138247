"""HTTP client for the vid-bench gateway (sync, httpx).

Errors come back as the same typed exceptions the in-process SDK raises
(ModelNotFoundError, ValidationError, ...), rebuilt from the uniform error body.
The API key is taken from the argument or VDB_API_KEY.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from app import errors as _errors
from app.catalog.params import VideoParameters
from app.config import Tier


class ApiError(_errors.VidBenchError):
    """An error body whose code has no dedicated class."""


def _typed_errors(base: type[_errors.VidBenchError] = _errors.VidBenchError):
    """Every error class of app.errors below ``base``, so a new one is known to the client without a list."""
    for cls in base.__subclasses__():
        if cls.__module__ == _errors.__name__:
            yield cls
        yield from _typed_errors(cls)


def error_classes() -> dict[str, type[_errors.VidBenchError]]:
    """Error code -> the class the server raised it as."""
    return {cls.code: cls for cls in _typed_errors()}


def _error(code: str | None, message: str, details: dict[str, Any]) -> _errors.VidBenchError:
    cls = error_classes().get(code, ApiError) if code is not None else ApiError
    return _errors._rebuild_error(cls, message, details)


def _raise_for(response: httpx.Response) -> None:
    if response.is_success:
        return
    try:
        body = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        raise ApiError(
            f"HTTP {response.status_code}: {response.text[:300]}", {"status": response.status_code}
        ) from None
    error = _error(body.get("code"), body.get("message", ""), body.get("details") or {})
    error.code, error.http_status, error.request_id = body.get("code"), response.status_code, body.get("request_id")
    raise error


def _accept_language(request: httpx.Request) -> None:
    """Ask for error messages in the SDK's locale (set_locale, else default_locale) unless the call names one."""
    from app.i18n import get_locale

    if "accept-language" not in request.headers:
        request.headers["Accept-Language"] = get_locale()


class VidBenchClient:
    def __init__(self, base_url: str = "http://127.0.0.1:8080", api_key: str | None = None, timeout: float = 600.0):
        self.base_url = base_url.rstrip("/")
        key = api_key or os.environ.get("VDB_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, event_hooks={"request": [_accept_language]}
        )

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> VidBenchClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _request(self, method: str, path: str, **kwargs) -> Any:
        response = self.http.request(method, f"/api/v1{path}", **kwargs)
        _raise_for(response)
        return response.json()

    # -- inference -------------------------------------------------------------------------------
    def generate_text(self, model: str, prompt: str, **params: Any) -> dict:
        return self._request("POST", "/inference/text-generation", json={"model": model, "prompt": prompt, **params})

    def stream_text(self, model: str, prompt: str, **params: Any) -> Iterator[str]:
        """Yield tokens as the server sends them (Server-Sent Events)."""
        body = {"model": model, "prompt": prompt, **params, "stream": True}
        with self.http.stream("POST", "/api/v1/inference/text-generation", json=body) as response:
            if not response.is_success:
                response.read()
                _raise_for(response)
            for line in response.iter_lines():
                if not line.startswith("data: "):
                    continue
                event = json.loads(line[6:])
                if "error" in event:
                    raise _error(event["error"]["code"], event["error"]["message"], event["error"].get("details") or {})
                if "token" in event:
                    yield event["token"]

    def generate_image(self, model: str, prompt: str, **params: Any) -> dict:
        return self._request("POST", "/inference/image-generation", json={"model": model, "prompt": prompt, **params})

    def text_to_speech(self, model: str, text: str, **params: Any) -> dict:
        return self._request("POST", "/inference/text-to-speech", json={"model": model, "text": text, **params})

    def generate_video(self, model: str, prompt: str, **params: Any) -> dict:
        return self._request("POST", "/inference/video-generation", json={"model": model, "prompt": prompt, **params})

    def download(self, url: str, path: str | Path) -> Path:
        """Save an artifact URL from a result to a file."""
        response = self.http.get(url)
        _raise_for(response)
        path = Path(path)
        path.write_bytes(response.content)
        return path

    # -- tasks --------------------------------------------------------------------------------------
    def get_task(self, task_id: str) -> dict:
        return self._request("GET", f"/tasks/{task_id}")

    def cancel_task(self, task_id: str) -> dict:
        return self._request("DELETE", f"/tasks/{task_id}")

    def _poll(self, path: str, timeout: float, poll_s: float, model_field: str) -> dict:
        """GET ``path`` until its status is final. A 429 is waited out (its ``retry_after``), not raised: polling a
        long benchmark must not fail because the endpoint group's limit counts the polls."""
        deadline = time.monotonic() + timeout
        last: dict = {}
        while True:
            try:
                last = self._request("GET", path)
                if last["status"] in ("completed", "failed", "cancelled"):
                    return last
                pause = poll_s  # polling interval of a waiting client
            except _errors.RateLimitExceededError as exc:
                pause = float(exc.details.get("retry_after") or poll_s)
            left = deadline - time.monotonic()
            if left <= 0:
                raise _errors.GenerationTimeoutError(timeout, last.get(model_field, "?"))
            time.sleep(min(pause, left))

    def wait_for_task(self, task_id: str, timeout: float = 3600.0, poll_s: float = 0.5) -> dict:
        return self._poll(f"/tasks/{task_id}", timeout, poll_s, "model")

    # -- models -------------------------------------------------------------------------------------
    def list_models(self, **filters: Any) -> dict:
        return self._request("GET", "/models", params={k: v for k, v in filters.items() if v is not None})

    def get_model(self, name: str) -> dict:
        return self._request("GET", f"/models/{name}")

    def model_health(self, name: str) -> dict:
        return self._request("GET", f"/models/{name}/health")

    # -- benchmarks -----------------------------------------------------------------------------------
    def start_benchmark(
        self,
        model_name: str,
        prompts: list[str],
        parameters: VideoParameters | dict | None = None,
        evaluation_settings: dict | None = None,
        **fields: Any,
    ) -> dict:
        if isinstance(parameters, VideoParameters):
            parameters = parameters.model_dump(mode="json", exclude_none=True)
        body = {
            "model_name": model_name,
            "prompts": prompts,
            "parameters": parameters or {},
            "evaluation_settings": evaluation_settings or {},
            **fields,
        }
        return self._request("POST", "/benchmarks", json=body)

    def get_benchmark(self, benchmark_id: str) -> dict:
        return self._request("GET", f"/benchmarks/{benchmark_id}")

    def get_results(self, benchmark_id: str, per_video: bool = False) -> dict:
        return self._request("GET", f"/benchmarks/{benchmark_id}/results", params={"per_video": per_video})

    def list_benchmarks(self, **filters: Any) -> dict:
        return self._request("GET", "/benchmarks", params={k: v for k, v in filters.items() if v is not None})

    def cancel_benchmark(self, benchmark_id: str) -> dict:
        return self._request("DELETE", f"/benchmarks/{benchmark_id}")

    def wait_for_benchmark(self, benchmark_id: str, timeout: float = 3600.0, poll_s: float = 5.0) -> dict:
        """Block until the benchmark ends; return its results, or raise if it failed or was cancelled.

        Every 5 s by default: the benchmarks group allows 20 requests a minute per key (the reference's burst)."""
        deadline = time.monotonic() + timeout
        status = self._poll(f"/benchmarks/{benchmark_id}", timeout, poll_s, "model_name")
        if status["status"] in ("failed", "cancelled"):
            raise _errors.BenchmarkCancelledError(
                f"Benchmark {benchmark_id} {status['status']}: {status.get('error')}", {"status": status}
            )
        while True:
            try:
                return self.get_results(benchmark_id)
            except _errors.RateLimitExceededError as exc:
                if time.monotonic() > deadline:
                    raise
                time.sleep(float(exc.details.get("retry_after") or poll_s))

    # -- credentials ------------------------------------------------------------------------------
    def login(self, username: str, password: str, scopes: list[str] | None = None) -> dict:
        """Log in with a password; later calls of this client carry the returned access token."""
        body = {"username": username, "password": password, **({"scope": " ".join(scopes)} if scopes else {})}
        token = self._request("POST", "/auth/login", json=body)
        self.http.headers["Authorization"] = f"Bearer {token['access_token']}"
        return token

    def create_api_key(
        self, name: str, permissions: list[str], tier: Tier = "free", expires_in_days: int | None = None
    ) -> dict:
        """Needs the admin permission. The returned ``key`` is shown this once."""
        body = {
            "name": name,
            "permissions": permissions,
            "tier": tier,
            **({"expires_in_days": expires_in_days} if expires_in_days else {}),
        }
        return self._request("POST", "/auth/api-keys", json=body)

    def list_api_keys(self, include_revoked: bool = False) -> dict:
        return self._request("GET", "/auth/api-keys", params={"include_revoked": include_revoked})

    def revoke_api_key(self, key_id: str) -> dict:
        return self._request("DELETE", f"/auth/api-keys/{key_id}")

    def whoami(self) -> dict:
        return self._request("GET", "/auth/me")

    # -- cluster --------------------------------------------------------------------------------------
    def cluster_status(self) -> dict:
        return self._request("GET", "/cluster/status")

    def workers(self, **filters: Any) -> dict:
        return self._request("GET", "/workers", params={k: v for k, v in filters.items() if v is not None})

    # -- analytics ----------------------------------------------------------------------------------
    def benchmark_analytics(self, period: str = "24h", **filters: Any) -> dict:
        """GET /api/v1/analytics/benchmarks (filters: model_name, metric, aggregation)."""
        params = {"period": period, **{k: v for k, v in filters.items() if v is not None}}
        return self._request("GET", "/analytics/benchmarks", params=params)

    def compare_models(self, models: list[str], metric: str = "overall_score", period: str = "30d") -> dict:
        """GET /api/v1/analytics/models/compare: ranking, significance tests and effect sizes."""
        return self._request(
            "GET", "/analytics/models/compare", params={"models": ",".join(models), "metric": metric, "period": period}
        )
