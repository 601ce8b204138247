"""`vid-bench config`: persistent settings in <data_dir>/config.toml, under the VDB_* environment variables."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from app.i18n import Message, localize
from cli.common import _, app_errors_exit_2, console, emit_json, err_console

app = typer.Typer(
    help="Persistent settings (config.toml in the data directory); VDB_* variables override them.", no_args_is_help=True
)

SOURCES = {"default": Message("default"), "file": Message("file"), "env": Message("environment")}


@app.command("set")
@app_errors_exit_2
def config_set(
    key: Annotated[
        str,
        typer.Argument(
            help="A setting, e.g. optimization_level, default_locale, "
            "gpu_memory_fraction, or any VDB_* setting in lower case."
        ),
    ],
    value: Annotated[str, typer.Argument(help="Its value; lists and objects as JSON.")],
):
    """Store a setting in the configuration file (validated first; the file is left unchanged on error)."""
    from app.config import config_file_path
    from app.user_config import env_name, env_value, set_value

    stored = set_value(key, value)
    console.print(
        _("{key} = {value} (saved in {path})", key=key, value=json.dumps(stored), path=config_file_path()),
        soft_wrap=True,
    )
    if env_value(key) is not None:
        err_console.print(_("Note: {env} is set in the environment and overrides the file", env=env_name(key)))


@app.command("show")
@app_errors_exit_2
def config_show(
    key: Annotated[str | None, typer.Argument(help="Show only this setting.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
):
    """Every setting's effective value and where it comes from: default, file or environment."""
    from app.config import config_file_path
    from app.user_config import check_key, show

    if key is not None:
        check_key(key)
    rows = [row for row in show() if key is None or row["key"] == key]
    if as_json:
        emit_json({"file": str(config_file_path()), "settings": rows})
        return
    table = Table(title=_("Settings (file: {path})", path=config_file_path()))
    for column in (_("setting"), _("value"), _("source")):
        table.add_column(column)
    for row in rows:
        table.add_row(row["key"], json.dumps(row["value"]), localize(SOURCES[row["source"]])[0])
    console.print(table)


@app.command("reset")
@app_errors_exit_2
def config_reset(key: Annotated[str | None, typer.Argument(help="Reset only this setting.")] = None):
    """Remove the configuration file (or one setting from it): defaults and VDB_* variables apply again."""
    from app.user_config import reset

    removed = reset(key)
    if removed:
        console.print(_("Reset to defaults: {keys}", keys=", ".join(removed)))
    else:
        console.print(_("Nothing to reset: the configuration file sets nothing here"))
