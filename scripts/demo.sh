#!/usr/bin/env bash
# Set up and run the main job on the embedded default: a real benchmark of the built-in
# tiny text-to-video model on local Ray + SQLite, printing a results table and writing
# results (JSON, Parquet, MP4) to ./results.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
export VDB_DATA_DIR="${VDB_DATA_DIR:-$PWD/data}"
vid-bench benchmark tiny-t2v --prompt-set DIVERSE_SET_V2 --num-prompts 4 --videos-per-prompt 2 \
  --save-videos --output results
