//! SageMaker: notebook instances, Studio domains, training/processing/transform jobs,
//! models, endpoint configs, endpoints, HyperPod clusters with their nodes, Studio spaces
//! and MLflow tracking servers, listed then described one by one, as `aws sagemaker
//! describe-*` prints them.

use futures::StreamExt;
use serde_json::Value;

use super::sdk::{DESCRIBE_CONCURRENCY, Obj, all_pages, outcome};
use crate::error::Result;

/// Two listings' names, each once, in order (`None`: the list call is not implemented).
fn merge(
    a: Option<Vec<Option<String>>>,
    b: Option<Vec<Option<String>>>,
) -> Option<Vec<Option<String>>> {
    let mut out = a?;
    for n in b.into_iter().flatten() {
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Some(out)
}

/// `since` (Unix seconds): only the jobs that ran in the window, those modified since
/// (started, ended or changed status) and those still running; other resources whatever
/// their age.
pub(super) async fn collect_sagemaker(
    sm: &aws_sdk_sagemaker::Client,
    since: Option<i64>,
) -> Result<Vec<(String, Value)>> {
    let since = since.map(aws_sdk_sagemaker::primitives::DateTime::from_secs);
    let (notebooks, domains, training, processing, transform, models, configs, endpoints) = futures::try_join!(
        async {
            let names = all_pages!(
                "sagemaker:ListNotebookInstances",
                sm.list_notebook_instances(),
                notebook_instances,
                |s| s.notebook_instance_name().map(str::to_string)
            );
            describe_each("notebook-instance", names, |name| async move {
                let out = sm
                    .describe_notebook_instance()
                    .notebook_instance_name(&name)
                    .send()
                    .await;
                Ok(outcome("sagemaker:DescribeNotebookInstance", out)?.map(|o| notebook_json(&o)))
            })
            .await
        },
        async {
            let ids = all_pages!("sagemaker:ListDomains", sm.list_domains(), domains, |d| d
                .domain_id()
                .map(str::to_string));
            let mut docs = describe_each("domain", ids, |id| async move {
                let out = sm.describe_domain().domain_id(&id).send().await;
                Ok(outcome("sagemaker:DescribeDomain", out)?.map(|o| domain_json(&o)))
            })
            .await?;
            docs.extend(optional(
                describe_spaces(sm).await,
                "Studio spaces",
                "a private space's apps show the space's name, not its owner's, in sagemaker_user_profile",
            ));
            Ok(docs)
        },
        async {
            let names = all_pages!(
                "sagemaker:ListTrainingJobs",
                sm.list_training_jobs().set_last_modified_time_after(since),
                training_job_summaries,
                |s| s.training_job_name().map(str::to_string)
            );
            let running = match since {
                Some(_) => all_pages!(
                    "sagemaker:ListTrainingJobs",
                    sm.list_training_jobs()
                        .status_equals(aws_sdk_sagemaker::types::TrainingJobStatus::InProgress),
                    training_job_summaries,
                    |s| s.training_job_name().map(str::to_string)
                ),
                None => None,
            };
            let names = merge(names, running);
            describe_each("training-job", names, |name| async move {
                let out = sm
                    .describe_training_job()
                    .training_job_name(&name)
                    .send()
                    .await;
                Ok(outcome("sagemaker:DescribeTrainingJob", out)?.map(|o| training_job_json(&o)))
            })
            .await
        },
        async {
            let names = all_pages!(
                "sagemaker:ListProcessingJobs",
                sm.list_processing_jobs()
                    .set_last_modified_time_after(since),
                processing_job_summaries,
                |s| s.processing_job_name().map(str::to_string)
            );
            let running = match since {
                Some(_) => all_pages!(
                    "sagemaker:ListProcessingJobs",
                    sm.list_processing_jobs()
                        .status_equals(aws_sdk_sagemaker::types::ProcessingJobStatus::InProgress),
                    processing_job_summaries,
                    |s| s.processing_job_name().map(str::to_string)
                ),
                None => None,
            };
            let names = merge(names, running);
            describe_each("processing-job", names, |name| async move {
                let out = sm
                    .describe_processing_job()
                    .processing_job_name(&name)
                    .send()
                    .await;
                Ok(outcome("sagemaker:DescribeProcessingJob", out)?
                    .map(|o| processing_job_json(&o)))
            })
            .await
        },
        async {
            let names = all_pages!(
                "sagemaker:ListTransformJobs",
                sm.list_transform_jobs().set_last_modified_time_after(since),
                transform_job_summaries,
                |s| s.transform_job_name().map(str::to_string)
            );
            let running = match since {
                Some(_) => all_pages!(
                    "sagemaker:ListTransformJobs",
                    sm.list_transform_jobs()
                        .status_equals(aws_sdk_sagemaker::types::TransformJobStatus::InProgress),
                    transform_job_summaries,
                    |s| s.transform_job_name().map(str::to_string)
                ),
                None => None,
            };
            let names = merge(names, running);
            describe_each("transform-job", names, |name| async move {
                let out = sm
                    .describe_transform_job()
                    .transform_job_name(&name)
                    .send()
                    .await;
                Ok(outcome("sagemaker:DescribeTransformJob", out)?.map(|o| transform_job_json(&o)))
            })
            .await
        },
        async {
            let names = all_pages!("sagemaker:ListModels", sm.list_models(), models, |s| s
                .model_name()
                .map(str::to_string));
            describe_each("model", names, |name| async move {
                let out = sm.describe_model().model_name(&name).send().await;
                Ok(outcome("sagemaker:DescribeModel", out)?.map(|o| model_json(&o)))
            })
            .await
        },
        async {
            let names = all_pages!(
                "sagemaker:ListEndpointConfigs",
                sm.list_endpoint_configs(),
                endpoint_configs,
                |s| s.endpoint_config_name().map(str::to_string)
            );
            describe_each("endpoint-config", names, |name| async move {
                let out = sm
                    .describe_endpoint_config()
                    .endpoint_config_name(&name)
                    .send()
                    .await;
                Ok(outcome("sagemaker:DescribeEndpointConfig", out)?
                    .map(|o| endpoint_config_json(&o)))
            })
            .await
        },
        async {
            let names = all_pages!(
                "sagemaker:ListEndpoints",
                sm.list_endpoints(),
                endpoints,
                |s| s.endpoint_name().map(str::to_string)
            );
            describe_each("endpoint", names, |name| async move {
                let out = sm.describe_endpoint().endpoint_name(&name).send().await;
                Ok(outcome("sagemaker:DescribeEndpoint", out)?.map(|o| endpoint_json(&o)))
            })
            .await
        },
    )?;
    let mut docs = Vec::new();
    for kind in [
        notebooks, domains, training, processing, transform, models, configs, endpoints,
    ] {
        docs.extend(kind);
    }
    docs.extend(collect_clusters(sm).await?);
    docs.extend(optional(
        describe_mlflow(sm).await,
        "MLflow tracking servers",
        "they run in a SageMaker-managed VPC, and blind-spots cannot list those it does not know",
    ));
    Ok(docs)
}

/// The documents of a kind the collect can do without (Studio spaces, MLflow tracking
/// servers): a failure is a warning that says what it `costs`, not the end of the collect.
/// moto, for one, answers both APIs with a bare HTTP 500.
fn optional(docs: Result<Vec<(String, Value)>>, what: &str, costs: &str) -> Vec<(String, Value)> {
    docs.unwrap_or_else(|e| {
        tracing::warn!("{what} not collected ({e}): {costs}");
        Vec::new()
    })
}

/// MLflow tracking servers, each as `describe-mlflow-tracking-server` prints it.
async fn describe_mlflow(sm: &aws_sdk_sagemaker::Client) -> Result<Vec<(String, Value)>> {
    let names = all_pages!(
        "sagemaker:ListMlflowTrackingServers",
        sm.list_mlflow_tracking_servers(),
        tracking_server_summaries,
        |s| s.tracking_server_name().map(str::to_string)
    );
    describe_each("mlflow-tracking-server", names, |name| async move {
        let out = sm
            .describe_mlflow_tracking_server()
            .tracking_server_name(&name)
            .send()
            .await;
        Ok(outcome("sagemaker:DescribeMlflowTrackingServer", out)?.map(|o| mlflow_json(&o)))
    })
    .await
}

/// Studio spaces, each as `describe-space` prints it: a private space's owner is the user
/// its apps' ENIs serve (without them `sagemaker_user_profile` shows the space).
async fn describe_spaces(sm: &aws_sdk_sagemaker::Client) -> Result<Vec<(String, Value)>> {
    // `<domain>.<space>` names the document: neither a domain id nor a space name has a dot.
    let spaces = all_pages!("sagemaker:ListSpaces", sm.list_spaces(), spaces, |s| {
        Some(format!(
            "{}.{}",
            s.domain_id().unwrap_or_default(),
            s.space_name().unwrap_or_default()
        ))
    });
    describe_each("space", spaces, |key| async move {
        let (domain, name) = key.split_once('.').unwrap_or_default();
        let out = sm
            .describe_space()
            .domain_id(domain)
            .space_name(name)
            .send()
            .await;
        Ok(outcome("sagemaker:DescribeSpace", out)?.map(|o| space_json(&o)))
    })
    .await
}

/// HyperPod clusters, and their nodes: `list-cluster-nodes` and each node's
/// `describe-cluster-node` (its address), with the `ClusterName` that neither prints, so
/// that load ties each node to its cluster.
async fn collect_clusters(sm: &aws_sdk_sagemaker::Client) -> Result<Vec<(String, Value)>> {
    let names = all_pages!(
        "sagemaker:ListClusters",
        sm.list_clusters(),
        cluster_summaries,
        |s| s.cluster_name().map(str::to_string)
    );
    let mut docs = describe_each("cluster", names.clone(), |name| async move {
        let out = sm.describe_cluster().cluster_name(&name).send().await;
        Ok(outcome("sagemaker:DescribeCluster", out)?.map(|o| cluster_json(&o)))
    })
    .await?;
    for name in names.into_iter().flatten().flatten() {
        let Some(summaries) = all_pages!(
            "sagemaker:ListClusterNodes",
            sm.list_cluster_nodes().cluster_name(&name),
            cluster_node_summaries,
            |n| n.clone()
        ) else {
            continue;
        };
        let ids: Vec<String> = summaries
            .iter()
            .filter_map(|n| n.instance_id().map(str::to_string))
            .collect();
        docs.push((
            format!("sagemaker/list-cluster-nodes-{name}.json"),
            Obj::new()
                .s("ClusterName", Some(&name))
                .v(
                    "ClusterNodeSummaries",
                    Value::Array(summaries.iter().map(node_summary_json).collect()),
                )
                .done(),
        ));
        let cluster = name.as_str();
        let details: Vec<Result<Option<Value>>> = futures::stream::iter(ids)
            .map(|id| async move {
                let out = sm
                    .describe_cluster_node()
                    .cluster_name(cluster)
                    .node_id(&id)
                    .send()
                    .await;
                Ok(
                    outcome("sagemaker:DescribeClusterNode", out)?.and_then(|o| {
                        let d = o.node_details()?;
                        Some(
                            Obj::new()
                                .s("ClusterName", Some(cluster))
                                .o("NodeDetails", Some(node_details_json(d)))
                                .done(),
                        )
                    }),
                )
            })
            .buffered(DESCRIBE_CONCURRENCY)
            .collect()
            .await;
        let mut nodes = Vec::new();
        for d in details {
            nodes.extend(d?);
        }
        if !nodes.is_empty() {
            docs.push((
                format!("sagemaker/describe-cluster-node-{name}.json"),
                Value::Array(nodes),
            ));
        }
    }
    Ok(docs)
}

/// Describes every listed name (`None`: the list call is not implemented), a few at a
/// time, in list order; names the documents `sagemaker/describe-<kind>-<name>.json`.
async fn describe_each<F, Fut>(
    kind: &str,
    names: Option<Vec<Option<String>>>,
    describe: F,
) -> Result<Vec<(String, Value)>>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<Value>>>,
{
    let names: Vec<String> = names.into_iter().flatten().flatten().collect();
    let results: Vec<Result<Option<Value>>> = futures::stream::iter(names.iter().cloned())
        .map(describe)
        .buffered(DESCRIBE_CONCURRENCY)
        .collect()
        .await;
    let mut docs = Vec::new();
    for (name, r) in names.iter().zip(results) {
        if let Some(doc) = r? {
            docs.push((format!("sagemaker/describe-{kind}-{name}.json"), doc));
        }
    }
    Ok(docs)
}

fn sm_vpc_config(v: &aws_sdk_sagemaker::types::VpcConfig) -> Value {
    // SageMaker prints both lists even when empty; load reads them as lists.
    Obj::new()
        .v(
            "SecurityGroupIds",
            Value::from(v.security_group_ids().to_vec()),
        )
        .v("Subnets", Value::from(v.subnets().to_vec()))
        .done()
}

fn notebook_json(
    o: &aws_sdk_sagemaker::operation::describe_notebook_instance::DescribeNotebookInstanceOutput,
) -> Value {
    Obj::new()
        .s("NotebookInstanceArn", o.notebook_instance_arn())
        .s("NotebookInstanceName", o.notebook_instance_name())
        .e("NotebookInstanceStatus", o.notebook_instance_status())
        .s("FailureReason", o.failure_reason())
        .s("Url", o.url())
        .e("InstanceType", o.instance_type())
        .e("IpAddressType", o.ip_address_type())
        .s("SubnetId", o.subnet_id())
        .strs("SecurityGroups", o.security_groups())
        .s("RoleArn", o.role_arn())
        .s("KmsKeyId", o.kms_key_id())
        .s("NetworkInterfaceId", o.network_interface_id())
        .t("LastModifiedTime", o.last_modified_time())
        .t("CreationTime", o.creation_time())
        .e("DirectInternetAccess", o.direct_internet_access())
        .n("VolumeSizeInGB", o.volume_size_in_gb())
        .e("RootAccess", o.root_access())
        .s("PlatformIdentifier", o.platform_identifier())
        .done()
}

fn domain_json(o: &aws_sdk_sagemaker::operation::describe_domain::DescribeDomainOutput) -> Value {
    Obj::new()
        .s("DomainArn", o.domain_arn())
        .s("DomainId", o.domain_id())
        .s("DomainName", o.domain_name())
        .s("HomeEfsFileSystemId", o.home_efs_file_system_id())
        .e("Status", o.status())
        .t("CreationTime", o.creation_time())
        .t("LastModifiedTime", o.last_modified_time())
        .s("FailureReason", o.failure_reason())
        .s(
            "SecurityGroupIdForDomainBoundary",
            o.security_group_id_for_domain_boundary(),
        )
        .e("AuthMode", o.auth_mode())
        .o(
            "DefaultUserSettings",
            o.default_user_settings().map(|u| {
                Obj::new()
                    .s("ExecutionRole", u.execution_role())
                    .strs("SecurityGroups", u.security_groups())
                    .done()
            }),
        )
        .o(
            "DomainSettings",
            o.domain_settings().map(|d| {
                Obj::new()
                    .strs("SecurityGroupIds", d.security_group_ids())
                    .e("IpAddressType", d.ip_address_type())
                    .done()
            }),
        )
        .e("AppNetworkAccessType", o.app_network_access_type())
        .strs("SubnetIds", o.subnet_ids())
        .s("Url", o.url())
        .s("VpcId", o.vpc_id())
        .s("KmsKeyId", o.kms_key_id())
        .e(
            "AppSecurityGroupManagement",
            o.app_security_group_management(),
        )
        .done()
}

fn training_job_json(
    o: &aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput,
) -> Value {
    Obj::new()
        .s("TrainingJobName", o.training_job_name())
        .s("TrainingJobArn", o.training_job_arn())
        .s("TuningJobArn", o.tuning_job_arn())
        .e("TrainingJobStatus", o.training_job_status())
        .e("SecondaryStatus", o.secondary_status())
        .s("FailureReason", o.failure_reason())
        .s("RoleArn", o.role_arn())
        .o(
            "ResourceConfig",
            o.resource_config().map(|r| {
                Obj::new()
                    .e("InstanceType", r.instance_type())
                    .n("InstanceCount", r.instance_count())
                    .n("VolumeSizeInGB", r.volume_size_in_gb())
                    .n("KeepAlivePeriodInSeconds", r.keep_alive_period_in_seconds())
                    .done()
            }),
        )
        .o(
            "RetryStrategy",
            o.retry_strategy().map(|r| {
                Obj::new()
                    .n("MaximumRetryAttempts", r.maximum_retry_attempts())
                    .done()
            }),
        )
        .list(
            "SecondaryStatusTransitions",
            o.secondary_status_transitions(),
            |t| {
                Obj::new()
                    .e("Status", t.status())
                    .t("StartTime", t.start_time())
                    .t("EndTime", t.end_time())
                    .s("StatusMessage", t.status_message())
                    .done()
            },
        )
        .o("VpcConfig", o.vpc_config().map(sm_vpc_config))
        .t("CreationTime", o.creation_time())
        .t("TrainingStartTime", o.training_start_time())
        .t("TrainingEndTime", o.training_end_time())
        .t("LastModifiedTime", o.last_modified_time())
        .b("EnableNetworkIsolation", o.enable_network_isolation())
        .b(
            "EnableInterContainerTrafficEncryption",
            o.enable_inter_container_traffic_encryption(),
        )
        .b(
            "EnableManagedSpotTraining",
            o.enable_managed_spot_training(),
        )
        .o(
            "StoppingCondition",
            o.stopping_condition().map(|c| {
                Obj::new()
                    .n("MaxRuntimeInSeconds", c.max_runtime_in_seconds())
                    .n("MaxWaitTimeInSeconds", c.max_wait_time_in_seconds())
                    .n("MaxPendingTimeInSeconds", c.max_pending_time_in_seconds())
                    .done()
            }),
        )
        .o(
            "WarmPoolStatus",
            o.warm_pool_status().map(|w| {
                Obj::new()
                    .e("Status", w.status())
                    .n(
                        "ResourceRetainedBillableTimeInSeconds",
                        w.resource_retained_billable_time_in_seconds(),
                    )
                    .s("ReusedByJob", w.reused_by_job())
                    .done()
            }),
        )
        .done()
}

fn processing_job_json(
    o: &aws_sdk_sagemaker::operation::describe_processing_job::DescribeProcessingJobOutput,
) -> Value {
    Obj::new()
        .s("ProcessingJobName", o.processing_job_name())
        .o(
            "NetworkConfig",
            o.network_config().map(|n| {
                Obj::new()
                    .b(
                        "EnableInterContainerTrafficEncryption",
                        n.enable_inter_container_traffic_encryption(),
                    )
                    .b("EnableNetworkIsolation", n.enable_network_isolation())
                    .o("VpcConfig", n.vpc_config().map(sm_vpc_config))
                    .done()
            }),
        )
        .s("RoleArn", o.role_arn())
        .s("ProcessingJobArn", o.processing_job_arn())
        .e("ProcessingJobStatus", o.processing_job_status())
        .s("ExitMessage", o.exit_message())
        .s("FailureReason", o.failure_reason())
        .o(
            "StoppingCondition",
            o.stopping_condition().map(|c| {
                Obj::new()
                    .n("MaxRuntimeInSeconds", c.max_runtime_in_seconds())
                    .done()
            }),
        )
        .t("ProcessingEndTime", o.processing_end_time())
        .t("ProcessingStartTime", o.processing_start_time())
        .t("LastModifiedTime", o.last_modified_time())
        .t("CreationTime", o.creation_time())
        .s("TrainingJobArn", o.training_job_arn())
        .done()
}

fn transform_job_json(
    o: &aws_sdk_sagemaker::operation::describe_transform_job::DescribeTransformJobOutput,
) -> Value {
    Obj::new()
        .s("TransformJobName", o.transform_job_name())
        .s("TransformJobArn", o.transform_job_arn())
        .e("TransformJobStatus", o.transform_job_status())
        .s("FailureReason", o.failure_reason())
        .s("ModelName", o.model_name())
        .t("CreationTime", o.creation_time())
        .t("TransformStartTime", o.transform_start_time())
        .t("TransformEndTime", o.transform_end_time())
        .done()
}

fn container_json(c: &aws_sdk_sagemaker::types::ContainerDefinition) -> Value {
    Obj::new()
        .s("ContainerHostname", c.container_hostname())
        .s("Image", c.image())
        .e("Mode", c.mode())
        .s("ModelDataUrl", c.model_data_url())
        .s("ModelPackageName", c.model_package_name())
        .done()
}

fn model_json(o: &aws_sdk_sagemaker::operation::describe_model::DescribeModelOutput) -> Value {
    let mut m = Obj::new().s("ModelName", o.model_name()).o(
        "PrimaryContainer",
        o.primary_container().map(container_json),
    );
    // The API always returns PrimaryContainer or Containers, and the CLI prints
    // `"Containers": []` next to PrimaryContainer; load recognises a model by them.
    if o.primary_container().is_none() || !o.containers().is_empty() {
        m = m.v(
            "Containers",
            Value::Array(o.containers().iter().map(container_json).collect()),
        );
    }
    m.s("ExecutionRoleArn", o.execution_role_arn())
        .o("VpcConfig", o.vpc_config().map(sm_vpc_config))
        .t("CreationTime", o.creation_time())
        .s("ModelArn", o.model_arn())
        .b("EnableNetworkIsolation", o.enable_network_isolation())
        .done()
}

fn production_variant_json(v: &aws_sdk_sagemaker::types::ProductionVariant) -> Value {
    Obj::new()
        .s("VariantName", v.variant_name())
        .s("ModelName", v.model_name())
        .n("InitialInstanceCount", v.initial_instance_count())
        .e("InstanceType", v.instance_type())
        // Serverless inference runs outside every VPC of yours (`inventory::placement`).
        .o(
            "ServerlessConfig",
            v.serverless_config().map(|c| {
                Obj::new()
                    .n("MemorySizeInMB", c.memory_size_in_mb())
                    .n("MaxConcurrency", c.max_concurrency())
                    .n("ProvisionedConcurrency", c.provisioned_concurrency())
                    .done()
            }),
        )
        .done()
}

fn endpoint_config_json(
    o: &aws_sdk_sagemaker::operation::describe_endpoint_config::DescribeEndpointConfigOutput,
) -> Value {
    Obj::new()
        .s("EndpointConfigName", o.endpoint_config_name())
        .s("EndpointConfigArn", o.endpoint_config_arn())
        .v(
            "ProductionVariants",
            Value::Array(
                o.production_variants()
                    .iter()
                    .map(production_variant_json)
                    .collect(),
            ),
        )
        .list(
            "ShadowProductionVariants",
            o.shadow_production_variants(),
            production_variant_json,
        )
        .s("KmsKeyId", o.kms_key_id())
        .t("CreationTime", o.creation_time())
        .s("ExecutionRoleArn", o.execution_role_arn())
        .o("VpcConfig", o.vpc_config().map(sm_vpc_config))
        .b("EnableNetworkIsolation", o.enable_network_isolation())
        .done()
}

fn endpoint_json(
    o: &aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput,
) -> Value {
    Obj::new()
        .s("EndpointName", o.endpoint_name())
        .s("EndpointArn", o.endpoint_arn())
        .s("EndpointConfigName", o.endpoint_config_name())
        .list("ProductionVariants", o.production_variants(), |v| {
            Obj::new()
                .s("VariantName", v.variant_name())
                .n("CurrentInstanceCount", v.current_instance_count())
                .n("DesiredInstanceCount", v.desired_instance_count())
                .done()
        })
        .e("EndpointStatus", o.endpoint_status())
        .o(
            "PendingDeploymentSummary",
            o.pending_deployment_summary().map(|p| {
                Obj::new()
                    .s("EndpointConfigName", p.endpoint_config_name())
                    .t("StartTime", p.start_time())
                    .done()
            }),
        )
        .s("FailureReason", o.failure_reason())
        .t("CreationTime", o.creation_time())
        .t("LastModifiedTime", o.last_modified_time())
        .done()
}

fn cluster_json(
    o: &aws_sdk_sagemaker::operation::describe_cluster::DescribeClusterOutput,
) -> Value {
    Obj::new()
        .s("ClusterArn", o.cluster_arn())
        .s("ClusterName", o.cluster_name())
        .e("ClusterStatus", o.cluster_status())
        .t("CreationTime", o.creation_time())
        .s("FailureMessage", o.failure_message())
        .list("InstanceGroups", o.instance_groups(), |g| {
            Obj::new()
                .n("CurrentCount", g.current_count())
                .n("TargetCount", g.target_count())
                .s("InstanceGroupName", g.instance_group_name())
                .e("InstanceType", g.instance_type())
                .s("ExecutionRole", g.execution_role())
                .n("ThreadsPerCore", g.threads_per_core())
                .o(
                    "OverrideVpcConfig",
                    g.override_vpc_config().map(sm_vpc_config),
                )
                .done()
        })
        .list(
            "RestrictedInstanceGroups",
            o.restricted_instance_groups(),
            |g| {
                Obj::new()
                    .n("CurrentCount", g.current_count())
                    .s("InstanceGroupName", g.instance_group_name())
                    .e("InstanceType", g.instance_type())
                    .s("ExecutionRole", g.execution_role())
                    .o(
                        "OverrideVpcConfig",
                        g.override_vpc_config().map(sm_vpc_config),
                    )
                    .done()
            },
        )
        .o("VpcConfig", o.vpc_config().map(sm_vpc_config))
        .o(
            "Orchestrator",
            o.orchestrator().map(|x| {
                Obj::new()
                    .o(
                        "Eks",
                        x.eks()
                            .map(|e| Obj::new().s("ClusterArn", e.cluster_arn()).done()),
                    )
                    .done()
            }),
        )
        .done()
}

fn instance_status_json(
    s: Option<&aws_sdk_sagemaker::types::ClusterInstanceStatusDetails>,
) -> Option<Value> {
    s.map(|s| {
        Obj::new()
            .e("Status", s.status())
            .s("Message", s.message())
            .done()
    })
}

fn node_summary_json(n: &aws_sdk_sagemaker::types::ClusterNodeSummary) -> Value {
    Obj::new()
        .s("InstanceGroupName", n.instance_group_name())
        .s("InstanceId", n.instance_id())
        .e("InstanceType", n.instance_type())
        .t("LaunchTime", n.launch_time())
        .o("InstanceStatus", instance_status_json(n.instance_status()))
        .done()
}

fn node_details_json(n: &aws_sdk_sagemaker::types::ClusterNodeDetails) -> Value {
    Obj::new()
        .s("InstanceGroupName", n.instance_group_name())
        .s("InstanceId", n.instance_id())
        .o("InstanceStatus", instance_status_json(n.instance_status()))
        .e("InstanceType", n.instance_type())
        .t("LaunchTime", n.launch_time())
        .o(
            "OverrideVpcConfig",
            n.override_vpc_config().map(sm_vpc_config),
        )
        .n("ThreadsPerCore", n.threads_per_core())
        .s("PrivatePrimaryIp", n.private_primary_ip())
        .s("PrivatePrimaryIpv6", n.private_primary_ipv6())
        .s("PrivateDnsHostname", n.private_dns_hostname())
        .done()
}

fn mlflow_json(
    o: &aws_sdk_sagemaker::operation::describe_mlflow_tracking_server::DescribeMlflowTrackingServerOutput,
) -> Value {
    Obj::new()
        .s("TrackingServerArn", o.tracking_server_arn())
        .s("TrackingServerName", o.tracking_server_name())
        .s("ArtifactStoreUri", o.artifact_store_uri())
        .e("TrackingServerSize", o.tracking_server_size())
        .s("MlflowVersion", o.mlflow_version())
        .s("RoleArn", o.role_arn())
        .e("TrackingServerStatus", o.tracking_server_status())
        .e("IsActive", o.is_active())
        .s("TrackingServerUrl", o.tracking_server_url())
        .t("CreationTime", o.creation_time())
        .t("LastModifiedTime", o.last_modified_time())
        .done()
}

fn space_json(o: &aws_sdk_sagemaker::operation::describe_space::DescribeSpaceOutput) -> Value {
    Obj::new()
        .s("DomainId", o.domain_id())
        .s("SpaceArn", o.space_arn())
        .s("SpaceName", o.space_name())
        .e("Status", o.status())
        .t("LastModifiedTime", o.last_modified_time())
        .t("CreationTime", o.creation_time())
        .o(
            "OwnershipSettings",
            o.ownership_settings().map(|x| {
                Obj::new()
                    .s("OwnerUserProfileName", x.owner_user_profile_name())
                    .done()
            }),
        )
        .o(
            "SpaceSharingSettings",
            o.space_sharing_settings()
                .map(|x| Obj::new().e("SharingType", x.sharing_type()).done()),
        )
        .s("SpaceDisplayName", o.space_display_name())
        .done()
}
