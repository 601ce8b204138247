"""What every command group shares: consoles, the typed-error decorator, JSON output, option aliases, helpers.

Nothing heavy is imported here, so `vid-bench --help` starts fast.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from app.errors import VidBenchError
from app.i18n import Message, format_number, localize, translate

console = Console()
err_console = Console(stderr=True)

Command = TypeVar("Command", bound=Callable[..., Any])

UrlOption = Annotated[
    str | None, typer.Option("--url", envvar="VDB_URL", help="A gateway to manage instead of the local data directory.")
]
ApiKeyOption = Annotated[
    str | None, typer.Option("--api-key", envvar="VDB_API_KEY", help="Admin key for --url (default: VDB_API_KEY).")
]


def _(msgid: str, **params: Any) -> str:
    """A CLI string in the user's locale (the default_locale setting, `vid-bench locale set`)."""
    return translate(msgid, **params)


def app_errors_exit_2(command: Command) -> Command:
    """Typed app errors print as one line `error: CODE: message` and exit 2; any other exception propagates."""

    @functools.wraps(command)
    def run(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except VidBenchError as error:
            line = " ".join(f"{error.code}: {localize(error.message)[0]}".splitlines())
            prefix = _("error:")
            err_console.print(f"[red]{escape(prefix)}[/red] {escape(line)}", soft_wrap=True)
            raise typer.Exit(2) from None

    return run  # type: ignore[return-value]


def emit_json(data: Any, path: Path | None = None) -> None:
    """JSON (indented) to stdout, or to ``path`` with its parent directories created."""
    text = json.dumps(data, indent=2, default=str)
    if path is None:
        print(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fmt(value: Any, digits: int = 4) -> str:
    """A figure for a table: numbers in the locale's notation (Babel), ``digits`` significant digits."""
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value, digits=digits)
    return str(value)


def collect_prompts(prompts: list[str] | None, prompts_file: Path | None, prompt_set: str | None) -> list[str]:
    """Prompts from --prompts, --prompts-file and --prompt-set together; none at all is an error."""
    from app.bench.prompts import StandardPrompts, read_prompt_file
    from app.errors import ValidationError

    collected = list(prompts or [])
    if prompts_file:
        collected += read_prompt_file(prompts_file)
    if prompt_set:
        try:
            collected += getattr(StandardPrompts, prompt_set.upper())
        except AttributeError:
            raise ValidationError(
                Message("Unknown prompt set '{name}'", name=prompt_set), {"available": StandardPrompts.available()}
            ) from None
    if not collected:
        raise ValidationError(Message("Give prompts with --prompts, --prompts-file or --prompt-set"), {})
    return collected


@contextmanager
def progress_printer(label: str) -> Iterator[Callable[[dict], None]]:
    """Yields the on_progress callback for suite events; the progress display on stderr starts at the first event,
    so input refused before any work stays one error line."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def on_progress(event: dict) -> None:
        progress.start()  # no-op once started
        key = event["benchmark_id"]
        if key not in tasks:
            tasks[key] = progress.add_task(f"{label} {event['model_name']}", total=event["total"])
        progress.update(tasks[key], completed=event["completed"])
        if event["type"] == "benchmark_error":
            failed = _("{model} failed:", model=event["model_name"])
            err_console.print(f"[red]{escape(failed)}[/red] {escape(str(event.get('error')))}")

    try:
        yield on_progress
    finally:
        if progress.live.is_started:
            progress.stop()
