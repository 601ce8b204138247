#!/usr/bin/env bash
# The checks that fail in seconds, run by scripts/test.sh (and so .ci/run) before any test, and by pre-commit:
# lint, format and types. Needs the dev extras (bash scripts/setup.sh with EXTRAS=dev, or .venv from test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -z "${VIRTUAL_ENV:-}" ] && [ -f .venv/bin/activate ] && . .venv/bin/activate
echo "check: ruff check"; ruff check .
echo "check: ruff format --check"; ruff format --check .
echo "check: mypy (settings in pyproject.toml)"; mypy
