#!/usr/bin/env bash
# Set up Talecast, render the demo story with the embedded defaults, then start the server
# (SQLite, local files, in-process workers) with a fresh API key printed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export TALECAST_DATA_DIR=${TALECAST_DATA_DIR:-$PWD/.talecast-data}
.venv/bin/talecast convert examples/lighthouse.md -o out/demo
echo "demo: out/demo/narration.flac, out/demo/dialogue.flac, out/demo/transcript.json"
KEY=$(.venv/bin/talecast keys create --name demo | tail -n 1)
echo "demo: API key: $KEY"
echo "demo: serving on http://127.0.0.1:${PORT:-8000}/apis (Studio at /studio, docs at /docs); Ctrl-C stops"
exec .venv/bin/talecast serve --host 127.0.0.1 --port "${PORT:-8000}"
