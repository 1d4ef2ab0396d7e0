//! Fault injection between sageflow and moto (tests/it/support/proxy.rs). Under HTTP 500 and
//! 503, S3 SlowDown, connection resets, truncated bodies and delays, every S3 or
//! CloudWatch run either returns exactly the rows of the same command over local files or
//! fails (exit 2) naming the object or log stream it could not read: a run that exits 0
//! has every row. An export under the same faults leaves nothing visible that is not the
//! whole run, and the next run without faults finishes it without duplicating a row.
//!
//! Faults are targeted (the n-th request of an action, of one key or stream) so that each
//! case breaks the same request on every run. Transient faults must be cured by the SDK's
//! retries or by sageflow's resumption; permanent ones must fail the run. Retries back off
//! for milliseconds here (`SAGEFLOW_RETRY_BACKOFF_MS`).

use crate::support;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use support::proxy::{Fault, Proxy, Rule};

const BUCKET: &str = "faults";
const EXPORTS: &str = "exports";

/// A v2 object that every S3 case can aim at.
const KEY: &str = "20261120T1015Z_03ae7164.log.gz";
/// The Parquet object (read by ranges).
const PARQUET: &str = "20261121T0900Z_d8362255.log.parquet";

const SQL: &str = "SELECT count(*) AS n, sum(bytes) AS b, min(start) AS lo, max(\"end\") AS hi, count(DISTINCT interface_id) AS enis FROM flows";

/// Uploads the v2 sample (24 gzip objects, 2236 records) and the Parquet sample (1 object,
/// 217 records) under `s3://faults/logs/`, the v2 sample again uncompressed under
/// `s3://faults/plain/` (text shows a repeated byte range as duplicate rows, where gzip
/// would only fail), and creates the export bucket.
fn seed_s3(moto: &support::Moto) {
    let root = env!("CARGO_MANIFEST_DIR");
    moto.run_python(&format!(
        r#"
import os, gzip, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="{BUCKET}")
s3.create_bucket(Bucket="{EXPORTS}")
for shape in ("v2-default", "parquet-hive"):
    base = os.path.join("{root}/sample-logs", shape)
    for d, _, files in os.walk(base):
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, base)
            s3.upload_file(p, "{BUCKET}", "logs/" + rel)
            if rel.endswith(".log.gz"):
                s3.put_object(Bucket="{BUCKET}", Key="plain/" + rel[:-3], Body=gzip.open(p).read())
"#
    ));
}

const V5_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}";

/// The v2 sample as `/aws/vpc/flowlogs-v2` (one stream per ENI, default format) and the
/// v5 sample as `/aws/vpc/flowlogs-v5`, with the flow log that gives its format.
fn seed_cloudwatch(moto: &support::Moto) {
    moto.run_python(&support::log_group_seed(
        "v2-default",
        "/aws/vpc/flowlogs-v2",
        None,
    ));
    moto.run_python(&support::log_group_seed(
        "v5-custom",
        "/aws/vpc/flowlogs-v5",
        Some(V5_FORMAT),
    ));
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs sageflow against `endpoint` (a proxy, or moto itself) from the crate root.
fn run_via(moto: &support::Moto, endpoint: &str, args: &[&str], env: &[(&str, &str)]) -> Out {
    let out = moto
        .sageflow()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("SAGEFLOW_RETRY_BACKOFF_MS", "5")
        .env_remove("SAGEFLOW_FAULT")
        .envs(env.iter().copied())
        .args(args)
        .args(["--endpoint-url", endpoint])
        .timeout(Duration::from_secs(300))
        .output()
        .expect("sageflow runs");
    Out {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// stdout of sageflow over local files (no AWS involved).
fn local(args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("sageflow")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn local_query(sources: &[&str]) -> String {
    let mut args = vec!["query"];
    args.extend_from_slice(sources);
    args.extend_from_slice(&["--format", "csv", "--quiet", "--sql", SQL]);
    local(&args)
}

/// What a case must end in.
enum Expect {
    /// Exit 0 with exactly the rows of the local run: the fault was cured.
    Rows,
    /// Exit 2 with nothing on stdout and an error naming this (object, stream, prefix).
    Fails(&'static str),
}

struct Case {
    name: &'static str,
    rules: Vec<Rule>,
    extra: &'static [&'static str],
    expect: Expect,
}

fn case(name: &'static str, rules: Vec<Rule>, expect: Expect) -> Case {
    Case {
        name,
        rules,
        extra: &[],
        expect,
    }
}

/// Scan findings come in no fixed order.
/// The rows sorted; a finding's `source_object`/`source_line` say where the record was read
/// (S3 or local), so they are left out.
fn sorted_json(stdout: &str) -> String {
    match serde_json::from_str::<Vec<Value>>(stdout) {
        Ok(mut v) => {
            for f in &mut v {
                support::without_provenance(f);
            }
            v.sort_by_key(|f| f.to_string());
            serde_json::to_string_pretty(&v).unwrap()
        }
        Err(_) => stdout.to_string(),
    }
}

fn head(s: &str) -> &str {
    &s[..s.floor_char_boundary(3000)]
}

/// Runs `args` (+ the case's extra arguments) through a proxy with the case's plan and
/// checks the outcome against `expected` (stdout of the same command over local files).
/// `ok_code` is the exit code of a complete run (0 for query, 1 for a scan with findings).
fn check(moto: &support::Moto, c: &Case, args: &[&str], expected: &str, ok_code: i32) {
    let proxy = Proxy::start(&moto.endpoint, c.rules.clone());
    let mut all: Vec<&str> = args.to_vec();
    all.extend_from_slice(c.extra);
    let out = run_via(moto, &proxy.endpoint, &all, &[]);
    let ctx = format!(
        "case `{}`: exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        c.name,
        out.code,
        head(&out.stdout),
        head(&out.stderr)
    );
    assert!(proxy.injected() > 0, "no fault was injected; {ctx}");
    // Whatever the case expects: a successful exit never comes with fewer rows.
    if out.code == Some(ok_code) {
        assert!(
            sorted_json(&out.stdout) == sorted_json(expected),
            "a run that succeeded has other rows; {ctx}"
        );
    }
    match c.expect {
        Expect::Rows => assert_eq!(out.code, Some(ok_code), "{ctx}"),
        Expect::Fails(name) => {
            assert_eq!(out.code, Some(2), "{ctx}");
            assert!(out.stdout.is_empty(), "a failed run printed results; {ctx}");
            let error = out
                .stderr
                .lines()
                .find(|l| l.starts_with("error:"))
                .unwrap_or_else(|| panic!("no error line; {ctx}"));
            assert!(
                error.contains(name),
                "the error does not name {name}; {ctx}"
            );
        }
    }
}

#[test]
fn s3_queries_under_faults_return_every_row_or_name_the_object() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed_s3(moto);
    let expected = local_query(&["sample-logs/v2-default", "sample-logs/parquet-hive"]);
    assert!(expected.starts_with("n,b,lo,hi,enis\n2453,"), "{expected}");
    let url = format!("s3://{BUCKET}/logs/");
    let args = ["query", url.as_str(), "--format", "csv", "--sql", SQL];
    // The same command against moto without the proxy.
    let direct = run_via(moto, &moto.endpoint, &args, &[]);
    assert_eq!(direct.stdout, expected, "{}", direct.stderr);

    let get = || Rule::on("GetObject").key(KEY);
    let parquet = || Rule::on("GetObject").key(PARQUET);
    let cases = vec![
        case(
            "500 on the first GetObject of an object",
            vec![get().nth(1).fault(Fault::Status(500))],
            Expect::Rows,
        ),
        Case {
            // One object at a time, so that no request meets the fault twice in a row.
            extra: &["--concurrency", "1"],
            ..case(
                "503 on every 3rd request",
                vec![Rule::any().every(3).fault(Fault::Status(503))],
                Expect::Rows,
            )
        },
        case(
            "SlowDown on the first 4 GetObject and the first 2 ListObjectsV2",
            vec![
                Rule::on("GetObject").first(4).fault(Fault::SlowDown),
                Rule::on("ListObjectsV2").first(2).fault(Fault::SlowDown),
            ],
            Expect::Rows,
        ),
        case(
            "connection reset mid-body, three times in a row",
            vec![get().first(3).fault(Fault::Reset)],
            Expect::Rows,
        ),
        case(
            "body truncated (Content-Length announced, connection closed)",
            vec![get().nth(1).fault(Fault::Truncate)],
            Expect::Rows,
        ),
        case(
            "ListObjectsV2 answer truncated",
            vec![Rule::on("ListObjectsV2").nth(1).fault(Fault::Truncate)],
            Expect::Rows,
        ),
        case(
            "Parquet range read reset mid-body",
            vec![parquet().nth(1).fault(Fault::Reset)],
            Expect::Rows,
        ),
        case(
            "Parquet range reads truncated twice",
            vec![parquet().first(2).fault(Fault::Truncate)],
            Expect::Rows,
        ),
        case(
            "delays before the answer and mid-body",
            vec![
                get().nth(1).fault(Fault::Delay(Duration::from_millis(800))),
                parquet()
                    .nth(1)
                    .fault(Fault::Stall(Duration::from_millis(500))),
                Rule::on("ListObjectsV2")
                    .nth(1)
                    .fault(Fault::Delay(Duration::from_millis(300))),
            ],
            Expect::Rows,
        ),
        case(
            "500 on every GetObject of an object",
            vec![get().always().fault(Fault::Status(500))],
            Expect::Fails(KEY),
        ),
        case(
            "AccessDenied on an object",
            vec![get().always().fault(Fault::Status(403))],
            Expect::Fails(KEY),
        ),
        case(
            "every body of an object reset",
            vec![get().always().fault(Fault::Reset)],
            Expect::Fails(KEY),
        ),
        case(
            "every Parquet range read truncated",
            vec![parquet().always().fault(Fault::Truncate)],
            Expect::Fails(PARQUET),
        ),
        case(
            "SlowDown on every listing",
            vec![Rule::on("ListObjectsV2").always().fault(Fault::SlowDown)],
            Expect::Fails("s3://faults/logs/"),
        ),
    ];
    for c in &cases {
        check(moto, c, &args, &expected, 0);
    }

    // AWS_MAX_ATTEMPTS is honoured (an explicit retry configuration used to hide it): two
    // attempts, both refused, and the run fails.
    let proxy = Proxy::start(
        &moto.endpoint,
        vec![get().first(2).fault(Fault::Status(500))],
    );
    let out = run_via(moto, &proxy.endpoint, &args, &[("AWS_MAX_ATTEMPTS", "2")]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(out.stderr.contains(KEY), "{}", out.stderr);
    let attempts = proxy
        .requests()
        .iter()
        .filter(|r| r.action == "GetObject" && r.subject().contains(KEY))
        .count();
    assert_eq!(attempts, 2);
}

fn scan<'a>(sources: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["scan"];
    a.extend_from_slice(sources);
    a.extend_from_slice(&[
        "--inventory",
        "sample-logs/inventory",
        "--format",
        "json",
        "--quiet",
    ]);
    a
}

#[test]
fn s3_scans_under_faults_give_the_local_findings_or_fail_without_moving_the_state() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed_s3(moto);
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_s = state.to_str().unwrap();
    let expected = local(&scan(&[
        "sample-logs/v2-default",
        "sample-logs/parquet-hive",
    ]));
    assert!(expected.len() > 2, "the sample has findings");
    let url = format!("s3://{BUCKET}/logs/");
    let mut args = scan(&[&url]);

    let get = || Rule::on("GetObject").key(KEY);
    let cases = vec![
        Case {
            extra: &["--concurrency", "1"],
            ..case(
                "503 on every 3rd request",
                vec![Rule::any().every(3).fault(Fault::Status(503))],
                Expect::Rows,
            )
        },
        case(
            "SlowDown, a reset, a truncation and a delay",
            vec![
                Rule::on("GetObject")
                    .key(".log.gz")
                    .first(3)
                    .fault(Fault::SlowDown),
                get().nth(2).fault(Fault::Reset),
                get().nth(3).fault(Fault::Truncate),
                Rule::on("GetObject")
                    .key(PARQUET)
                    .nth(2)
                    .fault(Fault::Delay(Duration::from_millis(500))),
            ],
            Expect::Rows,
        ),
        case(
            "500 on every GetObject of an object",
            vec![get().always().fault(Fault::Status(500))],
            Expect::Fails(KEY),
        ),
    ];
    for c in &cases {
        check(moto, c, &args, &expected, 1);
    }
    let reset = case(
        "every body of an object reset",
        vec![get().always().fault(Fault::Reset)],
        Expect::Fails(KEY),
    );
    check(moto, &reset, &args, &expected, 1);

    // A failed incremental scan records nothing: the next one reads everything.
    args.extend_from_slice(&["--state", state_s]);
    check(moto, &reset, &args, &expected, 1);
    assert!(!state.exists(), "a failed scan wrote its state");
    let out = run_via(moto, &moto.endpoint, &args, &[]);
    assert_eq!(out.code, Some(1), "{}", out.stderr);
    assert_eq!(sorted_json(&out.stdout), sorted_json(&expected));
    assert!(state.exists());
}

/// A resumed body must be the range asked for: a server or cache that ignores `Range`
/// sends the whole object again, which appended would repeat records.
#[test]
fn s3_resume_answered_with_the_whole_object_fails_instead_of_duplicating_rows() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed_s3(moto);
    let expected = local_query(&["sample-logs/v2-default"]);
    let url = format!("s3://{BUCKET}/plain/");
    let args = ["query", url.as_str(), "--format", "csv", "--sql", SQL];
    let key = KEY.trim_end_matches(".gz");
    let get = || Rule::on("GetObject").key(key);
    check(
        moto,
        &case(
            "truncated body, resumed normally",
            vec![get().nth(1).fault(Fault::Truncate)],
            Expect::Rows,
        ),
        &args,
        &expected,
        0,
    );
    check(
        moto,
        &case(
            "truncated body, the resume answered with the whole object",
            vec![
                get().nth(1).fault(Fault::Truncate),
                get().nth(2).fault(Fault::IgnoreRange),
            ],
            Expect::Fails(key),
        ),
        &args,
        &expected,
        0,
    );
}

#[test]
fn cloudwatch_queries_under_faults_return_every_row_or_name_the_stream() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed_cloudwatch(moto);
    let expected = local_query(&["sample-logs/v2-default"]);
    let group = "cwlogs:///aws/vpc/flowlogs-v2";
    let args = ["query", group, "--format", "csv", "--sql", SQL];
    let direct = run_via(moto, &moto.endpoint, &args, &[]);
    assert_eq!(direct.stdout, expected, "{}", direct.stderr);

    let stream = "eni-0c5bde740a6b7c1ba-all";
    let filter = || Rule::on("FilterLogEvents").key(stream);
    let cases = vec![
        case(
            "500 on the first 3 FilterLogEvents",
            vec![
                Rule::on("FilterLogEvents")
                    .first(3)
                    .fault(Fault::Status(500)),
            ],
            Expect::Rows,
        ),
        Case {
            extra: &["--concurrency", "1"],
            ..case(
                "503 on every 3rd request",
                vec![Rule::any().every(3).fault(Fault::Status(503))],
                Expect::Rows,
            )
        },
        case(
            "FilterLogEvents of a stream reset mid-body twice",
            vec![filter().first(2).fault(Fault::Reset)],
            Expect::Rows,
        ),
        case(
            "DescribeLogStreams answer truncated",
            vec![Rule::on("DescribeLogStreams").nth(1).fault(Fault::Truncate)],
            Expect::Rows,
        ),
        case(
            "delays on a stream's pages and mid-body",
            vec![
                filter()
                    .nth(1)
                    .fault(Fault::Delay(Duration::from_millis(800))),
                Rule::on("FilterLogEvents")
                    .nth(2)
                    .fault(Fault::Stall(Duration::from_millis(400))),
            ],
            Expect::Rows,
        ),
        case(
            "500 on every FilterLogEvents of a stream",
            vec![filter().always().fault(Fault::Status(500))],
            Expect::Fails("cwlogs:///aws/vpc/flowlogs-v2/eni-0c5bde740a6b7c1ba-all"),
        ),
        case(
            "every FilterLogEvents of a stream truncated",
            vec![filter().always().fault(Fault::Truncate)],
            Expect::Fails("cwlogs:///aws/vpc/flowlogs-v2/eni-0c5bde740a6b7c1ba-all"),
        ),
        case(
            "503 on every DescribeLogStreams",
            vec![
                Rule::on("DescribeLogStreams")
                    .always()
                    .fault(Fault::Status(503)),
            ],
            Expect::Fails("cwlogs:///aws/vpc/flowlogs-v2"),
        ),
    ];
    for c in &cases {
        check(moto, c, &args, &expected, 0);
    }

    // Streams read in pages of 100 events (the eni-0c5bde740a6b7c1ba stream has 370): a
    // failure after the first page must not leave the first page's rows as the answer.
    let paged = || {
        Rule::on("FilterLogEvents")
            .always()
            .fault(Fault::PageLimit(100))
    };
    let page2 = || filter().nth(2);
    let cases = vec![
        case(
            "the second page of a stream reset once",
            vec![page2().fault(Fault::Reset), paged()],
            Expect::Rows,
        ),
        case(
            "the second page of a stream truncated, the third 500",
            vec![
                page2().fault(Fault::Truncate),
                filter().nth(4).fault(Fault::Status(500)),
                paged(),
            ],
            Expect::Rows,
        ),
        case(
            "every page of a stream after the first 503",
            vec![filter().after(1).fault(Fault::Status(503)), paged()],
            Expect::Fails("cwlogs:///aws/vpc/flowlogs-v2/eni-0c5bde740a6b7c1ba-all"),
        ),
    ];
    for c in &cases {
        check(moto, c, &args, &expected, 0);
    }
}

/// The record format of a group comes from DescribeFlowLogs; when that call fails after
/// its retries, reading the group in the default format would turn every record of a
/// custom-format group into a reject while the run exits 0.
#[test]
fn cloudwatch_format_lookup_failure_fails_the_run() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed_cloudwatch(moto);
    let expected = local_query(&["sample-logs/v5-custom"]);
    let args = [
        "query",
        "cwlogs:///aws/vpc/flowlogs-v5",
        "--format",
        "csv",
        "--sql",
        SQL,
    ];
    check(
        moto,
        &case(
            "DescribeFlowLogs 503 twice",
            vec![
                Rule::on("DescribeFlowLogs")
                    .first(2)
                    .fault(Fault::Status(503)),
            ],
            Expect::Rows,
        ),
        &args,
        &expected,
        0,
    );
    check(
        moto,
        &case(
            "DescribeFlowLogs always 500",
            vec![
                Rule::on("DescribeFlowLogs")
                    .always()
                    .fault(Fault::Status(500)),
            ],
            Expect::Fails("cwlogs:///aws/vpc/flowlogs-v5"),
        ),
        &args,
        &expected,
        0,
    );
}

// ---------------------------------------------------------------------------------------
// Export

/// An S3 client for moto, straight (no proxy), to look at what an export left.
fn s3(moto: &support::Moto) -> (tokio::runtime::Runtime, aws_sdk_s3::Client) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let conf = aws_sdk_s3::config::Builder::new()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(&moto.endpoint)
        .force_path_style(true)
        .http_client(sageflow::aws::http_client().expect("an HTTP client"))
        .build();
    (rt, aws_sdk_s3::Client::from_conf(conf))
}

/// Keys of the export bucket under `prefix/`, relative to it.
fn keys(moto: &support::Moto, prefix: &str) -> Vec<String> {
    let (rt, client) = s3(moto);
    let mut v: Vec<String> = rt.block_on(async {
        let mut pages = client
            .list_objects_v2()
            .bucket(EXPORTS)
            .prefix(format!("{prefix}/"))
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            for o in page.unwrap().contents() {
                keys.push(o.key().unwrap()[prefix.len() + 1..].to_string());
            }
        }
        keys
    });
    v.sort();
    v
}

/// Data files other engines would read (outside `_sageflow/`).
fn visible(keys: &[String]) -> BTreeSet<String> {
    keys.iter()
        .filter(|k| !k.starts_with('_') && k.ends_with(".parquet"))
        .cloned()
        .collect()
}

/// The final names the pending run records of an export will commit.
fn pending(moto: &support::Moto, prefix: &str, keys: &[String]) -> BTreeSet<String> {
    let (rt, client) = s3(moto);
    let mut names = BTreeSet::new();
    for k in keys.iter().filter(|k| k.starts_with("_sageflow/runs/")) {
        let body = rt.block_on(async {
            let o = client
                .get_object()
                .bucket(EXPORTS)
                .key(format!("{prefix}/{k}"))
                .send()
                .await
                .unwrap();
            o.body.collect().await.unwrap().into_bytes()
        });
        let record: Value = serde_json::from_slice(&body).unwrap();
        for m in record["moves"].as_array().unwrap() {
            names.insert(m[1].as_str().unwrap().to_string());
        }
    }
    names
}

/// How an export case must end.
enum ExportExpect {
    /// The faulted run succeeds with every row.
    Completes,
    /// It fails naming this, before its run record: nothing visible, no manifest.
    FailsStaged(&'static str),
    /// It fails naming this while committing: either nothing is visible (the files it had
    /// placed were withdrawn) or the whole run is; the run record stays for the next run.
    FailsCommitting(&'static str),
}

struct ExportCase {
    name: &'static str,
    rules: Vec<Rule>,
    /// Export the S3 copy of the logs instead of the local files.
    from_s3: bool,
    expect: ExportExpect,
}

fn export_case(name: &'static str, rules: Vec<Rule>, expect: ExportExpect) -> ExportCase {
    ExportCase {
        name,
        rules,
        from_s3: false,
        expect,
    }
}

#[test]
fn s3_exports_under_faults_leave_no_partial_output_and_finish_on_the_next_run() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed_s3(moto);
    let expected = local_query(&["sample-logs/v2-default", "sample-logs/parquet-hive"]);
    let staged = "/_sageflow/staging/";
    let cases = vec![
        export_case(
            "500 on the first 2 PutObject",
            vec![Rule::on("PutObject").first(2).fault(Fault::Status(500))],
            ExportExpect::Completes,
        ),
        export_case(
            "SlowDown on the first 3 CopyObject",
            vec![Rule::on("CopyObject").first(3).fault(Fault::SlowDown)],
            ExportExpect::Completes,
        ),
        export_case(
            "answers lost after the service acted (resets, truncation)",
            vec![
                Rule::on("PutObject").nth(1).fault(Fault::Reset),
                Rule::on("CopyObject").nth(2).fault(Fault::Truncate),
                Rule::on("DeleteObject").nth(1).fault(Fault::Reset),
                Rule::on("ListObjectsV2").nth(1).fault(Fault::Truncate),
            ],
            ExportExpect::Completes,
        ),
        export_case(
            "delays",
            vec![
                Rule::on("HeadObject")
                    .nth(1)
                    .fault(Fault::Delay(Duration::from_millis(800))),
                Rule::on("PutObject")
                    .nth(2)
                    .fault(Fault::Delay(Duration::from_millis(300))),
            ],
            ExportExpect::Completes,
        ),
        export_case(
            "the manifest cannot be read",
            vec![
                Rule::on("GetObject")
                    .key("manifest.json")
                    .always()
                    .fault(Fault::Status(503)),
            ],
            ExportExpect::FailsStaged("_sageflow/manifest.json"),
        ),
        export_case(
            "the second staged file cannot be written",
            vec![
                Rule::on("PutObject")
                    .key("hour=11/")
                    .always()
                    .fault(Fault::Status(500)),
            ],
            ExportExpect::FailsStaged("hour=11/"),
        ),
        ExportCase {
            from_s3: true,
            ..export_case(
                "a source object cannot be read",
                vec![Rule::on("GetObject").key(KEY).always().fault(Fault::Reset)],
                ExportExpect::FailsStaged(KEY),
            )
        },
        export_case(
            "the second file cannot be copied into place",
            vec![
                Rule::on("CopyObject")
                    .key("hour=11/")
                    .always()
                    .fault(Fault::Status(500)),
            ],
            ExportExpect::FailsCommitting("hour=11/"),
        ),
        export_case(
            "staged copies cannot be deleted",
            vec![
                Rule::on("DeleteObject")
                    .key(staged)
                    .always()
                    .fault(Fault::Status(500)),
            ],
            ExportExpect::FailsCommitting("DeleteObject"),
        ),
        export_case(
            "the manifest cannot be written",
            vec![
                Rule::on("PutObject")
                    .key("manifest.json")
                    .always()
                    .fault(Fault::Status(503)),
            ],
            ExportExpect::FailsCommitting("_sageflow/manifest.json"),
        ),
    ];
    let source_s3 = format!("s3://{BUCKET}/logs/");
    for (i, c) in cases.iter().enumerate() {
        let prefix = format!("case{i}");
        let out_url = format!("s3://{EXPORTS}/{prefix}");
        let sources: Vec<&str> = if c.from_s3 {
            vec![&source_s3]
        } else {
            vec!["sample-logs/v2-default", "sample-logs/parquet-hive"]
        };
        let mut args = vec!["export"];
        args.extend_from_slice(&sources);
        args.extend_from_slice(&[
            "--inventory",
            "sample-logs/inventory",
            "--partition-by",
            "hour",
            "--out",
            &out_url,
        ]);
        let proxy = Proxy::start(&moto.endpoint, c.rules.clone());
        let tmp = tempfile::tempdir().unwrap();
        let out = run_via(
            moto,
            &proxy.endpoint,
            &args,
            &[("TMPDIR", tmp.path().to_str().unwrap())],
        );
        let after = keys(moto, &prefix);
        let ctx = format!(
            "case `{}`: exit {:?}\n--- stderr\n{}--- keys\n{after:#?}",
            c.name, out.code, out.stderr
        );
        assert!(proxy.injected() > 0, "no fault was injected; {ctx}");
        assert!(
            std::fs::read_dir(tmp.path()).unwrap().next().is_none(),
            "local copies left in TMPDIR; {ctx}"
        );
        // What sageflow itself reads back from the export (it skips `_sageflow/`).
        let read_back = || {
            let out = run_via(
                moto,
                &moto.endpoint,
                &[
                    "query",
                    &format!("{out_url}/"),
                    "--format",
                    "csv",
                    "--quiet",
                    "--sql",
                    SQL,
                ],
                &[],
            );
            if out.stderr.contains("no flow-log objects found") {
                return String::new();
            }
            assert_eq!(out.code, Some(0), "{}", out.stderr);
            out.stdout
        };
        let manifest = after.iter().any(|k| k == "_sageflow/manifest.json");
        match c.expect {
            ExportExpect::Completes => {
                assert_eq!(out.code, Some(0), "{ctx}");
                assert!(out.stderr.contains("exported 2453 rows"), "{ctx}");
                assert!(manifest, "{ctx}");
                assert!(
                    !after
                        .iter()
                        .any(|k| k.starts_with("_sageflow/staging/")
                            || k.starts_with("_sageflow/runs/")),
                    "{ctx}"
                );
                assert_eq!(read_back(), expected, "{ctx}");
                continue;
            }
            ExportExpect::FailsStaged(name) => {
                assert_eq!(out.code, Some(2), "{ctx}");
                assert!(
                    out.stderr.contains(name),
                    "the error does not name {name}; {ctx}"
                );
                assert!(
                    visible(&after).is_empty(),
                    "partial output is visible; {ctx}"
                );
                assert!(!manifest, "{ctx}");
                assert!(
                    !after.iter().any(|k| k.starts_with("_sageflow/runs/")),
                    "{ctx}"
                );
                assert_eq!(read_back(), "", "{ctx}");
            }
            ExportExpect::FailsCommitting(name) => {
                assert_eq!(out.code, Some(2), "{ctx}");
                assert!(
                    out.stderr.contains(name),
                    "the error does not name {name}; {ctx}"
                );
                assert!(out.stderr.contains("not committed"), "{ctx}");
                assert!(!manifest, "no manifest before the commit ends; {ctx}");
                let shown = visible(&after);
                let run = pending(moto, &prefix, &after);
                assert!(!run.is_empty(), "the run record is gone; {ctx}");
                assert!(
                    shown.is_empty() || shown == run,
                    "part of the run is visible: {shown:?} of {run:?}; {ctx}"
                );
                // Issue 17, 5: sageflow reads an export's files through its manifest,
                // which the commit writes last: none of the run, placed or not.
                assert_eq!(read_back(), "", "{ctx}");
            }
        }
        // The next run, without faults, finishes the work: every row once, nothing left
        // in staging.
        let again = run_via(moto, &moto.endpoint, &args, &[]);
        assert_eq!(again.code, Some(0), "{ctx}\n--- next run\n{}", again.stderr);
        if let ExportExpect::FailsCommitting(_) = c.expect {
            assert!(
                again.stderr.contains("finished 1 interrupted run"),
                "{ctx}\n--- next run\n{}",
                again.stderr
            );
        }
        let end = keys(moto, &prefix);
        assert!(
            end.iter()
                .all(|k| !k.starts_with("_sageflow/staging/") && !k.starts_with("_sageflow/runs/")),
            "{ctx}\n--- keys after the next run\n{end:#?}"
        );
        assert_eq!(read_back(), expected, "{ctx}");
    }
}

/// A commit interrupted half-way (a crash, or staged copies that could not all be
/// deleted), then finished by a run that fails too: what readers see never becomes part
/// of the run, and a last run without faults completes it once.
#[test]
fn s3_export_recovery_that_fails_again_leaves_all_or_nothing_visible() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed_s3(moto);
    let expected = local_query(&["sample-logs/v2-default", "sample-logs/parquet-hive"]);
    let export = |prefix: &str| {
        vec![
            "export".to_string(),
            "sample-logs/v2-default".into(),
            "sample-logs/parquet-hive".into(),
            "--inventory".into(),
            "sample-logs/inventory".into(),
            "--partition-by".into(),
            "hour".into(),
            "--out".into(),
            format!("s3://{EXPORTS}/{prefix}"),
        ]
    };
    let read_back = |prefix: &str| {
        let url = format!("s3://{EXPORTS}/{prefix}/");
        let out = run_via(
            moto,
            &moto.endpoint,
            &["query", &url, "--format", "csv", "--quiet", "--sql", SQL],
            &[],
        );
        if out.stderr.contains("no flow-log objects found") {
            String::new()
        } else {
            out.stdout
        }
    };

    // 1. A crash after the first file was copied into place; the recovery cannot copy
    //    the second and withdraws the first.
    let args = export("crashed");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run_via(
        moto,
        &moto.endpoint,
        &args,
        &[("SAGEFLOW_FAULT", "commit:1")],
    );
    assert_ne!(out.code, Some(0), "{}", out.stderr);
    let after = keys(moto, "crashed");
    assert_eq!(visible(&after).len(), 1, "{after:#?}");
    assert_eq!(
        read_back("crashed"),
        "",
        "the placed file is not in the manifest"
    );
    let proxy = Proxy::start(
        &moto.endpoint,
        vec![
            Rule::on("CopyObject")
                .key("hour=11/")
                .always()
                .fault(Fault::Status(500)),
        ],
    );
    let out = run_via(moto, &proxy.endpoint, &args, &[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(
        out.stderr.contains("no file of it is visible"),
        "{}",
        out.stderr
    );
    let after = keys(moto, "crashed");
    assert!(visible(&after).is_empty(), "{after:#?}");
    assert_eq!(read_back("crashed"), "");
    let out = run_via(moto, &moto.endpoint, &args, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("finished 1 interrupted run"),
        "{}",
        out.stderr
    );
    assert_eq!(read_back("crashed"), expected);

    // 2. Every file in place, the first staged copy deleted, the second not; the recovery
    //    copies the second again, then cannot copy the third. The first cannot be
    //    withdrawn (its staged copy is gone), so withdrawing the second would leave part
    //    of the run visible: everything stays.
    let args = export("deleting");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let proxy = Proxy::start(
        &moto.endpoint,
        vec![
            Rule::on("DeleteObject")
                .key("hour=11/")
                .always()
                .fault(Fault::Status(500)),
        ],
    );
    let out = run_via(moto, &proxy.endpoint, &args, &[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    let after = keys(moto, "deleting");
    let run = pending(moto, "deleting", &after);
    assert_eq!(visible(&after), run, "{after:#?}");
    assert_eq!(
        read_back("deleting"),
        "",
        "placed, but not in the manifest yet"
    );
    let proxy = Proxy::start(
        &moto.endpoint,
        vec![
            Rule::on("CopyObject")
                .key("day=21/")
                .always()
                .fault(Fault::Status(500)),
        ],
    );
    let out = run_via(moto, &proxy.endpoint, &args, &[]);
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert!(proxy.injected() > 0);
    assert!(
        out.stderr.contains("some of its files are visible"),
        "{}",
        out.stderr
    );
    let after = keys(moto, "deleting");
    assert_eq!(visible(&after), run, "{after:#?}");
    assert_eq!(read_back("deleting"), "");
    let out = run_via(moto, &moto.endpoint, &args, &[]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains("finished 1 interrupted run"),
        "{}",
        out.stderr
    );
    let end = keys(moto, "deleting");
    assert!(
        end.iter()
            .all(|k| !k.starts_with("_sageflow/staging/") && !k.starts_with("_sageflow/runs/")),
        "{end:#?}"
    );
    assert_eq!(read_back("deleting"), expected);
}

/// Issue 17, 5: an S3 export run killed before each of its copies into place: sageflow's
/// readers see none of it (its files are not in the manifest yet), and the next run
/// finishes it with every record once.
#[test]
fn s3_export_killed_at_each_copy_shows_none_of_the_run_and_recovers_exactly() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed_s3(moto);
    let expected = local_query(&["sample-logs/v2-default", "sample-logs/parquet-hive"]);
    let mut crashed = 0;
    for k in 0.. {
        let prefix = format!("copy{k}");
        let out_url = format!("s3://{EXPORTS}/{prefix}");
        let args = [
            "export",
            "sample-logs/v2-default",
            "sample-logs/parquet-hive",
            "--inventory",
            "sample-logs/inventory",
            "--partition-by",
            "hour",
            "--out",
            &out_url,
        ];
        let fault = format!("commit:{k}");
        let out = run_via(moto, &moto.endpoint, &args, &[("SAGEFLOW_FAULT", &fault)]);
        if out.code == Some(0) {
            break; // k is past the last copy
        }
        crashed += 1;
        let after = keys(moto, &prefix);
        assert_eq!(visible(&after).len(), k, "{fault}: {after:#?}");
        let read_back = || {
            let out = run_via(
                moto,
                &moto.endpoint,
                &[
                    "query",
                    &format!("{out_url}/"),
                    "--format",
                    "csv",
                    "--quiet",
                    "--sql",
                    SQL,
                ],
                &[],
            );
            if out.stderr.contains("no flow-log objects found") {
                String::new()
            } else {
                assert_eq!(out.code, Some(0), "{}", out.stderr);
                out.stdout
            }
        };
        assert_eq!(read_back(), "", "{fault}: part of the run is readable");
        let again = run_via(moto, &moto.endpoint, &args, &[]);
        assert_eq!(again.code, Some(0), "{fault}: {}", again.stderr);
        assert!(
            again.stderr.contains("finished 1 interrupted run")
                && again.stderr.contains("exported 0 rows"),
            "{fault}: {}",
            again.stderr
        );
        assert_eq!(read_back(), expected, "{fault}");
    }
    assert!(crashed >= 3, "only {crashed} copies were tried");
}
