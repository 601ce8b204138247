"""`vid-bench models`: the model catalog, and a health check that loads a model and generates once."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer
from rich.markup import escape
from rich.table import Table

from cli.common import _, app_errors_exit_2, console, emit_json, err_console, fmt

if TYPE_CHECKING:
    from app.catalog.downloads import Source as DownloadSource

app = typer.Typer(help="The model catalog.", no_args_is_help=True)


@app.command("list")
@app_errors_exit_2
def models_list(
    modality: Annotated[str | None, typer.Option(help="video | image | text | speech")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
):
    """List catalog models."""
    from app.catalog import get_catalog

    specs = get_catalog().list(modality)
    if as_json:
        emit_json([s.public_dict() for s in specs])
        return
    table = Table(title=_("Models"))
    for column in [
        _("name"),
        _("task"),
        _("source"),
        _("VRAM GB"),
        _("precision"),
        _("max frames"),
        _("resolutions"),
        _("aliases"),
    ]:
        table.add_column(column)
    for s in specs:
        table.add_row(
            s.name,
            s.task,
            s.source.kind,
            fmt(s.requirements.vram_gb),
            s.requirements.precision,
            fmt(s.max_frames),
            ", ".join(s.resolutions),
            ", ".join(s.aliases),
        )
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


@app.command("download")
@app_errors_exit_2
def models_download(
    model: Annotated[str, typer.Argument(help="A catalog name or alias (its own checkpoint), or a new name.")],
    cache_dir: Annotated[
        Path | None, typer.Option(help="Directory the checkpoint goes to (default: the models directory).")
    ] = None,
    source: Annotated[str, typer.Option(help="huggingface | local | http")] = "huggingface",
    location: Annotated[
        str | None, typer.Option(help="Hub repo id, local path or URL (default: the catalog model's repo, or NAME).")
    ] = None,
):
    """Download a model with a progress bar, then register it so it is usable by name."""
    import time

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    from app.catalog.downloads import DownloadManager
    from app.catalog.spec import registered_dir
    from app.config import get_settings
    from app.errors import DownloadFailedError, ValidationError
    from app.i18n import Message
    from app.storage.database import get_database
    from app.storage.downloads import DownloadRepository

    if source not in ("huggingface", "local", "http"):
        raise ValidationError(
            Message("Unknown source '{source}'", source=source), {"allowed": ["huggingface", "local", "http"]}
        )
    settings = get_settings()
    settings.ensure_dirs()
    manager = DownloadManager(
        DownloadRepository(get_database(settings.resolved_database_url)),
        cache_dir or settings.resolved_models_dir,
        local_roots=[Path("/")],
        catalog_dir=registered_dir(settings.resolved_models_dir),
    )  # your own files: any path
    row = manager.start(model, cast("DownloadSource", source), location)  # one of them: checked above
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console) as progress:
        task = progress.add_task(f"{row.model_name}", total=row.total_bytes)
        while row.status not in ("completed", "failed"):
            time.sleep(0.2)
            row = manager.get(row.id)
            progress.update(task, completed=row.downloaded_bytes, total=row.total_bytes)
    if row.status == "failed":
        raise DownloadFailedError(
            Message("download of {model} failed: {error}", model=row.model_name, error=str(row.error)),
            {"download_id": row.id},
        )
    console.print(escape(_("Downloaded {model} to {target}", model=row.model_name, target=row.target)))
    if row.registered_as:
        console.print(escape(_("Registered as '{name}': `vid-bench models info {name}`", name=row.registered_as)))
    else:
        console.print(escape(_("Not registered: {reason}", reason=row.assignment)))
