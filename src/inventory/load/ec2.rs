//! EC2 `describe-*` documents: VPCs, network interfaces, VPC endpoints, NAT gateways,
//! prefix lists and their entries, route tables, flow-log configurations.

use std::path::Path;

use ipnet::IpNet;
use serde_json::Value;

use super::doc::{Doc, Obj, Round, push_unique};
use crate::inventory::{
    EndpointType, Eni, EniSighting, FlowLogConfig, Inventory, Item, NatGateway, PrefixList, Route,
    RouteDestination, RouteTable, Vpc, VpcEndpoint,
};

pub(super) fn add_vpc(inv: &mut Inventory, doc: &mut Doc, o: &Obj, what: &str) {
    let Some(id) = doc.required(o, "VpcId", what) else {
        return;
    };
    let mut cidrs = Vec::new();
    let mut former = Vec::new();
    if let Some(n) = doc.net(o, "CidrBlock", &id, "CidrBlock") {
        push_unique(&mut cidrs, n);
    }
    for (set, key, state) in [
        ("CidrBlockAssociationSet", "CidrBlock", "CidrBlockState"),
        (
            "Ipv6CidrBlockAssociationSet",
            "Ipv6CidrBlock",
            "Ipv6CidrBlockState",
        ),
    ] {
        for (i, a) in doc.objects(o, set, &id).into_iter().enumerate() {
            // Disassociated and failed CIDRs no longer belong to the VPC (a disassociated
            // one did before); a missing state is taken as associated.
            let st = a
                .get(state)
                .and_then(|s| s.get("State"))
                .and_then(Value::as_str);
            let list = match st {
                None | Some("associated") => &mut cidrs,
                Some("disassociated" | "disassociating") => &mut former,
                Some(_) => continue,
            };
            if let Some(n) = doc.net(a, key, &id, &format!("{set}[{i}].{key}")) {
                push_unique(list, n);
            }
        }
    }
    former.retain(|n| !cidrs.contains(n));
    let vpc = Vpc { id, cidrs, former };
    doc.add_unique(&mut inv.vpcs, vpc, |v| v.id.clone(), "VPC");
}

pub(super) fn add_eni(inv: &mut Inventory, doc: &mut Doc, o: &Obj, what: &str) {
    let Some(id) = doc.required(o, "NetworkInterfaceId", what) else {
        return;
    };
    let owner = id.as_str();
    let mut eni = Eni {
        id: id.clone(),
        vpc_id: doc.opt_str(o, "VpcId", owner),
        subnet_id: doc.opt_str(o, "SubnetId", owner),
        description: doc.opt_str(o, "Description", owner).unwrap_or_default(),
        // Plain ENIs are `interface`; older API output omitted the field for them.
        interface_type: doc
            .opt_str(o, "InterfaceType", owner)
            .unwrap_or_else(|| "interface".to_string()),
        requester_managed: doc.opt_bool(o, "RequesterManaged", owner).unwrap_or(false),
        requester_id: doc.opt_str(o, "RequesterId", owner),
        owner_id: doc.opt_str(o, "OwnerId", owner),
        status: doc.opt_str(o, "Status", owner),
        region: doc
            .opt_str(o, "AvailabilityZone", owner)
            .and_then(|z| crate::inventory::zone_region(&z)),
        ..Eni::default()
    };

    let mut private = doc.objects(o, "PrivateIpAddresses", owner);
    // The primary address is the one flow logs show in srcaddr/dstaddr; keep it first.
    private.sort_by_key(|p| p.get("Primary").and_then(Value::as_bool) != Some(true));
    for (i, p) in private.iter().enumerate() {
        let field = format!("PrivateIpAddresses[{i}].PrivateIpAddress");
        if let Some(ip) = doc.ip(p, "PrivateIpAddress", owner, &field) {
            push_unique(&mut eni.addresses, ip);
        }
    }
    if eni.addresses.is_empty()
        && let Some(ip) = doc.ip(o, "PrivateIpAddress", owner, "PrivateIpAddress")
    {
        eni.addresses.push(ip);
    }
    for (i, p) in doc.objects(o, "Ipv6Addresses", owner).iter().enumerate() {
        let field = format!("Ipv6Addresses[{i}].Ipv6Address");
        if let Some(ip) = doc.ip(p, "Ipv6Address", owner, &field) {
            push_unique(&mut eni.addresses, ip);
        }
    }
    for (set, key) in [
        ("Ipv4Prefixes", "Ipv4Prefix"),
        ("Ipv6Prefixes", "Ipv6Prefix"),
    ] {
        for (i, p) in doc.objects(o, set, owner).iter().enumerate() {
            if let Some(n) = doc.net(p, key, owner, &format!("{set}[{i}].{key}")) {
                push_unique(&mut eni.prefixes, n);
            }
        }
    }
    if let Some(a) = doc.object(o, "Association", owner) {
        eni.public_ip = doc.ip(a, "PublicIp", owner, "Association.PublicIp");
    }
    if let Some(a) = doc.object(o, "Attachment", owner) {
        eni.attachment_id = doc.opt_str(a, "AttachmentId", owner);
        eni.instance_id = doc.opt_str(a, "InstanceId", owner);
        eni.instance_owner_id = doc.opt_str(a, "InstanceOwnerId", owner);
        eni.attach_time = doc.time(a, "AttachTime", owner, Round::Down);
    }
    for g in doc.objects(o, "Groups", owner) {
        if let Some(gid) = doc.opt_str(g, "GroupId", owner) {
            eni.security_group_ids.push(gid);
        }
        if let Some(name) = doc.opt_str(g, "GroupName", owner) {
            eni.security_group_names.push(name);
        }
    }
    for t in doc.objects(o, "TagSet", owner) {
        if let Some(k) = doc.opt_str(t, "Key", owner) {
            let v = doc.opt_str(t, "Value", owner).unwrap_or_default();
            eni.tags.push((k, v));
        }
    }

    inv.note_document(Item::Eni(&id), doc.file);
    if let Some(time) = doc.snapshot {
        inv.eni_sightings.push(EniSighting {
            series: super::snapshot::series_of(doc.file),
            time,
            eni,
            file: doc.file.to_string(),
        });
        return;
    }
    match inv.enis.get(&id) {
        Some(existing) => {
            if format!("{existing:?}") != format!("{eni:?}") {
                doc.differs(format_args!("ENI {id}"));
            }
        }
        None => {
            inv.enis.insert(id, eni);
        }
    }
}

pub(super) fn add_vpc_endpoint(inv: &mut Inventory, doc: &mut Doc, o: &Obj, what: &str) {
    let Some(id) = doc.required(o, "VpcEndpointId", what) else {
        return;
    };
    let owner = id.as_str();
    let endpoint_type = match doc.opt_str(o, "VpcEndpointType", owner).as_deref() {
        Some("Interface") => EndpointType::Interface,
        Some("Gateway") => EndpointType::Gateway,
        _ => EndpointType::Other,
    };
    inv.note_document(Item::VpcEndpoint(&id), doc.file);
    let ep = VpcEndpoint {
        vpc_id: doc.opt_str(o, "VpcId", owner).unwrap_or_default(),
        service_name: doc.opt_str(o, "ServiceName", owner).unwrap_or_default(),
        endpoint_type,
        eni_ids: doc.strings(o, "NetworkInterfaceIds", owner),
        route_table_ids: doc.strings(o, "RouteTableIds", owner),
        private_dns_enabled: doc.opt_bool(o, "PrivateDnsEnabled", owner),
        private_dns_inbound_only: doc
            .object(o, "DnsOptions", owner)
            .and_then(|d| doc.opt_bool(d, "PrivateDnsOnlyForInboundResolverEndpoint", owner))
            .unwrap_or(false),
        ip_address_type: doc.opt_str(o, "IpAddressType", owner),
        created: doc.time(o, "CreationTimestamp", owner, Round::Down),
        id,
    };
    doc.add_unique(&mut inv.vpc_endpoints, ep, |e| e.id.clone(), "VPC endpoint");
}

pub(super) fn add_nat_gateway(inv: &mut Inventory, doc: &mut Doc, o: &Obj, what: &str) {
    let Some(id) = doc.required(o, "NatGatewayId", what) else {
        return;
    };
    let owner = id.as_str();
    inv.note_document(Item::NatGateway(&id), doc.file);
    let mut nat = NatGateway {
        id: id.clone(),
        vpc_id: doc.opt_str(o, "VpcId", owner).unwrap_or_default(),
        subnet_id: doc.opt_str(o, "SubnetId", owner),
        // Only public NAT gateways existed before the field was introduced.
        connectivity: doc
            .opt_str(o, "ConnectivityType", owner)
            .unwrap_or_else(|| "public".to_string()),
        regional: doc.opt_str(o, "AvailabilityMode", owner).as_deref() == Some("regional"),
        ..NatGateway::default()
    };
    for (i, a) in doc
        .objects(o, "NatGatewayAddresses", owner)
        .into_iter()
        .enumerate()
    {
        if let Some(eni) = doc.opt_str(a, "NetworkInterfaceId", owner) {
            push_unique(&mut nat.eni_ids, eni);
        }
        let field = format!("NatGatewayAddresses[{i}].PrivateIp");
        if let Some(ip) = doc.ip(a, "PrivateIp", owner, &field) {
            push_unique(&mut nat.private_ips, ip);
        }
        let field = format!("NatGatewayAddresses[{i}].PublicIp");
        if let Some(ip) = doc.ip(a, "PublicIp", owner, &field) {
            push_unique(&mut nat.public_ips, ip);
        }
    }
    doc.add_unique(&mut inv.nat_gateways, nat, |n| n.id.clone(), "NAT gateway");
}

pub(super) fn add_prefix_list(inv: &mut Inventory, doc: &mut Doc, o: &Obj, what: &str) {
    let Some(id) = doc.required(o, "PrefixListId", what) else {
        return;
    };
    let owner = id.as_str();
    let name = doc.opt_str(o, "PrefixListName", owner);
    // describe-prefix-lists (the older call) lists the CIDRs inline.
    let mut cidrs = Vec::new();
    for (i, c) in doc.strings(o, "Cidrs", owner).into_iter().enumerate() {
        match c.parse::<IpNet>() {
            Ok(n) => push_unique(&mut cidrs, n.trunc()),
            Err(_) => doc.warn(format_args!(
                "{owner}: Cidrs[{i}] {c:?} is not a CIDR; skipped"
            )),
        }
    }
    let pl = inv
        .prefix_lists
        .entry(id.clone())
        .or_insert_with(|| PrefixList {
            id,
            ..PrefixList::default()
        });
    if let Some(name) = name
        && pl.name.is_empty()
    {
        pl.name = name;
    }
    for n in cidrs {
        push_unique(&mut pl.cidrs, n);
    }
}

/// get-managed-prefix-list-entries prints only `Entries`, so the list id has to come
/// from the file name.
pub(super) fn add_entries(inv: &mut Inventory, doc: &mut Doc, items: &[Value]) {
    let mut cidrs = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let what = format!("Entries[{i}]");
        let Some(e) = doc.object_item(item, &what) else {
            continue;
        };
        if !e.contains_key("Cidr") {
            doc.warn(format_args!("{what}: no Cidr; skipped"));
            continue;
        }
        if let Some(n) = doc.net(e, "Cidr", &what, "Cidr") {
            push_unique(&mut cidrs, n);
        }
    }
    match prefix_list_id_in(doc.file) {
        Some(id) => {
            let pl = inv
                .prefix_lists
                .entry(id.clone())
                .or_insert_with(|| PrefixList {
                    id,
                    ..PrefixList::default()
                });
            for n in cidrs {
                push_unique(&mut pl.cidrs, n);
            }
        }
        None => {
            let file = format!("{}{}", doc.file, doc.at);
            inv.unassigned_prefix_list_entries.push((file, cidrs));
        }
    }
}

/// A `pl-<hex>` id in the file name (else anywhere in the path), standing alone so that
/// words such as `template-…` do not count.
fn prefix_list_id_in(file: &str) -> Option<String> {
    let path = Path::new(file);
    let name = path.file_name().map(|n| n.to_string_lossy());
    name.as_deref()
        .and_then(find_prefix_list_id)
        .or_else(|| find_prefix_list_id(file))
}

fn find_prefix_list_id(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(pos) = s[from..].find("pl-") {
        let start = from + pos;
        from = start + 3;
        if start > 0 && b[start - 1].is_ascii_alphanumeric() {
            continue;
        }
        let hex = b[start + 3..]
            .iter()
            .take_while(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(*c))
            .count();
        let end = start + 3 + hex;
        // Real ids have 8 or 17 hex digits.
        if hex >= 8 && b.get(end).is_none_or(|c| !c.is_ascii_alphanumeric()) {
            return Some(s[start..end].to_string());
        }
    }
    None
}

/// Route targets, most specific first; an instance route also names its ENI, which is
/// what flow logs show.
const ROUTE_TARGETS: [&str; 11] = [
    "GatewayId",
    "NatGatewayId",
    "TransitGatewayId",
    "VpcPeeringConnectionId",
    "NetworkInterfaceId",
    "LocalGatewayId",
    "CarrierGatewayId",
    "EgressOnlyInternetGatewayId",
    "InstanceId",
    "CoreNetworkArn",
    "OdbNetworkArn",
];

pub(super) fn add_route_table(inv: &mut Inventory, doc: &mut Doc, o: &Obj, what: &str) {
    let Some(id) = doc.required(o, "RouteTableId", what) else {
        return;
    };
    let owner = id.as_str();
    let mut rt = RouteTable {
        id: id.clone(),
        vpc_id: doc.opt_str(o, "VpcId", owner).unwrap_or_default(),
        ..RouteTable::default()
    };
    for a in doc.objects(o, "Associations", owner) {
        let state = a
            .get("AssociationState")
            .and_then(|s| s.get("State"))
            .and_then(Value::as_str);
        if state.is_some_and(|s| s != "associated") {
            continue;
        }
        if doc.opt_bool(a, "Main", owner) == Some(true) {
            rt.main = true;
        }
        if let Some(subnet) = doc.opt_str(a, "SubnetId", owner) {
            push_unique(&mut rt.subnet_ids, subnet);
        }
    }
    for (i, r) in doc.objects(o, "Routes", owner).into_iter().enumerate() {
        let at = format!("Routes[{i}]");
        let destination = if r.contains_key("DestinationCidrBlock") {
            let field = format!("{at}.DestinationCidrBlock");
            doc.net(r, "DestinationCidrBlock", owner, &field)
                .map(RouteDestination::Cidr)
        } else if r.contains_key("DestinationIpv6CidrBlock") {
            let field = format!("{at}.DestinationIpv6CidrBlock");
            doc.net(r, "DestinationIpv6CidrBlock", owner, &field)
                .map(RouteDestination::Cidr)
        } else if let Some(pl) = doc.opt_str(r, "DestinationPrefixListId", owner) {
            Some(RouteDestination::PrefixList(pl))
        } else {
            doc.warn(format_args!("{owner}: {at} has no destination; skipped"));
            None
        };
        let Some(destination) = destination else {
            continue;
        };
        let target = ROUTE_TARGETS.iter().find_map(|k| doc.opt_str(r, k, owner));
        match target {
            Some(target) => rt.routes.push(Route {
                destination,
                target,
            }),
            None => doc.warn(format_args!("{owner}: {at} has no target; skipped")),
        }
    }
    doc.add_unique(&mut inv.route_tables, rt, |r| r.id.clone(), "route table");
}

pub(super) fn add_flow_log(inv: &mut Inventory, doc: &mut Doc, o: &Obj, what: &str) {
    let Some(id) = doc.required(o, "FlowLogId", what) else {
        return;
    };
    let owner = id.as_str();
    let fl = FlowLogConfig {
        resource_id: doc.opt_str(o, "ResourceId", owner).unwrap_or_default(),
        log_format: doc.opt_str(o, "LogFormat", owner),
        log_group_name: doc.opt_str(o, "LogGroupName", owner),
        destination_type: doc.opt_str(o, "LogDestinationType", owner),
        destination: doc.opt_str(o, "LogDestination", owner),
        traffic_type: doc.opt_str(o, "TrafficType", owner),
        created: doc.time(o, "CreationTime", owner, Round::Down),
        delivery_failed: (doc.opt_str(o, "DeliverLogsStatus", owner).as_deref() == Some("FAILED"))
            .then(|| {
                doc.opt_str(o, "DeliverLogsErrorMessage", owner)
                    .unwrap_or_else(|| "no DeliverLogsErrorMessage".into())
            }),
        id,
    };
    doc.add_unique(&mut inv.flow_logs, fl, |f| f.id.clone(), "flow log");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_list_ids_in_file_names() {
        assert_eq!(
            find_prefix_list_id("get-managed-prefix-list-entries-pl-63a5400a.json").as_deref(),
            Some("pl-63a5400a")
        );
        assert_eq!(
            find_prefix_list_id("pl-63a5400a").as_deref(),
            Some("pl-63a5400a")
        );
        assert_eq!(find_prefix_list_id("template-deadbeef0.json"), None);
        assert_eq!(find_prefix_list_id("pl-63a5400ax.json"), None);
        assert_eq!(find_prefix_list_id("pl-1234.json"), None);
    }
}
