//! The lookups one enrichment run needs, built once from the inventory: per ENI its
//! owner and addresses, per VPC its CIDRs, interface-endpoint and NAT-gateway addresses and
//! gateway-endpoint prefix lists, and the route tables that say which subnets reach a
//! gateway endpoint.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use super::Enricher;
use super::attribution::{self, Attributor, Owner, Resource};
use crate::inventory::{EndpointType, Inventory, Item, PrefixMap, RouteDestination};

#[derive(Debug)]
pub(super) struct EniEntry {
    pub(super) owner: Owner,
    /// `attribution_rule` and `attribution_document`.
    pub(super) rule: &'static str,
    pub(super) document: Option<Arc<str>>,
    pub(super) vpc: Option<String>,
    pub(super) subnet: Option<String>,
    pub(super) addrs: Vec<IpAddr>,
    /// From when a flow log that records accepted traffic covers this ENI (`i64::MIN`:
    /// always, or the inventory lists no flow logs); `None`: never. Until then, its
    /// NAT-gateway legs are the only evidence of its traffic.
    pub(super) logged_from: Option<i64>,
    /// Known from CloudTrail only (the ENI was deleted before the inventory was taken).
    pub(super) from_trail: bool,
    /// When it took its addresses, where that is its `AttachTime` ([`attached_once`]):
    /// before it, they were not its own.
    pub(super) attached: Option<i64>,
}

#[derive(Debug, Clone)]
pub(super) enum Special {
    InterfaceEndpoint {
        id: Arc<str>,
        service: Arc<str>,
        vpc: Arc<str>,
    },
    NatGateway {
        id: Arc<str>,
        vpc: Arc<str>,
    },
}

/// An interface endpoint's service and VPC, for an address of one of its ENIs.
#[derive(Debug, Clone)]
pub(super) struct EndpointAddr {
    pub(super) id: Arc<str>,
    pub(super) service: Arc<str>,
    pub(super) vpc: Arc<str>,
}

/// A gateway endpoint's service (`s3`, `dynamodb`) for an address in its prefix list.
#[derive(Debug, Clone)]
pub(super) struct Gateway {
    pub(super) service: Arc<str>,
    /// The prefix list the address is in.
    pub(super) list: Arc<str>,
}

/// Addresses no router forwards: link-local (where EC2 serves each instance its metadata,
/// DNS and time, 169.254.169.254, .253 and .123, and ECS its task metadata, 169.254.170.2;
/// RFC 3927), their IPv6 forms (`fd00:ec2::254`, `::253`, `::123`), this host, limited
/// broadcast and link-scope multicast (mDNS, DHCP). A record to one stays in the VPC
/// whatever the subnet's routes say. Wider multicast (SSDP's 239.255.255.250, ff05::c)
/// is what service discovery sends without asking: no internet or NAT gateway forwards
/// it, and a VPC drops it unless a transit gateway multicast domain carries it to the VPCs
/// attached to it, so it is not traffic leaving for the internet either.
/// Each entry: the range, what it is, and why it stays.
pub(super) const LOCAL_SCOPE: &[(&str, &str, &str)] = &[
    (
        "169.254.0.0/16",
        "link-local (instance metadata, DNS, time)",
        NOT_ROUTED,
    ),
    ("fe80::/10", "link-local", NOT_ROUTED),
    (
        "fd00:ec2::/32",
        "the instance's metadata, DNS and time services",
        NOT_ROUTED,
    ),
    ("0.0.0.0/8", "this network", NOT_ROUTED),
    ("127.0.0.0/8", "loopback", NOT_ROUTED),
    ("::1/128", "loopback", NOT_ROUTED),
    ("255.255.255.255/32", "limited broadcast", NOT_ROUTED),
    ("224.0.0.0/24", "link-local multicast", NOT_ROUTED),
    ("ff02::/16", "link-local multicast", NOT_ROUTED),
    ("224.0.0.0/4", "multicast", MULTICAST),
    ("ff00::/8", "multicast", MULTICAST),
];
const NOT_ROUTED: &str = "never routed out of the VPC";
const MULTICAST: &str = "forwarded by no internet or NAT gateway (only a transit gateway multicast domain carries it, to its VPCs)";

/// Which ENI holds an address, per VPC: VPCs (of one account or several) reuse the same
/// private ranges, so an address names an ENI only within its VPC.
#[derive(Debug, Default)]
pub(super) struct AddrOwners {
    /// `None`: ENIs of that VPC share the address (inventories of different times).
    by_vpc: foldhash::HashMap<Arc<str>, PrefixMap<Option<Arc<str>>>>,
    /// ENIs whose VPC the inventory does not say.
    unplaced: PrefixMap<Option<Arc<str>>>,
}

impl AddrOwners {
    fn new(held: Vec<(Option<&str>, ipnet::IpNet, &str)>) -> Self {
        let mut holders: std::collections::BTreeMap<(Option<&str>, ipnet::IpNet), Vec<&str>> =
            std::collections::BTreeMap::new();
        for (vpc, net, id) in held {
            let ids = holders.entry((vpc, net)).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let mut owners = AddrOwners::default();
        for ((vpc, net), ids) in holders {
            let map = match vpc {
                Some(v) => owners.by_vpc.entry(Arc::from(v)).or_default(),
                None => &mut owners.unplaced,
            };
            let id = match ids.as_slice() {
                [one] => Some(Arc::from(*one)),
                _ => None,
            };
            map.insert(net, id, 0);
        }
        for map in owners.by_vpc.values_mut() {
            map.build();
        }
        owners.unplaced.build();
        owners
    }

    /// The ENI holding `ip` in `vpc`; with no VPC, the one ENI of any VPC that holds it.
    pub(super) fn lookup(&self, vpc: Option<&str>, ip: IpAddr) -> Option<&Arc<str>> {
        let found = match vpc {
            Some(v) => self
                .by_vpc
                .get(v)
                .and_then(|m| m.lookup(ip))
                .or_else(|| self.unplaced.lookup(ip)),
            None => {
                let mut hits = self
                    .by_vpc
                    .values()
                    .chain(std::iter::once(&self.unplaced))
                    .filter_map(|m| m.lookup(ip));
                let first = hits.next()?;
                if hits.next().is_some() {
                    return None;
                }
                Some(first)
            }
        };
        found.and_then(Option::as_ref)
    }
}

/// When an ENI took its addresses, for one a workload's VpcConfig matched: a job's or an
/// endpoint's ENI is created and attached once, so its `AttachTime` is when it came. Other
/// ENIs may have been detached and attached again since (`AttachTime` is the last
/// attachment), their addresses theirs all along: `None`.
fn attached_once(owner: &Owner, eni: &crate::inventory::Eni) -> Option<i64> {
    matches!(owner, Owner::VpcConfig(_))
        .then_some(eni.attach_time)
        .flatten()
}

/// An ENI that held an address (CloudTrail), and its VPC.
#[derive(Debug, Clone)]
pub(super) struct Holder {
    pub(super) eni: Arc<str>,
    pub(super) vpc: Option<Arc<str>>,
}

impl Holder {
    /// Whether it can be the holder of an address seen in `vpc`.
    pub(super) fn in_vpc(&self, vpc: Option<&str>) -> bool {
        match (&self.vpc, vpc) {
            (Some(a), Some(b)) => **a == *b,
            _ => true,
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct VpcIndex {
    pub(super) inside: PrefixMap<()>,
    /// CIDRs the VPC no longer has ([`crate::inventory::Vpc::former`]).
    pub(super) former: PrefixMap<()>,
    pub(super) special: PrefixMap<Special>,
    pub(super) gateways: PrefixMap<Gateway>,
    /// Its gateway endpoints' services: an address ip-ranges gives that code and region
    /// stands in for prefix-list entries that are missing or stale.
    pub(super) gateway_services: Vec<GatewayService>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct GatewayService {
    /// The ip-ranges code (`S3`).
    pub(super) code: String,
    pub(super) region: String,
    /// The endpoint's service (`s3`).
    pub(super) service: Arc<str>,
    /// Whether it carries IPv6 traffic ([`crate::inventory::VpcEndpoint::serves_ipv6`]).
    pub(super) ipv6: bool,
}

impl GatewayService {
    /// Whether ip-ranges' `code` in `region` for address `ip` is this endpoint's.
    pub(super) fn serves(&self, code: &str, region: &str, ip: std::net::IpAddr) -> bool {
        self.code == code && self.region == region && (ip.is_ipv4() || self.ipv6)
    }
}

/// `com.amazonaws.<region>.<service>` → (region, service), the service possibly dotted
/// (`sagemaker.api`).
pub(super) fn split_service_name_dotted(name: &str) -> Option<(&str, &str)> {
    name.strip_prefix("com.amazonaws.")?.split_once('.')
}

pub(super) fn split_service_name(name: &str) -> Option<(&str, &str)> {
    split_service_name_dotted(name).filter(|(_, service)| !service.contains('.'))
}

impl EniEntry {
    /// Whether at `t` no flow log recorded this ENI's accepted traffic.
    pub(super) fn unlogged_at(&self, t: Option<i64>) -> bool {
        match (self.logged_from, t) {
            (None, _) => true,
            (Some(from), Some(t)) => t < from,
            (Some(_), None) => false,
        }
    }
}

impl Enricher {
    pub fn new(inventory: Arc<Inventory>) -> Self {
        let inv = &inventory;
        let attributor = Attributor::new(inv);
        let has_flow_logs = !inv.flow_logs.is_empty();
        let logged_from = |eni: &crate::inventory::Eni| {
            if !has_flow_logs {
                return Some(i64::MIN);
            }
            inv.accepted_logged_from(eni)
        };
        let mut enis = foldhash::HashMap::default();
        let mut held = Vec::new();
        for (id, eni) in &inv.enis {
            let why = attributor.attribute_why(eni);
            let attached = attached_once(&why.owner, eni);
            enis.insert(
                id.clone(),
                EniEntry {
                    owner: why.owner,
                    rule: why.rule,
                    document: why.document.map(Arc::from),
                    vpc: eni.vpc_id.clone(),
                    subnet: eni.subnet_id.clone(),
                    addrs: eni.addresses.clone(),
                    logged_from: logged_from(eni),
                    from_trail: false,
                    attached,
                },
            );
            let nets = eni.addresses.iter().map(|a| ipnet::IpNet::from(*a));
            for net in nets.chain(eni.prefixes.iter().copied()) {
                held.push((eni.vpc_id.as_deref(), net, id.as_str()));
            }
        }
        let addr_owner = AddrOwners::new(held);
        // ENIs other documents name but describe-network-interfaces did not list: their
        // records are still attributed, from what those documents say.
        let mut named = |id: &str,
                         eni: crate::inventory::Eni,
                         owner: Owner,
                         rule: &'static str,
                         document: Item| {
            if !enis.contains_key(id) {
                enis.insert(
                    id.to_string(),
                    EniEntry {
                        owner,
                        rule,
                        document: inv.document(document).map(Arc::from),
                        logged_from: logged_from(&eni),
                        vpc: eni.vpc_id,
                        subnet: eni.subnet_id,
                        addrs: eni.addresses,
                        from_trail: false,
                        attached: None,
                    },
                );
            }
        };
        for nb in &inv.notebooks {
            if let Some(id) = &nb.eni_id {
                let eni = crate::inventory::Eni {
                    id: id.clone(),
                    subnet_id: nb.subnet_id.clone(),
                    ..Default::default()
                };
                let owner = Owner::SageMaker(Resource {
                    rtype: attribution::NOTEBOOK_INSTANCE,
                    name: Some(nb.name.clone()),
                    user_profile: None,
                });
                named(
                    id,
                    eni,
                    owner,
                    attribution::NOTEBOOK_ENI,
                    Item::Notebook(&nb.key()),
                );
            }
        }
        // An ENI as the endpoint or NAT gateway that lists it describes it.
        let listed = |id: &String, vpc: &str| crate::inventory::Eni {
            id: id.clone(),
            vpc_id: Some(vpc.to_string()).filter(|v| !v.is_empty()),
            ..Default::default()
        };
        for ep in &inv.vpc_endpoints {
            for id in &ep.eni_ids {
                let (rule, item) = (attribution::VPC_ENDPOINT_ENI, Item::VpcEndpoint(&ep.id));
                named(
                    id,
                    listed(id, &ep.vpc_id),
                    Owner::Kind("vpc_endpoint"),
                    rule,
                    item,
                );
            }
        }
        for nat in &inv.nat_gateways {
            for (i, id) in nat.eni_ids.iter().enumerate() {
                let eni = crate::inventory::Eni {
                    subnet_id: nat.subnet_id.clone(),
                    addresses: nat.private_ips.get(i).copied().into_iter().collect(),
                    ..listed(id, &nat.vpc_id)
                };
                let (rule, item) = (attribution::NAT_GATEWAY_ENI, Item::NatGateway(&nat.id));
                named(id, eni, Owner::Kind(attribution::NAT_GATEWAY), rule, item);
            }
        }
        // A regional NAT gateway's records have no ENI: its id is their `resource-id`.
        let nat_gateways = inv
            .nat_gateways
            .iter()
            .map(|nat| {
                let entry = EniEntry {
                    owner: Owner::Kind(attribution::NAT_GATEWAY),
                    rule: attribution::NAT_GATEWAY_ID,
                    document: inv.document(Item::NatGateway(&nat.id)).map(Arc::from),
                    vpc: Some(nat.vpc_id.clone()).filter(|v| !v.is_empty()),
                    subnet: nat.subnet_id.clone(),
                    addrs: nat.private_ips.clone(),
                    logged_from: Some(i64::MIN),
                    from_trail: false,
                    attached: None,
                };
                (nat.id.clone(), entry)
            })
            .collect();
        // CloudTrail's ENIs: the deleted ones are attributed by the same rules as listed
        // ones, from the ENI as it was created (its creation stands in for the attach
        // time, so VpcConfig correlation takes the workload running then); every
        // lifetime says who held its addresses when.
        let mut history: foldhash::HashMap<String, Vec<super::Lived<EniEntry>>> =
            foldhash::HashMap::default();
        let mut addr_history: foldhash::HashMap<IpAddr, Vec<super::Lived<Holder>>> =
            foldhash::HashMap::default();
        for l in &inv.lifetimes {
            let holder = Holder {
                eni: Arc::from(l.eni.id.as_str()),
                vpc: l.eni.vpc_id.as_deref().map(Arc::from),
            };
            for a in &l.eni.addresses {
                addr_history.entry(*a).or_default().push(super::Lived {
                    created: l.created,
                    deleted: l.deleted,
                    value: holder.clone(),
                });
            }
            if enis.contains_key(&l.eni.id) {
                continue;
            }
            let why = attributor.attribute_why(&l.eni);
            history
                .entry(l.eni.id.clone())
                .or_default()
                .push(super::Lived {
                    created: l.created,
                    deleted: l.deleted,
                    value: EniEntry {
                        owner: why.owner,
                        rule: why.rule,
                        document: Some(Arc::from(l.source.as_str())),
                        vpc: l.eni.vpc_id.clone(),
                        subnet: l.eni.subnet_id.clone(),
                        addrs: l.eni.addresses.clone(),
                        logged_from: logged_from(&l.eni),
                        from_trail: true,
                        attached: None,
                    },
                });
        }
        let mut by_subnet = foldhash::HashMap::default();
        let mut by_subnet_on_instances = foldhash::HashMap::default();
        for subnet in attributor.subnets() {
            if let Some(m) = attributor.in_subnet(subnet) {
                by_subnet.insert(subnet.to_string(), m);
            }
            if let Some(m) = attributor.in_subnet_on_instances(subnet) {
                by_subnet_on_instances.insert(subnet.to_string(), m);
            }
        }

        let mut vpcs: foldhash::HashMap<String, VpcIndex> = foldhash::HashMap::default();
        let mut any_vpc = VpcIndex::default();
        let add_inside = |vpcs: &mut foldhash::HashMap<String, VpcIndex>,
                          any: &mut VpcIndex,
                          vpc: &str,
                          net: ipnet::IpNet| {
            vpcs.entry(vpc.to_string())
                .or_default()
                .inside
                .insert(net, (), 0);
            any.inside.insert(net, (), 0);
        };
        let mut cidr_vpcs: HashMap<ipnet::IpNet, Vec<&str>> = HashMap::new();
        for v in &inv.vpcs {
            for c in &v.former {
                vpcs.entry(v.id.clone())
                    .or_default()
                    .former
                    .insert(*c, (), 0);
            }
            for c in &v.cidrs {
                add_inside(&mut vpcs, &mut any_vpc, &v.id, *c);
                let list = cidr_vpcs.entry(*c).or_default();
                if !list.contains(&v.id.as_str()) {
                    list.push(&v.id);
                }
            }
        }
        let mut vpc_of = PrefixMap::new();
        for (net, ids) in cidr_vpcs {
            let v = match ids.as_slice() {
                [one] => Some(Arc::from(*one)),
                _ => None,
            };
            vpc_of.insert(net, v, 0);
        }
        vpc_of.build();
        for eni in inv.enis.values() {
            if let Some(v) = &eni.vpc_id {
                for a in &eni.addresses {
                    add_inside(&mut vpcs, &mut any_vpc, v, ipnet::IpNet::from(*a));
                }
            }
        }
        let mut endpoint_addrs: foldhash::HashMap<IpAddr, Option<EndpointAddr>> =
            foldhash::HashMap::default();
        let mut gateway_endpoints = HashMap::new();
        let mut gateway_tables: HashMap<String, Vec<Arc<str>>> = HashMap::new();
        for ep in &inv.vpc_endpoints {
            match ep.endpoint_type {
                EndpointType::Interface | EndpointType::Other => {
                    let service: Arc<str> = Arc::from(ep.service_name.as_str());
                    let vpc: Arc<str> = Arc::from(ep.vpc_id.as_str());
                    let ep_id: Arc<str> = Arc::from(ep.id.as_str());
                    for id in &ep.eni_ids {
                        for a in inv
                            .enis
                            .get(id)
                            .map(|e| e.addresses.as_slice())
                            .unwrap_or(&[])
                        {
                            let net = ipnet::IpNet::from(*a);
                            let s = Special::InterfaceEndpoint {
                                id: ep_id.clone(),
                                service: service.clone(),
                                vpc: vpc.clone(),
                            };
                            vpcs.entry(ep.vpc_id.clone()).or_default().special.insert(
                                net,
                                s.clone(),
                                1,
                            );
                            any_vpc.special.insert(net, s, 1);
                            let this = EndpointAddr {
                                id: ep_id.clone(),
                                service: service.clone(),
                                vpc: vpc.clone(),
                            };
                            endpoint_addrs
                                .entry(*a)
                                .and_modify(|known| {
                                    if known.as_ref().is_some_and(|k| k.vpc != this.vpc) {
                                        *known = None;
                                    }
                                })
                                .or_insert(Some(this));
                        }
                    }
                }
                EndpointType::Gateway => {
                    let (region, short) = split_service_name(&ep.service_name)
                        .unwrap_or(("", ep.service_name.as_str()));
                    let short: Arc<str> = Arc::from(short);
                    gateway_endpoints.insert(ep.id.clone(), short.clone());
                    for rt in &ep.route_table_ids {
                        gateway_tables
                            .entry(rt.clone())
                            .or_default()
                            .push(short.clone());
                    }
                    let index = vpcs.entry(ep.vpc_id.clone()).or_default();
                    let entry = GatewayService {
                        code: short.to_ascii_uppercase(),
                        region: region.to_string(),
                        service: short.clone(),
                        ipv6: ep.serves_ipv6(),
                    };
                    if !index.gateway_services.contains(&entry) {
                        index.gateway_services.push(entry.clone());
                        any_vpc.gateway_services.push(entry);
                    }
                    // The endpoint's prefix lists: same name, or routed to this endpoint.
                    // Several endpoints of one service (one per route table) share the
                    // list; it is entered once, and the route table decides per subnet.
                    let mut lists: Vec<&str> = inv
                        .prefix_lists
                        .values()
                        .filter(|p| p.name == ep.service_name)
                        .map(|p| p.id.as_str())
                        .collect();
                    for rt in &inv.route_tables {
                        for r in &rt.routes {
                            if let RouteDestination::PrefixList(pl) = &r.destination
                                && r.target == ep.id
                            {
                                lists.push(pl.as_str());
                            }
                        }
                    }
                    lists.sort_unstable();
                    lists.dedup();
                    for pl in lists {
                        let Some(list) = inv.prefix_lists.get(pl) else {
                            continue;
                        };
                        let index = vpcs.entry(ep.vpc_id.clone()).or_default();
                        for c in &list.cidrs {
                            let g = Gateway {
                                service: short.clone(),
                                list: Arc::from(pl),
                            };
                            index.gateways.insert(*c, g.clone(), 0);
                            any_vpc.gateways.insert(*c, g, 0);
                        }
                    }
                }
            }
        }
        for nat in &inv.nat_gateways {
            let vpc: Arc<str> = Arc::from(nat.vpc_id.as_str());
            let id: Arc<str> = Arc::from(nat.id.as_str());
            for a in &nat.private_ips {
                let net = ipnet::IpNet::from(*a);
                let s = Special::NatGateway {
                    id: id.clone(),
                    vpc: vpc.clone(),
                };
                vpcs.entry(nat.vpc_id.clone())
                    .or_default()
                    .special
                    .insert(net, s.clone(), 0);
                any_vpc.special.insert(net, s, 0);
            }
        }
        for v in vpcs.values_mut() {
            v.inside.build();
            v.former.build();
            v.special.build();
            v.gateways.build();
        }
        any_vpc.inside.build();
        any_vpc.special.build();
        any_vpc.gateways.build();

        let mut subnet_routes = HashMap::new();
        let mut main_routes = HashMap::new();
        for (i, rt) in inv.route_tables.iter().enumerate() {
            for s in &rt.subnet_ids {
                subnet_routes.insert(s.clone(), i);
            }
            if rt.main {
                main_routes.insert(rt.vpc_id.clone(), i);
            }
        }

        let mut private = PrefixMap::new();
        for net in [
            "10.0.0.0/8",
            "172.16.0.0/12",
            "192.168.0.0/16",
            "100.64.0.0/10",
            "fc00::/7",
        ] {
            private.insert(net.parse().expect("valid CIDR"), (), 0);
        }
        private.build();
        let mut local_scope = PrefixMap::new();
        for (net, what, why) in LOCAL_SCOPE {
            local_scope.insert(net.parse().expect("valid CIDR"), (*what, *why), 0);
        }
        local_scope.build();
        drop(attributor);
        let endpoint_names = super::dns::EndpointNames::new(inv);

        Enricher {
            inventory,
            enis,
            nat_gateways,
            by_subnet,
            by_subnet_on_instances,
            addr_owner,
            history,
            addr_history,
            dns: None,
            endpoint_names,
            vpcs,
            any_vpc,
            endpoint_addrs,
            vpc_of,
            gateway_endpoints,
            gateway_tables,
            subnet_routes,
            main_routes,
            private,
            local_scope,
        }
    }
}
