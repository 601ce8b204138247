"""`vid-bench locale`: the language of the CLI, of translate() and of API errors (the default_locale setting)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from cli.common import _, app_errors_exit_2, console, emit_json

app = typer.Typer(help="Language and number/date formats (en, es, fr, de, ja, zh-CN).", no_args_is_help=True)


def info_label(field: str) -> str:
    labels = {
        "code": _("code"),
        "name": _("name"),
        "english_name": _("English name"),
        "decimal_symbol": _("decimal symbol"),
        "group_symbol": _("group symbol"),
        "number_example": _("number"),
        "percent_example": _("percent"),
        "date_format": _("date format"),
        "date_example": _("date"),
        "datetime_example": _("date and time"),
        "first_weekday": _("first day of the week"),
    }
    return labels[field]


@app.command("set")
@app_errors_exit_2
def locale_set(code: Annotated[str, typer.Argument(help="en | es | fr | de | ja | zh-CN")]):
    """Make a locale the default (stored as default_locale in the configuration file)."""
    from app.i18n import use_locale
    from app.user_config import env_name, env_value, set_value

    stored = set_value("default_locale", code)  # refuses an unknown locale with the supported ones
    with use_locale(stored):  # confirm in the new language
        console.print(_("Locale set to {code}", code=stored))
        if env_value("default_locale") is not None:
            console.print(
                _("Note: {env} is set in the environment and overrides the file", env=env_name("default_locale"))
            )


@app.command("list")
@app_errors_exit_2
def locale_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False):
    """The locales with a catalog; the current one is marked."""
    from vid_diffusion_bench.internationalization import SUPPORTED_LOCALES as LOCALES
    from vid_diffusion_bench.internationalization import get_locale, locale_info

    current = get_locale()
    rows = [
        {
            **{k: v for k, v in locale_info(code).items() if k in ("code", "name", "english_name")},
            "current": code == current,
        }
        for code in LOCALES
    ]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=_("Supported locales"))
    for column in (_("code"), _("name"), _("English name"), _("current")):
        table.add_column(column)
    for row in rows:
        table.add_row(row["code"], row["name"], row["english_name"], "*" if row["current"] else "")
    console.print(table)


@app.command("info")
@app_errors_exit_2
def locale_info_command(
    code: Annotated[str | None, typer.Argument(help="A locale (default: the current one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
):
    """A locale's name and how it writes numbers and dates (from Babel's CLDR data)."""
    from vid_diffusion_bench.internationalization import locale_info

    info = locale_info(code)
    if as_json:
        emit_json(info)
        return
    table = Table(title=_("Locale {code}", code=info["code"]))
    table.add_column(_("property"))
    table.add_column(_("value"))
    for field, value in info.items():
        table.add_row(info_label(field), str(value))
    console.print(table)
