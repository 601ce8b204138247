"""app.i18n: the locale in force, translation of keyed and English ids, translatable error messages,
Accept-Language negotiation and Babel's number and date formats."""

from __future__ import annotations

import pickle
from datetime import datetime

import pytest

from app import i18n
from app.config import reset_settings_cache
from app.errors import ModelNotFoundError
from app.i18n import Message, format_number, localize, negotiate, translate, use_locale


@pytest.fixture(autouse=True)
def fresh_locale(monkeypatch):
    monkeypatch.setattr(i18n, "_process_locale", None)
    monkeypatch.delenv("VDB_DEFAULT_LOCALE", raising=False)
    reset_settings_cache()
    yield
    reset_settings_cache()


def test_reference_key_in_every_locale():
    assert translate("benchmark.model_evaluation", "es") == "Evaluación del Modelo"
    assert translate("benchmark.model_evaluation", "en") == "Model Evaluation"
    assert translate("benchmark.model_evaluation", "zh-CN") == "模型评估"
    assert translate("benchmark.model_evaluation", "zh_CN") == "模型评估"


def test_locale_in_force_context_then_process_then_setting(monkeypatch):
    assert i18n.get_locale() == "en"
    monkeypatch.setenv("VDB_DEFAULT_LOCALE", "de")
    reset_settings_cache()
    assert i18n.get_locale() == "de" and translate("value") == "Wert"
    i18n.set_locale("fr")
    assert i18n.get_locale() == "fr"
    with use_locale("ja"):
        assert translate("value") == "値"
    assert i18n.get_locale() == "fr"


def test_unknown_locale_is_refused():
    with pytest.raises(i18n.UnknownLocaleError, match="supported: en, es, fr, de, ja, zh-CN"):
        i18n.set_locale("xx")
    with pytest.raises(i18n.UnknownLocaleError):
        translate("value", "pt")


def test_message_is_english_text_that_translates_later_and_survives_pickling():
    error = ModelNotFoundError("nope", ["tiny-t2v", "tiny-t2i"])
    assert error.message == "Model 'nope' not found. Available models: tiny-t2v, tiny-t2i"
    copy = pickle.loads(pickle.dumps(error))  # as a Ray worker sends it back
    assert copy.message.msgid == error.message.msgid and copy.message.params == error.message.params
    assert localize(copy.message, "es") == (
        "No se encontró el modelo 'nope'. Modelos disponibles: tiny-t2v, tiny-t2i",
        "es",
    )
    assert localize(copy.message, "de")[0].startswith("Modell „nope“ nicht gefunden")


def test_text_without_a_catalog_entry_stays_english_and_says_so():
    assert localize("a plain message", "ja") == ("a plain message", "en")
    assert localize(Message("an id no catalog has {x}", x=1), "es") == ("an id no catalog has 1", "en")


@pytest.mark.parametrize(
    "header, expected",
    [
        ("es", "es"),
        ("es-MX,es;q=0.9,en;q=0.5", "es"),
        ("pt-BR, fr;q=0.8, de;q=0.9", "de"),
        ("zh-CN", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-TW", None),
        ("ja;q=0, en", "en"),
        ("*", None),
        ("", None),
        (None, None),
        ("fr;q=abc, es", "es"),
    ],
)
def test_accept_language_negotiation(header, expected):
    assert negotiate(header) == expected


@pytest.mark.parametrize(
    "code, expected",
    [
        ("en", "1,235"),
        ("de", "1.235"),
        ("fr", "1\u202f235"),
        ("es", "1.235"),
        ("ja", "1,235"),
        ("zh-CN", "1,235"),
    ],
)
def test_numbers_follow_the_locale(code, expected):
    assert format_number(1234.567, code) == expected


def test_number_formatting_keeps_significant_digits():
    assert format_number(0.0123444, "de") == "0,01234"  # 4 significant digits, the locale's decimal comma
    assert format_number(3, "en") == "3" and format_number(1234567, "de") == "1.234.567"
    assert format_number(1.5e-7, "en") == "1.5E-7"
    assert format_number(float("nan"), "en") == "nan"


def test_locale_info_from_babel():
    info = i18n.locale_info("es", now=datetime(2025, 1, 31, 14, 5))
    assert info["name"] == "español" and info["english_name"] == "Spanish"
    assert info["decimal_symbol"] == "," and info["group_symbol"] == "."
    assert info["number_example"] == "1.234.567,891"
    assert info["date_example"] == "31 ene 2025"
    zh = i18n.locale_info("zh-CN", now=datetime(2025, 1, 31, 14, 5))
    assert zh["date_example"] == "2025年1月31日" and zh["english_name"] == "Chinese (Simplified, China)"
