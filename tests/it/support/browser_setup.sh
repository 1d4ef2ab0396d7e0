#!/usr/bin/env bash
# Makes the Python venv that tests/it/support/report_check.py runs in: Playwright (which
# drives Debian's Chromium, /usr/bin/chromium; its own browsers are never downloaded) and
# Pillow (pixel statistics of the screenshot).
#
# Usage: bash tests/it/support/browser_setup.sh VENV_DIR      (e.g. target/browser-venv)
#
# Prints the venv's python (absolute path) on stdout and nothing else; progress and errors
# go to stderr; the exit status is non-zero on any failure. Same approach as
# sarif_setup.sh: pinned versions, a venv whose pins match is reused, otherwise it is built
# beside VENV_DIR and renamed into place under an exclusive lock on VENV_DIR.lock.
set -euo pipefail

PINS=(
  "playwright==1.64.1"
  "greenlet==3.5.6"
  "pyee==13.0.1"
  "typing_extensions==4.16.0"
  "pillow==13.0.0"
)

die() { echo "browser_setup: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: browser_setup.sh VENV_DIR"
dir=$1
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
dir=${dir%/}
parent=$(dirname "$dir")
name=$(basename "$dir")

probe() {
  local py=$1/bin/python
  [ -x "$py" ] || return 1
  [ "$("$py" -m pip freeze --disable-pip-version-check 2>/dev/null | grep -iE '^(playwright|greenlet|pyee|typing.extensions|pillow)==' | tr 'A-Z_' 'a-z-' | sort | tr '\n' ' ')" \
    = "$(printf '%s\n' "${PINS[@]}" | tr 'A-Z_' 'a-z-' | sort | tr '\n' ' ')" ] || return 1
  "$py" -c 'import playwright.sync_api, PIL.Image' 2>/dev/null
}

finish() { probe "$dir" && printf '%s\n' "$dir/bin/python"; }

finish && exit 0
mkdir -p "$parent" || die "cannot create $parent"
exec 9>"$parent/$name.lock" || die "cannot open $parent/$name.lock"
flock 9 || die "cannot lock $parent/$name.lock"
finish && exit 0

rm -rf "$parent/.$name.tmp-"*
tmp=$parent/.$name.tmp-$$
trap 'rm -rf "$tmp"' EXIT
started=$SECONDS
echo "installing ${PINS[*]} into $dir (first run only; needs python3 with venv and access to PyPI)" >&2
python3 -m venv "$tmp" >&2 || die "python3 -m venv $tmp failed"
"$tmp/bin/python" -m pip install --disable-pip-version-check --quiet "${PINS[@]}" >&2 \
  || die "pip install ${PINS[*]} failed"
probe "$tmp" || die "the install in $tmp does not have exactly ${PINS[*]}"
if [ -e "$dir" ]; then rm -rf "$dir" || die "cannot remove the outdated $dir"; fi
mv "$tmp" "$dir" || die "cannot rename $tmp to $dir"
trap - EXIT
echo "installed the browser check venv in $((SECONDS - started))s" >&2
finish || die "the venv in $dir does not work after the install"
