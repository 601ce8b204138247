"""Message catalogs (gettext, built with Babel) and locale-aware formatting.

Message ids are the English text with ``{name}`` placeholders (the SDK's reference keys such as
``benchmark.model_evaluation`` are ids too). Catalogs live in ``locales/<ll[_CC]>/LC_MESSAGES/vid_bench.po``
and are compiled to ``.mo`` beside them (README "Languages" says how to extract, update and compile).

The locale in force is, first to last: the one bound to the current context (a request's Accept-Language,
:func:`use_locale`), the one this process chose (:func:`set_locale`), the ``default_locale`` setting.
"""

from __future__ import annotations

import gettext
import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from app.config import LOCALES, get_settings, normalize_locale

DOMAIN = "vid_bench"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"

_context_locale: ContextVar[str | None] = ContextVar("vdb_locale", default=None)
_process_locale: str | None = None


class UnknownLocaleError(ValueError):
    """A locale with no catalog; the surfaces turn it into their typed error."""

    def __init__(self, code: str):
        super().__init__(f"Unknown locale '{code}'; supported: {', '.join(LOCALES)}")
        self.code = code


class Message(str):
    """English text that keeps its message id and parameters, so whoever shows it can translate it.

    It is a ``str`` (the English text), so code that logs or compares messages is unchanged; an error raised
    with one is shown in the reader's language by the CLI and the API.
    """

    msgid: str
    params: dict[str, Any]

    def __new__(cls, msgid: str, /, **params: Any) -> Message:
        text = super().__new__(cls, msgid.format(**params) if params else msgid)
        text.msgid, text.params = msgid, params
        return text

    def __reduce__(self):  # across Ray workers with its id intact
        return (_rebuild_message, (self.msgid, self.params))


def _rebuild_message(msgid: str, params: dict[str, Any]) -> Message:
    return Message(msgid, **params)


def check_locale(code: str) -> str:
    """The catalog spelling of ``code`` ('zh_CN' -> 'zh-CN'); UnknownLocaleError when there is no catalog."""
    normalized = normalize_locale(code)
    if normalized not in LOCALES:
        raise UnknownLocaleError(code)
    return normalized


def catalog_dir_name(code: str) -> str:
    return check_locale(code).replace("-", "_")


def babel_locale(code: str | None = None):
    from babel import Locale

    return Locale.parse(catalog_dir_name(code or get_locale()))


@cache
def catalog(code: str) -> gettext.GNUTranslations:
    """The compiled catalog of a locale; a missing .mo is an error (the package ships them), never English."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[catalog_dir_name(code)])


def set_locale(code: str) -> str:
    """Choose this process's locale (the SDK's and the CLI's); returns its catalog spelling."""
    global _process_locale
    _process_locale = check_locale(code)
    return _process_locale


def get_locale() -> str:
    return _context_locale.get() or _process_locale or get_settings().default_locale


@contextmanager
def use_locale(code: str) -> Iterator[str]:
    """Bind a locale to the current context (one request) and restore the previous one after."""
    locale = check_locale(code)
    token = _context_locale.set(locale)
    try:
        yield locale
    finally:
        _context_locale.reset(token)


def translate(msgid: str, locale: str | None = None, **params: Any) -> str:
    """The message in ``locale`` (default: the one in force), placeholders filled from ``params``.

    An id no catalog holds comes back as given, as gettext does; the test suite keeps every id of the code base
    translated in every locale.
    """
    locale = locale or get_locale()
    text = catalog(locale).gettext(msgid)
    if not params:
        return text
    return text.format(
        **{
            name: translate(value.msgid, locale, **value.params) if isinstance(value, Message) else value
            for name, value in params.items()
        }
    )  # a Message inside a Message is translated too


_ = translate  # the usual short name for CLI strings (an extraction keyword)


def has_message(msgid: str, locale: str) -> bool:
    # GNUTranslations' parsed table (private, so not in typeshed): a missing id is not in it
    return msgid in catalog(locale)._catalog  # type: ignore[attr-defined]  # private attribute of GNUTranslations


def localize(text: str, locale: str | None = None) -> tuple[str, str]:
    """(text in ``locale``, the language it is in): a catalogued Message is translated, other text stays English."""
    locale = locale or get_locale()
    if isinstance(text, Message) and has_message(text.msgid, locale):
        return translate(text.msgid, locale, **text.params), locale
    return str(text), "en"


def negotiate(accept_language: str | None) -> str | None:
    """The best catalog for an Accept-Language header (RFC 9110 quality values); None when none matches."""
    if not accept_language:
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _sep, rest = part.strip().partition(";")
        quality = 1.0
        for param in rest.split(";"):
            name, _eq, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip()))
    for _quality, _position, tag in sorted(ranked):
        match = _match(tag)
        if match:
            return match
    return None


def _match(tag: str) -> str | None:
    """'es-MX' -> 'es'; 'zh', 'zh-Hans', 'zh-SG' -> 'zh-CN' (simplified script); 'zh-TW' has no catalog."""
    if tag == "*":
        return None
    parts = tag.replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        return "zh-CN" if len(parts) == 1 or parts[1] in ("cn", "hans", "sg") else None
    return parts[0] if parts[0] in LOCALES else None


# -- locale-aware formatting (Babel's CLDR data) ------------------------------------------------------


def format_number(value: Any, locale: str | None = None, digits: int = 4) -> str:
    """A figure for a table in the locale's notation, to ``digits`` significant digits (ints exactly)."""
    from babel import numbers

    where = babel_locale(locale)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int):
        return numbers.format_decimal(value, locale=where)
    if not math.isfinite(value):
        return str(value)
    if value != 0 and not 1e-3 <= abs(value) < 10 ** (digits + 3):
        return numbers.format_scientific(value, format="0." + "#" * (digits - 1) + "E0", locale=where)
    rounded = Decimal(f"{value:.{digits}g}")
    return numbers.format_decimal(rounded, locale=where, decimal_quantization=False)


def locale_info(code: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """A locale's names and how it writes numbers and dates (Babel / CLDR), with examples."""
    from babel import dates, numbers

    code = check_locale(code or get_locale())
    where = babel_locale(code)
    now = now or datetime.now().astimezone()
    sample = 1234567.891
    return {
        "code": code,
        "name": where.get_display_name(where),
        "english_name": where.get_display_name("en"),
        "decimal_symbol": numbers.get_decimal_symbol(where),
        "group_symbol": numbers.get_group_symbol(where),
        "number_example": numbers.format_decimal(sample, locale=where),
        "percent_example": numbers.format_percent(0.256, locale=where),
        "date_format": str(where.date_formats["medium"].pattern),
        "date_example": dates.format_date(now.date(), format="medium", locale=where),
        "datetime_example": dates.format_datetime(now, format="medium", locale=where),
        "first_weekday": dates.get_day_names("wide", locale=where)[where.first_week_day],
    }
