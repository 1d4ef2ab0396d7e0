//! Live inventory: calls the EC2 and SageMaker APIs and returns the documents the AWS CLI
//! would have printed, so that [`super::load::add_document`] reads them exactly as it
//! reads saved `aws ec2 describe-… > x.json` output.
//!
//! The SDK's structs are not serde types, so every field is mapped to the CLI's
//! PascalCase key by hand: at least every field that `load.rs` reads, plus the obvious
//! identifying ones (ARNs, owners, states, times). Fields the API did not return are
//! left out, as the CLI leaves them out; an empty list is left out too (the SDK does not
//! tell an empty list from an absent one). Times are printed as the CLI prints them:
//! ISO 8601 in UTC with microseconds when there are any
//! (`2026-11-20T10:00:00.318000+00:00`).
//!
//! Every paginated call is followed to its last page. A call the endpoint does not
//! implement (`UnknownOperation`, `InvalidAction`, HTTP 501; emulators and some
//! partitions lack calls) skips that document with a warning; any other error fails the
//! whole collection, naming the call.

use std::collections::BTreeSet;

use aws_config::SdkConfig;
use aws_sdk_ec2::config::http::HttpResponse;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_ec2::primitives::DateTime;
use aws_sdk_ec2::types::Filter;
use futures::StreamExt;
use serde_json::{Map, Value};

use crate::aws::error_text;
use crate::error::{Error, Result};

/// AWS-managed prefix lists are all fetched (not only those that routes and gateway
/// endpoints reference) when a region has at most this many.
const FEW_PREFIX_LISTS: usize = 12;

/// SageMaker describe calls in flight at once (the SDK retries throttling).
const DESCRIBE_CONCURRENCY: usize = 8;

/// Calls the EC2 and SageMaker APIs (every paginated call followed to the end) and returns
/// AWS-CLI-shaped JSON documents, named as the CLI command that would print them, that
/// `load::add_document` reads back unchanged: `("describe-network-interfaces.json",
/// {"NetworkInterfaces": [...]})`, describe-vpc-endpoints, describe-vpcs,
/// describe-nat-gateways, describe-managed-prefix-lists, one
/// `get-managed-prefix-list-entries-<pl-id>.json` per prefix list referenced by a gateway
/// endpoint or route (and every AWS-managed list when there are few), describe-route-tables,
/// describe-flow-logs, and one `sagemaker/describe-<kind>-<name>.json` per notebook
/// instance, domain, training/processing/transform job, model, endpoint config and
/// endpoint (list-* then describe-*). `vpc` restricts the EC2 calls that have a `vpc-id`
/// filter (VPCs, ENIs, VPC endpoints, NAT gateways, route tables); prefix lists, flow
/// logs and SageMaker resources are not filtered.
/// `since` (Unix seconds) limits training, processing and transform jobs to those that ran
/// in the window (modified since, or still running).
pub async fn collect(
    sdk: &SdkConfig,
    vpc: Option<&str>,
    since: Option<i64>,
) -> Result<Vec<(String, Value)>> {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let sm = aws_sdk_sagemaker::Client::new(sdk);
    let filters = vpc.map(|v| vec![Filter::builder().name("vpc-id").values(v).build()]);

    let (ec2_docs, sm_docs) =
        futures::try_join!(collect_ec2(&ec2, filters), collect_sagemaker(&sm, since))?;
    let mut docs = ec2_docs;
    docs.extend(sm_docs);
    Ok(docs)
}

// ---------------------------------------------------------------------------------------
// Errors

/// `Ok(None)` when the endpoint does not implement the call (logged), the SDK error as an
/// [`Error::Source`] naming `op` otherwise.
fn outcome<T, E>(
    op: &str,
    r: std::result::Result<T, SdkError<E, HttpResponse>>,
) -> Result<Option<T>>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            if not_implemented(e.code(), status) {
                tracing::warn!(
                    "{op} is not implemented by this endpoint ({}); its inventory document is skipped",
                    error_text(&e)
                );
                Ok(None)
            } else {
                Err(Error::source(op, error_text(&e)))
            }
        }
    }
}

/// Whether an error says the call does not exist here, as opposed to failing.
fn not_implemented(code: Option<&str>, status: Option<u16>) -> bool {
    status == Some(501)
        || matches!(
            code,
            Some(
                "UnknownOperationException"
                    | "UnknownOperation"
                    | "InvalidAction"
                    | "NotImplemented"
                    | "NotImplementedException"
            )
        )
}

/// Follows a paginator to its end, mapping each page's items; `None` when the call is not
/// implemented.
macro_rules! all_pages {
    ($op:expr, $request:expr, $items:ident, $map:expr) => {{
        let mut pages = $request.into_paginator().send();
        let mut out = Vec::new();
        let mut implemented = true;
        while let Some(page) = pages.next().await {
            match outcome($op, page)? {
                Some(page) => out.extend(page.$items().iter().map($map)),
                None => {
                    implemented = false;
                    break;
                }
            }
        }
        if implemented { Some(out) } else { None }
    }};
}

// ---------------------------------------------------------------------------------------
// EC2

async fn collect_ec2(
    ec2: &aws_sdk_ec2::Client,
    filters: Option<Vec<Filter>>,
) -> Result<Vec<(String, Value)>> {
    let f = || filters.clone();
    let (vpcs, enis, endpoints, nats, prefix_lists, route_tables, flow_logs) = futures::try_join!(
        async {
            Ok::<_, Error>(all_pages!(
                "ec2:DescribeVpcs",
                ec2.describe_vpcs().set_filters(f()),
                vpcs,
                vpc_json
            ))
        },
        async {
            Ok(all_pages!(
                "ec2:DescribeNetworkInterfaces",
                ec2.describe_network_interfaces().set_filters(f()),
                network_interfaces,
                eni_json
            ))
        },
        async {
            Ok(all_pages!(
                "ec2:DescribeVpcEndpoints",
                ec2.describe_vpc_endpoints().set_filters(f()),
                vpc_endpoints,
                |e| e.clone()
            ))
        },
        async {
            Ok(all_pages!(
                "ec2:DescribeNatGateways",
                ec2.describe_nat_gateways().set_filter(f()),
                nat_gateways,
                nat_gateway_json
            ))
        },
        async {
            Ok(all_pages!(
                "ec2:DescribeManagedPrefixLists",
                ec2.describe_managed_prefix_lists(),
                prefix_lists,
                |p| p.clone()
            ))
        },
        async {
            Ok(all_pages!(
                "ec2:DescribeRouteTables",
                ec2.describe_route_tables().set_filters(f()),
                route_tables,
                |r| r.clone()
            ))
        },
        async {
            Ok(all_pages!(
                "ec2:DescribeFlowLogs",
                ec2.describe_flow_logs(),
                flow_logs,
                flow_log_json
            ))
        },
    )?;

    // Which prefix lists need their entries: those that routes send somewhere, those
    // named like a gateway endpoint's service, and every AWS-managed one when few.
    let mut wanted = BTreeSet::new();
    for rt in route_tables.iter().flatten() {
        for r in rt.routes() {
            if let Some(pl) = r.destination_prefix_list_id() {
                wanted.insert(pl.to_string());
            }
        }
    }
    if let Some(pls) = &prefix_lists {
        let gateway_services: BTreeSet<&str> = endpoints
            .iter()
            .flatten()
            .filter(|e| {
                e.vpc_endpoint_type()
                    .is_some_and(|t| t.as_str() == "Gateway")
            })
            .filter_map(|e| e.service_name())
            .collect();
        let aws_managed: Vec<&aws_sdk_ec2::types::ManagedPrefixList> =
            pls.iter().filter(|p| p.owner_id() == Some("AWS")).collect();
        for p in pls {
            if let (Some(id), Some(name)) = (p.prefix_list_id(), p.prefix_list_name())
                && gateway_services.contains(name)
            {
                wanted.insert(id.to_string());
            }
        }
        if aws_managed.len() <= FEW_PREFIX_LISTS {
            wanted.extend(
                aws_managed
                    .iter()
                    .filter_map(|p| p.prefix_list_id())
                    .map(str::to_string),
            );
        }
    }
    let entries = futures::stream::iter(wanted)
        .map(|id| async move {
            let entries = all_pages!(
                "ec2:GetManagedPrefixListEntries",
                ec2.get_managed_prefix_list_entries().prefix_list_id(&id),
                entries,
                |e| Obj::new()
                    .s("Cidr", e.cidr())
                    .s("Description", e.description())
                    .done()
            );
            Ok::<_, Error>(entries.map(|e| (id, e)))
        })
        .buffered(DESCRIBE_CONCURRENCY)
        .collect::<Vec<_>>()
        .await;

    let mut docs = Vec::new();
    let mut push = |name: &str, key: &str, items: Option<Vec<Value>>| {
        if let Some(items) = items {
            docs.push((name.to_string(), one_key(key, Value::Array(items))));
        }
    };
    push("describe-vpcs.json", "Vpcs", vpcs);
    push(
        "describe-network-interfaces.json",
        "NetworkInterfaces",
        enis,
    );
    push(
        "describe-vpc-endpoints.json",
        "VpcEndpoints",
        endpoints.map(|v| v.iter().map(vpc_endpoint_json).collect()),
    );
    push("describe-nat-gateways.json", "NatGateways", nats);
    push(
        "describe-managed-prefix-lists.json",
        "PrefixLists",
        prefix_lists.map(|v| v.iter().map(prefix_list_json).collect()),
    );
    for e in entries {
        if let Some((id, items)) = e? {
            push(
                &format!("get-managed-prefix-list-entries-{id}.json"),
                "Entries",
                Some(items),
            );
        }
    }
    push(
        "describe-route-tables.json",
        "RouteTables",
        route_tables.map(|v| v.iter().map(route_table_json).collect()),
    );
    push("describe-flow-logs.json", "FlowLogs", flow_logs);
    Ok(docs)
}

fn tags(t: &[aws_sdk_ec2::types::Tag]) -> Value {
    t.iter()
        .map(|t| Obj::new().s("Key", t.key()).s("Value", t.value()).done())
        .collect()
}

fn vpc_json(v: &aws_sdk_ec2::types::Vpc) -> Value {
    Obj::new()
        .s("OwnerId", v.owner_id())
        .e("InstanceTenancy", v.instance_tenancy())
        .list(
            "Ipv6CidrBlockAssociationSet",
            v.ipv6_cidr_block_association_set(),
            |a| {
                Obj::new()
                    .s("AssociationId", a.association_id())
                    .s("Ipv6CidrBlock", a.ipv6_cidr_block())
                    .o(
                        "Ipv6CidrBlockState",
                        a.ipv6_cidr_block_state().map(cidr_state_json),
                    )
                    .s("NetworkBorderGroup", a.network_border_group())
                    .s("Ipv6Pool", a.ipv6_pool())
                    .done()
            },
        )
        .list(
            "CidrBlockAssociationSet",
            v.cidr_block_association_set(),
            |a| {
                Obj::new()
                    .s("AssociationId", a.association_id())
                    .s("CidrBlock", a.cidr_block())
                    .o("CidrBlockState", a.cidr_block_state().map(cidr_state_json))
                    .done()
            },
        )
        .b("IsDefault", v.is_default())
        .v("Tags", tags(v.tags()))
        .s("VpcId", v.vpc_id())
        .e("State", v.state())
        .s("CidrBlock", v.cidr_block())
        .s("DhcpOptionsId", v.dhcp_options_id())
        .done()
}

fn cidr_state_json(s: &aws_sdk_ec2::types::VpcCidrBlockState) -> Value {
    Obj::new()
        .e("State", s.state())
        .s("StatusMessage", s.status_message())
        .done()
}

fn eni_association_json(a: &aws_sdk_ec2::types::NetworkInterfaceAssociation) -> Value {
    Obj::new()
        .s("AllocationId", a.allocation_id())
        .s("AssociationId", a.association_id())
        .s("IpOwnerId", a.ip_owner_id())
        .s("PublicDnsName", a.public_dns_name())
        .s("PublicIp", a.public_ip())
        .s("CustomerOwnedIp", a.customer_owned_ip())
        .s("CarrierIp", a.carrier_ip())
        .done()
}

fn eni_json(n: &aws_sdk_ec2::types::NetworkInterface) -> Value {
    Obj::new()
        .o("Association", n.association().map(eni_association_json))
        .o(
            "Attachment",
            n.attachment().map(|a| {
                Obj::new()
                    .t("AttachTime", a.attach_time())
                    .s("AttachmentId", a.attachment_id())
                    .b("DeleteOnTermination", a.delete_on_termination())
                    .n("DeviceIndex", a.device_index())
                    .n("NetworkCardIndex", a.network_card_index())
                    .s("InstanceId", a.instance_id())
                    .s("InstanceOwnerId", a.instance_owner_id())
                    .e("Status", a.status())
                    .done()
            }),
        )
        .s("AvailabilityZone", n.availability_zone())
        .s("AvailabilityZoneId", n.availability_zone_id())
        // The CLI prints an empty description as "".
        .v(
            "Description",
            Value::from(n.description().unwrap_or_default()),
        )
        .list("Groups", n.groups(), |g| {
            Obj::new()
                .s("GroupId", g.group_id())
                .s("GroupName", g.group_name())
                .done()
        })
        .e("InterfaceType", n.interface_type())
        .list("Ipv6Addresses", n.ipv6_addresses(), |a| {
            Obj::new()
                .s("Ipv6Address", a.ipv6_address())
                .b("IsPrimaryIpv6", a.is_primary_ipv6())
                .done()
        })
        .s("MacAddress", n.mac_address())
        .s("NetworkInterfaceId", n.network_interface_id())
        .s("OutpostArn", n.outpost_arn())
        .s("OwnerId", n.owner_id())
        .s("PrivateDnsName", n.private_dns_name())
        .s("PublicDnsName", n.public_dns_name())
        .s("PrivateIpAddress", n.private_ip_address())
        .list("PrivateIpAddresses", n.private_ip_addresses(), |p| {
            Obj::new()
                .o("Association", p.association().map(eni_association_json))
                .b("Primary", p.primary())
                .s("PrivateDnsName", p.private_dns_name())
                .s("PrivateIpAddress", p.private_ip_address())
                .done()
        })
        .list("Ipv4Prefixes", n.ipv4_prefixes(), |p| {
            Obj::new().s("Ipv4Prefix", p.ipv4_prefix()).done()
        })
        .list("Ipv6Prefixes", n.ipv6_prefixes(), |p| {
            Obj::new().s("Ipv6Prefix", p.ipv6_prefix()).done()
        })
        .s("RequesterId", n.requester_id())
        .b("RequesterManaged", n.requester_managed())
        .b("SourceDestCheck", n.source_dest_check())
        .e("Status", n.status())
        .s("SubnetId", n.subnet_id())
        .v("TagSet", tags(n.tag_set()))
        .s("VpcId", n.vpc_id())
        .b("DenyAllIgwTraffic", n.deny_all_igw_traffic())
        .b("Ipv6Native", n.ipv6_native())
        .s("Ipv6Address", n.ipv6_address())
        .strs("AssociatedSubnets", n.associated_subnets())
        .done()
}

fn vpc_endpoint_json(e: &aws_sdk_ec2::types::VpcEndpoint) -> Value {
    Obj::new()
        .s("VpcEndpointId", e.vpc_endpoint_id())
        .e("VpcEndpointType", e.vpc_endpoint_type())
        .s("VpcId", e.vpc_id())
        .s("ServiceName", e.service_name())
        .e("State", e.state())
        .s("PolicyDocument", e.policy_document())
        .strs("RouteTableIds", e.route_table_ids())
        .strs("SubnetIds", e.subnet_ids())
        .list("Groups", e.groups(), |g| {
            Obj::new()
                .s("GroupId", g.group_id())
                .s("GroupName", g.group_name())
                .done()
        })
        .e("IpAddressType", e.ip_address_type())
        .b("PrivateDnsEnabled", e.private_dns_enabled())
        .b("RequesterManaged", e.requester_managed())
        .strs("NetworkInterfaceIds", e.network_interface_ids())
        .list("DnsEntries", e.dns_entries(), |d| {
            Obj::new()
                .s("DnsName", d.dns_name())
                .s("HostedZoneId", d.hosted_zone_id())
                .done()
        })
        .t("CreationTimestamp", e.creation_timestamp())
        .v("Tags", tags(e.tags()))
        .s("OwnerId", e.owner_id())
        .s("FailureReason", e.failure_reason())
        .s("ServiceRegion", e.service_region())
        .done()
}

fn nat_gateway_json(n: &aws_sdk_ec2::types::NatGateway) -> Value {
    Obj::new()
        .t("CreateTime", n.create_time())
        .t("DeleteTime", n.delete_time())
        .s("FailureCode", n.failure_code())
        .s("FailureMessage", n.failure_message())
        .list("NatGatewayAddresses", n.nat_gateway_addresses(), |a| {
            Obj::new()
                .s("AllocationId", a.allocation_id())
                .s("NetworkInterfaceId", a.network_interface_id())
                .s("PrivateIp", a.private_ip())
                .s("PublicIp", a.public_ip())
                .s("AssociationId", a.association_id())
                .b("IsPrimary", a.is_primary())
                .s("FailureMessage", a.failure_message())
                .e("Status", a.status())
                .s("AvailabilityZone", a.availability_zone())
                .s("AvailabilityZoneId", a.availability_zone_id())
                .done()
        })
        .s("NatGatewayId", n.nat_gateway_id())
        .e("State", n.state())
        .s("SubnetId", n.subnet_id())
        .s("VpcId", n.vpc_id())
        .v("Tags", tags(n.tags()))
        .e("ConnectivityType", n.connectivity_type())
        .e("AvailabilityMode", n.availability_mode())
        .s("RouteTableId", n.route_table_id())
        .done()
}

fn prefix_list_json(p: &aws_sdk_ec2::types::ManagedPrefixList) -> Value {
    Obj::new()
        .s("PrefixListId", p.prefix_list_id())
        .s("AddressFamily", p.address_family())
        .e("State", p.state())
        .s("StateMessage", p.state_message())
        .s("PrefixListArn", p.prefix_list_arn())
        .s("PrefixListName", p.prefix_list_name())
        .n("MaxEntries", p.max_entries())
        .n("Version", p.version())
        .v("Tags", tags(p.tags()))
        .s("OwnerId", p.owner_id())
        .done()
}

fn route_table_json(t: &aws_sdk_ec2::types::RouteTable) -> Value {
    Obj::new()
        .list("Associations", t.associations(), |a| {
            Obj::new()
                .b("Main", a.main())
                .s("RouteTableAssociationId", a.route_table_association_id())
                .s("RouteTableId", a.route_table_id())
                .s("SubnetId", a.subnet_id())
                .s("GatewayId", a.gateway_id())
                .o(
                    "AssociationState",
                    a.association_state().map(|s| {
                        Obj::new()
                            .e("State", s.state())
                            .s("StatusMessage", s.status_message())
                            .done()
                    }),
                )
                .done()
        })
        .list("PropagatingVgws", t.propagating_vgws(), |g| {
            Obj::new().s("GatewayId", g.gateway_id()).done()
        })
        .s("RouteTableId", t.route_table_id())
        .list("Routes", t.routes(), |r| {
            Obj::new()
                .s("DestinationCidrBlock", r.destination_cidr_block())
                .s("DestinationIpv6CidrBlock", r.destination_ipv6_cidr_block())
                .s("DestinationPrefixListId", r.destination_prefix_list_id())
                .s(
                    "EgressOnlyInternetGatewayId",
                    r.egress_only_internet_gateway_id(),
                )
                .s("GatewayId", r.gateway_id())
                .s("InstanceId", r.instance_id())
                .s("InstanceOwnerId", r.instance_owner_id())
                .s("NatGatewayId", r.nat_gateway_id())
                .s("TransitGatewayId", r.transit_gateway_id())
                .s("LocalGatewayId", r.local_gateway_id())
                .s("CarrierGatewayId", r.carrier_gateway_id())
                .s("NetworkInterfaceId", r.network_interface_id())
                .e("Origin", r.origin())
                .e("State", r.state())
                .s("VpcPeeringConnectionId", r.vpc_peering_connection_id())
                .s("CoreNetworkArn", r.core_network_arn())
                .s("OdbNetworkArn", r.odb_network_arn())
                .done()
        })
        .v("Tags", tags(t.tags()))
        .s("VpcId", t.vpc_id())
        .s("OwnerId", t.owner_id())
        .done()
}

fn flow_log_json(f: &aws_sdk_ec2::types::FlowLog) -> Value {
    Obj::new()
        .t("CreationTime", f.creation_time())
        .s("DeliverLogsErrorMessage", f.deliver_logs_error_message())
        .s("DeliverLogsPermissionArn", f.deliver_logs_permission_arn())
        .s("DeliverCrossAccountRole", f.deliver_cross_account_role())
        .s("DeliverLogsStatus", f.deliver_logs_status())
        .s("FlowLogId", f.flow_log_id())
        .s("FlowLogStatus", f.flow_log_status())
        .s("LogGroupName", f.log_group_name())
        .s("ResourceId", f.resource_id())
        .e("TrafficType", f.traffic_type())
        .e("LogDestinationType", f.log_destination_type())
        .s("LogDestination", f.log_destination())
        .s("LogFormat", f.log_format())
        .v("Tags", tags(f.tags()))
        .n("MaxAggregationInterval", f.max_aggregation_interval())
        .o(
            "DestinationOptions",
            f.destination_options().map(|d| {
                Obj::new()
                    .e("FileFormat", d.file_format())
                    .b("HiveCompatiblePartitions", d.hive_compatible_partitions())
                    .b("PerHourPartition", d.per_hour_partition())
                    .done()
            }),
        )
        .done()
}

// ---------------------------------------------------------------------------------------
// SageMaker

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
async fn collect_sagemaker(
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
            describe_each("domain", ids, |id| async move {
                let out = sm.describe_domain().domain_id(&id).send().await;
                Ok(outcome("sagemaker:DescribeDomain", out)?.map(|o| domain_json(&o)))
            })
            .await
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
        .s("FailureReason", o.failure_reason())
        .t("CreationTime", o.creation_time())
        .t("LastModifiedTime", o.last_modified_time())
        .done()
}

// ---------------------------------------------------------------------------------------
// JSON building

fn one_key(key: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(key.to_string(), value);
    Value::Object(m)
}

/// A JSON object built the way the CLI prints one: absent fields and empty lists are
/// left out.
struct Obj(Map<String, Value>);

impl Obj {
    fn new() -> Self {
        Obj(Map::new())
    }

    fn done(self) -> Value {
        Value::Object(self.0)
    }

    /// Any value; an empty array is left out.
    fn v(mut self, key: &str, value: Value) -> Self {
        if !matches!(&value, Value::Array(a) if a.is_empty()) {
            self.0.insert(key.to_string(), value);
        }
        self
    }

    fn o(self, key: &str, value: Option<Value>) -> Self {
        match value {
            Some(v) => self.v(key, v),
            None => self,
        }
    }

    fn s(self, key: &str, value: Option<&str>) -> Self {
        self.o(key, value.map(Value::from))
    }

    /// An SDK enum, as the API spelled it (unknown values included).
    fn e<T: AsRef<str>>(self, key: &str, value: Option<&T>) -> Self {
        self.s(key, value.map(AsRef::as_ref))
    }

    fn b(self, key: &str, value: Option<bool>) -> Self {
        self.o(key, value.map(Value::from))
    }

    fn n<N: Into<Value>>(self, key: &str, value: Option<N>) -> Self {
        self.o(key, value.map(Into::into))
    }

    fn t(self, key: &str, value: Option<&DateTime>) -> Self {
        self.o(key, value.map(cli_time))
    }

    fn strs(self, key: &str, values: &[String]) -> Self {
        self.v(key, Value::from(values.to_vec()))
    }

    fn list<T>(self, key: &str, items: &[T], f: impl Fn(&T) -> Value) -> Self {
        self.v(key, Value::Array(items.iter().map(f).collect()))
    }
}

/// A time as the AWS CLI prints it: `2026-11-20T10:00:00.318000+00:00`, rounded to the
/// microsecond as Python rounds it (an API's `1764288522.215` arrives as …214999… ns),
/// without the fraction when it is zero; epoch seconds if it is out of chrono's range.
fn cli_time(t: &DateTime) -> Value {
    let mut secs = t.secs();
    let mut micros = (t.subsec_nanos() + 500) / 1000;
    if micros >= 1_000_000 {
        secs += 1;
        micros -= 1_000_000;
    }
    match chrono::DateTime::<chrono::Utc>::from_timestamp(secs, micros * 1000) {
        Some(dt) if micros == 0 => Value::from(dt.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()),
        Some(dt) => Value::from(dt.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()),
        None => Value::from(t.as_secs_f64()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_print_like_the_cli() {
        let t = DateTime::from_secs_and_nanos(1_795_687_200, 318_000_000);
        assert_eq!(
            cli_time(&t),
            Value::from("2026-11-26T10:00:00.318000+00:00")
        );
        let t = DateTime::from_secs(1_795_687_200);
        assert_eq!(cli_time(&t), Value::from("2026-11-26T10:00:00+00:00"));
        let t = DateTime::from_secs_and_nanos(1_795_687_200, 214_999_523);
        assert_eq!(
            cli_time(&t),
            Value::from("2026-11-26T10:00:00.215000+00:00")
        );
        let t = DateTime::from_secs_and_nanos(1_795_687_200, 999_999_600);
        assert_eq!(cli_time(&t), Value::from("2026-11-26T10:00:01+00:00"));
        let t = DateTime::from_secs(-1);
        assert_eq!(cli_time(&t), Value::from("1969-12-31T23:59:59+00:00"));
    }

    #[test]
    fn only_missing_operations_are_skipped() {
        assert!(not_implemented(
            Some("UnknownOperationException"),
            Some(400)
        ));
        assert!(not_implemented(Some("InvalidAction"), Some(400)));
        assert!(not_implemented(None, Some(501)));
        assert!(!not_implemented(Some("UnauthorizedOperation"), Some(403)));
        assert!(!not_implemented(Some("AccessDeniedException"), Some(400)));
        assert!(!not_implemented(None, Some(500)));
        assert!(!not_implemented(None, None));
    }

    #[test]
    fn objects_leave_out_what_is_absent() {
        let v = Obj::new()
            .s("A", Some("x"))
            .s("B", None)
            .strs("C", &[])
            .b("D", Some(false))
            .n("E", Some(3))
            .done();
        assert_eq!(v, serde_json::json!({"A": "x", "D": false, "E": 3}));
    }
}
