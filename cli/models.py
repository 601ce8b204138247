"""`vid-bench models`: the model catalog, and a health check that loads a model and generates once."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.common import app_errors_exit_2, console, emit_json, fmt

app = typer.Typer(help="The model catalog.", no_args_is_help=True)


@app.command("list")
@app_errors_exit_2
def models_list(modality: Annotated[str | None, typer.Option(help="video | image | text | speech")] = None,
                as_json: Annotated[bool, typer.Option("--json")] = False):
    """List catalog models."""
    from app.catalog import get_catalog

    specs = get_catalog().list(modality)
    if as_json:
        emit_json([s.public_dict() for s in specs])
        return
    table = Table(title="Models")
    for column in ["name", "task", "source", "VRAM GB", "precision", "max frames", "resolutions"]:
        table.add_column(column)
    for s in specs:
        table.add_row(s.name, s.task, s.source.kind, fmt(s.requirements.vram_gb), s.requirements.precision,
                      fmt(s.max_frames), ", ".join(s.resolutions))
    console.print(table)


@app.command("info")
@app_errors_exit_2
def models_info(model: str):
    """Everything the catalog knows about one model (JSON)."""
    from app.catalog import get_catalog

    emit_json(get_catalog().get(model).public_dict())


@app.command("health-check")
@app_errors_exit_2
def models_health_check(model: str, device: Annotated[str, typer.Option()] = "auto"):
    """Load the model (any modality) and time one real generation with its smallest settings (JSON)."""
    from app.catalog import get_catalog
    from app.engines.health import health_check

    emit_json(health_check(get_catalog().get(model), device))
