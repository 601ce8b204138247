"""Locale of the SDK's output: set_locale, get_locale, translate (gettext catalogs built with Babel).

``translate`` takes a message id, either one of the reference's keys (``benchmark.model_evaluation``) or any
English message of the application, and returns it in the locale set here (default: the ``default_locale``
setting, see `vid-bench config`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from app import i18n
from app.config import LOCALES
from app.errors import ValidationError
from app.i18n import Message, UnknownLocaleError

T = TypeVar("T")

SUPPORTED_LOCALES: tuple[str, ...] = LOCALES

MESSAGE_KEYS: tuple[str, ...] = (  # Message() marks them for extraction
    Message("benchmark.model_evaluation"),
    Message("benchmark.overall_score"),
    Message("benchmark.average_latency"),
    Message("benchmark.pareto_models"),
    Message("benchmark.comparison_report"),
    Message("benchmark.results"),
    Message("benchmark.prompts"),
    Message("benchmark.submitted"),
    Message("benchmark.running"),
    Message("benchmark.completed"),
    Message("benchmark.failed"),
    Message("benchmark.cancelled"),
    Message("model.name"),
    Message("metrics.quality"),
    Message("metrics.performance"),
    Message("metrics.latency_ms"),
    Message("metrics.throughput_fps"),
    Message("metrics.peak_vram_gb"),
)
"""The reference's keyed messages (``translate("benchmark.model_evaluation")``); any English message id works too."""


def _checked(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return call(*args, **kwargs)
    except UnknownLocaleError as error:
        raise ValidationError(
            Message("Unknown locale '{code}'; supported: {locales}", code=error.code, locales=", ".join(LOCALES)),
            {"locale": error.code, "allowed": list(LOCALES)},
        ) from None


def set_locale(code: str) -> str:
    """Use ``code`` (en, es, fr, de, ja, zh-CN; 'zh_CN' is accepted) for this process; returns its spelling."""
    return _checked(i18n.set_locale, code)


def get_locale() -> str:
    return i18n.get_locale()


def translate(key: str, locale: str | None = None, **params: Any) -> str:
    """The message ``key`` in ``locale`` (default: the current one), ``{placeholders}`` filled from params."""
    return _checked(i18n.translate, key, locale, **params)


def locale_info(code: str | None = None) -> dict[str, Any]:
    """Name, number and date formats of a locale (Babel's CLDR data)."""
    return _checked(i18n.locale_info, code)


def format_number(value: float | int, locale: str | None = None, digits: int = 4) -> str:
    return _checked(i18n.format_number, value, locale, digits)


__all__ = ["MESSAGE_KEYS", "SUPPORTED_LOCALES", "format_number", "get_locale", "locale_info", "set_locale", "translate"]
