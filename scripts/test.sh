#!/usr/bin/env bash
# Set up if needed, start the test servers, run the whole test suite, stop the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/services.sh start
trap 'bash scripts/services.sh stop' EXIT
set +e
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
status=$?
set -e
[ $status -eq 5 ] && { echo "no tests collected"; exit 1; }
exit $status
