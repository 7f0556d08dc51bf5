#!/usr/bin/env bash
# Set up if needed, lint, start the test servers, run the whole test suite, stop them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check talecast tests bench
.venv/bin/ruff format --check talecast tests bench
source scripts/services.sh start
trap 'bash scripts/services.sh stop' EXIT
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
status=$?
set -e
[ $status -eq 5 ] && { echo "no tests collected"; exit 1; }
exit $status
