"""Federated benchmarking with differential privacy: sessions across organisations (docs/federated.md).

spec (the session and its grid), privacy (OpenDP releases and the budget split), signing (keys, signed
reports), coordinator (phases, reports, the aggregate), aggregate (the weighted figures), participant (runs
tasks through app.bench's runner and releases them), simulation (participants as Ray actors).
"""
