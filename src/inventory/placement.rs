//! Where each SageMaker job, endpoint, HyperPod cluster and MLflow tracking server of the
//! inventory runs: in subnets of yours (a VpcConfig), or in a VPC SageMaker manages (no
//! VpcConfig, serverless inference, MLflow), where none of its traffic reaches your flow
//! logs. A workload of the second
//! kind makes no
//! record, so no flow-log rule can flag it: only its configuration says it ran outside.

use super::{Inventory, Item, JobKind, Window};

/// What a [`Placement`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Placed {
    Job(JobKind),
    Endpoint,
    Cluster,
    MlflowServer,
}

/// One job's, endpoint's or HyperPod cluster's network placement, from its own document
/// or the documents it names (a transform job's model, an endpoint's config and models).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement<'a> {
    pub placed: Placed,
    pub name: &'a str,
    /// `Some(true)`: it runs outside every VPC of yours; `Some(false)`: in `subnets`;
    /// `None`: the document that would say is not in the inventory.
    pub outside_vpc: Option<bool>,
    pub subnets: &'a [String],
    /// Why, in words, naming the document's item and the fact.
    pub reason: String,
    /// The file that shows it.
    pub document: Option<&'a str>,
    /// When it ran (a job) or existed (an endpoint).
    pub window: Option<Window>,
}

const INVISIBLE: &str = "none of its traffic, internet included, reaches your flow logs";

/// A placement before it is tied to its workload.
struct Where<'a> {
    outside_vpc: Option<bool>,
    subnets: &'a [String],
    reason: String,
    document: Option<&'a str>,
}

impl<'a> Where<'a> {
    fn inside(subnets: &'a [String], what: &str, document: Option<&'a str>) -> Self {
        Where {
            outside_vpc: Some(false),
            subnets,
            reason: format!("{what}: subnets {}", subnets.join(", ")),
            document,
        }
    }

    fn outside(reason: String, document: Option<&'a str>) -> Self {
        Where {
            outside_vpc: Some(true),
            subnets: &[],
            reason,
            document,
        }
    }

    fn unknown(reason: String, document: Option<&'a str>) -> Self {
        Where {
            outside_vpc: None,
            subnets: &[],
            reason,
            document,
        }
    }
}

impl Inventory {
    /// The placement of every job, endpoint, HyperPod cluster and MLflow tracking server,
    /// in that order and the inventory's.
    pub fn placements(&self) -> Vec<Placement<'_>> {
        let jobs = self.jobs.iter().map(|j| {
            let doc = self.document(Item::Job(j.kind, &j.key()));
            let scope = j.scope.as_deref();
            let at = match (j.kind, j.model_name.as_deref()) {
                // Batch transform runs in its model's VpcConfig.
                (JobKind::Transform, Some(m)) => {
                    self.in_model(scope, m, "the transform job", true, doc)
                }
                (JobKind::Transform, None) => Where::unknown(
                    "the transform job names no model: where it ran is unknown".to_string(),
                    doc,
                ),
                (kind, _) => {
                    let (config, what) = match kind {
                        JobKind::Processing => ("NetworkConfig.VpcConfig", "processing job"),
                        _ => ("VpcConfig", "training job"),
                    };
                    if j.subnets.is_empty() {
                        Where::outside(
                            format!("no {config}: the {what} ran in a SageMaker-managed VPC; {INVISIBLE}"),
                            doc,
                        )
                    } else {
                        Where::inside(&j.subnets, config, doc)
                    }
                }
            };
            (Placed::Job(j.kind), j.name.as_str(), j.window(), at)
        });
        let endpoints = self.endpoints.iter().map(|e| {
            let at = self.endpoint_placement(e.scope.as_deref(), &e.config_name);
            (Placed::Endpoint, e.name.as_str(), e.window(), at)
        });
        let clusters = self.clusters.iter().map(|c| {
            let doc = self.document(Item::Cluster(&c.name));
            let at = if c.subnets.is_empty() {
                Where::outside(
                    format!(
                        "no VpcConfig: the HyperPod cluster's nodes run in SageMaker's platform VPC; {INVISIBLE}"
                    ),
                    doc,
                )
            } else {
                Where::inside(&c.subnets, "VpcConfig", doc)
            };
            (Placed::Cluster, c.name.as_str(), c.window(), at)
        });
        // A tracking server has no VPC option: it always runs in SageMaker's.
        let mlflow = self.mlflow_servers.iter().map(|m| {
            let doc = self.document(Item::MlflowServer(&m.name));
            let store = match &m.artifact_store {
                Some(uri) => format!(" (to its artifact store {uri})"),
                None => String::new(),
            };
            let at = Where::outside(
                format!(
                    "a managed MLflow tracking server runs in a VPC SageMaker manages, with no ENI in yours: none of its own traffic{store} reaches your flow logs; clients in your VPC reach it through the aws.sagemaker.<region>.experiments interface endpoint, or else over public addresses"
                ),
                doc,
            );
            (Placed::MlflowServer, m.name.as_str(), m.window(), at)
        });
        jobs.chain(endpoints)
            .chain(clusters)
            .chain(mlflow)
            .map(|(placed, name, window, at)| Placement {
                placed,
                name,
                outside_vpc: at.outside_vpc,
                subnets: at.subnets,
                reason: at.reason,
                document: at.document,
                window,
            })
            .collect()
    }

    /// A workload that runs in model `m`'s VpcConfig: `who` names it in the reason (in the
    /// past tense when `ran`), `named_by` is the document that names the model.
    fn in_model<'a>(
        &'a self,
        scope: Option<&str>,
        m: &str,
        who: &str,
        ran: bool,
        named_by: Option<&'a str>,
    ) -> Where<'a> {
        let runs = if ran { "ran" } else { "runs" };
        match self.model(scope, m) {
            None => Where::unknown(
                format!(
                    "its model {m} is not in the inventory (aws sagemaker describe-model): where it {runs} is unknown"
                ),
                named_by,
            ),
            Some(model) if model.subnets.is_empty() => Where::outside(
                format!(
                    "its model {m} has no VpcConfig: {who} {runs} in a SageMaker-managed VPC; {INVISIBLE}"
                ),
                self.document(Item::Model(&model.key())),
            ),
            Some(model) => Where::inside(
                &model.subnets,
                &format!("its model {m}'s VpcConfig"),
                self.document(Item::Model(&model.key())),
            ),
        }
    }

    /// An endpoint's placement from its config: serverless inference runs outside any VPC
    /// of yours; else the config's own VpcConfig (inference components), else its models'.
    fn endpoint_placement(&self, scope: Option<&str>, config: &str) -> Where<'_> {
        let Some(cfg) = self.endpoint_config(scope, config) else {
            return Where::unknown(
                format!(
                    "its endpoint config {config} is not in the inventory (aws sagemaker describe-endpoint-config): where it runs is unknown"
                ),
                None,
            );
        };
        let cfg_doc = self.document(Item::EndpointConfig(&cfg.key()));
        if cfg.serverless {
            return Where::outside(
                format!(
                    "serverless inference (ServerlessConfig in endpoint config {config}) runs outside every VPC of yours; {INVISIBLE}"
                ),
                cfg_doc,
            );
        }
        if !cfg.subnets.is_empty() {
            return Where::inside(
                &cfg.subnets,
                &format!("endpoint config {config}'s VpcConfig"),
                cfg_doc,
            );
        }
        if cfg.model_names.is_empty() {
            return Where::unknown(
                format!(
                    "endpoint config {config} has no VpcConfig and names no model (inference components): where they run is unknown"
                ),
                cfg_doc,
            );
        }
        let mut each: Vec<Where> = cfg
            .model_names
            .iter()
            .map(|m| self.in_model(cfg.scope.as_deref(), m, "that variant", false, cfg_doc))
            .collect();
        // One variant outside is enough: its instances run in SageMaker's VPC whatever the
        // others do. Then one whose model is unknown leaves the endpoint unknown.
        let pick = each
            .iter()
            .position(|w| w.outside_vpc == Some(true))
            .or_else(|| each.iter().position(|w| w.outside_vpc.is_none()))
            .unwrap_or(0);
        each.swap_remove(pick)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{EndpointConfig, Job, Model, SageMakerEndpoint};

    fn subnets(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    fn job(name: &str, kind: JobKind, subnet: &[&str], model: Option<&str>) -> Job {
        Job {
            name: name.into(),
            kind,
            created: Some(100),
            start: Some(110),
            end: Some(200),
            subnets: subnets(subnet),
            model_name: model.map(str::to_string),
            ..Job::default()
        }
    }

    fn endpoint(name: &str, config: &str) -> SageMakerEndpoint {
        SageMakerEndpoint {
            name: name.into(),
            config_name: config.into(),
            created: Some(50),
            status: Some("InService".into()),
            ..SageMakerEndpoint::default()
        }
    }

    fn config(name: &str, models: &[&str], subnet: &[&str], serverless: bool) -> EndpointConfig {
        EndpointConfig {
            name: name.into(),
            model_names: subnets(models),
            subnets: subnets(subnet),
            serverless,
            ..EndpointConfig::default()
        }
    }

    fn model(name: &str, subnet: &[&str]) -> Model {
        Model {
            name: name.into(),
            subnets: subnets(subnet),
            ..Model::default()
        }
    }

    /// (name, outside_vpc) of every placement, in order.
    fn outside(inv: &Inventory) -> Vec<(&str, Option<bool>)> {
        inv.placements()
            .iter()
            .map(|p| (p.name, p.outside_vpc))
            .collect()
    }

    #[test]
    fn a_workload_is_outside_only_when_its_documents_say_so() {
        let inv = Inventory {
            jobs: vec![
                job("train-vpc", JobKind::Training, &["subnet-a"], None),
                job("train-open", JobKind::Training, &[], None),
                job("proc-open", JobKind::Processing, &[], None),
                job("bt-open", JobKind::Transform, &[], Some("m-open")),
                job("bt-vpc", JobKind::Transform, &[], Some("m-vpc")),
                job("bt-unknown", JobKind::Transform, &[], Some("m-missing")),
            ],
            models: vec![model("m-open", &[]), model("m-vpc", &["subnet-a"])],
            endpoint_configs: vec![
                config("c-serverless", &["m-vpc"], &[], true),
                config("c-own-vpc", &[], &["subnet-b"], false),
                config("c-mixed", &["m-vpc", "m-open"], &[], false),
                config("c-vpc", &["m-vpc"], &[], false),
                config("c-half-known", &["m-vpc", "m-missing"], &[], false),
                config("c-components", &[], &[], false),
            ],
            endpoints: vec![
                endpoint("ep-serverless", "c-serverless"),
                endpoint("ep-own-vpc", "c-own-vpc"),
                endpoint("ep-mixed", "c-mixed"),
                endpoint("ep-vpc", "c-vpc"),
                endpoint("ep-half-known", "c-half-known"),
                endpoint("ep-components", "c-components"),
                endpoint("ep-no-config", "c-missing"),
            ],
            ..Inventory::default()
        };
        assert_eq!(
            outside(&inv),
            vec![
                ("train-vpc", Some(false)),
                ("train-open", Some(true)),
                ("proc-open", Some(true)),
                ("bt-open", Some(true)),
                ("bt-vpc", Some(false)),
                ("bt-unknown", None),
                ("ep-serverless", Some(true)),
                ("ep-own-vpc", Some(false)),
                ("ep-mixed", Some(true)),
                ("ep-vpc", Some(false)),
                ("ep-half-known", None),
                ("ep-components", None),
                ("ep-no-config", None),
            ]
        );
        let p = inv.placements();
        let of = |n: &str| p.iter().find(|x| x.name == n).unwrap();
        assert!(
            of("proc-open")
                .reason
                .starts_with("no NetworkConfig.VpcConfig")
        );
        assert!(
            of("bt-open")
                .reason
                .contains("its model m-open has no VpcConfig")
        );
        assert!(
            of("ep-mixed")
                .reason
                .contains("its model m-open has no VpcConfig")
        );
        assert!(
            of("ep-serverless")
                .reason
                .starts_with("serverless inference")
        );
        assert!(
            of("ep-no-config")
                .reason
                .contains("describe-endpoint-config")
        );
        assert_eq!(of("ep-own-vpc").subnets, ["subnet-b"]);
        assert_eq!(
            of("train-open").window,
            Some(Window {
                from: 110,
                to: Some(200)
            })
        );
        assert_eq!(of("ep-vpc").window, Some(Window { from: 50, to: None }));
    }
}
