//! The moto harness itself: it installs and starts the server, seeds it with boto3, the
//! Rust SDK reaches it, `lock` resets it, and the server stops when its stdin closes.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use sageflow::aws::{AwsOptions, s3_client};
use support::moto;

/// The S3 bucket names moto lists, through the library's own S3 client.
fn bucket_names(endpoint: &str) -> Vec<String> {
    let opts = AwsOptions {
        profile: None,
        region: Some("us-east-1".to_string()),
        endpoint_url: Some(endpoint.to_string()),
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let sdk = aws_config::defaults(BehaviorVersion::latest())
            .http_client(sageflow::aws::http_client().expect("HTTP client"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .load()
            .await;
        let out = s3_client(&sdk, &opts)
            .list_buckets()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)));
        out.buckets()
            .iter()
            .filter_map(|b| b.name().map(str::to_string))
            .collect()
    })
}

#[test]
fn moto_starts_and_boto3_seeds_what_the_sdk_lists() {
    let m = moto();
    assert!(
        m.endpoint.starts_with("http://127.0.0.1:"),
        "{}",
        m.endpoint
    );
    let _guard = m.lock();

    let listed = m.run_python(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="sageflow-smoke")
print(",".join(b["Name"] for b in s3.list_buckets()["Buckets"]))
"#,
    );
    assert_eq!(listed.trim(), "sageflow-smoke");

    assert_eq!(bucket_names(&m.endpoint), vec!["sageflow-smoke"]);
}

#[test]
fn lock_resets_the_server() {
    let m = moto();
    {
        let _guard = m.lock();
        m.run_python(
            "import os, boto3; boto3.client('s3', endpoint_url=os.environ['ENDPOINT']).create_bucket(Bucket='left-over')",
        );
    }
    let _guard = m.lock();
    assert!(bucket_names(&m.endpoint).is_empty());
}

#[test]
fn env_points_nowhere_but_moto() {
    let m = moto();
    let env = m.env();
    let get = |k: &str| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("AWS_ACCESS_KEY_ID"), Some("testing"));
    assert_eq!(get("AWS_SECRET_ACCESS_KEY"), Some("testing"));
    assert_eq!(get("AWS_REGION"), Some("us-east-1"));
    assert_eq!(get("AWS_CONFIG_FILE"), Some("/dev/null"));
    assert_eq!(get("AWS_SHARED_CREDENTIALS_FILE"), Some("/dev/null"));
    assert_eq!(get("AWS_EC2_METADATA_DISABLED"), Some("true"));
    let out =
        m.run_python("import os; print(os.environ['ENDPOINT'], os.environ.get('AWS_PROFILE'))");
    assert_eq!(out.trim(), format!("{} None", m.endpoint));
}

#[test]
fn sageflow_commands_run() {
    moto().sageflow().arg("--help").assert().success();
}

#[test]
fn the_server_stops_when_its_stdin_closes() {
    let m = moto();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/it/support/moto_server.py"
    );
    let mut child = Command::new(m.python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start a second moto server");
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("ready line");
    assert!(first.starts_with("MOTO_READY "), "{first:?}");

    drop(child.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            assert!(status.success(), "{status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the moto server did not stop after its stdin closed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
