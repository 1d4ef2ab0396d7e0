#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ from the project's own test data
(tests/data/conformance, tests/data/malformed, sample-logs). Rerun after changing the
harness input layout (src/fuzzing.rs); the output is deterministic, and each seed stays a
few KB so the committed corpora are small.

    python3 fuzz/make_seeds.py
"""

import gzip
import json
import pathlib
import re
import shutil

ROOT = pathlib.Path(__file__).resolve().parent.parent
CONF = ROOT / "tests/data/conformance"
SAMPLE = ROOT / "sample-logs"
OUT = ROOT / "fuzz/corpus"
DICTS = ROOT / "fuzz/dicts"

DEFAULT = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status".split()

# Keep in step with FORMATS in src/fuzzing/text.rs: index 0 is the default v2 format.
FORMATS = [
    DEFAULT,
    "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path".split(),
    "version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr region az-id packets bytes start end flow-direction traffic-path ecs-cluster-name ecs-task-id reject-reason resource-id encryption-status instance-tag interface-type next-hop-interface-id action log-status".split(),
    "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service".split(),
    "version srcaddr dstaddr brand-new-field bytes start end action".split(),
]

# Values for fields no source record has, so that every format gets full records.
FILLERS = {
    "ecs-cluster-name": "ml-cluster",
    "ecs-task-id": "0123456789abcdef0123456789abcdef",
    "reject-reason": "BPA",
    "resource-id": "nat-0c50d5961bcb2d47b",
    "encryption-status": "1",
    "instance-tag": "team%3Dml",
    "interface-type": "interface",
    "next-hop-interface-id": "eni-0fedcba9876543210",
    "brand-new-field": "value-x",
    "resource-type": "TransitGateway",
    "tgw-id": "tgw-0123456789abcdef0",
    "tgw-attachment-id": "tgw-attach-0123456789abcdef0",
    "tgw-src-vpc-account-id": "111122223333",
    "tgw-dst-vpc-account-id": "444455556666",
    "tgw-src-vpc-id": "vpc-0a1b2c3d4e5f60001",
    "tgw-dst-vpc-id": "vpc-0a1b2c3d4e5f60002",
    "tgw-src-subnet-id": "subnet-0aaa",
    "tgw-dst-subnet-id": "subnet-0bbb",
    "tgw-src-eni": "eni-0aaa",
    "tgw-dst-eni": "eni-0bbb",
    "tgw-src-az-id": "use1-az1",
    "tgw-dst-az-id": "use1-az2",
    "tgw-pair-attachment-id": "tgw-attach-0fedcba",
    "packets-lost-no-route": "0",
    "packets-lost-blackhole": "0",
    "packets-lost-mtu-exceeded": "1",
    "packets-lost-ttl-expired": "0",
}


HEADER_TOKEN = re.compile(r"^[a-z][a-z0-9_-]*$")


def is_header(line):
    toks = line.split()
    named = {"version", "srcaddr", "account-id", "interface-id", "instance-id", "resource-type"}
    return bool(toks) and all(HEADER_TOKEN.match(t) for t in toks) and bool(named & set(toks))


def records(text):
    """(field -> value) dicts of the records in a flow-log text with or without a header."""
    fields = DEFAULT
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if is_header(line):
            fields = [t.replace("_", "-") for t in line.split()]
            continue
        toks = line.split()
        if len(toks) == len(fields):
            out.append(dict(zip(fields, toks)))
    return out


def source_records():
    recs = []
    for p in sorted((CONF / "flowlogs").rglob("*.log")):
        recs += records(p.read_text())
    for d in ["v2-default", "v5-custom"]:
        for p in sorted((SAMPLE / d).rglob("*.log.gz"))[:2]:
            recs += records(gzip.decompress(p.read_bytes()).decode())[:6]
    return recs


def line_for(fmt, rec, base=None):
    base = base or {}
    return " ".join(rec.get(f) or FILLERS.get(f) or base.get(f, "-") for f in fmt)


def write(target, name, data):
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def text_seeds():
    for p in sorted((CONF / "flowlogs").rglob("*.log")):
        write("text_decoder", p.stem, p.read_bytes())
    write("text_decoder", "malformed-mixed", (ROOT / "tests/data/malformed/mixed.log").read_bytes())
    for d in ["v2-default", "v5-custom"]:
        p = sorted((SAMPLE / d).rglob("*.log.gz"))[0]
        text = gzip.decompress(p.read_bytes()).decode()
        write("text_decoder", f"sample-{d}", "\n".join(text.splitlines()[:12]).encode() + b"\n")
    pages = json.loads((CONF / "cloudwatch/filter-log-events-pages-flowlogs-reader.json").read_text())
    wrapped = []
    for page in pages["pages"]:
        for e in page["events"]:
            wrapped.append(json.dumps({"timestamp": 1439387263000, "message": e["message"]}))
    # A Firehose delivery puts several wrappers on one line.
    write("text_decoder", "cloudwatch-wrappers", ("\n".join(wrapped) + "\n" + "".join(wrapped[:3]) + "\r\n").encode())
    cases = json.loads((CONF / "peer-parser-cases.json").read_text())
    default_lines = [c["line"] for c in cases if c.get("format") is None and c.get("line")]
    write("text_decoder", "peer-default-lines", ("\n".join(default_lines) + "\n").encode())


def structured_seeds():
    recs = source_records()
    # The richest record fills what a record lacks, so that every seed line is complete.
    base = max(recs, key=len)
    for i, fmt in enumerate(FORMATS):
        best = sorted(recs, key=lambda r: -sum(f in r for f in fmt))[:8]
        body = "\n".join(line_for(fmt, r, base) for r in best) + "\n"
        # delivery 0..3 with different strictness, window, projection and batch size.
        for flags in [0x00, 0x01 | 0x10, 0x02 | 0x08 | 0x20, 0x03 | 0x30 | 0x40, 0x04 | 0x80 | 0x01]:
            write("text_structured", f"format{i}-flags{flags:02x}", bytes([i, flags]) + body.encode())
    # A damaged record among good ones, under the v5 format given as a header line.
    body = [line_for(FORMATS[1], r, base) for r in recs[:4]]
    body.insert(2, body[1].replace(" 6 ", " six ", 1))
    write("text_structured", "format1-damaged", bytes([1, 0x01]) + ("\n".join(body) + "\n").encode())


def log_format_seeds():
    for i, fmt in enumerate(FORMATS):
        write("log_format", f"format{i}-aws", " ".join("${" + f + "}" for f in fmt).encode())
        write("log_format", f"format{i}-header", " ".join(fmt).encode())
    cases = json.loads((CONF / "peer-parser-cases.json").read_text())
    seen = set()
    for c in cases:
        f = c.get("format")
        if f and f != "parquet" and f not in seen:
            seen.add(f)
            write("log_format", f"peer-{len(seen)}", f.encode())
    for d in ["v2-default", "v5-custom", "parquet-hive"]:
        p = sorted((SAMPLE / d).rglob("*.*"))[0]
        write("log_format", f"key-{d}", str(p.relative_to(SAMPLE)).encode())


def inventory_seeds():
    inv = SAMPLE / "inventory"
    for p in sorted(inv.rglob("*.json")):
        data = p.read_bytes()
        if len(data) > 4096:
            # Keep seeds small: the first few items of each list.
            doc = json.loads(data)
            for k, v in doc.items():
                if isinstance(v, list):
                    doc[k] = v[:2]
            data = json.dumps(doc, indent=4).encode()
        write("inventory", p.stem, data)
    vpcs = (inv / "describe-vpcs.json").read_bytes()
    write("inventory", "bom-utf8", b"\xef\xbb\xbf" + vpcs)
    write("inventory", "utf16le", b"\xff\xfe" + vpcs.decode().encode("utf-16-le"))
    write("inventory", "utf16be", b"\xfe\xff" + vpcs.decode().encode("utf-16-be"))
    nb = sorted((inv / "sagemaker").glob("describe-notebook*.json"))
    write("inventory", "concatenated", b"".join(p.read_bytes() for p in nb))
    sm = [json.loads(p.read_bytes()) for p in sorted((inv / "sagemaker").glob("*.json"))[:3]]
    write("inventory", "array-of-documents", json.dumps(sm).encode())
    ranges = json.loads((ROOT / "data/ip-ranges.json").read_bytes())
    small = {
        "syncToken": ranges["syncToken"],
        "createDate": ranges["createDate"],
        "prefixes": ranges["prefixes"][:4],
        "ipv6_prefixes": ranges["ipv6_prefixes"][:3],
    }
    write("inventory", "ip-ranges", json.dumps(small, indent=2).encode())


def gzip_seeds():
    for d in ["v2-default", "v5-custom"]:
        files = sorted((SAMPLE / d).rglob("*.log.gz"))
        write("gzip", f"sample-{d}", files[0].read_bytes())
    # Several members, as a multi-part upload concatenates them.
    members = [gzip.compress(b"version srcaddr dstaddr bytes\n", mtime=0), gzip.compress(b"2 10.0.0.1 10.0.0.2 5\n3 10.0.0.3 ::1 6\n", mtime=0)]
    write("gzip", "multi-member", b"".join(members))
    write("gzip", "empty-member", gzip.compress(b"", mtime=0))
    write("gzip", "crlf-json", gzip.compress((CONF / "flowlogs/flowlogs-reader/v2-records.log").read_bytes().replace(b"\n", b"\r\n"), mtime=0))
    # A line longer than the 1 MiB limit, which the reader skips without buffering it.
    write("gzip", "long-line", gzip.compress(b"2 " + b"x" * ((1 << 20) + 1) + b"\n2 1 eni-1 - - - - - - - 1 2 - NODATA\n", mtime=0, compresslevel=9))


def parquet_seeds():
    write("parquet", "conformance-flowlogs-reader", (CONF / "parquet/flowlogs-reader-flows.parquet").read_bytes())
    p = sorted((SAMPLE / "parquet-hive").rglob("*.parquet"))[0]
    write("parquet", "sample-parquet-hive", p.read_bytes())


def dict_entry(tok):
    esc = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else f"\\x{ord(c):02x}" for c in tok)
    return f'"{esc}"'


def write_dicts():
    """libFuzzer dictionaries: without a sanitizer, string comparisons give the fuzzer no
    hints, so field names, keywords and JSON keys are handed to it."""
    DICTS.mkdir(parents=True, exist_ok=True)
    names = sorted({f for fmt in FORMATS for f in fmt} | set(re.findall(r'^    "([a-z0-9-]+)", "', (ROOT / "src/format/mod.rs").read_text(), re.M)))
    flow = names + [n.replace("-", "_") for n in names if "-" in n]
    flow += ["${", "}", "ACCEPT", "REJECT", "OK", "NODATA", "SKIPDATA", "IPv4", "IPv6", "unknown", "-", "\t", "\r\n",
             '{"message":"', '"}', "}{", "::", "::ffff:", "10.0.0.1", "2001:db8::1", "1616729292000", "2147483648", "9223372036854775808"]
    text = "\n".join(dict_entry(t) for t in flow) + "\n"
    for t in ["text_decoder", "text_structured", "log_format"]:
        (DICTS / f"{t}.dict").write_text(text)
    keys = set()
    for p in sorted((SAMPLE / "inventory").rglob("*.json")):
        keys |= set(re.findall(r'"([A-Za-z0-9]+)":', p.read_text()))
    inv = sorted(keys) + ["ip_prefix", "ipv6_prefix", "prefixes", "ipv6_prefixes", "service", "syncToken", "createDate"]
    extra = ["associated", "Interface", "Gateway", "nat_gateway", "Interface for NAT Gateway nat-", "pl-0123abcd", "10.0.0.0/16", "::/0", "2026-11-20T10:00:00.318000+00:00", "1795168800.5", "null", "true", "[]", "{}"]
    (DICTS / "inventory.dict").write_text("\n".join(dict_entry(f'"{k}":') for k in inv) + "\n" + "\n".join(dict_entry(e) for e in extra) + "\n")


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    write_dicts()
    text_seeds()
    structured_seeds()
    log_format_seeds()
    inventory_seeds()
    gzip_seeds()
    parquet_seeds()
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{sum(1 for p in OUT.rglob('*') if p.is_file())} seeds, {total} bytes")


if __name__ == "__main__":
    main()
