//! SageMaker `describe-*` documents, recognised by their name keys: notebook instances,
//! Studio domains, training/processing/transform jobs, endpoints, endpoint configs, models,
//! HyperPod clusters and their nodes, Studio spaces and MLflow tracking servers.

use super::doc::{Doc, Obj, Round, push_unique};
use crate::inventory::{
    Cluster, ClusterGroup, ClusterNode, Domain, EndpointConfig, Inventory, Item, Job, JobKind,
    MlflowServer, Model, Notebook, SageMakerEndpoint, Space, scoped,
};

/// SageMaker `describe-*` output is a bare object; returns whether `o` was one.
pub(super) fn add_sagemaker(inv: &mut Inventory, doc: &mut Doc, o: &Obj) -> bool {
    let has = |k: &str| o.contains_key(k);
    if has("ClusterNodeSummaries") {
        // list-cluster-nodes (with the `ClusterName` `inventory collect` adds)
        let cluster = doc.opt_str(o, "ClusterName", "list-cluster-nodes");
        for n in doc.objects(o, "ClusterNodeSummaries", "list-cluster-nodes") {
            add_cluster_node(inv, doc, n, cluster.as_deref());
        }
    } else if has("NodeDetails") {
        // describe-cluster-node
        let cluster = doc.opt_str(o, "ClusterName", "describe-cluster-node");
        if let Some(n) = doc.object(o, "NodeDetails", "describe-cluster-node") {
            add_cluster_node(inv, doc, n, cluster.as_deref());
        }
    } else if has("ClusterName") && (has("InstanceGroups") || has("ClusterArn")) {
        add_cluster(inv, doc, o);
    } else if has("TrackingServerSummaries") {
        for x in doc.objects(o, "TrackingServerSummaries", "list-mlflow-tracking-servers") {
            add_mlflow_server(inv, doc, x);
        }
    } else if has("TrackingServerName") {
        add_mlflow_server(inv, doc, o);
    } else if has("Spaces") {
        // list-spaces: each summary has the owner and sharing type describe-space has.
        for s in doc.objects(o, "Spaces", "list-spaces") {
            add_space(
                inv,
                doc,
                s,
                "OwnershipSettingsSummary",
                "SpaceSharingSettingsSummary",
            );
        }
    } else if has("DomainId") && has("SpaceName") && !has("AppName") {
        add_space(inv, doc, o, "OwnershipSettings", "SpaceSharingSettings");
    } else if has("DomainId") && (has("UserProfileName") || has("AppName")) {
        doc.warn(
            "describe-user-profile or describe-app output is not used: Studio apps' ENIs name their domain, and their user profile or space, in their ManagedByAmazonSageMakerResource tag; describe-domain (and describe-space, for the owner of a private space) are the documents sageflow reads; skipped",
        );
    } else if has("InferenceComponentName") {
        // describe-inference-component also carries EndpointName: it is not an endpoint.
        doc.warn(
            "describe-inference-component output is not used: an inference component runs on its endpoint's instances, in the VpcConfig of the endpoint config that describe-endpoint-config prints; skipped",
        );
    } else if has("HyperParameterTuningJobName") || has("AutoMLJobName") {
        // Their own documents name a VpcConfig too, but the ENIs are their jobs'.
        doc.warn(
            "describe-hyper-parameter-tuning-job and describe-auto-ml-job output is not used: a tuning or AutoML job runs training (and processing) jobs, each on its own ENIs in the VpcConfig its describe-training-job or describe-processing-job prints; save those (aws sagemaker list-training-jobs, then describe-training-job for each, as `sageflow inventory collect` does); skipped",
        );
    } else if has("NotebookInstanceName") {
        add_notebook(inv, doc, o);
    } else if has("DomainId") && (has("DomainName") || has("AppNetworkAccessType")) {
        // describe-user-profile, -space and -app also carry DomainId; only
        // describe-domain has the domain's own fields.
        add_domain(inv, doc, o);
    } else if has("TrainingJobName") {
        add_job(inv, doc, o, JobKind::Training);
    } else if has("ProcessingJobName") {
        add_job(inv, doc, o, JobKind::Processing);
    } else if has("TransformJobName") {
        add_job(inv, doc, o, JobKind::Transform);
    } else if has("EndpointName") {
        add_endpoint(inv, doc, o);
    } else if has("EndpointConfigName") {
        add_endpoint_config(inv, doc, o);
    } else if has("ModelName") && (has("VpcConfig") || has("PrimaryContainer") || has("Containers"))
    {
        add_model(inv, doc, o);
    } else {
        return false;
    }
    true
}

fn add_notebook(inv: &mut Inventory, doc: &mut Doc, o: &Obj) {
    let Some(name) = doc.required(o, "NotebookInstanceName", "notebook instance") else {
        return;
    };
    let owner = format!("notebook instance {name}");
    let scope = doc.scope(o, "NotebookInstanceArn", &owner);
    inv.note_document(Item::Notebook(&scoped(scope.as_deref(), &name)), doc.file);
    let nb = Notebook {
        scope,
        eni_id: doc.opt_str(o, "NetworkInterfaceId", &owner),
        subnet_id: doc.opt_str(o, "SubnetId", &owner),
        security_group_ids: doc.strings(o, "SecurityGroups", &owner),
        direct_internet_access: doc.opt_str(o, "DirectInternetAccess", &owner).as_deref()
            == Some("Enabled"),
        created: doc.time(o, "CreationTime", &owner, Round::Down),
        name,
    };
    doc.add_unique(&mut inv.notebooks, nb, Notebook::key, "notebook instance");
}

fn add_domain(inv: &mut Inventory, doc: &mut Doc, o: &Obj) {
    let Some(id) = doc.required(o, "DomainId", "domain") else {
        return;
    };
    let owner = format!("domain {id}");
    inv.note_document(Item::Domain(&id), doc.file);
    let security_group_ids = match doc.object(o, "DefaultUserSettings", &owner) {
        Some(s) => doc.strings(s, "SecurityGroups", &owner),
        None => Vec::new(),
    };
    let d = Domain {
        name: doc.opt_str(o, "DomainName", &owner).unwrap_or_default(),
        app_network_access_type: doc
            .opt_str(o, "AppNetworkAccessType", &owner)
            .unwrap_or_default(),
        vpc_id: doc.opt_str(o, "VpcId", &owner),
        subnet_ids: doc.strings(o, "SubnetIds", &owner),
        security_group_ids,
        created: doc.time(o, "CreationTime", &owner, Round::Down),
        id,
    };
    doc.add_unique(&mut inv.domains, d, |d| d.id.clone(), "domain");
}

/// Whether a job was retried under its `RetryStrategy`: its `SecondaryStatusTransitions`
/// went back to `Starting` (or through `Restarting`), on new instances.
fn retried(doc: &mut Doc, o: &Obj, owner: &str) -> bool {
    let may_retry = doc
        .object(o, "RetryStrategy", owner)
        .and_then(|r| doc.opt_u64(r, "MaximumRetryAttempts", owner))
        .is_some_and(|n| n > 0);
    if !may_retry {
        return false;
    }
    // Every transition is read, so that a malformed one is warned about as before.
    let (mut starts, mut restarted) = (0, false);
    for t in doc.objects(o, "SecondaryStatusTransitions", owner) {
        match doc.opt_str(t, "Status", owner).as_deref() {
            Some("Restarting") => restarted = true,
            Some("Starting") => starts += 1,
            _ => {}
        }
    }
    restarted || starts > 1
}

fn add_job(inv: &mut Inventory, doc: &mut Doc, o: &Obj, kind: JobKind) {
    let (name_key, start_key, end_key, status_key, label) = match kind {
        JobKind::Training => (
            "TrainingJobName",
            "TrainingStartTime",
            "TrainingEndTime",
            "TrainingJobStatus",
            "training job",
        ),
        JobKind::Processing => (
            "ProcessingJobName",
            "ProcessingStartTime",
            "ProcessingEndTime",
            "ProcessingJobStatus",
            "processing job",
        ),
        JobKind::Transform => (
            "TransformJobName",
            "TransformStartTime",
            "TransformEndTime",
            "TransformJobStatus",
            "transform job",
        ),
    };
    let Some(name) = doc.required(o, name_key, label) else {
        return;
    };
    let owner = format!("{label} {name}");
    let vpc = match kind {
        JobKind::Training => doc.object(o, "VpcConfig", &owner),
        JobKind::Processing => doc
            .object(o, "NetworkConfig", &owner)
            .and_then(|n| doc.object(n, "VpcConfig", &owner)),
        // Batch transform runs in the model's VpcConfig.
        JobKind::Transform => None,
    };
    let (security_group_ids, subnets) = doc.vpc_config(vpc, &owner);
    // Training and processing jobs stop at MaxRuntimeInSeconds (a managed spot job at
    // MaxWaitTimeInSeconds, which includes the wait for capacity), after at most
    // MaxPendingTimeInSeconds of waiting for reserved capacity.
    let max_runtime = doc.object(o, "StoppingCondition", &owner).map(|c| {
        let run = doc.opt_u64(c, "MaxRuntimeInSeconds", &owner);
        let wait = doc.opt_u64(c, "MaxWaitTimeInSeconds", &owner);
        let pending = doc.opt_u64(c, "MaxPendingTimeInSeconds", &owner);
        run.max(wait)
            .map(|r| r.saturating_add(pending.unwrap_or(0)))
    });
    let arn_key = match kind {
        JobKind::Training => "TrainingJobArn",
        JobKind::Processing => "ProcessingJobArn",
        JobKind::Transform => "TransformJobArn",
    };
    let job = Job {
        scope: doc.scope(o, arn_key, &owner),
        kind,
        // Widen to whole seconds on both sides: flow-log times are whole seconds and a
        // record at the job's last instant must still fall inside the window.
        start: doc.time(o, start_key, &owner, Round::Down),
        end: doc.time(o, end_key, &owner, Round::Up),
        created: doc.time(o, "CreationTime", &owner, Round::Down),
        last_modified: doc.time(o, "LastModifiedTime", &owner, Round::Up),
        status: doc.opt_str(o, status_key, &owner),
        spot: doc
            .opt_bool(o, "EnableManagedSpotTraining", &owner)
            .unwrap_or(false),
        retried: retried(doc, o, &owner),
        keep_alive: doc
            .object(o, "ResourceConfig", &owner)
            .and_then(|r| doc.opt_u64(r, "KeepAlivePeriodInSeconds", &owner))
            .map(|s| s.min(i64::MAX as u64) as i64),
        max_runtime: max_runtime.flatten().map(|s| s.min(i64::MAX as u64) as i64),
        security_group_ids,
        subnets,
        model_name: match kind {
            JobKind::Transform => doc.opt_str(o, "ModelName", &owner),
            _ => None,
        },
        reused_by: match kind {
            JobKind::Training => doc
                .object(o, "WarmPoolStatus", &owner)
                .and_then(|w| doc.opt_str(w, "ReusedByJob", &owner)),
            _ => None,
        },
        name,
    };
    inv.note_document(Item::Job(job.kind, &job.key()), doc.file);
    let kinds_match = |a: &Job, b: &Job| a.kind == b.kind && a.key() == b.key();
    if let Some(existing) = inv.jobs.iter().find(|j| kinds_match(j, &job)) {
        if format!("{existing:?}") != format!("{job:?}") {
            doc.differs(&owner);
        }
        return;
    }
    inv.jobs.push(job);
}

fn add_endpoint(inv: &mut Inventory, doc: &mut Doc, o: &Obj) {
    let Some(name) = doc.required(o, "EndpointName", "endpoint") else {
        return;
    };
    let owner = format!("endpoint {name}");
    let ep = SageMakerEndpoint {
        scope: doc.scope(o, "EndpointArn", &owner),
        config_name: doc
            .opt_str(o, "EndpointConfigName", &owner)
            .unwrap_or_default(),
        pending_config_name: doc
            .object(o, "PendingDeploymentSummary", &owner)
            .and_then(|p| doc.opt_str(p, "EndpointConfigName", &owner))
            .filter(|c| !c.is_empty()),
        created: doc.time(o, "CreationTime", &owner, Round::Down),
        last_modified: doc.time(o, "LastModifiedTime", &owner, Round::Up),
        status: doc.opt_str(o, "EndpointStatus", &owner),
        name,
    };
    doc.add_unique(&mut inv.endpoints, ep, SageMakerEndpoint::key, "endpoint");
}

fn add_endpoint_config(inv: &mut Inventory, doc: &mut Doc, o: &Obj) {
    let Some(name) = doc.required(o, "EndpointConfigName", "endpoint config") else {
        return;
    };
    let owner = format!("endpoint config {name}");
    let mut model_names = Vec::new();
    let mut serverless = false;
    // Shadow variants run on their own instances, with their own ENIs.
    for key in ["ProductionVariants", "ShadowProductionVariants"] {
        for v in doc.objects(o, key, &owner) {
            // Serverless and inference-component variants may name no model.
            if let Some(m) = doc.opt_str(v, "ModelName", &owner) {
                push_unique(&mut model_names, m);
            }
            serverless |= doc.object(v, "ServerlessConfig", &owner).is_some();
        }
    }
    // Endpoints with inference components carry the VpcConfig here, not on a model.
    let vpc = doc.object(o, "VpcConfig", &owner);
    let (security_group_ids, subnets) = doc.vpc_config(vpc, &owner);
    let scope = doc.scope(o, "EndpointConfigArn", &owner);
    inv.note_document(
        Item::EndpointConfig(&scoped(scope.as_deref(), &name)),
        doc.file,
    );
    let cfg = EndpointConfig {
        scope,
        name,
        model_names,
        security_group_ids,
        subnets,
        serverless,
    };
    doc.add_unique(
        &mut inv.endpoint_configs,
        cfg,
        EndpointConfig::key,
        "endpoint config",
    );
}

fn add_model(inv: &mut Inventory, doc: &mut Doc, o: &Obj) {
    let Some(name) = doc.required(o, "ModelName", "model") else {
        return;
    };
    let owner = format!("model {name}");
    let vpc = doc.object(o, "VpcConfig", &owner);
    let (security_group_ids, subnets) = doc.vpc_config(vpc, &owner);
    let scope = doc.scope(o, "ModelArn", &owner);
    inv.note_document(Item::Model(&scoped(scope.as_deref(), &name)), doc.file);
    let m = Model {
        scope,
        name,
        security_group_ids,
        subnets,
    };
    doc.add_unique(&mut inv.models, m, Model::key, "model");
}

fn add_cluster(inv: &mut Inventory, doc: &mut Doc, o: &Obj) {
    let Some(name) = doc.required(o, "ClusterName", "HyperPod cluster") else {
        return;
    };
    let owner = format!("HyperPod cluster {name}");
    let vpc = doc.object(o, "VpcConfig", &owner);
    let (security_group_ids, subnets) = doc.vpc_config(vpc, &owner);
    let mut groups = Vec::new();
    // Restricted instance groups (Nova customisation) too: their nodes are tied to the
    // cluster by group name, and a group may override the VpcConfig.
    for key in ["InstanceGroups", "RestrictedInstanceGroups"] {
        for g in doc.objects(o, key, &owner) {
            let Some(group) = doc.opt_str(g, "InstanceGroupName", &owner) else {
                continue;
            };
            let vpc = doc.object(g, "OverrideVpcConfig", &owner);
            let (security_group_ids, subnets) = doc.vpc_config(vpc, &owner);
            groups.push(ClusterGroup {
                name: group,
                security_group_ids,
                subnets,
            });
        }
    }
    let orchestrator = match doc.object(o, "Orchestrator", &owner) {
        Some(x) if x.contains_key("Eks") => "eks",
        _ => "slurm",
    };
    inv.note_document(Item::Cluster(&name), doc.file);
    let c = Cluster {
        arn: doc.opt_str(o, "ClusterArn", &owner),
        created: doc.time(o, "CreationTime", &owner, Round::Down),
        status: doc.opt_str(o, "ClusterStatus", &owner),
        orchestrator: orchestrator.to_string(),
        security_group_ids,
        subnets,
        groups,
        name,
    };
    doc.add_unique(&mut inv.clusters, c, |c| c.name.clone(), "HyperPod cluster");
}

/// A node of `list-cluster-nodes` or `describe-cluster-node`. Neither names its cluster
/// (unless `inventory collect` wrote it): [`super::link::link_cluster_nodes`] then finds it
/// by the instance group's name.
fn add_cluster_node(inv: &mut Inventory, doc: &mut Doc, o: &Obj, cluster: Option<&str>) {
    let Some(instance_id) = doc.required(o, "InstanceId", "HyperPod cluster node") else {
        return;
    };
    let owner = format!("HyperPod cluster node {instance_id}");
    let node = ClusterNode {
        cluster: cluster.unwrap_or_default().to_string(),
        group: doc.opt_str(o, "InstanceGroupName", &owner),
        private_ip: doc.ip(o, "PrivatePrimaryIp", &owner, "PrivatePrimaryIp"),
        launched: doc.time(o, "LaunchTime", &owner, Round::Down),
        file: doc.file.to_string(),
        instance_id,
    };
    // list-cluster-nodes and describe-cluster-node both list a node: keep the one that
    // knows more.
    match inv
        .cluster_nodes
        .iter_mut()
        .find(|n| n.instance_id == node.instance_id)
    {
        Some(n) => {
            if n.private_ip.is_none() {
                n.private_ip = node.private_ip;
            }
            if n.launched.is_none() {
                n.launched = node.launched;
            }
            if n.cluster.is_empty() {
                n.cluster = node.cluster;
            }
            if n.group.is_none() {
                n.group = node.group;
            }
        }
        None => inv.cluster_nodes.push(node),
    }
}

/// A space of `describe-space` (`OwnershipSettings`, `SpaceSharingSettings`) or of
/// `list-spaces` (the same as `…Summary`).
/// A tracking server of describe-mlflow-tracking-server or of a list-mlflow-tracking-servers
/// summary; both name it, and only the first its artifact store.
fn add_mlflow_server(inv: &mut Inventory, doc: &mut Doc, o: &Obj) {
    let Some(name) = doc.required(o, "TrackingServerName", "MLflow tracking server") else {
        return;
    };
    let owner = format!("MLflow tracking server {name}");
    let server = MlflowServer {
        created: doc.time(o, "CreationTime", &owner, Round::Down),
        status: doc.opt_str(o, "TrackingServerStatus", &owner),
        artifact_store: doc.opt_str(o, "ArtifactStoreUri", &owner),
        name,
    };
    match inv
        .mlflow_servers
        .iter_mut()
        .find(|s| s.name == server.name)
    {
        Some(known) => {
            if known.artifact_store.is_none() {
                known.artifact_store = server.artifact_store;
                inv.documents
                    .insert(Item::MlflowServer(&known.name).key(), doc.file.to_string());
            }
        }
        None => {
            inv.note_document(Item::MlflowServer(&server.name), doc.file);
            inv.mlflow_servers.push(server);
        }
    }
}

fn add_space(inv: &mut Inventory, doc: &mut Doc, o: &Obj, ownership: &str, sharing: &str) {
    let (Some(domain_id), Some(name)) = (
        doc.required(o, "DomainId", "Studio space"),
        doc.required(o, "SpaceName", "Studio space"),
    ) else {
        return;
    };
    let owner = format!("space {name} of domain {domain_id}");
    let space = Space {
        owner: doc
            .object(o, ownership, &owner)
            .and_then(|x| doc.opt_str(x, "OwnerUserProfileName", &owner)),
        shared: doc
            .object(o, sharing, &owner)
            .and_then(|x| doc.opt_str(x, "SharingType", &owner))
            .as_deref()
            == Some("Shared"),
        domain_id,
        name,
    };
    // describe-space and list-spaces may both list a space.
    if !inv
        .spaces
        .iter()
        .any(|s| s.domain_id == space.domain_id && s.name == space.name)
    {
        inv.spaces.push(space);
    }
}
