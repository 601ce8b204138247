"""Ray Serve deployments over app.engines (the gateway): build_app in app.py, the ingress, one class per modality.

Nothing here is imported by the benchmark path.
"""
