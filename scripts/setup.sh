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

# System tools of the analytics tests (issue 16): `pdftoppm` (Debian poppler-utils) renders the PDF report,
# headless Chromium (Debian chromium) runs the dashboard's browser test through Playwright. Installed where
# apt can (root, or sudo without a password); elsewhere those two tests skip and say which package is missing.
if [[ ",${EXTRAS:-}," == *",dev,"* ]] && command -v apt-get >/dev/null \
    && { ! command -v pdftoppm >/dev/null || ! command -v chromium >/dev/null; }; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  if [ "$SUDO" != none ]; then
    $SUDO apt-get install -y --no-install-recommends chromium poppler-utils >/dev/null 2>&1 \
      || { $SUDO apt-get update >/dev/null 2>&1 \
           && $SUDO apt-get install -y --no-install-recommends chromium poppler-utils >/dev/null 2>&1; } \
      || echo "setup: could not install chromium / poppler-utils with apt; the report and browser tests will skip" >&2
  else
    echo "setup: not root and no password-less sudo: install chromium and poppler-utils with apt for the report and browser tests" >&2
  fi
fi
