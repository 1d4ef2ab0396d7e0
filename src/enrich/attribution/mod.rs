//! Which workload owns an ENI.
//!
//! An ENI of another service is never SageMaker's: one a VPC endpoint or NAT gateway
//! lists, an `InterfaceType` SageMaker does not use (`vpc_endpoint`, `lambda`,
//! `network_load_balancer`, …), or a description or attachment owner naming another
//! service gets that kind (a default security group shared with a job must not make an
//! NLB a training job). Otherwise the rules are ordered and the first hit wins:
//!
//! a. a notebook instance's `NetworkInterfaceId` (exact join);
//! b. the Studio description `[DO NOT DELETE] ENI managed by SageMaker for Studio Domain(<id>)`,
//!    or a `ManagedByAmazonSageMakerResource` tag whose ARN names the resource;
//! h. attached to a HyperPod node (`list-cluster-nodes` `InstanceId`), or holding a node's
//!    `PrivatePrimaryIp` (`describe-cluster-node`): exact joins;
//! c. the notebook-instance description prefix (case-insensitive);
//! d. VpcConfig correlation for service-managed ENIs: the same security-group set and a
//!    subnet of a workload's VpcConfig. Every workload that fits is kept with the window
//!    in which it ran (jobs; endpoints and the transform jobs of their models, whose
//!    VpcConfig is the model's or the endpoint config's; HyperPod clusters, with their
//!    instance groups' overrides), and each record goes to the one running at its time
//!    ([`VpcMatch`]);
//! s. a service-managed ENI in the security group Studio creates for its apps,
//!    `security-group-for-outbound-nfs-<domain-id>`: that domain's;
//! e. otherwise the ENI's own kind.

mod owner;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

pub use self::owner::{
    CLOCK_SLACK, NAT_GATEWAY, Owner, Resource, ResourceRef, SAGEMAKER, VpcMatch, Workload,
};
use crate::inventory::{ClusterNode, Eni, Inventory, Item, Job, JobKind, Window};

/// `sagemaker_resource_type` values.
pub const STUDIO_DOMAIN: &str = "studio_domain";
pub const NOTEBOOK_INSTANCE: &str = "notebook_instance";
pub const TRAINING_JOB: &str = "training_job";
pub const PROCESSING_JOB: &str = "processing_job";
pub const TRANSFORM_JOB: &str = "transform_job";
pub const ENDPOINT: &str = "endpoint";
pub const HYPERPOD_CLUSTER: &str = "hyperpod_cluster";
/// Only in `sagemaker_resources`: a tracking server has no ENI in your VPCs.
pub const MLFLOW_TRACKING_SERVER: &str = "mlflow_tracking_server";

/// `attribution_rule` values of the attribution paths that name their document.
pub const NOTEBOOK_ENI: &str = "notebook_network_interface_id";
pub const VPC_ENDPOINT_ENI: &str = "vpc_endpoint_network_interface_ids";
pub const NAT_GATEWAY_ENI: &str = "nat_gateway_network_interface_id";
/// A record without an ENI whose `resource-id` is a NAT gateway's id (a regional one).
pub const NAT_GATEWAY_ID: &str = "nat_gateway_id";
pub const VPC_CONFIG: &str = "vpc_config";
pub const HYPERPOD_NODE: &str = "hyperpod_node";

/// An ENI's owner, the rule that decided it and the inventory file it read.
#[derive(Debug, Clone)]
pub struct Attribution {
    pub owner: Owner,
    /// `notebook_network_interface_id`, `studio_description`, `sagemaker_resource_tag`,
    /// `hyperpod_node`, `notebook_description`, `vpc_config`, `studio_security_group`; for
    /// other services' ENIs `vpc_endpoint_network_interface_ids`,
    /// `nat_gateway_network_interface_id`, `interface_type`, `description`,
    /// `requester_id`; else `eni_attachment`.
    pub rule: &'static str,
    pub document: Option<String>,
}

const STUDIO_PREFIX: &str = "[DO NOT DELETE] ENI managed by SageMaker for Studio Domain(";
const NOTEBOOK_PREFIX: &str = "[do not delete] network interface created to access resources in your vpc for sagemaker notebook instance";
const SAGEMAKER_TAG: &str = "ManagedByAmazonSageMakerResource";
/// The description and node tag the Amazon VPC CNI gives the ENIs it creates for a node
/// (amazon-vpc-cni-k8s, `pkg/awsutils`: `eniDescriptionPrefix`, `eniNodeTagKey`).
const CNI_PREFIX: &str = "aws-K8S-";
const CNI_NODE_TAG: &str = "node.k8s.amazonaws.com/instance_id";
/// The name of the security group SageMaker creates for a Studio domain's apps (its EFS
/// home directories), followed by the domain id.
const STUDIO_NFS_GROUP: &str = "security-group-for-outbound-nfs-";
pub const STUDIO_SECURITY_GROUP: &str = "studio_security_group";

/// `InterfaceType`s a SageMaker workload's ENI can have; every other type belongs to
/// another service. EFA instances (distributed training, HyperPod) get `efa`/`efa-only`.
const SAGEMAKER_INTERFACE_TYPES: &[&str] = &["interface", "efa", "efa-only"];

/// Descriptions other AWS services give the ENIs they create in a customer VPC (ELB,
/// RDS, ElastiCache, EKS, Directory Service, DMS, Redshift, ECS tasks, Route 53
/// Resolver, Transit Gateway, WorkSpaces, DataSync, Glue), and the kind each means. The
/// last three, as a public ENI classifier matches them (the file the reference cites for
/// the notebook description): their ENIs are attached to instances of the service's
/// account, which reads as service-managed, and must not be taken for a SageMaker
/// workload sharing their security groups.
const OTHER_SERVICE_DESCRIPTIONS: &[(&str, &str)] = &[
    ("VPC Endpoint Interface", "vpc_endpoint"),
    ("Interface for NAT Gateway", NAT_GATEWAY),
    ("EFS mount target", "efs"),
    ("AWS Lambda VPC ENI", "lambda"),
    ("ELB ", "other_service"),
    ("RDSNetworkInterface", "other_service"),
    ("ElastiCache ", "other_service"),
    ("Amazon EKS ", "other_service"),
    (
        "AWS created network interface for directory",
        "other_service",
    ),
    ("DMSNetworkInterface", "other_service"),
    ("RedshiftNetworkInterface", "other_service"),
    ("arn:aws:ecs:", "other_service"),
    ("Route 53 Resolver", "other_service"),
    (
        "Network Interface for Transit Gateway Attachment",
        "other_service",
    ),
    (
        "Created By Amazon Workspaces for AWS Account ID ",
        "other_service",
    ),
    ("datasync ", "other_service"),
    (
        "Attached to Glue using role: arn:aws:iam::",
        "other_service",
    ),
];

/// `RequesterId` / `Attachment.InstanceOwnerId` aliases of other services.
const OTHER_SERVICE_OWNERS: &[&str] = &["amazon-elb", "amazon-rds", "amazon-redshift"];

/// Attributes ENIs; built once per inventory.
#[derive(Debug)]
pub struct Attributor<'i> {
    inv: &'i Inventory,
    workloads: Vec<Workload>,
    /// Studio domains and notebook instances by their subnets: for records of ENIs the
    /// inventory does not describe, attributed by subnet, they are candidates.
    subnet_only: Vec<Workload>,
    /// Sorted security-group set → the workloads with a VpcConfig of exactly that set.
    by_groups: HashMap<Vec<String>, Vec<usize>>,
    /// VpcConfigs of models no endpoint serves and no transform job uses, and of endpoint
    /// configs no endpoint uses: an ENI matching only them is SageMaker's (an endpoint
    /// missing from the inventory, or deleted since) but of no known workload; they never
    /// win over a workload's.
    unserved: Vec<(Vec<String>, Vec<String>)>,
    endpoint_enis: HashSet<&'i str>,
    nat_enis: HashSet<&'i str>,
    /// HyperPod nodes by `InstanceId` and by `PrivatePrimaryIp`.
    nodes: HashMap<&'i str, &'i ClusterNode>,
    node_ips: HashMap<IpAddr, &'i ClusterNode>,
}

fn sorted(groups: &[String]) -> Vec<String> {
    let mut g = groups.to_vec();
    g.sort_unstable();
    g.dedup();
    g
}

fn vpc_config(groups: &[String], subnets: &[String]) -> Option<(Vec<String>, Vec<String>)> {
    (!groups.is_empty()).then(|| (sorted(groups), subnets.to_vec()))
}

/// When a job's ENIs can have been attached: a training job that reused a managed warm
/// pool (the earlier job's `WarmPoolStatus.ReusedByJob` names it) runs on the instances,
/// and ENIs, of the job before it, and so on back along the chain.
fn warm_pool_attach_window(inv: &Inventory, job: &Job) -> Option<Window> {
    let mut window = job.attach_window()?;
    if job.kind != JobKind::Training {
        return Some(window);
    }
    let mut seen = vec![job.name.as_str()];
    let mut next = job.name.as_str();
    while let Some(before) = inv.jobs.iter().find(|p| {
        p.kind == JobKind::Training
            && p.reused_by.as_deref() == Some(next)
            && crate::inventory::same_scope(p.scope.as_deref(), job.scope.as_deref())
    }) {
        if seen.contains(&before.name.as_str()) {
            break;
        }
        seen.push(&before.name);
        if let Some(w) = before.attach_window() {
            window.from = window.from.min(w.from);
        }
        next = &before.name;
    }
    Some(window)
}

/// How long after its end a job may still hold its ENIs ([`Job::release_slack`]): a
/// training job whose warm pool the next job reused hands them over at that job's start.
fn release_of(inv: &Inventory, job: &Job) -> i64 {
    let slack = job.release_slack();
    let next = job.reused_by.as_deref().and_then(|n| {
        inv.jobs.iter().find(|p| {
            p.kind == JobKind::Training
                && p.name == n
                && crate::inventory::same_scope(p.scope.as_deref(), job.scope.as_deref())
        })
    });
    match (
        next.and_then(|n| n.start.or(n.created)),
        job.window().and_then(|w| w.to),
    ) {
        (Some(start), Some(end)) => slack.min(start.saturating_sub(end).max(0)),
        _ => slack,
    }
}

impl<'i> Attributor<'i> {
    pub fn new(inv: &'i Inventory) -> Self {
        let model = |scope: &Option<String>, name: &str| inv.model(scope.as_deref(), name);
        let mut workloads = Vec::new();
        // The models endpoints and transform jobs use, by key.
        let mut served: HashSet<String> = HashSet::new();
        // The endpoint configs endpoints use (or an update in progress deploys), by key.
        let mut used_configs: HashSet<String> = HashSet::new();
        let document = |item: Item| inv.document(item).map(str::to_string);
        for j in &inv.jobs {
            let (config, key) = match (j.kind, &j.model_name) {
                (JobKind::Transform, Some(m)) => {
                    let Some(m) = model(&j.scope, m) else {
                        continue;
                    };
                    served.insert(m.key());
                    (vpc_config(&m.security_group_ids, &m.subnets), m.key())
                }
                (JobKind::Transform, None) => continue,
                _ => (vpc_config(&j.security_group_ids, &j.subnets), j.key()),
            };
            let Some(config) = config else { continue };
            let item = match j.kind {
                JobKind::Transform => Item::Model(&key),
                _ => Item::Job(j.kind, &key),
            };
            workloads.push(Workload {
                rtype: match j.kind {
                    JobKind::Training => TRAINING_JOB,
                    JobKind::Processing => PROCESSING_JOB,
                    JobKind::Transform => TRANSFORM_JOB,
                },
                name: j.name.clone(),
                window: j.window(),
                attach_window: warm_pool_attach_window(inv, j),
                release: release_of(inv, j),
                configs: vec![config],
                document: document(item),
            });
        }
        for e in &inv.endpoints {
            // An update in progress deploys another config: its new fleet runs there.
            let mut doc = None;
            let mut configs = Vec::new();
            for cfg in e
                .config_names()
                .filter_map(|c| inv.endpoint_config(e.scope.as_deref(), c))
            {
                used_configs.insert(cfg.key());
                // The config's own VpcConfig (inference components) applies to every
                // variant; otherwise each variant runs in its model's.
                if let Some(c) = vpc_config(&cfg.security_group_ids, &cfg.subnets) {
                    doc = doc.or_else(|| document(Item::EndpointConfig(&cfg.key())));
                    configs.push(c);
                    continue;
                }
                for m in cfg.model_names.iter().filter_map(|m| model(&cfg.scope, m)) {
                    served.insert(m.key());
                    if let Some(c) = vpc_config(&m.security_group_ids, &m.subnets) {
                        doc = doc.or_else(|| document(Item::Model(&m.key())));
                        configs.push(c);
                    }
                }
            }
            if configs.is_empty() {
                continue;
            }
            workloads.push(Workload {
                rtype: ENDPOINT,
                name: e.name.clone(),
                window: e.window(),
                attach_window: e.attach_window(),
                release: 0,
                configs,
                document: doc,
            });
        }
        // A HyperPod cluster's nodes are replaced and added while it exists: their ENIs
        // can be attached at any time of its life.
        for c in &inv.clusters {
            let configs: Vec<_> = c
                .vpc_configs()
                .into_iter()
                .filter_map(|(g, s)| vpc_config(g, s))
                .collect();
            if configs.is_empty() {
                continue;
            }
            workloads.push(Workload {
                rtype: HYPERPOD_CLUSTER,
                name: c.name.clone(),
                window: c.window(),
                attach_window: c.window(),
                release: 0,
                configs,
                document: document(Item::Cluster(&c.name)),
            });
        }
        // Models no endpoint or transform job uses, and endpoint configs with their own
        // VpcConfig (inference components) no endpoint uses: an endpoint deleted since,
        // whose ENIs outlive it, ran in them.
        let unserved = inv
            .models
            .iter()
            .filter(|m| !served.contains(&m.key()))
            .filter_map(|m| vpc_config(&m.security_group_ids, &m.subnets))
            .chain(
                inv.endpoint_configs
                    .iter()
                    .filter(|c| !used_configs.contains(&c.key()))
                    .filter_map(|c| vpc_config(&c.security_group_ids, &c.subnets)),
            )
            .collect();
        let mut by_groups: HashMap<Vec<String>, Vec<usize>> = HashMap::new();
        for (i, w) in workloads.iter().enumerate() {
            for (g, _) in &w.configs {
                let list = by_groups.entry(g.clone()).or_default();
                if !list.contains(&i) {
                    list.push(i);
                }
            }
        }
        let endpoint_enis = inv
            .vpc_endpoints
            .iter()
            .flat_map(|e| &e.eni_ids)
            .map(String::as_str)
            .collect();
        let nat_enis = inv
            .nat_gateways
            .iter()
            .flat_map(|n| &n.eni_ids)
            .map(String::as_str)
            .collect();
        let nodes = inv
            .cluster_nodes
            .iter()
            .map(|n| (n.instance_id.as_str(), n))
            .collect();
        let node_ips = inv
            .cluster_nodes
            .iter()
            .filter_map(|n| Some((n.private_ip?, n)))
            .collect();
        // Studio domains and notebook instances put ENIs in their subnets too, which come
        // and go (apps, restarts): a deleted ENI there may be theirs.
        let subnet_only = inv
            .domains
            .iter()
            .map(|d| (STUDIO_DOMAIN, d.id.clone(), d.created, d.subnet_ids.clone()))
            .chain(inv.notebooks.iter().filter_map(|n| {
                let subnet = n.subnet_id.clone()?;
                Some((NOTEBOOK_INSTANCE, n.name.clone(), n.created, vec![subnet]))
            }))
            .map(|(rtype, name, created, subnets)| Workload {
                rtype,
                name,
                // One of unknown creation was there as far back as is known.
                window: Some(Window {
                    from: created.unwrap_or(i64::MIN),
                    to: None,
                }),
                attach_window: None,
                release: 0,
                configs: vec![(Vec::new(), subnets)],
                document: None,
            })
            .collect();
        Attributor {
            inv,
            workloads,
            subnet_only,
            by_groups,
            unserved,
            endpoint_enis,
            nat_enis,
            nodes,
            node_ips,
        }
    }

    /// The workloads whose VpcConfig includes `subnet`, for records of ENIs the inventory
    /// does not describe (attributed by the record's `subnet-id` and time).
    pub fn in_subnet(&self, subnet: &str) -> Option<VpcMatch> {
        let mut ws: Vec<Workload> = self
            .workloads
            .iter()
            .filter(|w| w.in_subnet(subnet))
            .cloned()
            .collect();
        if ws.is_empty() {
            return None;
        }
        // A Studio domain or notebook instance of the subnet is a candidate too: never
        // the only one (their own ENIs are named by tag, description or id).
        ws.extend(
            self.subnet_only
                .iter()
                .filter(|w| w.in_subnet(subnet))
                .cloned(),
        );
        Some(VpcMatch::new(ws, None, None))
    }

    /// [`Self::in_subnet`] for a record that names an instance (`instance-id`, written
    /// only for an instance the account owns, or a HyperPod node): of the workloads, only
    /// a HyperPod cluster's ENIs are on one. A job's, an endpoint's, a Studio app's or a
    /// notebook's instance is in SageMaker's account, and flow logs leave it out.
    pub fn in_subnet_on_instances(&self, subnet: &str) -> Option<VpcMatch> {
        let ws: Vec<Workload> = self
            .workloads
            .iter()
            .filter(|w| w.rtype == HYPERPOD_CLUSTER && w.in_subnet(subnet))
            .cloned()
            .collect();
        (!ws.is_empty()).then(|| VpcMatch::new(ws, None, None))
    }

    /// Every subnet some workload's VpcConfig names.
    pub fn subnets(&self) -> Vec<&str> {
        let mut s: Vec<&str> = self
            .workloads
            .iter()
            .flat_map(|w| &w.configs)
            .flat_map(|(_, s)| s)
            .map(String::as_str)
            .collect();
        s.sort_unstable();
        s.dedup();
        s
    }

    /// Attributes one ENI.
    pub fn attribute(&self, eni: &Eni) -> Owner {
        self.attribute_why(eni).owner
    }

    /// Attributes one ENI, saying by which rule and from which inventory file.
    pub fn attribute_why(&self, eni: &Eni) -> Attribution {
        let (owner, rule) = self.decide(eni);
        let notebook = match rule {
            NOTEBOOK_ENI => self
                .inv
                .notebooks
                .iter()
                .find(|n| n.eni_id.as_deref() == Some(eni.id.as_str()))
                .map(|n| n.key()),
            _ => None,
        };
        let item = match &notebook {
            Some(key) => Item::Notebook(key),
            None => Item::Eni(&eni.id),
        };
        let document = match rule {
            HYPERPOD_NODE => self.node_of(eni).map(|n| n.file.clone()),
            _ => self.inv.document(item).map(str::to_string),
        };
        Attribution {
            owner,
            rule,
            document,
        }
    }

    fn decide(&self, eni: &Eni) -> (Owner, &'static str) {
        let inv = self.inv;
        // Another service's ENI, whatever else matches.
        if let Some((kind, rule)) = self.other_service(eni) {
            return (Owner::Kind(kind), rule);
        }
        // a. notebook instance join
        if let Some(nb) = inv
            .notebooks
            .iter()
            .find(|n| n.eni_id.as_deref() == Some(eni.id.as_str()))
        {
            return (
                sagemaker(NOTEBOOK_INSTANCE, Some(nb.name.clone()), None),
                NOTEBOOK_ENI,
            );
        }
        // b. Studio description or the SageMaker resource tag
        if let Some(rest) = eni.description.strip_prefix(STUDIO_PREFIX)
            && let Some(id) = rest.split(')').next().filter(|s| !s.is_empty())
        {
            let profile = eni
                .tags
                .iter()
                .find(|(k, _)| k == SAGEMAKER_TAG)
                .and_then(|(_, v)| from_arn(v))
                .and_then(|r| r.user_profile)
                .map(|p| self.user_of(id, p));
            return (
                sagemaker(STUDIO_DOMAIN, Some(id.to_string()), profile),
                "studio_description",
            );
        }
        if let Some(mut r) = eni
            .tags
            .iter()
            .find(|(k, _)| k == SAGEMAKER_TAG)
            .and_then(|(_, v)| from_arn(v))
        {
            // A cluster's ARN names its id, not its name.
            if r.rtype == HYPERPOD_CLUSTER
                && let Some(c) = inv.clusters.iter().find(|c| {
                    c.arn
                        .as_deref()
                        .and_then(|a| a.rsplit('/').next())
                        .is_some_and(|id| Some(id) == r.name.as_deref())
                })
            {
                r.name = Some(c.name.clone());
            }
            if let (STUDIO_DOMAIN, Some(domain), Some(p)) =
                (r.rtype, r.name.as_deref(), r.user_profile.as_deref())
            {
                let user = self.user_of(domain, p.to_string());
                r.user_profile = Some(user);
            }
            return (Owner::SageMaker(r), "sagemaker_resource_tag");
        }
        // h. a HyperPod node's ENI
        if let Some(n) = self.node_of(eni) {
            // A node of no described cluster is linked by its instance group's name, which
            // another cluster (one deleted since) may share: the ENI's subnet must be one of
            // the cluster's, else the cluster is unknown.
            let cluster = (!n.cluster.is_empty() && self.cluster_has_subnet_of(&n.cluster, eni))
                .then(|| n.cluster.clone());
            return (sagemaker(HYPERPOD_CLUSTER, cluster, None), HYPERPOD_NODE);
        }
        // c. notebook description
        let lower = eni.description.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix(NOTEBOOK_PREFIX) {
            // Keep the original case of the name; the prefix is ASCII so offsets agree.
            let name = eni.description[eni.description.len() - rest.len()..].trim();
            let name = name.rsplit('/').next().unwrap_or(name);
            return (
                sagemaker(
                    NOTEBOOK_INSTANCE,
                    (!name.is_empty()).then(|| name.to_string()),
                    None,
                ),
                "notebook_description",
            );
        }
        // d. VpcConfig correlation, only for ENIs no instance of the account owns
        if service_managed(eni)
            && let Some(m) = self.vpc_match(eni)
        {
            return (Owner::VpcConfig(m), VPC_CONFIG);
        }
        // s. Studio's own security group, only on ENIs no instance of the account holds (an
        //    EC2 instance given it to mount the domain's EFS is not Studio's)
        if service_managed(eni)
            && let Some(domain) = eni
                .security_group_names
                .iter()
                .find_map(|g| g.strip_prefix(STUDIO_NFS_GROUP))
                .filter(|d| d.starts_with("d-"))
        {
            return (
                sagemaker(STUDIO_DOMAIN, Some(domain.to_string()), None),
                STUDIO_SECURITY_GROUP,
            );
        }
        // e. the ENI's own kind
        (Owner::Kind(own_kind(eni)), "eni_attachment")
    }

    /// The HyperPod node `eni` is attached to, whose primary address it holds, or for which
    /// the VPC CNI of an EKS-orchestrated cluster created it (description
    /// `aws-K8S-<instance id>`, tag `node.k8s.amazonaws.com/instance_id`: named even while
    /// the ENI waits unattached in the CNI's warm pool).
    fn node_of(&self, eni: &Eni) -> Option<&'i ClusterNode> {
        let node = |id: &str| self.nodes.get(id).copied();
        eni.instance_id
            .as_deref()
            .and_then(node)
            .or_else(|| {
                eni.addresses
                    .iter()
                    .find_map(|a| self.node_ips.get(a).copied())
                    .filter(|n| self.may_hold_address_of(eni, n))
            })
            .or_else(|| eni.description.strip_prefix(CNI_PREFIX).and_then(node))
            .or_else(|| {
                eni.tags
                    .iter()
                    .find(|(k, _)| k == CNI_NODE_TAG)
                    .and_then(|(_, v)| node(v))
            })
    }

    /// The user a Studio ENI's tag names: `node/<domain>/<profile or space>/…` names a space
    /// for the apps of a space. A private space's apps run for its owner; a shared
    /// space's for the domain's users, and the space's name stays.
    fn user_of(&self, domain: &str, name: String) -> String {
        self.inv
            .spaces
            .iter()
            .find(|s| s.domain_id == domain && s.name == name && !s.shared)
            .and_then(|s| s.owner.clone())
            .unwrap_or(name)
    }

    /// Whether `eni`'s subnet is in a VpcConfig of cluster `name` (true when the cluster or
    /// the ENI's subnet is unknown, or the cluster names no subnet).
    fn cluster_has_subnet_of(&self, name: &str, eni: &Eni) -> bool {
        let Some(c) = self.inv.clusters.iter().find(|c| c.name == name) else {
            return true;
        };
        let configs = c.vpc_configs();
        let Some(subnet) = eni.subnet_id.as_ref() else {
            return true;
        };
        configs.iter().all(|(_, s)| s.is_empty()) || configs.iter().any(|(_, s)| s.contains(subnet))
    }

    /// Private addresses repeat across VPCs (a node's may be one of SageMaker's platform
    /// VPC): an address joins only a service-managed ENI, in a subnet of the node's
    /// cluster when the inventory describes it, and attached since the node launched.
    fn may_hold_address_of(&self, eni: &Eni, n: &ClusterNode) -> bool {
        let cluster = self.inv.clusters.iter().find(|c| c.name == n.cluster);
        let in_cluster = match cluster {
            Some(c) => eni.subnet_id.as_ref().is_some_and(|s| {
                c.vpc_configs()
                    .iter()
                    .any(|(_, subnets)| subnets.contains(s))
            }),
            None => true,
        };
        // The node holds its address from its launch (its cluster's creation at the
        // earliest): an ENI attached before had it first, and addresses are reused. The
        // margin is for the order of launch and attachment, which AWS does not document.
        let since = n.launched.or(cluster.and_then(|c| c.created));
        let in_time = match (eni.attach_time, since) {
            (Some(a), Some(s)) => a >= s.saturating_sub(crate::inventory::ATTACH_SLACK),
            _ => true,
        };
        service_managed(eni) && in_cluster && in_time
    }

    fn vpc_match(&self, eni: &Eni) -> Option<VpcMatch> {
        let subnet = eni.subnet_id.as_deref()?;
        let groups = sorted(&eni.security_group_ids);
        if groups.is_empty() {
            return None;
        }
        let ws: Vec<Workload> = self
            .by_groups
            .get(&groups)
            .into_iter()
            .flatten()
            .map(|&i| &self.workloads[i])
            .filter(|w| w.runs_in(&groups, subnet))
            .cloned()
            .collect();
        let unserved = self
            .unserved
            .iter()
            .any(|(g, s)| *g == groups && s.iter().any(|x| x == subnet));
        if ws.is_empty() && !unserved {
            return None;
        }
        Some(VpcMatch::new(
            ws,
            eni.attach_time,
            unserved.then_some(ENDPOINT),
        ))
    }

    /// The kind of an ENI that belongs to another service, from EC2's own documents.
    /// With the rule that decided it.
    fn other_service(&self, eni: &Eni) -> Option<(&'static str, &'static str)> {
        if self.endpoint_enis.contains(eni.id.as_str()) {
            return Some(("vpc_endpoint", VPC_ENDPOINT_ENI));
        }
        if self.nat_enis.contains(eni.id.as_str()) {
            return Some((NAT_GATEWAY, NAT_GATEWAY_ENI));
        }
        let kind = match eni.interface_type.as_str() {
            "vpc_endpoint" | "gateway_load_balancer_endpoint" => Some("vpc_endpoint"),
            "nat_gateway" | "regional_nat_gateway" => Some(NAT_GATEWAY),
            "efs" => Some("efs"),
            "lambda" => Some("lambda"),
            t if !t.is_empty() && !SAGEMAKER_INTERFACE_TYPES.contains(&t) => Some("other_service"),
            _ => None,
        };
        if let Some(kind) = kind {
            return Some((kind, "interface_type"));
        }
        if let Some((_, kind)) = OTHER_SERVICE_DESCRIPTIONS
            .iter()
            .find(|(prefix, _)| eni.description.starts_with(prefix))
        {
            return Some((kind, "description"));
        }
        let owner_is_other = |o: &Option<String>| {
            o.as_deref()
                .is_some_and(|o| OTHER_SERVICE_OWNERS.contains(&o))
        };
        if owner_is_other(&eni.requester_id) || owner_is_other(&eni.instance_owner_id) {
            return Some(("other_service", "requester_id"));
        }
        None
    }
}

fn sagemaker(rtype: &'static str, name: Option<String>, user_profile: Option<String>) -> Owner {
    Owner::SageMaker(Resource {
        rtype,
        name,
        user_profile,
    })
}

/// `arn:aws:sagemaker:<region>:<acct>:<type>/<rest>` → the resource it names.
fn from_arn(arn: &str) -> Option<Resource> {
    let resource = arn.splitn(6, ':').nth(5)?;
    let (kind, rest) = resource.split_once('/')?;
    let mut parts = rest.split('/');
    let first = parts.next().filter(|s| !s.is_empty())?.to_string();
    let r = |rtype, name: String| Resource {
        rtype,
        name: Some(name),
        user_profile: None,
    };
    Some(match kind {
        "domain" => r(STUDIO_DOMAIN, first),
        "node" | "user-profile" | "app" => Resource {
            rtype: STUDIO_DOMAIN,
            name: Some(first),
            user_profile: parts.next().filter(|s| !s.is_empty()).map(str::to_string),
        },
        "notebook-instance" => r(NOTEBOOK_INSTANCE, first),
        "training-job" => r(TRAINING_JOB, first),
        "processing-job" => r(PROCESSING_JOB, first),
        "transform-job" => r(TRANSFORM_JOB, first),
        "endpoint" => r(ENDPOINT, first),
        "cluster" => r(HYPERPOD_CLUSTER, first),
        _ => return None,
    })
}

/// Attached by a service rather than to an EC2 instance of the account.
fn service_managed(eni: &Eni) -> bool {
    !eni.created_by_person && service_held(eni)
}

fn service_held(eni: &Eni) -> bool {
    cross_account(eni)
        || eni.requester_managed
        || eni
            .attachment_id
            .as_deref()
            .is_some_and(|a| a.starts_with("ela-attach-"))
        || eni
            .instance_owner_id
            .as_deref()
            .is_some_and(|o| !o.chars().all(|c| c.is_ascii_digit()))
        || eni.instance_id.is_none()
}

/// Attached to an instance of another account (`Attachment.InstanceOwnerId` is not the
/// ENI's `OwnerId`): a service's instance, such as a SageMaker job's or a HyperPod node,
/// that `ec2 describe-instances` of this account does not list.
fn cross_account(eni: &Eni) -> bool {
    matches!((&eni.instance_owner_id, &eni.owner_id), (Some(i), Some(o)) if i != o)
}

/// The kind of an ENI that is neither SageMaker's nor recognisably another service's.
fn own_kind(eni: &Eni) -> &'static str {
    if eni.instance_id.is_some()
        && !eni.requester_managed
        && !cross_account(eni)
        && eni
            .instance_owner_id
            .as_deref()
            .is_none_or(|o| o.chars().all(|c| c.is_ascii_digit()))
    {
        "ec2"
    } else if service_managed(eni) {
        "aws_managed"
    } else {
        "unknown"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::inventory::{
        EndpointConfig, Eni, Inventory, Job, JobKind, Model, Notebook, SageMakerEndpoint,
    };

    fn eni(id: &str) -> Eni {
        Eni {
            id: id.into(),
            subnet_id: Some("subnet-1".into()),
            interface_type: "interface".into(),
            security_group_ids: vec!["sg-b".into(), "sg-a".into()],
            ..Eni::default()
        }
    }

    fn attribute(e: &Eni, inv: &Inventory) -> Owner {
        Attributor::new(inv).attribute(e)
    }

    fn name(o: &Owner, t: i64) -> (String, Option<String>) {
        let r = o.resource_ref(Some(t), Some(t + 60)).expect("sagemaker");
        (
            r.rtype.unwrap_or_default().to_string(),
            r.name.map(str::to_string),
        )
    }

    fn job(name: &str, kind: JobKind, start: i64, end: i64, groups: &[&str]) -> Job {
        Job {
            name: name.into(),
            kind,
            start: Some(start),
            end: Some(end),
            security_group_ids: groups.iter().map(|g| g.to_string()).collect(),
            subnets: vec!["subnet-1".into()],
            ..Job::default()
        }
    }

    #[test]
    fn first_hit_wins_in_order() {
        let mut inv = Inventory::default();
        inv.notebooks.push(Notebook {
            name: "nb".into(),
            eni_id: Some("eni-nb".into()),
            ..Notebook::default()
        });
        // a. the notebook join wins over a Studio description on the same ENI
        let mut e = eni("eni-nb");
        e.description = format!("{STUDIO_PREFIX}d-1) - abc");
        assert_eq!(
            name(&attribute(&e, &inv), 0),
            (NOTEBOOK_INSTANCE.into(), Some("nb".into()))
        );
        // b. description, with the profile from the tag
        let mut e = eni("eni-s");
        e.description = format!("{STUDIO_PREFIX}d-abc) - 0123");
        e.tags.push((
            SAGEMAKER_TAG.into(),
            "arn:aws:sagemaker:r:1:node/d-abc/bob/x".into(),
        ));
        let o = attribute(&e, &inv);
        let r = o.resource_ref(None, None).unwrap();
        assert_eq!(
            (r.rtype, r.name, r.user_profile),
            (Some(STUDIO_DOMAIN), Some("d-abc"), Some("bob"))
        );
        // b. tag alone: a HyperPod cluster
        let mut e = eni("eni-h");
        e.tags.push((
            SAGEMAKER_TAG.into(),
            "arn:aws:sagemaker:r:1:cluster/hp-1".into(),
        ));
        assert_eq!(
            name(&attribute(&e, &inv), 0),
            (HYPERPOD_CLUSTER.into(), Some("hp-1".into()))
        );
        // c. notebook description, any case, name or ARN
        let mut e = eni("eni-c");
        e.description = "[DO NOT DELETE] Network Interface created to access resources in your VPC for SageMaker Notebook Instance arn:aws:sagemaker:r:1:notebook-instance/Legacy-NB".into();
        assert_eq!(
            name(&attribute(&e, &inv), 0),
            (NOTEBOOK_INSTANCE.into(), Some("Legacy-NB".into()))
        );
    }

    #[test]
    fn vpc_config_correlation_by_time_and_model() {
        let mut inv = Inventory::default();
        for (n, s, e) in [("early", 100, 200), ("late", 300, 400)] {
            inv.jobs
                .push(job(n, JobKind::Training, s, e, &["sg-a", "sg-b"]));
        }
        inv.models.push(Model {
            name: "m".into(),
            security_group_ids: vec!["sg-m".into()],
            subnets: vec!["subnet-1".into()],
            ..Model::default()
        });
        let mut batch = job("batch", JobKind::Transform, 1000, 2000, &[]);
        batch.model_name = Some("m".into());
        inv.jobs.push(batch);
        let mut e = eni("eni-j");
        e.requester_managed = true;
        let o = attribute(&e, &inv);
        assert_eq!(o.kind(), "sagemaker");
        assert_eq!(name(&o, 150), (TRAINING_JOB.into(), Some("early".into())));
        assert_eq!(name(&o, 350), (TRAINING_JOB.into(), Some("late".into())));
        assert_eq!(
            name(&o, 230),
            (TRAINING_JOB.into(), None),
            "between jobs: no job"
        );
        // A subset of the groups is not the same set.
        let mut partial = e.clone();
        partial.security_group_ids.pop();
        assert_eq!(attribute(&partial, &inv).kind(), "aws_managed");
        // Transform jobs use their model's VpcConfig.
        let mut t = eni("eni-t");
        t.requester_managed = true;
        t.security_group_ids = vec!["sg-m".into()];
        assert_eq!(
            name(&attribute(&t, &inv), 1500),
            (TRANSFORM_JOB.into(), Some("batch".into()))
        );
        // An ENI attached to one of the account's instances is never a job's.
        let mut ec2 = e.clone();
        ec2.requester_managed = false;
        ec2.instance_id = Some("i-1".into());
        ec2.attachment_id = Some("eni-attach-1".into());
        ec2.instance_owner_id = Some("111122223333".into());
        assert_eq!(attribute(&ec2, &inv).kind(), "ec2");
    }

    /// Overlapping windows: the ENI's attach time chooses; when it cannot, the name is
    /// NULL, the type the common one, and every candidate listed.
    #[test]
    fn overlapping_workloads_are_never_picked_silently() {
        let mut inv = Inventory::default();
        for (n, created, start, end) in [
            ("hpo-001", 900, 1000, 5000),
            ("hpo-002", 1900, 2000, 6000),
            ("hpo-003", 1905, 2005, 6000),
        ] {
            let mut j = job(n, JobKind::Training, start, end, &["sg-a", "sg-b"]);
            j.created = Some(created);
            inv.jobs.push(j);
        }
        let mut e = eni("eni-1");
        e.requester_managed = true;
        // Attached while hpo-001 started: its records are hpo-001's while it runs.
        e.attach_time = Some(950);
        let o = attribute(&e, &inv);
        assert_eq!(
            name(&o, 3000),
            (TRAINING_JOB.into(), Some("hpo-001".into()))
        );
        // Attached while both later jobs started: no choice is made.
        e.attach_time = Some(1950);
        let o = attribute(&e, &inv);
        let r = o.resource_ref(Some(3000), Some(3060)).unwrap();
        assert_eq!(r.rtype, Some(TRAINING_JOB));
        assert_eq!(r.name, None);
        assert_eq!(
            r.candidates.as_deref(),
            Some("training_job:hpo-002,training_job:hpo-003")
        );
        // A managed spot job may attach ENIs until it ends (it resumes on new instances).
        inv.jobs[0].spot = true;
        let o = attribute(&e, &inv);
        let r = o.resource_ref(Some(3000), Some(3060)).unwrap();
        assert_eq!(
            r.candidates.as_deref(),
            Some("training_job:hpo-001,training_job:hpo-002,training_job:hpo-003")
        );
        // Before any of them: SageMaker's, of no job.
        assert_eq!(name(&o, 100), (TRAINING_JOB.into(), None));
    }

    /// An endpoint serves from its creation; a model no endpoint serves never wins.
    #[test]
    fn endpoints_follow_every_model() {
        let mut inv = Inventory::default();
        for m in ["a-unserved", "b-served"] {
            inv.models.push(Model {
                name: m.into(),
                security_group_ids: vec!["sg-a".into(), "sg-b".into()],
                subnets: vec!["subnet-1".into()],
                ..Model::default()
            });
        }
        inv.endpoint_configs.push(EndpointConfig {
            name: "cfg".into(),
            model_names: vec!["b-served".into()],
            ..EndpointConfig::default()
        });
        inv.endpoints.push(SageMakerEndpoint {
            name: "ep".into(),
            config_name: "cfg".into(),
            created: Some(100),
            last_modified: Some(200),
            status: Some("InService".into()),
            ..SageMakerEndpoint::default()
        });
        let mut e = eni("eni-ep");
        e.requester_managed = true;
        let o = attribute(&e, &inv);
        assert_eq!(name(&o, 0), (ENDPOINT.into(), None), "before it existed");
        assert_eq!(name(&o, 10_000), (ENDPOINT.into(), Some("ep".into())));
        // Inference components: the VpcConfig is the endpoint config's.
        inv.endpoint_configs[0].model_names.clear();
        inv.endpoint_configs[0].security_group_ids = vec!["sg-ic".into()];
        inv.endpoint_configs[0].subnets = vec!["subnet-1".into()];
        let mut ic = eni("eni-ic");
        ic.requester_managed = true;
        ic.security_group_ids = vec!["sg-ic".into()];
        assert_eq!(
            name(&attribute(&ic, &inv), 10_000),
            (ENDPOINT.into(), Some("ep".into()))
        );
    }

    #[test]
    fn jobs_without_times_match_no_record() {
        let mut inv = Inventory::default();
        let mut pending = job("pending", JobKind::Training, 0, 0, &["sg-a", "sg-b"]);
        pending.start = None;
        pending.end = None;
        pending.status = Some("InProgress".into());
        let mut timeless = pending.clone();
        timeless.name = "timeless".into();
        pending.created = Some(10_000);
        inv.jobs.extend([pending, timeless]);
        let mut e = eni("eni-p");
        e.requester_managed = true;
        let o = attribute(&e, &inv);
        assert_eq!(name(&o, 500), (TRAINING_JOB.into(), None));
        assert_eq!(
            name(&o, 20_000),
            (TRAINING_JOB.into(), Some("pending".into()))
        );
    }

    #[test]
    fn own_kinds() {
        let inv = Inventory::default();
        let mut e = eni("x");
        for (t, want) in [
            ("vpc_endpoint", "vpc_endpoint"),
            ("nat_gateway", "nat_gateway"),
            ("efs", "efs"),
            ("lambda", "lambda"),
            ("network_load_balancer", "other_service"),
            ("transit_gateway", "other_service"),
        ] {
            e.interface_type = t.into();
            assert_eq!(attribute(&e, &inv).kind(), want);
        }
        e.interface_type = "interface".into();
        e.attachment_id = Some("ela-attach-1".into());
        assert_eq!(attribute(&e, &inv).kind(), "aws_managed");
        e.description = "ELB net/my-nlb/50dc6c495c0c9188".into();
        assert_eq!(attribute(&e, &inv).kind(), "other_service");
        // Attached across accounts, as a WorkSpaces desktop's is: another service's.
        e.attachment_id = Some("eni-attach-1".into());
        e.instance_id = Some("i-1".into());
        e.instance_owner_id = Some("740215731415".into());
        e.owner_id = Some("111122223333".into());
        e.description = "Created By Amazon Workspaces for AWS Account ID 111122223333".into();
        assert_eq!(attribute(&e, &inv).kind(), "other_service");
        e.description.clear();
        assert_eq!(attribute(&e, &inv).kind(), "aws_managed");
        e.instance_owner_id = Some("111122223333".into());
        assert_eq!(attribute(&e, &inv).kind(), "ec2");
    }

    /// HyperPod: a node's ENI by the node's instance id or primary address, whatever its
    /// security groups; one of a node the inventory does not list by the cluster's (or an
    /// instance group's) VpcConfig when it is attached across accounts; an instance of the
    /// account itself in the same subnet and groups is EC2; a tag's ARN names the cluster
    /// by id, shown by name.
    #[test]
    fn hyperpod_nodes_and_cluster_vpc_configs() {
        use crate::inventory::{Cluster, ClusterGroup, ClusterNode};
        let mut inv = Inventory::default();
        inv.clusters.push(Cluster {
            name: "hp".into(),
            arn: Some("arn:aws:sagemaker:us-east-1:1:cluster/k2x7b1qz8m4v".into()),
            created: Some(100),
            security_group_ids: vec!["sg-c".into()],
            subnets: vec!["subnet-1".into()],
            groups: vec![ClusterGroup {
                name: "workers".into(),
                security_group_ids: vec!["sg-a".into(), "sg-b".into()],
                subnets: vec!["subnet-2".into()],
            }],
            ..Cluster::default()
        });
        inv.cluster_nodes.push(ClusterNode {
            cluster: "hp".into(),
            instance_id: "i-node".into(),
            group: Some("workers".into()),
            private_ip: Some("10.0.9.9".parse().unwrap()),
            launched: Some(1_000),
            file: "nodes.json".into(),
        });
        let a = Attributor::new(&inv);
        let mut by_id = eni("eni-1");
        by_id.instance_id = Some("i-node".into());
        let why = a.attribute_why(&by_id);
        assert_eq!(why.rule, HYPERPOD_NODE);
        assert_eq!(why.document.as_deref(), Some("nodes.json"));
        assert_eq!(
            name(&why.owner, 500),
            (HYPERPOD_CLUSTER.into(), Some("hp".into()))
        );
        // The node's instance in a subnet the cluster does not use: a node of another
        // cluster (one deleted since, whose instance group had the same name).
        let mut other_cluster = by_id.clone();
        other_cluster.subnet_id = Some("subnet-9".into());
        let why = a.attribute_why(&other_cluster);
        assert_eq!(why.rule, HYPERPOD_NODE);
        assert_eq!(name(&why.owner, 500), (HYPERPOD_CLUSTER.into(), None));
        let mut by_ip = eni("eni-2");
        by_ip.addresses = vec!["10.0.9.9".parse().unwrap()];
        assert_eq!(a.attribute_why(&by_ip).rule, HYPERPOD_NODE);
        // The same address in a subnet the cluster does not use, or on an instance of the
        // account: another VPC's address, not the node's.
        let mut elsewhere = by_ip.clone();
        elsewhere.subnet_id = Some("subnet-9".into());
        assert_ne!(a.attribute_why(&elsewhere).rule, HYPERPOD_NODE);
        // Attached long before the node launched (a deleted job's ENI CloudTrail knows,
        // whose address the node was given later): not the node's.
        let mut earlier = by_ip.clone();
        earlier.attach_time = Some(1_000 - 3_600);
        assert_ne!(a.attribute_why(&earlier).rule, HYPERPOD_NODE);
        earlier.attach_time = Some(1_000 + 5);
        assert_eq!(a.attribute_why(&earlier).rule, HYPERPOD_NODE);
        // One an IAM user created (CloudTrail) is the account's own, whatever it shares.
        let mut by_person = eni("eni-p");
        by_person.security_group_ids = vec!["sg-c".into()];
        by_person.created_by_person = true;
        assert_eq!(a.attribute(&by_person).kind(), "unknown");
        by_person.created_by_person = false;
        assert_eq!(a.attribute(&by_person).kind(), "sagemaker");
        let mut own = by_ip.clone();
        own.instance_id = Some("i-own".into());
        own.instance_owner_id = Some("111122223333".into());
        own.owner_id = Some("111122223333".into());
        own.attachment_id = Some("eni-attach-2".into());
        assert_eq!(a.attribute(&own).kind(), "ec2");
        // An EKS-orchestrated cluster's pod ENI, unattached in the CNI's warm pool.
        let mut pod = eni("eni-5");
        pod.description = "aws-K8S-i-node".into();
        assert_eq!(a.attribute_why(&pod).rule, HYPERPOD_NODE);
        pod.description.clear();
        pod.tags = vec![(CNI_NODE_TAG.into(), "i-node".into())];
        assert_eq!(a.attribute_why(&pod).rule, HYPERPOD_NODE);
        // The CNI's ENI of an EC2 node of the account's own EKS cluster is not HyperPod's.
        pod.tags = vec![(CNI_NODE_TAG.into(), "i-0123456789abcdef0".into())];
        assert_ne!(a.attribute_why(&pod).rule, HYPERPOD_NODE);

        // A replaced node: the workers group's override, across accounts.
        let mut other = eni("eni-3");
        other.subnet_id = Some("subnet-2".into());
        other.instance_id = Some("i-gone".into());
        other.instance_owner_id = Some("740215731415".into());
        other.owner_id = Some("111122223333".into());
        other.attachment_id = Some("eni-attach-3".into());
        let why = a.attribute_why(&other);
        assert_eq!(why.rule, VPC_CONFIG);
        assert_eq!(
            name(&why.owner, 500),
            (HYPERPOD_CLUSTER.into(), Some("hp".into()))
        );
        // Before the cluster existed: SageMaker's, of no workload then.
        assert!(
            why.owner
                .resource_ref(Some(10), Some(20))
                .is_none_or(|r| r.name.is_none())
        );
        // The account's own instance.
        other.instance_owner_id = Some("111122223333".into());
        assert_eq!(a.attribute(&other).kind(), "ec2");

        let mut tagged = eni("eni-4");
        tagged.tags = vec![(
            SAGEMAKER_TAG.into(),
            "arn:aws:sagemaker:us-east-1:1:cluster/k2x7b1qz8m4v".into(),
        )];
        assert_eq!(
            name(&a.attribute(&tagged), 500),
            (HYPERPOD_CLUSTER.into(), Some("hp".into()))
        );
    }

    /// An ENI in Studio's NFS security group with neither the Studio description nor the
    /// tag is the domain's when a service holds it, and an EC2 instance of the account given
    /// that group (to mount the domain's EFS) stays EC2; a job whose VpcConfig names the
    /// group wins.
    #[test]
    fn studio_security_group() {
        let mut inv = Inventory::default();
        let mut e = eni("eni-studio");
        e.security_group_ids = vec!["sg-nfs".into()];
        e.security_group_names = vec!["security-group-for-outbound-nfs-d-g7djlrunxivy".into()];
        e.requester_managed = true;
        let why = Attributor::new(&inv).attribute_why(&e);
        assert_eq!(why.rule, STUDIO_SECURITY_GROUP);
        assert_eq!(
            name(&why.owner, 500),
            (STUDIO_DOMAIN.into(), Some("d-g7djlrunxivy".into()))
        );
        let mut ec2 = e.clone();
        ec2.requester_managed = false;
        ec2.instance_id = Some("i-1".into());
        ec2.instance_owner_id = Some("111122223333".into());
        ec2.owner_id = Some("111122223333".into());
        ec2.attachment_id = Some("eni-attach-1".into());
        assert_eq!(Attributor::new(&inv).attribute(&ec2).kind(), "ec2");
        inv.jobs
            .push(job("train", JobKind::Training, 100, 200, &["sg-nfs"]));
        assert_eq!(Attributor::new(&inv).attribute_why(&e).rule, VPC_CONFIG);
    }

    /// A Studio ENI's tag naming a private space is its owner's; one naming a shared space
    /// or a user profile keeps the name.
    #[test]
    fn studio_spaces_name_their_owner() {
        use crate::inventory::Space;
        let mut inv = Inventory::default();
        for (name, owner, shared) in [("alice-lab", "alice", false), ("team", "bob", true)] {
            inv.spaces.push(Space {
                domain_id: "d-1".into(),
                name: name.into(),
                owner: Some(owner.into()),
                shared,
            });
        }
        let user = |tagged: &str, described: bool| {
            let mut e = eni("eni-s");
            e.tags = vec![(
                SAGEMAKER_TAG.into(),
                format!("arn:aws:sagemaker:us-east-1:1:node/d-1/{tagged}/jupyterlab"),
            )];
            if described {
                e.description = format!("{STUDIO_PREFIX}d-1) - 0123");
            }
            match Attributor::new(&inv).attribute(&e) {
                Owner::SageMaker(r) => r.user_profile,
                other => panic!("{other:?}"),
            }
        };
        for described in [false, true] {
            assert_eq!(user("alice-lab", described).as_deref(), Some("alice"));
            assert_eq!(user("team", described).as_deref(), Some("team"));
            assert_eq!(user("carol", described).as_deref(), Some("carol"));
        }
    }

    /// Another service's ENI sharing a job's security groups and subnet is not the job's.
    #[test]
    fn other_services_are_never_matched_by_vpc_config() {
        let mut inv = Inventory::default();
        inv.jobs
            .push(job("train", JobKind::Training, 100, 200, &["sg-a", "sg-b"]));
        inv.vpc_endpoints.push(crate::inventory::VpcEndpoint {
            id: "vpce-1".into(),
            vpc_id: "vpc-1".into(),
            service_name: "com.amazonaws.us-east-1.sts".into(),
            endpoint_type: crate::inventory::EndpointType::Interface,
            eni_ids: vec!["eni-listed".into()],
            route_table_ids: vec![],
            private_dns_enabled: Some(true),
            private_dns_inbound_only: false,
            ip_address_type: None,
            created: None,
        });
        let mut listed = eni("eni-listed");
        listed.requester_managed = true;
        assert_eq!(attribute(&listed, &inv).kind(), "vpc_endpoint");
        let mut lambda = eni("eni-lambda");
        lambda.requester_managed = true;
        lambda.description = "AWS Lambda VPC ENI-fn-0c6f9e2b".into();
        assert_eq!(attribute(&lambda, &inv).kind(), "lambda");
        let mut job_eni = eni("eni-job");
        job_eni.requester_managed = true;
        assert_eq!(attribute(&job_eni, &inv).kind(), "sagemaker");
    }

    #[test]
    fn arns() {
        let r = from_arn("arn:aws:sagemaker:us-east-1:1:node/d-g7djlrunxivy/default-20230916t105232/system-jupyterserverorkernelgateway").unwrap();
        assert_eq!(r.rtype, STUDIO_DOMAIN);
        assert_eq!(r.name.as_deref(), Some("d-g7djlrunxivy"));
        assert_eq!(r.user_profile.as_deref(), Some("default-20230916t105232"));
        assert_eq!(
            from_arn("arn:aws:sagemaker:us-east-1:1:cluster/abc")
                .unwrap()
                .rtype,
            HYPERPOD_CLUSTER
        );
        assert!(from_arn("not an arn").is_none());
    }
}
