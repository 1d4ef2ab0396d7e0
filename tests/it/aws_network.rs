//! The AWS network set-ups of real organisations (issue 16, D16): a TLS endpoint signed by a
//! private CA (a TLS-inspecting proxy's, say) trusted through `AWS_CA_BUNDLE`, and the
//! proxy variables `HTTPS_PROXY`/`HTTP_PROXY`. A local TLS terminator and a local proxy
//! (`tests/it/support/net_helpers.py`) stand in front of moto; names under `.sageflow.test`
//! resolve only through the proxy. Also: errors a user meets before any request (no
//! region, an unknown profile) and `export --ddl` needing no credentials.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use support::Moto;

const BUCKET: &str = "net-logs";

/// A helper of `net_helpers.py`; the child ends when this test binary exits.
fn helper(moto: &Moto, args: &[&str]) -> (Child, u16) {
    let mut child = Command::new(moto.python())
        .arg(support::root().join("tests/it/support/net_helpers.py"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("net helper starts");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("READY ")
        .unwrap_or_else(|| panic!("net helper said {line:?}"))
        .parse()
        .unwrap();
    (child, port)
}

fn moto_port(moto: &Moto) -> String {
    moto.endpoint.rsplit(':').next().unwrap().to_string()
}

fn seed(moto: &Moto) {
    moto.run_python(&format!(
        r#"
import os, gzip, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="{BUCKET}")
hdr = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n"
rec = "2 111122223333 eni-07c690cc407310f14 10.20.1.30 198.51.100.200 40000 443 6 5 500 1795169100 1795169130 ACCEPT OK\n"
s3.put_object(Bucket="{BUCKET}", Key="AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20/111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261120T1005Z_1a7e1a7e.log.gz", Body=gzip.compress((hdr + rec * 3).encode()))
"#
    ));
}

/// `query s3://…` through `endpoint` with extra environment; (exit code, stdout, stderr).
fn query(moto: &Moto, endpoint: &str, env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut c = moto.sageflow();
    c.args([
        "query",
        &format!("s3://{BUCKET}/"),
        "--endpoint-url",
        endpoint,
        "--quiet",
        "--format",
        "csv",
        "--sql",
        "SELECT count(*) AS n FROM flows",
    ]);
    c.env("AWS_MAX_ATTEMPTS", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_private_ca_through_aws_ca_bundle_and_an_https_proxy() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed(moto);
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().to_str().unwrap().to_string();
    let (_tls, tls_port) = helper(moto, &["tls", &certs, &moto_port(moto)]);
    let bundle = dir.path().join("cert.pem");
    let bundle = bundle.to_str().unwrap();

    // The certificate is not from a public CA: refused without the bundle.
    let direct = format!("https://localhost:{tls_port}");
    let (code, _, err) = query(moto, &direct, &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    let (code, out, err) = query(moto, &direct, &[("AWS_CA_BUNDLE", bundle)]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "n\n3\n");

    // An HTTPS endpoint reachable only through the proxy (CONNECT).
    let log = dir.path().join("proxy.log");
    let (_proxy, proxy_port) = helper(moto, &["proxy", log.to_str().unwrap()]);
    let proxy = format!("http://127.0.0.1:{proxy_port}");
    let behind = format!("https://s3.sageflow.test:{tls_port}");
    let (code, _, err) = query(moto, &behind, &[("AWS_CA_BUNDLE", bundle)]);
    assert_eq!(code, Some(2), "no proxy, no route: {err}");
    let (code, out, err) = query(
        moto,
        &behind,
        &[("AWS_CA_BUNDLE", bundle), ("HTTPS_PROXY", &proxy)],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "n\n3\n");
    let seen = std::fs::read_to_string(&log).unwrap();
    assert!(
        seen.contains(&format!("CONNECT s3.sageflow.test:{tls_port}")),
        "{seen}"
    );

    // A plain-HTTP endpoint through HTTP_PROXY.
    let plain = format!("http://s3.sageflow.test:{}", moto_port(moto));
    let (code, out, err) = query(moto, &plain, &[("HTTP_PROXY", &proxy)]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "n\n3\n");
    let seen = std::fs::read_to_string(&log).unwrap();
    assert!(
        seen.contains(&format!("GET http://s3.sageflow.test:{}/", moto_port(moto))),
        "{seen}"
    );
    // A bundle that is not PEM is an error naming the variable.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let (code, _, err) = query(moto, &direct, &[("AWS_CA_BUNDLE", junk.to_str().unwrap())]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("AWS_CA_BUNDLE"), "{err}");
}

#[test]
fn configuration_errors_before_any_request() {
    let moto = support::moto();
    // No region: one line saying how to set it, no instance-metadata noise.
    let out = moto
        .sageflow()
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .env("AWS_EC2_METADATA_DISABLED", "false")
        .args(["query", "s3://bucket/prefix/", "--sql", "SELECT 1"])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no AWS region is configured: pass --region"),
        "{err}"
    );
    assert!(!err.contains("IMDS"), "{err}");
    assert_eq!(err.lines().count(), 2, "error and hint only: {err}");
    // An unknown profile is named, with the profiles there are.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[default]\nregion = us-east-1\n\n[profile analytics]\nregion = eu-west-1\n",
    )
    .unwrap();
    let out = moto
        .sageflow()
        .env("AWS_CONFIG_FILE", &config)
        .args([
            "query",
            "s3://bucket/prefix/",
            "--profile",
            "analytcs",
            "--sql",
            "SELECT 1",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--profile analytcs: no such profile in the AWS config or credentials file (did you mean `analytics`?)"),
        "{err}"
    );
    // DDL for an S3 export needs no region, credentials or request.
    let out = Command::new(env!("CARGO_BIN_EXE_sageflow"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .args([
            "export",
            "--ddl",
            "athena",
            "--out",
            "s3://analytics/flows/",
        ])
        .output()
        .unwrap();
    let ddl = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ddl.contains("LOCATION 's3://analytics/flows/'"), "{ddl}");
}
