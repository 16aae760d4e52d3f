#!/usr/bin/env bash
# Sourced by app.sh and test.sh: makes `uv` available and the locked environment in .venv.
# Needs only Python 3.11+; takes no arguments (the caller's go to its own command); installs uv into .tools/ (a private venv) when it is not on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
UV_VERSION="0.13.9"

find_python() {
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; raise SystemExit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  echo "mxpilot needs Python 3.11 or newer (none found on PATH)" >&2
  return 1
}

ensure_uv() {
  if command -v uv >/dev/null 2>&1; then UV="$(command -v uv)"; return 0; fi
  if [ -x "$ROOT/.tools/bin/uv" ]; then UV="$ROOT/.tools/bin/uv"; return 0; fi
  local py; py="$(find_python)"
  if ! "$py" -m venv "$ROOT/.tools" >/dev/null 2>&1; then
    rm -rf "$ROOT/.tools"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing python3-venv (Debian) ..." >&2
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      "$py" -m venv "$ROOT/.tools"
    else
      echo "cannot create a virtual environment: install python3-venv (sudo apt-get install python3-venv)" >&2
      return 1
    fi
  fi
  "$ROOT/.tools/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  UV="$ROOT/.tools/bin/uv"
}

ensure_uv
export UV_PROJECT_ENVIRONMENT="$ROOT/.venv"
"$UV" sync --locked --quiet --project "$ROOT"
