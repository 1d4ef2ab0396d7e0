#!/usr/bin/env bash
# Limits: memory stays bounded whatever the input size.
#
#   (1) a line with no newline of LINE_MIB (default 2048 MiB), plain and gzip;
#   (2) RECORDS_MIB (default 10240 MiB) of v5 records in FILES files, plain text and
#       multi-member gzip (the size is the uncompressed one).
#
# Inputs are written to disk as streams (head -c, gzip, concatenation of a generated seed),
# never held in memory. Each run is timed under /usr/bin/time -v; the script prints peak
# RSS and wall time per run, checks the record counts, and fails if a run's peak RSS passes
# MAX_RSS_MIB (default 512).
#
#   bash benches/limits.sh                        # builds the release binary, full size
#   SAGEFLOW=target/debug/sageflow LINE_MIB=64 RECORDS_MIB=256 bash benches/limits.sh
#
# Needs (full size) about LINE_MIB + RECORDS_MIB * 1.15 of free disk under WORK
# (default target/limits); the inputs are deleted at the end unless KEEP=1.
set -euo pipefail
cd "$(dirname "$0")/.."

LINE_MIB=${LINE_MIB:-2048}
RECORDS_MIB=${RECORDS_MIB:-10240}
FILES=${FILES:-8}
SEED_RECORDS=${SEED_RECORDS:-1000000}
MAX_RSS_MIB=${MAX_RSS_MIB:-512}
WORK=${WORK:-target/limits}
KEEP=${KEEP:-0}

if [ ! -x /usr/bin/time ]; then
  echo "limits.sh needs /usr/bin/time (apt-get install time)" >&2
  exit 2
fi
if [ -z "${SAGEFLOW:-}" ]; then
  cargo build --release --locked --quiet
  SAGEFLOW=target/release/sageflow
fi
echo "binary: $SAGEFLOW"

mkdir -p "$WORK"
need_mib=$((LINE_MIB + RECORDS_MIB + RECORDS_MIB / 6 + 512))
free_mib=$(df -Pm "$WORK" | awk 'NR == 2 { print $4 }')
if [ "$free_mib" -lt "$need_mib" ]; then
  echo "limits.sh needs ~${need_mib} MiB free under $WORK, has ${free_mib} MiB" >&2
  exit 2
fi

results=()
failed=0

# run NAME EXPECTED_STDOUT ARGS...: one timed query; records peak RSS and time.
run() {
  local name=$1 expected=$2
  shift 2
  local out="$WORK/$name.out" err="$WORK/$name.err" tv="$WORK/$name.time"
  /usr/bin/time -v -o "$tv" "$SAGEFLOW" query "$@" >"$out" 2>"$err" || true
  local status rss wall
  status=$(awk -F': ' '/Exit status/ { print $2 }' "$tv")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.1f", $2 / 1024 }' "$tv")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { print $2 }' "$tv")
  local verdict=ok
  if [ "$status" != 0 ]; then
    verdict="exit $status"
  elif [ "$(cat "$out")" != "$expected" ]; then
    verdict="wrong output: $(tr '\n' ' ' <"$out")"
  elif awk -v r="$rss" -v m="$MAX_RSS_MIB" 'BEGIN { exit !(r > m) }'; then
    verdict="peak RSS over ${MAX_RSS_MIB} MiB"
  fi
  [ "$verdict" = ok ] || failed=1
  results+=("$(printf '%-26s %12s %12s  %s' "$name" "$rss" "$wall" "$verdict")")
  echo "  $name: peak RSS ${rss} MiB, ${wall}, $verdict"
  grep -E 'records:|rejected /' "$err" | sed 's/^/    /' | head -3 || true
}

# (1) A line with no newline.
line_bytes=$((LINE_MIB * 1024 * 1024))
echo "writing a ${LINE_MIB} MiB line with no newline"
head -c "$line_bytes" /dev/zero | tr '\0' 'a' >"$WORK/long.log"
gzip -1 -c "$WORK/long.log" >"$WORK/long.log.gz"
sql_line="SELECT count(*) AS n FROM flows"
run long-line-plain "$(printf 'n\n0')" "$WORK/long.log" --format csv --sql "$sql_line"
run long-line-gzip "$(printf 'n\n0')" "$WORK/long.log.gz" --format csv --sql "$sql_line"
rm -f "$WORK/long.log" "$WORK/long.log.gz"

# (2) Many records: a generated seed, repeated.
echo "generating a seed of $SEED_RECORDS v5 records"
rm -rf "$WORK/seed"
"$SAGEFLOW" generate --out "$WORK/seed" --records "$SEED_RECORDS" --objects 1 --seed 11 >/dev/null 2>&1
seed_gz=$(find "$WORK/seed/AWSLogs" -name '*.log.gz' -print -quit)
gzip -dc "$seed_gz" >"$WORK/seed.txt"
head -n 1 "$WORK/seed.txt" >"$WORK/header.txt"
tail -n +2 "$WORK/seed.txt" >"$WORK/body.txt"
rm "$WORK/seed.txt"
gzip -1 -c "$WORK/body.txt" >"$WORK/body.txt.gz"
body_bytes=$(stat -c %s "$WORK/body.txt")
per_file=$((RECORDS_MIB * 1024 * 1024 / FILES))
reps=$(((per_file + body_bytes - 1) / body_bytes))
records=$((FILES * reps * SEED_RECORDS))
echo "writing ${FILES} x ${reps} seeds (${RECORDS_MIB} MiB, $records records) as plain text and as gzip"
rm -rf "$WORK/plain" "$WORK/gzip"
mkdir -p "$WORK/plain" "$WORK/gzip"
for f in $(seq 1 "$FILES"); do
  {
    cat "$WORK/header.txt"
    for _ in $(seq 1 "$reps"); do cat "$WORK/body.txt"; done
  } >"$WORK/plain/records-$f.log"
  {
    # One member per seed: what concatenated deliveries look like.
    cat "$seed_gz"
    for _ in $(seq 2 "$reps"); do cat "$WORK/body.txt.gz"; done
  } >"$WORK/gzip/records-$f.log.gz"
done
enis=$(awk '{ print $3 }' "$WORK/body.txt" | sort -u | wc -l)
sql_count="SELECT count(*) AS n, count(DISTINCT interface_id) AS enis FROM flows"
sql_group="SELECT count(*) AS groups FROM (SELECT interface_id, dstaddr, sum(bytes) AS b FROM flows GROUP BY 1, 2)"
groups=$(awk '{ print $3, $5 }' "$WORK/body.txt" | sort -u | wc -l)
run records-plain-count "$(printf 'n,enis\n%s,%s' "$records" "$enis")" "$WORK/plain" --format csv --sql "$sql_count"
run records-gzip-count "$(printf 'n,enis\n%s,%s' "$records" "$enis")" "$WORK/gzip" --format csv --sql "$sql_count"
run records-plain-group "$(printf 'groups\n%s' "$groups")" "$WORK/plain" --format csv --sql "$sql_group"

echo
echo "cores: $(nproc); binary: $SAGEFLOW; line: ${LINE_MIB} MiB; records: ${RECORDS_MIB} MiB in ${FILES} files ($records records)"
printf '%-26s %12s %12s  %s\n' run "peak RSS MiB" "wall" result
for r in "${results[@]}"; do echo "$r"; done

if [ "$KEEP" != 1 ]; then
  rm -rf "$WORK/plain" "$WORK/gzip" "$WORK/seed" "$WORK/body.txt" "$WORK/body.txt.gz" "$WORK/header.txt"
fi
exit "$failed"
