"""Serving load test: requests at fixed concurrencies against a live endpoint, as serving teams measure it.

Modelled on ray-project/llmperf and vLLM's serving benchmark. For each concurrency level,
``concurrency`` clients send requests back to back until ``requests`` have been sent or
``max_seconds`` have passed (the loop is bounded in count and time). Per request it records
the end-to-end latency and, for streamed text, the time to first token (TTFT) and the gaps
between tokens (inter-token latency, ITL). Per level it reports p50/p90/p99 and the mean
with a 95% interval (app.metrics.statistics), request throughput (completed requests per
second of the level's wall time), output tokens per second, and the error, 429 and 503
counts. Works against this gateway and any OpenAI-compatible endpoint:

- text:   POST /v1/chat/completions with ``stream: true``; a token is one content chunk of the
          stream (what the client sees; vLLM's benchmark counts the same way for ITL), unless the
          server reports ``usage.completion_tokens``, which then counts output tokens;
- image:  POST /v1/images/generations; speech: POST /v1/audio/speech;
- video:  POST /api/v1/inference/video-generation (this gateway's route; OpenAI has none).
Nothing is estimated: a figure with no completed request is null with the reason.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from app.errors import ValidationError
from app.metrics.statistics import mean_interval

MODALITIES = ("text", "image", "speech", "video")
MAX_REQUESTS = 10_000
MAX_CONCURRENCY = 1024


@dataclass
class LoadTestSpec:
    url: str
    model: str
    modality: str = "text"
    concurrency: list[int] = field(default_factory=lambda: [1, 2, 4, 8, 16])
    requests: int = 32  # per concurrency level
    max_seconds: float = 120.0  # per level: no new request starts after this
    timeout_s: float = 300.0  # one request
    prompt: str = "Write a short story about a lighthouse keeper."
    max_tokens: int = 64
    api_key: str | None = None
    warmup_requests: int = 1  # per level, not counted

    def check(self) -> LoadTestSpec:
        if self.modality not in MODALITIES:
            raise ValidationError(
                f"Unknown modality '{self.modality}'", {"modality": self.modality, "known": list(MODALITIES)}
            )
        if not self.url.startswith(("http://", "https://")):
            raise ValidationError("The URL must start with http:// or https://", {"url": self.url})
        if not self.concurrency or any(not 1 <= c <= MAX_CONCURRENCY for c in self.concurrency):
            raise ValidationError(f"Concurrency levels must be 1-{MAX_CONCURRENCY}", {"concurrency": self.concurrency})
        if not 1 <= self.requests <= MAX_REQUESTS:
            raise ValidationError(f"requests must be 1-{MAX_REQUESTS}", {"requests": self.requests})
        if self.max_seconds <= 0 or self.timeout_s <= 0 or self.max_tokens < 1:
            raise ValidationError("max_seconds and timeout_s must be positive, max_tokens at least 1", {})
        return self

    def public(self) -> dict[str, Any]:
        """The spec without the key (what is stored)."""
        return {k: v for k, v in asdict(self).items() if k != "api_key"}


@dataclass
class RequestRecord:
    started: float  # wall clock (time.time()) when the request was sent
    latency_s: float | None = None
    status: int | None = None  # HTTP status; None when no answer came (timeout, connection refused)
    error: str | None = None
    ttft_s: float | None = None
    token_times: list[float] = field(default_factory=list)  # seconds after start of each streamed token
    output_tokens: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None


def _endpoint(spec: LoadTestSpec) -> tuple[str, dict[str, Any]]:
    base = spec.url.rstrip("/")
    if spec.modality == "text":
        return f"{base}/v1/chat/completions", {
            "model": spec.model,
            "stream": True,
            "max_tokens": spec.max_tokens,
            "messages": [{"role": "user", "content": spec.prompt}],
        }
    if spec.modality == "image":
        return f"{base}/v1/images/generations", {"model": spec.model, "prompt": spec.prompt, "n": 1}
    if spec.modality == "speech":
        return f"{base}/v1/audio/speech", {"model": spec.model, "input": spec.prompt}
    return f"{base}/api/v1/inference/video-generation", {"model": spec.model, "prompt": spec.prompt}


async def _one(client, url: str, body: dict[str, Any], modality: str) -> RequestRecord:
    import httpx

    record = RequestRecord(started=time.time())
    start = time.perf_counter()
    try:
        if modality == "text":
            async with client.stream("POST", url, json=body) as response:
                record.status = response.status_code
                if response.status_code != 200:
                    await response.aread()
                    record.error = f"HTTP {response.status_code}"
                else:
                    await _read_stream(response, record, start)
        else:
            response = await client.post(url, json=body)
            record.status = response.status_code
            if response.status_code != 200:
                record.error = f"HTTP {response.status_code}"
    except (httpx.HTTPError, OSError) as exc:
        record.error = f"{type(exc).__name__}: {exc}"[:300]
    record.latency_s = time.perf_counter() - start
    return record


async def _read_stream(response, record: RequestRecord, start: float) -> None:
    """Server-sent events of a chat completion: one timestamp per content chunk; an error event is an error."""
    usage = None
    async for line in response.aiter_lines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        event = json.loads(line[6:])
        if "error" in event:
            record.error = str(event["error"].get("message", event["error"]))[:300]
            return
        usage = event.get("usage") or usage
        for choice in event.get("choices", []):
            if (choice.get("delta") or {}).get("content"):
                record.token_times.append(time.perf_counter() - start)
    if record.token_times:
        record.ttft_s = record.token_times[0]
    record.output_tokens = (usage or {}).get("completion_tokens") or len(record.token_times)


async def _level(spec: LoadTestSpec, concurrency: int) -> tuple[list[RequestRecord], float]:
    """Run one concurrency level; returns its records and its wall time (first send to last answer)."""
    import httpx

    url, body = _endpoint(spec)
    headers = {"Authorization": f"Bearer {spec.api_key}"} if spec.api_key else {}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=spec.timeout_s, headers=headers, limits=limits) as client:
        await asyncio.gather(*[_one(client, url, body, spec.modality) for _ in range(spec.warmup_requests)])
        records: list[RequestRecord] = []
        sent = 0
        started = time.perf_counter()
        deadline = started + spec.max_seconds

        async def user() -> None:
            nonlocal sent
            while sent < spec.requests and time.perf_counter() < deadline:
                sent += 1
                records.append(await _one(client, url, body, spec.modality))

        await asyncio.gather(*[user() for _ in range(concurrency)])
        return records, time.perf_counter() - started


def _percentiles(values: list[float], resamples: int = 1000) -> dict[str, Any]:
    if not values:
        return {"n": 0, "reason": "no completed request measured this"}
    p50, p90, p99 = np.percentile(values, [50, 90, 99])
    interval = mean_interval(values, resamples=resamples)
    return {
        "n": len(values),
        "mean": interval.mean,
        "ci_low": interval.low,
        "ci_high": interval.high,
        "ci_method": interval.method,
        "p50": float(p50),
        "p90": float(p90),
        "p99": float(p99),
    }


def summarize(records: list[RequestRecord], wall_s: float, concurrency: int, modality: str) -> dict[str, Any]:
    ok = [r for r in records if r.ok]
    out: dict[str, Any] = {
        "concurrency": concurrency,
        "requests": len(records),
        "completed": len(ok),
        "errors": len(records) - len(ok),
        "status_429": sum(r.status == 429 for r in records),
        "status_503": sum(r.status == 503 for r in records),
        "wall_s": wall_s,
        "request_throughput": len(ok) / wall_s if wall_s > 0 else None,
        "latency_s": _percentiles([r.latency_s for r in ok if r.latency_s is not None]),  # _one always sets it
        "error_examples": sorted({r.error for r in records if r.error})[:3],
    }
    if modality == "text":
        tokens = sum(r.output_tokens or 0 for r in ok)
        out["ttft_s"] = _percentiles([r.ttft_s for r in ok if r.ttft_s is not None])
        out["itl_s"] = _percentiles([float(g) for r in ok for g in np.diff(r.token_times)])
        out["output_tokens"] = tokens
        out["output_tokens_per_s"] = tokens / wall_s if wall_s > 0 else None
    return out


def run_load_test(spec: LoadTestSpec, on_level=None) -> dict[str, Any]:
    """Every concurrency level in turn; the result (levels, spec, provenance) as one JSON-ready dict."""
    from app.bench.provenance import package_versions

    spec.check()
    levels, raw = [], {}
    started = time.time()
    for concurrency in spec.concurrency:
        records, wall = asyncio.run(_level(spec, concurrency))
        summary = summarize(records, wall, concurrency, spec.modality)
        levels.append(summary)
        raw[str(concurrency)] = [asdict(r) for r in records]
        if on_level is not None:
            on_level(summary)
    public = spec.public()
    return {
        "id": f"load_{uuid.uuid4().hex[:8]}",
        "kind": "loadtest",
        "spec": public,
        "levels": levels,
        "requests": raw,
        "created_at": started,
        "provenance": {
            "packages": package_versions(),
            "spec_hash": hashlib.sha256(json.dumps(public, sort_keys=True).encode()).hexdigest(),
            "client": "httpx",
            "token_counting": "usage.completion_tokens when the server reports it, else content chunks of the stream",
        },
    }


def plot(result: dict[str, Any], path) -> None:
    """Throughput against median latency, one point per concurrency (labelled), saved as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [
        (lv["latency_s"].get("p50"), lv["request_throughput"], lv["concurrency"])
        for lv in result["levels"]
        if lv["latency_s"].get("p50") is not None
    ]
    fig, ax = plt.subplots(figsize=(6, 4))
    if points:
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o")
        for latency, throughput, concurrency in points:
            ax.annotate(f"c={concurrency}", (latency, throughput), textcoords="offset points", xytext=(4, 4))
    ax.set_xlabel("p50 latency (s)")
    ax.set_ylabel("requests / s")
    ax.set_title(f"{result['spec']['model']} ({result['spec']['modality']}): throughput vs latency")
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
