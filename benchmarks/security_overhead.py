"""What authentication and rate limiting cost per request, measured side by side in one run.

The gateway's FastAPI app runs in-process (Starlette's TestClient, no network, no Ray), so
the only differences between the variants are the security steps:
  open          GET /health: no credential, no counting (the floor: routing + middleware);
  key+memory    GET /api/v1/auth/me with an API key: HMAC lookup in SQLite, scope check,
                tier counters and a concurrency slot in memory (one ingress replica);
  key+redis     the same with the counters in the machine's Redis (several replicas);
  jwt+memory    the same with a login token instead of a key (signature + user lookup).
Rounds interleave the variants so drift on a shared machine hits them alike; the median
per-request time and its ratio to `open` are printed.

    python benchmarks/security_overhead.py [--requests 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redis", default="redis://localhost:6379")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    os.environ["VDB_DATA_DIR"] = tempfile.mkdtemp(prefix="vdb-secbench-")

    from fastapi.testclient import TestClient

    from app.api import make_app
    from app.api.state import ApiState, install_state
    from app.config import Settings, TierLimits
    from app.security.ratelimit import RateLimiter

    roomy = {t: TierLimits(per_minute=10**7, per_hour=10**8, concurrent=1000) for t in ("free", "pro", "enterprise")}
    settings = Settings(rate_limit_tiers=roomy)

    class NoModels:  # the routes measured never reach a model
        def models(self):
            return []

    state = ApiState.create(settings, NoModels())
    install_state(state)
    limiters = {
        "memory": state.limiter,
        "redis": RateLimiter(Settings(rate_limit_tiers=roomy, rate_limit_storage=args.redis)),
    }
    _, key = state.auth.keys.create("bench", ["models.read"], tier="pro")
    user = state.auth.users.create("bench@example.com", "a long enough password", ["models.read"], "pro")
    token, _, _ = state.auth.users.issue_token(user)
    client = TestClient(make_app())

    variants = {
        "open": ("memory", "/health", {}),
        "key+memory": ("memory", "/api/v1/auth/me", {"X-API-Key": key}),
        "key+redis": ("redis", "/api/v1/auth/me", {"X-API-Key": key}),
        "jwt+memory": ("memory", "/api/v1/auth/me", {"Authorization": f"Bearer {token}"}),
    }
    per_request: dict[str, list[float]] = {name: [] for name in variants}
    for name, (storage, path, headers) in variants.items():  # warm-up, and every variant must succeed
        state.limiter = limiters[storage]
        assert client.get(path, headers=headers).status_code == 200, name
    for _ in range(args.rounds):
        for name, (storage, path, headers) in variants.items():
            state.limiter = limiters[storage]
            start = time.perf_counter()
            for _ in range(args.requests):
                response = client.get(path, headers=headers)
            elapsed = time.perf_counter() - start
            assert response.status_code == 200
            per_request[name].append(elapsed / args.requests * 1000)
    floor = statistics.median(per_request["open"])
    print(f"{'variant':<12} {'median ms/request':>18} {'x open':>8} {'added ms':>9}")
    for name, times in per_request.items():
        median = statistics.median(times)
        print(f"{name:<12} {median:>18.2f} {median / floor:>8.2f} {median - floor:>9.2f}")
    if args.json:
        figures = {
            name: {"median_ms": statistics.median(t), "x_open": statistics.median(t) / floor}
            for name, t in per_request.items()
        }
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
