"""`vid-bench`: the command line. Thin: parse, call app, print. One module per command group.

Errors of the app print as one line `error: CODE: message` and exit 2 (cli.common.app_errors_exit_2).
"""

from __future__ import annotations

import os
import sys

import typer

from cli import (
    analytics,
    auth,
    bench,
    distributed,
    federated,
    loadtest,
    locales,
    metrics,
    models,
    monitor,
    serve,
    streaming,
    tuning,
)
from cli import config as config_cmd

app = typer.Typer(
    help="Benchmark (and serve) video generation models on Ray.", no_args_is_help=True, pretty_exceptions_enable=False
)
app.add_typer(bench.app)
app.add_typer(tuning.app)
app.add_typer(serve.app)
app.add_typer(models.app, name="models")
app.add_typer(metrics.app, name="metrics")
app.add_typer(auth.app, name="auth")
app.add_typer(distributed.app, name="distributed")
app.add_typer(config_cmd.app, name="config")
app.add_typer(locales.app, name="locale")
app.add_typer(analytics.app, name="analytics")
app.add_typer(monitor.app, name="monitor")
app.add_typer(federated.app, name="federated")
app.add_typer(streaming.app, name="streaming")
app.add_typer(loadtest.app)  # vid-bench loadtest (issue 17)

MULTI_VALUE_OPTIONS = {
    "--prompts",
    "-p",
    "--metrics",
    "--objective",
    "--optimization-levels",
    "--steps",
    "--frames",
    "--scheduler",
    "--models",
    "--participants",
    "--concurrency",
}


def expand_multi_value_options(argv: list[str]) -> list[str]:
    """Accept the reference's `--prompts "A" "B"` form: values up to the next option repeat the option."""
    out: list[str] = []
    current: str | None = None
    for token in argv:
        if token.startswith("-"):
            current = token if token in MULTI_VALUE_OPTIONS else None
            out.append(token)
        elif current is not None and out[-1] != current:
            out.extend([current, token])
        else:
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app(args=expand_multi_value_options(list(sys.argv[1:] if argv is None else argv)), prog_name="vid-bench")


if __name__ == "__main__":
    main()
