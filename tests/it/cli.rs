//! Tests of the real `sageflow` binary: outputs are compared with snapshots in
//! `tests/snapshots/` (regenerate with `UPDATE_SNAPSHOTS=1 cargo test`), exit codes and
//! stderr reports are asserted directly.

use crate::support::{self, root, sageflow, snapshot};

use std::io::Write;

use assert_cmd::Command;
use serde_json::Value;

fn stdout_of(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn schema_snapshot() {
    snapshot("schema.txt", &stdout_of(sageflow().arg("schema")));
    let json: Value =
        serde_json::from_str(&stdout_of(sageflow().args(["schema", "--format", "json"]))).unwrap();
    assert_eq!(json["table"], "flows");
    assert!(json["fields"].as_array().unwrap().len() >= 70);
}

#[test]
fn query_conformance_files_snapshot() {
    let out = stdout_of(sageflow().args([
        "query",
        "tests/data/conformance/flowlogs",
        "--quiet",
        "--sql",
        "SELECT interface_id, srcaddr, dstaddr, srcport, dstport, protocol, bytes, start_time, action, log_status, tcp_flags, flow_direction, traffic_path, pkt_dst_aws_service \
         FROM flows ORDER BY start_time, interface_id, srcaddr, dstaddr, srcport, bytes",
    ]));
    snapshot("query-conformance.txt", &out);
}

#[test]
fn output_formats() {
    let base = [
        "query",
        "tests/data/conformance/flowlogs/aws-docs/default-v2-examples.log",
        "--quiet",
        "--sql",
        "SELECT action, count(*) AS n, sum(bytes) AS bytes FROM flows GROUP BY 1 ORDER BY 1 NULLS LAST",
    ];
    for fmt in ["table", "csv", "json", "ndjson"] {
        let out = stdout_of(sageflow().args(base).args(["--format", fmt]));
        snapshot(&format!("formats.{fmt}"), &out);
    }
    let json: Value =
        serde_json::from_str(&stdout_of(sageflow().args(base).args(["--format", "json"]))).unwrap();
    assert_eq!(json[2]["action"], Value::Null, "NULL is written explicitly");
}

#[test]
fn malformed_lines_are_kept_out_reported_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    let out = sageflow()
        .args([
            "query",
            "tests/data/malformed/mixed.log",
            "--format",
            "csv",
            "--sql",
            "SELECT action, count(*) AS n FROM flows GROUP BY 1 ORDER BY 1 NULLS LAST",
            "--rejects",
        ])
        .arg(&rejects)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "action,n\nACCEPT,2\nREJECT,1\n,1\n"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("7 records: 4 rows, 3 rejected"), "{err}");
    assert!(
        err.contains(
            "mixed.log:3: not an IPv4 or IPv6 address (field `dstaddr`, value `10.0.2.999`)"
        ),
        "{err}"
    );
    assert!(
        err.contains("mixed.log:6: not a 32-bit integer (field `protocol`, value `six`)"),
        "{err}"
    );
    assert!(
        err.contains("mixed.log:7: expected 14 fields (header line), found 11"),
        "{err}"
    );
    let lines: Vec<Value> = std::fs::read_to_string(&rejects)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let mut at: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    at.sort();
    assert_eq!(at, vec![3, 6, 7]);
    assert!(
        lines
            .iter()
            .all(|l| l["object"].as_str().unwrap().ends_with("mixed.log"))
    );
}

#[test]
fn strict_fails_on_first_reject() {
    let out = sageflow()
        .args([
            "query",
            "tests/data/malformed/mixed.log",
            "--strict",
            "--sql",
            "SELECT count(*) FROM flows",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("rejected record at tests/data/malformed/mixed.log:3"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "printed once: {err}");
}

#[test]
fn usage_and_input_errors_exit_2() {
    let out = sageflow()
        .args(["query", "no/such/dir", "--sql", "SELECT 1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));
    let out = sageflow()
        .args([
            "query",
            "tests/data/malformed/mixed.log",
            "--sql",
            "SELEC nothing",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = sageflow()
        .args(["query", "tests/data/malformed/mixed.log", "--since", "soon"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = sageflow().args(["query", "--bogus-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn user_sql_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("out.csv");
    for sql in [
        format!("COPY (SELECT * FROM flows) TO '{}'", target.display()),
        format!(
            "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{}'",
            target.display()
        ),
        "INSERT INTO flows SELECT * FROM flows".to_string(),
    ] {
        let out = sageflow()
            .args([
                "query",
                "tests/data/malformed/mixed.log",
                "--quiet",
                "--sql",
                &sql,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{sql} must be refused");
    }
    assert!(!target.exists());
}

/// Content decides the encoding: a multi-member gzip named `.log`, a plain file named
/// `.gz`, a glob over both.
#[test]
fn encodings_are_sniffed_and_globs_expand() {
    let dir = tempfile::tempdir().unwrap();
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";
    let rec = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1763632800 1763632860 ACCEPT OK\n";
    let mut gz = Vec::new();
    for part in [format!("{header}{rec}"), rec.repeat(2)] {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(part.as_bytes()).unwrap();
        gz.extend(e.finish().unwrap());
    }
    std::fs::write(dir.path().join("a.log"), &gz).unwrap();
    std::fs::write(dir.path().join("b.gz"), format!("{header}{rec}")).unwrap();
    let glob = format!("{}/*", dir.path().display());
    let out = stdout_of(sageflow().args([
        "query",
        &glob,
        "--quiet",
        "--format",
        "csv",
        "--sql",
        "SELECT count(*) AS n FROM flows",
    ]));
    assert_eq!(out, "n\n4\n");
}

/// --since/--until skip objects by their key without opening them, and drop rows
/// outside the window.
#[test]
fn time_window_prunes_objects_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir
        .path()
        .join("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11");
    for (d, ts) in [("18", 1794960000), ("20", 1795132800)] {
        let p = day.join(d);
        std::fs::create_dir_all(&p).unwrap();
        let name = format!("123456789012_vpcflowlogs_us-east-1_fl-1_202611{d}T0000Z_abcd1234.log");
        std::fs::write(
            p.join(name),
            format!(
                "2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 {ts} {} ACCEPT OK\n",
                ts + 60
            ),
        )
        .unwrap();
    }
    // A corrupt file in the pruned day proves it is never opened.
    std::fs::write(day.join("18/garbage.log"), "not a flow log\n").unwrap();
    let out = sageflow()
        .args(["query"])
        .arg(dir.path())
        .args([
            "--since",
            "2026-11-20T00:00:00Z",
            "--format",
            "csv",
            "--sql",
            "SELECT count(*) AS n FROM flows",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "n\n1\n");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("0 rejected"), "{err}");
    assert!(err.contains("skipped by time"), "{err}");
}

#[test]
fn sql_time_filters_prune_objects() {
    let out = sageflow()
        .args([
            "query",
            "sample-logs/v2-default",
            "--sql",
            "SELECT count(*) FROM flows WHERE start_time >= '2030-01-01T00:00:00Z'",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("0 objects read"), "{err}");
}

/// The README's first example: actions over the bundled sample, per shape and in all,
/// against the counts the generator wrote.
#[test]
fn sample_logs_action_counts() {
    let counts: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("sample-logs/expected/counts.json")).unwrap(),
    )
    .unwrap();
    let actions = |source: &str| -> Value {
        let out = stdout_of(sageflow().args([
            "query",
            source,
            "--quiet",
            "--format",
            "json",
            "--sql",
            "SELECT coalesce(action, 'null') AS action, count(*) AS n FROM flows GROUP BY 1",
        ]));
        let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
        rows.iter()
            .map(|r| (r["action"].as_str().unwrap().to_string(), r["n"].clone()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let mut total = 0;
    for shape in ["v2-default", "v5-custom", "parquet-hive"] {
        let got = actions(&format!("sample-logs/{shape}"));
        assert_eq!(got, counts[shape]["by_action"], "{shape}");
        total += counts[shape]["records"].as_u64().unwrap();
    }
    let all = actions("sample-logs");
    let sum: u64 = all
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(sum, total);
}

/// Multi-member gzip with its third member damaged (`damage` gets the member's bytes);
/// returns the file's bytes and the damaged member's offset. The first member has the
/// header and 100 records, the others 100 records each (the damaged one 1000).
fn gzip_with_damaged_third_member(damage: impl Fn(&mut Vec<u8>)) -> (Vec<u8>, usize) {
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";
    let rec = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1763632800 1763632860 ACCEPT OK\n";
    let gz = |text: &str| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    };
    let mut data = gz(&format!("{header}{}", rec.repeat(100)));
    data.extend(gz(&rec.repeat(100)));
    let at = data.len();
    let mut third = gz(&rec.repeat(1000));
    damage(&mut third);
    data.extend(third);
    data.extend(gz(&rec.repeat(100)));
    (data, at)
}

/// A damaged object cannot be marked as done: `export` commits nothing (the object would
/// count as exported with part of its rows) and `scan --state` does not move the state.
#[test]
fn damaged_gzip_member_is_not_exported_nor_recorded_in_scan_state() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    let (data, _) = gzip_with_damaged_third_member(|m| m[2] = 7);
    std::fs::write(logs.join("damaged.log.gz"), &data).unwrap();

    let export = dir.path().join("export");
    let state = dir.path().join("state.json");
    for (command, option, target) in [("export", "--out", &export), ("scan", "--state", &state)] {
        let mut c = sageflow();
        c.arg(command).arg(&logs).arg(option).arg(target);
        if command == "scan" {
            // No inventory here: the scan is about the damaged object, not attribution.
            c.arg("--allow-empty");
        }
        let out = c.output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains("gzip member 3 at byte offset"),
            "{command}: {err}"
        );
        // What the run left undone, and the order of the ways out.
        assert!(
            err.contains("--state does not record the object, and export commits nothing")
                && err.contains("refuses a copy put in its place later, short of --full"),
            "{command}: {err}"
        );
    }
    // Only the lock file, which stays (deleting a file others may be waiting to lock would
    // let two runs hold it): no data, manifest, run record or staging.
    let written: Vec<_> = support::files_under(&export)
        .into_iter()
        .filter(|f| !f.ends_with("_sageflow/lock"))
        .collect();
    assert!(written.is_empty(), "export left {written:?}");
    // The state records what else the run read (nothing here), not the damaged object.
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(
        recorded["local"],
        serde_json::json!({}),
        "the state moved past a damaged object"
    );
}

/// `records: rows, rejected` from the summary line.
fn summary_counts(err: &str) -> (u64, u64, u64) {
    let line = err
        .lines()
        .find(|l| l.contains(" records: "))
        .unwrap_or_else(|| panic!("no summary: {err}"));
    let num = |s: &str| s.trim().split(' ').next().unwrap().parse::<u64>().unwrap();
    let (_, rest) = line.split_once("), ").unwrap();
    let (records, rest) = rest.split_once(" records: ").unwrap();
    let (rows, rest) = rest.split_once(" rows, ").unwrap();
    (num(records), num(rows), num(rest))
}

/// A damaged gzip member fails the run naming the file and the member's byte offset,
/// after the rows before it were read and counted; the summary still adds up.
/// A Parquet file on which parquet 59 panics (found by fuzzing): the run fails naming the
/// file, and no "thread panicked" message makes it look like a crash.
#[test]
fn parquet_decoder_panic_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.parquet");
    std::fs::copy(
        root().join("fuzz/regressions/parquet/dictionary-page-without-values"),
        &path,
    )
    .unwrap();
    let out = sageflow()
        .args(["query"])
        .arg(&path)
        .args(["--sql", "SELECT * FROM flows"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(&format!("{}: ", path.display()))
            && err.contains("the Parquet decoder failed on damaged data"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn damaged_gzip_member_fails_naming_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    type Damage = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: [(&str, Damage); 2] = [
        ("header", Box::new(|m: &mut Vec<u8>| m[2] = 7)),
        (
            "data",
            Box::new(|m: &mut Vec<u8>| {
                let mid = m.len() / 2;
                m[mid..mid + 8].fill(0xff);
            }),
        ),
    ];
    for (what, damage) in cases {
        let (data, at) = gzip_with_damaged_third_member(damage);
        let path = dir.path().join(format!("damaged-{what}.log.gz"));
        std::fs::write(&path, &data).unwrap();
        let out = sageflow()
            .args(["query"])
            .arg(&path)
            .args([
                "--format",
                "csv",
                "--sql",
                "SELECT count(*) AS n FROM flows",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{what}");
        let printed = String::from_utf8(out.stdout).unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.contains(&format!(
                "error: {}: gzip member 3 at byte offset {at} (of {}) is corrupt: ",
                path.display(),
                data.len()
            )),
            "{what}: {err}"
        );
        assert!(
            err.contains("the rest of the object is not read"),
            "{what}: {err}"
        );
        assert!(err.contains("hint: the object is damaged"), "{what}: {err}");
        assert_eq!(err.matches("error:").count(), 1, "printed once: {err}");
        let (records, rows, rejected) = summary_counts(&err);
        assert_eq!(records, rows + rejected, "{what}: {err}");
        // The rows before the damage are kept: the result counts exactly the rows read.
        assert_eq!(printed, format!("n\n{rows}\n"), "{what}: {err}");
        if what == "header" {
            // Nothing of the damaged member was decoded: exactly the rows before it, and the
            // unreadable rest of the object is one rejected record.
            assert!(err.contains("stopped after line 201;"), "{err}");
            assert_eq!((records, rows, rejected), (201, 200, 1), "{err}");
        } else {
            assert!(rows >= 200, "{err}");
            assert!(
                err.contains("(lines 202 on came from that member)"),
                "{err}"
            );
        }
    }
}

/// Filters pushed into the decoders give exactly what DataFusion's own evaluation gives,
/// on every input shape: text of several formats (fields missing from a layout are NULL),
/// `-` values, rejected lines, AWS's Parquet and a Parquet export. The same predicates
/// wrapped in `IS TRUE` (which nothing pushes down) are the reference; the summary's
/// records/rows/rejected must not change either.
#[test]
fn pushed_down_filters_match_sql_semantics() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("export");
    stdout_of(
        sageflow()
            .args(["export", "sample-logs/v5-custom", "--quiet", "--out"])
            .arg(&export),
    );
    // (predicate, whether the scan applies it)
    let predicates = [
        ("action = 'ACCEPT'", true),
        ("'REJECT' = action", true),
        ("action <> 'ACCEPT'", true),
        ("log_status IN ('NODATA', 'SKIPDATA')", true),
        ("log_status NOT IN ('OK')", true),
        ("flow_direction = 'egress'", true),
        ("dstaddr LIKE '10.%'", true),
        ("dstaddr NOT LIKE '10.%'", true),
        ("srcaddr LIKE '%'", false),
        ("pkt_dstaddr NOT LIKE '10.0.%%'", true),
        ("dstaddr LIKE '10.0.2.7'", true),
        ("dstaddr NOT LIKE '10.0.2.7'", true),
        ("interface_id = 'eni-0a1b2c3d4e5f60001'", true),
        ("account_id <> '123456789010'", true),
        ("dstport = 443", true),
        ("dstport < 1024", true),
        ("1024 <= srcport", true),
        ("bytes > 1000", true),
        ("packets <> 10", true),
        ("protocol = 6", true),
        ("tcp_flags >= 2", true),
        ("bytes > 3000000000", true),
        ("dstport = 4294967296", true),
        ("dstaddr LIKE '10._.%'", false),
        ("dstaddr LIKE '%.7'", false),
        ("action ILIKE 'accept'", false),
        ("dstport < srcport", false),
        ("action = 'ACCEPT' OR dstport = 443", false),
        ("remote_kind = 'internet'", false),
        ("tcp_flags IS NULL", false),
    ];
    let union = |wrap: bool| {
        predicates
            .iter()
            .enumerate()
            .map(|(i, (p, _))| {
                let p = if wrap {
                    format!("({p}) IS TRUE")
                } else {
                    p.to_string()
                };
                format!(
                    "SELECT {i} AS q, count(*) AS n, sum(bytes) AS b, sum(packets) AS p, \
                     min(srcaddr) AS lo, max(dstaddr) AS hi, count(DISTINCT interface_id) AS enis \
                     FROM flows WHERE {p}"
                )
            })
            .collect::<Vec<_>>()
            .join(" UNION ALL ")
            + " ORDER BY q"
    };
    let inputs = [
        root().join("tests/data/conformance/flowlogs"),
        root().join("tests/data/conformance/parquet"),
        root().join("tests/data/malformed"),
        root().join("sample-logs/v2-default"),
        root().join("sample-logs/v5-custom"),
        root().join("sample-logs/parquet-hive"),
        export,
    ];
    for input in &inputs {
        let run = |sql: &str| {
            let out = sageflow()
                .arg("query")
                .arg(input)
                .args(["--inventory", "sample-logs/inventory", "--format", "csv"])
                .args(["--sql", sql])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(out.status.success(), "{}: {err}", input.display());
            (String::from_utf8(out.stdout).unwrap(), summary_counts(&err))
        };
        let (pushed, pushed_counts) = run(&union(false));
        let (reference, reference_counts) = run(&union(true));
        assert_eq!(pushed, reference, "{}", input.display());
        assert_eq!(pushed_counts, reference_counts, "{}", input.display());
        assert!(pushed.lines().count() == predicates.len() + 1, "{pushed}");
    }
    // Each query above was pushed down, or not, as listed: the union's scans, in order.
    let scans = |wrap: bool| -> Vec<bool> {
        let plan = stdout_of(sageflow().args([
            "query",
            "sample-logs/v5-custom",
            "--inventory",
            "sample-logs/inventory",
            "--quiet",
            "--format",
            "csv",
            "--sql",
            &format!("EXPLAIN {}", union(wrap)),
        ]));
        let physical = &plan[plan.find("physical_plan").unwrap()..];
        physical
            .lines()
            .filter(|l| l.contains("FlowsExec"))
            .map(|l| l.contains("filters=["))
            .collect()
    };
    let expected: Vec<bool> = predicates.iter().map(|(_, pushed)| *pushed).collect();
    assert_eq!(scans(false), expected);
    assert_eq!(scans(true), vec![false; predicates.len()]);
}

/// Issue 17, 12: a symlinked directory inside a source (`latest -> AWSLogs`) names the same
/// objects again; they are read once.
#[test]
fn symlinked_directories_inside_a_source_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("logs");
    for f in support::files_under(&root().join("sample-logs/v2-default")) {
        let dest = src.join(
            f.strip_prefix(root().join("sample-logs/v2-default"))
                .unwrap(),
        );
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(&f, dest).unwrap();
    }
    std::os::unix::fs::symlink("AWSLogs", src.join("latest")).unwrap();
    let out = stdout_of(sageflow().arg("query").arg(&src).args([
        "--quiet",
        "--format",
        "csv",
        "--sql",
        "SELECT count(*) AS n FROM flows",
    ]));
    assert_eq!(out, "n\n2236\n");
}

/// Issue 17, 12: an output that cannot be written says why and what to do (here: a full
/// disk), naming the file.
#[test]
fn a_full_disk_is_named_with_a_hint() {
    let out = sageflow()
        .args([
            "scan",
            "sample-logs/v5-custom",
            "--inventory",
            "sample-logs/inventory",
        ])
        .args(["--quiet", "--output", "/dev/full"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error: /dev/full: No space left"), "{err}");
    assert!(err.contains("hint: the disk is full"), "{err}");
    let out = sageflow()
        .args([
            "query",
            "sample-logs/v5-custom",
            "--quiet",
            "--format",
            "csv",
        ])
        .args(["--sql", "SELECT * FROM flows", "--output", "/dev/full"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("hint: the disk is full"), "{err}");
}

/// Issue 17, 12: names from the data reach the terminal escaped: a file named with escape
/// sequences (a title change, BEL) is shown with `\u{..}` in rejects and errors.
#[test]
fn file_names_reach_the_terminal_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "bad\u{1b}]0;pwned\u{7}.log";
    std::fs::write(
        dir.path().join(name),
        "2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1795169100 1795169130 ACCEPT OK\nnot a record\n",
    )
    .unwrap();
    let out = sageflow()
        .arg("query")
        .arg(dir.path())
        .args([
            "--format",
            "csv",
            "--sql",
            "SELECT count(*) AS n FROM flows",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad\\u{1b}]0;pwned\\u{7}.log:2"), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    let out = sageflow()
        .arg("query")
        .arg(dir.path().join("gone\u{1b}[2J"))
        .args(["--sql", "SELECT 1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gone\\u{1b}"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// Issue 17, 10: user SQL cannot change the run's resource limits or file locations
/// (`SET datafusion.runtime.memory_limit` lifted `--memory-limit`); other settings stay
/// open to it.
#[test]
fn user_sql_cannot_change_runtime_settings() {
    for sql in [
        "SET datafusion.runtime.memory_limit = '64G'; SELECT count(*) FROM flows",
        "SET datafusion.runtime.temp_directory = '/etc'",
        "RESET datafusion.runtime.memory_limit",
    ] {
        let out = sageflow()
            .args([
                "query",
                "sample-logs/v2-default",
                "--memory-limit",
                "64M",
                "--sql",
                sql,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{sql}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot be changed from SQL"), "{sql}: {err}");
        assert!(err.contains("--memory-limit"), "{sql}: {err}");
        assert!(out.stdout.is_empty(), "{sql}");
    }
    let out = stdout_of(sageflow().args([
        "query",
        "sample-logs/v2-default",
        "--quiet",
        "--format",
        "csv",
        "--sql",
        "SET datafusion.execution.batch_size = 1024; SELECT count(*) AS n FROM flows",
    ]));
    assert!(out.ends_with("n\n2236\n"), "{out}");
}
