//! Live inventory against moto: `inventory::collect::collect` turns EC2 and SageMaker API
//! answers into AWS-CLI-shaped documents that `inventory::load` reads back to the same
//! facts as the documents fed straight to `add_document`, and that match what was seeded.

use crate::support;

use std::collections::BTreeMap;
use std::path::Path;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use sageflow::inventory::collect::collect;
use sageflow::inventory::{EndpointType, Inventory, JobKind, RouteDestination, load};
use serde_json::Value;
use support::moto;

/// Seeds moto with a SageMaker VPC and a second, unrelated VPC; prints the ids as JSON.
const SEED: &str = r#"
import json, os, boto3
E = os.environ["ENDPOINT"]
ec2 = boto3.client("ec2", endpoint_url=E)
sm = boto3.client("sagemaker", endpoint_url=E)
s3 = boto3.client("s3", endpoint_url=E)
logs = boto3.client("logs", endpoint_url=E)

vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="100.64.0.0/16")
sub_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
sub_b = ec2.create_subnet(VpcId=vpc, CidrBlock="100.64.1.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
sg = ec2.create_security_group(GroupName="sagemaker", Description="sagemaker", VpcId=vpc)["GroupId"]

studio_desc = "[DO NOT DELETE] ENI managed by SageMaker for Studio Domain(d-abc123) - 0123456789abcdef0123456789abcdef"
studio_eni = ec2.create_network_interface(
    SubnetId=sub_a, Description=studio_desc, Groups=[sg],
    PrivateIpAddresses=[{"PrivateIpAddress": "10.20.1.10", "Primary": True},
                        {"PrivateIpAddress": "10.20.1.11", "Primary": False}],
    TagSpecifications=[{"ResourceType": "network-interface", "Tags": [
        {"Key": "ManagedByAmazonSageMakerResource",
         "Value": "arn:aws:sagemaker:us-east-1:123456789012:domain/d-abc123"}]}],
)["NetworkInterface"]["NetworkInterfaceId"]
training_eni = ec2.create_network_interface(
    SubnetId=sub_b, Description="[DO NOT DELETE] ENI managed by SageMaker for training job tj-vpc", Groups=[sg],
)["NetworkInterface"]["NetworkInterfaceId"]

rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
ec2.associate_route_table(RouteTableId=rtb, SubnetId=sub_a)
api = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.sagemaker.api",
    VpcEndpointType="Interface", SubnetIds=[sub_a], SecurityGroupIds=[sg], PrivateDnsEnabled=True)["VpcEndpoint"]
s3_gw = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3",
    VpcEndpointType="Gateway", RouteTableIds=[rtb])["VpcEndpoint"]["VpcEndpointId"]
eip = ec2.allocate_address(Domain="vpc")
nat = ec2.create_nat_gateway(SubnetId=sub_b, AllocationId=eip["AllocationId"])["NatGateway"]["NatGatewayId"]

s3.create_bucket(Bucket="flow-logs")
fmt = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${dstport} ${action} ${pkt-dst-aws-service} ${traffic-path}"
fl_s3 = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
    LogDestinationType="s3", LogDestination="arn:aws:s3:::flow-logs", LogFormat=fmt)
assert not fl_s3["Unsuccessful"], fl_s3["Unsuccessful"]
logs.create_log_group(logGroupName="vpc-flow-logs")
fl_cw = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="REJECT",
    LogGroupName="vpc-flow-logs", DeliverLogsPermissionArn="arn:aws:iam::123456789012:role/flow-logs")
assert not fl_cw["Unsuccessful"], fl_cw["Unsuccessful"]

role = "arn:aws:iam::123456789012:role/sagemaker"
vpc_config = {"SecurityGroupIds": [sg], "Subnets": [sub_a, sub_b]}
sm.create_notebook_instance(NotebookInstanceName="nb-vpc", InstanceType="ml.t3.medium", RoleArn=role,
    SubnetId=sub_a, SecurityGroupIds=[sg], DirectInternetAccess="Disabled")
sm.create_model(ModelName="model-vpc", ExecutionRoleArn=role,
    PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1", "ModelDataUrl": "s3://b/m.tar.gz"},
    VpcConfig=vpc_config)
sm.create_endpoint_config(EndpointConfigName="epc-vpc", ProductionVariants=[
    {"VariantName": "v1", "ModelName": "model-vpc", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
sm.create_endpoint(EndpointName="ep-vpc", EndpointConfigName="epc-vpc")
sm.create_endpoint_config(EndpointConfigName="epc-serverless", ProductionVariants=[
    {"VariantName": "v1", "ModelName": "model-vpc", "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}])
sm.create_training_job(TrainingJobName="tj-vpc",
    AlgorithmSpecification={"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/t:1", "TrainingInputMode": "File"},
    RoleArn=role, OutputDataConfig={"S3OutputPath": "s3://b/out"},
    ResourceConfig={"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    StoppingCondition={"MaxRuntimeInSeconds": 3600}, VpcConfig=vpc_config)
sm.create_processing_job(ProcessingJobName="pj-vpc",
    ProcessingResources={"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10}},
    AppSpecification={"ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/p:1"}, RoleArn=role,
    NetworkConfig={"VpcConfig": vpc_config})
sm.create_transform_job(TransformJobName="xj-vpc", ModelName="model-vpc",
    TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/in"}}},
    TransformOutput={"S3OutputPath": "s3://b/o"},
    TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1})
domain = sm.create_domain(DomainName="studio", AuthMode="IAM", VpcId=vpc, SubnetIds=[sub_a, sub_b],
    DefaultUserSettings={"ExecutionRole": role, "SecurityGroups": [sg]}, AppNetworkAccessType="VpcOnly")
domain_id = domain["DomainArn"].rsplit("/", 1)[1]
# HyperPod: one cluster in the VPC (its worker group overrides the VpcConfig), one without
# a VpcConfig (Slurm in SageMaker's platform VPC).
group = lambda name, n, extra={}: dict({"InstanceGroupName": name, "InstanceType": "ml.c5.xlarge",
    "InstanceCount": n, "ExecutionRole": role, "ThreadsPerCore": 1,
    "LifeCycleConfig": {"SourceS3Uri": "s3://sagemaker-lifecycle/hp", "OnCreate": "on_create.sh"}}, **extra)
sm.create_cluster(ClusterName="hp-vpc", VpcConfig={"SecurityGroupIds": [sg], "Subnets": [sub_a]},
    InstanceGroups=[group("controller", 1),
                    group("workers", 2, {"OverrideVpcConfig": {"SecurityGroupIds": [sg], "Subnets": [sub_b]}})])
sm.create_cluster(ClusterName="hp-platform", InstanceGroups=[group("login", 1)])

other = ec2.create_vpc(CidrBlock="172.31.0.0/16")["Vpc"]["VpcId"]
other_sub = ec2.create_subnet(VpcId=other, CidrBlock="172.31.0.0/20")["Subnet"]["SubnetId"]
other_eni = ec2.create_network_interface(SubnetId=other_sub, Description="web server")["NetworkInterface"]["NetworkInterfaceId"]

print(json.dumps({
    "vpc": vpc, "sub_a": sub_a, "sub_b": sub_b, "sg": sg, "rtb": rtb,
    "studio_eni": studio_eni, "training_eni": training_eni,
    "api": api["VpcEndpointId"], "api_enis": api["NetworkInterfaceIds"], "s3_gw": s3_gw,
    "nat": nat, "eip": eip["PublicIp"], "flow_log": fl_s3["FlowLogIds"][0], "format": fmt,
    "domain": domain_id, "other": other, "other_eni": other_eni,
}))
"#;

/// Client configuration for moto, built without touching the process environment.
async fn sdk(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(sageflow::aws::http_client().expect("HTTP client"))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .load()
        .await
}

fn collect_all(endpoint: &str, vpc: Option<&str>) -> Vec<(String, Value)> {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let sdk = sdk(endpoint).await;
        collect(&sdk, vpc, None, None).await
    })
    .unwrap_or_else(|e| panic!("collect failed: {e}"))
}

/// Everything `load` derives from the documents except ip-ranges, file names and the
/// order of the ENI map, printed for comparison.
fn facts(inv: &Inventory) -> String {
    let enis: BTreeMap<_, _> = inv.enis.iter().collect();
    let prefix_lists: BTreeMap<_, _> = inv.prefix_lists.iter().collect();
    format!(
        "vpcs {:#?}\nenis {enis:#?}\nvpc endpoints {:#?}\nnat {:#?}\nprefix lists {prefix_lists:#?}\n\
         route tables {:#?}\nflow logs {:#?}\nnotebooks {:#?}\ndomains {:#?}\njobs {:#?}\n\
         models {:#?}\nendpoint configs {:#?}\nendpoints {:#?}\nunassigned {:#?}\n\
         clusters {:#?}\ncluster nodes {:#?}",
        inv.vpcs,
        inv.vpc_endpoints,
        inv.nat_gateways,
        inv.route_tables,
        inv.flow_logs,
        inv.notebooks,
        inv.domains,
        inv.jobs,
        inv.models,
        inv.endpoint_configs,
        inv.endpoints,
        inv.unassigned_prefix_list_entries,
        inv.clusters,
        // Without the file each was read from.
        inv.cluster_nodes
            .iter()
            .map(|n| (&n.cluster, &n.instance_id, &n.group, n.private_ip))
            .collect::<Vec<_>>(),
    )
}

fn write_docs(dir: &Path, docs: &[(String, Value)]) {
    for (name, doc) in docs {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        let text = serde_json::to_string_pretty(doc).expect("json");
        std::fs::write(&path, text).expect("write");
    }
}

/// The inventory `load` reads from `docs` written to disk, which must load without a
/// warning.
fn load_back(docs: &[(String, Value)]) -> Inventory {
    let dir = tempfile::tempdir().expect("tempdir");
    write_docs(dir.path(), docs);
    let inv = load::load(dir.path(), None).expect("load");
    assert!(inv.warnings.is_empty(), "{:#?}", inv.warnings);
    inv
}

fn s<'a>(ids: &'a Value, key: &str) -> &'a str {
    ids[key]
        .as_str()
        .unwrap_or_else(|| panic!("seed printed no {key}"))
}

#[test]
fn collected_documents_load_back_to_the_seeded_inventory() {
    let m = moto();
    let _guard = m.lock();
    let ids: Value = serde_json::from_str(m.run_python(SEED).trim()).expect("seed ids");

    let docs = collect_all(&m.endpoint, None);
    let names: Vec<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
    for expected in [
        "describe-vpcs.json",
        "describe-network-interfaces.json",
        "describe-vpc-endpoints.json",
        "describe-nat-gateways.json",
        "describe-managed-prefix-lists.json",
        "describe-route-tables.json",
        "describe-flow-logs.json",
        "sagemaker/describe-notebook-instance-nb-vpc.json",
        "sagemaker/describe-training-job-tj-vpc.json",
        "sagemaker/describe-processing-job-pj-vpc.json",
        "sagemaker/describe-transform-job-xj-vpc.json",
        "sagemaker/describe-model-model-vpc.json",
        "sagemaker/describe-endpoint-config-epc-vpc.json",
        "sagemaker/describe-endpoint-ep-vpc.json",
        "sagemaker/describe-cluster-hp-vpc.json",
        "sagemaker/describe-cluster-hp-platform.json",
        "sagemaker/list-cluster-nodes-hp-vpc.json",
        "sagemaker/describe-cluster-node-hp-vpc.json",
    ] {
        assert!(names.contains(&expected), "no {expected} in {names:?}");
    }
    let domain_doc = format!("sagemaker/describe-domain-{}.json", s(&ids, "domain"));
    assert!(names.contains(&domain_doc.as_str()), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("get-managed-prefix-list-entries-pl-")),
        "{names:?}"
    );

    // The round trip: files on disk read by `load` = documents fed to `add_document`.
    let loaded = load_back(&docs);
    assert_eq!(loaded.files.len(), docs.len());
    let mut direct = Inventory::default();
    for (name, doc) in &docs {
        load::add_document(&mut direct, name, doc.clone());
    }
    load::finish(&mut direct);
    assert!(direct.warnings.is_empty(), "{:#?}", direct.warnings);
    assert_eq!(facts(&loaded), facts(&direct));

    // ... and both say what was seeded.
    let inv = &loaded;
    let vpc = s(&ids, "vpc");
    let v = inv.vpcs.iter().find(|v| v.id == vpc).expect("seeded VPC");
    let cidrs: Vec<String> = v.cidrs.iter().map(ToString::to_string).collect();
    assert_eq!(cidrs, vec!["10.20.0.0/16", "100.64.0.0/16"]);

    let studio = &inv.enis[s(&ids, "studio_eni")];
    assert_eq!(
        studio.description,
        "[DO NOT DELETE] ENI managed by SageMaker for Studio Domain(d-abc123) - 0123456789abcdef0123456789abcdef"
    );
    assert_eq!(studio.vpc_id.as_deref(), Some(vpc));
    assert_eq!(studio.subnet_id.as_deref(), Some(s(&ids, "sub_a")));
    assert_eq!(studio.interface_type, "interface");
    let addrs: Vec<String> = studio.addresses.iter().map(ToString::to_string).collect();
    assert_eq!(addrs, vec!["10.20.1.10", "10.20.1.11"]);
    assert_eq!(studio.security_group_ids, vec![s(&ids, "sg")]);
    assert_eq!(studio.security_group_names, vec!["sagemaker"]);
    assert_eq!(
        studio.tags,
        vec![(
            "ManagedByAmazonSageMakerResource".to_string(),
            "arn:aws:sagemaker:us-east-1:123456789012:domain/d-abc123".to_string()
        )]
    );
    let training = &inv.enis[s(&ids, "training_eni")];
    assert!(
        training.description.ends_with("for training job tj-vpc"),
        "{}",
        training.description
    );
    assert!(inv.enis.contains_key(s(&ids, "other_eni")));

    let api = inv
        .vpc_endpoints
        .iter()
        .find(|e| e.id == s(&ids, "api"))
        .expect("interface endpoint");
    assert_eq!(api.service_name, "com.amazonaws.us-east-1.sagemaker.api");
    assert_eq!(api.endpoint_type, EndpointType::Interface);
    assert_eq!(api.vpc_id, vpc);
    assert_eq!(api.private_dns_enabled, Some(true));
    let api_enis: Vec<&str> = ids["api_enis"]
        .as_array()
        .expect("api enis")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(api.eni_ids, api_enis);
    assert!(api.eni_ids.iter().all(|e| inv.enis.contains_key(e)));
    let gw = inv
        .vpc_endpoints
        .iter()
        .find(|e| e.id == s(&ids, "s3_gw"))
        .expect("gateway endpoint");
    assert_eq!(gw.endpoint_type, EndpointType::Gateway);
    assert_eq!(gw.service_name, "com.amazonaws.us-east-1.s3");
    assert_eq!(gw.route_table_ids, vec![s(&ids, "rtb")]);

    // The gateway endpoint's route leads to a prefix list whose CIDRs were fetched.
    let rt = inv
        .route_tables
        .iter()
        .find(|r| r.id == s(&ids, "rtb"))
        .expect("route table");
    assert_eq!(rt.subnet_ids, vec![s(&ids, "sub_a")]);
    let pl = rt
        .routes
        .iter()
        .find_map(|r| match &r.destination {
            RouteDestination::PrefixList(pl) if r.target == s(&ids, "s3_gw") => Some(pl),
            _ => None,
        })
        .expect("route to the S3 prefix list");
    let s3_list = &inv.prefix_lists[pl];
    assert_eq!(s3_list.name, "com.amazonaws.us-east-1.s3");
    assert!(!s3_list.cidrs.is_empty());

    let nat = inv
        .nat_gateways
        .iter()
        .find(|n| n.id == s(&ids, "nat"))
        .expect("NAT gateway");
    let public: Vec<String> = nat.public_ips.iter().map(ToString::to_string).collect();
    assert_eq!(public, vec![s(&ids, "eip")]);
    assert_eq!(nat.eni_ids.len(), 1);
    assert_eq!(nat.private_ips.len(), 1);
    assert_eq!(nat.vpc_id, vpc);
    assert_eq!(nat.subnet_id.as_deref(), Some(s(&ids, "sub_b")));

    let fl = inv
        .flow_logs
        .iter()
        .find(|f| f.id == s(&ids, "flow_log"))
        .expect("S3 flow log");
    assert_eq!(fl.log_format.as_deref(), Some(s(&ids, "format")));
    assert_eq!(fl.resource_id, vpc);
    assert_eq!(fl.destination_type.as_deref(), Some("s3"));
    assert_eq!(fl.destination.as_deref(), Some("arn:aws:s3:::flow-logs"));
    let cw = inv
        .flow_logs
        .iter()
        .find(|f| f.destination_type.as_deref() == Some("cloud-watch-logs"))
        .expect("CloudWatch flow log");
    assert_eq!(cw.log_group_name.as_deref(), Some("vpc-flow-logs"));
    assert!(cw.log_format.is_some());

    assert_eq!(inv.notebooks.len(), 1);
    let nb = &inv.notebooks[0];
    assert_eq!(nb.name, "nb-vpc");
    assert_eq!(nb.subnet_id.as_deref(), Some(s(&ids, "sub_a")));
    assert_eq!(nb.security_group_ids, vec![s(&ids, "sg")]);
    assert!(!nb.direct_internet_access);

    assert_eq!(inv.domains.len(), 1);
    let d = &inv.domains[0];
    assert_eq!(d.id, s(&ids, "domain"));
    assert_eq!(d.name, "studio");
    assert_eq!(d.app_network_access_type, "VpcOnly");
    assert_eq!(d.vpc_id.as_deref(), Some(vpc));
    assert_eq!(d.subnet_ids, vec![s(&ids, "sub_a"), s(&ids, "sub_b")]);
    assert_eq!(d.security_group_ids, vec![s(&ids, "sg")]);

    let subnets = vec![s(&ids, "sub_a"), s(&ids, "sub_b")];
    assert_eq!(inv.models.len(), 1);
    assert_eq!(inv.models[0].name, "model-vpc");
    assert_eq!(inv.models[0].security_group_ids, vec![s(&ids, "sg")]);
    assert_eq!(inv.models[0].subnets, subnets);
    assert_eq!(inv.endpoint_configs.len(), 2);
    let config = |name: &str| {
        inv.endpoint_configs
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no {name} in {:#?}", inv.endpoint_configs))
    };
    assert_eq!(config("epc-vpc").model_names, vec!["model-vpc"]);
    assert!(!config("epc-vpc").serverless);
    // Serverless inference runs in no VPC of yours: the document must say it is.
    assert_eq!(config("epc-serverless").model_names, vec!["model-vpc"]);
    assert!(config("epc-serverless").serverless);
    assert_eq!(inv.endpoints.len(), 1);
    assert_eq!(inv.endpoints[0].name, "ep-vpc");
    assert_eq!(inv.endpoints[0].config_name, "epc-vpc");

    let job = |kind: JobKind| {
        inv.jobs
            .iter()
            .find(|j| j.kind == kind)
            .unwrap_or_else(|| panic!("no {kind:?} job in {:#?}", inv.jobs))
    };
    let tj = job(JobKind::Training);
    assert_eq!(tj.name, "tj-vpc");
    assert_eq!(tj.subnets, subnets);
    assert_eq!(tj.security_group_ids, vec![s(&ids, "sg")]);
    assert!(tj.start.is_some() && tj.end.is_some(), "{tj:?}");
    let pj = job(JobKind::Processing);
    assert_eq!(pj.name, "pj-vpc");
    assert_eq!(pj.subnets, subnets);
    assert!(pj.end.is_some(), "{pj:?}");
    let xj = job(JobKind::Transform);
    assert_eq!(xj.name, "xj-vpc");
    assert_eq!(xj.model_name.as_deref(), Some("model-vpc"));
    assert!(xj.start.is_some(), "{xj:?}");

    // HyperPod: each node tied to its cluster, though neither node document of the CLI
    // names it; the worker group's override kept; the cluster without a VpcConfig runs
    // outside every VPC of yours.
    assert_eq!(inv.clusters.len(), 2, "{:#?}", inv.clusters);
    let hp = &inv.clusters[1];
    assert_eq!(hp.name, "hp-vpc");
    assert_eq!(hp.orchestrator, "slurm");
    assert_eq!(hp.subnets, vec![s(&ids, "sub_a")]);
    assert_eq!(hp.security_group_ids, vec![s(&ids, "sg")]);
    let workers = hp
        .groups
        .iter()
        .find(|g| g.name == "workers")
        .expect("workers group");
    assert_eq!(workers.subnets, vec![s(&ids, "sub_b")]);
    assert!(hp.created.is_some());
    assert!(
        hp.arn.as_deref().is_some_and(|a| a.contains(":cluster/")),
        "{hp:?}"
    );
    let platform = &inv.clusters[0];
    assert_eq!(platform.name, "hp-platform");
    assert!(platform.subnets.is_empty());
    let nodes: Vec<(&str, &str, Option<&str>)> = inv
        .cluster_nodes
        .iter()
        .map(|n| {
            (
                n.cluster.as_str(),
                n.instance_id.as_str(),
                n.group.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        nodes,
        vec![
            ("hp-platform", "login-0", Some("login")),
            ("hp-vpc", "controller-0", Some("controller")),
            ("hp-vpc", "workers-0", Some("workers")),
            ("hp-vpc", "workers-1", Some("workers")),
        ]
    );
    let outside: Vec<(&str, Option<bool>)> = inv
        .placements()
        .iter()
        .filter(|p| p.placed == sageflow::inventory::Placed::Cluster)
        .map(|p| (p.name, p.outside_vpc))
        .collect();
    assert_eq!(
        outside,
        vec![("hp-platform", Some(true)), ("hp-vpc", Some(false))]
    );

    // Times are printed as the CLI prints them.
    let (_, tj_doc) = docs
        .iter()
        .find(|(n, _)| n == "sagemaker/describe-training-job-tj-vpc.json")
        .expect("training job document");
    let start = tj_doc["TrainingStartTime"].as_str().expect("a string time");
    assert!(
        start.len() >= "2026-11-20T10:00:00+00:00".len() && start.ends_with("+00:00"),
        "{start}"
    );
}

#[test]
fn a_vpc_restricts_the_ec2_documents() {
    let m = moto();
    let _guard = m.lock();
    let ids: Value = serde_json::from_str(m.run_python(SEED).trim()).expect("seed ids");
    let other = s(&ids, "other");

    let docs = collect_all(&m.endpoint, Some(other));
    let mut inv = Inventory::default();
    for (name, doc) in &docs {
        load::add_document(&mut inv, name, doc.clone());
    }
    load::finish(&mut inv);

    let vpcs: Vec<&str> = inv.vpcs.iter().map(|v| v.id.as_str()).collect();
    assert_eq!(vpcs, vec![other]);
    let enis: Vec<&str> = inv.enis.keys().map(String::as_str).collect();
    assert_eq!(enis, vec![s(&ids, "other_eni")]);
    assert!(!inv.enis.contains_key(s(&ids, "studio_eni")));
    assert!(inv.vpc_endpoints.is_empty(), "{:?}", inv.vpc_endpoints);
    assert!(inv.nat_gateways.is_empty(), "{:?}", inv.nat_gateways);
    assert!(inv.route_tables.iter().all(|r| r.vpc_id == other));
    // SageMaker resources are not filtered by VPC.
    assert_eq!(inv.notebooks.len(), 1);
    assert!(inv.warnings.is_empty(), "{:#?}", inv.warnings);
}

/// A stand-in for AWS on loopback: `answer` gets each request's lower-cased head and its
/// body and returns (status, content type, body); returns the endpoint.
fn fake_http(
    answer: impl Fn(&str, &[u8]) -> (&'static str, &'static str, String) + Send + Sync + 'static,
) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("addr"));
    let answer = std::sync::Arc::new(answer);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let (mut length, mut head) = (0usize, String::new());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    let lower = line.to_ascii_lowercase();
                    if let Some(v) = lower.strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    head += &lower;
                }
                let mut body = vec![0; length];
                let _ = reader.read_exact(&mut body);
                let (status, kind, text) = answer(&head, &body);
                let _ = write!(
                    &stream,
                    "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                    text.len()
                );
            });
        }
    });
    endpoint
}

/// A stand-in for AWS that answers every request with `status` and a body in the
/// service's error format (JSON for SageMaker, whose requests carry X-Amz-Target; XML
/// for EC2); returns its endpoint.
fn fake_aws(status: &'static str, json_body: &'static str, xml_body: &'static str) -> String {
    fake_http(move |head, _| {
        if head.contains("x-amz-target:") {
            (status, "application/x-amz-json-1.1", json_body.to_string())
        } else {
            (status, "text/xml", xml_body.to_string())
        }
    })
}

/// A stand-in for SageMaker's API calls moto lacks: `answer` gets the action (lower
/// case) and the request, and gives the JSON of a 200 answer, or `None`; every other call
/// answers 501, which the collection skips.
fn fake_sagemaker(
    answer: impl Fn(&str, &Value) -> Option<String> + Send + Sync + 'static,
) -> String {
    fake_http(move |head, body| {
        let json = "application/x-amz-json-1.1";
        let Some(action) = head
            .lines()
            .find_map(|l| l.strip_prefix("x-amz-target: sagemaker."))
        else {
            return ("501 Not Implemented", "text/xml", String::new());
        };
        let req: Value = serde_json::from_slice(body).unwrap_or_default();
        match answer(action.trim(), &req) {
            Some(text) => ("200 OK", json, text),
            None => ("501 Not Implemented", json, "{}".to_string()),
        }
    })
}

#[test]
fn calls_the_endpoint_does_not_implement_are_skipped() {
    let endpoint = fake_aws("501 Not Implemented", "{}", "");
    let docs = collect_all(&endpoint, None);
    assert!(docs.is_empty(), "{docs:?}");

    let endpoint = fake_aws(
        "400 Bad Request",
        r#"{"__type": "UnknownOperationException", "message": "Unknown operation"}"#,
        "<Response><Errors><Error><Code>InvalidAction</Code><Message>The action is not valid for this web service.</Message></Error></Errors><RequestID>r</RequestID></Response>",
    );
    let docs = collect_all(&endpoint, None);
    assert!(docs.is_empty(), "{docs:?}");
}

#[test]
fn other_errors_fail_naming_the_call() {
    let endpoint = fake_aws(
        "403 Forbidden",
        r#"{"__type": "AccessDeniedException", "message": "User is not authorized to perform sagemaker:List"}"#,
        "<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>You are not authorized to perform this operation.</Message></Error></Errors><RequestID>r</RequestID></Response>",
    );
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let err = rt
        .block_on(async { collect(&sdk(&endpoint).await, None, None, None).await })
        .expect_err("access denied must fail");
    match &err {
        sageflow::Error::Source {
            source_name,
            message,
        } => {
            assert!(
                source_name.starts_with("ec2:") || source_name.starts_with("sagemaker:"),
                "{source_name}"
            );
            assert!(message.contains("not authorized"), "{message}");
        }
        other => panic!("unexpected error {other:?}"),
    }
}

/// `--since`: the jobs modified in the window and those still running, no others.
#[test]
fn since_describes_only_the_jobs_of_the_window() {
    let m = moto();
    let _guard = m.lock();
    m.run_python(SEED);
    let now = chrono::Utc::now().timestamp();
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let jobs = |since: Option<i64>| -> Vec<(String, String)> {
        let docs = rt
            .block_on(async { collect(&sdk(&m.endpoint).await, None, since, None).await })
            .expect("collect");
        let mut jobs: Vec<(String, String)> = docs
            .iter()
            .filter(|(n, _)| n.contains("-job-"))
            .map(|(n, d)| {
                let status = [
                    "TrainingJobStatus",
                    "ProcessingJobStatus",
                    "TransformJobStatus",
                ]
                .iter()
                .find_map(|k| d[*k].as_str())
                .unwrap_or("")
                .to_string();
                (n.clone(), status)
            })
            .collect();
        jobs.sort();
        jobs
    };
    let all = jobs(None);
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(
        jobs(Some(now - 86_400)),
        all,
        "all three ran in the last day"
    );
    let running: Vec<(String, String)> = all
        .iter()
        .filter(|(_, s)| s == "InProgress")
        .cloned()
        .collect();
    assert_eq!(
        jobs(Some(now + 86_400)),
        running,
        "from tomorrow on: only what still runs"
    );
}

/// `inventory collect` saves the current ip-ranges.json next to the documents, and the
/// inventory then uses it instead of the built-in snapshot; offline it says how to get it.
#[test]
fn collect_saves_ip_ranges_and_the_inventory_uses_them() {
    use std::io::BufRead;
    let m = moto();
    let _guard = m.lock();
    m.run_python(SEED);
    let site = tempfile::tempdir().unwrap();
    std::fs::write(
        site.path().join("ip-ranges.json"),
        r#"{"syncToken":"1","createDate":"2099-01-01-00-00-00",
            "prefixes":[{"ip_prefix":"198.51.100.0/24","region":"us-east-1","service":"S3","network_border_group":"us-east-1"}],
            "ipv6_prefixes":[]}"#,
    )
    .unwrap();
    let mut server = std::process::Command::new(m.python())
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .current_dir(site.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .split("port ")
        .nth(1)
        .and_then(|p| p.split_whitespace().next())
        .unwrap_or_else(|| panic!("http.server said {line:?}"));
    let out_dir = tempfile::tempdir().unwrap();
    let inv = out_dir.path().join("inventory");
    // `inventory collect` into `out`, fetching ip-ranges.json from `url`.
    let collect = |url: &str, out: &std::path::Path| {
        m.sageflow()
            .env("SAGEFLOW_IP_RANGES_URL", url)
            .args([
                "inventory",
                "collect",
                "--endpoint-url",
                &m.endpoint,
                "--out",
            ])
            .arg(out)
            .output()
            .unwrap()
    };
    let out = collect(&format!("http://127.0.0.1:{port}/ip-ranges.json"), &inv);
    let _ = server.kill();
    let _ = server.wait();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("(createDate 2099-01-01-00-00-00)"), "{err}");
    let out = m
        .sageflow()
        .args(["inventory", "show", "--inventory"])
        .arg(&inv)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        shown.contains("ip-ranges.json, createDate 2099-01-01-00-00-00"),
        "{shown}"
    );
    assert!(!shown.contains("warning:"), "{shown}");
    // Offline: a warning with the command that fetches it, and the rest is collected.
    let offline = out_dir.path().join("offline");
    let out = collect("http://127.0.0.1:1/ip-ranges.json", &offline);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("curl -o") && err.contains("https://ip-ranges.amazonaws.com/ip-ranges.json"),
        "{err}"
    );
    assert!(!offline.join("ip-ranges.json").exists());
    assert!(offline.join("describe-vpcs.json").exists());
}

/// `inventory collect --dated` on a schedule into an S3 prefix: each run is a snapshot
/// folder named by its time, and `--inventory` over the prefix attributes an ENI the
/// newest snapshot no longer lists (a finished job's) within the time it was listed.
#[test]
fn dated_collects_into_s3_are_snapshots_over_time() {
    let m = moto();
    let _guard = m.lock();
    let ids: Value = serde_json::from_str(m.run_python(SEED).trim()).expect("seed ids");
    m.run_python(
        "import boto3, os\nboto3.client('s3', endpoint_url=os.environ['ENDPOINT']).create_bucket(Bucket='inventory-snapshots')\n",
    );
    let prefix = "s3://inventory-snapshots/111122223333/us-east-1";
    let collect = || {
        let out = m
            .sageflow()
            .env(
                "SAGEFLOW_IP_RANGES_URL",
                "http://127.0.0.1:1/ip-ranges.json",
            )
            .args([
                "inventory",
                "collect",
                "--endpoint-url",
                &m.endpoint,
                "--dated",
                "--out",
                prefix,
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(0), "{err}");
        err
    };
    let first = collect();
    assert!(
        first.contains("documents to s3://inventory-snapshots/111122223333/us-east-1/20"),
        "{first}"
    );
    // The job ends and SageMaker deletes its ENI before the next scheduled collect.
    let training = s(&ids, "training_eni");
    m.run_python(&format!(
        "import boto3, os\nboto3.client('ec2', endpoint_url=os.environ['ENDPOINT']).delete_network_interface(NetworkInterfaceId='{training}')\n"
    ));
    // Folder names have seconds: the next run is another folder.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    collect();

    let out = m
        .sageflow()
        .args([
            "inventory",
            "show",
            "--endpoint-url",
            &m.endpoint,
            "--inventory",
            prefix,
        ])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!shown.contains("warning:"), "{shown}");
    assert!(
        shown.contains("Inventory snapshots: 2 dated describe-network-interfaces"),
        "{shown}"
    );
    let line = shown
        .lines()
        .find(|l| l.trim_start().starts_with(training))
        .unwrap_or_else(|| panic!("{training} not in {shown}"));
    assert!(
        line.contains("deleted before the inventory; snapshots: s3://inventory-snapshots/"),
        "{line}"
    );
    let listed = shown.split("ENI lifetimes").next().unwrap();
    assert!(listed.contains(s(&ids, "studio_eni")), "{shown}");
}

/// A stand-in for CloudTrail's `LookupEvents` (moto does not implement it): events by
/// (name, page token); every other call answers 501, which the collection skips.
fn fake_cloudtrail(events: std::collections::HashMap<(String, String), String>) -> String {
    fake_http(move |head, body| {
        if !(head.contains("x-amz-target:") && head.contains("lookupevents")) {
            return (
                "501 Not Implemented",
                "application/x-amz-json-1.1",
                "{}".to_string(),
            );
        }
        let req: Value = serde_json::from_slice(body).unwrap_or_default();
        assert!(
            req["StartTime"].is_number() && req["EndTime"].is_number(),
            "{req}"
        );
        let name = req["LookupAttributes"][0]["AttributeValue"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let page = req["NextToken"].as_str().unwrap_or("").to_string();
        let text = events
            .get(&(name, page))
            .cloned()
            .unwrap_or_else(|| r#"{"Events": []}"#.to_string());
        ("200 OK", "application/x-amz-json-1.1", text)
    })
}

/// `inventory collect --cloudtrail`: the ENI events of CloudTrail's event history (every
/// page, oldest first, tags of other resources left out) are saved as one
/// `{"Records": [...]}` document that the inventory turns into lifetimes, as it does a
/// trail's files. The records are the AWS documentation's `CreateNetworkInterface`
/// example (`tests/data/cloudtrail/`) with this test's ids, addresses and times.
#[test]
fn cloudtrail_event_history_gives_eni_lifetimes() {
    use serde_json::json;
    const T0: i64 = 1_795_168_800;
    let iso = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(
            support::root().join("tests/data/cloudtrail/create-network-interface.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let create = |id: &str, ip: &str, t: i64| {
        let mut r = fixture.clone();
        r["eventTime"] = json!(iso(t));
        let n = &mut r["responseElements"]["networkInterface"];
        n["networkInterfaceId"] = json!(id);
        n["privateIpAddress"] = json!(ip);
        n["privateIpAddressesSet"]["item"][0]["privateIpAddress"] = json!(ip);
        r
    };
    let call = |name: &str, t: i64, params: Value| {
        json!({"eventVersion": "1.08", "eventTime": iso(t), "eventSource": "ec2.amazonaws.com",
               "eventName": name, "awsRegion": "us-east-1", "requestParameters": params,
               "responseElements": {"_return": true}, "eventType": "AwsApiCall",
               "recipientAccountId": "111122223333"})
    };
    let tags = |id: &str| {
        json!({"resourcesSet": {"items": [{"resourceId": id}]},
               "tagSet": {"items": [{"key": "Name", "value": "training"}]}})
    };
    let event = |record: &Value, resource: &str| {
        json!({"EventId": "e", "EventName": record["eventName"], "ReadOnly": "false",
               "EventTime": T0, "EventSource": "ec2.amazonaws.com",
               "Resources": [{"ResourceType": "AWS::EC2::NetworkInterface", "ResourceName": resource}],
               "CloudTrailEvent": record.to_string()})
    };
    let page = |events: Vec<Value>, next: Option<&str>| {
        let mut p = json!({ "Events": events });
        if let Some(n) = next {
            p["NextToken"] = json!(n);
        }
        p.to_string()
    };
    let (a, b) = ("eni-0lk0000000000000a", "eni-0lk0000000000000b");
    let mut events = std::collections::HashMap::new();
    let k = |name: &str, token: &str| (name.to_string(), token.to_string());
    // Newest first, as the history answers.
    events.insert(
        k("CreateNetworkInterface", ""),
        page(
            vec![event(&create(b, "10.20.1.78", T0 + 3605), b)],
            Some("more"),
        ),
    );
    events.insert(
        k("CreateNetworkInterface", "more"),
        page(vec![event(&create(a, "10.20.1.77", T0 + 5), a)], None),
    );
    events.insert(
        k("DeleteNetworkInterface", ""),
        page(
            vec![event(
                &call(
                    "DeleteNetworkInterface",
                    T0 + 2460,
                    json!({"networkInterfaceId": a}),
                ),
                a,
            )],
            None,
        ),
    );
    events.insert(
        k("CreateTags", ""),
        page(
            vec![
                event(&call("CreateTags", T0 + 3700, tags(b)), b),
                event(&call("CreateTags", T0 + 3600, tags("sg-0aaa")), "sg-0aaa"),
            ],
            None,
        ),
    );
    let endpoint = fake_cloudtrail(events);
    let docs = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async {
            collect(
                &sdk(&endpoint).await,
                None,
                None,
                Some((T0 - 86_400, T0 + 86_400)),
            )
            .await
        })
        .unwrap_or_else(|e| panic!("collect failed: {e}"));
    let names: Vec<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        vec!["cloudtrail/lookup-events.json"],
        "the rest is 501"
    );
    let records = docs[0].1["Records"].as_array().unwrap();
    let order: Vec<(&str, &str)> = records
        .iter()
        .map(|r| {
            (
                r["eventName"].as_str().unwrap(),
                r["eventTime"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("CreateNetworkInterface", "2026-11-20T10:00:05Z"),
            ("DeleteNetworkInterface", "2026-11-20T10:41:00Z"),
            ("CreateNetworkInterface", "2026-11-20T11:00:05Z"),
            ("CreateTags", "2026-11-20T11:01:40Z"),
        ]
    );

    let mut inv = load::empty(None).unwrap();
    load::add_file(
        &mut inv,
        "cloudtrail/lookup-events.json",
        docs[0].1.to_string().as_bytes(),
    )
    .unwrap();
    load::finish(&mut inv);
    assert!(inv.warnings.is_empty(), "{:#?}", inv.warnings);
    let lives: Vec<(&str, Option<i64>, Option<i64>)> = inv
        .lifetimes
        .iter()
        .map(|l| (l.eni.id.as_str(), l.created, l.deleted))
        .collect();
    assert_eq!(
        lives,
        vec![
            (a, Some(T0 + 5), Some(T0 + 2460)),
            (b, Some(T0 + 3605), None)
        ]
    );
    assert_eq!(
        inv.lifetimes[1].eni.tags,
        vec![("Name".to_string(), "training".to_string())]
    );
}

/// Studio spaces (moto has no spaces API, so a stand-in answers `ListSpaces` and
/// `DescribeSpace` as SageMaker does, and nothing else): each space is described into a
/// `describe-space` document that loads back with its owner and sharing type.
#[test]
fn studio_spaces_are_collected_with_their_owner() {
    let endpoint = fake_sagemaker(|action, req| match action {
        "listspaces" => Some(
            r#"{"Spaces": [
                {"DomainId": "d-abc123", "SpaceName": "alice-lab", "Status": "InService",
                 "OwnershipSettingsSummary": {"OwnerUserProfileName": "alice"},
                 "SpaceSharingSettingsSummary": {"SharingType": "Private"}},
                {"DomainId": "d-abc123", "SpaceName": "team", "Status": "InService",
                 "OwnershipSettingsSummary": {"OwnerUserProfileName": "bob"},
                 "SpaceSharingSettingsSummary": {"SharingType": "Shared"}}]}"#
                .to_string(),
        ),
        "describespace" => {
            let name = req["SpaceName"].as_str().unwrap_or("").to_string();
            let (owner, sharing) = match name.as_str() {
                "alice-lab" => ("alice", "Private"),
                _ => ("bob", "Shared"),
            };
            let text = serde_json::json!({
                "DomainId": req["DomainId"],
                "SpaceArn": format!("arn:aws:sagemaker:us-east-1:123456789012:space/d-abc123/{name}"),
                "SpaceName": name,
                "Status": "InService",
                "CreationTime": 1795500000.0,
                "OwnershipSettings": {"OwnerUserProfileName": owner},
                "SpaceSharingSettings": {"SharingType": sharing}
            });
            Some(text.to_string())
        }
        _ => None,
    });
    let docs = collect_all(&endpoint, None);
    let names: Vec<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "sagemaker/describe-space-d-abc123.alice-lab.json",
            "sagemaker/describe-space-d-abc123.team.json"
        ]
    );
    let inv = load_back(&docs);
    let space = |name: &str, owner: &str, shared| sageflow::inventory::Space {
        domain_id: "d-abc123".into(),
        name: name.into(),
        owner: Some(owner.into()),
        shared,
    };
    assert_eq!(
        inv.spaces,
        [
            space("alice-lab", "alice", false),
            space("team", "bob", true)
        ]
    );
}

/// MLflow tracking servers (moto has no MLflow API, so a stand-in answers
/// `ListMlflowTrackingServers` and `DescribeMlflowTrackingServer` as SageMaker does): each
/// server is described into a document that loads back with its artifact store.
#[test]
fn mlflow_tracking_servers_are_collected() {
    let endpoint = fake_sagemaker(|action, req| match action {
        "listmlflowtrackingservers" => Some(
            r#"{"TrackingServerSummaries": [
                {"TrackingServerName": "research", "TrackingServerStatus": "Created",
                 "CreationTime": 1795500000.0}]}"#
                .to_string(),
        ),
        "describemlflowtrackingserver" => {
            let text = serde_json::json!({
                "TrackingServerArn": "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/research",
                "TrackingServerName": req["TrackingServerName"],
                "ArtifactStoreUri": "s3://ml-artifacts/mlflow",
                "TrackingServerStatus": "Created",
                "IsActive": "Active",
                "CreationTime": 1795500000.0
            });
            Some(text.to_string())
        }
        _ => None,
    });
    let docs = collect_all(&endpoint, None);
    let names: Vec<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["sagemaker/describe-mlflow-tracking-server-research.json"]
    );
    let inv = load_back(&docs);
    assert_eq!(
        inv.mlflow_servers,
        [sageflow::inventory::MlflowServer {
            name: "research".into(),
            created: Some(1795500000),
            status: Some("Created".into()),
            artifact_store: Some("s3://ml-artifacts/mlflow".into()),
        }]
    );
}
