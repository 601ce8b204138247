#!/usr/bin/env bash
# Set up (virtualenv + dev extras) and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev bash scripts/setup.sh
. .venv/bin/activate
python -m pytest "$@"
