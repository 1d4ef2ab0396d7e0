//! S3 sources against a real S3 emulator (moto in server mode, started by the test
//! harness on 127.0.0.1): listing with pagination and a prefix before `AWSLogs/`, date
//! pruning, gzip and Parquet objects, truncated objects, and the same findings as the
//! same data scanned from local disk.

use crate::support;

const BUCKET: &str = "flow-logs-bucket";
const PREFIX: &str = "any/prefix";
const V5_PREFIX: &str = "v5/elsewhere";

/// Uploads the bundled sample under `s3://BUCKET/PREFIX/…` (v2 and Parquet: plain and
/// Hive layouts) and `s3://BUCKET/V5_PREFIX/…` (v5, hourly partitions), plus
/// `extra` tiny objects on 2026-11-18 so that a listing spans more than one page.
fn seed(moto: &support::Moto, extra: usize) {
    let root = env!("CARGO_MANIFEST_DIR");
    moto.run_python(&format!(
        r#"
import os, gzip, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="{BUCKET}")
root = "{root}/sample-logs"
# v5 holds the same traffic as v2, so it gets a prefix of its own.
for shape, prefix in (("v2-default", "{PREFIX}"), ("parquet-hive", "{PREFIX}"), ("v5-custom", "{V5_PREFIX}")):
    base = os.path.join(root, shape)
    for d, _, files in os.walk(base):
        for f in files:
            p = os.path.join(d, f)
            s3.upload_file(p, "{BUCKET}", prefix + "/" + os.path.relpath(p, base))
hdr = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
for i in range({extra}):
    body = gzip.compress((hdr + "2 111122223333 eni-0000000000000000%d 10.0.0.1 10.0.0.2 1 2 6 1 1 1794988800 1794988860 ACCEPT OK\n" % (i % 10)).encode(), mtime=0)
    key = "{PREFIX}/AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/18/111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261118T0000Z_%08x.log.gz" % i
    s3.put_object(Bucket="{BUCKET}", Key=key, Body=body)
"#
    ));
}

fn url() -> String {
    format!("s3://{BUCKET}/{PREFIX}")
}

#[test]
fn s3_listing_pagination_pruning_and_same_findings_as_local() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed(moto, 1100);

    // Everything: the 1,100 extra objects need a second ListObjectsV2 page.
    let (code, out, err) = moto.run(&[
        "query",
        &url(),
        "--format",
        "csv",
        "--sql",
        "SELECT count(*) AS n FROM flows",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, format!("n\n{}\n", 2236 + 217 + 1100), "{err}");
    assert!(
        err.contains(&format!("{} objects read", 24 + 1 + 1100)),
        "{err}"
    );

    // A window on 2026-11-20 lists only the day prefixes around it: the 2026-11-18
    // prefix is never listed and its objects never fetched.
    let (code, out, err) = moto.run(&[
        "query",
        &url(),
        "-vv",
        "--since",
        "2026-11-20T10:00:00Z",
        "--until",
        "2026-11-20T12:00:00Z",
        "--format",
        "csv",
        "--sql",
        "SELECT count(*) AS n FROM flows",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "n\n2236\n", "{err}");
    assert!(
        !err.contains("2026/11/18/"),
        "the 18th must not be listed: {err}"
    );
    assert!(err.contains("2026/11/20/"), "{err}");
    assert!(err.contains("24 objects read"), "{err}");

    // Same findings from S3 as from local disk, in both formats.
    for (shape, prefix) in [("v2-default", PREFIX), ("v5-custom", V5_PREFIX)] {
        let local = sageflow_local(&[
            "scan",
            &format!("sample-logs/{shape}"),
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
            "--quiet",
        ]);
        let (code, remote, err) = moto.run(&[
            "scan",
            &format!("s3://{BUCKET}/{prefix}"),
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
            "--quiet",
            "--since",
            "2026-11-20T00:00:00Z",
            "--until",
            "2026-11-20T23:59:59Z",
        ]);
        assert_eq!(code, Some(1), "{err}");
        assert_eq!(
            support::findings_read_from(&remote, &format!("s3://{BUCKET}/{prefix}")),
            support::findings_read_from(&local, "sample-logs/"),
            "{shape}: S3 findings differ from local"
        );
    }
}

fn sageflow_local(args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("sageflow")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn s3_parquet_objects_are_read_by_range() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed(moto, 0);
    let (code, out, err) = moto.run(&[
        "query",
        &format!("s3://{BUCKET}/{PREFIX}/AWSLogs/aws-account-id=111122223333/"),
        "--format",
        "csv",
        "--sql",
        "SELECT count(*) AS n, sum(bytes) AS b FROM flows",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let local = sageflow_local(&[
        "query",
        "sample-logs/parquet-hive",
        "--format",
        "csv",
        "--quiet",
        "--sql",
        "SELECT count(*) AS n, sum(bytes) AS b FROM flows",
    ]);
    assert_eq!(out, local);
    assert!(out.starts_with("n,b\n217,"), "{out}");
}

#[test]
fn truncated_s3_object_fails_naming_the_key() {
    let moto = support::moto();
    let _guard = moto.lock();
    let root = env!("CARGO_MANIFEST_DIR");
    moto.run_python(&format!(
        r#"
import os, glob, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="{BUCKET}")
src = sorted(glob.glob("{root}/sample-logs/v2-default/**/*.log.gz", recursive=True))[0]
data = open(src, "rb").read()
s3.put_object(Bucket="{BUCKET}", Key="cut/111122223333_vpcflowlogs_us-east-1_fl-1_20261120T1000Z_deadbeef.log.gz", Body=data[: len(data) // 2])
"#
    ));
    let (code, _, err) = moto.run(&[
        "query",
        &format!("s3://{BUCKET}/cut/"),
        "--sql",
        "SELECT count(*) FROM flows",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("s3://flow-logs-bucket/cut/111122223333_vpcflowlogs_us-east-1_fl-1_20261120T1000Z_deadbeef.log.gz"), "{err}");
}

/// The S3 body path decodes gzip as the local one does: a damaged member in the middle of
/// an object fails the run naming the object and the member's byte offset, after a result
/// that keeps the rows before it.
#[test]
fn damaged_gzip_member_in_s3_object_names_key_and_offset() {
    let moto = support::moto();
    let _guard = moto.lock();
    let offset = moto.run_python(&format!(
        r#"
import os, gzip, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="{BUCKET}")
hdr = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
rec = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1763632800 1763632860 ACCEPT OK\n"
good = gzip.compress((hdr + rec * 100).encode(), mtime=0) + gzip.compress((rec * 100).encode(), mtime=0)
bad = bytearray(gzip.compress((rec * 1000).encode(), mtime=0))
bad[2] = 7  # not deflate: the member cannot be decoded
body = good + bytes(bad) + gzip.compress((rec * 100).encode(), mtime=0)
s3.put_object(Bucket="{BUCKET}", Key="damaged/111122223333_vpcflowlogs_us-east-1_fl-1_20261120T1000Z_0badbad0.log.gz", Body=body)
print(len(good), len(body))
"#
    ));
    let (offset, size) = offset.trim().split_once(' ').unwrap();
    let (code, out, err) = moto.run(&[
        "query",
        &format!("s3://{BUCKET}/damaged/"),
        "--format",
        "csv",
        "--sql",
        "SELECT count(*) AS n FROM flows",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(out, "n\n200\n", "{err}");
    assert!(
        err.contains(&format!(
            "s3://{BUCKET}/damaged/111122223333_vpcflowlogs_us-east-1_fl-1_20261120T1000Z_0badbad0.log.gz: gzip member 3 at byte offset {offset} (of {size}) is corrupt"
        )),
        "{err}"
    );
    assert!(err.contains("stopped after line 201;"), "{err}");
    assert!(err.contains("201 records: 200 rows, 1 rejected"), "{err}");
}
