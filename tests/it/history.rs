//! Attribution over time (issue 21): the ENIs of finished jobs, gone from
//! `describe-network-interfaces`, are attributed from CloudTrail, each at the time of its
//! records; an address two ENIs held one after the other goes to the one that held it then.
//!
//! The CloudTrail records are the AWS documentation's `CreateNetworkInterface` example
//! (`tests/data/cloudtrail/`), made by the sample's SageMaker execution role, and a DryRun
//! of it as CloudTrail records one (`errorCode` `Client.DryRunOperation`).

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::support::{copy_dir, root, sageflow};

/// 2026-11-20T10:00:00Z: train-a ran 10:00-10:40, train-b 11:00-11:40, with one VpcConfig.
const T0: i64 = 1_795_168_800;
const ROLE: &str =
    "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-20261002T141500";
const NAT_ENI: &str = "eni-058c7e05a713cb4eb";

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// The AWS documentation's `CreateNetworkInterface` record (`tests/data/cloudtrail/`, whose
/// README cites it), made by the sample's SageMaker execution role for a training job's
/// ENI in the job's subnet and security group.
fn create(id: &str, ip: &str, t: i64) -> Value {
    let mut r: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("tests/data/cloudtrail/create-network-interface.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let u = &mut r["userIdentity"];
    u["arn"] = json!(
        "arn:aws:sts::111122223333:assumed-role/AmazonSageMaker-ExecutionRole-20261002T141500/SageMaker"
    );
    u["sessionContext"]["sessionIssuer"]["arn"] = json!(ROLE);
    u["invokedBy"] = json!("sagemaker.amazonaws.com");
    r["eventTime"] = json!(iso(t));
    let n = &mut r["responseElements"]["networkInterface"];
    n["networkInterfaceId"] = json!(id);
    n["subnetId"] = json!("subnet-0sm000000000000a1");
    n["vpcId"] = json!("vpc-0a1b2c3d4e5f60001");
    n["description"] = json!("");
    n["requesterManaged"] = json!(false);
    n["privateIpAddress"] = json!(ip);
    n["privateIpAddressesSet"]["item"][0]["privateIpAddress"] = json!(ip);
    n["groupSet"]["items"][0]["groupId"] = json!("sg-0train0000000001");
    r
}

fn delete(id: &str, t: i64) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "AWSService", "invokedBy": "sagemaker.amazonaws.com"},
        "eventTime": iso(t),
        "eventSource": "ec2.amazonaws.com",
        "eventName": "DeleteNetworkInterface",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "sagemaker.amazonaws.com",
        "userAgent": "sagemaker.amazonaws.com",
        "requestParameters": {"networkInterfaceId": id},
        "responseElements": {"requestId": "b2c3d4e5", "_return": true},
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "111122223333"
    })
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `records` as the CloudTrail file of 2026-11-20 11:50 in the inventory's `cloudtrail/`,
/// under `prefix` (an organisation trail's holds the organisation's id).
fn write_trail(inventory: &Path, prefix: &str, records: &Value) {
    let logs = inventory
        .join("cloudtrail")
        .join(prefix)
        .join("111122223333/CloudTrail/us-east-1/2026/11/20");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("111122223333_CloudTrail_us-east-1_20261120T1150Z_Mu0KsOhtH1ar15ZZ.json.gz"),
        gz(records.to_string().as_bytes()),
    )
    .unwrap();
}

/// The sample's inventory plus, when `trail`, an organisation trail's CloudTrail files
/// (gzip, with a digest file beside them); and v2 flow logs of two training jobs' ENIs,
/// which `describe-network-interfaces` no longer lists, and of the NAT gateway's legs.
fn fixture(dir: &Path, trail: bool) -> (std::path::PathBuf, std::path::PathBuf) {
    let inventory = dir.join("inventory");
    copy_dir(&root().join("sample-logs/inventory"), &inventory);
    // The sample's own trail (the deleted train-c) is not this test's.
    std::fs::remove_dir_all(inventory.join("cloudtrail")).unwrap();
    if trail {
        let mut dry = create("eni-0ct00000000000000", "10.20.1.99", T0 - 60);
        dry["errorCode"] = json!("Client.DryRunOperation");
        dry["errorMessage"] = json!("Request would have succeeded, but DryRun flag is set.");
        dry["responseElements"] = Value::Null;
        let records = json!({"Records": [
            create("eni-0ct0000000000000a", "10.20.1.77", T0 + 5),
            dry,
            delete("eni-0ct0000000000000a", T0 + 41 * 60),
            create("eni-0ct0000000000000b", "10.20.1.77", T0 + 3605),
            delete("eni-0ct0000000000000b", T0 + 3600 + 41 * 60),
        ]});
        write_trail(&inventory, "AWSLogs/o-aa111bb222", &records);
        let digests = inventory
            .join("cloudtrail")
            .join("AWSLogs/o-aa111bb222/111122223333/CloudTrail-Digest/us-east-1/2026/11/20");
        std::fs::create_dir_all(&digests).unwrap();
        let digest = json!({"awsAccountId": "111122223333", "digestStartTime": iso(T0),
            "digestEndTime": iso(T0 + 3600), "logFiles": []});
        std::fs::write(
            digests.join("111122223333_CloudTrail-Digest_us-east-1_o-aa111bb222_us-east-1_20261120T110000Z.json.gz"),
            gz(digest.to_string().as_bytes()),
        )
        .unwrap();
    }
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let line = |eni: &str, src: &str, t: i64| {
        format!(
            "2 111122223333 {eni} {src} 93.184.216.34 49152 443 6 10 840 {t} {} ACCEPT OK\n",
            t + 60
        )
    };
    let text = [
        line("eni-0ct0000000000000a", "10.20.1.77", T0 + 600),
        line("eni-0ct0000000000000b", "10.20.1.77", T0 + 3600 + 600),
        // After train-a's ENI was deleted: not train-a's.
        line("eni-0ct0000000000000a", "10.20.1.77", T0 + 2 * 3600),
        // The NAT gateway's legs from the reused address, one in each job's time.
        line(NAT_ENI, "10.20.1.77", T0 + 1200),
        line(NAT_ENI, "10.20.1.77", T0 + 3600 + 1200),
    ]
    .concat();
    std::fs::write(logs.join("jobs.log"), text).unwrap();
    (inventory, logs)
}

fn query(inventory: &Path, logs: &Path) -> Vec<Value> {
    rows(
        inventory,
        logs,
        "SELECT interface_id, start, eni_owner_kind, sagemaker_resource, attribution, attribution_document, leaves_vpc FROM flows ORDER BY start, interface_id",
    )
}

fn rows(inventory: &Path, logs: &Path, sql: &str) -> Vec<Value> {
    let out = sageflow()
        .arg("query")
        .arg(logs)
        .arg("--inventory")
        .arg(inventory)
        .args(["--quiet", "--format", "json", "--sql", sql])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn owners(rows: &[Value]) -> Vec<(String, i64, String, String)> {
    rows.iter()
        .map(|r| {
            (
                r["interface_id"].as_str().unwrap().to_string(),
                r["start"].as_i64().unwrap() - T0,
                r["eni_owner_kind"].as_str().unwrap().to_string(),
                r["sagemaker_resource"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

/// Whatever the history comes from: each job's ENI record and NAT leg belongs to the job
/// that held the (reused) address then; the record after train-a's ENI was gone, to none.
fn the_jobs_owners() -> Vec<(String, i64, String, String)> {
    let o = |eni: &str, at: i64, kind: &str, res: &str| {
        (eni.to_string(), at, kind.to_string(), res.to_string())
    };
    vec![
        o("eni-0ct0000000000000a", 600, "sagemaker", "train-a"),
        o(NAT_ENI, 1200, "nat_gateway", "train-a"),
        o("eni-0ct0000000000000b", 4200, "sagemaker", "train-b"),
        o(NAT_ENI, 4800, "nat_gateway", "train-b"),
        o("eni-0ct0000000000000a", 7200, "unknown", "-"),
    ]
}

/// A query that reads only the flags classifies only the records that can raise them
/// (accepted, of a SageMaker ENI, a NAT gateway's or an unknown ENI in a workload's
/// subnet): its flags are those of a query that reads the enrichment's text too, here and
/// on the sample (NAT legs, deleted ENIs, ENIs attributed by subnet).
#[test]
fn flags_read_alone_are_the_flags_read_with_the_rest_of_the_enrichment() {
    let dir = tempfile::tempdir().unwrap();
    let (inventory, logs) = fixture(dir.path(), true);
    let sample = root().join("sample-logs");
    let mut bypassed = false;
    for (inventory, logs) in [
        (inventory, logs),
        (sample.join("inventory"), sample.join("v5-custom")),
        (sample.join("inventory"), sample.join("v2-default")),
    ] {
        let flags = |text: &str| {
            let sql = format!(
                "SELECT interface_id, start, srcaddr, dstaddr, action, leaves_vpc, endpoint_bypass{text} FROM flows ORDER BY 1, 2, 3, 4, 5, 6, 7"
            );
            let mut rows = rows(&inventory, &logs, &sql);
            for r in &mut rows {
                r.as_object_mut().unwrap().remove("remote_kind");
            }
            rows
        };
        let alone = flags("");
        assert_eq!(alone, flags(", remote_kind"), "{}", logs.display());
        assert!(
            alone.iter().any(|r| r["leaves_vpc"] == true),
            "{}",
            logs.display()
        );
        bypassed |= alone.iter().any(|r| r["endpoint_bypass"] == true);
    }
    assert!(bypassed);
}

#[test]
fn deleted_job_enis_and_a_reused_address_are_attributed_from_cloudtrail() {
    let dir = tempfile::tempdir().unwrap();

    // Without CloudTrail the jobs' ENIs are unknown (v2 records carry no subnet).
    let (inventory, logs) = fixture(&dir.path().join("before"), false);
    let rows = query(&inventory, &logs);
    assert!(
        rows.iter()
            .filter(|r| r["interface_id"] != NAT_ENI)
            .all(|r| r["eni_owner_kind"] == "unknown"),
        "{rows:#?}"
    );

    let (inventory, logs) = fixture(&dir.path().join("after"), true);
    let rows = query(&inventory, &logs);
    assert_eq!(owners(&rows), the_jobs_owners());
    let first = &rows[0];
    assert_eq!(first["attribution"], "eni_history");
    assert_eq!(first["leaves_vpc"], true);
    // As for a listed ENI, the document that decided the workload (the lifetime's
    // CloudTrail file is in `inventory show`).
    let doc = first["attribution_document"].as_str().unwrap();
    assert!(doc.ends_with("describe-training-job-train-a.json"), "{doc}");
    assert_eq!(rows[1]["attribution"], "packet_address");

    // The scan flags the deleted job's egress with its name; the record after its ENI's
    // deletion is unknown, and outside what the CloudTrail files cover.
    let scan = |inventory: &Path, logs: &Path| {
        sageflow()
            .arg("scan")
            .arg(logs)
            .arg("--inventory")
            .arg(inventory)
            .args(["--format", "json"])
            .output()
            .unwrap()
    };
    let out = scan(&inventory, &logs);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let findings: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let named: Vec<&str> = findings
        .iter()
        .filter(|f| f["rule"] == "leaves-vpc" && f["interface_id"] == "eni-0ct0000000000000a")
        .map(|f| f["sagemaker_resource"].as_str().unwrap_or("-"))
        .collect();
    assert_eq!(named, vec!["train-a"], "{findings:#?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "those records span 2026-11-20T12:00:00Z to 2026-11-20T12:01:00Z, but the CloudTrail files cover only 2026-11-20T10:00:05Z to 2026-11-20T11:41:00Z"
        ),
        "{err}"
    );
    let (inv_before, logs_before) = (
        dir.path().join("before/inventory"),
        dir.path().join("before/logs"),
    );
    let err = String::from_utf8_lossy(&scan(&inv_before, &logs_before).stderr).to_string();
    assert!(
        err.contains("or add the account's CloudTrail files"),
        "{err}"
    );

    // An inventory of CloudTrail and the SageMaker documents alone (no
    // describe-network-interfaces) can attribute: the scan runs instead of refusing it.
    let trail_only = dir.path().join("trail-only");
    copy_dir(
        &inventory.join("cloudtrail"),
        &trail_only.join("cloudtrail"),
    );
    copy_dir(&inventory.join("sagemaker"), &trail_only.join("sagemaker"));
    let out = scan(&trail_only, &logs);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // `inventory show` lists the lifetimes, who created them, and skipped the digest and
    // the DryRun without a warning.
    let out = sageflow()
        .arg("inventory")
        .arg("show")
        .arg("--inventory")
        .arg(&inventory)
        .output()
        .unwrap();
    assert!(out.status.success());
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(
        shown.contains("CloudTrail: 1 file(s), 5 record(s)")
            && shown.contains("1 failed call(s) (DryRun or error) skipped"),
        "{shown}"
    );
    assert!(shown.contains("ENI lifetimes (2):"), "{shown}");
    let a = shown
        .lines()
        .find(|l| l.trim_start().starts_with("eni-0ct0000000000000a"))
        .unwrap_or_else(|| panic!("{shown}"));
    for want in [
        "10.20.1.77",
        "2026-11-20T10:00:05Z .. 2026-11-20T10:41:00Z",
        ROLE,
        "via sagemaker.amazonaws.com",
        "deleted before the inventory; CloudTrail: ",
    ] {
        assert!(a.contains(want), "{want} not in {a}");
    }
    assert!(!shown.contains("Digest"), "{shown}");
    assert!(
        !shown.contains("eni-0ct00000000000000"),
        "the DryRun: {shown}"
    );
}

/// The same, with the inventory in S3 (moto) as an organisation trail delivers it: the
/// prefix is listed whole, the gzip CloudTrail files read, the digest skipped.
#[test]
fn an_organisation_trail_in_s3_attributes_deleted_enis() {
    let moto = crate::support::moto();
    let _guard = moto.lock();
    let dir = tempfile::tempdir().unwrap();
    let (inventory, logs) = fixture(dir.path(), true);
    moto.run_python(&format!(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="sageflow-history")
base = "{}"
for d, _, files in os.walk(base):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, "sageflow-history", "inventory/" + os.path.relpath(p, base))
"#,
        inventory.display()
    ));
    let sql = "SELECT interface_id, start, eni_owner_kind, sagemaker_resource, attribution FROM flows ORDER BY start, interface_id";
    let (code, out, err) = moto.run(&[
        "query",
        logs.to_str().unwrap(),
        "--inventory",
        "s3://sageflow-history/inventory",
        "--format",
        "json",
        "--sql",
        sql,
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("Digest"), "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(owners(&rows), the_jobs_owners());
    assert_eq!(rows[0]["attribution"], "eni_history");

    // As most accounts keep them: the describe-* output on disk, the organisation trail's
    // files in its bucket; --inventory twice makes one inventory.
    let local = dir.path().join("describe-only");
    copy_dir(&inventory, &local);
    std::fs::remove_dir_all(local.join("cloudtrail")).unwrap();
    let (code, out, err) = moto.run(&[
        "query",
        logs.to_str().unwrap(),
        "--inventory",
        local.to_str().unwrap(),
        "--inventory",
        "s3://sageflow-history/inventory/cloudtrail/AWSLogs/o-aa111bb222/",
        "--format",
        "json",
        "--sql",
        sql,
    ]);
    assert_eq!(code, Some(0), "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(owners(&rows), the_jobs_owners());

    // A prefix with nothing under it is an error naming it, not an empty inventory.
    let (code, _, err) = moto.run(&[
        "query",
        logs.to_str().unwrap(),
        "--inventory",
        "s3://sageflow-history/nothing-here",
        "--sql",
        "SELECT 1",
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("s3://sageflow-history/nothing-here")
            && err.contains("no object under this prefix"),
        "{err}"
    );
}

/// The sample's ENI document of the TRAIN ENI, made into a training job's ENI with
/// `id`, one address and `attached`.
fn job_eni(id: &str, ip: &str, attached: &str) -> Value {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(
            root().join("sample-logs/inventory/describe-network-interfaces.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut e = doc["NetworkInterfaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["NetworkInterfaceId"] == "eni-07c690cc407310f14")
        .unwrap()
        .clone();
    e["NetworkInterfaceId"] = json!(id);
    e["PrivateIpAddress"] = json!(ip);
    e["PrivateIpAddresses"] = json!([{"Primary": true, "PrivateIpAddress": ip}]);
    e["Attachment"]["AttachTime"] = json!(attached);
    e
}

/// Without CloudTrail, inventory snapshots kept over time (`inventory collect --dated`
/// on a schedule) give the same answers: ENI a, listed at 10:05 and gone at 11:05, lived
/// from its attach time until ENI b attached with its address; b, listed at 11:05 and
/// gone at 12:05, from its attach time until then.
#[test]
fn dated_inventory_snapshots_attribute_enis_gone_from_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let (inventory, logs) = fixture(dir.path(), false);
    dated_snapshots(&inventory);
    check_dated_snapshots(&inventory, &logs, 3, 16);

    // The record after a's life is unknown, and the scan says what the snapshots span.
    let out = sageflow()
        .arg("scan")
        .arg(&logs)
        .arg("--inventory")
        .arg(&inventory)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "the 3 dated inventory snapshots span 2026-11-20T10:05:00Z to 2026-11-20T12:05:00Z (those records 2026-11-20T12:00:00Z to 2026-11-20T12:01:00Z)"
        ),
        "{err}"
    );
}

/// Each account (or region) collected into a folder of its own is its own series of
/// snapshots: another account's newer snapshot does not end this one's ENIs. Before, the
/// newest snapshot of all was everybody's, and every ENI of the account whose snapshots
/// were older read as deleted.
#[test]
fn each_accounts_dated_snapshots_are_a_history_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let (inventory, logs) = fixture(dir.path(), false);
    dated_snapshots(&inventory);
    let other = inventory.join("444455556666/us-east-1/2026-11-20T120731Z");
    std::fs::create_dir_all(&other).unwrap();
    let mut eni = job_eni(
        "eni-0ct0000000000000c",
        "10.20.1.77",
        "2026-11-20T09:00:00+00:00",
    );
    eni["OwnerId"] = json!("444455556666");
    eni["VpcId"] = json!("vpc-0other00000000001");
    std::fs::write(
        other.join("describe-network-interfaces.json"),
        json!({ "NetworkInterfaces": [eni] }).to_string(),
    )
    .unwrap();
    check_dated_snapshots(&inventory, &logs, 4, 17);
}

/// An undated describe-network-interfaces next to dated snapshots is taken as describing
/// now. One saved before the newest snapshot lists the ENIs deleted since as live, which
/// then read as ENIs without records: a warning names the file, how many and the
/// snapshot. An ENI the newest snapshot still lists is no sign of age.
#[test]
fn an_undated_document_older_than_the_dated_snapshots_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let (inventory, _) = fixture(dir.path(), false);
    dated_snapshots(&inventory);
    let newest: Value = serde_json::from_str(
        &std::fs::read_to_string(
            inventory.join("2026-11-20T1205Z/describe-network-interfaces.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let live = newest["NetworkInterfaces"][0].clone();
    let gone = job_eni(
        "eni-0ct0000000000000a",
        "10.20.1.77",
        "2026-11-20T09:58:00+00:00",
    );
    std::fs::write(
        inventory.join("describe-network-interfaces.json"),
        json!({ "NetworkInterfaces": [live, gone] }).to_string(),
    )
    .unwrap();
    let out = sageflow()
        .args(["inventory", "show", "--inventory"])
        .arg(&inventory)
        .output()
        .unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    let warning = shown
        .lines()
        .find(|l| l.contains("that the newest dated snapshot"))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(
        warning.contains(
            "describe-network-interfaces.json: lists 1 ENI(s) (first eni-0ct0000000000000a) that the newest dated snapshot in"
        ),
        "{warning}"
    );
    assert!(warning.contains("(2026-11-20T12:05:00Z)"), "{warning}");
    // One line per file, however many of its ENIs are gone.
    assert_eq!(
        shown.matches("that the newest dated snapshot").count(),
        1,
        "{shown}"
    );
}

/// SageMaker creates its ENIs with the execution role or a service-linked role: one a
/// person created (an IAM Identity Center user's `AWSReservedSSO_…` role, an IAM user) in
/// a job's subnet and security group is the account's own, not the job's.
#[test]
fn enis_a_person_created_are_not_sagemakers() {
    let dir = tempfile::tempdir().unwrap();
    let (inventory, logs) = fixture(dir.path(), true);
    let (a, b) = ("eni-0ct0000000000000a", "eni-0ct0000000000000b");
    let sso_role = "AWSReservedSSO_DataScientist_0123456789abcdef";
    let mut by_sso = create(a, "10.20.1.77", T0 + 5);
    by_sso["userIdentity"] = json!({
        "type": "AssumedRole",
        "arn": format!("arn:aws:sts::111122223333:assumed-role/{sso_role}/alice"),
        "sessionContext": {"sessionIssuer": {
            "type": "Role",
            "arn": format!("arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/{sso_role}")
        }}
    });
    let mut by_user = create(b, "10.20.1.77", T0 + 3605);
    by_user["userIdentity"] = json!({
        "type": "IAMUser",
        "arn": "arn:aws:iam::111122223333:user/alice",
        "userName": "alice"
    });
    let records = json!({"Records": [
        by_sso,
        delete(a, T0 + 41 * 60),
        by_user,
        delete(b, T0 + 3600 + 41 * 60),
    ]});
    std::fs::write(
        inventory
            .join("cloudtrail/AWSLogs/o-aa111bb222/111122223333/CloudTrail/us-east-1/2026/11/20")
            .join("111122223333_CloudTrail_us-east-1_20261120T1150Z_Mu0KsOhtH1ar15ZZ.json.gz"),
        gz(records.to_string().as_bytes()),
    )
    .unwrap();
    let rows = query(&inventory, &logs);
    let theirs: Vec<&Value> = rows
        .iter()
        .filter(|r| r["interface_id"] == a || r["interface_id"] == b)
        .collect();
    assert_eq!(theirs.len(), 3, "{rows:#?}");
    for r in theirs {
        assert_eq!(r["eni_owner_kind"], "unknown", "{r:#?}");
        assert_eq!(r["sagemaker_resource"], Value::Null, "{r:#?}");
    }
}

/// Replaces the fixture's describe-network-interfaces with three dated snapshots: the
/// sample's ENIs in each, ENI a in the first and b in the second.
fn dated_snapshots(inventory: &Path) {
    let listed: Value = serde_json::from_str(
        &std::fs::read_to_string(inventory.join("describe-network-interfaces.json")).unwrap(),
    )
    .unwrap();
    std::fs::remove_file(inventory.join("describe-network-interfaces.json")).unwrap();
    let a = job_eni(
        "eni-0ct0000000000000a",
        "10.20.1.77",
        "2026-11-20T09:58:00+00:00",
    );
    let b = job_eni(
        "eni-0ct0000000000000b",
        "10.20.1.77",
        "2026-11-20T10:58:00+00:00",
    );
    for (folder, extra) in [
        ("2026-11-20T1005Z", vec![a]),
        ("2026-11-20T1105Z", vec![b]),
        ("2026-11-20T1205Z", vec![]),
    ] {
        let mut enis = listed["NetworkInterfaces"].as_array().unwrap().clone();
        enis.extend(extra);
        std::fs::create_dir_all(inventory.join(folder)).unwrap();
        std::fs::write(
            inventory
                .join(folder)
                .join("describe-network-interfaces.json"),
            json!({ "NetworkInterfaces": enis }).to_string(),
        )
        .unwrap();
    }
}

/// What [`dated_snapshots`] gives, with `snapshots` dated snapshots and `enis` ENIs
/// listed now.
fn check_dated_snapshots(inventory: &Path, logs: &Path, snapshots: usize, enis: usize) {
    let rows = query(inventory, logs);
    assert_eq!(owners(&rows), the_jobs_owners());
    assert_eq!(rows[0]["attribution"], "eni_history");

    let out = sageflow()
        .args(["inventory", "show", "--inventory"])
        .arg(inventory)
        .output()
        .unwrap();
    let shown = String::from_utf8(out.stdout).unwrap();
    assert!(!shown.contains("warning"), "{shown}");
    assert!(
        shown.contains(&format!(
            "Inventory snapshots: {} dated describe-network-interfaces, 2026-11-20T10:05:00Z to",
            snapshots
        )),
        "{shown}"
    );
    for (eni, span) in [
        (
            "eni-0ct0000000000000a",
            "2026-11-20T09:58:00Z .. 2026-11-20T10:58:00Z",
        ),
        (
            "eni-0ct0000000000000b",
            "2026-11-20T10:58:00Z .. 2026-11-20T12:05:00Z",
        ),
    ] {
        let line = shown
            .lines()
            .find(|l| l.trim_start().starts_with(eni))
            .unwrap_or_else(|| panic!("{shown}"));
        assert!(line.contains(span), "{line}");
        assert!(line.contains("snapshots: "), "{line}");
    }
    // The sample's ENIs, listed in every snapshot, are described once.
    assert!(shown.contains(&format!("ENIs ({enis}):")), "{shown}");
}

/// A trail that sends its events to CloudWatch Logs: `--inventory cwlogs://GROUP` reads
/// them (one CloudTrail record per event, the sample's trail files' records) next to the
/// saved describe-* output, and the sample's deleted training job is named as with the
/// files; an event that is not a record is an error naming the stream and event.
#[test]
fn a_trail_in_cloudwatch_logs_attributes_deleted_enis() {
    let moto = crate::support::moto();
    let _guard = moto.lock();
    let trail = root().join("sample-logs/inventory/cloudtrail");
    moto.run_python(&format!(
        r#"
import gzip, json, os, boto3
logs = boto3.client("logs", endpoint_url=os.environ["ENDPOINT"])
for group in ("org-trail", "not-a-trail"):
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="111122223333_CloudTrail_us-east-1")
records = []
for d, _, files in sorted(os.walk("{}")):
    for f in sorted(files):
        if "Digest" not in f:
            records += json.loads(gzip.decompress(open(os.path.join(d, f), "rb").read()))["Records"]
import datetime
def ms(r):
    return int(datetime.datetime.fromisoformat(r["eventTime"].replace("Z", "+00:00")).timestamp() * 1000)
records.sort(key=ms)
logs.put_log_events(logGroupName="org-trail", logStreamName="111122223333_CloudTrail_us-east-1",
                    logEvents=[{{"timestamp": ms(r), "message": json.dumps(r)}} for r in records])
logs.put_log_events(logGroupName="not-a-trail", logStreamName="111122223333_CloudTrail_us-east-1",
                    logEvents=[{{"timestamp": ms(records[0]), "message": json.dumps(records[0])}},
                               {{"timestamp": ms(records[0]) + 1, "message": "REPORT RequestId: 1"}}])
"#,
        trail.display()
    ));
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("describe-only");
    copy_dir(&root().join("sample-logs/inventory"), &local);
    std::fs::remove_dir_all(local.join("cloudtrail")).unwrap();
    let scan = |group: &str| {
        moto.run(&[
            "scan",
            "sample-logs/v5-custom",
            "--inventory",
            local.to_str().unwrap(),
            "--inventory",
            group,
            "--format",
            "json",
            "--group-by",
            "flow",
        ])
    };
    let (code, out, err) = scan("cwlogs://org-trail");
    assert_eq!(code, Some(1), "{err}");
    let findings: Vec<Value> = serde_json::from_str(&out).unwrap();
    let named: Vec<(&str, &str)> = findings
        .iter()
        .filter(|f| f["interface_id"] == "eni-0c7d2f4a9e1b35680")
        .map(|f| {
            (
                f["sagemaker_resource"].as_str().unwrap_or("-"),
                f["attribution"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        named,
        vec![("train-c", "eni_history"), ("train-c", "eni_history")],
        "{err}"
    );
    assert!(
        err.contains("0 ENIs with records unknown to the inventory"),
        "{err}"
    );

    let (code, _, err) = scan("cwlogs://not-a-trail");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("cwlogs://not-a-trail/111122223333_CloudTrail_us-east-1")
            && err.contains("event 2 is not a CloudTrail record"),
        "{err}"
    );
}

/// A finished job's subnet may hold no ENI that `describe-network-interfaces` lists: its
/// VPC is then known from the job's ENIs in CloudTrail, and a flow log of another VPC does
/// not cover it. Before, such a subnet was of no known VPC, so any VPC's flow log was taken
/// for its, and the job read as logged. (A notebook instance's `vpc_id` was NULL too.)
#[test]
fn a_subnet_only_deleted_enis_show_is_in_their_vpc() {
    const SUBNET: &str = "subnet-0ot000000000000c3";
    const VPC: &str = "vpc-0ot00000000000003";
    let dir = tempfile::tempdir().unwrap();
    let (inventory, logs) = fixture(dir.path(), false);
    // train-a ran in a subnet of a VPC of its own, which the inventory's flow logs (all on
    // the sample's VPC) do not cover.
    let job = inventory.join("sagemaker/describe-training-job-train-a.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&job).unwrap()).unwrap();
    doc["VpcConfig"]["Subnets"] = json!([SUBNET]);
    std::fs::write(&job, doc.to_string()).unwrap();
    let table = "SELECT resource, vpc_id, unlogged_subnets FROM sagemaker_resources \
                 WHERE resource = 'train-a'";
    let unknown = rows(&inventory, &logs, table);
    assert_eq!(unknown[0]["vpc_id"], Value::Null, "{unknown:#?}");
    // A notebook instance's subnet has listed ENIs: its VPC is theirs.
    let notebook = rows(
        &inventory,
        &logs,
        "SELECT vpc_id FROM sagemaker_resources WHERE resource = 'nb-analyst'",
    );
    assert_eq!(notebook, vec![json!({"vpc_id": "vpc-0a1b2c3d4e5f60001"})]);

    let mut eni = create("eni-0ct0000000000000a", "10.30.1.77", T0 + 5);
    eni["responseElements"]["networkInterface"]["subnetId"] = json!(SUBNET);
    eni["responseElements"]["networkInterface"]["vpcId"] = json!(VPC);
    let records = json!({"Records": [eni, delete("eni-0ct0000000000000a", T0 + 41 * 60)]});
    write_trail(&inventory, "AWSLogs", &records);
    let known = rows(&inventory, &logs, table);
    assert_eq!(
        known,
        vec![json!({"resource": "train-a", "vpc_id": VPC, "unlogged_subnets": SUBNET})]
    );
}
