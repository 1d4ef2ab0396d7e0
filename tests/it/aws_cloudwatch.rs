//! CloudWatch Logs sources against moto: the flow log's format comes from the live
//! DescribeFlowLogs; FilterLogEvents pagination and time windows; and the same findings as
//! the same records scanned from local disk.

use crate::support;

/// Puts the records of a sample shape into `group`, one stream per ENI (`<eni>-all`, as
/// VPC Flow Logs names them), each event stamped with its record's `start`. With
/// `flow_log_format`, also creates the flow log that writes to the group.
fn seed_group(moto: &support::Moto, shape: &str, group: &str, flow_log_format: Option<&str>) {
    moto.run_python(&support::log_group_seed(shape, group, flow_log_format));
}

fn local_scan(shape: &str) -> String {
    let out = assert_cmd::Command::cargo_bin("sageflow")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "scan",
            &format!("sample-logs/{shape}"),
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
            "--quiet",
        ])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) const V5_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}";

#[test]
fn cloudwatch_groups_give_the_same_findings_as_local_files() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed_group(moto, "v2-default", "/aws/vpc/flowlogs-v2", None);
    seed_group(moto, "v5-custom", "/aws/vpc/flowlogs-v5", Some(V5_FORMAT));
    for (shape, group) in [
        ("v2-default", "cwlogs:///aws/vpc/flowlogs-v2"),
        ("v5-custom", "cwlogs:///aws/vpc/flowlogs-v5"),
    ] {
        let (code, out, err) = moto.run(&[
            "scan",
            group,
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
            "-v",
        ]);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("2236 records: 2236 rows, 0 rejected"), "{err}");
        assert_eq!(
            support::findings_read_from(&out, group),
            support::findings_read_from(&local_scan(shape), "sample-logs/"),
            "{shape}: CloudWatch findings differ from local"
        );
    }
    // Both groups in one run: their streams have the same names (one per ENI), and each is
    // read, in its own group's format.
    let (code, _, err) = moto.run(&[
        "query",
        "cwlogs:///aws/vpc/flowlogs-v2",
        "cwlogs:///aws/vpc/flowlogs-v5",
        "--sql",
        "SELECT count(*) FROM flows",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("4472 records: 4472 rows, 0 rejected"), "{err}");
    // The v5 group's format came from DescribeFlowLogs: without it the records would not parse.
    let (code, _, err) = moto.run(&[
        "query",
        "cwlogs:///aws/vpc/flowlogs-v5",
        "--log-format",
        sageflow::format::DEFAULT_FORMAT,
        "--sql",
        "SELECT count(*) FROM flows",
    ]);
    assert_eq!(code, Some(2), "every record rejected is an error: {err}");
    assert!(err.contains("2236 rejected"), "{err}");

    // Two flow logs in different formats that write to one group share its streams: each
    // record is read in the format with its number of fields, here v5's (before, every
    // record of the group was rejected, for the first flow log's format).
    let dir = tempfile::tempdir().unwrap();
    let written_by = |formats: [(&str, &str); 2]| {
        let inventory = inventory_writing(dir.path(), "/aws/vpc/flowlogs-v5", &formats);
        moto.run(&[
            "query",
            "cwlogs:///aws/vpc/flowlogs-v5",
            "--inventory",
            inventory.to_str().unwrap(),
            "--sql",
            "SELECT count(*) FROM flows",
        ])
    };
    let (code, _, err) = written_by([
        ("fl-0aaa1111bbbb22220", &default_format()),
        ("fl-0ccc3333dddd44440", V5_FORMAT),
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("2236 records: 2236 rows, 0 rejected"), "{err}");
    assert!(!err.contains("warning: log group"), "{err}");
    // Two formats of as many fields cannot be told apart record by record: that is said.
    let swapped = V5_FORMAT.replace("${srcport} ${dstport}", "${dstport} ${srcport}");
    let (_, _, err) = written_by([
        ("fl-0aaa1111bbbb22220", V5_FORMAT),
        ("fl-0ccc3333dddd44440", &swapped),
    ]);
    assert!(
        err.contains(
            "warning: log group /aws/vpc/flowlogs-v5 is written by flow logs fl-0aaa1111bbbb22220 and fl-0ccc3333dddd44440 in different record formats of the same number of fields (27): their records cannot be told apart, and are read in fl-0aaa1111bbbb22220's format"
        ),
        "{err}"
    );
}

/// The sample inventory, in `dir`, with a describe-flow-logs of flow logs (id, format) that
/// write to `group`.
fn inventory_writing(
    dir: &std::path::Path,
    group: &str,
    formats: &[(&str, &str)],
) -> std::path::PathBuf {
    let inventory = dir.join("inventory");
    std::fs::create_dir_all(&inventory).unwrap();
    for entry in std::fs::read_dir(support::root().join("sample-logs/inventory")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && !path.ends_with("describe-flow-logs.json") {
            std::fs::copy(&path, inventory.join(path.file_name().unwrap())).unwrap();
        }
    }
    let flow_logs: Vec<_> = formats
        .iter()
        .map(|(id, format)| {
            serde_json::json!({"FlowLogId": id, "ResourceId": "vpc-0a1b2c3d4e5f60001",
                "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs",
                "LogGroupName": group, "LogFormat": format})
        })
        .collect();
    std::fs::write(
        inventory.join("describe-flow-logs.json"),
        serde_json::json!({ "FlowLogs": flow_logs }).to_string(),
    )
    .unwrap();
    inventory
}

/// `query --format csv --sql SQL` over local files.
fn local_query(sources: &[&str], sql: &str) -> String {
    let mut query = support::sageflow();
    query.arg("query").args(sources);
    support::ok(query.args(["--format", "csv", "--sql", sql])).0
}

/// Seeds `group` with the v2 sample's records (with a flow log of `v2_format`, if any) and
/// the v5 sample's (with the v5 flow log), interleaved in each ENI's stream, and checks
/// that a query reads every record, as it reads the same records from the local files.
/// Returns the group's URL and the query's CSV.
fn reads_both_samples(
    moto: &support::Moto,
    group: &str,
    v2_format: Option<&str>,
) -> (String, String) {
    moto.run_python(&support::log_group_seed_of(
        &[("v2-default", v2_format), ("v5-custom", Some(V5_FORMAT))],
        group,
    ));
    let url = format!("cwlogs://{group}");
    let sql = "SELECT count(*), count(flow_direction), sum(bytes) FROM flows";
    let (code, out, err) = moto.run(&["query", &url, "--format", "csv", "--sql", sql]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("4472 records: 4472 rows, 0 rejected"), "{err}");
    assert_eq!(
        out,
        local_query(&["sample-logs/v2-default", "sample-logs/v5-custom"], sql)
    );
    (url, out)
}

/// The default format as a describe-flow-logs `LogFormat`.
pub(crate) fn default_format() -> String {
    sageflow::format::DEFAULT_FORMAT
        .split(' ')
        .map(|f| format!("${{{f}}}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Flow logs in two formats write to one group (their records interleaved in each ENI's
/// stream, as AWS delivers them): with the formats from the live DescribeFlowLogs, each
/// record is read in its own, and the scan finds what it finds in the same records read
/// from local files in their two formats.
#[test]
fn a_group_written_by_flow_logs_in_two_formats_reads_both() {
    let moto = support::moto();
    let _guard = moto.lock();
    let (url, out) = reads_both_samples(
        moto,
        "/aws/vpc/flowlogs-two-formats",
        Some(&default_format()),
    );
    // The v5 records' directions (all but their NODATA records'), which v2 lacks.
    assert!(out.contains("\n4472,2228,"), "{out}");

    let (code, out, err) = moto.run(&[
        "scan",
        &url,
        "--inventory",
        "sample-logs/inventory",
        "--format",
        "json",
        "--group-by",
        "flow",
    ]);
    assert_eq!(code, Some(1), "{err}");
    let local = assert_cmd::Command::cargo_bin("sageflow")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["scan", "sample-logs/v2-default", "sample-logs/v5-custom"])
        .args(["--inventory", "sample-logs/inventory", "--format", "json"])
        .args(["--group-by", "flow", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(
        support::findings_read_from(&out, &url),
        support::findings_read_from(&String::from_utf8(local.stdout).unwrap(), "sample-logs/"),
    );
}

#[test]
fn cloudwatch_pagination_time_windows_and_stream_eni() {
    let moto = support::moto();
    let _guard = moto.lock();
    // 10,050 events in one stream: more than one FilterLogEvents page (10,000 events).
    // The format has no interface-id: the ENI comes from the stream name.
    moto.run_python(
        r#"
import os, boto3
logs = boto3.client("logs", endpoint_url=os.environ["ENDPOINT"])
logs.create_log_group(logGroupName="big")
logs.create_log_stream(logGroupName="big", logStreamName="eni-0123456789abcdef0-all")
base = 1795169400  # 2026-11-20T10:10:00Z
events = [{"timestamp": (base + i // 100) * 1000, "message": "10.0.0.1 10.0.0.%d %d %d ACCEPT" % (i % 250, base + i // 100, base + i // 100 + 30)} for i in range(10050)]
for i in range(0, len(events), 5000):
    logs.put_log_events(logGroupName="big", logStreamName="eni-0123456789abcdef0-all", logEvents=events[i:i + 5000])
"#,
    );
    let q = |extra: &[&str]| {
        let mut args = vec![
            "query",
            "cwlogs://big",
            "--log-format",
            "srcaddr dstaddr start end action",
            "--format",
            "csv",
            "--sql",
            "SELECT count(*) AS n, count(DISTINCT interface_id) AS enis, min(interface_id) AS eni FROM flows",
        ];
        args.extend_from_slice(extra);
        moto.run(&args)
    };
    let (code, out, err) = q(&[]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "n,enis,eni\n10050,1,eni-0123456789abcdef0\n", "{err}");
    // Records start at 10:10:00 + i/100 s; a window ending at 10:10:49 keeps starts ≤ 49 s.
    let (_, out, err) = q(&[
        "--since",
        "2026-11-20T10:00:00Z",
        "--until",
        "2026-11-20T10:10:49Z",
    ]);
    assert_eq!(out, "n,enis,eni\n5000,1,eni-0123456789abcdef0\n", "{err}");
    let (_, out, err) = q(&["--since", "2026-11-21T00:00:00Z"]);
    assert_eq!(out, "n,enis,eni\n0,0,\n", "{err}");
}

/// A flow log's format cannot be changed: one re-created in a new format leaves in its group
/// the records the deleted one wrote, most often in the default format. Records of its
/// number of fields are read in it (before, each was rejected), and the scan says what
/// they lack.
#[test]
fn a_group_keeps_the_records_of_a_flow_log_deleted_since() {
    let moto = support::moto();
    let _guard = moto.lock();
    let group = "/aws/vpc/flowlogs-recreated";
    // The v2 records' flow log is gone: only the v5 one is described.
    let (url, _) = reads_both_samples(moto, group, None);

    let dir = tempfile::tempdir().unwrap();
    let inventory = inventory_writing(dir.path(), group, &[("fl-0eee5555ffff66660", V5_FORMAT)]);
    let (_, _, err) = moto.run(&["scan", &url, "--inventory", inventory.to_str().unwrap()]);
    assert!(err.contains("4472 records: 4472 rows, 0 rejected"), "{err}");
    assert!(
        err.contains(&format!(
            "the records read in the format `{}` (no flow log whose objects were read has it in describe-flow-logs) lack fields rules use",
            default_format()
        )),
        "{err}"
    );
}
