"""Distribution promises the API reference makes: `pip install vid-diffusion-bench[cli]`, and catalogs shipped."""

from __future__ import annotations

import tomllib
from pathlib import Path

PROJECT = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())


def test_the_cli_extra_exists_and_the_cli_needs_nothing_outside_the_required_dependencies():
    assert PROJECT["project"]["optional-dependencies"]["cli"] == []
    required = " ".join(PROJECT["project"]["dependencies"])
    for package in ("typer", "rich", "babel", "tomli-w"):
        assert package in required
    assert PROJECT["project"]["scripts"]["vid-bench"] == "cli.main:main"


def test_compiled_catalogs_are_package_data():
    assert "locales/*/LC_MESSAGES/*.mo" in PROJECT["tool"]["setuptools"]["package-data"]["app.i18n"]
