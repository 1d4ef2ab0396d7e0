//! Security properties of the binary against moto (through tests/it/support/proxy.rs):
//! credentials never reach any output, the least-privilege IAM policy in `iam/` allows
//! exactly what the commands call, and user SQL cannot write.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::proxy::{Fault, Proxy, Request, Rule};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// moto's account and the region of every command here.
const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

const LOG_BUCKET: &str = "sec-logs";
const LOG_PREFIX: &str = "org/";
const LOG_GROUP: &str = "/aws/vpc/flowlogs-sec";
const EXPORT_BUCKET: &str = "sec-exports";
const EXPORT_PREFIX: &str = "flows/";
/// Scheduled-scan state, in a bucket of its own (see iam/README.md on `s3:ListBucket`).
const STATE_BUCKET: &str = "sec-state";
const STATE_KEY: &str = "sageflow/state.json";

/// Uploads the v2 sample and a malformed log (so that runs have rejects to write; scans and
/// exports accept them with --allow-rejects) under
/// `s3://sec-logs/org/`, puts the v2 sample in the log group (one stream per ENI),
/// creates the export and state buckets, and one resource of every kind `inventory
/// collect` lists.
fn seed(moto: &support::Moto) {
    moto.run_python(&format!(
        r#"
import os, gzip, glob, boto3, collections
E = os.environ["ENDPOINT"]
s3 = boto3.client("s3", endpoint_url=E)
logs = boto3.client("logs", endpoint_url=E)
ec2 = boto3.client("ec2", endpoint_url=E)
sm = boto3.client("sagemaker", endpoint_url=E)
s3.create_bucket(Bucket="{LOG_BUCKET}")
s3.create_bucket(Bucket="{EXPORT_BUCKET}")
s3.create_bucket(Bucket="{STATE_BUCKET}")
base = "{ROOT}/sample-logs/v2-default"
for p in sorted(glob.glob(base + "/**/*.log.gz", recursive=True)):
    s3.upload_file(p, "{LOG_BUCKET}", "{LOG_PREFIX}" + os.path.relpath(p, base))
s3.upload_file("{ROOT}/tests/data/malformed/mixed.log", "{LOG_BUCKET}", "{LOG_PREFIX}AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20/mixed.log")

logs.create_log_group(logGroupName="{LOG_GROUP}")
by_stream = collections.defaultdict(list)
for f in sorted(glob.glob(base + "/**/*.log.gz", recursive=True)):
    lines = gzip.open(f, "rt").read().splitlines()
    for line in lines[1:]:
        by_stream[line.split()[2] + "-all"].append((int(line.split()[10]) * 1000, line))
for stream, events in by_stream.items():
    logs.create_log_stream(logGroupName="{LOG_GROUP}", logStreamName=stream)
    events.sort()
    logs.put_log_events(logGroupName="{LOG_GROUP}", logStreamName=stream,
        logEvents=[{{"timestamp": t, "message": m}} for t, m in events])

vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
sg = ec2.create_security_group(GroupName="sm", Description="sm", VpcId=vpc)["GroupId"]
rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway", RouteTableIds=[rtb])
eip = ec2.allocate_address(Domain="vpc")
ec2.create_nat_gateway(SubnetId=sub, AllocationId=eip["AllocationId"])
ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
    LogDestinationType="cloud-watch-logs", LogGroupName="{LOG_GROUP}",
    DeliverLogsPermissionArn="arn:aws:iam::{ACCOUNT}:role/flow-logs")
role = "arn:aws:iam::{ACCOUNT}:role/sagemaker"
vpc_config = {{"SecurityGroupIds": [sg], "Subnets": [sub]}}
image = "{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/x:1"
sm.create_notebook_instance(NotebookInstanceName="nb", InstanceType="ml.t3.medium", RoleArn=role,
    SubnetId=sub, SecurityGroupIds=[sg])
sm.create_model(ModelName="m", ExecutionRoleArn=role, PrimaryContainer={{"Image": image}}, VpcConfig=vpc_config)
sm.create_endpoint_config(EndpointConfigName="epc", ProductionVariants=[
    {{"VariantName": "v1", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}}])
sm.create_endpoint(EndpointName="ep", EndpointConfigName="epc")
sm.create_training_job(TrainingJobName="tj",
    AlgorithmSpecification={{"TrainingImage": image, "TrainingInputMode": "File"}},
    RoleArn=role, OutputDataConfig={{"S3OutputPath": "s3://b/out"}},
    ResourceConfig={{"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}},
    StoppingCondition={{"MaxRuntimeInSeconds": 3600}}, VpcConfig=vpc_config)
sm.create_processing_job(ProcessingJobName="pj",
    ProcessingResources={{"ClusterConfig": {{"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10}}}},
    AppSpecification={{"ImageUri": image}}, RoleArn=role, NetworkConfig={{"VpcConfig": vpc_config}})
sm.create_transform_job(TransformJobName="xj", ModelName="m",
    TransformInput={{"DataSource": {{"S3DataSource": {{"S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}}}}}},
    TransformOutput={{"S3OutputPath": "s3://b/o"}},
    TransformResources={{"InstanceType": "ml.m5.large", "InstanceCount": 1}})
sm.create_domain(DomainName="studio", AuthMode="IAM", VpcId=vpc, SubnetIds=[sub],
    DefaultUserSettings={{"ExecutionRole": role, "SecurityGroups": [sg]}}, AppNetworkAccessType="VpcOnly")
sm.create_cluster(ClusterName="hp", VpcConfig=vpc_config, InstanceGroups=[{{
    "InstanceGroupName": "workers", "InstanceType": "ml.c5.xlarge", "InstanceCount": 1,
    "ExecutionRole": role, "ThreadsPerCore": 1,
    "LifeCycleConfig": {{"SourceS3Uri": "s3://sagemaker-lifecycle/hp", "OnCreate": "on_create.sh"}}}}])
"#
    ));
}

struct Out {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(
    moto: &support::Moto,
    endpoint: &str,
    args: &[&str],
    env: &[(&str, &str)],
    cwd: &Path,
) -> Out {
    let out = moto
        .sageflow()
        .current_dir(cwd)
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

// ---------------------------------------------------------------------------------------
// Canary credentials

const CANARY_KEY_ID: &str = "AKIACANARY7Q2XJ4VZ0B";
const CANARY_SECRET: &str = "cAnArYsEcReT/7f3d9a1b2c4e6f8091a2b3c4d5e6f708192a3";
const CANARY_TOKEN: &str = "CanarySessionToken//IQoJb3JpZ2luX2VjEXAMPLEcanary0123456789==";

/// Where a canary was found: what, and the first place.
fn leaks(text: &[u8], needles: &[String]) -> Vec<String> {
    let text = String::from_utf8_lossy(text);
    let lower = text.to_lowercase();
    let mut found: Vec<String> = needles
        .iter()
        .filter(|n| text.contains(n.as_str()))
        .map(|n| {
            let at = text.find(n.as_str()).unwrap();
            let from = text.floor_char_boundary(at.saturating_sub(200));
            let to = text.floor_char_boundary(at + n.len() + 100);
            format!("{n:?} in …{}…", &text[from..to])
        })
        .collect();
    // Signing material of any request, not just the canaries'.
    for marker in [
        "x-amz-signature",
        "signature=",
        "aws4-hmac-sha256 credential=",
    ] {
        if let Some(at) = lower.find(marker) {
            let from = lower.floor_char_boundary(at.saturating_sub(200));
            let to = lower.floor_char_boundary(at + 100);
            found.push(format!("{marker:?} in …{}…", &text[from..to]));
        }
    }
    found
}

/// With canary credentials and `RUST_LOG=trace`, scan, query, export and inventory
/// collect, succeeding and failing (including AWS's signature-mismatch answers, which echo
/// the session token and the signature), never print or write the secret key, the session
/// token or any signature: not on stdout or stderr, not in rejects, state, exported or
/// inventory files.
#[test]
fn canary_credentials_never_reach_any_output() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed(moto);
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let env = [
        ("AWS_ACCESS_KEY_ID", CANARY_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", CANARY_SECRET),
        ("AWS_SESSION_TOKEN", CANARY_TOKEN),
        ("RUST_LOG", "trace"),
    ];
    let logs = format!("s3://{LOG_BUCKET}/{LOG_PREFIX}");
    let group = format!("cwlogs://{LOG_GROUP}");
    let s3_state = format!("s3://{STATE_BUCKET}/{STATE_KEY}");
    let s3_out = format!("s3://{EXPORT_BUCKET}/{EXPORT_PREFIX}");
    let inv = format!("{ROOT}/sample-logs/inventory");
    let p = |name: &str| w.join(name).to_str().unwrap().to_string();
    let (rejects, state, out_dir, inv_dir) = (
        p("rejects.ndjson"),
        p("state.json"),
        p("export"),
        p("inventory"),
    );
    let sig = || Fault::SignatureMismatch;
    let export_s3 = vec![
        "export",
        &logs,
        "--inventory",
        &inv,
        "--out",
        &s3_out,
        "--allow-rejects",
    ];
    // (arguments, fault plan, whether the run must fail)
    let runs: Vec<(Vec<&str>, Vec<Rule>, bool)> = vec![
        (
            vec![
                "scan",
                &logs,
                "--inventory",
                &inv,
                "--rejects",
                &rejects,
                "--state",
                &state,
                "--allow-rejects",
            ],
            vec![],
            false,
        ),
        (
            vec![
                "scan",
                &logs,
                "--inventory",
                &inv,
                "--state",
                &s3_state,
                "-vv",
                "--allow-rejects",
            ],
            vec![
                Rule::on("GetObject")
                    .key(".log.gz")
                    .first(2)
                    .fault(Fault::Status(500)),
            ],
            false,
        ),
        (
            vec![
                "scan",
                &logs,
                "--inventory",
                &inv,
                "--rejects",
                &rejects,
                "--allow-rejects",
            ],
            vec![Rule::on("GetObject").key("T1015Z").always().fault(sig())],
            true,
        ),
        (
            vec!["query", &logs, "--sql", "SELECT count(*) FROM flows"],
            vec![Rule::on("ListObjectsV2").always().fault(sig())],
            true,
        ),
        (
            vec![
                "query",
                &group,
                "--sql",
                "SELECT count(*) FROM flows",
                "-vv",
            ],
            vec![],
            false,
        ),
        (
            vec!["query", &group, "--sql", "SELECT count(*) FROM flows"],
            vec![Rule::on("FilterLogEvents").always().fault(sig())],
            true,
        ),
        (
            vec!["query", &group, "--sql", "SELECT count(*) FROM flows"],
            vec![Rule::on("DescribeFlowLogs").always().fault(sig())],
            true,
        ),
        (
            vec![
                "export",
                &logs,
                "--inventory",
                &inv,
                "--out",
                &out_dir,
                "--rejects",
                &rejects,
                "--allow-rejects",
            ],
            vec![],
            false,
        ),
        (
            export_s3.clone(),
            vec![Rule::on("CopyObject").always().fault(sig())],
            true,
        ),
        (export_s3.clone(), vec![], false),
        (
            vec!["inventory", "collect", "--out", &inv_dir],
            vec![],
            false,
        ),
        (
            vec!["inventory", "collect", "--out", &inv_dir],
            vec![Rule::on("DescribeVpcs").always().fault(sig())],
            true,
        ),
        (
            vec!["inventory", "collect", "--out", &inv_dir],
            vec![
                Rule::on("ListTrainingJobs")
                    .always()
                    .fault(Fault::Status(500)),
            ],
            true,
        ),
    ];
    let mut signatures = BTreeSet::new();
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    for (args, rules, fails) in &runs {
        let faulted = !rules.is_empty();
        let proxy = Proxy::start(&moto.endpoint, rules.clone());
        let out = run(moto, &proxy.endpoint, args, &env, Path::new(ROOT));
        let what = args.join(" ");
        if *fails {
            assert_eq!(
                out.code,
                Some(2),
                "{what}: {}",
                &out.stderr[out.stderr.len().saturating_sub(3000)..]
            );
            assert!(out.stderr.contains("error:"), "{what}");
        } else {
            assert!(
                matches!(out.code, Some(0 | 1)),
                "{what}: {}",
                &out.stderr[out.stderr.len().saturating_sub(3000)..]
            );
        }
        let requests = proxy.requests();
        assert!(
            !requests.is_empty(),
            "{what}: no request went through the proxy"
        );
        if faulted {
            assert!(proxy.injected() > 0, "{what}: no fault was injected");
        }
        for r in &requests {
            // The canary really was what signed the requests.
            assert_eq!(
                r.security_token.as_deref(),
                Some(CANARY_TOKEN),
                "{what}: {r:?}"
            );
            assert!(
                r.authorization
                    .as_deref()
                    .is_some_and(|a| a.contains(CANARY_KEY_ID)),
                "{what}"
            );
            signatures.extend(r.signature());
        }
        outputs.push((format!("stdout of `{what}`"), out.stdout.into_bytes()));
        outputs.push((format!("stderr of `{what}`"), out.stderr.into_bytes()));
    }
    for f in support::files_under(w) {
        outputs.push((f.display().to_string(), std::fs::read(&f).unwrap()));
    }
    assert!(
        outputs
            .iter()
            .any(|(n, b)| n.ends_with("rejects.ndjson") && !b.is_empty()),
        "no rejects were written"
    );
    assert!(
        outputs.iter().any(|(n, _)| n.ends_with("state.json")),
        "no state was written"
    );
    assert!(
        outputs.iter().any(|(n, _)| n.ends_with(".parquet")),
        "nothing was exported"
    );
    assert!(
        outputs.iter().any(|(n, _)| n.contains("describe-vpcs")),
        "no inventory was collected"
    );
    // And what the runs wrote to S3: the state and the export.
    let objects = moto.run_python(&format!(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
for b in ("{STATE_BUCKET}", "{EXPORT_BUCKET}"):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b):
        for o in page.get("Contents", []):
                print(b + "/" + o["Key"] + "\t" + s3.get_object(Bucket=b, Key=o["Key"])["Body"].read().hex())
"#
    ));
    let mut remote = 0;
    for line in objects.lines() {
        let (name, hex) = line.split_once('\t').unwrap();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        outputs.push((format!("s3://{name}"), bytes));
        remote += 1;
    }
    assert!(remote >= 3, "{objects}");

    assert!(signatures.len() > 20, "too few signed requests seen");
    let mut needles = vec![CANARY_SECRET.to_string(), CANARY_TOKEN.to_string()];
    needles.extend(signatures);
    let mut found = Vec::new();
    for (name, bytes) in &outputs {
        for l in leaks(bytes, &needles) {
            found.push(format!("{name}: {l}"));
        }
    }
    assert!(
        found.is_empty(),
        "secret material leaked:\n{}",
        found.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------
// IAM policy

/// `iam/sageflow-policy.json` with its placeholders filled in for this test's resources.
fn policy() -> Vec<Value> {
    let text = std::fs::read_to_string(format!("{ROOT}/iam/sageflow-policy.json")).unwrap();
    let mut text = text;
    for (k, v) in [
        ("LOG_BUCKET", LOG_BUCKET),
        ("LOG_PREFIX", LOG_PREFIX),
        ("LOG_GROUP", LOG_GROUP),
        ("STATE_BUCKET", STATE_BUCKET),
        ("STATE_KEY", STATE_KEY),
        ("EXPORT_BUCKET", EXPORT_BUCKET),
        ("EXPORT_PREFIX", EXPORT_PREFIX),
        ("REGION", REGION),
        ("ACCOUNT_ID", ACCOUNT),
    ] {
        assert!(text.contains(k), "the policy has no {k} placeholder");
        text = text.replace(k, v);
    }
    let doc: Value = serde_json::from_str(&text).expect("the policy is JSON");
    assert_eq!(doc["Version"], "2012-10-17");
    doc["Statement"].as_array().expect("statements").clone()
}

/// One string or a list of them.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|s| s.as_str().expect("a string").to_string())
            .collect(),
        Value::Null => Vec::new(),
        other => panic!("not a string or a list: {other}"),
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one.
fn wildcard(pattern: &str, text: &str) -> bool {
    fn go(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len()).any(|i| go(rest, &t[i..])),
            Some(('?', rest)) => !t.is_empty() && go(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && go(rest, &t[1..]),
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    go(&p, &t)
}

/// The Sid of the statement that allows `action` on `resource` with the request context
/// `ctx`, if any. Only what the policy file uses is understood: Allow statements, Action,
/// Resource, and StringLike/StringEquals conditions.
fn allowed_by(
    statements: &[Value],
    action: &str,
    resource: &str,
    ctx: &BTreeMap<&str, String>,
) -> Option<String> {
    for s in statements {
        assert_eq!(s["Effect"], "Allow", "{s}");
        let actions = strings(&s["Action"]);
        if !actions
            .iter()
            .any(|a| wildcard(&a.to_lowercase(), &action.to_lowercase()))
        {
            continue;
        }
        if !strings(&s["Resource"])
            .iter()
            .any(|r| wildcard(r, resource))
        {
            continue;
        }
        let mut conditions_hold = true;
        if let Some(cond) = s["Condition"].as_object() {
            for (op, keys) in cond {
                for (key, values) in keys.as_object().expect("condition keys") {
                    let values = strings(values);
                    let holds = ctx.get(key.as_str()).is_some_and(|v| match op.as_str() {
                        "StringLike" => values.iter().any(|p| wildcard(p, v)),
                        "StringEquals" => values.iter().any(|p| p == v),
                        other => panic!("condition operator {other} is not understood here"),
                    });
                    conditions_hold &= holds;
                }
            }
        }
        if conditions_hold {
            return Some(s["Sid"].as_str().unwrap_or("?").to_string());
        }
    }
    None
}

/// What IAM authorizes for a request: (action, resource ARN, condition context).
fn authorizations(r: &Request) -> Vec<(String, String, BTreeMap<&'static str, String>)> {
    let object = || {
        format!(
            "arn:aws:s3:::{}/{}",
            r.bucket.as_deref().unwrap_or_default(),
            r.key.as_deref().unwrap_or_default()
        )
    };
    let none = BTreeMap::new;
    match (r.service.as_str(), r.action.as_str()) {
        ("s3", "ListObjectsV2") => {
            let prefix = r.params.get("prefix").cloned().unwrap_or_default();
            vec![(
                "s3:ListBucket".into(),
                format!("arn:aws:s3:::{}", r.bucket.as_deref().unwrap_or_default()),
                BTreeMap::from([("s3:prefix", prefix)]),
            )]
        }
        ("s3", "GetObject" | "HeadObject") => vec![("s3:GetObject".into(), object(), none())],
        ("s3", "PutObject") => vec![("s3:PutObject".into(), object(), none())],
        ("s3", "DeleteObject") => vec![("s3:DeleteObject".into(), object(), none())],
        ("s3", "CopyObject") => {
            let source = r.copy_source.as_deref().unwrap_or_default();
            let source = source.trim_start_matches('/');
            let source = source.split("?versionId=").next().unwrap_or_default();
            vec![
                ("s3:PutObject".into(), object(), none()),
                (
                    "s3:GetObject".into(),
                    format!("arn:aws:s3:::{source}"),
                    none(),
                ),
            ]
        }
        ("logs", action) => {
            let group = r.json.as_ref().and_then(|j| j["logGroupName"].as_str());
            let group = group.unwrap_or_else(|| panic!("{action} without a logGroupName"));
            vec![(
                format!("logs:{action}"),
                format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{group}"),
                none(),
            )]
        }
        ("ec2" | "sagemaker", action) => {
            vec![(format!("{}:{action}", r.service), "*".into(), none())]
        }
        (service, action) => panic!("unexpected call {service}:{action} ({})", r.target),
    }
}

/// Runs scan over S3 (with an S3 state, twice), a query over CloudWatch, export to S3
/// (twice) and a query of the export, and inventory collect, through a recording proxy:
/// every request must be allowed by the policy with its resources and conditions, and the
/// policy must grant no action that no request needed.
#[test]
fn iam_policy_allows_exactly_what_the_commands_call() {
    let moto = support::moto();
    let _guard = moto.lock();
    seed(moto);
    let statements = policy();
    let work = tempfile::tempdir().unwrap();
    let logs = format!("s3://{LOG_BUCKET}/{LOG_PREFIX}");
    let group = format!("cwlogs://{LOG_GROUP}");
    let state = format!("s3://{STATE_BUCKET}/{STATE_KEY}");
    let out = format!("s3://{EXPORT_BUCKET}/{EXPORT_PREFIX}");
    let inv = format!("{ROOT}/sample-logs/inventory");
    let inv_out = work.path().join("inventory");
    let sql = "SELECT count(*) FROM flows";
    // The second run finds nothing new: allowed, as in a cron job with quiet intervals.
    let scan = [
        "scan",
        &logs,
        "--inventory",
        &inv,
        "--state",
        &state,
        "--allow-empty",
        "--allow-rejects",
    ];
    let export = [
        "export",
        &logs,
        "--inventory",
        &inv,
        "--out",
        &out,
        "--allow-rejects",
    ];
    let runs: Vec<Vec<&str>> = vec![
        scan.to_vec(),
        scan.to_vec(),
        vec!["query", &group, "--sql", sql],
        export.to_vec(),
        export.to_vec(),
        vec!["query", &out, "--sql", sql],
        vec!["inventory", "collect", "--out", inv_out.to_str().unwrap()],
    ];
    // moto has no Studio spaces API: the proxy answers it as SageMaker would.
    let space = r#"{"DomainId": "d-1", "SpaceName": "lab",
        "OwnershipSettings": {"OwnerUserProfileName": "alice"},
        "SpaceSharingSettings": {"SharingType": "Private"}}"#;
    let proxy = Proxy::start(
        &moto.endpoint,
        vec![
            Rule::on("ListSpaces").fault(Fault::Json(format!(r#"{{"Spaces": [{space}]}}"#))),
            Rule::on("DescribeSpace").fault(Fault::Json(space.to_string())),
            // Nor an MLflow API.
            Rule::on("ListMlflowTrackingServers").fault(Fault::Json(
                r#"{"TrackingServerSummaries": [{"TrackingServerName": "tracking"}]}"#.to_string(),
            )),
            Rule::on("DescribeMlflowTrackingServer").fault(Fault::Json(
                r#"{"TrackingServerName": "tracking", "TrackingServerStatus": "Created"}"#
                    .to_string(),
            )),
        ],
    );
    for args in &runs {
        let o = run(moto, &proxy.endpoint, args, &[], Path::new(ROOT));
        assert!(
            matches!(o.code, Some(0 | 1)),
            "{}: {}",
            args.join(" "),
            o.stderr
        );
    }
    let requests = proxy.requests();
    let mut used = BTreeSet::new();
    let mut denied = Vec::new();
    for r in &requests {
        for (action, resource, ctx) in authorizations(r) {
            if allowed_by(&statements, &action, &resource, &ctx).is_none() {
                denied.push(format!(
                    "{action} on {resource} {ctx:?} ({} {})",
                    r.method, r.target
                ));
            }
            used.insert(action.to_lowercase());
        }
    }
    assert!(
        denied.is_empty(),
        "the policy denies calls the commands make:\n{}",
        denied.join("\n")
    );

    let granted: BTreeSet<String> = statements
        .iter()
        .flat_map(|s| strings(&s["Action"]))
        .map(|a| a.to_lowercase())
        .collect();
    assert!(
        granted.iter().all(|a| !a.contains(['*', '?'])),
        "the policy lists exact actions: {granted:?}"
    );
    let unused: Vec<&String> = granted.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "the policy grants actions no command called: {unused:?}"
    );
    // Every kind of call was seen (a seed that stopped creating a resource would hide a
    // Describe call from the check above).
    for a in [
        "s3:listbucket",
        "s3:putobject",
        "s3:deleteobject",
        "logs:filterlogevents",
        "ec2:getmanagedprefixlistentries",
        "sagemaker:describedomain",
        "sagemaker:describetransformjob",
    ] {
        assert!(used.contains(a), "{a} was never called: {used:?}");
    }

    // The policy is tight: no write to the logs, nothing outside the prefixes and group.
    let no_ctx = BTreeMap::new();
    let log_object = format!("arn:aws:s3:::{LOG_BUCKET}/{LOG_PREFIX}AWSLogs/x.log.gz");
    for (action, resource, ctx) in [
        ("s3:PutObject", log_object.as_str(), no_ctx.clone()),
        ("s3:DeleteObject", log_object.as_str(), no_ctx.clone()),
        (
            "s3:GetObject",
            "arn:aws:s3:::other-bucket/org/x.log",
            no_ctx.clone(),
        ),
        (
            "s3:GetObject",
            &format!("arn:aws:s3:::{LOG_BUCKET}/elsewhere/x.log"),
            no_ctx.clone(),
        ),
        (
            "s3:ListBucket",
            &format!("arn:aws:s3:::{LOG_BUCKET}"),
            BTreeMap::from([("s3:prefix", "elsewhere/".to_string())]),
        ),
        (
            "s3:PutObject",
            &format!("arn:aws:s3:::{EXPORT_BUCKET}/elsewhere/x.parquet"),
            no_ctx.clone(),
        ),
        (
            "logs:FilterLogEvents",
            &format!("arn:aws:logs:{REGION}:{ACCOUNT}:log-group:other"),
            no_ctx.clone(),
        ),
        ("logs:DescribeLogGroups", "*", no_ctx.clone()),
        ("ec2:CreateFlowLogs", "*", no_ctx.clone()),
        (
            "sagemaker:CreatePresignedNotebookInstanceUrl",
            "*",
            no_ctx.clone(),
        ),
    ] {
        assert_eq!(
            allowed_by(&statements, action, resource, &ctx),
            None,
            "{action} on {resource} must not be allowed"
        );
    }
}

// ---------------------------------------------------------------------------------------
// User SQL

/// DDL, DML and COPY are refused by `sageflow query`, whether given with `--sql`, `--file`
/// or on standard input, alone or after a query, and nothing is written anywhere.
#[test]
fn user_sql_cannot_write_or_create_anything() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let target = |name: &str| d.join(name).display().to_string();
    let statements = [
        "CREATE TABLE t (a INT)".to_string(),
        "CREATE TABLE t AS SELECT * FROM flows".to_string(),
        format!(
            "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '{}'",
            target("external.csv")
        ),
        format!(
            "CREATE EXTERNAL TABLE t (a INT) STORED AS PARQUET LOCATION '{}'",
            target("external/")
        ),
        "CREATE VIEW v AS SELECT * FROM flows".to_string(),
        "CREATE SCHEMA s".to_string(),
        "INSERT INTO flows SELECT * FROM flows".to_string(),
        "DELETE FROM flows".to_string(),
        "UPDATE flows SET bytes = 0".to_string(),
        format!("COPY (SELECT * FROM flows) TO '{}'", target("copy.csv")),
        format!(
            "COPY flows TO '{}' STORED AS PARQUET",
            target("copy.parquet")
        ),
        "COPY (SELECT 1 AS a) TO 'relative.csv'".to_string(),
        "DROP TABLE flows".to_string(),
        "DROP TABLE IF EXISTS flows".to_string(),
        "DROP VIEW IF EXISTS v".to_string(),
        format!(
            "SELECT count(*) FROM flows; COPY (SELECT 1 AS a) TO '{}'",
            target("after-a-query.csv")
        ),
    ];
    let sageflow = || {
        let mut c = assert_cmd::Command::cargo_bin("sageflow").unwrap();
        c.current_dir(d).env_remove("RUST_LOG").args([
            "query",
            &format!("{ROOT}/sample-logs/v2-default"),
            "--quiet",
        ]);
        c
    };
    let sql_file = tempfile::NamedTempFile::new().unwrap();
    for sql in &statements {
        std::fs::write(sql_file.path(), sql).unwrap();
        for (how, out) in [
            ("--sql", sageflow().args(["--sql", sql]).output().unwrap()),
            (
                "--file",
                sageflow()
                    .arg("--file")
                    .arg(sql_file.path())
                    .output()
                    .unwrap(),
            ),
            (
                "stdin",
                sageflow().write_stdin(sql.as_bytes()).output().unwrap(),
            ),
        ] {
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{how} `{sql}` must be refused: {err}"
            );
            assert!(err.contains("error:"), "{how} `{sql}`: {err}");
        }
    }
    let written: Vec<PathBuf> = support::files_under(d);
    assert!(written.is_empty(), "files were created: {written:?}");
    // The same session still answers queries.
    let out = sageflow()
        .args([
            "--format",
            "csv",
            "--sql",
            "SELECT count(*) AS n FROM flows",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "n\n2236\n");
}
