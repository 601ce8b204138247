"""`vid-bench serve`: Ray Serve with the gateway, from a serve config file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import _, app_errors_exit_2

app = typer.Typer()

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "deployments" / "serve.yaml"


@app.command()
@app_errors_exit_2
def serve(
    config: Annotated[
        Path, typer.Option(help="Serve config file (applications with deployments.app:build_app).")
    ] = DEFAULT_CONFIG,
    host: Annotated[str | None, typer.Option(help="Override the config's HTTP host.")] = None,
    port: Annotated[int | None, typer.Option(help="Override the config's HTTP port.")] = None,
    detach: Annotated[
        bool,
        typer.Option("--detach", help="Deploy onto the existing cluster (VDB_RAY_ADDRESS / RAY_ADDRESS) and return."),
    ] = False,
):
    """Start Ray and Ray Serve with the gateway (default: tiny models on CPU at 127.0.0.1:8080).

    Without a cluster address it starts a local Ray with its dashboard and job server, so
    `ray job submit` works against it; with one it deploys there.
    """
    import threading

    import yaml

    from app.errors import ValidationError

    if not config.is_file():
        raise ValidationError(f"Serve config {config} does not exist", {"path": str(config)})
    data = yaml.safe_load(config.read_text())
    http = {**data.get("http_options", {}), **({"host": host} if host else {}), **({"port": port} if port else {})}
    from ray import serve as ray_serve

    from app.bench.cluster import cluster_address, ensure_ray
    from app.config import get_settings

    settings = get_settings()
    joined = cluster_address(settings)
    if detach and not joined:
        raise ValidationError(
            "--detach deploys onto an existing cluster: set VDB_RAY_ADDRESS (or RAY_ADDRESS); "
            "a Ray started by this command stops with it",
            {"option": "--detach"},
        )
    from app.security.bootstrap import ensure_admin_key
    from deployments.app import build_app

    key_file, created = ensure_admin_key(settings)
    ensure_ray(settings, dashboard=True)
    # Built (and so checked against the cluster: node-local SQLite on several nodes is refused) before Serve starts:
    # a refused gateway leaves nothing running.
    applications = [(build_app(a.get("args", {})), a) for a in data["applications"]]
    ray_serve.start(http_options=http)
    _refuse_other_http_options(http)
    for built, application in applications:
        ray_serve.run(built, name=application["name"], route_prefix=application.get("route_prefix", "/"))
    url = f"http://{http.get('host', '127.0.0.1')}:{http.get('port', 8000)}"
    print(
        _(
            "vid-bench gateway at {url}  (API {api}, docs {docs}); Ctrl-C stops it",
            url=url,
            api=f"{url}/api/v1",
            docs=f"{url}/docs",
        ),
        flush=True,
    )
    key_line = (
        _("admin API key created in {path} (readable by you only)", path=key_file)
        if created
        else _("admin API key in {path} (readable by you only)", path=key_file)
    )
    print(
        key_line
        + "; "
        + _(
            "send it as {header} or run: {command}",
            header="'X-API-Key: <key>'",
            command=f"export VDB_API_KEY=$(cat {key_file})",
        ),
        flush=True,
    )
    if not joined:
        from ray._private.worker import get_dashboard_url

        print(
            _(
                "Ray jobs (token in ~/.ray/auth_token): {command}",
                command=f"RAY_AUTH_MODE=token ray job submit --address http://{get_dashboard_url()} -- "
                "vid-bench benchmark ...",
            ),
            flush=True,
        )
    if detach:
        return
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        ray_serve.shutdown()


def _refuse_other_http_options(asked: dict) -> None:
    """Serve keeps the HTTP options it was first started with on a cluster (it only logs that new ones are
    ignored): a gateway asked for on another host or port would not be where this command says it is."""
    from ray.serve.context import _get_global_client  # Serve's own record of the running proxy's options

    from app.errors import ClusterConfigurationError

    running = _get_global_client().http_config
    differ = {key: (value, getattr(running, key)) for key, value in asked.items() if getattr(running, key) != value}
    if differ:
        raise ClusterConfigurationError(
            f"Ray Serve already runs on this cluster at {running.host}:{running.port}, and its HTTP options cannot "
            "change while it runs: serve on that address (--host/--port), or shut Serve down first (serve shutdown)",
            {name: {"asked": a, "running": r} for name, (a, r) in differ.items()},
        )
