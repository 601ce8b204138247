#!/usr/bin/env bash
# Create .venv and install the project. The CPU build of torch goes in first so that
# resolving the rest never pulls a multi-GB CUDA build on a machine without a GPU.
# EXTRAS selects optional parts, e.g. EXTRAS=dev or EXTRAS=dev,gpu.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
if ! python -c "import torch" 2>/dev/null; then
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    python -m pip install --quiet "torch==2.13.0" --index-url "$TORCH_INDEX_URL"
  else
    python -m pip install --quiet "torch==2.13.0"
  fi
fi
python -m pip install --quiet -e ".${EXTRAS:+[$EXTRAS]}"
