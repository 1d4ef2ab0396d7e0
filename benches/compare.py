"""Benchmark harness behind benches/compare.sh: runs sageflow, DuckDB and DataFusion's CSV
reader over the same generated flow logs, alternating the tools, and writes BENCHMARKS.md
with medians, ratios, records/s per core, peak RSS and the targets of the project.

Only figures measured in this run are written. Timings are wall clock (time.perf_counter
around the process); peak RSS comes from /usr/bin/time -v (GNU time) of each process.
"""

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAGEFLOW = os.path.join(ROOT, "target/release/sageflow")
DFCSV = os.path.join(ROOT, "target/release/examples/datafusion_csv")
FLOOR = os.path.join(ROOT, "target/release/examples/gunzip_floor")
RUNS = int(os.environ.get("RUNS", "3"))
THREADS = os.cpu_count() or 2

Q_B_SAGEFLOW = ("SELECT interface_id, sum(bytes) AS bytes FROM flows WHERE action = 'ACCEPT' "
                "AND flow_direction = 'egress' AND dstaddr NOT LIKE '10.%' GROUP BY 1")
Q_B_DUCKDB = ("SELECT \"interface-id\", sum(bytes) AS bytes FROM {src} WHERE action = 'ACCEPT' "
              "AND \"flow-direction\" = 'egress' AND dstaddr NOT LIKE '10.%' GROUP BY 1")
# Issue 19, enrichment: the same input columns decoded, with and without the enrichment.
Q_ENRICHED = "SELECT count(*) FROM flows WHERE leaves_vpc"
Q_INPUTS = ("SELECT count(*) FROM flows WHERE coalesce(interface_id, srcaddr, dstaddr, pkt_srcaddr, "
            "pkt_dstaddr, flow_direction, vpc_id, subnet_id, action, pkt_src_aws_service, pkt_dst_aws_service, "
            "CAST(\"start\" + \"end\" + protocol + tcp_flags + traffic_path AS VARCHAR)) IS NOT NULL")
Q_C_DUCKDB = ("SELECT count(*) FROM {src} WHERE action = 'ACCEPT' "
              "AND substr(\"interface-id\", 5) LIKE '0a0000000000000%' "
              "AND ((\"flow-direction\" = 'egress' AND dstaddr NOT LIKE '10.%') "
              "OR (\"flow-direction\" = 'ingress' AND srcaddr NOT LIKE '10.%'))")


def measure(cmd, env=None):
    """Runs cmd under GNU time; returns (seconds, peak RSS in MB)."""
    full = ["/usr/bin/time", "-v"] + cmd
    t = time.perf_counter()
    p = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    dt = time.perf_counter() - t
    if p.returncode not in (0, 1):  # scan exits 1 when it has findings
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    return dt, (int(rss.group(1)) / 1024 if rss else float("nan"))


def duckdb_cmd(python, corpus, sql):
    src = ("read_csv('{}/AWSLogs/**/*.log.gz', delim=' ', header=true, nullstr='-')"
           .format(corpus))
    code = ("import duckdb; c = duckdb.connect(); c.execute('SET threads={}'); "
            "print(len(c.execute({!r}).fetchall()))".format(THREADS, sql.format(src=src)))
    return [python, "-c", code]


def median_runs(cases, runs=None):
    """cases: name -> command. Runs every case RUNS times, alternating; returns medians."""
    times = {k: [] for k in cases}
    rss = {k: [] for k in cases}
    for _ in range(runs or RUNS):
        for k, cmd in cases.items():
            t, m = measure(cmd)
            times[k].append(t)
            rss[k].append(m)
            print(f"  {k}: {t:.2f}s {m:.0f} MB", flush=True)
    return {k: (statistics.median(times[k]), max(rss[k]), times[k]) for k in cases}


def main():
    corpus, large, export_dir, python = sys.argv[1:5]
    records = int(sys.argv[5])
    large_records = int(sys.argv[6])
    inv = os.path.join(corpus, "inventory")
    sf = [SAGEFLOW]
    # DataFusion's listing does not recurse: give it the folder that holds the objects.
    csv_dir = next(d for d, _, fs in os.walk(os.path.join(corpus, "AWSLogs")) if any(f.endswith(".log.gz") for f in fs))
    results = {}

    print("floor: gzip decompression alone, one thread", flush=True)
    out = subprocess.run([FLOOR, corpus], capture_output=True, text=True, check=True).stdout
    floor = {m.group(1): float(m.group(2)) for m in re.finditer(r"(\w+)_s [\d.]+ rec_per_s (\d+)", out)}

    print("(a) count(*)", flush=True)
    results["a"] = median_runs({
        "sageflow": sf + ["query", corpus, "--quiet", "--format", "csv", "--sql", "SELECT count(*) FROM flows"],
        "duckdb": duckdb_cmd(python, corpus, "SELECT count(*) FROM {src}"),
        "datafusion-csv": [DFCSV, csv_dir, "a", str(THREADS)],
    })
    print("(b) egress bytes per interface, ACCEPT, destination outside 10.0.0.0/8", flush=True)
    results["b"] = median_runs({
        "sageflow": sf + ["query", corpus, "--quiet", "--format", "csv", "--inventory", inv, "--sql", Q_B_SAGEFLOW],
        "duckdb": duckdb_cmd(python, corpus, Q_B_DUCKDB),
        "datafusion-csv": [DFCSV, csv_dir, "b", str(THREADS)],
    })
    print("(c) scan with the bundled rules vs leaves-vpc as SQL", flush=True)
    results["c"] = median_runs({
        "sageflow scan": sf + ["scan", corpus, "--quiet", "--format", "csv", "--inventory", inv],
        "sageflow leaves-vpc SQL": sf + ["query", corpus, "--quiet", "--format", "csv", "--inventory", inv,
                                        "--sql", "SELECT count(*) FROM flows WHERE leaves_vpc"],
        "duckdb": duckdb_cmd(python, corpus, Q_C_DUCKDB),
        "datafusion-csv": [DFCSV, csv_dir, "c", str(THREADS)],
    })
    print("single thread: query (b) with enrichment, pinned to one core", flush=True)
    results["b1"] = median_runs({
        "sageflow 1 core": ["taskset", "-c", "0"] + sf + ["query", corpus, "--quiet", "--format", "csv", "--inventory", inv, "--sql", Q_B_SAGEFLOW],
    })
    # The findings as pretty JSON, a line per value: unbuffered standard output and a map
    # made per finding took 2.7x the CSV scan's time (only leaves-vpc; fixed 2026-12-07).
    print("scan with the findings as JSON", flush=True)
    results["scan_json"] = median_runs({
        "sageflow scan --format json": sf + ["scan", corpus, "--quiet", "--format", "json", "--inventory", inv],
    })
    print("scan on the 4x corpus (memory)", flush=True)
    results["scan_big"] = median_runs({
        "sageflow scan 4x": sf + ["scan", large, "--quiet", "--format", "csv", "--inventory", os.path.join(large, "inventory")],
    }, runs=1)
    print("enrichment: leaves_vpc vs the same input columns decoded without --inventory", flush=True)
    results["enrich"] = median_runs({
        "sageflow enriched": sf + ["query", corpus, "--quiet", "--format", "csv", "--inventory", inv, "--sql", Q_ENRICHED],
        "sageflow inputs only": sf + ["query", corpus, "--quiet", "--format", "csv", "--sql", Q_INPUTS],
    })
    print("Parquet export of the corpus and of the 4x corpus", flush=True)
    export = {}
    for name, src, n_inv in (("default", corpus, inv), ("4x", large, os.path.join(large, "inventory"))):
        out = export_dir if name == "default" else export_dir + "-4x"
        shutil.rmtree(out, ignore_errors=True)
        t, m = measure(sf + ["export", src, "--quiet", "--inventory", n_inv, "--out", out])
        size = sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(out) for f in fs
                   if f.endswith(".parquet") and "_sageflow" not in p)
        gz = sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(os.path.join(src, "AWSLogs")) for f in fs)
        export[name] = (t, m, size / 1e6, gz / 1e6)
        print(f"  export {name}: {t:.2f}s {m:.0f} MB, {size / 1e6:.0f} MB Parquet from {gz / 1e6:.0f} MB gzip", flush=True)
    print("the HTML report (sageflow report) of the corpus and of the 4x corpus", flush=True)
    page = {}
    for name, src, n_inv in (("default", corpus, inv), ("4x", large, os.path.join(large, "inventory"))):
        out = export_dir + f"-report-{name}.html"
        t, m = measure(sf + ["report", src, "--quiet", "--inventory", n_inv, "--out", out])
        page[name] = (t, m, os.path.getsize(out) / 1e3)
        print(f"  report {name}: {t:.2f}s {m:.0f} MB, page {page[name][2]:.0f} kB", flush=True)
    print("queries over the export: sageflow, DuckDB read_parquet, DataFusion register_parquet", flush=True)
    lo, hi, ymd = one_hour(python, export_dir)
    glob = os.path.join(export_dir, "year=*/month=*/day=*/*.parquet")
    duck_src = f"read_parquet('{glob}', hive_partitioning=true)"
    part = f" AND year = '{ymd[0]}' AND month = '{ymd[1]}' AND day = '{ymd[2]}'"
    with open(os.path.join(ROOT, "queries/report-bytes-per-resource.sql")) as f:
        q_r = "\n".join(l for l in f.read().splitlines() if not l.startswith("--"))
    window = (f"SELECT count(*) AS records, sum(bytes) AS bytes FROM flows "
              f"WHERE start_time >= TIMESTAMP '{lo}' AND start_time < TIMESTAMP '{hi}'")
    over = {
        "a": ("SELECT count(*) FROM flows", "SELECT count(*) FROM flows"),
        "b": (Q_B_SAGEFLOW, Q_B_SAGEFLOW),
        "w": (window, window + part),
        "r": (q_r, q_r),
    }
    for q, (sql_sf, sql_other) in over.items():
        results["p" + q] = median_runs({
            "sageflow parquet": sf + ["query", export_dir, "--quiet", "--format", "csv", "--sql", sql_sf],
            "duckdb parquet": [python, "-c", "import duckdb; c = duckdb.connect(); c.execute('SET threads={}'); "
                               "print(len(c.execute({!r}).fetchall()))".format(THREADS, sql_other.replace("FROM flows", "FROM " + duck_src))],
            "datafusion parquet": [DFCSV, "parquet", export_dir, sql_other, str(THREADS)],
        })
    print("memory on a corpus 4x larger", flush=True)
    results["big"] = median_runs({
        "sageflow 4x": sf + ["query", large, "--quiet", "--format", "csv", "--inventory", os.path.join(large, "inventory"), "--sql", Q_B_SAGEFLOW],
    })
    write_report(results, floor, records, large_records, export, corpus, large, (lo, hi), page)


def one_hour(python, export_dir):
    """A window of ten minutes from the export's first hour (the generated corpus spans
    less than an hour): (lo, hi, (year, month, day))."""
    code = ("import duckdb; "
            f"print(duckdb.sql(\"SELECT strftime(date_trunc('hour', min(start_time) AT TIME ZONE 'UTC'), '%Y-%m-%d %H:%M:%S') "
            f"FROM read_parquet('{export_dir}/year=*/month=*/day=*/*.parquet')\").fetchall()[0][0])")
    lo = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    day, clock = lo.split(" ")
    hi = f"{day} {clock[:2]}:10:00"
    y, m, d = day.split("-")
    return lo, hi, (y, m, d)



def versions(python):
    def run(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"
    return {
        "sageflow": run(["git", "-C", ROOT, "describe", "--always", "--dirty"]),
        "rustc": run(["rustc", "--version"]),
        "duckdb": run([sys.argv[4], "-c", "import duckdb; print(duckdb.__version__)"]),
        "datafusion": "55.2.0 (Cargo.lock)",
    }


def write_report(r, floor, records, large_records, export, corpus, large, window, page):
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    v = versions(sys.argv[4])
    sizes = {}
    for name, d in (("default", corpus), ("4x", large)):
        gz = sum(os.path.getsize(os.path.join(p, f)) for p, _, fs in os.walk(os.path.join(d, "AWSLogs")) for f in fs)
        sizes[name] = gz / 1e6
    best_floor = max(floor.values())
    def rate(sec, n=records):
        return n / sec
    lines = []
    w = lines.append
    w("# Benchmarks")
    w("")
    w(f"Measured by `benches/compare.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
      f"{THREADS} cores ({cpu}), {platform.system()} {platform.release()}. "
      f"Versions: sageflow {v['sageflow']}, {v['rustc']}, DuckDB {v['duckdb']}, DataFusion {v['datafusion']}. "
      f"Medians of {RUNS} runs, tools alternating; wall-clock seconds of the whole process; peak RSS from GNU time.")
    w("")
    w(f"Corpus: `sageflow generate --records {records} --objects 8 --format v5 --seed 1` "
      f"({sizes['default']:.0f} MB gzip); 4x corpus: {large_records} records in 12 objects ({sizes['4x']:.0f} MB gzip).")
    w("")
    w("| query | tool | median s | runs (s) | records/s | records/s per core | peak RSS MB | sageflow is faster by |")
    w("|---|---|---|---|---|---|---|---|")
    for q, title in (("a", "(a) count(*)"), ("b", "(b) egress bytes per interface"), ("c", "(c) leaves-vpc / scan")):
        base = r[q].get("sageflow", r[q].get("sageflow leaves-vpc SQL"))[0]
        for tool, (med, rss, runs) in r[q].items():
            ratio = med / base
            w(f"| {title} | {tool} | {med:.2f} | {', '.join(f'{x:.2f}' for x in runs)} | {rate(med):,.0f} | "
              f"{rate(med) / THREADS:,.0f} | {rss:.0f} | {ratio:.2f}x |")
    for q, title in (("b1", "(b) one core"), ("scan_json", "(c) scan, findings as JSON"),
                     ("scan_big", "(c) scan, 4x corpus"), ("enrich", "leaves_vpc vs its inputs"),
                     ("big", "(b) 4x corpus")):
        for tool, (med, rss, runs) in r[q].items():
            n = large_records if q in ("big", "scan_big") else records
            w(f"| {title} | {tool} | {med:.2f} | {', '.join(f'{x:.2f}' for x in runs)} | {rate(med, n):,.0f} | "
              f"{rate(med, n) / (1 if q == 'b1' else THREADS):,.0f} | {rss:.0f} | |")
    w("")
    w("Over the Parquet export of the default corpus (`sageflow export`, day partitions), as a dashboard would "
      "query it: sageflow `query <export>` (its exported enrichment, no --inventory), DuckDB "
      "`read_parquet(..., hive_partitioning=true)`, DataFusion `register_parquet` with the partition columns "
      f"(`examples/datafusion_csv.rs parquet`). (w) is ten minutes, {window[0]} to {window[1]} UTC (the corpus spans 39 minutes); DuckDB and "
      "DataFusion are also given that day's partition values. (r) is `queries/report-bytes-per-resource.sql`.")
    w("")
    w("| query | tool | median s | runs (s) | peak RSS MB | sageflow is faster by |")
    w("|---|---|---|---|---|---|")
    for q, title in (("pa", "(a) count(*)"), ("pb", "(b) egress bytes per interface"), ("pw", "(w) ten minutes"),
                     ("pr", "(r) bytes per resource")):
        base = r[q]["sageflow parquet"][0]
        for tool, (med, rss, runs) in r[q].items():
            w(f"| {title} | {tool} | {med:.2f} | {', '.join(f'{x:.2f}' for x in runs)} | {rss:.0f} | {med / base:.2f}x |")
    w("")
    w("Floor, gzip decompression alone on one thread (`examples/gunzip_floor.rs`): " +
      ", ".join(f"{k.replace('_s', '')}: {val:,.0f} records/s" for k, val in floor.items()) + ".")
    for name, (t, m, size, gz) in export.items():
        w(f"Export of the {name} corpus to Parquet: {t:.2f} s, peak RSS {m:.0f} MB, "
          f"{size:.0f} MB of Parquet from {gz:.0f} MB of gzip logs ({size / gz:.0%}).")
    for name, (t, m, kb) in page.items():
        w(f"HTML report (`sageflow report`, every rule plus the page's aggregations) of the {name} corpus: "
          f"{t:.2f} s, peak RSS {m:.0f} MB, a page of {kb:.0f} kB.")
    w("")
    b = r["b"]
    sf_b = b["sageflow"][0]
    one = rate(r["b1"]["sageflow 1 core"][0])
    bp = r["pb"]["sageflow parquet"][0]
    rss_default = max(b["sageflow"][1], r["b1"]["sageflow 1 core"][1])
    rss_big = r["big"]["sageflow 4x"][1]
    w("## Targets")
    w("")
    w("| target | measured | met |")
    w("|---|---|---|")
    def row(name, value, ok):
        w(f"| {name} | {value} | {'yes' if ok else 'no'} |")
    x = b["datafusion-csv"][0] / sf_b
    row("(b) >= 1.5x faster than DataFusion's CSV reader", f"{x:.2f}x", x >= 1.5)
    x = b["duckdb"][0] / sf_b
    row("(b) >= 4x faster than DuckDB", f"{x:.2f}x", x >= 4)
    x = one / best_floor
    row("one core: parse + enrich + (b) >= 60% of the fastest decompression-only rate",
        f"{one:,.0f} vs {best_floor:,.0f} records/s = {x:.0%}", x >= 0.6)
    row("peak RSS <= 200 MB on the default corpus", f"{rss_default:.0f} MB", rss_default <= 200)
    x = rss_big / rss_default - 1
    row("peak RSS on the 4x corpus (12 objects of ~75 MB gzip) <= 10% higher", f"{rss_big:.0f} MB ({x:+.0%})", x <= 0.10)
    x = sf_b / bp
    row("(b) over the Parquet export >= 10x faster than over gzip text", f"{x:.1f}x", x >= 10)
    c = r["c"]
    x = c["sageflow scan"][0] / c["sageflow leaves-vpc SQL"][0]
    row("scan with every bundled rule <= 1.3x the leaves-vpc SQL alone", f"{c['sageflow scan'][0]:.2f} s vs "
        f"{c['sageflow leaves-vpc SQL'][0]:.2f} s = {x:.2f}x", x <= 1.3)
    scan_rss = c["sageflow scan"][1]
    row("scan peak RSS <= 200 MB on the default corpus", f"{scan_rss:.0f} MB", scan_rss <= 200)
    big = r["scan_big"]["sageflow scan 4x"][1]
    x = big / scan_rss - 1
    row("scan peak RSS on the 4x corpus <= 10% higher", f"{big:.0f} MB ({x:+.0%})", x <= 0.10)
    e = r["enrich"]
    x = e["sageflow enriched"][0] / e["sageflow inputs only"][0]
    row("a query reading enrichment columns <= 1.2x decoding the same inputs without --inventory",
        f"{e['sageflow enriched'][0]:.2f} s vs {e['sageflow inputs only'][0]:.2f} s = {x:.2f}x", x <= 1.2)
    for name, (t, m, size, gz) in export.items():
        row(f"export peak RSS <= 400 MB, {name} corpus", f"{m:.0f} MB", m <= 400)
        row(f"export smaller than the gzip logs, {name} corpus", f"{size:.0f} MB vs {gz:.0f} MB", size < gz)
    t = export["default"][0]
    row("export <= 10 s on the default corpus", f"{t:.2f} s", t <= 10)
    for q, title in (("pa", "(a)"), ("pb", "(b)"), ("pw", "(w) ten minutes"), ("pr", "(r) bytes per resource")):
        mine = r[q]["sageflow parquet"][0]
        for other in ("duckdb parquet", "datafusion parquet"):
            theirs = r[q][other][0]
            row(f"over the export, {title}: sageflow at least as fast as {other}",
                f"{mine:.2f} s vs {theirs:.2f} s", mine <= theirs)
    w("")
    w("Reproduce: `bash benches/compare.sh` (see the README).")
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
