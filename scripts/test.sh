#!/usr/bin/env bash
# Set up (virtualenv + dev extras), run the checks (lint, format, types), then the test suite in a random order.
#   bash scripts/test.sh               every tier but nightly (what .ci/run runs)
#   bash scripts/test.sh --all         the nightly tier too
#   bash scripts/test.sh [--all] ARGS  further arguments go to pytest (e.g. -m "not slow", tests/app)
# The order is random and its seed printed; VDB_TEST_SEED=N repeats an order. The 15 slowest tests are listed
# at the end of every run.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS=dev bash scripts/setup.sh
. .venv/bin/activate
bash scripts/check.sh
nightly=()
if [ "${1:-}" = "--all" ]; then
  nightly=(--nightly)
  shift
fi
seed=${VDB_TEST_SEED:-$(python -c 'import secrets; print(secrets.randbelow(2**31))')}
echo "test order: random, seed $seed (VDB_TEST_SEED=$seed bash scripts/test.sh repeats it)"
python -m pytest --randomly-seed="$seed" --durations=15 --durations-min=0 "${nightly[@]}" "$@"
