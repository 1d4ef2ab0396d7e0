"""Scale-out benchmark behind benches/compare.sh (issue 20): query (b) and the leaves-vpc
count over the 4x corpus in-process and on 1, 2 and 4 local `sageflow worker` processes,
with the bytes that crossed the network between stages (from EXPLAIN ANALYZE's metrics of
the network boundaries, and the plans sent to the workers). Writes the "Scale out" section
of BENCHMARKS.md (replacing an earlier one), with a projection of cluster throughput
stated with its assumptions.

On a 2-core machine every worker shares the same two cores with the others and with the
coordinator: the figures show the overhead of distribution, not a speed-up.

    python3 benches/scale_out.py CORPUS RECORDS
"""

import os
import re
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAGEFLOW = os.path.join(ROOT, "target/release/sageflow")
RUNS = int(os.environ.get("RUNS", "3"))
WORKER_COUNTS = (1, 2, 4)

Q_B = ("SELECT interface_id, sum(bytes) AS bytes FROM flows WHERE action = 'ACCEPT' "
       "AND flow_direction = 'egress' AND dstaddr NOT LIKE '10.%' GROUP BY 1")
Q_LEAVES = "SELECT count(*) FROM flows WHERE leaves_vpc"
QUERIES = {"(b) egress bytes per interface": Q_B, "leaves-vpc count (enriched)": Q_LEAVES}

UNITS = {"B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "K": 1e3, "M": 1e6}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_workers(n):
    procs, addrs = [], []
    for _ in range(n):
        addr = f"127.0.0.1:{free_port()}"
        procs.append(subprocess.Popen([SAGEFLOW, "worker", "--listen", addr],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        addrs.append(addr)
    for addr in addrs:
        host, port = addr.split(":")
        for _ in range(200):
            try:
                socket.create_connection((host, int(port)), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
    return procs, ",".join(addrs)


def query(corpus, sql, workers=None):
    cmd = [SAGEFLOW, "query", corpus, "--quiet", "--format", "csv",
           "--inventory", os.path.join(corpus, "inventory"), "--sql", sql]
    if workers:
        cmd += ["--workers", workers]
    return cmd


def timed(cmd):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return dt, p.stdout


def amount(text):
    m = re.match(r"([\d.]+)\s*([KMG]?B?)", text.strip())
    return float(m.group(1)) * UNITS.get(m.group(2) or "B", 1)


def shipped(corpus, sql, workers):
    """Bytes of Arrow data that crossed each network boundary, and of the plans sent."""
    _, out = timed(query(corpus, "EXPLAIN ANALYZE " + sql, workers))
    between = 0.0
    for line in out.splitlines():
        if "NetworkShuffleExec" in line or "NetworkCoalesceExec" in line or "NetworkBroadcastExec" in line:
            m = re.search(r"output_bytes=([\d.]+ ?[KMG]?B)", line)
            if m:
                between += amount(m.group(1))
    plans = sum(amount(v) for v in re.findall(r"plan_bytes_sent=\{[^}]*?:([\d.]+ ?[KMG]?B)", out))
    return between, plans


def main():
    corpus, records = sys.argv[1], int(sys.argv[2])
    results = {}
    for name, sql in QUERIES.items():
        print(f"scale out: {name}", flush=True)
        times = {"in-process": []}
        rows = {}
        for _ in range(RUNS):
            dt, out = timed(query(corpus, sql))
            times["in-process"].append(dt)
            rows["in-process"] = out
        net = {}
        for n in WORKER_COUNTS:
            procs, addrs = start_workers(n)
            try:
                key = f"{n} worker{'s' if n > 1 else ''}"
                times[key] = []
                for _ in range(RUNS):
                    dt, out = timed(query(corpus, sql, addrs))
                    times[key].append(dt)
                    rows[key] = out
                net[key] = shipped(corpus, sql, addrs)
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    p.wait()
            if sorted(rows[key].splitlines()) != sorted(rows["in-process"].splitlines()):
                sys.exit(f"{name}: {key} gave other rows than in-process")
            print(f"  {key}: {statistics.median(times[key]):.2f}s, between stages "
                  f"{net[key][0]:.0f} B, plans {net[key][1]:.0f} B", flush=True)
        results[name] = (times, net)
    write(results, records, corpus)


def write(results, records, corpus):
    lines = ["## Scale out (issue 20)", "",
             f"`benches/scale_out.py`, run by `benches/compare.sh`: {records:,} records (the 4x corpus, "
             f"{len(os.listdir(os.path.join(corpus, 'AWSLogs')))} account folder(s)) with `--inventory`, "
             f"in-process and on 1, 2 and 4 local `sageflow worker` processes; median of {RUNS} runs, "
             f"wall clock. On this {os.cpu_count()}-core machine the workers and the coordinator share the "
             "same cores, so this measures the cost of distribution, not a speed-up. Rows are checked "
             "equal to the in-process rows. \"Between stages\" is the Arrow data that crossed the network "
             "boundaries (EXPLAIN ANALYZE's `output_bytes` of NetworkShuffleExec/NetworkCoalesceExec); "
             "\"plans\" is what the coordinator sent to the workers (each task's plan, with the inventory's "
             "documents).", "",
             "| query | run | median s | vs in-process | between stages | plans sent |",
             "|---|---|---:|---:|---:|---:|"]
    for name, (times, net) in results.items():
        base = statistics.median(times["in-process"])
        for key, ts in times.items():
            med = statistics.median(ts)
            b, p = net.get(key, (None, None))
            lines.append(f"| {name} | {key} | {med:.2f} | {med / base - 1:+.0%} | "
                         f"{'' if b is None else f'{b / 1e3:.1f} kB'} | {'' if p is None else f'{p / 1e3:.0f} kB'} |")
    times, net = results["(b) egress bytes per interface"]
    one = statistics.median(times["1 worker"])
    rate = records / one
    b, p = net["1 worker"]
    lines += ["",
              "Projection, from the 1-worker run of (b): one worker on this machine's "
              f"{os.cpu_count()} cores read, decoded, enriched and partially aggregated {rate / 1e6:.2f} M records/s "
              f"({rate / (os.cpu_count() or 1) / 1e6:.2f} M per core), and what it sent on was {b / 1e3:.1f} kB "
              "(the partial groups: one row per interface, whatever the records). Assuming workers of the same "
              "per-core speed, objects spread evenly over them (the split is by object, balanced by size), the "
              "same number of distinct groups, and S3 reads that keep up with decoding (the benchmark reads a "
              "local disk), N workers of C cores read about N × C × "
              f"{rate / (os.cpu_count() or 1) / 1e6:.2f} M records/s; the coordinator receives N × "
              f"{b / 1e3:.1f} kB per query plus the final merge, and sends each task a plan of about "
              f"{p / 1e3:.0f} kB (mostly the inventory's documents). Listing the objects and planning "
              "stay on the coordinator.", ""]
    section = "\n".join(lines)
    path = os.path.join(ROOT, "BENCHMARKS.md")
    text = open(path).read() if os.path.exists(path) else ""
    start = text.find("## Scale out (issue 20)")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    open(path, "w").write(text)
    print(section)


if __name__ == "__main__":
    main()
