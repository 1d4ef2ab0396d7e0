//! EC2: VPCs, ENIs, VPC endpoints, NAT gateways, prefix lists and their entries, route
//! tables and flow-log configurations, as `aws ec2 describe-*` prints them.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::Filter;
use futures::StreamExt;
use serde_json::Value;

use super::sdk::{DESCRIBE_CONCURRENCY, Obj, all_pages, one_key, outcome};
use crate::error::{Error, Result};

/// AWS-managed prefix lists are all fetched (not only those that routes and gateway
/// endpoints reference) when a region has at most this many.
const FEW_PREFIX_LISTS: usize = 12;

pub(super) async fn collect_ec2(
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

pub(super) fn tags(t: &[aws_sdk_ec2::types::Tag]) -> Value {
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
        .o(
            "DnsOptions",
            e.dns_options().map(|d| {
                Obj::new()
                    .e("DnsRecordIpType", d.dns_record_ip_type())
                    .b(
                        "PrivateDnsOnlyForInboundResolverEndpoint",
                        d.private_dns_only_for_inbound_resolver_endpoint(),
                    )
                    .done()
            }),
        )
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
