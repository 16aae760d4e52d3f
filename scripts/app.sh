#!/usr/bin/env bash
# Quick start: run mxpilot (installs what it needs on first run). Arguments go to mxpilot.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
exec "$ROOT/.venv/bin/mxpilot" "$@"
