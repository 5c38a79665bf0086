#!/usr/bin/env bash
# The Python side of the test suite: a virtual environment .venv/ in the repository (ignored by git)
# with pandas, matplotlib, pytest, nbclient, nbformat, ipykernel and tqdm, and the sftrl package from
# ./python installed into it (reinstalled every time, so it is never stale). When python3 cannot make
# a virtual environment (Debian without python3-venv), installs python3-venv (as root or via sudo).
# Usage: bash scripts/setup-python.sh [VENV_DIR]       (default: .venv)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-$root/.venv}
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import sys" 2>/dev/null; then
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip >/dev/null
    python3 -m venv "$venv"
  fi
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  "pandas>=1.5" "matplotlib>=3.6" "pytest>=7" "nbclient>=0.7" "nbformat>=5.7" "ipykernel>=6" "tqdm>=4"
# This runs beside the Swift build (scripts/test.sh): never start a second build from the package's
# build hook (python/setup.py); the tests name the binary with SFTRL_BIN.
SFTRL_NO_SWIFT_BUILD=1 "$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$root/python"
