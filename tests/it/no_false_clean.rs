//! A configuration mistake is an error with a hint, never a quiet "clean" result (issue
//! 16, part A): scans that cannot attribute anything or read nothing, runs whose every
//! record was rejected, typos in field names and suppressions, and the same files named
//! twice. Also incremental scans that lose nothing and repeat nothing (issue 17): late
//! objects straddling --since, appended, touched and rewritten files, lines being written;
//! and runs that rejected records.

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use support::sageflow;

/// Runs sageflow with `args`; returns (exit code, stdout, stderr).
fn run(args: &[&str]) -> (i32, String, String) {
    let out = sageflow().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

const V2: &str = "sample-logs/v2-default";
const INV: &str = "sample-logs/inventory";

#[test]
fn a_scan_that_cannot_attribute_anything_fails() {
    let dir = tempfile::tempdir().unwrap();
    // No --inventory at all.
    let (code, out, err) = run(&["scan", V2]);
    assert_eq!(code, 2, "{err}");
    assert!(!out.contains("No findings"), "{out}");
    assert!(err.contains("scan needs --inventory"), "{err}");
    assert!(
        err.contains("hint: collect one with `sageflow inventory collect"),
        "{err}"
    );
    // An empty directory.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, _, err) = run(&["scan", V2, "--inventory", path(&empty)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("holds no AWS CLI JSON output"), "{err}");
    // The wrong directory: JSON, but no AWS CLI document.
    let wrong = dir.path().join("wrong");
    std::fs::create_dir(&wrong).unwrap();
    std::fs::write(
        wrong.join("package.json"),
        r#"{"name": "x", "version": "1.0.0"}"#,
    )
    .unwrap();
    let (code, _, err) = run(&["scan", V2, "--inventory", path(&wrong)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("none of its 1 files is a recognised AWS CLI document"),
        "{err}"
    );
    // Real documents, but no describe-network-interfaces.
    let partial = dir.path().join("partial");
    std::fs::create_dir(&partial).unwrap();
    for f in ["describe-vpcs.json", "describe-flow-logs.json"] {
        std::fs::copy(Path::new(INV).join(f), partial.join(f)).unwrap();
    }
    let (code, _, err) = run(&["scan", V2, "--inventory", path(&partial)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("has no describe-network-interfaces output"),
        "{err}"
    );
    // describe-network-interfaces run where there are none (another region): it is there,
    // and lists no ENI, which is what the error says.
    std::fs::write(
        partial.join("describe-network-interfaces.json"),
        r#"{"NetworkInterfaces": []}"#,
    )
    .unwrap();
    let (code, _, err) = run(&["scan", V2, "--inventory", path(&partial)]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("describe-network-interfaces output (")
            && err.contains("describe-network-interfaces.json) lists no ENI")
            && err.contains("was it run in another region or account, or with --filters?"),
        "{err}"
    );
    // ENIs, but none of them SageMaker's and no SageMaker document: another account's.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(
        other.join("describe-network-interfaces.json"),
        r#"{"NetworkInterfaces": [{"NetworkInterfaceId": "eni-0123456789abcdef0", "VpcId": "vpc-1",
            "SubnetId": "subnet-1", "InterfaceType": "interface", "RequesterManaged": false,
            "Attachment": {"AttachmentId": "eni-attach-1", "InstanceId": "i-1", "InstanceOwnerId": "111122223333"},
            "PrivateIpAddresses": [{"Primary": true, "PrivateIpAddress": "10.0.0.5"}]}]}"#,
    )
    .unwrap();
    let (code, _, err) = run(&["scan", V2, "--inventory", path(&other)]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("but no SageMaker resource"), "{err}");
    // Asked for explicitly, it runs.
    let (code, out, err) = run(&["scan", V2, "--allow-empty"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "No findings.\n");
    assert!(
        err.contains(
            "0 records of SageMaker workloads; 16 ENIs with records unknown to the inventory"
        ),
        "{err}"
    );
    assert!(err.contains("warning: 2236 records"), "{err}");
}

#[test]
fn a_scan_over_no_record_fails() {
    let (code, out, err) = run(&["scan", V2, "--inventory", INV, "--since", "2030-01-01"]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("the sources yielded no flow record"), "{err}");
    let (code, _, err) = run(&[
        "scan",
        V2,
        "--inventory",
        INV,
        "--since",
        "2030-01-01",
        "--allow-empty",
        "--format",
        "json",
    ]);
    // The inventory-only findings (blind spots) still stand.
    assert_eq!(code, 1, "{err}");
}

#[test]
fn the_summary_says_what_was_attributed() {
    let (code, _, err) = run(&["scan", V2, "--inventory", INV]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "1077 records of SageMaker workloads (and 8 NAT gateway legs attributed to them by \
             packet address); 0 ENIs with records unknown to the inventory"
        ),
        "{err}"
    );
}

#[test]
fn every_record_rejected_exits_2() {
    // A format that fits none of the records (too few fields).
    let wrong = "${version} ${account-id} ${interface-id} ${srcaddr}";
    for command in ["query", "scan"] {
        let mut args = vec![command, V2, "--log-format", wrong, "--inventory", INV];
        if command == "query" {
            args.extend(["--sql", "SELECT count(*) FROM flows"]);
        }
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{command}: {err}");
        assert!(
            err.contains("every one of the 2236 records read was rejected"),
            "{command}: {err}"
        );
    }
}

#[test]
fn field_name_typos_are_errors_with_a_suggestion() {
    let (code, _, err) = run(&[
        "query",
        V2,
        "--log-format",
        "${version} ${acount-id} ${interface-id}",
        "--sql",
        "SELECT 1",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`acount-id` is not a flow-log field (did you mean `account-id`?)"),
        "{err}"
    );
    // A header line with a typo.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.log");
    std::fs::write(
        &file,
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status pkt-scraddr\n\
         2 111122223333 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1763632800 1763632860 ACCEPT OK 10.0.0.1\n",
    )
    .unwrap();
    let (code, _, err) = run(&["query", path(&file), "--sql", "SELECT count(*) FROM flows"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("typo.log, header line"), "{err}");
    assert!(err.contains("(did you mean `pkt-srcaddr`?)"), "{err}");
    // A field AWS added after this version: kept when asked for.
    let (code, out, err) = run(&[
        "query",
        path(&file),
        "--allow-unknown-fields",
        "--quiet",
        "--format",
        "json",
        "--sql",
        "SELECT pkt_scraddr FROM flows",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows[0]["pkt_scraddr"], "10.0.0.1");
}

#[test]
fn suppressions_that_cannot_work_are_errors_and_unused_ones_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let scan_with = |file: &Path| run(&["scan", V2, "--inventory", INV, "--suppress", path(file)]);
    let bad_rule = write(
        "rule.toml",
        "[[suppress]]\nrule = \"leaves-vcp\"\nmatch = { sagemaker_resource = \"proc-1\" }\nreason = \"x\"\n",
    );
    let (code, _, err) = scan_with(&bad_rule);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no such rule (did you mean `leaves-vpc`?)"),
        "{err}"
    );
    let bad_column = write(
        "column.toml",
        "[[suppress]]\nrule = \"leaves-vpc\"\nmatch = { sagemaker_resoure = \"proc-1\" }\nreason = \"x\"\n",
    );
    let (code, _, err) = scan_with(&bad_column);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`sagemaker_resoure` is not a column of its findings, so it would never match (did you mean `sagemaker_resource`?)"),
        "{err}"
    );
    for (name, text) in [
        (
            "nomatch.toml",
            "[[suppress]]\nrule = \"leaves-vpc\"\nreason = \"x\"\n",
        ),
        (
            "emptymatch.toml",
            "[[suppress]]\nrule = \"leaves-vpc\"\nmatch = {}\nreason = \"x\"\n",
        ),
    ] {
        let (code, _, err) = scan_with(&write(name, text));
        assert_eq!(code, 2, "{name}: {err}");
        assert!(err.contains("no `match`"), "{name}: {err}");
    }
    // `*` alone matches any value: as broad as no match at all.
    let star = write(
        "star.toml",
        "[[suppress]]\nrule = \"leaves-vpc\"\nmatch = { dstaddr = \"*\" }\nreason = \"x\"\n",
    );
    let (code, _, err) = scan_with(&star);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("its `match` is only `*`, which matches any value"),
        "{err}"
    );
    // A column only this rule selects is fine; one that matched nothing is listed.
    let unused = write(
        "unused.toml",
        "[[suppress]]\nrule = \"log-gaps\"\nmatch = { log_status = \"SKIPDATA\" }\nreason = \"known gap\"\n\n\
         [[suppress]]\nrule = \"leaves-vpc\"\nmatch = { dstaddr = \"192.0.2.1\" }\nreason = \"old partner\"\n",
    );
    let (code, _, err) = scan_with(&unused);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("suppressed 1 log-gaps findings: known gap"),
        "{err}"
    );
    assert!(
        err.contains("suppression for leaves-vpc (old partner) matched no finding"),
        "{err}"
    );
}

#[test]
fn the_same_files_by_relative_and_absolute_path_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let absolute = std::fs::canonicalize(support::root().join(V2)).unwrap();
    // Named twice in one run: read once.
    let (_, _, err) = run(&[
        "scan",
        V2,
        path(&absolute),
        "--inventory",
        INV,
        "--state",
        path(&state),
    ]);
    assert!(err.contains("24 objects read"), "{err}");
    assert!(err.contains("2236 records"), "{err}");
    // Named the other way in the next run: nothing new.
    let (code, _, err) = run(&[
        "scan",
        path(&absolute),
        "--inventory",
        INV,
        "--state",
        path(&state),
        "--allow-empty",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("24 objects already done by an earlier run"),
        "{err}"
    );
    assert!(err.contains("0 records"), "{err}");
}

/// One AWS delivery in two places (the sample and a copy of it elsewhere): its file name
/// is unique to it, so each object is read once, and the run says so.
#[test]
fn copies_of_the_same_delivery_are_read_once() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    for file in support::files_under(&support::root().join(V2)) {
        let to = copy.join(file.file_name().unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&file, &to).unwrap();
    }
    let (code, _, err) = run(&["scan", V2, path(&copy), "--inventory", INV]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("24 objects read"), "{err}");
    assert!(err.contains("2236 records"), "{err}");
    assert!(
        err.contains("warning: 24 objects are copies of others by their AWS file name"),
        "{err}"
    );
}

const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";

/// A record of notebook nb-analyst leaving the VPC at `t`, from source port `port`.
fn leaving(port: u32, t: i64) -> String {
    format!(
        "2 111122223333 eni-05aec870f7b234ef9 10.20.1.10 203.0.113.77 {port} 443 6 5 500 {t} {} ACCEPT OK\n",
        t + 30
    )
}

/// A plain-text object named for 11:00 in the AWS layout under `dir/logs`.
fn object_at_1100(dir: &Path, body: &str) -> std::path::PathBuf {
    let d = dir.join("logs/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20");
    std::fs::create_dir_all(&d).unwrap();
    let f = d.join(
        "111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261120T1100Z_1a7e0001.log",
    );
    std::fs::write(&f, body).unwrap();
    f
}

/// The source ports of the leaves-vpc findings (one per record with --group-by flow).
fn leaving_ports(json: &str) -> Vec<i64> {
    let v: Vec<Value> = serde_json::from_str(json).unwrap();
    let mut ports: Vec<i64> = v
        .iter()
        .filter(|f| f["rule"] == "leaves-vpc" && f["dstaddr"] == "203.0.113.77")
        .map(|f| f["srcport"].as_i64().unwrap())
        .collect();
    ports.sort();
    ports
}

const ELEVEN: i64 = 1795172400; // 2026-11-20T11:00:00Z

/// A scan of `logs` over `since`..`until` with the sample's inventory, one JSON finding per
/// record, and `extra` arguments.
fn windowed_scan(logs: &Path, since: &str, until: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "scan",
        path(logs),
        "--inventory",
        INV,
        "--format",
        "json",
        "--group-by",
        "flow",
        "--since",
        since,
        "--until",
        until,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// [`windowed_scan`] of 11:00 to 12:00.
fn hour_scan(logs: &Path, extra: &[&str]) -> (i32, String, String) {
    windowed_scan(logs, "2026-11-20T11:00:00Z", "2026-11-20T12:00:00Z", extra)
}

/// Issue 17, 8: an object AWS delivered late, named inside the window but holding records
/// from before --since, is read whole by an incremental scan (its early records are new
/// data), so that marking it done loses nothing; a later run with a wider window finds
/// nothing new. A scan without --state keeps to the window.
#[test]
fn a_late_object_straddling_since_is_reported_whole_by_an_incremental_scan() {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        "{HEADER}{}{}",
        leaving(40001, ELEVEN - 600),
        leaving(40002, ELEVEN + 300)
    );
    object_at_1100(dir.path(), &body);
    let logs = dir.path().join("logs");
    let state = dir.path().join("state.json");
    let scan = |since: &str, state_args: &[&str]| {
        windowed_scan(&logs, since, "2026-11-20T12:00:00Z", state_args)
    };
    let (code, out, err) = scan("2026-11-20T11:00:00Z", &[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        leaving_ports(&out),
        vec![40002],
        "a plain scan keeps to its window"
    );
    assert!(err.contains("1 outside --since/--until"), "{err}");

    let (code, out, err) = scan("2026-11-20T11:00:00Z", &["--state", path(&state)]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(leaving_ports(&out), vec![40001, 40002], "{err}");
    let (code, out, err) = scan(
        "2026-11-20T10:00:00Z",
        &["--state", path(&state), "--allow-empty"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 objects already done"), "{err}");
    assert_eq!(leaving_ports(&out), Vec::<i64>::new());
}

/// An object delivered later than the run that covered its window (its name says 10:05,
/// it landed after the 11:00 run) is new data for the next hourly run, whose --since is
/// past every time its name allows: it is read by its delivery time (a local copy's
/// modification time). An object of a window after --until is not read early, and a scan
/// without --state keeps to its window. Before, the next run left it out by its name, and
/// no incremental run ever read it: a false clean.
#[test]
fn an_object_delivered_after_the_run_of_its_window_is_read_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let state = dir.path().join("state.json");
    let scan = |since: &str, until: &str, extra: &[&str]| windowed_scan(&logs, since, until, extra);
    object_at_1100(
        dir.path(),
        &format!("{HEADER}{}", leaving(40001, ELEVEN - 200)),
    );
    let (code, out, err) = scan(
        "2026-11-20T10:00:00Z",
        "2026-11-20T11:00:00Z",
        &["--state", path(&state)],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(leaving_ports(&out), vec![40001], "{err}");
    // A run bounded by --until (a backfill, here) leaves out later windows' deliveries:
    // it does not say, for the next run, that everything delivered until now was listed.
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(!saved.contains("listed_at"), "{saved}");

    // Delivered after the 11:00 run: an object named for 10:05; and one named for 13:00,
    // after the next run's --until.
    let day = dir
        .path()
        .join("logs/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20");
    std::fs::write(
        day.join(
            "111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261120T1005Z_1a7e0002.log",
        ),
        format!("{HEADER}{}", leaving(40002, ELEVEN - 3300)),
    )
    .unwrap();
    std::fs::write(
        day.join(
            "111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261120T1300Z_1a7e0003.log",
        ),
        format!("{HEADER}{}", leaving(40003, ELEVEN + 7200)),
    )
    .unwrap();
    let (code, out, err) = scan(
        "2026-11-20T11:00:00Z",
        "2026-11-20T12:00:00Z",
        &["--state", path(&state)],
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("1 objects read"), "{err}");
    assert_eq!(leaving_ports(&out), vec![40002], "{err}");
    // Without --state the window is the window.
    let (_, out, err) = scan("2026-11-20T10:00:00Z", "2026-11-20T11:00:00Z", &[]);
    assert_eq!(leaving_ports(&out), vec![40001, 40002], "{err}");
    let (code, _, err) = scan("2026-11-20T11:00:00Z", "2026-11-20T12:00:00Z", &[]);
    assert_eq!(code, 2, "no record of the window: {err}");
}

/// A blind spot is reported once by incremental runs, and again when its resource is a
/// new one of the same name: a notebook instance with direct internet access deleted and
/// created again (the setting cannot be changed in place). Before, a state remembered the
/// name, and no incremental run ever reported the new notebook.
#[test]
fn a_blind_spot_of_a_resource_created_again_is_reported_again() {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inventory");
    support::copy_dir(std::path::Path::new(INV), &inv);
    let state = dir.path().join("state.json");
    let public = |out: &str| -> usize {
        serde_json::from_str::<Vec<Value>>(out)
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "blind-spots" && f["sagemaker_resource"] == "nb-public")
            .count()
    };
    let scan = || {
        run(&[
            "scan",
            V2,
            "--inventory",
            path(&inv),
            "--format",
            "json",
            "--state",
            path(&state),
            "--allow-empty",
        ])
    };
    let (_, out, err) = scan();
    assert_eq!(public(&out), 1, "{err}");
    let (_, out, err) = scan();
    assert_eq!(public(&out), 0, "reported once: {err}");
    let doc = inv.join("sagemaker/describe-notebook-instance-nb-public.json");
    let text = std::fs::read_to_string(&doc).unwrap().replace(
        "\"CreationTime\": \"2026-10-19T15:40:07.733000+00:00\"",
        "\"CreationTime\": \"2026-11-20T09:00:00.000000+00:00\"",
    );
    std::fs::write(&doc, text).unwrap();
    let (_, out, err) = scan();
    assert_eq!(public(&out), 1, "created again: {err}");
    // SARIF of an incremental run would close in code scanning every alert it lacks.
    let (_, _, err) = run(&[
        "scan",
        V2,
        "--inventory",
        path(&inv),
        "--format",
        "sarif",
        "--state",
        path(&state),
        "--allow-empty",
    ]);
    assert!(
        err.contains("note: this SARIF holds only this run's new findings"),
        "{err}"
    );
}

/// Issue 17, 6: an incremental scan knows local files by content: a touched file is not
/// read again, an appended one only from its new lines (with the file's line numbers),
/// and a rewritten one is read whole again with a warning.
#[test]
fn incremental_scans_read_appended_lines_once_and_ignore_touched_files() {
    incremental_scans_of_a_local_file(&[]);
}

/// The scenario above, with `extra` arguments on every scan (`--workers …`).
pub(crate) fn incremental_scans_of_a_local_file(extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let first = format!("{HEADER}{}", leaving(40001, ELEVEN));
    let file = object_at_1100(dir.path(), &first);
    let logs = dir.path().join("logs");
    let state = dir.path().join("state.json");
    let scan = || {
        run(&[
            "scan",
            path(&logs),
            "--inventory",
            INV,
            "--format",
            "json",
            "--group-by",
            "flow",
            "--state",
            path(&state),
            "--allow-empty",
        ]
        .into_iter()
        .chain(extra.iter().copied())
        .collect::<Vec<_>>())
    };
    let (_, out, err) = scan();
    assert_eq!(leaving_ports(&out), vec![40001], "{err}");

    // Touched: the same bytes, a later modification time.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&file, &first).unwrap();
    let (code, out, err) = scan();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 objects already done"), "{err}");
    assert_eq!(leaving_ports(&out), Vec::<i64>::new());

    // Appended: only the new records, numbered as lines of the file.
    let grown = format!(
        "{first}{}{}",
        leaving(40002, ELEVEN + 60),
        leaving(40003, ELEVEN + 120)
    );
    std::fs::write(&file, &grown).unwrap();
    let (code, out, err) = scan();
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("2 records"), "{err}");
    assert_eq!(leaving_ports(&out), vec![40002, 40003]);
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    let lines: BTreeSet<i64> = v
        .iter()
        .filter(|f| f["dstaddr"] == "203.0.113.77")
        .map(|f| f["source_line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, BTreeSet::from([3, 4]), "{out}");
    let (_, out, _) = scan();
    assert_eq!(leaving_ports(&out), Vec::<i64>::new(), "nothing new");

    // Rewritten: read whole again, with a warning.
    let rewritten = format!(
        "{HEADER}{}{}{}",
        leaving(40009, ELEVEN),
        leaving(40002, ELEVEN + 60),
        leaving(40010, ELEVEN + 60)
    );
    std::fs::write(&file, &rewritten).unwrap();
    let (code, out, err) = scan();
    assert_eq!(code, 1, "{err}");
    let warning = err
        .lines()
        .find(|l| l.contains("its content changed since it was read"))
        .unwrap_or_else(|| panic!("{err}"));
    // In the form of the warnings the commands print, naming the file after the message.
    let name = file.file_name().unwrap().to_str().unwrap();
    assert!(
        warning.starts_with("sageflow: warning: ")
            && warning.contains("(file: ")
            && warning.ends_with(&format!("{name})")),
        "{err}"
    );
    assert_eq!(leaving_ports(&out), vec![40002, 40009, 40010]);
}

/// Records a scan rejected may be the very ones a rule looks for: the scan prints its
/// findings and fails (exit 2), and an incremental one leaves its state where it was, so
/// that the next run reads the object again (with the right format, say). Before, the run
/// exited 0 or 1 by the findings of the records that did fit, and `--state` marked the
/// object read: a record rejected once was never checked by any incremental run.
/// `--allow-rejects` accepts such a run. An export likewise commits nothing.
#[test]
fn records_rejected_in_a_run_fail_it_and_are_read_again() {
    let dir = tempfile::tempdir().unwrap();
    // The second record lost its last two fields.
    let cut = leaving(40002, ELEVEN + 60);
    let cut = cut.trim_end().rsplitn(3, ' ').nth(2).unwrap();
    object_at_1100(
        dir.path(),
        &format!("{HEADER}{}{cut}\n", leaving(40001, ELEVEN)),
    );
    let logs = dir.path().join("logs");
    let state = dir.path().join("state.json");
    let scan = |extra: &[&str]| hour_scan(&logs, extra);
    for extra in [&[][..], &["--state", path(&state)]] {
        let (code, out, err) = scan(extra);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert_eq!(
            leaving_ports(&out),
            vec![40001],
            "findings are printed: {err}"
        );
        assert!(
            err.contains("1 of the 2 records read were rejected")
                && err.contains("--allow-rejects accepts such a run"),
            "{err}"
        );
    }
    let recorded: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert_eq!(
        recorded["local"],
        serde_json::json!({}),
        "the object with the reject is not recorded as read"
    );

    // Accepted: findings decide the exit code, and the state moves past the object.
    let (code, out, err) = scan(&["--state", path(&state), "--allow-rejects"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(leaving_ports(&out), vec![40001], "read again: {err}");
    assert!(err.contains("1 rejected"), "{err}");
    let (code, _, err) = scan(&["--state", path(&state), "--allow-empty"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("1 objects already done"), "{err}");

    let out = dir.path().join("export");
    let export = |extra: &[&str]| {
        let mut args = vec!["export", path(&logs), "--out", path(&out)];
        args.extend_from_slice(extra);
        run(&args)
    };
    let (code, _, err) = export(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("1 of the 2 records read were rejected") && err.contains("1 rejected"),
        "the refusal and the summary it speaks of: {err}"
    );
    let parquet = |root: &Path| {
        let mut n = 0;
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() && !p.ends_with("_sageflow") {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "parquet") {
                    n += 1;
                }
            }
        }
        n
    };
    assert_eq!(parquet(&out), 0, "nothing committed");
    let (code, _, err) = export(&["--allow-rejects"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("exported 1 rows"), "{err}");
    assert_eq!(parquet(&out), 1);
}

/// An incremental scan whose objects are all clean but one: the run fails (exit 2) and
/// leaves the object with the rejected record to the next run, but records the others as
/// read, so that their findings are not reported again by every run until the format is
/// fixed. Before, the state stayed where it was, and each run reported them all again.
#[test]
fn a_reject_holds_back_its_object_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cut = leaving(40002, ELEVEN + 60);
    let cut = cut.trim_end().rsplitn(3, ' ').nth(2).unwrap();
    let bad = object_at_1100(
        dir.path(),
        &format!("{HEADER}{}{cut}\n", leaving(40001, ELEVEN)),
    );
    let clean = bad.with_file_name(
        "111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261120T1105Z_1a7e0002.log",
    );
    std::fs::write(&clean, format!("{HEADER}{}", leaving(40003, ELEVEN + 300))).unwrap();
    let logs = dir.path().join("logs");
    let state = dir.path().join("state.json");
    let scan = |extra: &[&str]| {
        let mut args = vec!["--state", path(&state)];
        args.extend_from_slice(extra);
        hour_scan(&logs, &args)
    };

    let (code, out, err) = scan(&[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(leaving_ports(&out), vec![40001, 40003], "{err}");
    assert!(
        err.contains("1 of the 3 records read were rejected")
            && err.contains(
                "--state records every other object as read, and leaves these to the next run"
            ),
        "{err}"
    );
    // Nothing changed: only the object with the reject is read, and it fails again.
    let (code, out, err) = scan(&[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(leaving_ports(&out), vec![40001], "{err}");
    assert!(err.contains("1 objects already done"), "{err}");

    // Its format fixed (the record written whole): read, and recorded.
    std::fs::write(
        &bad,
        format!(
            "{HEADER}{}{}",
            leaving(40001, ELEVEN),
            leaving(40002, ELEVEN + 60)
        ),
    )
    .unwrap();
    let (code, out, err) = scan(&[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(leaving_ports(&out), vec![40001, 40002], "{err}");
    let (code, out, err) = scan(&["--allow-empty"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(leaving_ports(&out), Vec::<i64>::new(), "{err}");
    assert!(err.contains("2 objects already done"), "{err}");
}

/// A plain-text file read by incremental runs while its last line is being written: the
/// line has no line end yet, and the file changed moments ago. The run leaves that line
/// to the next one, which reads it whole. Before, the run read the half line (rejected, or
/// worse, a cut address read as another), and the state resumed after it: the record was
/// lost. A last line that never gets its line end is read as it is once the file has
/// stopped changing (and again whole if the file then grows: it was cut short); a scan
/// without --state reads it at once.
#[test]
fn a_line_being_written_is_left_to_the_next_incremental_run() {
    let dir = tempfile::tempdir().unwrap();
    let second = leaving(40002, ELEVEN + 60);
    let (head, rest) = second.split_at(second.find("203.0.113.7").unwrap() + 10);
    let file = object_at_1100(
        dir.path(),
        &format!("{HEADER}{}{head}", leaving(40001, ELEVEN)),
    );
    let logs = dir.path().join("logs");
    let state = dir.path().join("state.json");
    let scan = |extra: &[&str]| hour_scan(&logs, extra);
    let incremental = || scan(&["--state", path(&state), "--allow-empty"]);
    let (code, out, err) = incremental();
    assert_eq!(code, 1, "{err}");
    assert_eq!(leaving_ports(&out), vec![40001], "{err}");
    assert!(
        err.contains("0 rejected") && err.contains("its last line has no line end yet"),
        "{err}"
    );

    let append = |text: &str| {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&file)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    append(rest);
    let (code, out, err) = incremental();
    assert_eq!(code, 1, "{err}");
    assert_eq!(leaving_ports(&out), vec![40002], "the whole line: {err}");
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["source_line"], 3, "{out}");

    // A last line that stays without its line end.
    let third = leaving(40003, ELEVEN + 120);
    append(third.trim_end());
    let (code, out, err) = incremental();
    assert_eq!(code, 0, "held while the file may be being written: {err}");
    assert_eq!(leaving_ports(&out), Vec::<i64>::new());
    let (code, out, err) = scan(&[]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        leaving_ports(&out),
        vec![40001, 40002, 40003],
        "no state: {err}"
    );
    let ten_minutes_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(600);
    std::fs::File::options()
        .append(true)
        .open(&file)
        .unwrap()
        .set_modified(ten_minutes_ago)
        .unwrap();
    let (code, out, err) = incremental();
    assert_eq!(code, 1, "{err}");
    assert_eq!(leaving_ports(&out), vec![40003], "read as it is: {err}");
    assert!(!err.contains("no line end"), "{err}");
    let (code, out, err) = incremental();
    assert_eq!((code, leaving_ports(&out)), (0, vec![]), "read once: {err}");

    // A line read as it was, cut short inside its last field, and continued later: read
    // again whole (its first reading stands), and the lines after it keep their numbers.
    // Before, the rest of it was read as a line of its own and rejected, every run.
    let fourth = leaving(40004, ELEVEN + 180);
    let (cut, rest) = fourth.split_at(fourth.len() - 2);
    append(&format!("\n{cut}"));
    std::fs::File::options()
        .append(true)
        .open(&file)
        .unwrap()
        .set_modified(ten_minutes_ago)
        .unwrap();
    let (code, out, err) = incremental();
    assert_eq!((code, leaving_ports(&out)), (1, vec![40004]), "{err}");
    // An export reads the cut line as it is too.
    let exported = dir.path().join("export");
    let export = || run(&["export", path(&logs), "--out", path(&exported)]);
    let (code, _, err) = export();
    assert_eq!(code, 0, "{err}");
    append(&format!("{rest}{}", leaving(40005, ELEVEN + 240)));
    let (code, out, err) = incremental();
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("0 rejected")
            && err.contains("its last line (line 5) was read without its line end"),
        "{err}"
    );
    assert_eq!(leaving_ports(&out), vec![40004, 40005], "{err}");
    let v: Vec<Value> = serde_json::from_str(&out).unwrap();
    let lines: BTreeSet<i64> = v
        .iter()
        .filter(|f| f["dstaddr"] == "203.0.113.77")
        .map(|f| f["source_line"].as_i64().unwrap())
        .collect();
    assert_eq!(lines, BTreeSet::from([5, 6]), "{out}");
    // The export holds the cut line: it refuses to add the line again.
    let (code, _, err) = export();
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("exporting it again would put the line in twice"),
        "{err}"
    );
}

/// A full scan whose sources lack the objects of part of its window says so: S3 delivery
/// names an object after each five-minute window, so the stretches without one (here the
/// hour before the first object, and the end of the window) are time whose records are
/// missing. Before, a window half missing scanned as clean without a word. An incremental
/// run reads only new objects, and says nothing of the others.
#[test]
fn time_the_sources_hold_no_object_for_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let file = object_at_1100(dir.path(), &format!("{HEADER}{}", leaving(40001, ELEVEN)));
    std::fs::write(
        file.with_file_name(
            "111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261120T1105Z_1a7e0002.log",
        ),
        format!("{HEADER}{}", leaving(40002, ELEVEN + 300)),
    )
    .unwrap();
    let logs = dir.path().join("logs");
    let (code, _, err) = windowed_scan(&logs, "2026-11-20T10:00:00Z", "2026-11-20T12:30:00Z", &[]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(
            "the sources hold no object of flow log fl-0aaa1111bbbb22220 for \
             2026-11-20T10:00:00Z to 2026-11-20T11:00:00Z (1h), \
             2026-11-20T11:10:00Z to 2026-11-20T12:30:00Z (1h 20m)"
        ),
        "{err}"
    );
    let (_, _, err) = windowed_scan(&logs, "2026-11-20T11:00:00Z", "2026-11-20T11:30:00Z", &[]);
    assert!(!err.contains("hold no object"), "{err}");
    let state = dir.path().join("state.json");
    let (_, _, err) = windowed_scan(
        &logs,
        "2026-11-20T10:00:00Z",
        "2026-11-20T12:30:00Z",
        &["--state", path(&state)],
    );
    assert!(!err.contains("hold no object"), "{err}");
}
