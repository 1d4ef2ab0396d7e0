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
pub mod placement;
pub mod prefix;
pub mod ranges;
pub mod remote;
pub mod show;

use std::collections::HashMap;
use std::net::IpAddr;

use ipnet::IpNet;

pub use placement::{Placed, Placement};
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
    /// SageMaker HyperPod clusters (`describe-cluster`).
    pub clusters: Vec<Cluster>,
    /// HyperPod cluster nodes (`list-cluster-nodes`, `describe-cluster-node`).
    pub cluster_nodes: Vec<ClusterNode>,
    /// Studio spaces (`describe-space`, `list-spaces`).
    pub spaces: Vec<Space>,
    /// Managed MLflow tracking servers (`describe-mlflow-tracking-server`,
    /// `list-mlflow-tracking-servers`).
    pub mlflow_servers: Vec<MlflowServer>,
    pub ip_ranges: IpRanges,
    /// Where `ip_ranges` came from: `--ip-ranges`, an ip-ranges.json in the inventory (the
    /// newest, as `inventory collect` saves it), or `None` for the built-in snapshot.
    pub ip_ranges_source: Option<String>,
    /// `--ip-ranges` was given: it wins over any ip-ranges.json in the inventory.
    pub ip_ranges_pinned: bool,
    /// Documents and fields that could not be used, each naming the file.
    pub warnings: Vec<String>,
    /// Files read.
    pub files: Vec<String>,
    /// describe-network-interfaces output that lists no ENI (another region, or filters).
    pub empty_eni_files: Vec<String>,
    /// Whether describe-flow-logs output was read, even one listing no flow log: an empty
    /// list says nothing is logged, where a missing document says nothing.
    pub flow_logs_listed: bool,
    /// The file that first described each [`Item`] (by [`Item::key`]): the evidence a
    /// finding's attribution names.
    pub documents: HashMap<String, String>,
    /// `get-managed-prefix-list-entries` output whose list id is not known yet (the CLI
    /// output carries none and the file name did not give one), as (file, CIDRs);
    /// [`load::finish`] assigns them to the only known prefix list or reports them.
    pub unassigned_prefix_list_entries: Vec<(String, Vec<IpNet>)>,
    /// ENIs as CloudTrail saw them come and go, by ENI id then creation time: what
    /// attributes the records of ENIs `describe-network-interfaces` no longer lists, and
    /// the address an ENI held at a record's time.
    pub lifetimes: Vec<EniLifetime>,
    /// What the CloudTrail files held.
    pub trail: TrailStats,
    /// CloudTrail events read, until [`load::finish`] turns them into `lifetimes`.
    pub(crate) eni_events: Vec<EniEvent>,
    /// The times of the dated snapshots (folders named by their UTC time) that held a
    /// describe-network-interfaces, oldest first.
    pub snapshots: Vec<i64>,
    /// The files that held a describe-network-interfaces document: when they were saved
    /// says which ENIs the inventory cannot know ([`Inventory::enis_saved_at`]).
    pub eni_files: Vec<String>,
    /// The same per series: the folder the dated folders are in (one account and region's
    /// `inventory collect --dated`), and the time. Each series is its own history.
    pub(crate) snapshot_series: Vec<(String, i64)>,
    /// ENIs as each dated snapshot described them, until [`load::finish`] keeps the
    /// newest snapshot's in `enis` and turns the others into `lifetimes`.
    pub(crate) eni_sightings: Vec<EniSighting>,
    /// Every file's bytes as read, by name, and those of `--ip-ranges`: what a worker of a
    /// distributed run rebuilds the same inventory from ([`load::rebuild`]), so that workers
    /// need neither the inventory's files nor AWS access to enrich their share of the records.
    pub originals: Originals,
}

/// One ENI from its `CreateNetworkInterface` to its `DeleteNetworkInterface` (CloudTrail).
#[derive(Debug, Clone)]
pub struct EniLifetime {
    /// The ENI as created, with the tags added later; `attach_time` is its creation.
    pub eni: Eni,
    /// Unix seconds.
    pub created: Option<i64>,
    /// `None`: not deleted by the end of the CloudTrail read.
    pub deleted: Option<i64>,
    /// The role (or caller) that created it: a SageMaker execution role or service-linked
    /// role for SageMaker's ENIs.
    pub created_by: Option<String>,
    /// `userIdentity.invokedBy`, e.g. `sagemaker.amazonaws.com`.
    pub invoked_by: Option<String>,
    /// The CloudTrail file of the create event, or the newest snapshot that listed it.
    pub source: String,
    pub from: LifetimeSource,
}

/// Where an [`EniLifetime`] was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifetimeSource {
    /// Create and delete events: exact times.
    CloudTrail,
    /// Dated inventory snapshots: from the attach time (or the snapshot before the ENI
    /// first appeared) to the first snapshot without it.
    Snapshots,
}

/// An ENI as one dated snapshot described it.
#[derive(Debug, Clone)]
pub(crate) struct EniSighting {
    /// The snapshot's series ([`Inventory::snapshot_series`]).
    pub series: String,
    pub time: i64,
    pub eni: Eni,
    pub file: String,
}

impl EniLifetime {
    /// Whether the ENI existed at `t` (Unix seconds). A record's start can precede the
    /// create event's time by clock skew and the capture window, so a minute is allowed.
    pub fn covers(&self, t: i64) -> bool {
        lived_at(self.created, self.deleted, t)
    }
}

/// The region of an availability zone name: `us-east-1a`, `us-gov-west-1b` and the Local
/// Zone `us-west-2-lax-1a` are in `us-east-1`, `us-gov-west-1` and `us-west-2`. The region
/// ends at the first part that starts with a digit: its digits.
pub fn zone_region(zone: &str) -> Option<String> {
    let parts: Vec<&str> = zone.split('-').collect();
    let at = parts
        .iter()
        .skip(1)
        .position(|p| p.starts_with(|c: char| c.is_ascii_digit()))?
        + 1;
    let digits: String = parts[at].chars().take_while(char::is_ascii_digit).collect();
    Some(format!("{}-{digits}", parts[..at].join("-")))
}

/// Whether something created at `created` and deleted at `deleted` (Unix seconds, `None`:
/// unknown or not yet) existed at `t`, with a minute's allowance before its creation.
pub fn lived_at(created: Option<i64>, deleted: Option<i64>, t: i64) -> bool {
    created.is_none_or(|c| t >= c - 60) && deleted.is_none_or(|d| t <= d)
}

/// Counts of the CloudTrail files read.
#[derive(Debug, Clone, Default)]
pub struct TrailStats {
    pub files: usize,
    pub records: usize,
    /// Calls that failed (`errorCode`, a DryRun among them): they changed nothing.
    pub failed_calls: usize,
    /// `DeleteNetworkInterface` of an ENI whose creation the files do not hold.
    pub deletes_without_create: usize,
    /// First and last time of an ENI event used.
    pub range: Option<(i64, i64)>,
}

#[derive(Debug, Clone)]
pub(crate) struct EniEvent {
    pub time: i64,
    pub kind: EniEventKind,
    pub file: String,
}

#[derive(Debug, Clone)]
pub(crate) enum EniEventKind {
    Create {
        eni: Box<Eni>,
        created_by: Option<String>,
        invoked_by: Option<String>,
    },
    Delete(String),
    Tags(Vec<String>, Vec<(String, String)>),
    Attach {
        eni: String,
        instance: Option<String>,
        attachment: Option<String>,
    },
    /// By attachment id.
    Detach(String),
}

/// The inputs an inventory was built from (see [`Inventory::originals`]).
#[derive(Debug, Clone, Default)]
pub struct Originals {
    pub files: Vec<(String, std::sync::Arc<[u8]>)>,
    pub ip_ranges: Option<(String, std::sync::Arc<[u8]>)>,
}

/// An item of the inventory whose describing file is recorded.
#[derive(Debug, Clone, Copy)]
pub enum Item<'a> {
    Eni(&'a str),
    VpcEndpoint(&'a str),
    NatGateway(&'a str),
    Notebook(&'a str),
    Domain(&'a str),
    Job(JobKind, &'a str),
    Model(&'a str),
    EndpointConfig(&'a str),
    Cluster(&'a str),
    MlflowServer(&'a str),
}

/// Where a SageMaker resource is, `account:region`, from its ARN
/// (`arn:aws:sagemaker:us-east-1:111122223333:model/m`): a name is unique only within one
/// account and region, and accounts deployed from one template share names.
pub fn arn_scope(arn: &str) -> Option<String> {
    let mut parts = arn.split(':').skip(3);
    let (region, account) = (parts.next()?, parts.next()?);
    (!region.is_empty() && !account.is_empty()).then(|| format!("{account}:{region}"))
}

/// A SageMaker resource's name qualified by its scope: what it is unique by.
pub fn scoped(scope: Option<&str>, name: &str) -> String {
    match scope {
        Some(s) => format!("{s}/{name}"),
        None => name.to_string(),
    }
}

/// Whether resources of scopes `a` and `b` can name each other: the same account and
/// region, or one unknown (a document without its ARN).
pub fn same_scope(a: Option<&str>, b: Option<&str>) -> bool {
    a.is_none() || b.is_none() || a == b
}

macro_rules! scoped_key {
    ($($t:ty),*) => {$(
        impl $t {
            /// Its name qualified by its scope ([`scoped`]).
            pub fn key(&self) -> String {
                scoped(self.scope.as_deref(), &self.name)
            }
        }
    )*};
}
scoped_key!(Notebook, Job, Model, EndpointConfig, SageMakerEndpoint);

/// The item named `name` that a resource of `scope` names: the one of its own scope, else
/// one of unknown scope; for a resource of unknown scope, the only one of that name.
fn in_scope<'a, T>(
    items: &'a [T],
    scope: Option<&str>,
    name: &str,
    of: impl Fn(&T) -> (Option<&str>, &str),
) -> Option<&'a T> {
    let mut named = items.iter().filter(|x| of(x).1 == name);
    match scope {
        Some(_) => named
            .clone()
            .find(|x| of(x).0 == scope)
            .or_else(|| named.find(|x| of(x).0.is_none())),
        None => {
            let first = named.next()?;
            named.next().is_none().then_some(first)
        }
    }
}

impl Inventory {
    /// The model `name` that a resource of `scope` names.
    pub fn model(&self, scope: Option<&str>, name: &str) -> Option<&Model> {
        in_scope(&self.models, scope, name, |m| (m.scope.as_deref(), &m.name))
    }

    /// The endpoint config `name` that an endpoint of `scope` names.
    pub fn endpoint_config(&self, scope: Option<&str>, name: &str) -> Option<&EndpointConfig> {
        in_scope(&self.endpoint_configs, scope, name, |c| {
            (c.scope.as_deref(), &c.name)
        })
    }
}

impl Item<'_> {
    fn key(self) -> String {
        match self {
            Item::Eni(id) => format!("eni:{id}"),
            Item::VpcEndpoint(id) => format!("vpce:{id}"),
            Item::NatGateway(id) => format!("nat:{id}"),
            Item::Notebook(name) => format!("notebook:{name}"),
            Item::Domain(id) => format!("domain:{id}"),
            Item::Job(kind, name) => format!("{kind:?}:{name}"),
            Item::Model(name) => format!("model:{name}"),
            Item::EndpointConfig(name) => format!("endpoint_config:{name}"),
            Item::Cluster(name) => format!("cluster:{name}"),
            Item::MlflowServer(name) => format!("mlflow:{name}"),
        }
    }
}

impl Inventory {
    /// Records `file` as the one that described `item`, unless another did first.
    pub fn note_document(&mut self, item: Item, file: &str) {
        self.documents
            .entry(item.key())
            .or_insert_with(|| file.to_string());
    }

    /// Each subnet's VPC, from the ENIs in it (every ENI of a subnet is in its VPC): those
    /// listed and those of the history, since a finished job's subnet may hold no ENI
    /// `describe-network-interfaces` lists.
    pub fn subnet_vpcs(&self) -> HashMap<&str, &str> {
        self.enis
            .values()
            .chain(self.lifetimes.iter().map(|l| &l.eni))
            .filter_map(|e| Some((e.subnet_id.as_deref()?, e.vpc_id.as_deref()?)))
            .collect()
    }

    /// From when a flow log that records accepted traffic covers `eni` (`i64::MIN`: as far
    /// back as is known), or `None` when none does.
    pub fn accepted_logged_from(&self, eni: &Eni) -> Option<i64> {
        self.flow_logs
            .iter()
            .filter_map(|f| f.accepted_from(eni))
            .min()
    }

    /// Whether a flow log of accepted traffic that delivers (`DeliverLogsStatus` not
    /// FAILED) covers `eni`.
    pub fn accepted_delivered(&self, eni: &Eni) -> bool {
        self.flow_logs
            .iter()
            .any(|f| f.logs_accepted() && f.delivery_failed.is_none() && f.covers(eni))
    }

    /// The file that described `item`.
    pub fn document(&self, item: Item) -> Option<&str> {
        self.documents.get(&item.key()).map(String::as_str)
    }
    /// When the newest local file holding describe-network-interfaces was last modified
    /// (Unix seconds): ENIs created after it are unknown to the inventory. `None` for
    /// other sources (S3, `live`), which a copy does not date.
    pub fn enis_saved_at(&self) -> Option<i64> {
        self.eni_files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok()?.modified().ok())
            .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64)
            .max()
    }

    /// Days between the ip-ranges `createDate` and `now` (Unix seconds), when known.
    pub fn ip_ranges_age_days(&self, now: i64) -> Option<i64> {
        let created =
            chrono::NaiveDateTime::parse_from_str(&self.ip_ranges.create_date, "%Y-%m-%d-%H-%M-%S")
                .ok()?
                .and_utc()
                .timestamp();
        Some((now - created) / 86_400)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Vpc {
    pub id: String,
    /// Every associated IPv4 and IPv6 CIDR (primary, secondary, IPv6), associated state only.
    pub cidrs: Vec<IpNet>,
    /// CIDRs it had and no longer has (`disassociated`): older records' addresses in them
    /// may have been the VPC's own.
    pub former: Vec<IpNet>,
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
    /// `Attachment.AttachTime`, Unix seconds: when the ENI was (last) attached.
    pub attach_time: Option<i64>,
    /// `Status`: `in-use`, or `available` for an ENI attached to nothing (a leftover).
    pub status: Option<String>,
    /// The region of its `AvailabilityZone` (a Local or Wavelength Zone's parent region).
    pub region: Option<String>,
    pub instance_id: Option<String>,
    pub instance_owner_id: Option<String>,
    /// `OwnerId`: the account the ENI belongs to. A service's instance in another
    /// account (a HyperPod node) holds it through a cross-account attachment.
    pub owner_id: Option<String>,
    /// Every private IPv4 (primary first) and every IPv6 address.
    pub addresses: Vec<IpAddr>,
    /// Delegated IPv4/IPv6 prefixes.
    pub prefixes: Vec<IpNet>,
    pub public_ip: Option<IpAddr>,
    pub security_group_ids: Vec<String>,
    pub security_group_names: Vec<String>,
    pub tags: Vec<(String, String)>,
    /// CloudTrail says a person created it: an IAM user, the root user, or an IAM
    /// Identity Center user (an `AWSReservedSSO_…` role). SageMaker's ENIs are created by
    /// the execution role or a service-linked role: this one is the account's own,
    /// whatever VpcConfig it shares.
    pub created_by_person: bool,
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
    /// `DnsOptions.PrivateDnsOnlyForInboundResolverEndpoint`: an S3 interface endpoint
    /// whose private DNS answers only on-premises clients (through an inbound Resolver
    /// endpoint); the VPC's own clients get S3's public addresses, which its gateway
    /// endpoint carries.
    pub private_dns_inbound_only: bool,
    /// `IpAddressType`: `ipv4`, `dualstack` or `ipv6`. Gateway endpoints were IPv4 only
    /// before the field existed.
    pub ip_address_type: Option<String>,
    /// `CreationTimestamp`: nothing went through it before.
    pub created: Option<i64>,
}

impl VpcEndpoint {
    /// Whether it carries IPv6 traffic: a gateway endpoint of type `ipv4` (or of no type,
    /// from before dual-stack ones) does not, and IPv6 packets to its service take the
    /// subnet's other routes (an egress-only internet gateway, a NAT gateway).
    pub fn serves_ipv6(&self) -> bool {
        matches!(self.ip_address_type.as_deref(), Some("dualstack" | "ipv6"))
    }
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
    /// `AvailabilityMode` `regional`: the gateway has no ENI in the VPC, and its flow
    /// records have no `interface-id`, only its id as `resource-id`.
    pub regional: bool,
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
    /// `ALL`, `ACCEPT` or `REJECT`; `None` (not saved) is taken as `ALL`.
    pub traffic_type: Option<String>,
    /// `CreationTime`: it records nothing from before.
    pub created: Option<i64>,
    /// `DeliverLogsErrorMessage` (or a placeholder) when `DeliverLogsStatus` is `FAILED`.
    pub delivery_failed: Option<String>,
}

impl FlowLogConfig {
    /// Whether it records accepted traffic (`TrafficType` `ALL` or `ACCEPT`).
    pub fn logs_accepted(&self) -> bool {
        self.traffic_type.as_deref() != Some("REJECT")
    }

    /// Whether it records rejected traffic (`TrafficType` `ALL` or `REJECT`).
    pub fn logs_rejected(&self) -> bool {
        self.traffic_type.as_deref() != Some("ACCEPT")
    }

    /// Its record format: `LogFormat`, or the default format when none was saved.
    pub fn layout(&self) -> crate::error::Result<crate::format::Layout> {
        crate::format::Layout::of_flow_log(self.log_format.as_deref())
    }

    /// From when it records accepted traffic of `eni` (`i64::MIN`: as far back as is
    /// known), or `None` when it does not.
    pub fn accepted_from(&self, eni: &Eni) -> Option<i64> {
        (self.logs_accepted() && self.covers(eni)).then_some(self.created.unwrap_or(i64::MIN))
    }

    /// Whether it captures `eni`: the flow log is on the ENI, its subnet or its VPC.
    pub fn covers(&self, eni: &Eni) -> bool {
        self.resource_id == eni.id
            || Some(&self.resource_id) == eni.subnet_id.as_ref()
            || Some(&self.resource_id) == eni.vpc_id.as_ref()
    }
}

#[derive(Debug, Clone, Default)]
pub struct Notebook {
    pub name: String,
    /// `account:region`, from its ARN ([`arn_scope`]): its name is unique only there.
    pub scope: Option<String>,
    pub eni_id: Option<String>,
    pub subnet_id: Option<String>,
    pub security_group_ids: Vec<String>,
    /// `DirectInternetAccess == "Enabled"`.
    pub direct_internet_access: bool,
    /// `CreationTime`, Unix seconds.
    pub created: Option<i64>,
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
    /// `CreationTime`, Unix seconds.
    pub created: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum JobKind {
    #[default]
    Training,
    Processing,
    Transform,
}

#[derive(Debug, Clone, Default)]
pub struct Job {
    pub name: String,
    /// `account:region`, from its ARN ([`arn_scope`]): its name is unique only there.
    pub scope: Option<String>,
    pub kind: JobKind,
    /// Unix seconds (ISO 8601 strings and epoch numbers are both accepted on input).
    pub start: Option<i64>,
    pub end: Option<i64>,
    /// `CreationTime`: a job still starting has no start time yet.
    pub created: Option<i64>,
    pub last_modified: Option<i64>,
    /// `TrainingJobStatus` / `ProcessingJobStatus` / `TransformJobStatus`.
    pub status: Option<String>,
    /// `EnableManagedSpotTraining`: an interrupted job resumes on new instances.
    pub spot: bool,
    /// Retried under its `RetryStrategy` (its `SecondaryStatusTransitions` start again):
    /// it started again on new instances.
    pub retried: bool,
    /// `ResourceConfig.KeepAlivePeriodInSeconds`: a managed warm pool keeps the job's
    /// instances, and their ENIs, that long after it ends.
    pub keep_alive: Option<i64>,
    /// `StoppingCondition`: the longest it can run, seconds (for a managed spot job, the
    /// wait for capacity included).
    pub max_runtime: Option<i64>,
    pub security_group_ids: Vec<String>,
    pub subnets: Vec<String>,
    /// Transform jobs reuse their model's VpcConfig.
    pub model_name: Option<String>,
    /// `WarmPoolStatus.ReusedByJob`: the training job that ran next on this one's
    /// instances (a managed warm pool), and so on the ENIs attached for this one.
    pub reused_by: Option<String>,
}

/// When a workload ran: from `from` to `to` (`None`: still running), whole Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: Option<i64>,
}

impl Window {
    /// Whether the window overlaps the record time `t0..=t1`.
    pub fn overlaps(&self, t0: i64, t1: i64) -> bool {
        t1 >= self.from && self.to.is_none_or(|e| t0 <= e)
    }

    pub fn contains(&self, t: i64) -> bool {
        self.overlaps(t, t)
    }
}

/// How long after a job's start its ENIs may still be attached, in seconds: AWS documents
/// no order between the two, so a margin rather than an exact bound.
pub const ATTACH_SLACK: i64 = 600;

/// How long a job may still hold its ENIs after its stopping condition is reached: it
/// stops, then uploads its output; AWS documents no bound, so a generous margin.
pub const STOPPING_SLACK: i64 = 3600;

/// Job statuses after which a job runs no more.
fn finished(status: Option<&str>) -> bool {
    matches!(status, Some("Completed" | "Failed" | "Stopped"))
}

impl Job {
    /// How long after its end the job can still hold its ENIs: SageMaker deletes them
    /// after the job has stopped and uploaded its output (no documented bound: the same
    /// margin as [`STOPPING_SLACK`]), and a warm pool keeps them for its keep-alive period.
    pub fn release_slack(&self) -> i64 {
        STOPPING_SLACK.saturating_add(self.keep_alive.unwrap_or(0))
    }

    /// When the job ran: from its start (a job still starting has none: from its
    /// creation) to its end (a finished job without one: its last modification; a job in
    /// progress: until its stopping condition stops it, else open). `None` when no time
    /// bounds it, so that it never matches a record.
    pub fn window(&self) -> Option<Window> {
        let from = self.start.or(self.created)?;
        let to = match self.end {
            Some(e) => Some(e),
            None if finished(self.status.as_deref()) => Some(self.last_modified?),
            None => self.stops_by(),
        };
        Some(Window { from, to })
    }

    /// A job not ended when the inventory was taken: when its stopping condition has
    /// stopped it at the latest. An inventory taken while the job ran says nothing of
    /// after; without this bound, its subnet's later records would be the job's for ever.
    pub fn stops_by(&self) -> Option<i64> {
        if self.end.is_some() || finished(self.status.as_deref()) {
            return None;
        }
        let from = self.start.or(self.created)?;
        self.max_runtime
            .map(|m| from.saturating_add(m).saturating_add(STOPPING_SLACK))
    }

    /// When its ENIs can have been attached: while it starts, from its creation to a
    /// little after its start (its instances, and their ENIs, come up before training
    /// does). A managed spot job resumes on new instances, a retried job starts again on
    /// new ones, and a job not started yet is still starting: until its end.
    pub fn attach_window(&self) -> Option<Window> {
        let w = self.window()?;
        let from = self.created.map_or(w.from, |c| c.min(w.from));
        let to = match self.start {
            Some(s) if !self.spot && !self.retried => {
                Some(w.to.map_or(s + ATTACH_SLACK, |e| e.min(s + ATTACH_SLACK)))
            }
            _ => w.to,
        };
        Some(Window { from, to })
    }
}

impl SageMakerEndpoint {
    /// The configs its instances run: the current one, and the one an update in progress
    /// deploys.
    pub fn config_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.config_name.as_str()).chain(self.pending_config_name.as_deref())
    }

    /// While it exists: from its creation, open (a failed endpoint: until its last
    /// modification). `None` without a creation time.
    pub fn window(&self) -> Option<Window> {
        let from = self.created?;
        let to = match self.status.as_deref() {
            Some("Failed") => Some(self.last_modified?),
            _ => None,
        };
        Some(Window { from, to })
    }

    /// When its current ENIs can have been attached: its instances are provisioned
    /// between its creation and its last modification (creation, update, scaling); while
    /// it is still being provisioned, open.
    pub fn attach_window(&self) -> Option<Window> {
        let from = self.created?;
        let settled = matches!(
            self.status.as_deref(),
            Some("InService" | "Failed" | "OutOfService")
        );
        Some(Window {
            from,
            to: if settled { self.last_modified } else { None },
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Model {
    pub name: String,
    /// `account:region`, from its ARN ([`arn_scope`]): its name is unique only there.
    pub scope: Option<String>,
    pub security_group_ids: Vec<String>,
    pub subnets: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EndpointConfig {
    pub name: String,
    /// `account:region`, from its ARN ([`arn_scope`]): its name is unique only there.
    pub scope: Option<String>,
    pub model_names: Vec<String>,
    /// The config's own `VpcConfig` (endpoints with inference components carry it here,
    /// not on a model).
    pub security_group_ids: Vec<String>,
    pub subnets: Vec<String>,
    /// A variant has a `ServerlessConfig`: serverless inference, which runs in no VPC of
    /// yours.
    pub serverless: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SageMakerEndpoint {
    pub name: String,
    /// `account:region`, from its ARN ([`arn_scope`]): its name is unique only there.
    pub scope: Option<String>,
    pub config_name: String,
    /// `PendingDeploymentSummary.EndpointConfigName`: the config an update in progress
    /// (blue/green, rolling) deploys. Its new fleet's ENIs are attached while the old
    /// fleet still serves, both in the endpoint's name.
    pub pending_config_name: Option<String>,
    /// `CreationTime`, Unix seconds.
    pub created: Option<i64>,
    /// `LastModifiedTime`: the end of its last provisioning (creation, update, scaling).
    pub last_modified: Option<i64>,
    /// `EndpointStatus` (`InService`, `Creating`, `Updating`, `Failed`, …).
    pub status: Option<String>,
}

/// A managed MLflow tracking server. It runs in a VPC SageMaker manages, with no ENI in
/// yours (sagemaker-networking.md, MLflow): none of its own traffic reaches your flow
/// logs, whatever your configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MlflowServer {
    pub name: String,
    /// `CreationTime`, Unix seconds.
    pub created: Option<i64>,
    /// `TrackingServerStatus` (`Created`, `Stopped`, `CreateFailed`, …).
    pub status: Option<String>,
    /// `ArtifactStoreUri` (`s3://…`): only describe-mlflow-tracking-server prints it.
    pub artifact_store: Option<String>,
}

impl MlflowServer {
    /// While it exists: from its creation, open (a deleted server is no longer listed).
    pub fn window(&self) -> Option<Window> {
        Some(Window {
            from: self.created?,
            to: None,
        })
    }
}

/// A Studio space: the apps of a private space run for its owner, those of a shared space
/// for every user of the domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Space {
    pub domain_id: String,
    pub name: String,
    /// `OwnershipSettings.OwnerUserProfileName`.
    pub owner: Option<String>,
    /// `SpaceSharingSettings.SharingType` is `Shared`.
    pub shared: bool,
}

/// A SageMaker HyperPod cluster. Its nodes hold ENIs in the subnets of its `VpcConfig`,
/// or of an instance group's `OverrideVpcConfig`; without a `VpcConfig` (Slurm only) the
/// cluster runs in a SageMaker-managed VPC.
#[derive(Debug, Clone, Default)]
pub struct Cluster {
    pub name: String,
    /// `ClusterArn`: its last part is the cluster's id, which the ARN in a
    /// `ManagedByAmazonSageMakerResource` tag names.
    pub arn: Option<String>,
    /// `CreationTime`, Unix seconds.
    pub created: Option<i64>,
    /// `ClusterStatus` (`InService`, `Creating`, `Failed`, …).
    pub status: Option<String>,
    /// `eks` when `Orchestrator.Eks` is set, else `slurm`.
    pub orchestrator: String,
    pub security_group_ids: Vec<String>,
    pub subnets: Vec<String>,
    pub groups: Vec<ClusterGroup>,
}

/// An instance group of a [`Cluster`], with its own `OverrideVpcConfig` if it has one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterGroup {
    pub name: String,
    pub security_group_ids: Vec<String>,
    pub subnets: Vec<String>,
}

impl Cluster {
    /// Every VpcConfig its nodes run in, as (security groups, subnets): the cluster's,
    /// and each instance group's override.
    pub fn vpc_configs(&self) -> Vec<(&[String], &[String])> {
        let mut v = Vec::new();
        if !self.subnets.is_empty() {
            v.push((self.security_group_ids.as_slice(), self.subnets.as_slice()));
        }
        for g in &self.groups {
            if !g.subnets.is_empty() {
                v.push((g.security_group_ids.as_slice(), g.subnets.as_slice()));
            }
        }
        v
    }

    /// While it exists: from its creation, open (a cluster is long-lived; a deleted one
    /// is no longer listed). `None` without a creation time.
    pub fn window(&self) -> Option<Window> {
        Some(Window {
            from: self.created?,
            to: None,
        })
    }
}

/// A HyperPod node: its `InstanceId` is what flow logs show in `instance-id` and what its
/// ENIs are attached to, though `ec2 describe-instances` does not list it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClusterNode {
    pub cluster: String,
    pub instance_id: String,
    pub group: Option<String>,
    /// `PrivatePrimaryIp` (`describe-cluster-node`).
    pub private_ip: Option<IpAddr>,
    /// `LaunchTime`, Unix seconds: it holds that address from then on.
    pub launched: Option<i64>,
    pub file: String,
}

#[cfg(test)]
mod zone_tests {
    #[test]
    fn zones_name_their_region() {
        for (zone, region) in [
            ("us-east-1a", "us-east-1"),
            ("us-gov-west-1b", "us-gov-west-1"),
            ("us-west-2-lax-1a", "us-west-2"),
            ("us-east-1-wl1-bos-wlz-1", "us-east-1"),
            ("ap-southeast-5c", "ap-southeast-5"),
        ] {
            assert_eq!(super::zone_region(zone).as_deref(), Some(region), "{zone}");
        }
        assert_eq!(super::zone_region("nowhere"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_looked_up_in_their_own_account_first() {
        let model = |scope: Option<&str>, subnet: &str| Model {
            name: "m".into(),
            scope: scope.map(str::to_string),
            subnets: vec![subnet.into()],
            ..Model::default()
        };
        let inv = Inventory {
            models: vec![
                model(None, "subnet-none"),
                model(Some("222:us-east-1"), "subnet-b"),
                model(Some("111:us-east-1"), "subnet-a"),
            ],
            ..Inventory::default()
        };
        let found = |scope: Option<&str>| inv.model(scope, "m").map(|m| m.subnets[0].as_str());
        assert_eq!(found(Some("111:us-east-1")), Some("subnet-a"));
        assert_eq!(found(Some("222:us-east-1")), Some("subnet-b"));
        // Another account's: the one of unknown account.
        assert_eq!(found(Some("333:us-east-1")), Some("subnet-none"));
        // Of unknown account itself: only when one model has the name.
        assert_eq!(found(None), None);
        assert_eq!(
            arn_scope("arn:aws:sagemaker:us-east-1:111122223333:model/m").as_deref(),
            Some("111122223333:us-east-1")
        );
    }
}
