#!/usr/bin/env bash
# Makes the Python venv that tests/it/support/report_check.py runs in: Playwright (which
# drives Debian's Chromium, /usr/bin/chromium; its own browsers are never downloaded) and
# Pillow (pixel statistics of the screenshot).
#
# Usage: bash tests/it/support/browser_setup.sh VENV_DIR      (e.g. target/browser-venv)
#
# Prints the venv's python (absolute path) on stdout and nothing else; progress and errors
# go to stderr; the exit status is non-zero on any failure. Pinned versions, installed once
# (venv_lib.sh).
set -euo pipefail

PINS=(
  "playwright==1.64.1"
  "greenlet==3.5.6"
  "pyee==13.0.1"
  "typing_extensions==4.16.0"
  "pillow==13.0.0"
)

die() { echo "browser_setup: $*" >&2; exit 1; }

probe() {
  local py=$1/bin/python
  [ -x "$py" ] || return 1
  [ "$("$py" -m pip freeze --disable-pip-version-check 2>/dev/null | grep -iE '^(playwright|greenlet|pyee|typing.extensions|pillow)==' | tr 'A-Z_' 'a-z-' | sort | tr '\n' ' ')" \
    = "$(printf '%s\n' "${PINS[@]}" | tr 'A-Z_' 'a-z-' | sort | tr '\n' ' ')" ] || return 1
  "$py" -c 'import playwright.sync_api, PIL.Image' 2>/dev/null
}

finish() { probe "$dir" && printf '%s\n' "$dir/bin/python"; }

# shellcheck source=venv_lib.sh
. "$(dirname "$0")/venv_lib.sh"
venv_setup "browser check" "${1:-}"
