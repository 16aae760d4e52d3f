#!/usr/bin/env bash
# Quick start: run the whole test suite (installs what it needs). Arguments go to pytest.
# The lab needs Debian packages (.ci/apt-packages.txt); as root they are installed here,
# otherwise the tests that need them are skipped with a reason (outside CI only).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
missing=()
while read -r pkg; do
  [ -z "$pkg" ] && continue
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < <(grep -v '^#' "$ROOT/.ci/apt-packages.txt")
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing lab packages: ${missing[*]}" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || echo "could not install ${missing[*]}; lab tests will say what is missing" >&2
  else
    echo "lab packages missing (${missing[*]}): run as root or 'sudo apt-get install ${missing[*]}'" >&2
  fi
fi
source "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
# Two workers (pytest-xdist): the suite mostly waits on sockets and subprocesses, so two cut it
# by about a quarter on two cores; more workers than cores made a timing test flaky. `-n 0`
# (e.g. with --pdb or -s) runs it in one process.
exec "$ROOT/.venv/bin/python" -m pytest -n auto --maxprocesses=2 "$@"
