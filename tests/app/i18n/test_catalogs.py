"""The message catalogs: every message of the code base translated in every locale, nothing fuzzy or obsolete,
placeholders kept, and the shipped .mo files compiled from the .po files as they are now."""

from __future__ import annotations

import io
import string
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from app.config import LOCALES
from app.i18n import DOMAIN, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[3]
SOURCES = ("app", "cli", "vid_diffusion_bench", "deployments", "tuning")


def po_path(code: str) -> Path:
    return LOCALE_DIR / code.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(code: str):
    with po_path(code).open("rb") as handle:
        return read_po(handle, locale=code.replace("-", "_"))


def placeholders(text: str) -> set[str]:
    return {name for _literal, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


def extracted_ids(tmp_path: Path) -> set[str]:
    """Every message id in the sources, extracted as the README says (`pybabel extract -F pyproject.toml`)."""
    template = tmp_path / "extracted.pot"
    command = [sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "pyproject.toml"]
    subprocess.run([*command, "--no-location", "-o", str(template), *SOURCES], cwd=ROOT, check=True)
    with template.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


@pytest.fixture(scope="module")
def code_ids(tmp_path_factory) -> set[str]:
    ids = extracted_ids(tmp_path_factory.mktemp("babel"))
    assert "benchmark.model_evaluation" in ids and "Request body or parameters are invalid" in ids
    return ids


@pytest.mark.parametrize("code", LOCALES)
def test_every_message_of_the_code_is_translated_and_none_is_fuzzy_or_stale(code, code_ids):
    catalog = read_catalog(code)
    entries = {message.id: message for message in catalog if message.id}
    assert not catalog.fuzzy, f"{code}: the catalog header is fuzzy"
    missing = sorted(code_ids - set(entries))
    stale = sorted(set(entries) - code_ids)
    assert not missing, f"{code}: ids in the code but not in the catalog (run the README's pybabel update): {missing}"
    assert not stale, f"{code}: ids no code uses any more: {stale}"
    untranslated = sorted(message_id for message_id, message in entries.items() if not message.string)
    fuzzy = sorted(message_id for message_id, message in entries.items() if message.fuzzy)
    assert not untranslated, f"{code}: untranslated {untranslated}"
    assert not fuzzy, f"{code}: fuzzy {fuzzy}"
    assert not list(catalog.obsolete), f"{code}: obsolete entries {list(catalog.obsolete)}"


@pytest.mark.parametrize("code", LOCALES)
def test_placeholders_are_kept(code):
    for message in read_catalog(code):
        if message.id:
            assert placeholders(message.string) == placeholders(message.id), (code, message.id, message.string)
            message.string.format(**dict.fromkeys(placeholders(message.id), "x"))  # well-formed braces


@pytest.mark.parametrize("code", [c for c in LOCALES if c != "en"])
def test_translations_are_not_english_copies(code):
    """A locale that copies English strings was not translated; a few words (Pareto, code, JSON) legitimately match."""
    messages = [m for m in read_catalog(code) if m.id and not m.id.startswith(("benchmark.", "metrics.", "model."))]
    copies = [m.id for m in messages if m.string == m.id]
    assert len(copies) <= len(messages) // 10, f"{code}: {copies}"


def test_keyed_messages_have_english_text():
    for message in read_catalog("en"):
        if message.id and "." in message.id and " " not in message.id:  # a key such as benchmark.model_evaluation
            assert message.string and message.string != message.id


@pytest.mark.parametrize("code", LOCALES)
def test_shipped_mo_matches_its_po(code):
    """The .mo in the package is what `pybabel compile` makes of the .po today (the README's command)."""
    shipped = po_path(code).with_suffix(".mo")
    with shipped.open("rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    expected = {m.id: m.string for m in read_catalog(code) if m.id}
    assert compiled == expected
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(code))  # and the .po compiles
    assert buffer.getvalue()


def test_package_data_ships_the_catalogs():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["app.i18n"]
    assert "locales/*/LC_MESSAGES/*.mo" in data
    for code in LOCALES:
        assert po_path(code).with_suffix(".mo").is_file()
