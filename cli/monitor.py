"""`vid-bench monitor dashboard`: the monitoring dashboard, served by the gateway at /dashboard."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from cli.common import _, app_errors_exit_2

app = typer.Typer(help="Monitoring: the live dashboard of benchmarks, models and the cluster.", no_args_is_help=True)


def parse_duration(text: str) -> float:
    """'5s', '500ms', '1m' or a number of seconds."""
    from app.errors import ValidationError
    from app.i18n import Message

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*", text)
    if not match:
        raise ValidationError(
            Message("Refresh rate '{value}' is not a duration like 5s, 500ms or 1m", value=text), {"value": text}
        )
    value = float(match.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}[match.group(2)]
    if not 0.5 <= value <= 3600:
        raise ValidationError(Message("Refresh rate must be between 0.5s and 1h"), {"value": text})
    return value


@app.command()
@app_errors_exit_2
def dashboard(
    port: Annotated[int, typer.Option(help="Port of the gateway that serves the dashboard.", min=1, max=65535)] = 3000,
    host: Annotated[str, typer.Option(help="Host to listen on.")] = "127.0.0.1",
    refresh_rate: Annotated[str, typer.Option(help="How often tables refresh, e.g. 5s (progress is live).")] = "5s",
    url: Annotated[
        str | None, typer.Option(help="A running gateway: print its dashboard URL instead of starting one.")
    ] = None,
):
    """Serve the dashboard: start the gateway (tiny models by default, like `vid-bench serve`) on --port and print
    the dashboard's address; sign in there with an API key or a username and password."""
    refresh = parse_duration(refresh_rate)
    if url:
        import httpx

        from app.errors import ServiceUnavailableError
        from app.i18n import Message

        try:
            httpx.get(f"{url.rstrip('/')}/health", timeout=10).raise_for_status()
        except httpx.HTTPError as error:
            raise ServiceUnavailableError(
                Message("No healthy gateway at {url}: {error}", url=url, error=str(error)), {"url": url}
            ) from None
        print(_("dashboard: {address}", address=f"{url.rstrip('/')}/dashboard?refresh={refresh:g}"), flush=True)
        return
    from cli.serve import DEFAULT_CONFIG
    from cli.serve import serve as start_gateway

    print(
        _(
            "dashboard: {address}  (sign in with the admin key below)",
            address=f"http://{host}:{port}/dashboard?refresh={refresh:g}",
        ),
        flush=True,
    )
    start_gateway(config=DEFAULT_CONFIG, host=host, port=port, detach=False)
