//! Destinations named by DNS (issue 21): `--dns` reads Route 53 Resolver query logs and
//! names each record's remote address; `private-dns-bypass` fires exactly where a workload
//! resolved an endpoint-served AWS name to a public address and went there.
//!
//! The lines follow the shape of the Amazon Route 53 Developer Guide's example ("Values
//! that appear in VPC Resolver query logs": version 1.100000, query_name with its trailing
//! dot, srcport as a string, answers with Rdata/Type/Class, srcids), with the sample's
//! VPC, workload addresses and the public addresses its flow logs hold.

use std::io::Write;

use serde_json::{Value, json};

use crate::support::sageflow;

const VPC: &str = "vpc-0a1b2c3d4e5f60001";
const NB: &str = "10.20.1.10";
const ALICE: &str = "10.20.1.21";
const TRAIN: &str = "10.20.1.30";
/// nb-analyst's records to this public sagemaker address start here.
const BYPASS_AT: i64 = 1_795_173_626;

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

fn query(vpc: &str, client: &str, t: i64, name: &str, answers: &[(&str, &str)]) -> String {
    let rcode = if answers.is_empty() {
        "NXDOMAIN"
    } else {
        "NOERROR"
    };
    let answers: Vec<Value> = answers
        .iter()
        .map(|(kind, data)| json!({"Rdata": data, "Type": kind, "Class": "IN"}))
        .collect();
    json!({
        "version": "1.100000",
        "account_id": "111122223333",
        "region": "us-east-1",
        "vpc_id": vpc,
        "query_timestamp": iso(t),
        "query_name": name,
        "query_type": "A",
        "query_class": "IN",
        "rcode": rcode,
        "answers": answers,
        "srcaddr": client,
        "srcport": "53210",
        "transport": "UDP",
        "srcids": {"instance": "i-0d15cd0d3EXAMPLE"}
    })
    .to_string()
}

fn logs(dir: &std::path::Path) -> std::path::PathBuf {
    let lines = lines();
    let day = dir
        .join("AWSLogs/111122223333/vpcdnsquerylogs")
        .join(VPC)
        .join("2026/11/20");
    std::fs::create_dir_all(&day).unwrap();
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all((lines.join("\n") + "\n").as_bytes()).unwrap();
    std::fs::write(
        day.join("111122223333_vpcdnsquerylogs_us-east-1_20261120T1100Z_0a1b2c3d.log.gz"),
        e.finish().unwrap(),
    )
    .unwrap();
    dir.to_path_buf()
}

/// The query-log lines: each case the rule and the names must get right.
fn lines() -> Vec<String> {
    let api = "api.sagemaker.us-east-1.amazonaws.com.";
    [
        // Private DNS on: the endpoint's address. Named, not a finding.
        query(VPC, NB, 1_795_168_894 - 30, api, &[("A", "10.20.1.100")]),
        // Private DNS off: a CNAME chain to a public address, then the traffic. The finding.
        query(
            VPC,
            NB,
            BYPASS_AT - 120,
            api,
            &[
                (
                    "CNAME",
                    "api.sagemaker.us-east-1.amazonaws.com.cell-0.amazonaws.com.",
                ),
                ("A", "54.240.217.13"),
            ],
        ),
        // A name no endpoint serves: named, not a finding.
        query(
            VPC,
            ALICE,
            1_795_172_860 - 5,
            "www.amazon.com.",
            &[("A", "54.239.29.17")],
        ),
        // Asked by another client; the training job's own query was answered from the
        // resolver's cache and not logged.
        query(
            VPC,
            NB,
            1_795_173_123 - 600,
            "sageflow-bucket.s3.us-east-1.amazonaws.com.",
            &[("A", "52.217.44.196")],
        ),
        // Another VPC's answer with the same address names nothing here.
        query(
            "vpc-0ffff00000000002",
            TRAIN,
            1_795_173_000,
            "elsewhere.example.",
            &[("A", "52.217.44.196")],
        ),
        query(VPC, TRAIN, 1_795_173_000, "nothere.example.com.", &[]),
        "{\"version\": \"1.100000\", \"vpc_id\": ".to_string(),
    ]
    .to_vec()
}

#[test]
fn remote_names_and_private_dns_bypass_on_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let dns = logs(dir.path());
    let out = sageflow()
        .args(["query", "sample-logs/v5-custom", "--inventory", "sample-logs/inventory", "--dns"])
        .arg(&dns)
        .args([
            "--format",
            "json",
            "--sql",
            "SELECT local_addr, remote_addr, remote_kind, remote_name, remote_name_source, remote_name_endpoint, count(*) AS n, min(start) AS first \
             FROM flows WHERE eni_owner_kind = 'sagemaker' AND remote_name IS NOT NULL \
             GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 4",
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("DNS: 7 lines in 1 files: 5 answers kept, 1 without an address (NXDOMAIN, CNAME only), 0 outside the window, 1 rejected"),
        "{err}"
    );
    assert!(err.contains("0a1b2c3d.log.gz:7: not JSON"), "{err}");
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let mut named: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            [
                "local_addr",
                "remote_addr",
                "remote_name",
                "remote_name_source",
                "remote_name_endpoint",
            ]
            .map(|k| r[k].as_str().unwrap_or("-").to_string())
        })
        .collect();
    named.dedup();
    let api = "api.sagemaker.us-east-1.amazonaws.com";
    let (ep, client, vpc) = ("vpce-0api0000000000001", "dns_same_client", "dns_same_vpc");
    let s3 = "sageflow-bucket.s3.us-east-1.amazonaws.com";
    let want: Vec<[String; 5]> = [
        [NB, "10.20.1.100", api, client, ep],
        [NB, "54.240.217.13", api, client, ep],
        // The other workloads' queries for the endpoint's name were answered from the
        // resolver's cache: named from nb-analyst's answer, less surely.
        ["10.20.1.20", "10.20.1.100", api, vpc, ep],
        [ALICE, "10.20.1.100", api, vpc, ep],
        [ALICE, "54.239.29.17", "www.amazon.com", client, "-"],
        [TRAIN, "10.20.1.100", api, vpc, ep],
        [TRAIN, "52.217.44.196", s3, vpc, "-"],
        ["10.20.1.31", "10.20.1.100", api, vpc, ep],
        ["10.20.2.10", "10.20.1.100", api, vpc, ep],
        // The deleted train-c's ENI (from the sample's CloudTrail files).
        ["10.20.2.31", "10.20.1.100", api, vpc, ep],
    ]
    .iter()
    .map(|r| r.map(str::to_string))
    .collect();
    assert_eq!(named, want);

    // The scan: private-dns-bypass on exactly nb-analyst's traffic to the public address,
    // and the endpoint-bypass findings name the hosts asked for.
    let out = sageflow()
        .args([
            "scan",
            "sample-logs/v5-custom",
            "--inventory",
            "sample-logs/inventory",
            "--dns",
        ])
        .arg(&dns)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let bypass: Vec<&Value> = findings
        .iter()
        .filter(|f| f["rule"] == "private-dns-bypass")
        .collect();
    assert!(!bypass.is_empty());
    for f in &bypass {
        assert_eq!(f["srcaddr"], NB, "{f}");
        assert_eq!(f["dstaddr"], "54.240.217.13", "{f}");
        assert_eq!(f["sagemaker_resource"], "nb-analyst", "{f}");
        assert_eq!(f["remote_name"], api, "{f}");
        assert_eq!(f["remote_name_endpoint"], "vpce-0api0000000000001", "{f}");
        assert_eq!(f["severity"], "high", "{f}");
    }
    let endpoint_bypass: Vec<(String, String)> = findings
        .iter()
        .filter(|f| f["rule"] == "endpoint-bypass")
        .map(|f| {
            (
                f["dstaddr"].as_str().unwrap().to_string(),
                f["remote_name"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect();
    for (addr, name) in [
        ("54.240.217.13", api),
        ("54.239.29.17", "www.amazon.com"),
        (
            "52.217.44.196",
            "sageflow-bucket.s3.us-east-1.amazonaws.com",
        ),
    ] {
        assert!(
            endpoint_bypass.contains(&(addr.to_string(), name.to_string())),
            "{addr} {name}: {endpoint_bypass:?}"
        );
    }

    // Without --dns the rule has nothing to go on: no finding, no name.
    let out = sageflow()
        .args([
            "scan",
            "sample-logs/v5-custom",
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(findings.iter().all(|f| f["rule"] != "private-dns-bypass"));
    // …and the summary says so, so that its zero does not read as clean.
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("private-dns-bypass needs --dns"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const NAMES_SQL: &str = "SELECT local_addr, remote_addr, remote_name, remote_name_source, remote_name_endpoint, count(*) AS n \
     FROM flows WHERE remote_name IS NOT NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5";

/// The same query logs from S3 (as Resolver query logging delivers them) and from a
/// CloudWatch Logs group (one event per query, stamped with its time) name the same
/// addresses as the local files, and their bad line is rejected naming the object.
#[test]
fn query_logs_from_s3_and_cloudwatch_name_the_same() {
    let moto = crate::support::moto();
    let _guard = moto.lock();
    let dir = tempfile::tempdir().unwrap();
    let local = logs(dir.path());
    let expected = sageflow()
        .args([
            "query",
            "sample-logs/v5-custom",
            "--inventory",
            "sample-logs/inventory",
            "--quiet",
            "--format",
            "csv",
            "--dns",
        ])
        .arg(&local)
        .args(["--sql", NAMES_SQL])
        .output()
        .unwrap();
    assert!(expected.status.success());
    let expected = String::from_utf8(expected.stdout).unwrap();
    assert!(expected.lines().count() > 5, "{expected}");

    let lines_file = dir.path().join("lines.json");
    std::fs::write(&lines_file, serde_json::to_string(&lines()).unwrap()).unwrap();
    moto.run_python(&format!(
        r#"
import os, json, gzip, datetime, boto3
ep = os.environ["ENDPOINT"]
lines = json.load(open({lines:?}))
s3 = boto3.client("s3", endpoint_url=ep)
s3.create_bucket(Bucket="dns-logs")
s3.put_object(Bucket="dns-logs",
    Key="AWSLogs/111122223333/vpcdnsquerylogs/{VPC}/2026/11/20/111122223333_vpcdnsquerylogs_us-east-1_20261120T1100Z_0a1b2c3d.log.gz",
    Body=gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0))
logs = boto3.client("logs", endpoint_url=ep)
logs.create_log_group(logGroupName="/route53/resolver")
logs.create_log_stream(logGroupName="/route53/resolver", logStreamName="{VPC}_0a1b2c3d")
events = []
for i, l in enumerate(lines):
    try:
        t = datetime.datetime.strptime(json.loads(l)["query_timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        ms = int(t.timestamp() * 1000)
    except Exception:
        ms = 1795173000000 + i
    events.append((ms, l))
events.sort()
logs.put_log_events(logGroupName="/route53/resolver", logStreamName="{VPC}_0a1b2c3d",
    logEvents=[{{"timestamp": t, "message": m}} for t, m in events])
"#,
        lines = lines_file.display().to_string(),
    ));
    for (source, rejected_in) in [
        (
            "s3://dns-logs/AWSLogs/111122223333/vpcdnsquerylogs/",
            "s3://dns-logs/AWSLogs/111122223333/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60001/2026/11/20/111122223333_vpcdnsquerylogs_us-east-1_20261120T1100Z_0a1b2c3d.log.gz:7: not JSON",
        ),
        (
            "cwlogs:///route53/resolver",
            "cwlogs:///route53/resolver/vpc-0a1b2c3d4e5f60001_0a1b2c3d:",
        ),
    ] {
        let (code, out, err) = moto.run(&[
            "query",
            "sample-logs/v5-custom",
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "csv",
            "--dns",
            source,
            "--sql",
            NAMES_SQL,
        ]);
        assert_eq!(code, Some(0), "{source}: {err}");
        assert_eq!(out, expected, "{source}");
        assert!(
            err.contains("5 answers kept") && err.contains("1 rejected"),
            "{source}: {err}"
        );
        assert!(err.contains(rejected_in), "{source}: {err}");
    }
}

/// An S3 interface endpoint next to the S3 gateway endpoint, its private DNS for
/// on-premises clients only (`DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint`): AWS
/// answers the VPC's own clients with S3's public addresses, which the gateway endpoint
/// carries (EC2 API reference, DnsOptionsSpecification). Those answers are no bypass, and
/// the name is not the interface endpoint's. With private DNS for every client, traffic
/// that still went through the gateway endpoint went through an endpoint too: no
/// `private-dns-bypass`. Before, both were high findings on every S3 request.
#[test]
fn s3_through_the_gateway_endpoint_is_no_private_dns_bypass() {
    for inbound_only in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let inventory = dir.path().join("inventory");
        crate::support::copy_dir(
            &crate::support::root().join("sample-logs/inventory"),
            &inventory,
        );
        std::fs::write(
            inventory.join("describe-vpc-endpoints-s3-interface.json"),
            json!({"VpcEndpoints": [{
                "VpcEndpointId": "vpce-0s3if000000000001",
                "VpcEndpointType": "Interface",
                "VpcId": VPC,
                "ServiceName": "com.amazonaws.us-east-1.s3",
                "State": "available",
                "RouteTableIds": [],
                "SubnetIds": ["subnet-0sm000000000000a1"],
                "Groups": [{"GroupId": "sg-0vpce00000000001", "GroupName": "vpc-endpoints-https"}],
                "IpAddressType": "ipv4",
                "DnsOptions": {
                    "DnsRecordIpType": "ipv4",
                    "PrivateDnsOnlyForInboundResolverEndpoint": inbound_only
                },
                "PrivateDnsEnabled": true,
                "RequesterManaged": false,
                "NetworkInterfaceIds": [],
                "DnsEntries": [],
                "CreationTimestamp": "2026-10-02T14:11:09.512000+00:00",
                "Tags": [],
                "OwnerId": "111122223333"
            }]})
            .to_string(),
        )
        .unwrap();
        // train-a's S3 traffic through the gateway endpoint, and the answer it followed.
        let day = dir
            .path()
            .join("dns/AWSLogs/111122223333/vpcdnsquerylogs")
            .join(VPC)
            .join("2026/11/20");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(
            day.join("111122223333_vpcdnsquerylogs_us-east-1_20261120T1100Z_0a1b2c3d.log"),
            query(
                VPC,
                TRAIN,
                1_795_168_963 - 30,
                "sageflow-bucket.s3.us-east-1.amazonaws.com.",
                &[("A", "54.231.200.35")],
            ) + "\n",
        )
        .unwrap();
        let out = sageflow()
            .args(["scan", "sample-logs/v5-custom", "--inventory"])
            .arg(&inventory)
            .arg("--dns")
            .arg(dir.path().join("dns"))
            .args(["--format", "json", "--group-by", "flow"])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let s3: Vec<&Value> = findings
            .iter()
            .filter(|f| f["rule"] == "private-dns-bypass" && f["dstaddr"] == "54.231.200.35")
            .collect();
        assert!(s3.is_empty(), "inbound only {inbound_only}: {s3:#?}");
        let out = sageflow()
            .args(["query", "sample-logs/v5-custom", "--inventory"])
            .arg(&inventory)
            .arg("--dns")
            .arg(dir.path().join("dns"))
            .args([
                "--format",
                "json",
                "--sql",
                "SELECT DISTINCT remote_kind, remote_name, remote_name_endpoint FROM flows \
                 WHERE remote_addr = '54.231.200.35' AND direction = 'egress' \
                 AND remote_name IS NOT NULL",
            ])
            .output()
            .unwrap();
        let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        let endpoint = if inbound_only {
            Value::Null
        } else {
            json!("vpce-0s3if000000000001")
        };
        assert_eq!(
            rows,
            vec![json!({
                "remote_kind": "gateway_endpoint",
                "remote_name": "sageflow-bucket.s3.us-east-1.amazonaws.com",
                "remote_name_endpoint": endpoint
            })],
            "inbound only {inbound_only}"
        );
    }
}
