//! Attribution and classification in the account layouts real SageMaker users have
//! (issue 15): several workloads sharing one VpcConfig, pending jobs, overlapping tuning
//! jobs, inference components, other services sharing a default security group, deleted
//! job ENIs, one gateway endpoint per route table, missing prefix-list entries, customer
//! address space in ip-ranges, who opened a connection, REJECT-only flow logs,
//! centralised interface endpoints and NAT legs of unlogged workloads; HyperPod nodes,
//! Studio's own security group, private spaces and regional NAT gateways.
//!
//! Each test writes an inventory in the shape the AWS CLI prints it (`aws ec2 describe-…`,
//! `aws sagemaker describe-…`, unmodified field names and nesting, ISO 8601 times with
//! microseconds) plus a few flow records, and runs the real binary.

use crate::support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::sageflow;

const ACCOUNT: &str = "111122223333";
const VPC: &str = "vpc-0c1a2b3c4d5e6f701";
const SUBNET_A: &str = "subnet-0aa11bb22cc33dd41";
const SUBNET_B: &str = "subnet-0aa11bb22cc33dd42";
const SG_JOB: &str = "sg-0f1e2d3c4b5a69781";
const ROLE: &str =
    "arn:aws:iam::111122223333:role/service-role/AmazonSageMaker-ExecutionRole-20261001T120000";

/// The v5 custom format every test's records use (a flow log's `LogFormat`).
const FORMAT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

/// `HH:MM[:SS]` on 2026-11-25, UTC, as Unix seconds.
fn at(hm: &str) -> i64 {
    let full = if hm.len() == 5 {
        format!("{hm}:00")
    } else {
        hm.to_string()
    };
    chrono::DateTime::parse_from_rfc3339(&format!("2026-11-25T{full}Z"))
        .unwrap()
        .timestamp()
}

/// The CLI's time format for SageMaker (microseconds) and EC2 (seconds).
fn sm_time(hm: &str) -> String {
    let t = chrono::DateTime::from_timestamp(at(hm), 0).unwrap();
    t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

fn ec2_time(hm: &str) -> String {
    let t = chrono::DateTime::from_timestamp(at(hm), 0).unwrap();
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// An inventory directory and a log directory, written by a test.
struct World {
    dir: tempfile::TempDir,
    records: Vec<String>,
}

impl World {
    fn new() -> World {
        let w = World {
            dir: tempfile::tempdir().unwrap(),
            records: Vec::new(),
        };
        std::fs::create_dir_all(w.inventory().join("sagemaker")).unwrap();
        std::fs::create_dir_all(w.logs()).unwrap();
        w
    }

    fn inventory(&self) -> PathBuf {
        self.dir.path().join("inventory")
    }

    fn logs(&self) -> PathBuf {
        self.dir.path().join("logs")
    }

    /// Writes one AWS CLI output document, pretty-printed as the CLI prints it.
    fn doc(&self, name: &str, v: Value) {
        let path = self.inventory().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
    }

    fn enis(&self, enis: Vec<Value>) {
        self.doc(
            "describe-network-interfaces.json",
            json!({ "NetworkInterfaces": enis }),
        );
    }

    fn vpcs(&self, vpcs: &[(&str, &str)]) {
        let list: Vec<Value> = vpcs
            .iter()
            .map(|(id, cidr)| {
                json!({
                    "OwnerId": ACCOUNT,
                    "InstanceTenancy": "default",
                    "CidrBlockAssociationSet": [{
                        "AssociationId": format!("vpc-cidr-assoc-{}", &id[4..]),
                        "CidrBlock": cidr,
                        "CidrBlockState": {"State": "associated"}
                    }],
                    "IsDefault": false,
                    "Tags": [],
                    "VpcId": id,
                    "State": "available",
                    "CidrBlock": cidr,
                    "DhcpOptionsId": "dopt-0a1b2c3d4e5f60718"
                })
            })
            .collect();
        self.doc("describe-vpcs.json", json!({ "Vpcs": list }));
    }

    /// One flow log on the VPC with every field this file's records have.
    fn flow_logs(&self, logs: Vec<Value>) {
        self.doc("describe-flow-logs.json", json!({ "FlowLogs": logs }));
    }

    fn sagemaker(&self, name: &str, v: Value) {
        self.doc(&format!("sagemaker/{name}.json"), v);
    }

    fn record(&mut self, r: Rec) {
        self.records.push(r.line());
    }

    /// Writes the records as one S3-named object of flow log `fl-0v5`, with the header.
    fn write_logs(&self, format: &str) -> PathBuf {
        let path = self.logs().join(format!(
            "{ACCOUNT}_vpcflowlogs_us-east-1_fl-0b1c2d3e4f5a6b7c8_20261125T1000Z_0a1b2c3d.log"
        ));
        let fields: Vec<&str> = format.split(' ').collect();
        let all: Vec<&str> = FORMAT.split(' ').collect();
        let mut text = format!("{format}\n");
        for line in &self.records {
            let values: Vec<&str> = line.split(' ').collect();
            let picked: Vec<&str> = fields
                .iter()
                .map(|f| values[all.iter().position(|a| a == f).unwrap()])
                .collect();
            text += &picked.join(" ");
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Every record with its enrichment, in file order.
    fn query(&self) -> Vec<Value> {
        self.query_format(FORMAT)
    }

    fn query_format(&self, format: &str) -> Vec<Value> {
        self.sql(
            &self.write_logs(format),
            "SELECT interface_id, start, srcaddr, dstaddr, srcport, dstport, eni_owner_kind, \
             sagemaker_resource_type, sagemaker_resource, sagemaker_candidates, attribution, \
             direction, remote_kind, remote_service, remote_vpc, initiator, leaves_vpc, \
             endpoint_bypass FROM flows",
        )
    }

    /// The rows of `sql` over `logs` with the inventory.
    fn sql(&self, logs: &Path, sql: &str) -> Vec<Value> {
        self.query_json(logs, &["--sql", sql])
    }

    /// The rows of bundled report `name` over `logs` with the inventory.
    fn report(&self, logs: &Path, name: &str) -> Vec<Value> {
        self.query_json(logs, &["--report", name])
    }

    /// The JSON rows of `query` over `logs` with the inventory and `what` to run.
    fn query_json(&self, logs: &Path, what: &[&str]) -> Vec<Value> {
        let out = sageflow()
            .arg("query")
            .arg(logs)
            .arg("--inventory")
            .arg(self.inventory())
            .args(["--quiet", "--format", "json"])
            .args(what)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "query failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn scan(&self) -> (i32, Vec<Value>, String) {
        self.scan_format(FORMAT)
    }

    fn scan_format(&self, format: &str) -> (i32, Vec<Value>, String) {
        // These cases are about records: one finding per record.
        self.scan_with(&self.write_logs(format), &["--group-by", "flow"])
    }

    /// `scan` of `logs` with the inventory, JSON findings, and `extra` options.
    fn scan_with(&self, logs: &Path, extra: &[&str]) -> (i32, Vec<Value>, String) {
        let out = sageflow()
            .arg("scan")
            .arg(logs)
            .arg("--inventory")
            .arg(self.inventory())
            .args(["--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let findings: Vec<Value> =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
        (out.status.code().unwrap(), findings, stderr)
    }

    /// Training job `etl` (10:00-11:00, VpcConfig in subnet A) and its ENI `eni` at
    /// 10.0.1.30, the only ENI of describe-network-interfaces.
    fn etl_job(&self, eni: &str) {
        self.etl_job_with(eni, vec![]);
    }

    /// [`World::etl_job`] with a record of its ENI, and a record of an ENI of the account
    /// that the inventory does not list (a deleted one).
    fn etl_job_and_a_deleted_eni(&mut self) {
        let job = "eni-0f0000000000000c1";
        self.etl_job(job);
        self.record(Rec::egress(job, "10:20", "10.0.1.30", INTERNET, 40000, 443));
        self.record(Rec::egress(
            "eni-0f0000000000000c2",
            "10:21",
            "10.0.1.31",
            INTERNET,
            40001,
            443,
        ));
    }

    /// [`World::etl_job`], with `others` listed after its ENI.
    fn etl_job_with(&self, eni: &str, others: Vec<Value>) {
        let mut enis = vec![sagemaker_eni(
            eni,
            "10.0.1.30",
            SUBNET_A,
            &[SG_JOB],
            "09:58",
        )];
        enis.extend(others);
        self.enis(enis);
        self.sagemaker(
            "describe-training-job-etl",
            training_job("etl", "Completed", "09:57", Some("10:00"), Some("11:00")),
        );
    }

    fn show(&self) -> String {
        let out = sageflow()
            .args(["inventory", "show", "--inventory"])
            .arg(self.inventory())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap() + &String::from_utf8(out.stderr).unwrap()
    }
}

/// The row of `eni` whose record starts at `hm`.
fn row<'a>(rows: &'a [Value], eni: &str, hm: &str) -> &'a Value {
    let t = at(hm);
    rows.iter()
        .find(|r| r["interface_id"] == eni && r["start"] == t)
        .unwrap_or_else(|| panic!("no record of {eni} at {hm} in {rows:#?}"))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// (type, name, candidates) of a row, empty strings for NULL.
fn who(r: &Value) -> (&str, &str, &str) {
    (
        text(&r["sagemaker_resource_type"]),
        text(&r["sagemaker_resource"]),
        text(&r["sagemaker_candidates"]),
    )
}

fn findings_of<'a>(findings: &'a [Value], rule: &str) -> Vec<&'a Value> {
    findings.iter().filter(|f| f["rule"] == rule).collect()
}

/// One flow record, built field by field (v5 custom format, `-` for NULL).
#[derive(Clone)]
struct Rec {
    eni: String,
    src: String,
    dst: String,
    sport: u16,
    dport: u16,
    protocol: u8,
    start: i64,
    action: &'static str,
    subnet: String,
    flags: String,
    pkt_src: String,
    pkt_dst: String,
    direction: &'static str,
    path: String,
    bytes: u64,
    instance: String,
}

impl Rec {
    /// An accepted TCP egress record of `eni` at `hm`, in subnet A.
    fn egress(eni: &str, hm: &str, src: &str, dst: &str, sport: u16, dport: u16) -> Rec {
        Rec {
            eni: eni.into(),
            src: src.into(),
            dst: dst.into(),
            sport,
            dport,
            protocol: 6,
            start: at(hm),
            action: "ACCEPT",
            subnet: SUBNET_A.into(),
            flags: "3".into(),
            pkt_src: src.into(),
            pkt_dst: dst.into(),
            direction: "egress",
            path: "-".into(),
            bytes: 4200,
            instance: "-".into(),
        }
    }

    fn ingress(eni: &str, hm: &str, src: &str, dst: &str, sport: u16, dport: u16) -> Rec {
        Rec {
            direction: "ingress",
            flags: "19".into(),
            ..Rec::egress(eni, hm, src, dst, sport, dport)
        }
    }

    fn subnet(mut self, s: &str) -> Rec {
        self.subnet = s.into();
        self
    }

    fn flags(mut self, f: &str) -> Rec {
        self.flags = f.into();
        self
    }

    fn path(mut self, p: &str) -> Rec {
        self.path = p.into();
        self
    }

    /// `instance-id`: an instance the account owns, or a HyperPod node.
    fn instance(mut self, i: &str) -> Rec {
        self.instance = i.into();
        self
    }

    fn pkt(mut self, src: &str, dst: &str) -> Rec {
        self.pkt_src = src.into();
        self.pkt_dst = dst.into();
        self
    }

    fn line(&self) -> String {
        format!(
            "5 {ACCOUNT} {} {} {} {} {} {} 10 {} {} {} {} OK {VPC} {} {} {} IPv4 {} {} us-east-1 use1-az1 - - {} {}",
            self.eni,
            self.src,
            self.dst,
            self.sport,
            self.dport,
            self.protocol,
            self.bytes,
            self.start,
            self.start + 45,
            self.action,
            self.subnet,
            self.instance,
            self.flags,
            self.pkt_src,
            self.pkt_dst,
            self.direction,
            self.path,
        )
    }
}

/// A SageMaker-managed ENI as describe-network-interfaces prints it: requester-managed,
/// attached by the service (`ela-attach-…`, owner `amazon-aws`), no description.
fn sagemaker_eni(id: &str, ip: &str, subnet: &str, groups: &[&str], attached: &str) -> Value {
    eni_json(
        id,
        ip,
        subnet,
        groups,
        "interface",
        "",
        true,
        Some(attached),
    )
}

#[allow(clippy::too_many_arguments)]
fn eni_json(
    id: &str,
    ip: &str,
    subnet: &str,
    groups: &[&str],
    interface_type: &str,
    description: &str,
    requester_managed: bool,
    attached: Option<&str>,
) -> Value {
    let dns = format!("ip-{}.ec2.internal", ip.replace('.', "-"));
    let mut v = json!({
        "AvailabilityZone": "us-east-1a",
        "AvailabilityZoneId": "use1-az1",
        "Description": description,
        "Groups": groups.iter().map(|g| json!({"GroupId": g, "GroupName": format!("{g}-name")})).collect::<Vec<_>>(),
        "InterfaceType": interface_type,
        "Ipv6Addresses": [],
        "MacAddress": "0e:5f:aa:bb:cc:01",
        "NetworkInterfaceId": id,
        "OwnerId": ACCOUNT,
        "PrivateDnsName": dns,
        "PrivateIpAddress": ip,
        "PrivateIpAddresses": [{"Primary": true, "PrivateDnsName": dns, "PrivateIpAddress": ip}],
        "RequesterId": "AROAXSAGEMAKEREXAMPLE:SageMaker",
        "RequesterManaged": requester_managed,
        "SourceDestCheck": true,
        "Status": "in-use",
        "SubnetId": subnet,
        "TagSet": [],
        "VpcId": VPC
    });
    if let Some(t) = attached {
        v["Attachment"] = json!({
            "AttachTime": ec2_time(t),
            "AttachmentId": format!("ela-attach-{}", &id[4..]),
            "DeleteOnTermination": false,
            "DeviceIndex": 1,
            "NetworkCardIndex": 0,
            "InstanceOwnerId": "amazon-aws",
            "Status": "attached"
        });
    }
    v
}

fn vpc_config(groups: &[&str], subnets: &[&str]) -> Value {
    json!({"SecurityGroupIds": groups, "Subnets": subnets})
}

/// `aws sagemaker describe-training-job`; `None` times are left out, as the CLI does.
fn training_job(
    name: &str,
    status: &str,
    created: &str,
    start: Option<&str>,
    end: Option<&str>,
) -> Value {
    let mut v = json!({
        "TrainingJobName": name,
        "TrainingJobArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:training-job/{name}"),
        "TrainingJobStatus": status,
        "SecondaryStatus": if status == "InProgress" { "Starting" } else { status },
        "HyperParameters": {"epochs": "10"},
        "AlgorithmSpecification": {
            "TrainingImage": "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.5-gpu-py311",
            "TrainingInputMode": "File",
            "EnableSageMakerMetricsTimeSeries": false
        },
        "RoleArn": ROLE,
        "ResourceConfig": {"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1, "VolumeSizeInGB": 50},
        "VpcConfig": vpc_config(&[SG_JOB], &[SUBNET_A, SUBNET_B]),
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "CreationTime": sm_time(created),
        "LastModifiedTime": sm_time(end.or(start).unwrap_or(created)),
        "EnableNetworkIsolation": false,
        "EnableInterContainerTrafficEncryption": false,
        "EnableManagedSpotTraining": false
    });
    if let Some(s) = start {
        v["TrainingStartTime"] = json!(sm_time(s));
    }
    if let Some(e) = end {
        v["TrainingEndTime"] = json!(sm_time(e));
    }
    v
}

fn model(name: &str, vpc: Option<Value>) -> Value {
    let mut v = json!({
        "ModelName": name,
        "PrimaryContainer": {
            "Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
            "Mode": "SingleModel",
            "ModelDataUrl": format!("s3://ml-artifacts-{ACCOUNT}/{name}/model.tar.gz"),
            "Environment": {}
        },
        "ExecutionRoleArn": ROLE,
        "CreationTime": sm_time("09:05"),
        "ModelArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/{name}"),
        "EnableNetworkIsolation": false
    });
    if let Some(c) = vpc {
        v["VpcConfig"] = c;
    }
    v
}

fn endpoint_config(name: &str, model: &str) -> Value {
    json!({
        "EndpointConfigName": name,
        "EndpointConfigArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/{name}"),
        "ProductionVariants": [{
            "VariantName": "AllTraffic",
            "ModelName": model,
            "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large",
            "InitialVariantWeight": 1.0
        }],
        "CreationTime": sm_time("09:06"),
        "EnableNetworkIsolation": false
    })
}

fn endpoint(name: &str, config: &str, created: &str, modified: &str) -> Value {
    json!({
        "EndpointName": name,
        "EndpointArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}"),
        "EndpointConfigName": config,
        "ProductionVariants": [{
            "VariantName": "AllTraffic",
            "CurrentWeight": 1.0,
            "DesiredWeight": 1.0,
            "CurrentInstanceCount": 1,
            "DesiredInstanceCount": 1
        }],
        "EndpointStatus": "InService",
        "CreationTime": sm_time(created),
        "LastModifiedTime": sm_time(modified)
    })
}

fn transform_job(name: &str, model: &str, created: &str, start: &str, end: &str) -> Value {
    json!({
        "TransformJobName": name,
        "TransformJobArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:transform-job/{name}"),
        "TransformJobStatus": "Completed",
        "ModelName": model,
        "MaxConcurrentTransforms": 1,
        "BatchStrategy": "MultiRecord",
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": format!("s3://ml-data-{ACCOUNT}/batch/")}},
            "ContentType": "text/csv",
            "CompressionType": "None",
            "SplitType": "Line"
        },
        "TransformOutput": {"S3OutputPath": format!("s3://ml-artifacts-{ACCOUNT}/batch-out/")},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "CreationTime": sm_time(created),
        "TransformStartTime": sm_time(start),
        "TransformEndTime": sm_time(end)
    })
}

fn flow_log(id: &str, resource: &str, traffic: &str, format: &str) -> Value {
    json!({
        "CreationTime": "2026-10-02T14:20:31.118000+00:00",
        "DeliverLogsStatus": "SUCCESS",
        "FlowLogId": id,
        "FlowLogStatus": "ACTIVE",
        "ResourceId": resource,
        "TrafficType": traffic,
        "LogDestinationType": "s3",
        "LogDestination": format!("arn:aws:s3:::flow-logs-{ACCOUNT}"),
        "LogFormat": format.split(' ').map(|f| format!("${{{f}}}")).collect::<Vec<_>>().join(" "),
        "Tags": [],
        "MaxAggregationInterval": 60,
        "DestinationOptions": {"FileFormat": "plain-text", "HiveCompatiblePartitions": false, "PerHourPartition": false}
    })
}

/// Model `m` in VpcConfig (`sg`, subnet A), served by endpoint `e` since 09:10.
fn serving_endpoint(w: &World, sg: &str) {
    w.sagemaker(
        "describe-model-m",
        model("m", Some(vpc_config(&[sg], &[SUBNET_A]))),
    );
    w.sagemaker("describe-endpoint-config-c", endpoint_config("c", "m"));
    w.sagemaker("describe-endpoint-e", endpoint("e", "c", "09:10", "09:18"));
}

/// The base account: one VPC with a flow log of every field.
fn world() -> World {
    let w = World::new();
    w.vpcs(&[(VPC, "10.0.0.0/16")]);
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "ALL", FORMAT)]);
    w
}

/// The ENI of [`World::etl_job`]'s job, at 10.0.1.30 in subnet A.
const ETL_ENI: &str = "eni-0f0000000000000a1";

/// [`world`] with [`World::etl_job`] on [`ETL_ENI`].
fn etl_world() -> World {
    let w = world();
    w.etl_job(ETL_ENI);
    w
}

/// Subnet A's route table: the S3 prefix list to a gateway endpoint, 0.0.0.0/0 to the
/// NAT gateway.
fn subnet_a_routes(w: &World) {
    w.doc(
        "describe-route-tables.json",
        json!({"RouteTables": [
            route_table("rtb-0a00000000000000a", SUBNET_A, "vpce-0s3aaaaaaaaaaaaa1", false)
        ]}),
    );
}

const INTERNET: &str = "198.51.100.23";

/// 1. A training job, the endpoint serving its model and a later batch transform of that
///    model share one VpcConfig (the SageMaker Python SDK's default): each record goes to
///    the workload running then, and on an overlap the ENI's attach time decides.
#[test]
fn one_vpc_config_for_a_training_job_its_endpoint_and_batch_transform() {
    let mut w = world();
    w.enis(vec![
        sagemaker_eni(
            "eni-0e9d00000000000a1",
            "10.0.1.20",
            SUBNET_A,
            &[SG_JOB],
            "09:15",
        ),
        sagemaker_eni(
            "eni-0e9d00000000000b1",
            "10.0.1.30",
            SUBNET_A,
            &[SG_JOB],
            "12:02",
        ),
    ]);
    let vpc = vpc_config(&[SG_JOB], &[SUBNET_A, SUBNET_B]);
    w.sagemaker(
        "describe-training-job-train-1",
        training_job(
            "train-1",
            "Completed",
            "08:00",
            Some("08:02"),
            Some("09:00"),
        ),
    );
    w.sagemaker("describe-model-model-1", model("model-1", Some(vpc)));
    w.sagemaker(
        "describe-endpoint-config-cfg-1",
        endpoint_config("cfg-1", "model-1"),
    );
    w.sagemaker(
        "describe-endpoint-ep-1",
        endpoint("ep-1", "cfg-1", "09:10", "09:18"),
    );
    w.sagemaker(
        "describe-transform-job-bt-1",
        transform_job("bt-1", "model-1", "12:00", "12:03", "12:30"),
    );
    let ep = "eni-0e9d00000000000a1";
    let bt = "eni-0e9d00000000000b1";
    w.record(Rec::egress(ep, "11:00", "10.0.1.20", INTERNET, 40000, 443));
    w.record(Rec::egress(ep, "12:10", "10.0.1.20", INTERNET, 40001, 443));
    w.record(Rec::egress(bt, "12:10", "10.0.1.30", INTERNET, 40002, 443));
    w.record(Rec::egress(bt, "13:00", "10.0.1.30", INTERNET, 40003, 443));
    let rows = w.query();
    // Hours after the training job ended: the endpoint, which exists.
    assert_eq!(who(row(&rows, ep, "11:00")), ("endpoint", "ep-1", ""));
    // During the transform job: the endpoint ENI was attached when the endpoint was
    // provisioned, the transform ENI while the job started.
    assert_eq!(who(row(&rows, ep, "12:10")), ("endpoint", "ep-1", ""));
    assert_eq!(who(row(&rows, bt, "12:10")), ("transform_job", "bt-1", ""));
    // After the transform job only the endpoint runs in that VpcConfig, but this ENI came
    // at 12:02, long after the endpoint's last provisioning (09:18): not the endpoint's
    // (test 37). It came for the transform job, and a job's ENI outlives the job a while
    // (test 39): still the transform job's.
    assert_eq!(who(row(&rows, bt, "13:00")), ("transform_job", "bt-1", ""));
    for r in &rows {
        assert_eq!(r["eni_owner_kind"], "sagemaker");
        assert_eq!(r["attribution"], "eni");
    }
    // The inventory is what `aws` prints: nothing in it was skipped.
    let shown = w.show();
    assert!(!shown.contains("warning"), "{shown}");
    assert!(
        shown.contains("endpoint ep-1 (2026-11-25T09:10:00Z ..)"),
        "{shown}"
    );
}

/// 2. Several models share one VpcConfig; only one is deployed. The record belongs to the
///    endpoint that serves a matching model, not to the first model by name.
#[test]
fn several_models_share_a_vpc_config_and_only_one_is_served() {
    let mut w = world();
    let eni = "eni-0e9d00000000000c1";
    w.enis(vec![sagemaker_eni(
        eni,
        "10.0.1.40",
        SUBNET_A,
        &[SG_JOB],
        "09:15",
    )]);
    let vpc = vpc_config(&[SG_JOB], &[SUBNET_A]);
    for m in ["a-candidate-model", "b-retired-model", "c-prod-model"] {
        w.sagemaker(&format!("describe-model-{m}"), model(m, Some(vpc.clone())));
    }
    w.sagemaker(
        "describe-endpoint-config-prod-cfg",
        endpoint_config("prod-cfg", "c-prod-model"),
    );
    w.sagemaker(
        "describe-endpoint-prod",
        endpoint("churn-prod", "prod-cfg", "09:10", "09:18"),
    );
    w.record(Rec::egress(eni, "11:00", "10.0.1.40", INTERNET, 40000, 443));
    let rows = w.query();
    assert_eq!(
        who(row(&rows, eni, "11:00")),
        ("endpoint", "churn-prod", "")
    );
}

/// 3. A job still starting has no start or end time: its CreationTime bounds it, and a job
///    with no usable time at all matches no record (and is reported).
#[test]
fn pending_jobs_are_bounded_by_their_creation_time() {
    let mut w = world();
    let eni = "eni-0e9d00000000000d1";
    // The pending job's own ENI, attached while it starts.
    let pending = "eni-0e9d00000000000d2";
    w.enis(vec![
        sagemaker_eni(eni, "10.0.1.50", SUBNET_A, &[SG_JOB], "09:58"),
        sagemaker_eni(pending, "10.0.1.51", SUBNET_A, &[SG_JOB], "12:01"),
    ]);
    w.sagemaker(
        "describe-training-job-done",
        training_job("done", "Completed", "09:57", Some("10:00"), Some("11:00")),
    );
    w.sagemaker(
        "describe-training-job-pending",
        training_job("pending", "InProgress", "12:00", None, None),
    );
    // Hand-trimmed output with nothing that says when it ran.
    w.sagemaker(
        "describe-training-job-timeless",
        json!({"TrainingJobName": "timeless", "TrainingJobStatus": "InProgress",
               "VpcConfig": vpc_config(&[SG_JOB], &[SUBNET_A])}),
    );
    for hm in ["10:30", "11:30", "12:30"] {
        w.record(Rec::egress(eni, hm, "10.0.1.50", INTERNET, 40000, 443));
    }
    w.record(Rec::egress(
        pending,
        "12:30",
        "10.0.1.51",
        INTERNET,
        40000,
        443,
    ));
    let rows = w.query();
    assert_eq!(who(row(&rows, eni, "10:30")), ("training_job", "done", ""));
    // Half an hour after its end: its own ENI, which outlives it a while (test 39).
    assert_eq!(who(row(&rows, eni, "11:30")), ("training_job", "done", ""));
    assert_eq!(
        who(row(&rows, pending, "12:30")),
        ("training_job", "pending", "")
    );
    // `done`'s ENI was attached before `pending` was created (test 30).
    assert_eq!(
        who(row(&rows, eni, "12:30")),
        ("training_job", "", "training_job:pending")
    );
    let shown = w.show();
    assert!(
        shown.contains("training job timeless: no start, end or CreationTime"),
        "{shown}"
    );
}

/// 23. An inventory taken while a job ran says it is `InProgress`, with no end: its
///     stopping condition (MaxRuntimeInSeconds; with managed spot, MaxWaitTimeInSeconds)
///     bounds it, and an hour for stopping and uploading. Before, the job stayed open for
///     ever, and records of its subnet days later were attributed to it.
#[test]
fn a_job_in_progress_is_bounded_by_its_stopping_condition() {
    let mut w = world();
    w.enis(vec![notebook_eni(
        "eni-0b0000000000000b1",
        "10.0.2.10",
        SUBNET_B,
    )]);
    let mut job = training_job("etl", "InProgress", "09:57", Some("10:00"), None);
    job["StoppingCondition"] = json!({"MaxRuntimeInSeconds": 1800});
    w.sagemaker("describe-training-job-etl", job);
    let mut spot = training_job("spot", "InProgress", "09:57", Some("10:00"), None);
    spot["StoppingCondition"] = json!({"MaxRuntimeInSeconds": 1800, "MaxWaitTimeInSeconds": 7200});
    spot["EnableManagedSpotTraining"] = json!(true);
    spot["VpcConfig"] = vpc_config(&[SG_JOB], &[SUBNET_B]);
    w.sagemaker("describe-training-job-spot", spot);
    // ENIs the inventory does not list, attributed by their record's subnet and time.
    let a = "eni-0b0000000000000b2";
    let b = "eni-0b0000000000000b3";
    for hm in ["10:20", "11:20", "12:50"] {
        w.record(Rec::egress(a, hm, "10.0.1.80", INTERNET, 40000, 443));
        w.record(Rec::egress(b, hm, "10.0.2.80", INTERNET, 40000, 443).subnet(SUBNET_B));
    }
    let rows = w.query();
    // etl: 10:00 + 30 min + an hour.
    assert_eq!(who(row(&rows, a, "10:20")), ("training_job", "etl", ""));
    assert_eq!(who(row(&rows, a, "11:20")), ("training_job", "etl", ""));
    assert_eq!(row(&rows, a, "12:50")["eni_owner_kind"], "unknown");
    // spot: 10:00 + 2 hours + an hour.
    assert_eq!(who(row(&rows, b, "12:50")), ("training_job", "spot", ""));
    let shown = w.show();
    assert!(
        shown.contains(&format!(
            "not ended (at the latest {}",
            ec2_time("11:30").replace("+00:00", "Z")
        )),
        "{shown}"
    );
}

/// 4. Hyperparameter tuning runs jobs in parallel in one VpcConfig: the ENI's attach time
///    picks the job when it can; otherwise the name is NULL and the candidates are listed.
#[test]
fn overlapping_tuning_jobs_are_never_picked_silently() {
    let mut w = world();
    let first = "eni-0e9d00000000000e1";
    let third = "eni-0e9d00000000000e3";
    w.enis(vec![
        sagemaker_eni(first, "10.0.1.61", SUBNET_A, &[SG_JOB], "10:01:50"),
        sagemaker_eni(third, "10.0.1.63", SUBNET_A, &[SG_JOB], "10:51:10"),
    ]);
    for (name, created, start, end) in [
        ("tune-001", "10:00", "10:02:30", "10:55"),
        ("tune-002", "10:00:01", "10:02:40", "11:05"),
        ("tune-003", "10:50", "10:52", "11:40"),
    ] {
        let mut job = training_job(name, "Completed", created, Some(start), Some(end));
        job["TuningJobArn"] = json!(format!(
            "arn:aws:sagemaker:us-east-1:{ACCOUNT}:hyper-parameter-tuning-job/tune"
        ));
        w.sagemaker(&format!("describe-training-job-{name}"), job);
    }
    w.record(Rec::egress(
        first,
        "10:30",
        "10.0.1.61",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::egress(
        first,
        "10:53",
        "10.0.1.61",
        INTERNET,
        40001,
        443,
    ));
    w.record(Rec::egress(
        first,
        "11:01",
        "10.0.1.61",
        INTERNET,
        40002,
        443,
    ));
    w.record(Rec::egress(
        third,
        "10:53",
        "10.0.1.63",
        INTERNET,
        40003,
        443,
    ));
    let rows = w.query();
    // Both ran and both could have attached the ENI.
    assert_eq!(
        who(row(&rows, first, "10:30")),
        (
            "training_job",
            "",
            "training_job:tune-001,training_job:tune-002"
        )
    );
    // tune-003 runs too at 10:53, but started long after the ENI was attached.
    assert_eq!(
        who(row(&rows, first, "10:53")),
        (
            "training_job",
            "",
            "training_job:tune-001,training_job:tune-002"
        )
    );
    // Only tune-002 and tune-003 run at 11:01, and only tune-002 of the two could have
    // attached it; but tune-001 has just ended, and its ENI would still be there (test
    // 39): still both.
    assert_eq!(
        who(row(&rows, first, "11:01")),
        (
            "training_job",
            "",
            "training_job:tune-001,training_job:tune-002"
        )
    );
    assert_eq!(
        who(row(&rows, third, "10:53")),
        ("training_job", "tune-003", "")
    );
    // The findings carry the candidates too.
    let (code, findings, _) = w.scan();
    assert_eq!(code, 1);
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 4);
    assert!(leaves.iter().any(|f| f["sagemaker_resource"].is_null()
        && f["sagemaker_candidates"] == "training_job:tune-001,training_job:tune-002"));
}

/// 5. Endpoints with inference components carry their VpcConfig on the endpoint config.
#[test]
fn an_endpoint_config_vpc_config_attributes_inference_components() {
    let mut w = world();
    let eni = "eni-0e9d00000000000f1";
    let sg = "sg-0f1e2d3c4b5a69799";
    w.enis(vec![sagemaker_eni(
        eni,
        "10.0.1.70",
        SUBNET_B,
        &[sg],
        "09:20",
    )]);
    // The model has no VpcConfig; the config has, and its variant names no model.
    w.sagemaker("describe-model-llm", model("llm", None));
    w.sagemaker(
        "describe-endpoint-config-ic-cfg",
        json!({
            "EndpointConfigName": "ic-cfg",
            "EndpointConfigArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/ic-cfg"),
            "ProductionVariants": [{
                "VariantName": "AllTraffic",
                "InitialInstanceCount": 1,
                "InstanceType": "ml.g5.12xlarge",
                "ManagedInstanceScaling": {"Status": "ENABLED", "MinInstanceCount": 1, "MaxInstanceCount": 2},
                "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}
            }],
            "CreationTime": sm_time("09:05"),
            "ExecutionRoleArn": ROLE,
            "VpcConfig": vpc_config(&[sg], &[SUBNET_B]),
            "EnableNetworkIsolation": false
        }),
    );
    w.sagemaker(
        "describe-endpoint-llm",
        endpoint("llm-endpoint", "ic-cfg", "09:10", "09:30"),
    );
    w.record(Rec::egress(eni, "11:00", "10.0.1.70", INTERNET, 40000, 443).subnet(SUBNET_B));
    let rows = w.query();
    let r = row(&rows, eni, "11:00");
    assert_eq!(r["eni_owner_kind"], "sagemaker");
    assert_eq!(who(r), ("endpoint", "llm-endpoint", ""));
}

/// 6. Other services' ENIs share the job's (default) security group and subnet: none of
///    them is SageMaker's, and `inventory show` never lists one as both.
#[test]
fn other_services_sharing_the_security_group_are_not_sagemaker() {
    let mut w = world();
    let sg = "sg-0default000000001";
    let vpce_listed = "eni-0a0000000000000a1";
    let vpce_typed = "eni-0a0000000000000a2";
    let lambda = "eni-0a0000000000000a3";
    let nlb = "eni-0a0000000000000a4";
    let job_eni = "eni-0a0000000000000a5";
    w.enis(vec![
        // Older describe output: an endpoint ENI with InterfaceType `interface`, known as
        // the endpoint's only from describe-vpc-endpoints.
        eni_json(
            vpce_listed,
            "10.0.1.101",
            SUBNET_A,
            &[sg],
            "interface",
            "",
            true,
            None,
        ),
        eni_json(
            vpce_typed,
            "10.0.1.102",
            SUBNET_A,
            &[sg],
            "vpc_endpoint",
            "VPC Endpoint Interface vpce-0e1d2c3b4a5968702",
            true,
            None,
        ),
        eni_json(
            lambda,
            "10.0.1.103",
            SUBNET_A,
            &[sg],
            "lambda",
            "AWS Lambda VPC ENI-ingest-fn-7d1e0b3c-2a4f-4a7e-9a62-1c0d5e6f7a8b",
            true,
            Some("09:00"),
        ),
        eni_json(
            nlb,
            "10.0.1.104",
            SUBNET_A,
            &[sg],
            "network_load_balancer",
            "ELB net/internal-nlb/50dc6c495c0c9188",
            true,
            None,
        ),
        sagemaker_eni(job_eni, "10.0.1.105", SUBNET_A, &[sg], "09:58"),
    ]);
    w.doc(
        "describe-vpc-endpoints.json",
        json!({"VpcEndpoints": [
            {"VpcEndpointId": "vpce-0e1d2c3b4a5968701", "VpcEndpointType": "Interface", "VpcId": VPC,
             "ServiceName": "com.amazonaws.us-east-1.sts", "State": "available",
             "PolicyDocument": "{\"Statement\":[{\"Action\":\"*\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Resource\":\"*\"}]}",
             "RouteTableIds": [], "SubnetIds": [SUBNET_A], "Groups": [{"GroupId": sg, "GroupName": "default"}],
             "IpAddressType": "ipv4", "PrivateDnsEnabled": true, "RequesterManaged": false,
             "NetworkInterfaceIds": [vpce_listed], "DnsEntries": [],
             "CreationTimestamp": "2026-10-01T12:00:00+00:00", "Tags": [], "OwnerId": ACCOUNT},
            {"VpcEndpointId": "vpce-0e1d2c3b4a5968702", "VpcEndpointType": "Interface", "VpcId": VPC,
             "ServiceName": "com.amazonaws.us-east-1.logs", "State": "available",
             "RouteTableIds": [], "SubnetIds": [SUBNET_A], "Groups": [{"GroupId": sg, "GroupName": "default"}],
             "IpAddressType": "ipv4", "PrivateDnsEnabled": true, "RequesterManaged": false,
             "NetworkInterfaceIds": [vpce_typed], "DnsEntries": [],
             "CreationTimestamp": "2026-10-01T12:00:00+00:00", "Tags": [], "OwnerId": ACCOUNT}
        ]}),
    );
    let mut job = training_job(
        "train-default-sg",
        "Completed",
        "09:57",
        Some("10:00"),
        Some("11:00"),
    );
    job["VpcConfig"] = vpc_config(&[sg], &[SUBNET_A]);
    w.sagemaker("describe-training-job-train-default-sg", job);
    for (eni, ip) in [
        (vpce_listed, "10.0.1.101"),
        (vpce_typed, "10.0.1.102"),
        (lambda, "10.0.1.103"),
        (nlb, "10.0.1.104"),
        (job_eni, "10.0.1.105"),
    ] {
        w.record(Rec::egress(eni, "10:30", ip, INTERNET, 40000, 443));
    }
    let rows = w.query();
    let kind = |eni| text(&row(&rows, eni, "10:30")["eni_owner_kind"]).to_string();
    assert_eq!(kind(vpce_listed), "vpc_endpoint");
    assert_eq!(kind(vpce_typed), "vpc_endpoint");
    assert_eq!(kind(lambda), "lambda");
    assert_eq!(kind(nlb), "other_service");
    assert_eq!(kind(job_eni), "sagemaker");
    assert_eq!(
        who(row(&rows, job_eni, "10:30")),
        ("training_job", "train-default-sg", "")
    );
    let shown = w.show();
    let line = shown
        .lines()
        .find(|l| l.trim_start().starts_with(vpce_listed) && l.contains("interface"))
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(line.ends_with("vpc_endpoint"), "{line}");
    // One ENI is SageMaker's, the job's own; the endpoint's is listed only as the endpoint's.
    assert_eq!(
        shown.matches("sagemaker by VpcConfig").count(),
        1,
        "{shown}"
    );
    // Only the job's own record is a finding.
    let (_, findings, _) = w.scan();
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 1, "{leaves:#?}");
    assert_eq!(leaves[0]["interface_id"], job_eni);
}

/// 7. A job's ENIs are deleted when it ends, so today's inventory lacks them: their
///    records are counted and reported, and a record whose subnet and time match exactly
///    one workload's VpcConfig is attributed to it, and flagged, with or without
///    `flow-direction` in the format.
#[test]
fn records_of_enis_missing_from_the_inventory_are_reported_and_attributed() {
    let mut w = world();
    // The notebook's ENI is the only one describe-network-interfaces still lists.
    let nb = "eni-0b0000000000000b1";
    w.enis(vec![eni_json(
        nb,
        "10.0.2.10",
        SUBNET_B,
        &["sg-0nb00000000000001"],
        "interface",
        "",
        false,
        Some("08:00"),
    )]);
    w.sagemaker(
        "describe-training-job-nightly",
        training_job(
            "nightly",
            "Completed",
            "09:57",
            Some("10:00"),
            Some("11:00"),
        ),
    );
    let gone = "eni-0b0000000000000b2";
    let stranger = "eni-0b0000000000000b3";
    w.record(Rec::egress(
        gone,
        "10:30",
        "10.0.1.80",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::ingress(
        gone,
        "10:30",
        INTERNET,
        "10.0.1.80",
        443,
        40000,
    ));
    // After the job ended: a workload ENI no more.
    w.record(Rec::egress(
        gone,
        "11:30",
        "10.0.1.80",
        INTERNET,
        40001,
        443,
    ));
    // A subnet no workload uses.
    w.record(
        Rec::egress(stranger, "10:30", "10.0.3.9", INTERNET, 40002, 443)
            .subnet("subnet-0aa11bb22cc33dd49"),
    );
    let rows = w.query();
    let r = row(&rows, gone, "10:30");
    assert_eq!(r["eni_owner_kind"], "sagemaker");
    assert_eq!(r["attribution"], "vpc_config_by_record");
    assert_eq!(who(r), ("training_job", "nightly", ""));
    assert_eq!(r["leaves_vpc"], true);
    let late = row(&rows, gone, "11:30");
    assert_eq!(late["eni_owner_kind"], "unknown");
    assert!(late["attribution"].is_null());
    assert_eq!(row(&rows, stranger, "10:30")["eni_owner_kind"], "unknown");

    let (code, findings, stderr) = w.scan();
    assert_eq!(code, 1);
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 2, "{leaves:#?}");
    assert!(leaves.iter().all(
        |f| f["sagemaker_resource"] == "nightly" && f["attribution"] == "vpc_config_by_record"
    ));
    assert!(
        stderr.contains("warning: 4 records (16.41 KiB) on 2 ENIs that no inventory document names (2 of them attributed to a workload by the record's subnet and time)"),
        "{stderr}"
    );
    // The report lists them per ENI.
    let out = sageflow()
        .arg("query")
        .arg(w.logs())
        .arg("--inventory")
        .arg(w.inventory())
        .args([
            "--quiet",
            "--format",
            "json",
            // As the scan's warning says.
            "--report",
            "unknown-enis",
        ])
        .output()
        .unwrap();
    let report: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report.len(), 2, "{report:#?}");
    assert_eq!(report[0]["interface_id"], gone);
    assert_eq!(report[0]["records"], 3);
    assert_eq!(report[0]["attributed_records"], 2);
    assert_eq!(report[0]["subnet_id"], SUBNET_A);
    assert_eq!(report[1]["interface_id"], stranger);

    // A custom format with the subnet but no `flow-direction`: the deleted ENI's address
    // is known from nowhere, so its side of each record is the one inside its VPC.
    let format = FORMAT.replace(" flow-direction", "");
    let rows = w.query_format(&format);
    let during: Vec<&Value> = rows
        .iter()
        .filter(|r| r["interface_id"] == gone && r["start"] == at("10:30"))
        .collect();
    let dirs: Vec<&str> = during.iter().map(|r| text(&r["direction"])).collect();
    assert_eq!(dirs, ["egress", "ingress"], "{during:#?}");
    for r in during {
        assert_eq!(who(r), ("training_job", "nightly", ""));
        assert_eq!(r["remote_kind"], "internet");
        assert_eq!(r["leaves_vpc"], true);
    }
    let (code, findings, _) = w.scan_format(&format);
    assert_eq!(code, 1);
    assert_eq!(
        findings_of(&findings, "leaves-vpc").len(),
        2,
        "{findings:#?}"
    );
}

/// The route tables and S3 gateway endpoints of tests 8 and 9.
fn route_table(id: &str, subnet: &str, endpoint: &str, main: bool) -> Value {
    json!({
        "Associations": [{
            "Main": main,
            "RouteTableAssociationId": format!("rtbassoc-{}", &id[4..]),
            "RouteTableId": id,
            "SubnetId": subnet,
            "AssociationState": {"State": "associated"}
        }],
        "PropagatingVgws": [],
        "RouteTableId": id,
        "Routes": [
            {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"},
            {"DestinationPrefixListId": "pl-63a5400a", "GatewayId": endpoint, "Origin": "CreateRoute", "State": "active"},
            {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0a1b2c3d4e5f60718", "Origin": "CreateRoute", "State": "active"}
        ],
        "Tags": [],
        "VpcId": VPC,
        "OwnerId": ACCOUNT
    })
}

fn s3_gateway(id: &str, table: &str) -> Value {
    json!({
        "VpcEndpointId": id, "VpcEndpointType": "Gateway", "VpcId": VPC,
        "ServiceName": "com.amazonaws.us-east-1.s3", "State": "available",
        "PolicyDocument": "{\"Version\":\"2008-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"*\",\"Resource\":\"*\"}]}",
        "RouteTableIds": [table], "SubnetIds": [], "Groups": [],
        "PrivateDnsEnabled": false, "RequesterManaged": false,
        "NetworkInterfaceIds": [], "DnsEntries": [],
        "CreationTimestamp": "2026-10-01T12:00:00+00:00", "Tags": [], "OwnerId": ACCOUNT
    })
}

fn s3_prefix_list(w: &World) {
    w.doc(
        "describe-managed-prefix-lists.json",
        json!({"PrefixLists": [{
            "PrefixListId": "pl-63a5400a", "AddressFamily": "IPv4", "State": "create-complete",
            "PrefixListArn": "arn:aws:ec2:us-east-1:aws:prefix-list/pl-63a5400a",
            "PrefixListName": "com.amazonaws.us-east-1.s3", "Tags": [], "OwnerId": "AWS"
        }]}),
    );
}

fn notebook(w: &World, name: &str, eni: &str, subnet: &str) {
    w.sagemaker(
        &format!("describe-notebook-instance-{name}"),
        json!({
            "NotebookInstanceArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:notebook-instance/{name}"),
            "NotebookInstanceName": name,
            "NotebookInstanceStatus": "InService",
            "Url": format!("{name}.notebook.us-east-1.sagemaker.aws"),
            "InstanceType": "ml.t3.medium",
            "SubnetId": subnet,
            "SecurityGroups": ["sg-0nb00000000000001"],
            "RoleArn": ROLE,
            "NetworkInterfaceId": eni,
            "LastModifiedTime": "2026-11-01T08:05:00.000000+00:00",
            "CreationTime": "2026-11-01T08:00:00.000000+00:00",
            "DirectInternetAccess": "Disabled",
            "VolumeSizeInGB": 5,
            "RootAccess": "Enabled",
            "PlatformIdentifier": "notebook-al2-v3"
        }),
    );
}

fn notebook_eni(id: &str, ip: &str, subnet: &str) -> Value {
    eni_json(
        id,
        ip,
        subnet,
        &["sg-0nb00000000000001"],
        "interface",
        "",
        false,
        Some("08:00"),
    )
}

/// 8. One S3 gateway endpoint per route table: each subnet's table decides which endpoint
///    carries its traffic, and neither endpoint's prefix list shadows the other's.
#[test]
fn one_gateway_endpoint_per_route_table() {
    let mut w = world();
    let (nb_a, nb_b) = ("eni-0c0000000000000c1", "eni-0c0000000000000c2");
    w.enis(vec![
        notebook_eni(nb_a, "10.0.1.10", SUBNET_A),
        notebook_eni(nb_b, "10.0.2.10", SUBNET_B),
    ]);
    notebook(&w, "nb-a", nb_a, SUBNET_A);
    notebook(&w, "nb-b", nb_b, SUBNET_B);
    s3_prefix_list(&w);
    w.doc(
        "get-managed-prefix-list-entries-pl-63a5400a.json",
        json!({"Entries": [{"Cidr": "52.216.0.0/15"}, {"Cidr": "3.5.0.0/19"}]}),
    );
    w.doc(
        "describe-route-tables.json",
        json!({"RouteTables": [
            route_table("rtb-0a00000000000000a", SUBNET_A, "vpce-0s3aaaaaaaaaaaaa1", false),
            route_table("rtb-0b00000000000000b", SUBNET_B, "vpce-0s3bbbbbbbbbbbbb2", false)
        ]}),
    );
    w.doc(
        "describe-vpc-endpoints.json",
        json!({"VpcEndpoints": [
            s3_gateway("vpce-0s3aaaaaaaaaaaaa1", "rtb-0a00000000000000a"),
            s3_gateway("vpce-0s3bbbbbbbbbbbbb2", "rtb-0b00000000000000b")
        ]}),
    );
    for (eni, ip, subnet) in [(nb_a, "10.0.1.10", SUBNET_A), (nb_b, "10.0.2.10", SUBNET_B)] {
        w.record(Rec::egress(eni, "10:30", ip, "52.216.10.1", 40000, 443).subnet(subnet));
        w.record(Rec::ingress(eni, "10:30", "52.216.10.1", ip, 443, 40000).subnet(subnet));
    }
    // The default format: no traffic-path, so the route tables decide.
    let rows = w.query_format(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
    );
    assert_eq!(rows.len(), 4);
    for r in &rows {
        assert_eq!(r["remote_kind"], "gateway_endpoint", "{r}");
        assert_eq!(r["remote_service"], "s3", "{r}");
        assert_eq!(r["leaves_vpc"], false, "{r}");
        assert_eq!(r["endpoint_bypass"], false, "{r}");
    }
}

/// 9. traffic-path 7 proves the gateway endpoint carried the traffic (8 that it did not),
///    even when the prefix list's entries were never saved; the scan warns once.
#[test]
fn traffic_path_7_proves_the_gateway_endpoint_without_prefix_list_entries() {
    let mut w = world();
    let nb = "eni-0c0000000000000d1";
    w.enis(vec![notebook_eni(nb, "10.0.1.10", SUBNET_A)]);
    notebook(&w, "nb-d", nb, SUBNET_A);
    s3_prefix_list(&w);
    w.doc(
        "describe-route-tables.json",
        json!({"RouteTables": [route_table("rtb-0a00000000000000a", SUBNET_A, "vpce-0s3aaaaaaaaaaaaa1", true)]}),
    );
    w.doc(
        "describe-vpc-endpoints.json",
        json!({"VpcEndpoints": [s3_gateway("vpce-0s3aaaaaaaaaaaaa1", "rtb-0a00000000000000a")]}),
    );
    w.record(Rec::egress(nb, "10:30", "10.0.1.10", "52.216.10.1", 40000, 443).path("7"));
    w.record(Rec::ingress(
        nb,
        "10:30",
        "52.216.10.1",
        "10.0.1.10",
        443,
        40000,
    ));
    w.record(Rec::egress(nb, "10:40", "10.0.1.10", "52.217.20.2", 40001, 443).path("8"));
    let rows = w.query();
    let through = row(&rows, nb, "10:30");
    assert_eq!(through["remote_kind"], "gateway_endpoint");
    assert_eq!(through["remote_service"], "s3");
    let reply = rows.iter().find(|r| r["direction"] == "ingress").unwrap();
    assert_eq!(reply["remote_kind"], "gateway_endpoint", "{reply}");
    let bypass = row(&rows, nb, "10:40");
    assert_eq!(bypass["remote_kind"], "aws_service");
    assert_eq!(bypass["endpoint_bypass"], true);

    let (code, findings, stderr) = w.scan();
    assert_eq!(code, 1);
    assert_eq!(findings_of(&findings, "endpoint-bypass").len(), 1);
    assert_eq!(findings_of(&findings, "leaves-vpc").len(), 1);
    let warning = "gateway endpoint vpce-0s3aaaaaaaaaaaaa1 (com.amazonaws.us-east-1.s3)";
    assert_eq!(stderr.matches(warning).count(), 1, "{stderr}");
    assert!(
        stderr.contains("the CIDRs of pl-63a5400a are unknown"),
        "{stderr}"
    );
}

/// 10. ip-ranges' EC2 code covers addresses customers hold: reaching one is not an
///     endpoint bypass, and a connection from one is internet ingress.
#[test]
fn customer_address_space_in_ip_ranges_is_the_internet() {
    let mut w = world();
    let nb = "eni-0c0000000000000e1";
    let ep = "eni-0c0000000000000e2";
    let sg = "sg-0f1e2d3c4b5a69711";
    w.enis(vec![
        notebook_eni(nb, "10.0.1.10", SUBNET_A),
        sagemaker_eni(ep, "10.0.1.20", SUBNET_A, &[sg], "09:15"),
    ]);
    notebook(&w, "nb-e", nb, SUBNET_A);
    serving_endpoint(&w, sg);
    // 3.84.10.20 is EC2 (and AMAZON) in us-east-1; 54.239.29.17 only AMAZON.
    w.record(Rec::egress(
        nb,
        "10:30",
        "10.0.1.10",
        "3.84.10.20",
        40000,
        443,
    ));
    w.record(Rec::egress(
        nb,
        "10:31",
        "10.0.1.10",
        "54.239.29.17",
        40001,
        443,
    ));
    w.record(Rec::ingress(ep, "10:32", "3.84.10.20", "10.0.1.20", 51515, 8080).flags("2"));
    let rows = w.query();
    let ec2 = row(&rows, nb, "10:30");
    assert_eq!(ec2["remote_kind"], "internet");
    assert_eq!(ec2["remote_service"], "EC2");
    assert_eq!(ec2["endpoint_bypass"], false);
    assert_eq!(ec2["leaves_vpc"], true);
    assert_eq!(row(&rows, nb, "10:31")["remote_kind"], "aws_service");
    let (_, findings, _) = w.scan();
    let bypass = findings_of(&findings, "endpoint-bypass");
    assert_eq!(bypass.len(), 1);
    assert_eq!(bypass[0]["dstaddr"], "54.239.29.17");
    let ingress = findings_of(&findings, "internet-ingress");
    assert_eq!(ingress.len(), 1, "{findings:#?}");
    assert_eq!(ingress[0]["srcaddr"], "3.84.10.20");
    assert_eq!(ingress[0]["remote_service"], "EC2");
}

/// 11. Who opened a connection comes from the TCP flags where the logs have them; the
///     port heuristic is only the fallback.
#[test]
fn tcp_flags_decide_who_opened_the_connection() {
    let mut w = world();
    let ep = "eni-0c0000000000000f1";
    let nb = "eni-0c0000000000000f2";
    let sg = "sg-0f1e2d3c4b5a69722";
    w.enis(vec![
        sagemaker_eni(ep, "10.0.1.20", SUBNET_A, &[sg], "09:15"),
        notebook_eni(nb, "10.0.1.10", SUBNET_A),
    ]);
    notebook(&w, "nb-f", nb, SUBNET_A);
    serving_endpoint(&w, sg);
    // A client on port 3000 opens a connection to the endpoint's 8080.
    w.record(Rec::ingress(ep, "10:30", "198.51.100.7", "10.0.1.20", 3000, 8080).flags("2"));
    w.record(Rec::egress(ep, "10:30", "10.0.1.20", "198.51.100.7", 8080, 3000).flags("18"));
    // The notebook opens a gRPC connection to an internet server on 50051; the server's
    // SYN-ACK, and later records of the long-lived connection, are not ingress.
    w.record(Rec::egress(nb, "10:40", "10.0.1.10", "198.51.100.8", 45000, 50051).flags("2"));
    w.record(Rec::ingress(nb, "10:40", "198.51.100.8", "10.0.1.10", 50051, 45000).flags("18"));
    w.record(Rec::ingress(nb, "10:45", "198.51.100.8", "10.0.1.10", 50051, 45000).flags("0"));
    let rows = w.query();
    assert_eq!(row(&rows, ep, "10:30")["initiator"], "remote");
    let (_, findings, _) = w.scan();
    let ingress = findings_of(&findings, "internet-ingress");
    assert_eq!(ingress.len(), 1, "{ingress:#?}");
    assert_eq!(ingress[0]["interface_id"], ep);
    assert_eq!(ingress[0]["srcport"], 3000);

    // Without tcp-flags (the default format) the ports decide, as documented: the
    // 8080 connection from port 3000 is missed (the lower port is the remote's), and the
    // 50051 replies to the notebook's port in the ephemeral range are no ingress, since no
    // internet host can reach its private address (test 45). They were, before.
    let (_, findings, _) = w.scan_format(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status",
    );
    let ingress = findings_of(&findings, "internet-ingress");
    assert!(ingress.is_empty(), "{ingress:#?}");
}

/// 12. A flow log of rejected traffic only does not show accepted traffic: an ENI covered
///     only by one is a blind spot; a format without fields rules use is mentioned.
#[test]
fn reject_only_flow_logs_are_blind_spots() {
    let mut w = world();
    let (nb_a, nb_b) = ("eni-0d0000000000000a1", "eni-0d0000000000000a2");
    w.enis(vec![
        notebook_eni(nb_a, "10.0.1.10", SUBNET_A),
        notebook_eni(nb_b, "10.0.2.10", SUBNET_B),
    ]);
    notebook(&w, "nb-a", nb_a, SUBNET_A);
    notebook(&w, "nb-b", nb_b, SUBNET_B);
    let v2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
    w.flow_logs(vec![
        flow_log("fl-0b1c2d3e4f5a6b7c8", SUBNET_A, "REJECT", FORMAT),
        flow_log("fl-0b1c2d3e4f5a6b7c9", SUBNET_B, "ALL", v2),
    ]);
    w.record(Rec::egress(nb_b, "10:30", "10.0.2.10", "10.0.1.10", 40000, 22).subnet(SUBNET_B));
    let (_, findings, stderr) = w.scan();
    let blind = findings_of(&findings, "blind-spots");
    assert_eq!(blind.len(), 1, "{blind:#?}");
    assert_eq!(blind[0]["interface_id"], nb_a);
    assert!(text(&blind[0]["reason"]).contains("TrafficType REJECT"));
    // Nothing was expected of the REJECT-only ENI, so no "no records" gap is reported.
    assert!(
        findings_of(&findings, "log-gaps")
            .iter()
            .all(|f| f["interface_id"] != nb_a)
    );
    assert!(
        stderr.contains("flow log fl-0b1c2d3e4f5a6b7c8 records only rejected traffic"),
        "{stderr}"
    );
    // The objects read are fl-…c8's, so fl-…c9's missing fields are not this scan's; that
    // it alone records nb-b's accepted traffic is.
    assert!(
        !stderr.contains("fl-0b1c2d3e4f5a6b7c9 (default format) lacks fields"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the accepted traffic of 1 SageMaker ENIs is recorded only by flow log fl-0b1c2d3e4f5a6b7c9"),
        "{stderr}"
    );
    let path = w.write_logs(v2);
    std::fs::rename(
        &path,
        w.logs().join(format!(
            "{ACCOUNT}_vpcflowlogs_us-east-1_fl-0b1c2d3e4f5a6b7c9_20261125T1000Z_0a1b2c3d.log"
        )),
    )
    .unwrap();
    let out = sageflow()
        .arg("scan")
        .arg(w.logs().join(format!(
            "{ACCOUNT}_vpcflowlogs_us-east-1_fl-0b1c2d3e4f5a6b7c9_20261125T1000Z_0a1b2c3d.log"
        )))
        .arg("--inventory")
        .arg(w.inventory())
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        // Its format is the default one's fields (as describe-flow-logs prints them).
        stderr.contains("flow log fl-0b1c2d3e4f5a6b7c9 (default format) lacks fields rules use"),
        "{stderr}"
    );
    assert!(
        stderr
            .contains("tcp-flags: internet-ingress decides who opened a connection from its ports"),
        "{stderr}"
    );
}

/// 13. Interface endpoints in a shared-services VPC, reached over a transit gateway:
///     traffic to one is to the endpoint, not private space outside the VPC.
#[test]
fn centralised_interface_endpoints_in_a_shared_vpc() {
    let mut w = world();
    let shared = "vpc-0517a4ed5e7b1c2d3";
    w.vpcs(&[(VPC, "10.0.0.0/16"), (shared, "10.100.0.0/16")]);
    let nb = "eni-0e0000000000000a1";
    let mut sts_eni = eni_json(
        "eni-0e0000000000000a2",
        "10.100.1.50",
        "subnet-0517a4ed5e7b1c2d4",
        &["sg-0517a4ed5e7b1c2d5"],
        "vpc_endpoint",
        "VPC Endpoint Interface vpce-0517a4ed5e7b1c2d6",
        true,
        None,
    );
    sts_eni["VpcId"] = json!(shared);
    w.enis(vec![notebook_eni(nb, "10.0.1.10", SUBNET_A), sts_eni]);
    notebook(&w, "nb-c", nb, SUBNET_A);
    w.doc(
        "describe-vpc-endpoints.json",
        json!({"VpcEndpoints": [{
            "VpcEndpointId": "vpce-0517a4ed5e7b1c2d6", "VpcEndpointType": "Interface", "VpcId": shared,
            "ServiceName": "com.amazonaws.us-east-1.sts", "State": "available",
            "RouteTableIds": [], "SubnetIds": ["subnet-0517a4ed5e7b1c2d4"],
            "Groups": [{"GroupId": "sg-0517a4ed5e7b1c2d5", "GroupName": "endpoints"}],
            "IpAddressType": "ipv4", "PrivateDnsEnabled": false, "RequesterManaged": false,
            "NetworkInterfaceIds": ["eni-0e0000000000000a2"],
            "DnsEntries": [{"DnsName": "vpce-0517a4ed5e7b1c2d6-abcdefgh.sts.us-east-1.vpce.amazonaws.com", "HostedZoneId": "Z7HUB22UULQXV"}],
            "CreationTimestamp": "2026-10-01T12:00:00+00:00", "Tags": [], "OwnerId": ACCOUNT
        }]}),
    );
    w.record(Rec::egress(
        nb,
        "10:30",
        "10.0.1.10",
        "10.100.1.50",
        40000,
        443,
    ));
    w.record(Rec::ingress(
        nb,
        "10:30",
        "10.100.1.50",
        "10.0.1.10",
        443,
        40000,
    ));
    // A peer address that is no endpoint is still private space outside the VPC.
    w.record(Rec::egress(
        nb,
        "10:40",
        "10.0.1.10",
        "10.100.7.7",
        40001,
        5432,
    ));
    let rows = w.query();
    let r = row(&rows, nb, "10:30");
    assert_eq!(r["remote_kind"], "interface_endpoint");
    assert_eq!(r["remote_service"], "com.amazonaws.us-east-1.sts");
    assert_eq!(r["remote_vpc"], shared);
    assert_eq!(r["leaves_vpc"], false);
    let peer = row(&rows, nb, "10:40");
    assert_eq!(peer["remote_kind"], "private_other");
    assert_eq!(peer["remote_vpc"], shared);
    let (_, findings, _) = w.scan();
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 1, "{leaves:#?}");
    assert_eq!(leaves[0]["dstaddr"], "10.100.7.7");

    // The workload account's inventory alone: the endpoint's ENI (and VPC) are the shared
    // account's. Its calls read as leaving the VPC, but the inventory says why, and each
    // finding names the route that took the address out of the VPC.
    w.vpcs(&[(VPC, "10.0.0.0/16")]);
    w.enis(vec![notebook_eni(nb, "10.0.1.10", SUBNET_A)]);
    let mut table = route_table(
        "rtb-0c1a2b3c4d5e6f7a1",
        SUBNET_A,
        "vpce-0c1a2b3c4d5e6f7a1",
        true,
    );
    table["Routes"].as_array_mut().unwrap().push(json!({
        "DestinationCidrBlock": "10.100.0.0/16", "TransitGatewayId": "tgw-0517a4ed5e7b1c2d7",
        "Origin": "CreateRoute", "State": "active"
    }));
    w.doc(
        "describe-route-tables.json",
        json!({"RouteTables": [table]}),
    );
    assert!(
        w.show().contains(
            "interface endpoint vpce-0517a4ed5e7b1c2d6 (com.amazonaws.us-east-1.sts) in vpc-0517a4ed5e7b1c2d3: its ENIs eni-0e0000000000000a2 are not in describe-network-interfaces"
        ),
        "{}",
        w.show()
    );
    let (_, findings, _) = w.scan();
    let evidence: Vec<&str> = findings_of(&findings, "leaves-vpc")
        .iter()
        .map(|f| text(&f["remote_evidence"]))
        .collect();
    assert_eq!(
        evidence,
        ["private range 10.0.0.0/8, routed to tgw-0517a4ed5e7b1c2d7 by rtb-0c1a2b3c4d5e6f7a1"; 3],
        "{findings:#?}"
    );
}

/// 14. When no flow log records the workload's ENI but one records the NAT gateway's, the
///     NAT legs are the only evidence: they are flagged, attributed through pkt-*.
#[test]
fn nat_legs_are_flagged_when_the_workload_eni_is_not_logged() {
    let mut w = world();
    let public = "subnet-0aa11bb22cc33dd4f";
    let job = "eni-0f0000000000000a1";
    let mut nat = eni_json(
        "eni-0f0000000000000a2",
        "10.0.0.50",
        public,
        &[],
        "nat_gateway",
        "Interface for NAT Gateway nat-0a1b2c3d4e5f60718",
        true,
        Some("08:00"),
    );
    nat["Association"] = json!({"IpOwnerId": "amazon", "PublicDnsName": "ec2-44-200-10-10.compute-1.amazonaws.com", "PublicIp": "44.200.10.10"});
    w.enis(vec![
        sagemaker_eni(job, "10.0.1.30", SUBNET_A, &[SG_JOB], "09:58"),
        nat,
    ]);
    w.sagemaker(
        "describe-training-job-etl",
        training_job("etl", "Completed", "09:57", Some("10:00"), Some("11:00")),
    );
    // Only the public subnet has a flow log.
    w.flow_logs(vec![flow_log(
        "fl-0b1c2d3e4f5a6b7c8",
        public,
        "ALL",
        FORMAT,
    )]);
    let n = "eni-0f0000000000000a2";
    let dest = "203.0.113.50";
    // The four legs of one connection on the NAT ENI (AWS's documented example shape).
    w.record(
        Rec::ingress(n, "10:20", "10.0.1.30", "10.0.0.50", 48211, 443)
            .pkt("10.0.1.30", dest)
            .flags("3")
            .subnet(public),
    );
    w.record(
        Rec::egress(n, "10:20", "10.0.0.50", dest, 48211, 443)
            .path("8")
            .subnet(public),
    );
    w.record(Rec::ingress(n, "10:20", dest, "10.0.0.50", 443, 48211).subnet(public));
    w.record(
        Rec::egress(n, "10:20", "10.0.0.50", "10.0.1.30", 443, 48211)
            .pkt(dest, "10.0.1.30")
            .flags("19")
            .path("1")
            .subnet(public),
    );
    let (code, findings, stderr) = w.scan();
    assert_eq!(code, 1);
    // The summary counts the legs: "0 records of SageMaker workloads" alone would read as
    // if nothing of the job was seen.
    assert!(
        stderr.contains(
            "0 records of SageMaker workloads (and 2 NAT gateway legs attributed to them by packet address);"
        ),
        "{stderr}"
    );
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 2, "{leaves:#?}");
    for f in &leaves {
        assert_eq!(f["interface_id"], n);
        assert_eq!(f["eni_owner_kind"], "nat_gateway");
        assert_eq!(f["attribution"], "packet_address");
        assert_eq!(f["sagemaker_resource"], "etl");
        assert_eq!(f["remote_addr"], dest);
    }
    // A blind spot too: nothing logs the job's ENI.
    assert!(
        findings_of(&findings, "blind-spots")
            .iter()
            .any(|f| f["interface_id"] == job)
    );

    // With the workload's ENI logged, its own records carry the findings, not the NAT's.
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "ALL", FORMAT)]);
    let (_, findings, _) = w.scan();
    assert!(
        findings_of(&findings, "leaves-vpc").is_empty(),
        "{findings:#?}"
    );
}

/// 24. A NAT gateway's leg is a workload's only while the workload ran: the address in
///     the packet was another ENI's before the job's ENI took it (an EC2 instance since
///     terminated), and is free again after. Before, every leg with the job ENI's address
///     was the job's, and flagged.
#[test]
fn nat_legs_are_a_workloads_only_while_it_ran() {
    let mut w = world();
    let (n, public) = (NAT_ENI, PUBLIC);
    w.etl_job_with("eni-0f0000000000000a1", vec![nat_eni()]);
    w.flow_logs(vec![flow_log(
        "fl-0b1c2d3e4f5a6b7c8",
        public,
        "ALL",
        FORMAT,
    )]);
    let dest = "203.0.113.50";
    for (hm, port) in [("09:20", 48000), ("10:20", 48211), ("12:20", 48400)] {
        w.record(
            Rec::ingress(n, hm, "10.0.1.30", "10.0.0.50", port, 443)
                .pkt("10.0.1.30", dest)
                .flags("3")
                .subnet(public),
        );
    }
    let (_, findings, stderr) = w.scan();
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 1, "{leaves:#?}");
    assert_eq!(leaves[0]["sagemaker_resource"], "etl");
    assert_eq!(leaves[0]["srcport"], 48211);
    assert!(
        stderr.contains("(and 1 NAT gateway legs attributed to them by packet address)"),
        "{stderr}"
    );
}

/// 33. VPCs (of one account or several) reuse the same private ranges: a packet address
///     names an ENI only within its VPC. A NAT gateway of another VPC carrying a host at
///     the job ENI's address is not the job's; an address outside the NAT's VPC is another
///     VPC's (a central egress VPC). Before, the address named the job's ENI in whichever
///     VPC, and with ENIs at that address in both, which one won changed from run to run.
#[test]
fn a_packet_address_names_an_eni_only_in_its_own_vpc() {
    let mut w = world();
    let other = "vpc-0c1a2b3c4d5e6f7ee";
    let mut nat = nat_eni();
    nat["VpcId"] = json!(other);
    w.etl_job_with("eni-0f0000000000000a1", vec![nat]);
    w.vpcs(&[(VPC, "10.0.0.0/16"), (other, "10.0.0.0/16")]);
    // Only the other VPC is logged, so NAT legs there would be the job's only evidence.
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", other, "ALL", FORMAT)]);
    w.records.push(
        Rec::ingress(NAT_ENI, "10:20", "10.0.1.30", "10.0.0.50", 48211, 443)
            .pkt("10.0.1.30", "203.0.113.50")
            .flags("3")
            .subnet(PUBLIC)
            .line()
            .replace(VPC, other),
    );
    let rows = w.query();
    let leg = row(&rows, NAT_ENI, "10:20");
    assert_eq!(leg["eni_owner_kind"], "nat_gateway");
    assert_eq!(who(leg), ("", "", ""), "{leg:#?}");
    let (_, findings, _) = w.scan();
    assert!(
        findings_of(&findings, "leaves-vpc").is_empty(),
        "{findings:#?}"
    );

    // A central egress VPC of its own range: a transit gateway does not translate, so
    // the workload VPC's address in its NAT gateway's legs is the job's.
    w.vpcs(&[(VPC, "10.0.0.0/16"), (other, "10.99.0.0/16")]);
    let (_, findings, _) = w.scan();
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 1, "{findings:#?}");
    assert_eq!(leaves[0]["sagemaker_resource"], "etl");
}

/// 34. SageMaker names are unique only within one account and region: two accounts
///     deployed from one template (here in one shared VPC) both have endpoint `e` on
///     config `c` and model `m`, each in its own VpcConfig, and both are named. Before,
///     the second account's model and config were dropped ("keeping the first"), and its
///     endpoint's egress read as an unattributed managed ENI's.
#[test]
fn same_named_resources_of_two_accounts_are_both_workloads() {
    let mut w = world();
    let other = "444455556666";
    let sg_other = "sg-0f1e2d3c4b5a697ff";
    serving_endpoint(&w, SG_JOB);
    let theirs = |v: Value| -> Value {
        serde_json::from_str(&v.to_string().replace(ACCOUNT, other)).unwrap()
    };
    let doc = |name: &str, v: Value| w.doc(&format!("{other}/sagemaker/{name}.json"), theirs(v));
    doc(
        "describe-model-m",
        model("m", Some(vpc_config(&[sg_other], &[SUBNET_B]))),
    );
    doc("describe-endpoint-config-c", endpoint_config("c", "m"));
    doc("describe-endpoint-e", endpoint("e", "c", "09:10", "09:18"));
    let (ours, mine) = ("eni-0e9d00000000000f1", "eni-0e9d00000000000f2");
    let mut their_eni = sagemaker_eni(mine, "10.0.2.20", SUBNET_B, &[sg_other], "09:15");
    their_eni["OwnerId"] = json!(other);
    w.enis(vec![
        sagemaker_eni(ours, "10.0.1.20", SUBNET_A, &[SG_JOB], "09:15"),
        their_eni,
    ]);
    w.record(Rec::egress(
        ours,
        "10:00",
        "10.0.1.20",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::egress(mine, "10:00", "10.0.2.20", INTERNET, 40001, 443).subnet(SUBNET_B));
    let rows = w.query();
    assert_eq!(who(row(&rows, ours, "10:00")), ("endpoint", "e", ""));
    assert_eq!(who(row(&rows, mine, "10:00")), ("endpoint", "e", ""));
    let (_, findings, _) = w.scan();
    let docs: Vec<&str> = findings_of(&findings, "leaves-vpc")
        .iter()
        .map(|f| text(&f["attribution_document"]))
        .collect();
    assert_eq!(docs.len(), 2, "{findings:#?}");
    assert!(
        docs[0].ends_with("/inventory/sagemaker/describe-model-m.json"),
        "{docs:?}"
    );
    assert!(
        docs[1].ends_with(&format!(
            "/inventory/{other}/sagemaker/describe-model-m.json"
        )),
        "{docs:?}"
    );
    assert!(!w.show().contains("already loaded"), "{}", w.show());
}

/// 35. A shared VPC seen from a participant account: the VPC owner's flow log delivers the
///     participant's records, but the participant's describe-flow-logs cannot list it. An
///     ENI whose accepted records were read is no blind spot. Before, it was "not covered
///     by any flow log" while its records were being read.
#[test]
fn an_eni_whose_accepted_records_were_read_is_no_blind_spot() {
    let mut w = world();
    w.flow_logs(vec![]);
    let eni = "eni-0f0000000000000a1";
    w.etl_job(eni);
    w.record(Rec::egress(
        eni,
        "10:20",
        "10.0.1.30",
        "10.0.2.9",
        40000,
        443,
    ));
    let (_, findings, _) = w.scan();
    assert!(
        findings_of(&findings, "blind-spots").is_empty(),
        "{findings:#?}"
    );

    // With no record of it read, it is one.
    w.records.clear();
    w.record(Rec::egress(
        eni,
        "10:20",
        "10.0.1.30",
        "10.0.2.9",
        40000,
        443,
    ));
    let rejected = w.records[0].replace(" ACCEPT ", " REJECT ");
    w.records[0] = rejected;
    let (_, findings, _) = w.scan();
    let blind = findings_of(&findings, "blind-spots");
    assert_eq!(blind.len(), 1, "{findings:#?}");
    assert_eq!(blind[0]["interface_id"], eni);
}

/// 36. Records of ENIs the inventory lacks are attributed by their subnet and time to a
///     workload of that subnet, but Studio apps and notebook instances put ENIs there too
///     (and a restarted notebook leaves its old one): those are candidates, so no
///     workload is named. A record with an `instance-id` is on an instance of the
///     account (an autoscaled EC2 instance, deleted since), which is no job's. Before,
///     both were named as the job's.
#[test]
fn records_of_unknown_enis_name_no_workload_a_notebook_or_instance_could_own() {
    let mut w = world();
    w.etl_job("eni-0f0000000000000a1");
    notebook(&w, "nb", "eni-0f0000000000000a9", SUBNET_B);
    let gone = "eni-0f0000000000000d1";
    w.record(Rec::egress(
        gone,
        "10:20",
        "10.0.1.61",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::egress(gone, "10:21", "10.0.2.61", INTERNET, 40001, 443).subnet(SUBNET_B));
    let instance = "eni-0f0000000000000d2";
    w.record(
        Rec::egress(instance, "10:22", "10.0.1.62", INTERNET, 40002, 443)
            .instance("i-0a1b2c3d4e5f60789"),
    );
    let rows = w.query();
    // Subnet A: only the job. Subnet B: the job and the notebook.
    assert_eq!(who(row(&rows, gone, "10:20")), ("training_job", "etl", ""));
    assert_eq!(
        who(row(&rows, gone, "10:21")),
        ("", "", "notebook_instance:nb,training_job:etl")
    );
    let on_instance = row(&rows, instance, "10:22");
    assert_eq!(on_instance["eni_owner_kind"], "unknown", "{on_instance:#?}");
    assert_eq!(who(on_instance), ("", "", ""), "{on_instance:#?}");
    // Its internet egress is therefore no finding of the job's; the other ENI's two are.
    let (_, findings, _) = w.scan();
    let leaves: Vec<&str> = findings_of(&findings, "leaves-vpc")
        .iter()
        .map(|f| text(&f["interface_id"]))
        .collect();
    assert_eq!(leaves, [gone, gone], "{findings:#?}");
}

/// 37. An endpoint's ENIs are all attached by its last provisioning (`LastModifiedTime`):
///     one attached after is another endpoint's (one deleted since, whose ENIs outlive
///     it), not named as this one. An endpoint config's own VpcConfig (inference
///     components) that no endpoint uses still makes its ENIs an endpoint's. And
///     describe-inference-component output, which names an endpoint, is not one.
#[test]
fn endpoint_enis_are_told_by_when_they_came_and_by_unused_configs() {
    let mut w = world();
    serving_endpoint(&w, SG_JOB);
    let sg_ic = "sg-0f1e2d3c4b5a697ic";
    let mut config = endpoint_config("c-ic", "m");
    config["ProductionVariants"][0]
        .as_object_mut()
        .unwrap()
        .remove("ModelName");
    config["VpcConfig"] = vpc_config(&[sg_ic], &[SUBNET_A]);
    w.sagemaker("describe-endpoint-config-c-ic", config);
    w.sagemaker(
        "describe-inference-component-llm",
        json!({
            "InferenceComponentName": "llm",
            "InferenceComponentArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:inference-component/llm"),
            "EndpointName": "e-ic",
            "EndpointArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/e-ic"),
            "VariantName": "AllTraffic",
            "CreationTime": sm_time("09:00"),
            "LastModifiedTime": sm_time("09:05"),
            "InferenceComponentStatus": "InService"
        }),
    );
    let (late, ic) = ("eni-0e9d00000000000e1", "eni-0e9d00000000000e2");
    w.enis(vec![
        sagemaker_eni(late, "10.0.1.71", SUBNET_A, &[SG_JOB], "10:05"),
        sagemaker_eni(ic, "10.0.1.72", SUBNET_A, &[sg_ic], "09:02"),
    ]);
    w.record(Rec::egress(
        late,
        "10:30",
        "10.0.1.71",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::egress(ic, "10:30", "10.0.1.72", INTERNET, 40001, 443));
    let rows = w.query();
    assert_eq!(
        who(row(&rows, late, "10:30")),
        ("endpoint", "", "endpoint:e")
    );
    let r = row(&rows, ic, "10:30");
    assert_eq!(r["eni_owner_kind"], "sagemaker", "{r:#?}");
    assert_eq!(who(r), ("endpoint", "", ""));
    assert_eq!(r["leaves_vpc"], true);
    let shown = w.show();
    assert!(
        shown.contains("its ENIs were all attached before this one: not its ENI"),
        "{shown}"
    );
    assert!(
        shown.contains("describe-inference-component output is not used"),
        "{shown}"
    );
    assert!(!shown.contains("e-ic"), "{shown}");
}

/// 38. A blue/green (or rolling) update deploys a new endpoint config while the old fleet
///     still serves: describe-endpoint names the new one in
///     `PendingDeploymentSummary.EndpointConfigName`. The new fleet's ENIs, in the new
///     model's VpcConfig, are the endpoint's too. Before, that config was read as one no
///     endpoint uses: its records named no endpoint.
#[test]
fn an_update_in_progress_runs_the_endpoint_in_its_new_config_too() {
    let mut w = world();
    serving_endpoint(&w, SG_JOB);
    let sg_new = "sg-0f1e2d3c4b5a69new";
    w.sagemaker(
        "describe-model-m2",
        model("m2", Some(vpc_config(&[sg_new], &[SUBNET_A]))),
    );
    w.sagemaker("describe-endpoint-config-c2", endpoint_config("c2", "m2"));
    let mut e = endpoint("e", "c", "09:10", "10:00");
    e["EndpointStatus"] = json!("Updating");
    e["PendingDeploymentSummary"] = json!({
        "EndpointConfigName": "c2",
        "ProductionVariants": [{
            "VariantName": "AllTraffic",
            "DeployedImages": [],
            "CurrentWeight": 1.0,
            "DesiredWeight": 1.0,
            "CurrentInstanceCount": 1,
            "DesiredInstanceCount": 1,
            "InstanceType": "ml.m5.large"
        }],
        "StartTime": sm_time("10:00")
    });
    w.sagemaker("describe-endpoint-e", e);
    let (blue, green) = ("eni-0e9d00000000000f1", "eni-0e9d00000000000f2");
    w.enis(vec![
        sagemaker_eni(blue, "10.0.1.81", SUBNET_A, &[SG_JOB], "09:15"),
        sagemaker_eni(green, "10.0.1.82", SUBNET_A, &[sg_new], "10:06"),
    ]);
    w.record(Rec::egress(
        blue,
        "10:20",
        "10.0.1.81",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::egress(
        green,
        "10:20",
        "10.0.1.82",
        INTERNET,
        40001,
        443,
    ));
    let rows = w.query();
    assert_eq!(who(row(&rows, blue, "10:20")), ("endpoint", "e", ""));
    assert_eq!(who(row(&rows, green, "10:20")), ("endpoint", "e", ""));
    let shown = w.show();
    assert!(
        shown.contains("e  config c (update in progress to config c2)"),
        "{shown}"
    );
}

/// 39. The SageMaker Python SDK gives a model its training job's VpcConfig, so a retrained
///     model's endpoint shares the job's. A job's ENI outlives the job a while (it stops,
///     uploads its output, then SageMaker deletes it): its records after the job's end
///     are not the endpoint's by elimination. While its ENI's attach time fits both, no
///     name; an hour after the job's end, a job's ENI is long deleted. Before, the record
///     right after the job's end was named as the endpoint.
#[test]
fn a_jobs_eni_after_the_job_ended_is_not_another_workloads_by_elimination() {
    let mut w = world();
    serving_endpoint(&w, SG_JOB);
    w.sagemaker(
        "describe-training-job-tr",
        training_job("tr", "Completed", "09:12", Some("09:14"), Some("09:40")),
    );
    let (job, ep) = ("eni-0e9d0000000000a91", "eni-0e9d0000000000a92");
    w.enis(vec![
        sagemaker_eni(job, "10.0.1.91", SUBNET_A, &[SG_JOB], "09:13"),
        sagemaker_eni(ep, "10.0.1.92", SUBNET_A, &[SG_JOB], "09:11"),
    ]);
    for (eni, ip, hm, port) in [
        (job, "10.0.1.91", "09:20", 40000),
        (job, "10.0.1.91", "09:50", 40001),
        (job, "10.0.1.91", "10:50", 40002),
        (ep, "10.0.1.92", "09:50", 40003),
    ] {
        w.record(Rec::egress(eni, hm, ip, INTERNET, port, 443));
    }
    let rows = w.query();
    let both = ("", "", "endpoint:e,training_job:tr");
    assert_eq!(who(row(&rows, job, "09:20")), both);
    assert_eq!(who(row(&rows, job, "09:50")), both);
    assert_eq!(who(row(&rows, job, "10:50")), ("endpoint", "e", ""));
    assert_eq!(who(row(&rows, ep, "09:50")), ("endpoint", "e", ""));
}

/// 40. A training job retried under its retry strategy (its SecondaryStatusTransitions
///     start again) starts on new instances, and their ENIs are attached then: its ENIs
///     are not all attached by its start. One that may retry but did not keeps the usual
///     attach window. Before, an ENI of a retry was no longer named as the job (the only
///     one of its VpcConfig).
#[test]
fn a_retried_jobs_new_enis_are_its_own() {
    let mut w = world();
    let sg_once = "sg-0f1e2d3c4b5a69one";
    let transition = |status: &str, from: &str, to: &str| {
        json!({"Status": status, "StartTime": sm_time(from), "EndTime": sm_time(to),
               "StatusMessage": "Preparing the instances for training"})
    };
    let mut job = training_job("rt", "Completed", "09:57", Some("10:00"), Some("11:00"));
    job["RetryStrategy"] = json!({"MaximumRetryAttempts": 2});
    job["SecondaryStatusTransitions"] = json!([
        transition("Starting", "09:57", "10:00"),
        transition("Training", "10:00", "10:25"),
        transition("Restarting", "10:25", "10:29"),
        transition("Starting", "10:29", "10:32"),
        transition("Training", "10:32", "11:00"),
    ]);
    w.sagemaker("describe-training-job-rt", job);
    let mut once = training_job("once", "Completed", "09:57", Some("10:00"), Some("11:00"));
    once["RetryStrategy"] = json!({"MaximumRetryAttempts": 2});
    once["VpcConfig"] = vpc_config(&[sg_once], &[SUBNET_A]);
    once["SecondaryStatusTransitions"] = json!([
        transition("Starting", "09:57", "10:00"),
        transition("Training", "10:00", "11:00"),
    ]);
    w.sagemaker("describe-training-job-once", once);
    let (eni, late) = ("eni-0e9d0000000000b01", "eni-0e9d0000000000b02");
    w.enis(vec![
        sagemaker_eni(eni, "10.0.1.101", SUBNET_A, &[SG_JOB], "10:30"),
        sagemaker_eni(late, "10.0.1.102", SUBNET_A, &[sg_once], "10:30"),
    ]);
    w.record(Rec::egress(
        eni,
        "10:40",
        "10.0.1.101",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::egress(
        late,
        "10:40",
        "10.0.1.102",
        INTERNET,
        40001,
        443,
    ));
    let rows = w.query();
    assert_eq!(who(row(&rows, eni, "10:40")), ("training_job", "rt", ""));
    assert_eq!(
        who(row(&rows, late, "10:40")),
        ("training_job", "", "training_job:once")
    );
}

/// 41. A NAT gateway's leg names the ENI holding the packet's address only from that
///     ENI's attach time: an endpoint's ENI attached by a scale-out at 12:00 did not send
///     what the NAT gateway carried at 10:20 from its address. Before, it was the
///     endpoint's. An ENI named by another document (a notebook instance's) may have been
///     attached again since (its AttachTime is the last attachment): its address was its
///     own before as well.
#[test]
fn a_nat_leg_before_the_address_holder_was_attached_is_not_its() {
    let mut w = world();
    w.sagemaker(
        "describe-model-m",
        model("m", Some(vpc_config(&[SG_JOB], &[SUBNET_A]))),
    );
    w.sagemaker("describe-endpoint-config-c", endpoint_config("c", "m"));
    w.sagemaker("describe-endpoint-e", endpoint("e", "c", "09:10", "12:00"));
    let (eni, nb) = ("eni-0e9d0000000000b11", "eni-0e9d0000000000b12");
    let mut nb_eni = notebook_eni(nb, "10.0.1.12", SUBNET_A);
    nb_eni["Attachment"]["AttachTime"] = json!(ec2_time("12:00"));
    notebook(&w, "nb", nb, SUBNET_A);
    w.enis(vec![
        sagemaker_eni(eni, "10.0.1.30", SUBNET_A, &[SG_JOB], "12:00"),
        nb_eni,
        nat_eni(),
    ]);
    w.flow_logs(vec![flow_log(
        "fl-0b1c2d3e4f5a6b7c8",
        PUBLIC,
        "ALL",
        FORMAT,
    )]);
    for (hm, addr, port) in [
        ("10:20", "10.0.1.30", 48211),
        ("12:20", "10.0.1.30", 48400),
        ("10:21", "10.0.1.12", 48500),
    ] {
        w.record(
            Rec::ingress(NAT_ENI, hm, addr, "10.0.0.50", port, 443)
                .pkt(addr, "203.0.113.50")
                .flags("3")
                .subnet(PUBLIC),
        );
    }
    let rows = w.query();
    let before = row(&rows, NAT_ENI, "10:20");
    assert_ne!(before["attribution"], "packet_address", "{before:#?}");
    assert_eq!(who(before), ("", "", ""));
    let after = row(&rows, NAT_ENI, "12:20");
    assert_eq!(after["attribution"], "packet_address", "{after:#?}");
    assert_eq!(who(after), ("endpoint", "e", ""));
    assert_eq!(
        who(row(&rows, NAT_ENI, "10:21")),
        ("notebook_instance", "nb", "")
    );
}

/// 42. A rejected egress record that answers a connection the remote side opened (the
///     SYN-ACK of an inbound connection, dropped by a stateless network ACL) is not the
///     workload trying to reach something: `rejected-sagemaker-egress` is about what the
///     workload opened. One it opened is still a finding.
#[test]
fn a_rejected_reply_is_not_the_workload_reaching_out() {
    let mut w = etl_world();
    let eni = ETL_ENI;
    w.record(Rec::ingress(eni, "10:20", INTERNET, "10.0.1.30", 51516, 8888).flags("2"));
    let mut reply = Rec::egress(eni, "10:20", "10.0.1.30", INTERNET, 8888, 51516).flags("18");
    reply.action = "REJECT";
    w.record(reply);
    let mut opened = Rec::egress(eni, "10:30", "10.0.1.30", INTERNET, 40000, 443).flags("2");
    opened.action = "REJECT";
    w.record(opened);
    let (_, findings, _) = w.scan();
    let rejected = findings_of(&findings, "rejected-sagemaker-egress");
    assert_eq!(rejected.len(), 1, "{rejected:#?}");
    assert_eq!(rejected[0]["dstport"], 443);
}

/// 43. Without `flow-direction` (the default v2 format), an address the inventory does not
///     list for the ENI (one of a delegated prefix, or assigned after
///     describe-network-interfaces ran) is still the ENI's side when it is the one inside
///     the VPC. Before, such records had no direction, so no rule could fire on them.
#[test]
fn an_unlisted_address_of_a_known_eni_is_its_side_without_flow_direction() {
    let mut w = etl_world();
    let eni = ETL_ENI;
    w.record(Rec::egress(
        eni,
        "10:20",
        "10.0.1.180",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::ingress(
        eni,
        "10:20",
        INTERNET,
        "10.0.1.180",
        443,
        40000,
    ));
    let rows = w.query_format(&FORMAT.replace(" flow-direction", ""));
    let dirs: Vec<(&str, bool)> = rows
        .iter()
        .map(|r| (text(&r["direction"]), r["leaves_vpc"] == true))
        .collect();
    assert_eq!(dirs, [("egress", true), ("ingress", true)], "{rows:#?}");
}

/// 44. Addresses no router forwards stay in the VPC whatever the subnet's routes say:
///     EC2's instance metadata, DNS and time services (169.254.169.254, .253, .123), ECS
///     task metadata (169.254.170.2), limited broadcast and link-local multicast (mDNS).
///     Before, they were high `leaves-vpc` findings, as a private range "routed to" the
///     NAT gateway or as the internet.
#[test]
fn link_local_and_local_broadcast_addresses_never_leave_the_vpc() {
    let mut w = etl_world();
    let eni = ETL_ENI;
    subnet_a_routes(&w);
    let locals = [
        ("169.254.169.254", 80),
        ("169.254.169.253", 53),
        ("169.254.169.123", 123),
        ("169.254.170.2", 80),
        ("255.255.255.255", 67),
        ("224.0.0.251", 5353),
    ];
    for (i, (dst, port)) in locals.iter().enumerate() {
        w.record(Rec::egress(
            eni,
            "10:20",
            "10.0.1.30",
            dst,
            40000 + i as u16,
            *port,
        ));
    }
    let rows = w.query();
    for (dst, _) in locals {
        let r = rows
            .iter()
            .find(|r| r["dstaddr"] == dst)
            .unwrap_or_else(|| panic!("{dst}: {rows:#?}"));
        assert_eq!(r["remote_kind"], "same_vpc", "{r:#?}");
        assert_eq!(r["leaves_vpc"], false, "{r:#?}");
    }
    let (_, findings, _) = w.scan();
    assert!(
        findings_of(&findings, "leaves-vpc").is_empty(),
        "{findings:#?}"
    );
}

/// 48. Multicast beyond the link (SSDP's 239.255.255.250, what service discovery sends
///     unasked, and other groups): no internet or NAT gateway forwards it, and a VPC
///     carries it only in a transit gateway multicast domain, so it is no traffic leaving
///     for the internet. Before, it was "internet" and a high `leaves-vpc` finding.
#[test]
fn multicast_is_not_internet_traffic() {
    let mut w = etl_world();
    subnet_a_routes(&w);
    for (i, dst) in ["239.255.255.250", "233.252.0.1"].iter().enumerate() {
        let mut r = Rec::egress(ETL_ENI, "10:20", "10.0.1.30", dst, 40000 + i as u16, 1900);
        r.protocol = 17;
        w.record(r);
    }
    let rows = w.sql(
        &w.write_logs(FORMAT),
        "SELECT remote_kind, leaves_vpc, remote_evidence FROM flows",
    );
    assert_eq!(rows.len(), 2, "{rows:#?}");
    for r in &rows {
        assert_eq!(r["remote_kind"], "same_vpc", "{r:#?}");
        assert_eq!(r["leaves_vpc"], false, "{r:#?}");
        assert!(
            text(&r["remote_evidence"])
                .starts_with("multicast 224.0.0.0/4, forwarded by no internet or NAT gateway"),
            "{r:#?}"
        );
    }
    let (_, findings, _) = w.scan();
    assert!(
        findings_of(&findings, "leaves-vpc").is_empty(),
        "{findings:#?}"
    );
}

/// 49. An S3 address the VPC's gateway endpoint did not carry says why, so a bypass can
///     be mended: the record's traffic-path 8 (an internet gateway), a subnet whose route
///     table has no route to the endpoint, a bucket in another region (a gateway endpoint
///     reaches only its own region's S3). Before, the evidence was the ip-ranges prefix
///     alone.
#[test]
fn an_s3_address_the_gateway_endpoint_did_not_carry_says_why() {
    let mut w = etl_world();
    w.doc(
        "describe-vpc-endpoints.json",
        json!({"VpcEndpoints": [s3_gateway("vpce-0s3aaaaaaaaaaaaa1", "rtb-0a00000000000000a")]}),
    );
    subnet_a_routes(&w);
    let s3 = "52.217.44.196";
    let oregon = "16.12.96.10";
    w.record(Rec::egress(ETL_ENI, "10:20", "10.0.1.30", s3, 40000, 443).path("8"));
    w.record(Rec::egress(
        ETL_ENI,
        "10:21",
        "10.0.1.30",
        oregon,
        40001,
        443,
    ));
    w.record(Rec::egress(ETL_ENI, "10:22", "10.0.1.30", s3, 40002, 443));
    let sql = "SELECT remote_kind, remote_evidence FROM flows ORDER BY start";
    let evidence = |w: &World| -> Vec<(String, String)> {
        w.sql(&w.write_logs(FORMAT), sql)
            .iter()
            .map(|r| {
                (
                    text(&r["remote_kind"]).to_string(),
                    text(&r["remote_evidence"]).to_string(),
                )
            })
            .collect()
    };
    let gw = "not through the VPC's s3 gateway endpoint";
    assert_eq!(
        evidence(&w),
        [
            (
                "aws_service".to_string(),
                format!(
                    "ip-ranges.json 52.216.0.0/15 S3; {gw}: traffic-path 8 (through an internet gateway)"
                )
            ),
            (
                "aws_service".to_string(),
                format!(
                    "ip-ranges.json 16.12.96.0/21 S3; {gw}: the address is in us-west-2, and the endpoint reaches us-east-1 only"
                )
            ),
            (
                "gateway_endpoint".to_string(),
                "ip-ranges.json 52.216.0.0/15 S3".to_string()
            ),
        ]
    );
    // The endpoint associated with another table only, subnet A's without the route.
    w.doc(
        "describe-vpc-endpoints.json",
        json!({"VpcEndpoints": [s3_gateway("vpce-0s3aaaaaaaaaaaaa1", "rtb-0b00000000000000b")]}),
    );
    let mut table = route_table(
        "rtb-0a00000000000000a",
        SUBNET_A,
        "vpce-0s3aaaaaaaaaaaaa1",
        false,
    );
    table["Routes"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r.get("DestinationPrefixListId").is_none());
    w.doc(
        "describe-route-tables.json",
        json!({"RouteTables": [table]}),
    );
    let rows = evidence(&w);
    assert_eq!(
        rows[2],
        (
            "aws_service".to_string(),
            format!(
                "ip-ranges.json 52.216.0.0/15 S3; {gw}: route table rtb-0a00000000000000a of the subnet routes no prefix list to it"
            )
        ),
        "{rows:#?}"
    );
}

/// 50. A gateway endpoint carries nothing from before its creation: S3 traffic of a log
///     without traffic-path (the default format) before the endpoint existed took the
///     subnet's other routes, whatever the inventory's route table, taken after, says.
///     Before, a fresh inventory after a remediation hid the bypasses before it.
#[test]
fn a_gateway_endpoint_carries_nothing_from_before_its_creation() {
    let mut w = etl_world();
    let mut gateway = s3_gateway("vpce-0s3aaaaaaaaaaaaa1", "rtb-0a00000000000000a");
    gateway["CreationTimestamp"] = json!(sm_time("10:30"));
    w.doc(
        "describe-vpc-endpoints.json",
        json!({"VpcEndpoints": [gateway]}),
    );
    subnet_a_routes(&w);
    let s3 = "52.217.44.196";
    w.record(Rec::egress(ETL_ENI, "10:20", "10.0.1.30", s3, 40000, 443));
    w.record(Rec::egress(ETL_ENI, "10:40", "10.0.1.30", s3, 40001, 443));
    let rows = w.sql(
        &w.write_logs(FORMAT),
        "SELECT remote_kind, leaves_vpc, endpoint_bypass, remote_evidence FROM flows ORDER BY start",
    );
    assert_eq!(rows[0]["remote_kind"], "aws_service", "{rows:#?}");
    assert_eq!(rows[0]["endpoint_bypass"], true, "{rows:#?}");
    assert_eq!(
        rows[0]["remote_evidence"],
        "ip-ranges.json 52.216.0.0/15 S3; not through the VPC's s3 gateway endpoint: it was created at 2026-11-25T10:30:00Z, after the record"
    );
    assert_eq!(rows[1]["remote_kind"], "gateway_endpoint", "{rows:#?}");
    let (_, findings, _) = w.scan();
    assert_eq!(
        findings_of(&findings, "endpoint-bypass").len(),
        1,
        "{findings:#?}"
    );

    // A VPC with an older S3 gateway endpoint of another route table: subnet A's is the
    // one that counts.
    let mut older = s3_gateway("vpce-0s3bbbbbbbbbbbbb2", "rtb-0b00000000000000b");
    older["CreationTimestamp"] = json!("2026-10-01T12:00:00+00:00");
    w.doc(
        "describe-vpc-endpoints.json",
        json!({"VpcEndpoints": [gateway, older]}),
    );
    let rows = w.sql(
        &w.write_logs(FORMAT),
        "SELECT remote_kind FROM flows ORDER BY start",
    );
    assert_eq!(rows[0]["remote_kind"], "aws_service", "{rows:#?}");
    assert_eq!(rows[1]["remote_kind"], "gateway_endpoint", "{rows:#?}");
}

/// 51. describe-flow-logs that lists no flow log says nothing logs the VPC (a flow log
///     deleted since the records were delivered): a job that ran in its subnets, whose
///     ENI is gone, is a blind spot, and the summary says why. Without the document
///     nothing can be said of coverage, and the summary says that instead. Before, both
///     read as "everything is logged", and the run was clean.
#[test]
fn an_empty_describe_flow_logs_is_no_coverage() {
    let mut w = etl_world();
    // Another team's job, in its own security group: the listed ENI is not its.
    let mut later = training_job("later", "Completed", "11:00", Some("11:05"), Some("11:40"));
    later["VpcConfig"] = vpc_config(&["sg-0ccccccccccccccc9"], &[SUBNET_B]);
    w.sagemaker("describe-training-job-later", later);
    w.record(Rec::egress(
        ETL_ENI,
        "10:20",
        "10.0.1.30",
        INTERNET,
        40000,
        443,
    ));
    let (_, findings, _) = w.scan();
    assert!(
        findings_of(&findings, "blind-spots").is_empty(),
        "{findings:#?}"
    );

    w.flow_logs(vec![]);
    let (_, findings, stderr) = w.scan();
    let blind = findings_of(&findings, "blind-spots");
    assert_eq!(blind.len(), 1, "{findings:#?}");
    assert_eq!(blind[0]["sagemaker_resource"], "later");
    assert!(
        text(&blind[0]["reason"])
            .starts_with("ran in subnets no flow log of accepted traffic covered"),
        "{blind:#?}"
    );
    assert!(
        stderr.contains("note: describe-flow-logs lists no flow log"),
        "{stderr}"
    );

    std::fs::remove_file(w.inventory().join("describe-flow-logs.json")).unwrap();
    let (_, _, stderr) = w.scan();
    assert!(
        stderr.contains("note: the inventory has no describe-flow-logs output"),
        "{stderr}"
    );
}

/// 52. Two jobs of one VpcConfig (subnets A and B) that ran in turn on one ENI in subnet
///     A, which a flow log covers: the ENI names both as candidates, and shows them, so
///     neither "ran in subnets no flow log covered" (B, which neither used). Before, the
///     check looked only for an ENI naming the job alone, and both were blind spots.
#[test]
fn jobs_an_eni_names_as_candidates_are_shown_by_it() {
    let mut w = etl_world();
    w.flow_logs(vec![flow_log(
        "fl-0b1c2d3e4f5a6b7c8",
        SUBNET_A,
        "ALL",
        FORMAT,
    )]);
    w.sagemaker(
        "describe-training-job-etl2",
        training_job("etl2", "Completed", "11:05", Some("11:10"), Some("11:50")),
    );
    w.record(Rec::egress(
        ETL_ENI,
        "10:20",
        "10.0.1.30",
        INTERNET,
        40000,
        443,
    ));
    let rows = w.sql(
        &w.write_logs(FORMAT),
        "SELECT sagemaker_candidates FROM enis",
    );
    assert_eq!(
        rows[0]["sagemaker_candidates"],
        "training_job:etl,training_job:etl2"
    );
    let (_, findings, _) = w.scan();
    assert!(
        findings_of(&findings, "blind-spots").is_empty(),
        "{findings:#?}"
    );
}

/// 53. A custom format without `action` (AWS takes any subset of fields): no rule can
///     tell traffic that passed from traffic that was refused, so the scan fails, saying
///     what to add. Before, it printed "No findings" and exited 0.
#[test]
fn records_without_an_action_cannot_be_found_clean() {
    let mut w = etl_world();
    w.record(Rec::egress(
        ETL_ENI,
        "10:20",
        "10.0.1.30",
        INTERNET,
        40000,
        443,
    ));
    let (code, findings, stderr) = w.scan();
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(findings_of(&findings, "leaves-vpc").len(), 1);
    let logs = w.write_logs(&FORMAT.replace(" action", ""));
    let (code, _, stderr) = w.scan_with(&logs, &["--group-by", "flow"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error: 1 of the 1 records of SageMaker workloads' traffic have no action"),
        "{stderr}"
    );
    assert!(
        stderr.contains("hint: add ${action} to the flow log's format"),
        "{stderr}"
    );
    // An incremental run does not mark them read: read again with the right format, they
    // are found.
    let state = w.dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let (code, _, stderr) = w.scan_with(&logs, &["--group-by", "flow", "--state", state_arg]);
    assert_eq!(code, 2, "{stderr}");
    assert!(!state.exists(), "{stderr}");

    // A format with `action` but without `log-status`: a NODATA record (no addresses,
    // packets or action) is no record of traffic without an action.
    let mut nodata: Vec<String> = w.records[0].split(' ').map(str::to_string).collect();
    for (i, v) in nodata.iter_mut().enumerate() {
        // Everything but version, account, interface, start, end, log-status and the
        // VPC, subnet, region and zone is "-" in a NODATA record.
        if ![0, 1, 2, 10, 11, 14, 15, 21, 22].contains(&i) {
            *v = "-".into();
        }
    }
    nodata[13] = "NODATA".into();
    w.records.push(nodata.join(" "));
    let logs = w.write_logs(&FORMAT.replace(" log-status", ""));
    let (code, _, stderr) = w.scan_with(&logs, &["--group-by", "flow"]);
    assert_eq!(code, 1, "{stderr}");
}

/// 54. What the scan cannot vouch for is said: an endpoint whose endpoint config the
///     inventory lacks may run outside your VPCs (serverless inference); and when the
///     objects read are of a flow log of rejected traffic only, the flow log that records
///     the accepted traffic, not read, is named with its destination. Before, both runs
///     were clean without a word (the second with a note suggesting the other flow log
///     took care of it).
#[test]
fn what_the_scan_cannot_vouch_for_is_said() {
    let mut w = etl_world();
    w.sagemaker(
        "describe-endpoint-e",
        endpoint("e", "c-missing", "09:10", "09:18"),
    );
    let mut all = flow_log("fl-0c1c2d3e4f5a6b7c8", VPC, "ALL", FORMAT);
    all["LogDestinationType"] = json!("cloud-watch-logs");
    all["LogGroupName"] = json!("/vpc/flow-logs");
    all["LogDestination"] = json!(format!(
        "arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/vpc/flow-logs"
    ));
    w.flow_logs(vec![
        flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "REJECT", FORMAT),
        all,
    ]);
    let mut refused = Rec::egress(ETL_ENI, "10:20", "10.0.1.30", INTERNET, 40000, 443);
    refused.action = "REJECT";
    w.record(refused);
    let (_, _, stderr) = w.scan();
    assert!(
        stderr.contains("note: where 1 workloads run is unknown") && stderr.contains(
            "    e: its endpoint config c-missing is not in the inventory (aws sagemaker describe-endpoint-config)"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "note: the accepted traffic of 1 SageMaker ENIs is recorded only by flow log fl-0c1c2d3e4f5a6b7c8 (to CloudWatch Logs group /vpc/flow-logs: cwlogs:///vpc/flow-logs), whose objects were not among those read"
        ),
        "{stderr}"
    );
}

/// 55. A flow log created while a job ran covers only the rest of its run: the job is a
///     blind spot for its subnets before then, its listed ENI notwithstanding (that ENI's
///     records cannot show what went before the flow log). Before, any flow log created
///     before the job's end counted as covering all of it, and an ENI naming the job
///     exempted it.
#[test]
fn a_flow_log_created_while_a_job_ran_covers_only_the_rest_of_it() {
    let mut w = etl_world();
    let mut late = flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "ALL", FORMAT);
    late["CreationTime"] = json!(sm_time("10:30"));
    w.flow_logs(vec![late]);
    w.record(Rec::egress(
        ETL_ENI,
        "10:40",
        "10.0.1.30",
        INTERNET,
        40000,
        443,
    ));
    let (_, findings, _) = w.scan();
    let blind = findings_of(&findings, "blind-spots");
    assert_eq!(blind.len(), 1, "{findings:#?}");
    assert_eq!(blind[0]["sagemaker_resource"], "etl");
    assert_eq!(
        blind[0]["reason"],
        "ran in subnets no flow log of accepted traffic covered (subnet-0aa11bb22cc33dd41 until 2026-11-25T10:30:00Z, subnet-0aa11bb22cc33dd42 until 2026-11-25T10:30:00Z): its traffic there is not logged"
    );
    // A scan of a window after the flow log's creation saw nothing it could not.
    let logs = w.write_logs(FORMAT);
    let (_, findings, _) = w.scan_with(
        &logs,
        &[
            "--group-by",
            "flow",
            "--since",
            "2026-11-25T10:35:00Z",
            // The object is named for 10:00: none is read, the configuration is.
            "--allow-empty",
        ],
    );
    assert!(
        findings_of(&findings, "blind-spots").is_empty(),
        "{findings:#?}"
    );
}

/// 45. Who opened a connection when no TCP flags say (a connection begun before the scanned
///     data, UDP, v2 logs): a reply from a remote server on a high port (gRPC's 50051,
///     WireGuard's 51820) to the workload's port in the ephemeral range is no internet
///     ingress when no internet host can reach the ENI (a private address behind a NAT
///     gateway, no public IPv4 address). A workload's server port below that range still
///     is, from a client port of any kind (a load balancer that keeps the client's address
///     can bring one to a private ENI). Before, the first two were high findings because
///     the workload's port was the lower.
#[test]
fn replies_from_high_remote_ports_are_no_ingress_to_an_unreachable_eni() {
    let mut w = etl_world();
    let eni = ETL_ENI;
    let no_syn = |r: Rec| r.flags("16");
    let local = "10.0.1.30";
    w.record(no_syn(Rec::egress(
        eni, "10:20", local, INTERNET, 40000, 50051,
    )));
    w.record(no_syn(Rec::ingress(
        eni, "10:20", INTERNET, local, 50051, 40000,
    )));
    let mut udp = Rec::ingress(eni, "10:21", INTERNET, local, 51820, 40001).flags("0");
    udp.protocol = 17;
    w.record(udp);
    w.record(no_syn(Rec::ingress(
        eni, "10:22", INTERNET, local, 51515, 8080,
    )));
    w.record(no_syn(Rec::ingress(
        eni, "10:23", INTERNET, local, 20000, 8888,
    )));
    let (_, findings, _) = w.scan();
    let mut ports: Vec<i64> = findings_of(&findings, "internet-ingress")
        .iter()
        .map(|f| f["dstport"].as_i64().unwrap())
        .collect();
    ports.sort_unstable();
    assert_eq!(ports, [8080, 8888], "{findings:#?}");
}

/// 46. A private address outside the VPC is explained by the record's own traffic-path
///     where it has one (3–6: a VPN gateway, a peering, a local gateway), not by the
///     subnet's default route. Before, a VPN destination read "routed to nat-…".
#[test]
fn a_private_remotes_evidence_is_the_records_traffic_path() {
    let mut w = etl_world();
    let eni = ETL_ENI;
    subnet_a_routes(&w);
    w.record(Rec::egress(eni, "10:20", "10.0.1.30", "192.168.1.1", 40000, 443).path("3"));
    w.record(Rec::egress(
        eni,
        "10:21",
        "10.0.1.30",
        "192.168.1.2",
        40001,
        443,
    ));
    let logs = w.write_logs(FORMAT);
    let rows = w.sql(
        &logs,
        "SELECT dstaddr, remote_kind, remote_evidence FROM flows ORDER BY start",
    );
    assert_eq!(rows[0]["remote_kind"], "private_other");
    assert_eq!(
        rows[0]["remote_evidence"],
        "private range 192.168.0.0/16, traffic-path 3 (a virtual private gateway)"
    );
    assert_eq!(
        rows[1]["remote_evidence"],
        "private range 192.168.0.0/16, routed to nat-0a1b2c3d4e5f60718 by rtb-0a00000000000000a"
    );
}

/// 47. A gateway endpoint serves only the subnets whose route table routes to it: without
///     describe-route-tables its use is assumed, and the inventory says so. Before, the
///     assumption was silent, and a subnet without the route hid its S3 bypass.
#[test]
fn a_gateway_endpoint_without_route_tables_is_an_assumption_said_aloud() {
    let w = etl_world();
    w.doc(
        "describe-vpc-endpoints.json",
        json!({"VpcEndpoints": [s3_gateway("vpce-0s3aaaaaaaaaaaaa1", "rtb-0a00000000000000a")]}),
    );
    let shown = w.show();
    assert!(
        shown.contains("gateway endpoint(s) vpce-0s3aaaaaaaaaaaaa1 but no describe-route-tables"),
        "{shown}"
    );
    subnet_a_routes(&w);
    assert!(!w.show().contains("no describe-route-tables"));
}

const PUBLIC: &str = "subnet-0aa11bb22cc33dd4f";
const NAT_ENI: &str = "eni-0f0000000000000a2";

/// `NAT_ENI`, the NAT gateway's ENI at 10.0.0.50 in the public subnet.
fn nat_eni() -> Value {
    eni_json(
        NAT_ENI,
        "10.0.0.50",
        PUBLIC,
        &[],
        "nat_gateway",
        "Interface for NAT Gateway nat-0a1b2c3d4e5f60718",
        true,
        Some("08:00"),
    )
}

/// 25. A flow log records nothing from before its CreationTime: a job's subnet logged only
///     since after the job ran leaves its NAT gateway legs as the only evidence, and they
///     are flagged. A flow log whose delivery FAILED is told in the summary: its records,
///     and so the findings on them, may be missing; the ENIs it alone logs are log-gaps
///     findings. Before, either read as covered, and the job's internet traffic through
///     the gateway was no finding.
#[test]
fn flow_logs_cover_from_their_creation_and_a_failed_delivery_is_told() {
    let mut w = world();
    let (n, public) = (NAT_ENI, PUBLIC);
    w.etl_job_with("eni-0f0000000000000a1", vec![nat_eni()]);
    let mut late = flow_log("fl-0b1c2d3e4f5a6b7c9", SUBNET_A, "ALL", FORMAT);
    late["CreationTime"] = json!(sm_time("12:30"));
    w.flow_logs(vec![
        flow_log("fl-0b1c2d3e4f5a6b7c8", public, "ALL", FORMAT),
        late.clone(),
    ]);
    w.record(
        Rec::ingress(n, "10:20", "10.0.1.30", "10.0.0.50", 48211, 443)
            .pkt("10.0.1.30", "203.0.113.50")
            .flags("3")
            .subnet(public),
    );
    let (_, findings, _) = w.scan();
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 1, "{findings:#?}");
    assert_eq!(leaves[0]["attribution"], "packet_address");
    assert_eq!(leaves[0]["sagemaker_resource"], "etl");

    // Covering since October, but failing to deliver.
    late["CreationTime"] = json!("2026-10-02T14:20:31.118000+00:00");
    late["DeliverLogsStatus"] = json!("FAILED");
    late["DeliverLogsErrorMessage"] = json!("Access error");
    w.flow_logs(vec![
        flow_log("fl-0b1c2d3e4f5a6b7c8", public, "ALL", FORMAT),
        late,
    ]);
    let (code, findings, stderr) = w.scan();
    assert!(
        stderr.contains(
            "note: flow log fl-0b1c2d3e4f5a6b7c9 failed to deliver logs (DeliverLogsStatus FAILED: Access error): records of the 1 SageMaker ENIs it alone logs may be missing"
        ),
        "{stderr}"
    );
    // And a finding, so that the exit code says it (audit K-F4): the job's ENI is logged
    // by that flow log alone.
    assert_eq!(code, 1);
    let failed: Vec<_> = findings_of(&findings, "log-gaps")
        .into_iter()
        .filter(|f| f["log_status"] == "DELIVERY FAILED")
        .collect();
    assert_eq!(failed.len(), 1, "{findings:#?}");
    assert_eq!(failed[0]["interface_id"], "eni-0f0000000000000a1");
    assert_eq!(failed[0]["sagemaker_resource"], "etl");
    // Another flow log of accepted traffic that delivers covers it too: no gap.
    let mut failing = flow_log("fl-0b1c2d3e4f5a6b7c9", SUBNET_A, "ALL", FORMAT);
    failing["DeliverLogsStatus"] = json!("FAILED");
    w.flow_logs(vec![
        flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "ALL", FORMAT),
        failing,
    ]);
    let (_, findings, stderr) = w.scan();
    assert!(
        findings_of(&findings, "log-gaps")
            .iter()
            .all(|f| f["log_status"] != "DELIVERY FAILED"),
        "{findings:#?}"
    );
    assert!(
        stderr.contains("the 1 SageMaker ENIs it covers are logged by other flow logs too"),
        "{stderr}"
    );
}

/// 26. A finished job's ENIs are deleted, so no ENI row shows that the job ran in
///     subnets no flow log covered: the job itself is a blind spot, naming them (a
///     flow log created after it ended does not count). Before, the scan was clean.
#[test]
fn a_finished_jobs_unlogged_subnets_are_a_blind_spot() {
    let mut w = world();
    let (n, public) = (NAT_ENI, PUBLIC);
    w.enis(vec![nat_eni()]);
    w.sagemaker(
        "describe-training-job-etl",
        training_job("etl", "Completed", "09:57", Some("10:00"), Some("11:00")),
    );
    w.record(Rec::egress(n, "10:20", "10.0.0.50", INTERNET, 48211, 443).subnet(public));
    let mut late = flow_log("fl-0b1c2d3e4f5a6b7c9", SUBNET_B, "ALL", FORMAT);
    late["CreationTime"] = json!(sm_time("12:30"));
    w.flow_logs(vec![
        flow_log("fl-0b1c2d3e4f5a6b7c8", public, "ALL", FORMAT),
        flow_log("fl-0b1c2d3e4f5a6b7ca", SUBNET_A, "REJECT", FORMAT),
        late,
    ]);
    let (code, findings, _) = w.scan();
    assert_eq!(code, 1);
    let blind = findings_of(&findings, "blind-spots");
    assert_eq!(blind.len(), 1, "{blind:#?}");
    assert_eq!(blind[0]["sagemaker_resource"], "etl");
    assert_eq!(
        text(&blind[0]["reason"]),
        format!(
            "ran in subnets no flow log of accepted traffic covered ({SUBNET_A}, {SUBNET_B}): its traffic there is not logged"
        )
    );
    // Subnet A logged all along: only B is named.
    w.flow_logs(vec![
        flow_log("fl-0b1c2d3e4f5a6b7c8", public, "ALL", FORMAT),
        flow_log("fl-0b1c2d3e4f5a6b7ca", SUBNET_A, "ALL", FORMAT),
    ]);
    let (_, findings, _) = w.scan();
    let blind = findings_of(&findings, "blind-spots");
    assert_eq!(blind.len(), 1, "{blind:#?}");
    assert!(text(&blind[0]["reason"]).contains(&format!("covered ({SUBNET_B})")));
    // The VPC's flow log covers both.
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "ALL", FORMAT)]);
    let (code, findings, _) = w.scan();
    assert_eq!(code, 0, "{findings:#?}");
}

/// 27. "NO RECORDS" (log-gaps) is for ENIs that could have had records: not a leftover
///     ENI attached to nothing (`Status` `available`), nor one attached after --until.
///     Before, both were reported as gaps in the logs.
#[test]
fn no_records_is_not_expected_of_enis_that_could_not_have_any() {
    let mut w = world();
    let (used, quiet, leftover, later) = (
        "eni-0e9d00000000000a1",
        "eni-0e9d00000000000a2",
        "eni-0e9d00000000000a3",
        "eni-0e9d00000000000a4",
    );
    let mut left = sagemaker_eni(leftover, "10.0.1.52", SUBNET_A, &[SG_JOB], "09:58");
    left.as_object_mut().unwrap().remove("Attachment");
    left["Status"] = json!("available");
    used_among(
        &mut w,
        used,
        vec![
            sagemaker_eni(quiet, "10.0.1.51", SUBNET_A, &[SG_JOB], "09:58"),
            left,
            sagemaker_eni(later, "10.0.1.53", SUBNET_A, &[SG_JOB], "11:30"),
        ],
    );
    let window = ["--since", &ec2_time("10:00"), "--until", &ec2_time("11:00")].map(String::from);
    assert_eq!(log_gaps(&w, &window), [quiet]);
}

/// Job `etl` (running since 10:00) with ENI `used` (10.0.1.50, attached 09:58, one record
/// at 10:20) and `others` in its subnet, under a flow log of the VPC.
fn used_among(w: &mut World, used: &str, others: Vec<Value>) {
    let mut enis = vec![sagemaker_eni(
        used,
        "10.0.1.50",
        SUBNET_A,
        &[SG_JOB],
        "09:58",
    )];
    enis.extend(others);
    w.enis(enis);
    w.sagemaker(
        "describe-training-job-etl",
        training_job("etl", "InProgress", "09:57", Some("10:00"), None),
    );
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "ALL", FORMAT)]);
    w.record(Rec::egress(
        used,
        "10:20",
        "10.0.1.50",
        "10.0.2.9",
        48211,
        443,
    ));
}

/// The ENIs of a scan's log-gaps findings, with `extra` options.
fn log_gaps(w: &World, extra: &[String]) -> Vec<String> {
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let (_, findings, stderr) = w.scan_with(&w.write_logs(FORMAT), &extra);
    let gaps = findings_of(&findings, "log-gaps")
        .iter()
        .map(|f| text(&f["interface_id"]).to_string())
        .collect();
    eprintln!("{extra:?}: {stderr}");
    gaps
}

/// 28. One bucket often holds every region's flow logs. Records of the inventory's own
///     account whose `region` is one where the inventory has no ENI are logs of a region
///     whose inventory was not given, not deleted ENIs: the warning says so, and the
///     unknown-enis report gains `region`. Before, the hint was CloudTrail's.
#[test]
fn other_regions_logs_are_told_apart_from_enis_missing_from_the_inventory() {
    let mut w = world();
    w.etl_job_and_a_deleted_eni();
    for eni in ["eni-0f0000000000000f1", "eni-0f0000000000000f2"] {
        let line = Rec::egress(eni, "10:22", "10.9.1.40", INTERNET, 40002, 443).line();
        w.records
            .push(line.replacen(" us-east-1 use1-az1 ", " eu-west-1 euw1-az1 ", 1));
    }
    let (_, _, stderr) = w.scan();
    assert!(
        stderr.contains("on 3 ENIs that no inventory document names"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "Of them, 2 records on 2 ENIs are of another region, where the inventory has no ENI"
        ),
        "{stderr}"
    );
    let rows = w.report(&w.logs(), "unknown-enis");
    let mut regions: Vec<&str> = rows.iter().map(|r| text(&r["region"])).collect();
    regions.sort();
    assert_eq!(regions, ["eu-west-1", "eu-west-1", "us-east-1"]);
}

/// 29. A notebook instance with direct internet access is a blind spot of a window only
///     if it existed then: one created after --until is not (jobs and endpoints were
///     already windowed). Before, it was a finding of every window.
#[test]
fn a_notebook_created_after_the_window_is_no_blind_spot_of_it() {
    let mut w = world();
    let (old, new) = ("eni-0d0000000000000b1", "eni-0d0000000000000b2");
    w.enis(vec![
        notebook_eni(old, "10.0.1.10", SUBNET_A),
        notebook_eni(new, "10.0.1.11", SUBNET_A),
    ]);
    for (name, eni, created) in [
        (
            "nb-old",
            old,
            "2026-11-01T08:00:00.000000+00:00".to_string(),
        ),
        ("nb-new", new, sm_time("12:00")),
    ] {
        notebook(&w, name, eni, SUBNET_A);
        let file = w
            .inventory()
            .join(format!("sagemaker/describe-notebook-instance-{name}.json"));
        let mut doc: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        doc["DirectInternetAccess"] = json!("Enabled");
        doc["CreationTime"] = json!(created);
        std::fs::write(&file, doc.to_string()).unwrap();
    }
    w.record(Rec::egress(
        old,
        "10:20",
        "10.0.1.10",
        "10.0.2.9",
        48211,
        443,
    ));
    let logs = w.write_logs(FORMAT);
    let blind = |extra: &[&str]| {
        let (_, findings, _) = w.scan_with(&logs, extra);
        let mut v: Vec<String> = findings_of(&findings, "blind-spots")
            .iter()
            .map(|f| text(&f["sagemaker_resource"]).to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        blind(&["--since", &ec2_time("10:00"), "--until", &ec2_time("11:00")]),
        ["nb-old"]
    );
    assert_eq!(blind(&[]), ["nb-new", "nb-old"]);
}

/// 30. An ENI attached before the only job of its VpcConfig was created cannot be that
///     job's (another workload's, one the inventory lacks): its records during the job's
///     run are SageMaker's but not named as the job's, which is listed as the candidate.
///     Before, they were named as the job's.
#[test]
fn an_eni_attached_before_its_job_was_created_is_not_named_as_the_jobs() {
    let mut w = world();
    let eni = "eni-0e0000000000000a1";
    w.enis(vec![sagemaker_eni(
        eni,
        "10.0.1.40",
        SUBNET_A,
        &[SG_JOB],
        "08:00",
    )]);
    w.sagemaker(
        "describe-training-job-etl",
        training_job("etl", "Completed", "09:57", Some("10:00"), Some("11:00")),
    );
    w.record(Rec::egress(eni, "10:30", "10.0.1.40", INTERNET, 40000, 443));
    let rows = w.query();
    assert_eq!(
        who(row(&rows, eni, "10:30")),
        ("training_job", "", "training_job:etl")
    );
    let (code, findings, _) = w.scan();
    assert_eq!(code, 1);
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 1, "{findings:#?}");
    assert_eq!(leaves[0]["sagemaker_resource"], Value::Null);
    assert!(
        w.show()
            .contains("training_job etl (2026-11-25T10:00:00Z .. 2026-11-25T11:00:00Z), created after the ENI was attached: not its ENI"),
        "{}",
        w.show()
    );
}

/// 31. A training job that reuses a managed warm pool runs on the earlier job's instance
///     and ENI, attached before it was created: the earlier job's
///     `WarmPoolStatus.ReusedByJob` names it, so the ENI is its own too.
#[test]
fn a_job_on_a_warm_pool_owns_the_eni_attached_for_the_job_before() {
    let mut w = world();
    let eni = "eni-0e0000000000000a2";
    w.enis(vec![sagemaker_eni(
        eni,
        "10.0.1.41",
        SUBNET_A,
        &[SG_JOB],
        "08:58",
    )]);
    let mut first = training_job("first", "Completed", "08:57", Some("09:00"), Some("09:40"));
    first["ResourceConfig"]["KeepAlivePeriodInSeconds"] = json!(1800);
    first["WarmPoolStatus"] = json!({"Status": "Reused", "ResourceRetainedBillableTimeInSeconds": 900, "ReusedByJob": "etl"});
    w.sagemaker("describe-training-job-first", first);
    let mut etl = training_job("etl", "Completed", "09:55", Some("10:00"), Some("11:00"));
    etl["ResourceConfig"]["KeepAlivePeriodInSeconds"] = json!(1800);
    etl["WarmPoolStatus"] = json!({"Status": "Available"});
    w.sagemaker("describe-training-job-etl", etl);
    for hm in ["09:20", "10:30"] {
        w.record(Rec::egress(eni, hm, "10.0.1.41", INTERNET, 40000, 443));
    }
    let rows = w.query();
    assert_eq!(who(row(&rows, eni, "09:20")), ("training_job", "first", ""));
    assert_eq!(who(row(&rows, eni, "10:30")), ("training_job", "etl", ""));
}

/// `aws sagemaker describe-processing-job` of a job run without `NetworkConfig.VpcConfig`.
fn processing_job_without_vpc(name: &str, created: &str, start: &str, end: &str) -> Value {
    json!({
        "ProcessingInputs": [],
        "ProcessingOutputConfig": {"Outputs": []},
        "ProcessingJobName": name,
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}},
        "StoppingCondition": {"MaxRuntimeInSeconds": 86400},
        "AppSpecification": {"ImageUri": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"},
        "NetworkConfig": {"EnableInterContainerTrafficEncryption": false, "EnableNetworkIsolation": false},
        "RoleArn": ROLE,
        "ProcessingJobArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:processing-job/{name}"),
        "ProcessingJobStatus": "Completed",
        "ProcessingEndTime": sm_time(end),
        "ProcessingStartTime": sm_time(start),
        "LastModifiedTime": sm_time(end),
        "CreationTime": sm_time(created)
    })
}

/// 15. Workloads that run in a VPC SageMaker manages make no record in your flow logs, so
///     no traffic rule can flag them: a training job without VpcConfig, a processing job
///     without NetworkConfig.VpcConfig, a batch transform of a model without one and a
///     serverless endpoint are `blind-spots` findings, from their configuration, when they
///     ran in the scan's window. Workloads in the VPC are not, nor is one whose model the
///     inventory lacks (where it ran is unknown, and said so in `sagemaker_resources`).
#[test]
fn workloads_outside_the_vpc_are_blind_spots_not_a_clean_scan() {
    let mut w = world();
    let eni = "eni-0e9d0000000000f01";
    w.enis(vec![sagemaker_eni(
        eni,
        "10.0.1.60",
        SUBNET_A,
        &[SG_JOB],
        "08:01",
    )]);
    w.sagemaker(
        "describe-training-job-in-vpc",
        training_job("in-vpc", "Completed", "08:00", Some("08:01"), Some("09:00")),
    );
    let mut open = training_job("open", "Completed", "10:00", Some("10:02"), Some("11:00"));
    open.as_object_mut().unwrap().remove("VpcConfig");
    w.sagemaker("describe-training-job-open", open);
    // The same, weeks before the scanned logs.
    let mut old = training_job(
        "old-open",
        "Completed",
        "10:00",
        Some("10:02"),
        Some("11:00"),
    );
    old.as_object_mut().unwrap().remove("VpcConfig");
    for k in [
        "CreationTime",
        "TrainingStartTime",
        "TrainingEndTime",
        "LastModifiedTime",
    ] {
        let t = old[k].as_str().unwrap().replace("2026-11-25", "2026-11-01");
        old[k] = json!(t);
    }
    w.sagemaker("describe-training-job-old-open", old);
    w.sagemaker(
        "describe-processing-job-prep",
        processing_job_without_vpc("prep", "10:00", "10:03", "10:30"),
    );
    w.sagemaker("describe-model-m-open", model("m-open", None));
    w.sagemaker(
        "describe-transform-job-bt-open",
        transform_job("bt-open", "m-open", "12:00", "12:03", "12:30"),
    );
    // Its model was not collected: unknown, not a finding.
    w.sagemaker(
        "describe-transform-job-bt-unknown",
        transform_job("bt-unknown", "m-not-collected", "12:00", "12:03", "12:30"),
    );
    let mut serverless = endpoint_config("c-serverless", "m-open");
    serverless["ProductionVariants"][0] = json!({
        "VariantName": "AllTraffic",
        "ModelName": "m-open",
        "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}
    });
    w.sagemaker("describe-endpoint-config-c-serverless", serverless);
    w.sagemaker(
        "describe-endpoint-ep-serverless",
        endpoint("ep-serverless", "c-serverless", "09:10", "09:14"),
    );
    w.record(Rec::egress(
        eni,
        "08:30",
        "10.0.1.60",
        "10.0.1.61",
        40000,
        443,
    ));
    let mut earlier = Rec::egress(eni, "08:40", "10.0.1.60", "10.0.1.61", 40001, 443);
    earlier.start -= 24 * 86_400;
    w.record(earlier);

    let logs = w.write_logs(FORMAT);
    let blind = |logs: &Path, extra: &[&str]| -> Vec<(String, String, String, String)> {
        let (code, findings, stderr) = w.scan_with(logs, extra);
        assert_eq!(code, 1, "{stderr}");
        let mut rows: Vec<_> = findings_of(&findings, "blind-spots")
            .into_iter()
            .map(|f| {
                assert!(f["interface_id"].is_null(), "{f:#?}");
                (
                    text(&f["sagemaker_resource_type"]).to_string(),
                    text(&f["sagemaker_resource"]).to_string(),
                    text(&f["reason"]).to_string(),
                    text(&f["attribution_document"]).to_string(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let doc = |name: &str| {
        w.inventory()
            .join(format!("sagemaker/{name}.json"))
            .display()
            .to_string()
    };
    let all = blind(&logs, &[]);
    let names: Vec<(&str, &str)> = all
        .iter()
        .map(|(t, n, _, _)| (t.as_str(), n.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("endpoint", "ep-serverless"),
            ("processing_job", "prep"),
            ("training_job", "old-open"),
            ("training_job", "open"),
            ("transform_job", "bt-open"),
        ],
        "{all:#?}"
    );
    let of = |n: &str| all.iter().find(|r| r.1 == n).unwrap();
    assert!(
        of("open")
            .2
            .starts_with("no VpcConfig: the training job ran in a SageMaker-managed VPC")
    );
    assert_eq!(of("open").3, doc("describe-training-job-open"));
    assert!(of("prep").2.starts_with("no NetworkConfig.VpcConfig"));
    assert!(
        of("bt-open")
            .2
            .contains("its model m-open has no VpcConfig")
    );
    assert_eq!(of("bt-open").3, doc("describe-model-m-open"));
    assert!(of("ep-serverless").2.starts_with("serverless inference"));
    assert_eq!(
        of("ep-serverless").3,
        doc("describe-endpoint-config-c-serverless")
    );
    // Where the inventory cannot tell, the table says so, and no finding claims either.
    let rows = w.sql(
        &logs,
        "SELECT resource, outside_vpc, reason FROM sagemaker_resources \
         WHERE resource IN ('bt-unknown', 'in-vpc') ORDER BY resource",
    );
    assert_eq!(rows[0]["resource"], "bt-unknown");
    assert!(rows[0]["outside_vpc"].is_null(), "{rows:#?}");
    assert!(text(&rows[0]["reason"]).contains("m-not-collected is not in the inventory"));
    assert_eq!(rows[1]["resource"], "in-vpc");
    assert_eq!(rows[1]["outside_vpc"], false);
    // `inventory show` marks them too.
    let shown = w.show();
    let line = |start: &str| {
        shown
            .lines()
            .find(|l| l.trim_start().starts_with(start))
            .unwrap_or_else(|| panic!("no {start} in {shown}"))
            .to_string()
    };
    assert!(
        line("training open ").ends_with("outside your VPCs (SageMaker-managed)"),
        "{shown}"
    );
    assert!(!line("training in-vpc ").contains("outside"), "{shown}");
    assert!(line("c-serverless ").ends_with("serverless"), "{shown}");
    assert!(
        line("ep-serverless ").ends_with("outside your VPCs (SageMaker-managed)"),
        "{shown}"
    );

    // Within --since/--until, only the workloads that ran then.
    let day = blind(&logs, &["--since", "2026-11-25"]);
    assert_eq!(day.len(), 4, "{day:#?}");
    assert!(day.iter().all(|r| r.1 != "old-open"));
    // The serverless endpoint was created at 09:10, the other workloads later. (The
    // object is named for 09:00, or a run that ends at 09:05 would not read it.)
    let early = w.dir.path().join("logs-0900");
    std::fs::create_dir_all(&early).unwrap();
    let name = logs
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .replace("T1000Z", "T0900Z");
    std::fs::copy(&logs, early.join(name)).unwrap();
    let before = blind(&early, &["--until", "2026-11-25T09:05:00Z"]);
    let names: Vec<&str> = before.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(names, ["old-open"], "{before:#?}");
}

/// 16. A dual-stack subnet (HyperPod nodes and any workload on an IPv6 subnet): the ENI's
///     IPv6 address is its own, the VPC's IPv6 CIDR is inside it, and an IPv6 internet
///     destination leaves the VPC like an IPv4 one.
#[test]
fn ipv6_traffic_is_attributed_and_classified_like_ipv4() {
    let mut w = World::new();
    let cidr6 = "2600:1f18:4a3:6e00::/56";
    w.doc(
        "describe-vpcs.json",
        json!({ "Vpcs": [{
            "OwnerId": ACCOUNT,
            "InstanceTenancy": "default",
            "Ipv6CidrBlockAssociationSet": [{
                "AssociationId": "vpc-cidr-assoc-0f6a1b2c3d4e5f607",
                "Ipv6CidrBlock": cidr6,
                "Ipv6CidrBlockState": {"State": "associated"},
                "NetworkBorderGroup": "us-east-1",
                "Ipv6Pool": "Amazon"
            }],
            "CidrBlockAssociationSet": [{
                "AssociationId": "vpc-cidr-assoc-0a1b2c3d4e5f60718",
                "CidrBlock": "10.0.0.0/16",
                "CidrBlockState": {"State": "associated"}
            }],
            "IsDefault": false,
            "Tags": [],
            "VpcId": VPC,
            "State": "available",
            "CidrBlock": "10.0.0.0/16",
            "DhcpOptionsId": "dopt-0a1b2c3d4e5f60718"
        }]}),
    );
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "ALL", FORMAT)]);
    let eni = "eni-0e9d000000000a601";
    let own6 = "2600:1f18:4a3:6e01:8c1d:2f3a:91b4:7e20";
    let peer6 = "2600:1f18:4a3:6e02::15";
    let internet6 = "2a00:1450:4001:81c::200e";
    let mut doc = sagemaker_eni(eni, "10.0.1.90", SUBNET_A, &[SG_JOB], "08:01");
    doc["Ipv6Addresses"] = json!([{"Ipv6Address": own6, "IsPrimaryIpv6": false}]);
    w.enis(vec![doc]);
    w.sagemaker(
        "describe-training-job-dual",
        training_job("dual", "Completed", "08:00", Some("08:01"), Some("09:00")),
    );
    let v6 = |r: Rec| r.line().replace(" IPv4 ", " IPv6 ");
    // Without flow-direction the ENI's own address says which way it went.
    w.records
        .push(v6(Rec::egress(eni, "08:30", own6, internet6, 40000, 443)));
    w.records
        .push(v6(Rec::ingress(eni, "08:30", internet6, own6, 443, 40000)));
    w.records
        .push(v6(Rec::egress(eni, "08:31", own6, peer6, 40001, 443)));
    let rows = w.query();
    let at_0830: Vec<&Value> = rows.iter().filter(|r| r["start"] == at("08:30")).collect();
    assert_eq!(at_0830.len(), 2, "{rows:#?}");
    for r in at_0830 {
        assert_eq!(who(r), ("training_job", "dual", ""));
        assert_eq!(r["remote_kind"], "internet", "{r:#?}");
        assert_eq!(r["leaves_vpc"], true, "{r:#?}");
    }
    let inside = row(&rows, eni, "08:31");
    assert_eq!(inside["remote_kind"], "same_vpc", "{inside:#?}");
    assert_eq!(inside["leaves_vpc"], false);

    let (code, findings, _) = w.scan();
    assert_eq!(code, 1);
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 2, "{leaves:#?}");
    assert!(leaves.iter().all(|f| f["remote_addr"] == internet6));

    // The same without `flow-direction`: the ENI's IPv6 address is its side.
    let rows = w.query_format(&FORMAT.replace(" flow-direction", ""));
    let dirs: Vec<&str> = rows
        .iter()
        .filter(|r| r["start"] == at("08:30"))
        .map(|r| text(&r["direction"]))
        .collect();
    assert_eq!(dirs, ["egress", "ingress"], "{rows:#?}");
}

/// 32. IPv6 and the places an address can be. A gateway endpoint of `IpAddressType`
///     `ipv4` carries no IPv6 packet: IPv6 S3 traffic takes the egress-only internet
///     gateway and bypasses it (a dual-stack one carries it). A NAT64 address
///     (`64:ff9b::/96`) is the IPv4 address in it, reached through the NAT gateway. A peered
///     VPC of the inventory is no internet host, though its IPv6 block is in ip-ranges' EC2
///     space and its IPv4 CIDR need not be RFC 1918. CloudFront's edges serve customers'
///     content and have no VPC endpoint: the internet, not an endpoint bypass. A CIDR the
///     VPC had (disassociated) is said to be one. Before, the first two were clean, the
///     third and fourth cried wolf, and the last was a private range of no explanation.
#[test]
fn ipv6_endpoints_nat64_peered_vpcs_and_cloudfront_are_placed_where_they_are() {
    let mut w = World::new();
    let peer = "vpc-0c1a2b3c4d5e6f799";
    let vpc = |id: &str, v4: &str, v6: &str| {
        json!({
            "OwnerId": ACCOUNT, "InstanceTenancy": "default",
            "Ipv6CidrBlockAssociationSet": [{
                "AssociationId": format!("vpc-cidr-assoc-6{}", &id[5..]),
                "Ipv6CidrBlock": v6, "Ipv6CidrBlockState": {"State": "associated"},
                "NetworkBorderGroup": "us-east-1", "Ipv6Pool": "Amazon"
            }],
            "CidrBlockAssociationSet": [{
                "AssociationId": format!("vpc-cidr-assoc-4{}", &id[5..]),
                "CidrBlock": v4, "CidrBlockState": {"State": "associated"}
            }],
            "IsDefault": false, "Tags": [], "VpcId": id, "State": "available",
            "CidrBlock": v4, "DhcpOptionsId": "dopt-0a1b2c3d4e5f60718"
        })
    };
    let mut ours = vpc(VPC, "10.0.0.0/16", "2600:1f18:4a3:6e00::/56");
    ours["CidrBlockAssociationSet"]
        .as_array_mut()
        .unwrap()
        .push(json!({
            "AssociationId": "vpc-cidr-assoc-0c1a2b3c4d5e6f7d1",
            "CidrBlock": "10.41.0.0/16", "CidrBlockState": {"State": "disassociated"}
        }));
    w.doc(
        "describe-vpcs.json",
        json!({"Vpcs": [
            ours,
            vpc(peer, "198.19.0.0/16", "2600:1f18:7777:ab00::/56"),
            // A VPC no route joins: reached over the internet.
            vpc("vpc-0c1a2b3c4d5e6f7ff", "10.99.0.0/16", "2600:1f18:9999:cd00::/56"),
        ]}),
    );
    let gateway = |w: &World, ip_type: &str| {
        let mut g = s3_gateway("vpce-0c1a2b3c4d5e6f7a1", "rtb-0c1a2b3c4d5e6f7a1");
        g["IpAddressType"] = json!(ip_type);
        w.doc("describe-vpc-endpoints.json", json!({"VpcEndpoints": [g]}));
    };
    gateway(&w, "ipv4");
    let mut table = route_table(
        "rtb-0c1a2b3c4d5e6f7a1",
        SUBNET_A,
        "vpce-0c1a2b3c4d5e6f7a1",
        true,
    );
    let routes = table["Routes"].as_array_mut().unwrap();
    for (key, cidr) in [
        ("DestinationCidrBlock", "198.19.0.0/16"),
        ("DestinationIpv6CidrBlock", "2600:1f18:7777:ab00::/56"),
    ] {
        routes.push(json!({
            key: cidr, "VpcPeeringConnectionId": "pcx-0c1a2b3c4d5e6f7a1",
            "Origin": "CreateRoute", "State": "active"
        }));
    }
    routes.push(json!({
        "DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": "eigw-0c1a2b3c4d5e6f7a1",
        "Origin": "CreateRoute", "State": "active"
    }));
    w.doc(
        "describe-route-tables.json",
        json!({"RouteTables": [table]}),
    );
    s3_prefix_list(&w);
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "ALL", FORMAT)]);
    let eni = "eni-0e9d000000000a632";
    let own6 = "2600:1f18:4a3:6e01::32";
    let mut doc = sagemaker_eni(eni, "10.0.1.32", SUBNET_A, &[SG_JOB], "08:01");
    doc["Ipv6Addresses"] = json!([{"Ipv6Address": own6, "IsPrimaryIpv6": false}]);
    w.enis(vec![doc]);
    w.sagemaker(
        "describe-training-job-dual",
        training_job("dual", "Completed", "08:00", Some("08:01"), Some("09:00")),
    );
    let v6 = |r: Rec| r.line().replace(" IPv4 ", " IPv6 ");
    // S3 over IPv6 (ip-ranges: 2600:1fa0:8000::/39, S3, us-east-1).
    let s3_v6 = "2600:1fa0:80c0::1";
    w.records
        .push(v6(Rec::egress(eni, "08:10", own6, s3_v6, 40001, 443)));
    // NAT64 of 52.217.44.196 (S3).
    w.records.push(v6(Rec::egress(
        eni,
        "08:11",
        own6,
        "64:ff9b::34d9:2cc4",
        40002,
        443,
    )));
    // Hosts of the peered VPC open connections to the job (SYN).
    w.records.push(v6(Rec::ingress(
        eni,
        "08:12",
        "2600:1f18:7777:ab00::10",
        own6,
        40003,
        8080,
    )
    .flags("2")));
    w.record(Rec::ingress(eni, "08:13", "198.19.4.4", "10.0.1.32", 40004, 8080).flags("2"));
    // CloudFront fetching from an origin on the job (130.176.0.0/18,
    // CLOUDFRONT_ORIGIN_FACING): a connection from the internet.
    w.record(Rec::ingress(eni, "08:17", "130.176.0.5", "10.0.1.32", 40008, 8080).flags("2"));
    // A host of a VPC no route joins opens one over the internet.
    let far = "2600:1f18:9999:cd00::5";
    w.records.push(v6(
        Rec::ingress(eni, "08:16", far, own6, 40007, 8080).flags("2")
    ));
    // A CloudFront edge (13.224.0.0/14, CLOUDFRONT).
    w.record(Rec::egress(
        eni,
        "08:14",
        "10.0.1.32",
        "13.224.0.1",
        40005,
        443,
    ));
    // A CIDR the VPC no longer has.
    w.record(Rec::egress(
        eni,
        "08:15",
        "10.0.1.32",
        "10.41.0.9",
        40006,
        443,
    ));
    let rows = w.query();
    let place = |hm: &str| {
        let r = row(&rows, eni, hm);
        (
            text(&r["remote_kind"]).to_string(),
            text(&r["remote_service"]).to_string(),
            text(&r["remote_vpc"]).to_string(),
            r["endpoint_bypass"].as_bool().unwrap(),
        )
    };
    let p = |kind: &str, svc: &str, vpc: &str, bypass: bool| {
        (kind.to_string(), svc.to_string(), vpc.to_string(), bypass)
    };
    assert_eq!(place("08:10"), p("aws_service", "S3", "", true));
    assert_eq!(place("08:11"), p("aws_service", "S3", "", true));
    assert_eq!(place("08:12"), p("private_other", "", peer, false));
    assert_eq!(place("08:13"), p("private_other", "", peer, false));
    assert_eq!(place("08:14"), p("internet", "CLOUDFRONT", "", false));
    assert_eq!(place("08:15"), p("private_other", "", VPC, false));
    assert_eq!(place("08:16"), p("internet", "", "", false));
    assert_eq!(
        place("08:17"),
        p("internet", "CLOUDFRONT_ORIGIN_FACING", "", false)
    );
    let (code, findings, _) = w.scan();
    assert_eq!(code, 1);
    let ingress: Vec<&str> = findings_of(&findings, "internet-ingress")
        .iter()
        .map(|f| text(&f["remote_addr"]))
        .collect();
    assert_eq!(ingress, ["130.176.0.5", far], "{findings:#?}");
    let bypass: Vec<u64> = findings_of(&findings, "endpoint-bypass")
        .iter()
        .map(|f| f["srcport"].as_u64().unwrap())
        .collect();
    assert_eq!(bypass, [40001, 40002], "{findings:#?}");
    let evidence = |port: u64| {
        findings_of(&findings, "leaves-vpc")
            .iter()
            .find(|f| f["srcport"] == port)
            .map(|f| text(&f["remote_evidence"]).to_string())
            .unwrap_or_else(|| panic!("no leaves-vpc finding of port {port}: {findings:#?}"))
    };
    assert_eq!(
        evidence(40002),
        "NAT64 64:ff9b::/96 of 52.217.44.196: ip-ranges.json 52.216.0.0/15 S3"
    );
    assert_eq!(
        evidence(40004),
        "another VPC of the inventory: 198.19.0.0/16"
    );
    assert_eq!(
        evidence(40006),
        "a CIDR the VPC has had, disassociated since: 10.41.0.0/16 (inside the VPC if the record is older)"
    );
    assert!(
        w.show().contains(&format!(
            "{VPC}  10.0.0.0/16, 2600:1f18:4a3:6e00::/56  (disassociated: 10.41.0.0/16)"
        )),
        "{}",
        w.show()
    );

    // A dual-stack gateway endpoint carries IPv6 S3 traffic.
    gateway(&w, "dualstack");
    let rows = w.query();
    assert_eq!(
        text(&row(&rows, eni, "08:10")["remote_kind"]),
        "gateway_endpoint"
    );
}

/// `aws sagemaker describe-cluster` of a Slurm HyperPod cluster with a controller and a
/// worker group (`groups`: their names); `vpc` `None` leaves the cluster's `VpcConfig` out
/// (the nodes then run in SageMaker's platform VPC).
fn hyperpod_cluster(
    name: &str,
    id: &str,
    vpc: Option<Value>,
    workers_subnets: &[&str],
    groups: [&str; 2],
) -> Value {
    let group = |name: &str, count: u32| {
        json!({
            "CurrentCount": count,
            "TargetCount": count,
            "InstanceGroupName": name,
            "InstanceType": "ml.p5.48xlarge",
            "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle-111122223333/hp/", "OnCreate": "on_create.sh"},
            "ExecutionRole": ROLE,
            "ThreadsPerCore": 1,
            "Status": "InService"
        })
    };
    let mut workers = group(groups[1], 2);
    if !workers_subnets.is_empty() {
        workers["OverrideVpcConfig"] = vpc_config(&[SG_HP], workers_subnets);
    }
    let mut v = json!({
        "ClusterArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:cluster/{id}"),
        "ClusterName": name,
        "ClusterStatus": "InService",
        "CreationTime": sm_time("07:00"),
        "InstanceGroups": [group(groups[0], 1), workers],
        "NodeRecovery": "Automatic"
    });
    if let Some(vpc) = vpc {
        v["VpcConfig"] = vpc;
    }
    v
}

const SG_HP: &str = "sg-0a9b8c7d6e5f40311";
/// The account SageMaker runs HyperPod nodes in (not this one).
const SERVICE_ACCOUNT: &str = "740215731415";

/// An ENI of a HyperPod node: attached across accounts to an instance of SageMaker's
/// account that `ec2 describe-instances` of this one does not list.
fn node_eni(id: &str, ip: &str, subnet: &str, instance: &str, owner: &str) -> Value {
    let mut v = eni_json(id, ip, subnet, &[SG_HP], "interface", "", false, None);
    v["Attachment"] = json!({
        "AttachTime": ec2_time("07:05"),
        "AttachmentId": format!("eni-attach-{}", &id[4..]),
        "DeleteOnTermination": true,
        "DeviceIndex": 0,
        "NetworkCardIndex": 0,
        "InstanceId": instance,
        "InstanceOwnerId": owner,
        "Status": "attached"
    });
    v
}

/// 17. SageMaker HyperPod: a node's ENI is attached to an instance of SageMaker's account
///     (`list-cluster-nodes` names it; the CLI's document does not name the cluster, its
///     instance group does), a replaced node's ENI matches the worker group's
///     OverrideVpcConfig, and an EC2 instance of the account in the same subnet and
///     security group stays `ec2`. Internet egress of the first two is a `leaves-vpc`
///     finding of the cluster; a cluster without VpcConfig is a `blind-spots` finding.
#[test]
fn hyperpod_nodes_are_attributed_to_their_cluster() {
    let mut w = world();
    let node = "eni-0e9d0000000000c71";
    let replaced = "eni-0e9d0000000000c72";
    let own = "eni-0e9d0000000000c73";
    w.enis(vec![
        node_eni(
            node,
            "10.0.1.70",
            SUBNET_A,
            "i-0a1b2c3d4e5f60701",
            SERVICE_ACCOUNT,
        ),
        node_eni(
            replaced,
            "10.0.2.71",
            SUBNET_B,
            "i-0a1b2c3d4e5f60799",
            SERVICE_ACCOUNT,
        ),
        node_eni(own, "10.0.1.72", SUBNET_A, "i-0f0e0d0c0b0a09081", ACCOUNT),
    ]);
    w.sagemaker(
        "describe-cluster-hp-train",
        hyperpod_cluster(
            "hp-train",
            "k2x7b1qz8m4v",
            Some(vpc_config(&[SG_HP], &[SUBNET_A])),
            &[SUBNET_B],
            ["controller", "workers"],
        ),
    );
    w.sagemaker(
        "list-cluster-nodes-hp-train",
        json!({"ClusterNodeSummaries": [
            {"InstanceGroupName": "controller", "InstanceId": "i-0a1b2c3d4e5f60700",
             "InstanceType": "ml.p5.48xlarge", "LaunchTime": sm_time("07:04"),
             "InstanceStatus": {"Status": "Running", "Message": ""}},
            {"InstanceGroupName": "workers", "InstanceId": "i-0a1b2c3d4e5f60701",
             "InstanceType": "ml.p5.48xlarge", "LaunchTime": sm_time("07:04"),
             "InstanceStatus": {"Status": "Running", "Message": ""}}
        ]}),
    );
    w.sagemaker(
        "describe-cluster-hp-platform",
        hyperpod_cluster(
            "hp-platform",
            "p9w3c5r7t1y2",
            None,
            &[],
            ["login", "compute"],
        ),
    );
    for (eni, ip) in [
        (node, "10.0.1.70"),
        (replaced, "10.0.2.71"),
        (own, "10.0.1.72"),
    ] {
        w.record(Rec::egress(eni, "09:00", ip, INTERNET, 40000, 443));
    }
    // A node replaced before the inventory was taken: its ENI is gone, and its records
    // carry the node's id as `instance-id`, which does not make them an instance of the
    // account's (as it does a job's subnet's records, test 36).
    let gone = "eni-0e9d0000000000c74";
    w.record(
        Rec::egress(gone, "09:00", "10.0.2.74", INTERNET, 40000, 443)
            .subnet(SUBNET_B)
            .instance("i-0a1b2c3d4e5f60798"),
    );

    let rows = w.sql(
        &w.write_logs(FORMAT),
        "SELECT interface_id, start, eni_owner_kind, sagemaker_resource_type, sagemaker_resource, \
         sagemaker_candidates, attribution_rule, attribution_document, leaves_vpc FROM flows",
    );
    let r = row(&rows, gone, "09:00");
    assert_eq!(who(r), ("hyperpod_cluster", "hp-train", ""), "{r:#?}");
    let r = row(&rows, node, "09:00");
    assert_eq!(who(r), ("hyperpod_cluster", "hp-train", ""), "{r:#?}");
    assert_eq!(r["attribution_rule"], "hyperpod_node");
    assert!(
        text(&r["attribution_document"]).ends_with("list-cluster-nodes-hp-train.json"),
        "{r:#?}"
    );
    let r = row(&rows, replaced, "09:00");
    assert_eq!(who(r), ("hyperpod_cluster", "hp-train", ""), "{r:#?}");
    assert_eq!(r["attribution_rule"], "vpc_config");
    assert!(
        text(&r["attribution_document"]).ends_with("describe-cluster-hp-train.json"),
        "{r:#?}"
    );
    let r = row(&rows, own, "09:00");
    assert_eq!(r["eni_owner_kind"], "ec2", "{r:#?}");

    let (code, findings, stderr) = w.scan();
    assert_eq!(code, 1, "{stderr}");
    let mut leaves: Vec<(&str, &str)> = findings_of(&findings, "leaves-vpc")
        .iter()
        .map(|f| (text(&f["interface_id"]), text(&f["sagemaker_resource"])))
        .collect();
    leaves.sort();
    assert_eq!(
        leaves,
        [
            (node, "hp-train"),
            (replaced, "hp-train"),
            (gone, "hp-train")
        ]
    );
    let blind: Vec<(&str, &str)> = findings_of(&findings, "blind-spots")
        .iter()
        .map(|f| {
            (
                text(&f["sagemaker_resource_type"]),
                text(&f["sagemaker_resource"]),
            )
        })
        .collect();
    assert_eq!(
        blind,
        [("hyperpod_cluster", "hp-platform")],
        "{findings:#?}"
    );
    let f = findings_of(&findings, "blind-spots")[0];
    assert!(text(&f["reason"]).contains("platform VPC"), "{f:#?}");

    let shown = w.show();
    assert!(!shown.contains("warning"), "{shown}");
    assert!(
        shown.contains("i-0a1b2c3d4e5f60701  cluster hp-train  group workers"),
        "{shown}"
    );
}

/// 18. A Studio app's ENI without the Studio description or tag (neither is documented as
///     always present) but in the security group SageMaker creates for the domain's apps,
///     `security-group-for-outbound-nfs-<domain-id>`, is that domain's; an EC2 instance of
///     the account given the same group (to mount the domain's EFS) is not.
#[test]
fn the_studio_security_group_names_the_domain() {
    let mut w = world();
    let domain = "d-g7djlrunxivy";
    let nfs = format!("security-group-for-outbound-nfs-{domain}");
    let studio = "eni-0e9d0000000000d81";
    let admin = "eni-0e9d0000000000d82";
    let mut app = sagemaker_eni(
        studio,
        "10.0.1.80",
        SUBNET_A,
        &["sg-0d1c2b3a495867701"],
        "08:00",
    );
    app["Groups"][0]["GroupName"] = json!(nfs);
    let mut own = node_eni(admin, "10.0.1.81", SUBNET_A, "i-0f0e0d0c0b0a09082", ACCOUNT);
    own["Groups"] = json!([{"GroupId": "sg-0d1c2b3a495867701", "GroupName": nfs}]);
    w.enis(vec![app, own]);
    w.sagemaker(
        &format!("describe-domain-{domain}"),
        json!({
            "DomainArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:domain/{domain}"),
            "DomainId": domain,
            "DomainName": "research",
            "HomeEfsFileSystemId": "fs-0a1b2c3d4e5f60718",
            "Status": "InService",
            "AuthMode": "IAM",
            "DefaultUserSettings": {"ExecutionRole": ROLE},
            "AppNetworkAccessType": "VpcOnly",
            "SubnetIds": [SUBNET_A],
            "VpcId": VPC,
            "AppSecurityGroupManagement": "Service"
        }),
    );
    w.record(Rec::egress(
        studio,
        "09:00",
        "10.0.1.80",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::egress(
        admin,
        "09:00",
        "10.0.1.81",
        INTERNET,
        40000,
        443,
    ));
    let rows = w.sql(
        &w.write_logs(FORMAT),
        "SELECT interface_id, start, eni_owner_kind, sagemaker_resource_type, sagemaker_resource, \
         sagemaker_candidates, attribution_rule FROM flows",
    );
    let r = row(&rows, studio, "09:00");
    assert_eq!(who(r), ("studio_domain", domain, ""), "{r:#?}");
    assert_eq!(r["attribution_rule"], "studio_security_group");
    assert_eq!(row(&rows, admin, "09:00")["eni_owner_kind"], "ec2");
    let (code, findings, stderr) = w.scan();
    assert_eq!(code, 1, "{stderr}");
    let leaves: Vec<&str> = findings_of(&findings, "leaves-vpc")
        .iter()
        .map(|f| text(&f["interface_id"]))
        .collect();
    assert_eq!(leaves, [studio]);
    // Before, the Studio ENI was an unexplained service-managed ENI.
    assert!(findings_of(&findings, "unattributed-aws-managed-enis").is_empty());
}

/// 19. The apps of a Studio space run on ENIs whose tag names the space
///     (`node/<domain>/<space>/…`): with `aws sagemaker list-spaces` in the inventory, a
///     private space's records carry its owner's user profile; a shared space's keep the
///     space's name.
#[test]
fn a_private_space_names_its_owner() {
    let mut w = world();
    let domain = "d-g7djlrunxivy";
    let studio_eni = |id: &str, ip: &str, space: &str| {
        let mut e = sagemaker_eni(id, ip, SUBNET_A, &[SG_JOB], "08:00");
        e["Description"] = json!(format!(
            "[DO NOT DELETE] ENI managed by SageMaker for Studio Domain({domain}) - 946a4c21ed31356ee889a8dd95fde7cf"
        ));
        e["TagSet"] = json!([{
            "Key": "ManagedByAmazonSageMakerResource",
            "Value": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:node/{domain}/{space}/jupyterlab-1")
        }]);
        e
    };
    let private = "eni-0e9d0000000000e91";
    let shared = "eni-0e9d0000000000e92";
    w.enis(vec![
        studio_eni(private, "10.0.1.90", "alice-lab"),
        studio_eni(shared, "10.0.1.91", "team-space"),
    ]);
    w.sagemaker(
        "list-spaces",
        json!({"Spaces": [
            {"DomainId": domain, "SpaceName": "alice-lab", "Status": "InService",
             "CreationTime": sm_time("07:00"), "LastModifiedTime": sm_time("07:00"),
             "SpaceSettingsSummary": {"AppType": "JupyterLab"},
             "SpaceSharingSettingsSummary": {"SharingType": "Private"},
             "OwnershipSettingsSummary": {"OwnerUserProfileName": "alice"},
             "SpaceDisplayName": "alice-lab"},
            {"DomainId": domain, "SpaceName": "team-space", "Status": "InService",
             "CreationTime": sm_time("07:00"), "LastModifiedTime": sm_time("07:00"),
             "SpaceSettingsSummary": {"AppType": "JupyterLab"},
             "SpaceSharingSettingsSummary": {"SharingType": "Shared"},
             "OwnershipSettingsSummary": {"OwnerUserProfileName": "bob"},
             "SpaceDisplayName": "team"}
        ]}),
    );
    w.record(Rec::egress(
        private,
        "09:00",
        "10.0.1.90",
        INTERNET,
        40000,
        443,
    ));
    w.record(Rec::egress(
        shared,
        "09:00",
        "10.0.1.91",
        INTERNET,
        40000,
        443,
    ));
    let rows = w.sql(
        &w.write_logs(FORMAT),
        "SELECT interface_id, start, sagemaker_resource, sagemaker_user_profile FROM flows",
    );
    assert_eq!(
        row(&rows, private, "09:00")["sagemaker_user_profile"],
        "alice"
    );
    assert_eq!(
        row(&rows, shared, "09:00")["sagemaker_user_profile"],
        "team-space"
    );
    assert_eq!(row(&rows, private, "09:00")["sagemaker_resource"], domain);
    let shown = w.show();
    assert!(!shown.contains("warning"), "{shown}");
}

/// 20. A regional NAT gateway (`AvailabilityMode` `regional`) has no ENI in the VPC: its
///     flow records have `interface-id` `-` and the gateway's id as `resource-id`. When
///     only the gateway is logged, its legs are the only evidence of a workload's
///     internet traffic, as a zonal gateway's are (test 14); a gateway the inventory lacks
///     is counted as unknown, not dropped from the summary.
#[test]
fn a_regional_nat_gateways_legs_without_an_eni_are_attributed() {
    let w = world();
    let job = "eni-0f0000000000000b1";
    let nat = "nat-0e1d2c3b4a5968778";
    w.etl_job(job);
    w.doc(
        "describe-nat-gateways.json",
        json!({"NatGateways": [{
            "CreateTime": ec2_time("07:00"),
            "NatGatewayAddresses": [
                {"AllocationId": "eipalloc-0a1b2c3d4e5f60711", "PublicIp": "44.200.10.20",
                 "AssociationId": "eipassoc-0a1b2c3d4e5f60711", "IsPrimary": true,
                 "Status": "succeeded", "AvailabilityZone": "us-east-1a",
                 "AvailabilityZoneId": "use1-az1"},
                {"AllocationId": "eipalloc-0a1b2c3d4e5f60712", "PublicIp": "44.200.10.21",
                 "AssociationId": "eipassoc-0a1b2c3d4e5f60712", "IsPrimary": true,
                 "Status": "succeeded", "AvailabilityZone": "us-east-1b",
                 "AvailabilityZoneId": "use1-az2"}
            ],
            "NatGatewayId": nat,
            "State": "available",
            "VpcId": VPC,
            "Tags": [],
            "ConnectivityType": "public",
            "AvailabilityMode": "regional",
            "AutoScalingIps": "enabled",
            "AutoProvisionZones": "enabled",
            "RouteTableId": "rtb-0a1b2c3d4e5f60719"
        }]}),
    );
    let format = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id resource-id pkt-srcaddr pkt-dstaddr flow-direction traffic-path";
    // Only the gateway is logged (a flow log on `nat-…`, as Terraform's
    // `regional_nat_gateway_id` makes one).
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", nat, "ALL", format)]);
    let dest = "203.0.113.50";
    let (t, e) = (at("10:20"), at("10:20") + 45);
    // Which address a regional gateway's record shows before translation is not
    // documented: the request leg in either shape, and the reply.
    let lines = [
        format!(
            "9 {ACCOUNT} - 10.0.1.30 {dest} 48211 443 6 10 4200 {t} {e} ACCEPT OK {VPC} - {nat} 10.0.1.30 {dest} egress 8"
        ),
        format!(
            "9 {ACCOUNT} - 44.200.10.20 {dest} 48212 443 6 10 4200 {t} {e} ACCEPT OK {VPC} - {nat} 10.0.1.30 {dest} egress 8"
        ),
        format!(
            "9 {ACCOUNT} - {dest} 10.0.1.30 443 48211 6 10 4200 {t} {e} ACCEPT OK {VPC} - {nat} {dest} 10.0.1.30 ingress -"
        ),
        format!(
            "9 {ACCOUNT} - 10.0.1.99 {dest} 48213 443 6 10 4200 {t} {e} ACCEPT OK {VPC} - {nat} 10.0.1.99 {dest} egress 8"
        ),
    ];
    let logs = w.logs().join(format!(
        "{ACCOUNT}_vpcflowlogs_us-east-1_fl-0b1c2d3e4f5a6b7c8_20261125T1000Z_0a1b2c3e.log"
    ));
    std::fs::write(&logs, format!("{format}\n{}\n", lines.join("\n"))).unwrap();

    let (code, findings, stderr) = w.scan_with(&logs, &["--group-by", "flow"]);
    assert_eq!(code, 1, "{stderr}");
    let leaves = findings_of(&findings, "leaves-vpc");
    assert_eq!(leaves.len(), 3, "{findings:#?}");
    for f in &leaves {
        assert_eq!(f["interface_id"], Value::Null, "{f:#?}");
        assert_eq!(f["resource_id"], nat, "{f:#?}");
        assert_eq!(f["eni_owner_kind"], "nat_gateway", "{f:#?}");
        assert_eq!(f["attribution"], "packet_address", "{f:#?}");
        assert_eq!(f["sagemaker_resource"], "etl", "{f:#?}");
        assert_eq!(f["remote_addr"], dest, "{f:#?}");
    }
    assert!(
        findings_of(&findings, "blind-spots")
            .iter()
            .any(|f| f["interface_id"] == job),
        "{findings:#?}"
    );
    let shown = w.show();
    assert!(
        shown.contains(&format!("{nat}  public regional  {VPC}")),
        "{shown}"
    );

    // A record of another address through the gateway is the gateway's.
    let rows = w.sql(
        &logs,
        "SELECT eni_owner_kind, attribution, attribution_rule, attribution_document \
         FROM flows WHERE srcaddr = '10.0.1.99'",
    );
    assert_eq!(rows.len(), 1, "{rows:#?}");
    let r = &rows[0];
    assert_eq!(
        (
            text(&r["eni_owner_kind"]),
            text(&r["attribution"]),
            text(&r["attribution_rule"])
        ),
        ("nat_gateway", "resource_id", "nat_gateway_id"),
        "{r:#?}"
    );
    assert!(
        text(&r["attribution_document"]).ends_with("describe-nat-gateways.json"),
        "{r:#?}"
    );

    // A flow log of the gateway without `resource-id` gets a note saying what is lost.
    let v5 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id pkt-srcaddr pkt-dstaddr flow-direction traffic-path";
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", nat, "ALL", v5)]);
    let (_, _, stderr) = w.scan_with(&logs, &["--group-by", "flow"]);
    assert!(
        stderr.contains(&format!(
            "flow log fl-0b1c2d3e4f5a6b7c8 has no resource-id field: the records of regional NAT gateway {nat}"
        )),
        "{stderr}"
    );

    // Without describe-nat-gateways the records are unknown, and said to be.
    std::fs::remove_file(w.inventory().join("describe-nat-gateways.json")).unwrap();
    let (_, findings, stderr) = w.scan_with(&logs, &["--group-by", "flow"]);
    assert!(
        findings_of(&findings, "leaves-vpc").is_empty(),
        "{findings:#?}"
    );
    assert!(
        stderr.contains("4 records (16.41 KiB) on 1 ENIs that no inventory document names"),
        "{stderr}"
    );
    let rows = w.report(&logs, "unknown-enis");
    assert_eq!(rows.len(), 1, "{rows:#?}");
    assert_eq!(
        (&rows[0]["interface_id"], &rows[0]["records"]),
        (&json!(nat), &json!(4))
    );
}

/// 21. Logs read from a central bucket hold other accounts' ENIs. Their records are
///     unknown to an inventory of one account, like a deleted job ENI's, but the fix is
///     another: the warning tells them apart by the records' `account-id` (the ENI's
///     owner), names the account, and says to read only the accounts inventoried or add
///     theirs.
#[test]
fn other_accounts_logs_are_told_apart_from_enis_missing_from_the_inventory() {
    let mut w = world();
    w.etl_job_and_a_deleted_eni();
    // Two ENIs of one other account and one of a third; `unknown` (an AWS-created
    // interface) says nothing.
    for (eni, account) in [
        ("eni-0f0000000000000d1", "444455556666"),
        ("eni-0f0000000000000d2", "444455556666"),
        ("eni-0f0000000000000d3", "012345678901"),
        ("eni-0f0000000000000d4", "unknown"),
    ] {
        let line = Rec::egress(eni, "10:22", "10.9.1.40", INTERNET, 40002, 443).line();
        w.records.push(line.replacen(ACCOUNT, account, 1));
    }
    let (_, _, stderr) = w.scan();
    assert!(
        stderr.contains("5 records (20.51 KiB) on 5 ENIs that no inventory document names"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "Of them, 3 records on 3 ENIs are of account 012345678901 and 1 other account, \
             which owns no ENI of the inventory"
        ),
        "{stderr}"
    );
    let rows = w.report(&w.logs(), "unknown-enis");
    let mut accounts: Vec<&str> = rows.iter().map(|r| text(&r["account_id"])).collect();
    accounts.sort();
    assert_eq!(
        accounts,
        [
            "012345678901",
            ACCOUNT,
            "444455556666",
            "444455556666",
            "unknown"
        ]
    );

    // An inventory of every account in the logs: no such hint.
    let mut other = sagemaker_eni(
        "eni-0f0000000000000e1",
        "10.9.1.50",
        SUBNET_B,
        &[SG_JOB],
        "09:58",
    );
    other["OwnerId"] = json!("444455556666");
    let mut third = other.clone();
    third["NetworkInterfaceId"] = json!("eni-0f0000000000000e2");
    third["OwnerId"] = json!("012345678901");
    w.enis(vec![
        sagemaker_eni(
            "eni-0f0000000000000c1",
            "10.0.1.30",
            SUBNET_A,
            &[SG_JOB],
            "09:58",
        ),
        other,
        third,
    ]);
    let (_, _, stderr) = w.scan();
    assert!(
        stderr.contains("on 5 ENIs that no inventory document names"),
        "{stderr}"
    );
    assert!(!stderr.contains("Of them"), "{stderr}");
}

/// 22. A managed MLflow tracking server runs in a VPC SageMaker manages, with no ENI in
///     yours (reference 4.3 item 3): no flow log can show its traffic, so each one in
///     `list-mlflow-tracking-servers` or `describe-mlflow-tracking-server` output is a
///     blind spot, said to be one, not a silence.
#[test]
fn mlflow_tracking_servers_are_blind_spots() {
    let mut w = world();
    let job = "eni-0f0000000000000f1";
    w.etl_job(job);
    w.sagemaker(
        "list-mlflow-tracking-servers",
        json!({"TrackingServerSummaries": [
            {"TrackingServerArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:mlflow-tracking-server/team-tracking"),
             "TrackingServerName": "team-tracking", "CreationTime": sm_time("07:00"),
             "LastModifiedTime": sm_time("07:30"), "TrackingServerStatus": "Created",
             "IsActive": "Active", "MlflowVersion": "2.16.2"},
            {"TrackingServerArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:mlflow-tracking-server/research"),
             "TrackingServerName": "research", "CreationTime": sm_time("08:00"),
             "LastModifiedTime": sm_time("08:30"), "TrackingServerStatus": "Created",
             "IsActive": "Active", "MlflowVersion": "2.16.2"}
        ]}),
    );
    w.sagemaker(
        "describe-mlflow-tracking-server-research",
        json!({
            "TrackingServerArn": format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:mlflow-tracking-server/research"),
            "TrackingServerName": "research",
            "ArtifactStoreUri": format!("s3://ml-artifacts-{ACCOUNT}/mlflow"),
            "TrackingServerSize": "Small",
            "MlflowVersion": "2.16.2",
            "RoleArn": ROLE,
            "TrackingServerStatus": "Created",
            "IsActive": "Active",
            "TrackingServerUrl": "https://t-abc123def456.us-east-1.experiments.sagemaker.aws",
            "WeeklyMaintenanceWindowStart": "Tue:03:30",
            "AutomaticModelRegistration": false,
            "CreationTime": sm_time("08:00"),
            "LastModifiedTime": sm_time("08:30")
        }),
    );
    w.record(Rec::egress(
        job,
        "10:20",
        "10.0.1.30",
        "10.0.1.5",
        40000,
        443,
    ));

    let (code, findings, stderr) = w.scan();
    assert_eq!(code, 1, "{stderr}");
    let mut blind: Vec<(&str, &str, &str)> = findings_of(&findings, "blind-spots")
        .iter()
        .map(|f| {
            (
                text(&f["sagemaker_resource_type"]),
                text(&f["sagemaker_resource"]),
                text(&f["attribution_document"])
                    .rsplit('/')
                    .next()
                    .unwrap_or(""),
            )
        })
        .collect();
    blind.sort();
    assert_eq!(
        blind,
        [
            (
                "mlflow_tracking_server",
                "research",
                "describe-mlflow-tracking-server-research.json"
            ),
            (
                "mlflow_tracking_server",
                "team-tracking",
                "list-mlflow-tracking-servers.json"
            ),
        ],
        "{findings:#?}"
    );
    let research = findings_of(&findings, "blind-spots")
        .into_iter()
        .find(|f| f["sagemaker_resource"] == "research")
        .unwrap();
    let reason = text(&research["reason"]);
    assert!(
        reason.contains("VPC SageMaker manages")
            && reason.contains(&format!("s3://ml-artifacts-{ACCOUNT}/mlflow")),
        "{reason}"
    );
    // Servers created after the scan's window did not run in it.
    let (_, findings, _) = w.scan_with(
        &w.write_logs(FORMAT),
        &[
            "--group-by",
            "flow",
            "--until",
            "2026-11-25T07:30:00Z",
            "--allow-empty",
        ],
    );
    let blind: Vec<&str> = findings_of(&findings, "blind-spots")
        .iter()
        .map(|f| text(&f["sagemaker_resource"]))
        .collect();
    assert_eq!(blind, ["team-tracking"], "{findings:#?}");

    let shown = w.show();
    assert!(!shown.contains("warning"), "{shown}");
    assert!(
        shown.contains(&format!(
            "research  Created  created 2026-11-25T08:00:00Z  artifact store s3://ml-artifacts-{ACCOUNT}/mlflow  outside your VPCs"
        )),
        "{shown}"
    );
}

/// 56. A format without `interface-id`: no record can be tied to an ENI, so nothing is a
///     workload's, and the rules find nothing but "no records" for ENIs whose records
///     were read. The notes say so, of the records read and of the flow log whose objects
///     they are; before, the fields they named were only those of lesser rules, and this
///     one was missed (audit K-F7). And the scan fails (exit 2) after its findings, as one
///     whose records have no action does: before, its only findings were log-gaps' "no
///     records" for ENIs whose records were read, and it exited 1.
#[test]
fn a_format_without_interface_id_is_told() {
    let mut w = world();
    let nb = "eni-0f5600000000000a1";
    w.enis(vec![notebook_eni(nb, "10.0.1.10", SUBNET_A)]);
    notebook(&w, "nb-56", nb, SUBNET_A);
    let without = FORMAT
        .split(' ')
        .filter(|f| *f != "interface-id")
        .collect::<Vec<_>>()
        .join(" ");
    w.record(Rec::egress(
        nb,
        "10:30",
        "10.0.1.10",
        "203.0.113.56",
        40000,
        443,
    ));
    let told = "interface-id: no record names its ENI, so none is attributed to a workload";
    // The objects' flow log (by their names) is the inventory's: its format is told.
    w.flow_logs(vec![flow_log("fl-0b1c2d3e4f5a6b7c8", VPC, "ALL", &without)]);
    let (code, findings, stderr) = w.scan_format(&without);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "error: no record read names its ENI: the format `{}` has no interface-id",
            aws(&without)
        )) && stderr.contains("hint: add ${interface-id} to the flow log's format"),
        "{stderr}"
    );
    assert!(findings_of(&findings, "leaves-vpc").is_empty());
    assert!(
        stderr.contains("flow log fl-0b1c2d3e4f5a6b7c8 (custom format) lacks fields rules use")
            && stderr.contains(told),
        "{stderr}"
    );
    // Objects of no flow log the inventory lists: the format they were read in is told.
    w.flow_logs(vec![flow_log("fl-0f56000000000000c", VPC, "ALL", FORMAT)]);
    let (_, _, stderr) = w.scan_format(&without);
    assert!(
        stderr.contains(&format!(
            "the records read in the format `{}` lack fields rules use",
            aws(&without)
        )) && stderr.contains(told)
            && !stderr.contains("flow log fl-0f56000000000000c (custom format) lacks"),
        "{stderr}"
    );
}

/// `format` (field names) in AWS `${field}` syntax.
fn aws(format: &str) -> String {
    format
        .split(' ')
        .map(|f| format!("${{{f}}}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// 57. The fields the records lack are those of the formats they were read in: records
///     read with every field (`--log-format`, or their header) get no note for a flow log
///     of the default format whose objects may not be those read (audit J11), and records
///     of the default format get one without describe-flow-logs (audit K-F10), which the
///     notes needed before. Without `log-status`, log-gaps cannot see SKIPDATA: told. An
///     export's columns say nothing of the format its records were read in.
#[test]
fn the_fields_told_missing_are_those_of_the_records_read() {
    let mut w = world();
    let nb = "eni-0f5700000000000a1";
    w.enis(vec![notebook_eni(nb, "10.0.1.10", SUBNET_A)]);
    notebook(&w, "nb-57", nb, SUBNET_A);
    w.record(Rec::egress(
        nb,
        "10:30",
        "10.0.1.10",
        "203.0.113.57",
        40000,
        443,
    ));
    let v2 = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
    w.flow_logs(vec![flow_log("fl-0f57000000000000c", VPC, "ALL", v2)]);
    let (code, _, stderr) = w.scan_format(FORMAT);
    assert_eq!(code, 1, "{stderr}");
    assert!(!stderr.contains("lack"), "{stderr}");

    let (_, _, stderr) = w.scan_format(v2);
    assert!(
        stderr.contains(&format!(
            "the records read in the format `{}` lack fields rules use",
            aws(v2)
        )) && stderr.contains("tcp-flags: internet-ingress decides who opened a connection"),
        "{stderr}"
    );
    // An export's columns are every field's, whatever its records had: a scan of it falls
    // back on the flow logs' formats.
    let export = w.dir.path().join("export");
    support::ok(
        sageflow()
            .arg("export")
            .arg(w.write_logs(v2))
            .arg("--out")
            .arg(&export),
    );
    let (_, _, stderr) = w.scan_with(&export, &[]);
    assert!(
        stderr.contains("flow log fl-0f57000000000000c (default format) lacks fields rules use")
            && !stderr.contains("the records read in the format"),
        "{stderr}"
    );
    std::fs::remove_file(w.inventory().join("describe-flow-logs.json")).unwrap();
    let (_, _, stderr) = w.scan_format(v2);
    assert!(
        stderr.contains("the inventory has no describe-flow-logs output")
            && stderr.contains("the records read in the format `"),
        "{stderr}"
    );
    let no_status = FORMAT.replace(" log-status", "");
    let (_, _, stderr) = w.scan_format(&no_status);
    assert!(
        stderr.contains("log-status: log-gaps cannot see SKIPDATA"),
        "{stderr}"
    );
}

/// 58. Records of an ENI the inventory does not know, from long after its
///     describe-network-interfaces was saved: the warning says when it was saved, since
///     ENIs created after cannot be in it (audit J7: a stale inventory reused for weeks).
///     Before, nothing dated the inventory. An inventory saved after the records gets no
///     such hint.
#[test]
fn an_inventory_older_than_the_records_is_told() {
    let mut w = world();
    let nb = "eni-0f5800000000000a1";
    w.enis(vec![notebook_eni(nb, "10.0.1.10", SUBNET_A)]);
    notebook(&w, "nb-58", nb, SUBNET_A);
    w.record(Rec::egress(
        "eni-0f580000000000ee1",
        "10:30",
        "10.0.1.58",
        "203.0.113.58",
        40000,
        443,
    ));
    let saved = "the inventory's describe-network-interfaces was saved at";
    let (_, _, stderr) = w.scan();
    assert!(
        stderr.contains("on 1 ENIs that no inventory document names") && !stderr.contains(saved),
        "{stderr}"
    );
    let nov_10 = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_794_268_800);
    std::fs::File::options()
        .append(true)
        .open(w.inventory().join("describe-network-interfaces.json"))
        .unwrap()
        .set_modified(nov_10)
        .unwrap();
    let (_, _, stderr) = w.scan();
    assert!(
        stderr.contains(&format!("{saved} 2026-11-10T00:00:00Z (its file's time)"))
            && stderr.contains("ENIs created since cannot be in it"),
        "{stderr}"
    );
}

/// 59. An ENI attached (or first covered by a flow log) in the half hour before a run may
///     have records still on their way: S3 and CloudWatch Logs deliver a window's records
///     minutes after it. One attached after the time the objects read can hold (their
///     names: a copy of older logs, scanned with a newer inventory) cannot be in them.
///     Neither is a "NO RECORDS" gap, with or without --until; one attached long before
///     still is. Before, both were (audit finding 7): a full scan right after `inventory
///     collect` reported the ENI of every job started in the last minutes.
#[test]
fn no_records_is_not_expected_of_an_eni_whose_records_may_be_on_their_way() {
    let mut w = world();
    let (used, quiet, fresh, later) = (
        "eni-0e9d00000000000b1",
        "eni-0e9d00000000000b2",
        "eni-0e9d00000000000b3",
        "eni-0e9d00000000000b4",
    );
    let now = chrono::Utc::now();
    let ago = |minutes: i64| {
        (now - chrono::Duration::minutes(minutes))
            .format("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string()
    };
    let mut fresh_eni = sagemaker_eni(fresh, "10.0.1.53", SUBNET_A, &[SG_JOB], "09:58");
    fresh_eni["Attachment"]["AttachTime"] = json!(ago(5));
    used_among(
        &mut w,
        used,
        vec![
            sagemaker_eni(quiet, "10.0.1.51", SUBNET_A, &[SG_JOB], "09:58"),
            fresh_eni,
            // The one object read is named 10:00: its records end by 10:05.
            sagemaker_eni(later, "10.0.1.54", SUBNET_A, &[SG_JOB], "13:00"),
        ],
    );
    assert_eq!(log_gaps(&w, &[]), [quiet]);
    assert_eq!(log_gaps(&w, &["--until".into(), ago(0)]), [quiet]);
}
