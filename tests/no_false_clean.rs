//! A configuration mistake is an error with a hint, never a quiet "clean" result (issue
//! 16, part A): scans that cannot attribute anything or read nothing, runs whose every
//! record was rejected, typos in field names and suppressions, and the same files named
//! twice.

mod support;

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
            "0 records of SageMaker workloads; 15 ENIs with records unknown to the inventory"
        ),
        "{err}"
    );
    assert!(err.contains("warning: 2222 records"), "{err}");
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
            "records of SageMaker workloads; 0 ENIs with records unknown to the inventory"
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
            err.contains("every one of the 2222 records read was rejected"),
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
    assert!(err.contains("2222 records"), "{err}");
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
