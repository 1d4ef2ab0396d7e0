# Sourced by the *_setup.sh scripts of this folder: builds the Python venv of their pinned
# packages once, whatever the number of test binaries asking at the same time.
#
# The script sets PINS (the `pip install` arguments) and defines
#   probe VENV   succeeds when VENV has exactly the pins (and may print what it found);
#   finish       prints the script's output for the venv at $dir and succeeds if it works;
#   die MESSAGE  prints MESSAGE to stderr and exits 1;
# and optionally install_failed TMP, which explains (and dies) when a fresh install does
# not probe. Then it calls `venv_setup WHAT VENV_DIR`.
#
# A venv whose pins match is reused as it is; otherwise it is built in a temporary directory
# beside VENV_DIR and renamed into place, all under an exclusive lock on VENV_DIR.lock.
# PyPI must be reachable the first time.

venv_setup() {
  local what=$1 parent name started
  [ -n "${2:-}" ] || die "usage: $(basename "$0") VENV_DIR"
  dir=$2
  case $dir in /*) ;; *) dir=$PWD/$dir ;; esac
  dir=${dir%/}
  parent=$(dirname "$dir")
  name=$(basename "$dir")

  finish && exit 0
  mkdir -p "$parent" || die "cannot create $parent"
  exec 9>"$parent/$name.lock" || die "cannot open $parent/$name.lock"
  flock 9 || die "cannot lock $parent/$name.lock"
  # Another process may have installed it while this one waited for the lock.
  finish && exit 0

  # Leftovers of an interrupted install; nobody else installs while this one holds the lock.
  rm -rf "$parent/.$name.tmp-"*
  venv_tmp=$parent/.$name.tmp-$$
  trap 'rm -rf "$venv_tmp"' EXIT
  started=$SECONDS
  echo "installing ${PINS[*]} into $dir (first run only; needs python3 with venv and access to PyPI)" >&2
  python3 -m venv "$venv_tmp" >&2 || die "python3 -m venv $venv_tmp failed"
  "$venv_tmp/bin/python" -m pip install --disable-pip-version-check --quiet "${PINS[@]}" >&2 \
    || die "pip install ${PINS[*]} failed"
  if ! probe "$venv_tmp" >/dev/null; then
    if declare -F install_failed >/dev/null; then
      install_failed "$venv_tmp"
    fi
    die "the install in $venv_tmp does not have exactly ${PINS[*]}"
  fi
  if [ -e "$dir" ]; then
    rm -rf "$dir" || die "cannot remove the outdated $dir"
  fi
  mv "$venv_tmp" "$dir" || die "cannot rename $venv_tmp to $dir"
  trap - EXIT
  echo "installed the $what venv in $((SECONDS - started))s" >&2
  finish || die "the venv in $dir does not work after the install"
  exit 0
}
