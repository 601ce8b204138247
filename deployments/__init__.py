"""Ray Serve deployments over app.engines (the gateway).

Not built yet: tracked by the gateway issue. Nothing here is imported by the
benchmark path.
"""
