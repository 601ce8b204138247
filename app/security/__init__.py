"""Who may call the gateway and how much: API keys, users and JWTs, scopes, rate limits, input limits.

The API reaches this package through ``app.api.deps`` (one dependency per route
declares the scope it needs and the endpoint group it is counted in) and the
ASGI middleware in :mod:`app.api.middleware`.
"""
