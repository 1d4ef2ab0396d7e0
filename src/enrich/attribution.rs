//! Which workload owns an ENI. The rules are ordered and the first hit wins:
//!
//! a. a notebook instance's `NetworkInterfaceId` (exact join);
//! b. the Studio description `[DO NOT DELETE] ENI managed by SageMaker for Studio Domain(<id>)`,
//!    or a `ManagedByAmazonSageMakerResource` tag whose ARN names the resource;
//! c. the notebook-instance description prefix (case-insensitive);
//! d. VpcConfig correlation for service-managed ENIs: same security-group set and a
//!    subnet of the job/model → training/processing/transform job (by time) or endpoint;
//! e. otherwise the ENI's own kind.

use std::collections::BTreeSet;

use crate::inventory::{Eni, Inventory, JobKind};

/// `sagemaker_resource_type` values.
pub const STUDIO_DOMAIN: &str = "studio_domain";
pub const NOTEBOOK_INSTANCE: &str = "notebook_instance";
pub const TRAINING_JOB: &str = "training_job";
pub const PROCESSING_JOB: &str = "processing_job";
pub const TRANSFORM_JOB: &str = "transform_job";
pub const ENDPOINT: &str = "endpoint";
pub const HYPERPOD_CLUSTER: &str = "hyperpod_cluster";

/// A SageMaker resource an ENI (or a record) belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub rtype: &'static str,
    pub name: Option<String>,
    pub user_profile: Option<String>,
}

/// A borrowed [`Resource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceRef<'a> {
    pub rtype: &'static str,
    pub name: Option<&'a str>,
    pub user_profile: Option<&'a str>,
}

/// A job an ENI may serve, with its running window.
#[derive(Debug, Clone)]
pub struct JobWindow {
    pub rtype: &'static str,
    pub name: String,
    pub start: Option<i64>,
    pub end: Option<i64>,
}

/// The static part of an ENI's attribution.
#[derive(Debug, Clone)]
pub enum Owner {
    SageMaker(Resource),
    /// Matched one or more jobs by VpcConfig; the record time picks one.
    Jobs(Vec<JobWindow>),
    /// Not SageMaker: `vpc_endpoint`, `nat_gateway`, `efs`, `lambda`, `ec2`, `aws_managed`, `unknown`.
    Kind(&'static str),
}

impl Owner {
    pub fn kind(&self) -> &'static str {
        match self {
            Owner::SageMaker(_) | Owner::Jobs(_) => "sagemaker",
            Owner::Kind(k) => k,
        }
    }

    /// Like [`Owner::resource_at`], borrowing: this runs once per record.
    pub fn resource_ref(&self, start: Option<i64>, end: Option<i64>) -> Option<ResourceRef<'_>> {
        match self {
            Owner::SageMaker(r) => Some(ResourceRef {
                rtype: r.rtype,
                name: r.name.as_deref(),
                user_profile: r.user_profile.as_deref(),
            }),
            Owner::Jobs(jobs) => {
                let t0 = start.or(end);
                let t1 = end.or(start);
                let hit = jobs.iter().find(|j| {
                    let (Some(t0), Some(t1)) = (t0, t1) else {
                        return false;
                    };
                    j.start.is_none_or(|s| t1 >= s) && j.end.is_none_or(|e| t0 <= e)
                });
                Some(ResourceRef {
                    rtype: hit.map_or(jobs[0].rtype, |j| j.rtype),
                    name: hit.map(|j| j.name.as_str()),
                    user_profile: None,
                })
            }
            Owner::Kind(_) => None,
        }
    }

    /// The resource for a record spanning `start..=end`. A job ENI outside every job's
    /// window is still SageMaker's, but of no known job: the type is kept, the name is NULL.
    pub fn resource_at(&self, start: Option<i64>, end: Option<i64>) -> Option<Resource> {
        self.resource_ref(start, end).map(|r| Resource {
            rtype: r.rtype,
            name: r.name.map(str::to_string),
            user_profile: r.user_profile.map(str::to_string),
        })
    }

    /// A description for `inventory show`.
    pub fn describe(&self) -> String {
        match self {
            Owner::SageMaker(r) => {
                let mut s = format!("sagemaker {} {}", r.rtype, r.name.as_deref().unwrap_or("?"));
                if let Some(p) = &r.user_profile {
                    s += &format!(" (user profile {p})");
                }
                s
            }
            Owner::Jobs(jobs) => format!(
                "sagemaker by VpcConfig: {}",
                jobs.iter()
                    .map(|j| format!("{} {}", j.rtype, j.name))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Owner::Kind(k) => (*k).to_string(),
        }
    }
}

const STUDIO_PREFIX: &str = "[DO NOT DELETE] ENI managed by SageMaker for Studio Domain(";
const NOTEBOOK_PREFIX: &str = "[do not delete] network interface created to access resources in your vpc for sagemaker notebook instance";
const SAGEMAKER_TAG: &str = "ManagedByAmazonSageMakerResource";

/// Attributes one ENI.
pub fn attribute(eni: &Eni, inv: &Inventory) -> Owner {
    // a. notebook instance join
    if let Some(nb) = inv
        .notebooks
        .iter()
        .find(|n| n.eni_id.as_deref() == Some(eni.id.as_str()))
    {
        return sagemaker(NOTEBOOK_INSTANCE, Some(nb.name.clone()), None);
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
            .and_then(|r| r.user_profile);
        return sagemaker(STUDIO_DOMAIN, Some(id.to_string()), profile);
    }
    if let Some(r) = eni
        .tags
        .iter()
        .find(|(k, _)| k == SAGEMAKER_TAG)
        .and_then(|(_, v)| from_arn(v))
    {
        return Owner::SageMaker(r);
    }
    // c. notebook description
    let lower = eni.description.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix(NOTEBOOK_PREFIX) {
        // Keep the original case of the name; the prefix is ASCII so offsets agree.
        let name = eni.description[eni.description.len() - rest.len()..].trim();
        let name = name.rsplit('/').next().unwrap_or(name);
        return sagemaker(
            NOTEBOOK_INSTANCE,
            (!name.is_empty()).then(|| name.to_string()),
            None,
        );
    }
    // d. VpcConfig correlation, only for ENIs no instance of the account owns
    if service_managed(eni) && !eni.security_group_ids.is_empty() {
        let sgs: BTreeSet<&str> = eni.security_group_ids.iter().map(String::as_str).collect();
        let subnet = eni.subnet_id.as_deref();
        let fits = |groups: &[String], subnets: &[String]| {
            let g: BTreeSet<&str> = groups.iter().map(String::as_str).collect();
            g == sgs && subnet.is_some_and(|s| subnets.iter().any(|x| x == s))
        };
        let mut jobs: Vec<JobWindow> = Vec::new();
        for j in &inv.jobs {
            let (groups, subnets) = match (j.kind, &j.model_name) {
                (JobKind::Transform, Some(m)) => match inv.models.iter().find(|x| &x.name == m) {
                    Some(model) => (&model.security_group_ids, &model.subnets),
                    None => continue,
                },
                _ => (&j.security_group_ids, &j.subnets),
            };
            if fits(groups, subnets) {
                jobs.push(JobWindow {
                    rtype: match j.kind {
                        JobKind::Training => TRAINING_JOB,
                        JobKind::Processing => PROCESSING_JOB,
                        JobKind::Transform => TRANSFORM_JOB,
                    },
                    name: j.name.clone(),
                    start: j.start,
                    end: j.end,
                });
            }
        }
        if !jobs.is_empty() {
            jobs.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.name.cmp(&b.name)));
            return Owner::Jobs(jobs);
        }
        for m in &inv.models {
            if !fits(&m.security_group_ids, &m.subnets) {
                continue;
            }
            let endpoint = inv.endpoints.iter().find(|e| {
                inv.endpoint_configs
                    .iter()
                    .any(|c| c.name == e.config_name && c.model_names.contains(&m.name))
            });
            return sagemaker(ENDPOINT, endpoint.map(|e| e.name.clone()), None);
        }
    }
    // e. the ENI's own kind
    Owner::Kind(own_kind(eni))
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
    eni.requester_managed
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

fn own_kind(eni: &Eni) -> &'static str {
    let d = eni.description.as_str();
    match eni.interface_type.as_str() {
        "vpc_endpoint" | "gateway_load_balancer_endpoint" => return "vpc_endpoint",
        "nat_gateway" => return "nat_gateway",
        "efs" => return "efs",
        "lambda" => return "lambda",
        _ => {}
    }
    if d.starts_with("VPC Endpoint Interface") {
        "vpc_endpoint"
    } else if d.starts_with("Interface for NAT Gateway") {
        "nat_gateway"
    } else if d.starts_with("EFS mount target") {
        "efs"
    } else if d.starts_with("AWS Lambda VPC ENI") {
        "lambda"
    } else if eni.instance_id.is_some()
        && !eni.requester_managed
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

    use crate::inventory::{Eni, Inventory, Job, JobKind, Model, Notebook};

    fn eni(id: &str) -> Eni {
        Eni {
            id: id.into(),
            subnet_id: Some("subnet-1".into()),
            interface_type: "interface".into(),
            security_group_ids: vec!["sg-b".into(), "sg-a".into()],
            ..Eni::default()
        }
    }

    fn name(o: &Owner, t: i64) -> (String, Option<String>) {
        let r = o.resource_at(Some(t), Some(t + 60)).expect("sagemaker");
        (r.rtype.to_string(), r.name)
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
        let r = o.resource_at(None, None).unwrap();
        assert_eq!(
            (r.rtype, r.name.as_deref(), r.user_profile.as_deref()),
            (STUDIO_DOMAIN, Some("d-abc"), Some("bob"))
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
            inv.jobs.push(Job {
                name: n.into(),
                kind: JobKind::Training,
                start: Some(s),
                end: Some(e),
                security_group_ids: vec!["sg-a".into(), "sg-b".into()],
                subnets: vec!["subnet-1".into()],
                model_name: None,
            });
        }
        inv.models.push(Model {
            name: "m".into(),
            security_group_ids: vec!["sg-m".into()],
            subnets: vec!["subnet-1".into()],
        });
        inv.jobs.push(Job {
            name: "batch".into(),
            kind: JobKind::Transform,
            start: Some(1000),
            end: Some(2000),
            security_group_ids: vec![],
            subnets: vec![],
            model_name: Some("m".into()),
        });
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

    #[test]
    fn own_kinds() {
        let inv = Inventory::default();
        let mut e = eni("x");
        for (t, want) in [
            ("vpc_endpoint", "vpc_endpoint"),
            ("nat_gateway", "nat_gateway"),
            ("efs", "efs"),
            ("lambda", "lambda"),
        ] {
            e.interface_type = t.into();
            assert_eq!(attribute(&e, &inv).kind(), want);
        }
        e.interface_type = "interface".into();
        e.attachment_id = Some("ela-attach-1".into());
        assert_eq!(attribute(&e, &inv).kind(), "aws_managed");
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
