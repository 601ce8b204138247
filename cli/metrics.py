"""`vid-bench metrics`: quality metrics and the evaluator weights they need."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cli.common import _, app_errors_exit_2, console, emit_json

app = typer.Typer(help="Quality metrics and their evaluator weights.", no_args_is_help=True)


@app.command("list")
@app_errors_exit_2
def metrics_list(as_json: Annotated[bool, typer.Option("--json")] = False):
    """Every metric with its direction and whether its evaluator weights are installed."""
    from app.config import get_settings
    from app.metrics.registry import METRICS
    from app.metrics.weights import status

    weights_dir = get_settings().resolved_weights_dir
    rows = []
    for spec in METRICS.values():
        available, reason = (True, None) if spec.evaluator is None else status(spec.evaluator, weights_dir)
        rows.append({**spec.to_dict(), "available": available, "missing": reason})
    if as_json:
        emit_json(rows)
        return
    table = Table(title=_("Metrics (weights directory: {path})", path=weights_dir))
    for column in [_("name"), _("better"), _("level"), _("evaluator"), _("status")]:
        table.add_column(column)
    for r in rows:
        better = {True: _("higher"), False: _("lower"), None: _("descriptive")}[r["higher_is_better"]]
        table.add_row(
            r["name"],
            better,
            r["level"],
            r["evaluator"] or "-",
            _("available") if r["available"] else _("unavailable: {reason}", reason=r["missing"]),
        )
    console.print(table)


@app.command("fetch")
@app_errors_exit_2
def metrics_fetch(
    evaluator: Annotated[str, typer.Argument(help="i3d | inception | clip")],
    source: Annotated[Path | None, typer.Option("--from", help="Install from a local file or directory.")] = None,
    sha256: Annotated[str | None, typer.Option(help="Expected sha256; refuse anything else.")] = None,
):
    """Install evaluator weights: download from the public source, or copy --from a local path."""
    from app.config import get_settings
    from app.errors import WeightsError
    from app.metrics.weights import EVALUATORS, download, install

    weights_dir = get_settings().resolved_weights_dir
    if evaluator not in EVALUATORS:
        raise WeightsError(f"Unknown evaluator '{evaluator}'", {"known": sorted(EVALUATORS)})
    if source:
        entry = install(evaluator, source, weights_dir, sha256)
    else:
        try:
            entry = download(evaluator, weights_dir, sha256)
        except WeightsError:
            raise
        except Exception as exc:  # no network, HTTP error: say so and how to install offline
            raise WeightsError(
                f"Download of {evaluator} failed ({type(exc).__name__}: {exc}); on a machine "
                f"without network, copy the file here with --from PATH",
                {},
            ) from exc
    console.print(
        _(
            "installed {evaluator} in {path} sha256={sha256}",
            evaluator=evaluator,
            path=weights_dir / EVALUATORS[evaluator].path,
            sha256=entry["sha256"],
        )
    )
