//! Fixes that need every document: prefix-list entries saved without their list's id,
//! NAT gateways and their ENIs described from either side, routes to unknown prefix
//! lists, workload times that cannot be true, HyperPod nodes saved without their cluster.

use super::doc::push_unique;
use crate::inventory::{
    EndpointType, Eni, Inventory, JobKind, NatGateway, RouteDestination, RouteTable, VpcEndpoint,
};

pub(super) fn resolve_unassigned_entries(inv: &mut Inventory) {
    let pending = std::mem::take(&mut inv.unassigned_prefix_list_entries);
    if pending.is_empty() {
        return;
    }
    if inv.prefix_lists.len() == 1
        && let Some(pl) = inv.prefix_lists.values_mut().next()
    {
        for (_, cidrs) in pending {
            for n in cidrs {
                push_unique(&mut pl.cidrs, n);
            }
        }
        return;
    }
    let known = inv.prefix_lists.len();
    for (file, cidrs) in pending {
        inv.warnings.push(format!(
            "{file}: {} prefix-list entries, but the file name names no prefix list (pl-…) and {known} prefix lists are known; put the id in the file name (e.g. get-managed-prefix-list-entries-pl-63a5400a.json); skipped",
            cidrs.len()
        ));
    }
}

/// describe-nat-gateways and describe-network-interfaces describe the same ENIs from two
/// sides; each may have been saved without the other.
pub(super) fn link_nat_gateways(inv: &mut Inventory) {
    for nat in &inv.nat_gateways {
        for (i, eni_id) in nat.eni_ids.iter().enumerate() {
            if let Some(eni) = inv.enis.get_mut(eni_id) {
                if eni.public_ip.is_none() {
                    eni.public_ip = nat.public_ips.get(i).copied();
                }
                if let Some(&ip) = nat.private_ips.get(i)
                    && !eni.addresses.contains(&ip)
                {
                    eni.addresses.push(ip);
                }
            }
        }
    }

    let mut nat_enis: Vec<&Eni> = inv
        .enis
        .values()
        .filter(|e| e.interface_type == "nat_gateway")
        .collect();
    nat_enis.sort_by(|a, b| a.id.cmp(&b.id));
    for eni in nat_enis {
        // The ENI's description is the only link from its side.
        let Some(nat_id) = eni
            .description
            .strip_prefix("Interface for NAT Gateway ")
            .map(str::trim)
            .filter(|s| s.starts_with("nat-"))
        else {
            continue;
        };
        let ipv4 = eni.addresses.iter().filter(|a| a.is_ipv4());
        match inv.nat_gateways.iter_mut().find(|n| n.id == nat_id) {
            Some(nat) => {
                if !nat.eni_ids.contains(&eni.id) {
                    nat.eni_ids.push(eni.id.clone());
                    for &ip in ipv4 {
                        push_unique(&mut nat.private_ips, ip);
                    }
                    if let Some(ip) = eni.public_ip {
                        push_unique(&mut nat.public_ips, ip);
                    }
                }
            }
            None => inv.nat_gateways.push(NatGateway {
                id: nat_id.to_string(),
                vpc_id: eni.vpc_id.clone().unwrap_or_default(),
                subnet_id: eni.subnet_id.clone(),
                eni_ids: vec![eni.id.clone()],
                private_ips: ipv4.copied().collect(),
                public_ips: eni.public_ip.into_iter().collect(),
                // Without describe-nat-gateways, an Elastic IP is the best evidence.
                connectivity: if eni.public_ip.is_some() {
                    "public"
                } else {
                    "private"
                }
                .to_string(),
                // A regional gateway has no ENI of its own in the VPC.
                regional: false,
            }),
        }
    }
}

/// A gateway endpoint or gateway-endpoint route whose prefix list has no known CIDRs
/// cannot be matched against flow records, which changes what "left the VPC" means; say
/// so once per endpoint or list.
pub(super) fn check_route_prefix_lists(inv: &mut Inventory) {
    let mut reported: Vec<&str> = Vec::new();
    let mut endpoints: Vec<&VpcEndpoint> = inv
        .vpc_endpoints
        .iter()
        .filter(|e| e.endpoint_type == EndpointType::Gateway)
        .collect();
    endpoints.sort_by(|a, b| a.id.cmp(&b.id));
    let mut new_warnings = Vec::new();
    for ep in endpoints {
        let mut lists: Vec<&str> = inv
            .prefix_lists
            .values()
            .filter(|p| !ep.service_name.is_empty() && p.name == ep.service_name)
            .map(|p| p.id.as_str())
            .collect();
        for r in inv.route_tables.iter().flat_map(|t| &t.routes) {
            if let RouteDestination::PrefixList(pl) = &r.destination
                && r.target == ep.id
            {
                lists.push(pl);
            }
        }
        lists.sort_unstable();
        lists.dedup();
        let known = lists.iter().any(|pl| {
            inv.prefix_lists
                .get(*pl)
                .is_some_and(|p| !p.cidrs.is_empty())
        });
        if known {
            continue;
        }
        let named = if lists.is_empty() {
            "its prefix list is not in the inventory".to_string()
        } else {
            format!("the CIDRs of {} are unknown", lists.join(", "))
        };
        let fetch = match lists.first() {
            Some(pl) => format!(
                "`aws ec2 get-managed-prefix-list-entries --prefix-list-id {pl} > get-managed-prefix-list-entries-{pl}.json`"
            ),
            None => "`aws ec2 describe-managed-prefix-lists > describe-managed-prefix-lists.json` and `aws ec2 get-managed-prefix-list-entries --prefix-list-id pl-… > get-managed-prefix-list-entries-pl-….json`".to_string(),
        };
        new_warnings.push(format!(
            "gateway endpoint {} ({}) in {}: {named}, so only records with traffic-path 7 are known to use it and others to its service count as leaving the VPC; save {fetch} into the inventory",
            ep.id,
            or_dash(&ep.service_name),
            or_dash(&ep.vpc_id),
        ));
        reported.extend(lists);
    }
    let mut tables: Vec<&RouteTable> = inv.route_tables.iter().collect();
    tables.sort_by(|a, b| a.id.cmp(&b.id));
    for rt in tables {
        for r in &rt.routes {
            let RouteDestination::PrefixList(pl) = &r.destination else {
                continue;
            };
            let known = inv
                .prefix_lists
                .get(pl)
                .is_some_and(|p| !p.cidrs.is_empty());
            if known || reported.contains(&pl.as_str()) {
                continue;
            }
            reported.push(pl);
            new_warnings.push(format!(
                "route table {}: route to prefix list {pl} via {}, but its CIDRs are unknown; save `aws ec2 get-managed-prefix-list-entries --prefix-list-id {pl} > get-managed-prefix-list-entries-{pl}.json` into the inventory",
                rt.id, r.target
            ));
        }
    }
    for warning in new_warnings {
        // `finish` may run again after more documents were added.
        if !inv.warnings.contains(&warning) {
            inv.warnings.push(warning);
        }
    }
}

/// An interface endpoint whose ENIs describe-network-interfaces does not hold has no known
/// address (a centralised endpoint of a shared-services account is described by that
/// account), so traffic to it counts as leaving the VPC; say so once per endpoint.
pub(super) fn check_interface_endpoint_enis(inv: &mut Inventory) {
    if inv.enis.is_empty() {
        return;
    }
    let mut new_warnings = Vec::new();
    for ep in &inv.vpc_endpoints {
        if ep.endpoint_type != EndpointType::Interface {
            continue;
        }
        let missing: Vec<&str> = ep
            .eni_ids
            .iter()
            .filter(|id| !inv.enis.contains_key(*id))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            continue;
        }
        new_warnings.push(format!(
            "interface endpoint {} ({}) in {}: its ENIs {} are not in describe-network-interfaces, so their addresses are unknown and traffic to them counts as leaving the VPC; save `aws ec2 describe-network-interfaces --network-interface-ids {} > describe-network-interfaces-{}.json` (in the endpoint's account, for a centralised endpoint) into the inventory",
            ep.id,
            or_dash(&ep.service_name),
            or_dash(&ep.vpc_id),
            missing.join(", "),
            missing.join(" "),
            ep.id,
        ));
    }
    for warning in new_warnings {
        if !inv.warnings.contains(&warning) {
            inv.warnings.push(warning);
        }
    }
}

/// A gateway endpoint serves only the subnets whose route table routes its prefix list to
/// it. Without describe-route-tables, traffic to its prefix list is taken to use it (unless
/// a record's traffic-path says otherwise): a subnet without the route would be a bypass
/// nobody sees, so say what the verdicts rest on.
pub(super) fn check_gateway_routes(inv: &mut Inventory) {
    if !inv.route_tables.is_empty() {
        return;
    }
    let gateways: Vec<&str> = inv
        .vpc_endpoints
        .iter()
        .filter(|e| e.endpoint_type == EndpointType::Gateway)
        .map(|e| e.id.as_str())
        .collect();
    if gateways.is_empty() {
        return;
    }
    inv.warnings.push(format!(
        "gateway endpoint(s) {} but no describe-route-tables: traffic to their prefix lists is taken to go through them unless a record's traffic-path says otherwise, though an endpoint serves only the subnets whose route table routes to it; save `aws ec2 describe-route-tables --output json > describe-route-tables.json` into the inventory",
        gateways.join(", ")
    ));
}

/// A workload with a VpcConfig but no time to bound it cannot be matched to flow records
/// (attribution picks the workload running at the record's time); say which.
pub(super) fn check_workload_times(inv: &mut Inventory) {
    let mut new_warnings = Vec::new();
    for j in &inv.jobs {
        let in_vpc = match (&j.model_name, j.kind) {
            (Some(m), JobKind::Transform) => inv
                .model(j.scope.as_deref(), m)
                .is_some_and(|x| !x.security_group_ids.is_empty()),
            _ => !j.security_group_ids.is_empty(),
        };
        if in_vpc && j.window().is_none() {
            let label = match j.kind {
                JobKind::Training => "training job",
                JobKind::Processing => "processing job",
                JobKind::Transform => "transform job",
            };
            new_warnings.push(format!(
                "{label} {}: no start, end or CreationTime/LastModifiedTime that bounds when it ran, so no flow record is attributed to it; save the unmodified describe output",
                j.name
            ));
        }
    }
    for e in &inv.endpoints {
        if e.window().is_none() {
            new_warnings.push(format!(
                "endpoint {}: no CreationTime (or a Failed endpoint without LastModifiedTime), so no flow record is attributed to it; save the unmodified `aws sagemaker describe-endpoint` output",
                e.name
            ));
        }
    }
    for c in &inv.clusters {
        if !c.vpc_configs().is_empty() && c.window().is_none() {
            new_warnings.push(format!(
                "HyperPod cluster {}: no CreationTime, so no flow record is attributed to it by its VpcConfig; save the unmodified `aws sagemaker describe-cluster` output",
                c.name
            ));
        }
    }
    for warning in new_warnings {
        if !inv.warnings.contains(&warning) {
            inv.warnings.push(warning);
        }
    }
}

/// `list-cluster-nodes` and `describe-cluster-node` do not name the cluster: a node
/// whose document did not say is given the only cluster with an instance group of its
/// group's name. One that stays without a cluster is still a HyperPod node (its ENIs are
/// SageMaker's), of a cluster the inventory cannot name.
pub(super) fn link_cluster_nodes(inv: &mut Inventory) {
    // One warning per file and instance group, not per node: a cluster has hundreds.
    let mut unlinked: Vec<(String, Option<String>, String, usize)> = Vec::new();
    for n in inv
        .cluster_nodes
        .iter_mut()
        .filter(|n| n.cluster.is_empty())
    {
        let fits: Vec<&str> = inv
            .clusters
            .iter()
            .filter(|c| c.groups.iter().any(|g| Some(&g.name) == n.group.as_ref()))
            .map(|c| c.name.as_str())
            .collect();
        if let [one] = fits.as_slice() {
            n.cluster = one.to_string();
            continue;
        }
        match unlinked
            .iter_mut()
            .find(|(f, g, _, _)| *f == n.file && *g == n.group)
        {
            Some(u) => u.3 += 1,
            None => {
                let why = if fits.is_empty() {
                    "no HyperPod cluster of the inventory (aws sagemaker describe-cluster) has"
                        .to_string()
                } else {
                    format!("clusters {} all have", fits.join(", "))
                };
                unlinked.push((n.file.clone(), n.group.clone(), why, 1));
            }
        }
    }
    for (file, group, why, count) in unlinked {
        inv.warnings.push(format!(
            "{file}: {count} HyperPod node(s) of instance group {} name no cluster and {why} that instance group: their ENIs are attributed to HyperPod without a cluster name; add \"ClusterName\" to the document, or save it with `sageflow inventory collect`",
            group.as_deref().unwrap_or("-"),
        ));
    }
}

fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}
