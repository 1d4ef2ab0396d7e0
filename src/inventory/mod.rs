//! What sageflow knows about the account: VPCs, ENIs, endpoints, NAT gateways, prefix
//! lists, route tables, flow-log configurations, SageMaker resources and AWS ip-ranges.
//!
//! Users save the **unmodified output of the AWS CLI** (`aws ec2 describe-… > x.json`,
//! `aws sagemaker describe-… > y.json`) and point `--inventory` at a file or directory;
//! each JSON document is recognised by its top-level keys (SageMaker documents by their
//! name keys, e.g. `TrainingJobName`), one document per file or a JSON array of them.
//! Anything that cannot be used is reported as a warning, never silently ignored.

pub mod collect;
pub mod load;
pub mod prefix;
pub mod ranges;
pub mod show;

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

pub use prefix::PrefixMap;
pub use ranges::IpRanges;

/// Everything loaded from `--inventory` (and ip-ranges).
#[derive(Debug, Default)]
pub struct Inventory {
    pub vpcs: Vec<Vpc>,
    /// ENIs by id.
    pub enis: HashMap<String, Eni>,
    pub vpc_endpoints: Vec<VpcEndpoint>,
    pub nat_gateways: Vec<NatGateway>,
    /// Prefix lists by id (`pl-…`), entries filled from get-managed-prefix-list-entries.
    pub prefix_lists: HashMap<String, PrefixList>,
    pub route_tables: Vec<RouteTable>,
    pub flow_logs: Vec<FlowLogConfig>,
    pub notebooks: Vec<Notebook>,
    pub domains: Vec<Domain>,
    pub jobs: Vec<Job>,
    pub models: Vec<Model>,
    pub endpoint_configs: Vec<EndpointConfig>,
    pub endpoints: Vec<SageMakerEndpoint>,
    pub ip_ranges: IpRanges,
    /// Documents and fields that could not be used, each naming the file.
    pub warnings: Vec<String>,
    /// Files read.
    pub files: Vec<String>,
    /// `get-managed-prefix-list-entries` output whose list id is not known yet (the CLI
    /// output carries none and the file name did not give one), as (file, CIDRs);
    /// [`load::finish`] assigns them to the only known prefix list or reports them.
    pub unassigned_prefix_list_entries: Vec<(String, Vec<IpNet>)>,
}

#[derive(Debug, Clone, Default)]
pub struct Vpc {
    pub id: String,
    /// Every associated IPv4 and IPv6 CIDR (primary, secondary, IPv6), associated state only.
    pub cidrs: Vec<IpNet>,
}

#[derive(Debug, Clone, Default)]
pub struct Eni {
    pub id: String,
    pub vpc_id: Option<String>,
    pub subnet_id: Option<String>,
    pub description: String,
    /// EC2 `InterfaceType` (`interface`, `nat_gateway`, `vpc_endpoint`, `efs`, `lambda`, …).
    pub interface_type: String,
    pub requester_managed: bool,
    pub requester_id: Option<String>,
    /// `eni-attach-…` or a service `ela-attach-…`.
    pub attachment_id: Option<String>,
    pub instance_id: Option<String>,
    pub instance_owner_id: Option<String>,
    /// Every private IPv4 (primary first) and every IPv6 address.
    pub addresses: Vec<IpAddr>,
    /// Delegated IPv4/IPv6 prefixes.
    pub prefixes: Vec<IpNet>,
    pub public_ip: Option<IpAddr>,
    pub security_group_ids: Vec<String>,
    pub security_group_names: Vec<String>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointType {
    Interface,
    Gateway,
    Other,
}

#[derive(Debug, Clone)]
pub struct VpcEndpoint {
    pub id: String,
    pub vpc_id: String,
    /// e.g. `com.amazonaws.us-east-1.sagemaker.api`.
    pub service_name: String,
    pub endpoint_type: EndpointType,
    pub eni_ids: Vec<String>,
    pub route_table_ids: Vec<String>,
    pub private_dns_enabled: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct NatGateway {
    pub id: String,
    pub vpc_id: String,
    pub subnet_id: Option<String>,
    pub eni_ids: Vec<String>,
    pub private_ips: Vec<IpAddr>,
    pub public_ips: Vec<IpAddr>,
    /// `public` or `private`.
    pub connectivity: String,
}

#[derive(Debug, Clone, Default)]
pub struct PrefixList {
    pub id: String,
    /// e.g. `com.amazonaws.us-east-1.s3`.
    pub name: String,
    pub cidrs: Vec<IpNet>,
}

#[derive(Debug, Clone)]
pub enum RouteDestination {
    Cidr(IpNet),
    PrefixList(String),
}

#[derive(Debug, Clone)]
pub struct Route {
    pub destination: RouteDestination,
    /// The target id: `igw-…`, `vpce-…`, `nat-…`, `pcx-…`, `tgw-…`, `local`, …
    pub target: String,
}

#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    /// Subnets explicitly associated.
    pub subnet_ids: Vec<String>,
    /// The VPC's main route table (applies to subnets with no explicit association).
    pub main: bool,
    pub routes: Vec<Route>,
}

#[derive(Debug, Clone, Default)]
pub struct FlowLogConfig {
    pub id: String,
    /// The VPC, subnet or ENI the flow log captures.
    pub resource_id: String,
    /// The `${…}` format string; `None` means the default format.
    pub log_format: Option<String>,
    pub log_group_name: Option<String>,
    /// `cloud-watch-logs`, `s3`, `kinesis-data-firehose`.
    pub destination_type: Option<String>,
    pub destination: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Notebook {
    pub name: String,
    pub eni_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_ids: Vec<String>,
    /// `DirectInternetAccess == "Enabled"`.
    pub direct_internet_access: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Domain {
    pub id: String,
    pub name: String,
    /// `PublicInternetOnly` or `VpcOnly`.
    pub app_network_access_type: String,
    pub vpc_id: Option<String>,
    pub subnet_ids: Vec<String>,
    pub security_group_ids: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    Training,
    Processing,
    Transform,
}

#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    pub kind: JobKind,
    /// Unix seconds (ISO 8601 strings and epoch numbers are both accepted on input).
    pub start: Option<i64>,
    pub end: Option<i64>,
    pub security_group_ids: Vec<String>,
    pub subnets: Vec<String>,
    /// Transform jobs reuse their model's VpcConfig.
    pub model_name: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub name: String,
    pub security_group_ids: Vec<String>,
    pub subnets: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EndpointConfig {
    pub name: String,
    pub model_names: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SageMakerEndpoint {
    pub name: String,
    pub config_name: String,
}
