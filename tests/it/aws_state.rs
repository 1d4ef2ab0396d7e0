//! Scheduled (incremental) scans against moto: `scan --state` reads only new S3 objects
//! (including one delivered late for an earlier window) and only new CloudWatch events;
//! together the runs flag exactly what one full scan flags. Also the live inventory
//! through the CLI: `inventory collect` then `--inventory DIR` equals `--inventory live`.

use crate::support;

use std::collections::BTreeSet;

use serde_json::Value;

const BUCKET: &str = "state-bucket";

/// Flow findings (those of a record) as comparable strings. The per-ENI summary of
/// unattributed ENIs aggregates each run's records, so it is left out.
/// Flow findings, without where their records were read (S3 here, local files for the
/// full scan).
fn flow_findings(json: &str) -> BTreeSet<String> {
    let v: Vec<Value> = serde_json::from_str(json).unwrap();
    v.into_iter()
        .filter(|f| !f["start"].is_null() && f["rule"] != "unattributed-aws-managed-enis")
        .map(|mut f| {
            support::without_provenance(&mut f);
            f.to_string()
        })
        .collect()
}

/// Uploads the v2 sample files whose window starts in `hours` (e.g. "T10").
fn upload(moto: &support::Moto, hours: &str) {
    let root = env!("CARGO_MANIFEST_DIR");
    moto.run_python(&format!(
        r#"
import os, glob, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
try:
    s3.create_bucket(Bucket="{BUCKET}")
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
base = "{root}/sample-logs/v2-default"
for p in sorted(glob.glob(base + "/**/*.log.gz", recursive=True)):
    if "_20261120{hours}" in p:
        s3.upload_file(p, "{BUCKET}", "logs/" + os.path.relpath(p, base))
"#
    ));
}

/// Uploads an object named for 10:05 (its name ending in `hash`) holding one record of
/// train-a at 10:05 to `dst`, then the lines of `tail`: uploaded now, it is delivered late
/// for its window.
fn upload_late(moto: &support::Moto, dst: &str, hash: &str, tail: &str) {
    moto.run_python(&format!(
        r#"
import os, gzip, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
hdr = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
rec = "2 111122223333 eni-07c690cc407310f14 10.20.1.30 {dst} 40000 443 6 5 500 1795169100 1795169130 ACCEPT OK\n"
s3.put_object(Bucket="{BUCKET}", Key="logs/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20/111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261120T1005Z_{hash}.log.gz", Body=gzip.compress((hdr + rec + "{tail}").encode()))
"#
    ));
}

#[test]
fn s3_state_reads_only_new_objects() {
    let moto = support::moto();
    let _guard = moto.lock();
    let full = {
        let out = assert_cmd::Command::cargo_bin("sageflow")
            .unwrap()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "scan",
                "sample-logs/v2-default",
                "--inventory",
                "sample-logs/inventory",
                "--format",
                "json",
                "--quiet",
                // Per record: a connection split between two runs is two findings.
                "--group-by",
                "flow",
            ])
            .output()
            .unwrap();
        flow_findings(&String::from_utf8(out.stdout).unwrap())
    };
    let state = format!("s3://{BUCKET}/state/sageflow.json");
    let scan_with = |moto: &support::Moto, extra: &[&str]| {
        let mut args = vec![
            "scan".to_string(),
            format!("s3://{BUCKET}/logs/"),
            "--inventory".into(),
            "sample-logs/inventory".into(),
            "--format".into(),
            "json".into(),
            "--state".into(),
            state.clone(),
            "--group-by".into(),
            "flow".into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        moto.run(&args)
    };
    let scan = |moto: &support::Moto| scan_with(moto, &[]);
    upload(moto, "T10");
    let (code, first, err) = scan(moto);
    assert!(matches!(code, Some(0 | 1)), "{err}");
    assert!(err.contains("12 objects read"), "{err}");
    let first_flows = flow_findings(&first);
    let first_all: Vec<Value> = serde_json::from_str(&first).unwrap();
    assert!(
        first_all.iter().any(|f| f["rule"] == "blind-spots"),
        "configuration findings are reported once"
    );

    upload(moto, "T11");
    let (_, second, err) = scan(moto);
    assert!(err.contains("12 objects read"), "{err}");
    assert!(
        err.contains("12 objects already done by an earlier run"),
        "{err}"
    );
    let second_all: Vec<Value> = serde_json::from_str(&second).unwrap();
    assert!(
        !second_all.iter().any(|f| f["rule"] == "blind-spots"),
        "not again: {second}"
    );
    let second_flows = flow_findings(&second);
    assert!(
        first_flows.is_disjoint(&second_flows),
        "findings only from new data"
    );
    let union: BTreeSet<String> = first_flows.union(&second_flows).cloned().collect();
    assert_eq!(
        union, full,
        "the runs together flag what one full scan flags"
    );

    // An object delivered late for an earlier window is new too.
    upload_late(moto, "198.51.100.200", "1a7e1a7e", "");
    let (code, third, err) = scan(moto);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("1 objects read"), "{err}");
    let third: Vec<Value> = serde_json::from_str(&third).unwrap();
    assert_eq!(third.len(), 1, "{third:?}");
    assert_eq!(third[0]["rule"], "leaves-vpc");
    assert_eq!(third[0]["dstaddr"], "198.51.100.200");
    assert_eq!(third[0]["sagemaker_resource"], "train-a");

    // Delivered after the run that covered its window, for a run whose --since is past
    // every time the object's name allows (an hourly cron): read by its LastModified.
    upload_late(moto, "198.51.100.201", "1a7e1a7f", "");
    let (code, late, err) = scan_with(moto, &["--since", "2026-11-20T11:00:00Z"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("1 objects read"), "{err}");
    let late: Vec<Value> = serde_json::from_str(&late).unwrap();
    assert_eq!(late.len(), 1, "{late:?}");
    assert_eq!(late[0]["dstaddr"], "198.51.100.201");

    // Nothing new: an error (delivery may have stopped) unless a quiet interval is
    // expected; then no findings, exit 0.
    let (code, _, err) = scan(moto);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("the sources yielded no flow record"), "{err}");
    let (code, fourth, err) = scan_with(moto, &["--allow-empty"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&fourth).unwrap().len(),
        0
    );

    // An object replaced under a key read before (an intact copy of a damaged one, say)
    // is read whole again, with a warning. An export refuses it: its earlier records
    // would be there twice. Before, the export took it again without a word.
    let out = format!("s3://{BUCKET}/export/");
    let export = |moto: &support::Moto| {
        moto.run(&["export", &format!("s3://{BUCKET}/logs/"), "--out", &out])
    };
    let (code, _, err) = export(moto);
    assert_eq!(code, Some(0), "{err}");
    upload_late(moto, "198.51.100.202", "1a7e1a7e", "");
    let (code, replaced, err) = scan(moto);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("it was replaced since it was read (its ETag changed): read whole again"),
        "{err}"
    );
    let replaced: Vec<Value> = serde_json::from_str(&replaced).unwrap();
    assert_eq!(replaced.len(), 1, "{replaced:?}");
    assert_eq!(replaced[0]["dstaddr"], "198.51.100.202");
    let (code, _, err) = export(moto);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(
            "it was replaced since it was read (its ETag changed): exporting it again would put its earlier records in the export twice"
        ),
        "{err}"
    );

    // An object with a rejected record fails the run, which records its other object;
    // the next run (an hourly cron, whose --since the objects' names are before) lists
    // and reads the object with the reject again, and only it.
    upload_late(moto, "198.51.100.203", "1a7e1a80", "");
    upload_late(
        moto,
        "198.51.100.204",
        "1a7e1a81",
        "2 111122223333 eni-07c690cc407310f14 10.20.1.30\\n",
    );
    let hourly = |moto: &support::Moto| scan_with(moto, &["--since", "2026-11-20T11:00:00Z"]);
    let destinations = |json: &str| {
        let mut v: Vec<String> = serde_json::from_str::<Vec<Value>>(json)
            .unwrap()
            .iter()
            .map(|f| f["dstaddr"].as_str().unwrap_or_default().to_string())
            .collect();
        v.sort();
        v
    };
    let (code, held, err) = hourly(moto);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("2 objects read") && err.contains("1 rejected"),
        "{err}"
    );
    assert_eq!(destinations(&held), ["198.51.100.203", "198.51.100.204"]);
    let (code, again, err) = hourly(moto);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("1 objects read"), "{err}");
    assert_eq!(destinations(&again), ["198.51.100.204"]);
}

/// Puts `events` (time in seconds, message) on the stream of train-a's ENI in log group
/// `group`, creating both when needed.
fn put_events(moto: &support::Moto, group: &str, events: &[(i64, &str)]) {
    put_stream_events(moto, group, "eni-07c690cc407310f14-all", events)
}

/// Puts `events` on `stream` of `group`, creating both when needed.
fn put_stream_events(moto: &support::Moto, group: &str, stream: &str, events: &[(i64, &str)]) {
    let list: Vec<String> = events
        .iter()
        .map(|(t, m)| format!("{{\"timestamp\": {}, \"message\": {m:?}}}", t * 1000))
        .collect();
    moto.run_python(&format!(
        r#"
import os, boto3
logs = boto3.client("logs", endpoint_url=os.environ["ENDPOINT"])
for create in (lambda: logs.create_log_group(logGroupName="{group}"),
               lambda: logs.create_log_stream(logGroupName="{group}", logStreamName="{stream}")):
    try:
        create()
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
logs.put_log_events(logGroupName="{group}", logStreamName="{stream}", logEvents=[{}])
"#,
        list.join(", ")
    ));
}

/// A v2 record of train-a's ENI to `dst` at `t`.
fn train_a_to(dst: &str, t: i64) -> String {
    format!(
        "2 111122223333 eni-07c690cc407310f14 10.20.1.30 {dst} 40000 443 6 5 500 {t} {} ACCEPT OK",
        t + 30
    )
}

/// An hourly cron with --since: a stream the last run read is resumed where it left it,
/// less --cw-overlap, whatever --since says, so an event stamped 10:40 that reached
/// CloudWatch after the 11:00 run is read by the 12:00 run (--since 11:00); a stream new
/// to the state (a new ENI's) is read from --since less --cw-overlap, and listed whatever
/// its (eventually consistent) last event time says. Before, --since won over both, and
/// the run was clean.
#[test]
fn an_hourly_cron_reads_late_events_and_new_streams() {
    let moto = support::moto();
    let _guard = moto.lock();
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let scan = |moto: &support::Moto, since: &str| {
        let (code, out, err) = moto.run(&[
            "scan",
            "cwlogs://hourly",
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
            "--group-by",
            "flow",
            "--allow-empty",
            "--state",
            state.to_str().unwrap(),
            "--since",
            since,
        ]);
        assert!(matches!(code, Some(0 | 1)), "{err}");
        let dsts: BTreeSet<String> = serde_json::from_str::<Vec<Value>>(&out)
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "leaves-vpc")
            .map(|f| f["dstaddr"].as_str().unwrap().to_string())
            .collect();
        (dsts, err)
    };
    let t0 = 1795169100; // 10:05, train-a running
    let (a, b) = (
        train_a_to("198.51.100.1", t0),
        train_a_to("198.51.100.2", t0 + 2400),
    );
    put_events(moto, "hourly", &[(t0, &a), (t0 + 2400, &b)]);
    let (dsts, err) = scan(moto, "2026-11-20T10:00:00Z");
    assert_eq!(dsts.len(), 2, "{err}");

    // After the 11:00 run: train-a's event of 10:40, and the first event of nb-analyst's
    // stream, stamped 10:42.
    let late = train_a_to("198.51.100.3", t0 + 2100);
    put_events(moto, "hourly", &[(t0 + 2100, &late)]);
    let nb = format!(
        "2 111122223333 eni-05aec870f7b234ef9 10.20.1.10 198.51.100.4 40000 443 6 5 500 {} {} ACCEPT OK",
        t0 + 2220,
        t0 + 2250
    );
    put_stream_events(
        moto,
        "hourly",
        "eni-05aec870f7b234ef9-all",
        &[(t0 + 2220, &nb)],
    );
    let (dsts, err) = scan(moto, "2026-11-20T11:00:00Z");
    assert_eq!(
        dsts,
        BTreeSet::from(["198.51.100.3".to_string(), "198.51.100.4".to_string()]),
        "{err}"
    );
    assert!(err.contains("2 records"), "nothing read twice: {err}");
}

#[test]
fn cloudwatch_state_reads_only_new_events() {
    let moto = support::moto();
    let _guard = moto.lock();
    let put = |moto: &support::Moto, events: &[(i64, &str)]| put_events(moto, "g", events);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let scan = |moto: &support::Moto| {
        moto.run(&[
            "scan",
            "cwlogs://g",
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
            "--state",
            state.to_str().unwrap(),
        ])
    };
    let t0 = 1795169100; // 10:05, train-a running
    let (a, b) = (
        train_a_to("198.51.100.1", t0),
        train_a_to("198.51.100.2", t0 + 60),
    );
    put(moto, &[(t0, &a), (t0 + 60, &b)]);
    let (_, out, err) = scan(moto);
    assert!(err.contains("2 records"), "{err}");
    assert_eq!(flow_findings(&out).len(), 2);
    // A new event, and a late one stamped before the newest event already read.
    let (c, late) = (
        train_a_to("198.51.100.3", t0 + 120),
        train_a_to("198.51.100.4", t0 + 30),
    );
    put(moto, &[(t0 + 30, &late), (t0 + 120, &c)]);
    let (_, out, err) = scan(moto);
    assert!(err.contains("2 records"), "only the two new events: {err}");
    let got: BTreeSet<String> = serde_json::from_str::<Vec<Value>>(&out)
        .unwrap()
        .iter()
        .filter(|f| !f["start"].is_null())
        .map(|f| f["dstaddr"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        got,
        BTreeSet::from(["198.51.100.3".to_string(), "198.51.100.4".to_string()])
    );
}

#[test]
fn inventory_collect_round_trip_through_the_cli() {
    let moto = support::moto();
    let _guard = moto.lock();
    moto.run_python(
        r#"
import os, boto3
ep = os.environ["ENDPOINT"]
ec2 = boto3.client("ec2", endpoint_url=ep)
vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
ec2.create_network_interface(SubnetId=sub, PrivateIpAddress="10.20.1.20",
    Description="[DO NOT DELETE] ENI managed by SageMaker for Studio Domain(d-live12345) - 0123456789abcdef0123456789abcdef")
ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="cloud-watch-logs",
    LogGroupName="/aws/vpc/flowlogs", DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/fl", LogFormat="${version} ${interface-id} ${srcaddr}")
"#,
    );
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = moto.run(&[
        "inventory",
        "collect",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (code, from_dir, err) = moto.run(&[
        "inventory",
        "show",
        "--inventory",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{err}");
    let (code, live, err) = moto.run(&["inventory", "show", "--inventory", "live"]);
    assert_eq!(code, Some(0), "{err}");
    // The files-read section differs (paths vs live:); everything after it is the same.
    let body = |s: &str| {
        s.lines()
            .skip_while(|l| !l.starts_with("VPCs"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(!body(&from_dir).is_empty(), "{from_dir}");
    assert_eq!(body(&from_dir), body(&live));
    assert!(from_dir.contains("studio_domain d-live12345"), "{from_dir}");
    assert!(
        from_dir.contains("${version} ${interface-id} ${srcaddr}"),
        "{from_dir}"
    );
}

/// Issue 17, 9: an event that reaches CloudWatch stamped earlier than the overlap before
/// the newest event read is missed by incremental runs with the default --cw-overlap
/// (30m); a wider --cw-overlap reads it, and so does a `--full-coverage` run, which also
/// reports the SageMaker ENIs with no record at all (never seen by incremental runs).
#[test]
fn cloudwatch_events_later_than_the_overlap_are_found_by_a_wider_overlap_or_full_coverage() {
    let moto = support::moto();
    let _guard = moto.lock();
    let put = |moto: &support::Moto, events: &[(i64, String)]| {
        let events: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
        put_events(moto, "late", &events)
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let scan = |moto: &support::Moto, state: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "scan",
            "cwlogs://late",
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
            "--allow-empty",
            "--state",
            state.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = moto.run(&args);
        assert!(matches!(code, Some(0 | 1)), "{err}");
        let v: Vec<Value> = serde_json::from_str(&out).unwrap();
        let dsts: BTreeSet<String> = v
            .iter()
            .filter(|f| !f["start"].is_null() && f["rule"] == "leaves-vpc")
            .map(|f| f["dstaddr"].as_str().unwrap().to_string())
            .collect();
        let gaps = v.iter().filter(|f| f["rule"] == "log-gaps").count();
        (dsts, gaps, err)
    };
    let t0 = 1795169100; // 10:05, train-a running
    put(
        moto,
        &[
            (t0, train_a_to("198.51.100.1", t0)),
            (t0 + 3600, train_a_to("198.51.100.2", t0 + 3600)),
        ],
    );
    let (dsts, gaps, err) = scan(moto, &state, &[]);
    assert_eq!(dsts.len(), 2, "{err}");
    assert_eq!(
        gaps, 0,
        "an incremental run cannot tell an ENI without records: {err}"
    );
    // A state kept with a 1-hour overlap from the start.
    let wide = dir.path().join("wide.json");
    let (dsts, _, err) = scan(moto, &wide, &["--cw-overlap", "1h"]);
    assert_eq!(dsts.len(), 2, "{err}");
    // Arrives stamped 50 minutes before the newest event read, with a new one.
    put(
        moto,
        &[
            (t0 + 600, train_a_to("198.51.100.3", t0 + 600)),
            (t0 + 3660, train_a_to("198.51.100.4", t0 + 3660)),
        ],
    );
    let full = dir.path().join("full.json");
    std::fs::copy(&state, &full).unwrap();

    let (dsts, _, err) = scan(moto, &state, &[]);
    assert_eq!(dsts, BTreeSet::from(["198.51.100.4".to_string()]), "{err}");
    let (dsts, _, err) = scan(moto, &wide, &["--cw-overlap", "1h"]);
    assert_eq!(
        dsts,
        BTreeSet::from(["198.51.100.3".to_string(), "198.51.100.4".to_string()]),
        "{err}"
    );
    let (dsts, gaps, err) = scan(moto, &full, &["--full-coverage"]);
    assert_eq!(dsts.len(), 4, "every event of the window: {err}");
    assert!(gaps > 0, "SageMaker ENIs with no record at all: {err}");
    // The state moved forward: the next incremental run has nothing new.
    let (dsts, _, err) = scan(moto, &full, &[]);
    assert!(dsts.is_empty(), "{err}");

    let (code, _, err) = moto.run(&["scan", "cwlogs://late", "--cw-overlap", "25h"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("longer than 24h"), "{err}");
    let (code, _, err) = moto.run(&["scan", "cwlogs://late", "--full-coverage"]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--state"), "{err}");
}
