#!/usr/bin/env bash
# Reproducible benchmark: sageflow vs DuckDB vs DataFusion's CSV reader on the same
# generated gzip flow logs, plus the gzip floor, Parquet export and memory on a 4x corpus,
# and the same queries on local workers (benches/scale_out.py).
# Writes BENCHMARKS.md. Env: RECORDS (default 4000000), RUNS (3), BENCH_DIR (target/bench).
set -euo pipefail
cd "$(dirname "$0")/.."
RECORDS=${RECORDS:-4000000}
LARGE=$((RECORDS * 4))
DIR=${BENCH_DIR:-target/bench}
DUCKDB_VERSION=2.0.1
mkdir -p "$DIR"

cargo build --release --locked --bin sageflow --example datafusion_csv --example gunzip_floor

if [ ! -x "$DIR/venv/bin/python" ] || ! "$DIR/venv/bin/python" -c "import duckdb; assert duckdb.__version__ == '$DUCKDB_VERSION'" 2>/dev/null; then
  rm -rf "$DIR/venv"
  python3 -m venv "$DIR/venv"
  "$DIR/venv/bin/pip" install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION"
fi

gen() { # dir records objects
  if [ ! -f "$1/.done-$2-$3" ]; then
    rm -rf "$1"
    target/release/sageflow generate --out "$1" --records "$2" --objects "$3" --format v5 --seed 1
    touch "$1/.done-$2-$3"
  fi
}
gen "$DIR/corpus" "$RECORDS" 8
gen "$DIR/corpus-4x" "$LARGE" 12

"$DIR/venv/bin/python" benches/compare.py "$(realpath "$DIR/corpus")" "$(realpath "$DIR/corpus-4x")" \
  "$(realpath "$DIR")/export" "$DIR/venv/bin/python" "$RECORDS" "$LARGE"
# Issue 20: query (b) in-process and on 1, 2 and 4 local workers (its own section).
"$DIR/venv/bin/python" benches/scale_out.py "$(realpath "$DIR/corpus-4x")" "$LARGE"
