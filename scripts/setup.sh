#!/usr/bin/env bash
# Install what Talecast needs on a fresh Debian 12 machine: system packages, then a Python
# virtual environment in .venv with Talecast and its test, scale-out and listening-check
# extras.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium only for the Studio page's browser test; flac (the reference decoder) only to
# check joined FLAC streams in the tests.
APT_PACKAGES=(ffmpeg flite sox flac libsndfile1 redis-server postgresql chromium)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e ".[test,scale,qa]"
echo "setup: done (.venv ready)"
