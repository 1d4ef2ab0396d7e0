#!/usr/bin/env bash
# Builds every fuzz target once, then runs each one after the other for SECONDS (default
# 600) and prints, per target, how many inputs it ran and what it found.
#
#   bash fuzz/run.sh [SECONDS] [TARGET...]
#
# Works on a stable toolchain: with `--sanitizer none` cargo-fuzz passes rustc only stable
# flags (coverage instrumentation is `-C passes`/`-C llvm-args`); AddressSanitizer would need
# nightly, and the library has no unsafe code of its own. Environment: FUZZ_BUILD_FLAGS adds
# `cargo fuzz build` flags (`--dev` for a quick build, `--sanitizer address` on nightly);
# FUZZ_JOBS runs that many libFuzzer jobs per target (default 1, to leave the other core
# alone).
#
# New inputs the fuzzer finds go to fuzz/target/corpus/<target> (not committed); a crash,
# timeout or out-of-memory input goes to fuzz/artifacts/<target>/. Exit status 1 when any
# target found something.
set -euo pipefail

secs="${1:-600}"
shift || true
cd "$(dirname "$0")/.."

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
# shellcheck disable=SC2206 # word splitting of the flag list is wanted
build=(--sanitizer none ${FUZZ_BUILD_FLAGS:-})
jobs="${FUZZ_JOBS:-1}"
parallel=()
# One job runs in-process; -jobs=1 would fork a child and log everything twice.
[ "$jobs" -gt 1 ] && parallel=(-jobs="$jobs" -workers="$jobs")

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

start=$(date +%s)
cargo fuzz build "${build[@]}"
echo "fuzz build: $(($(date +%s) - start)) s" >&2

summary=()
found=0
for t in "${targets[@]}"; do
  work="fuzz/target/corpus/$t"
  artifacts="fuzz/artifacts/$t"
  mkdir -p "$work" "$artifacts"
  corpora=("$work" "fuzz/corpus/$t")
  [ -d "fuzz/regressions/$t" ] && corpora+=("fuzz/regressions/$t")
  dict=()
  [ -f "fuzz/dicts/$t.dict" ] && dict=("-dict=fuzz/dicts/$t.dict")
  before=$(find "$artifacts" -type f ! -name 'slow-unit-*' | wc -l)
  log="fuzz/target/$t.log"
  t0=$(date +%s)
  status=0
  # The first corpus directory receives new inputs, so the committed seeds stay as they are.
  cargo fuzz run "${build[@]}" "$t" "${corpora[@]}" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "${parallel[@]}" "${dict[@]}" \
    >"$log" 2>&1 || status=$?
  took=$(($(date +%s) - t0))
  # With -jobs the stats are in fuzz-N.log files in the working directory.
  if [ "$jobs" -gt 1 ]; then
    execs=$(cat fuzz-*.log 2>/dev/null | sed -n 's/^stat::number_of_executed_units: *//p' |
      awk '{s += $1} END {print s + 0}')
    rm -f fuzz-*.log
  else
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | awk '{s += $1} END {print s + 0}')
  fi
  # slow-unit-* files are only reports (libFuzzer keeps the slowest input seen); a unit
  # over -timeout is written again as timeout-*.
  new=$(($(find "$artifacts" -type f ! -name 'slow-unit-*' | wc -l) - before))
  if [ "$status" -ne 0 ] || [ "$new" -gt 0 ]; then
    found=1
    echo "== $t: FOUND something (exit $status); log $log" >&2
    grep -E "^(==[0-9]+==|thread '|SUMMARY|artifact_prefix|Test unit written)" "$log" | head -20 >&2 || true
  fi
  summary+=("$(printf '%-16s %12s execs %6s s  findings: %s' "$t" "$execs" "$took" "$new")")
done

echo
echo "fuzz summary (${secs} s per target, $jobs job(s)):"
printf '  %s\n' "${summary[@]}"
exit "$found"
