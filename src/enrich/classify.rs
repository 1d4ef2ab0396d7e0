//! One record's enrichment: who owns its ENI, which side is local, what kind of place
//! the remote address is (same VPC, interface or gateway endpoint, NAT gateway, AWS
//! service range, internet) and whether that makes accepted traffic leave the VPC or
//! bypass an endpoint.

use std::net::IpAddr;

use super::attribution::{self, ResourceRef};
use super::index::{Special, split_service_name};
use super::{CUSTOMER_ADDRESS_CODES, Enricher, OwnerAt};
use crate::inventory::RouteDestination;

impl Enricher {
    pub(super) fn enrich_record<'a>(&'a self, r: &Record<'a>, owner: OwnerAt<'a>) -> Enriched<'a> {
        let mut e = Enriched {
            owner_kind: owner.kind(),
            ..Default::default()
        };
        let entry = match owner {
            OwnerAt::Entry(x) | OwnerAt::Resource(x) => {
                e.resource = x.owner.resource_ref(r.start, r.end);
                e.attribution = Some(match owner {
                    OwnerAt::Resource(_) => "resource_id",
                    _ if x.from_trail => "eni_history",
                    _ => "eni",
                });
                e.rule = Some(x.rule);
                e.document = x.document.as_deref();
                Some(x)
            }
            OwnerAt::Fitted(res) => {
                e.resource = Some(res);
                e.attribution = Some(super::BY_RECORD);
                e.rule = Some(attribution::VPC_CONFIG);
                None
            }
            OwnerAt::Unknown => None,
        };
        let vpc = r.vpc.or_else(|| entry.and_then(|x| x.vpc.as_deref()));
        let subnet = r.subnet.or_else(|| entry.and_then(|x| x.subnet.as_deref()));
        e.vpc = vpc;
        let orig_src = r.pkt_src.or(r.src);
        let orig_dst = r.pkt_dst.or(r.dst);

        // A NAT gateway's legs belong to the workload whose address is in the packet.
        if e.owner_kind == attribution::NAT_GATEWAY {
            for (addr, other, dir) in [
                (orig_src, orig_dst, "egress"),
                (orig_dst, orig_src, "ingress"),
            ] {
                let Some(ip) = addr.and_then(|a| a.parse::<IpAddr>().ok()) else {
                    continue;
                };
                let Some(w) = self.addr_owner_at(ip, vpc, r.start, r.end) else {
                    continue;
                };
                if w.owner.kind() == attribution::SAGEMAKER && w.owner.present_at(r.start, r.end) {
                    e.resource = w.owner.resource_ref(r.start, r.end);
                    e.attribution = Some("packet_address");
                    e.rule = Some(w.rule);
                    e.document = w.document.as_deref();
                    e.direction = Some(dir);
                    e.local = addr;
                    e.remote = other;
                    let svc = if dir == "egress" {
                        r.dst_service
                    } else {
                        r.src_service
                    };
                    self.classify(&mut e, vpc, w.subnet.as_deref(), r, svc);
                    e.initiator = initiator(r, dir);
                    // One connection is flagged once, on the workload's own record; when
                    // no flow log records the workload's ENI, these legs are all there is.
                    if w.unlogged_at(r.start) {
                        e.set_flags(r.action);
                    }
                    return e;
                }
            }
        }

        let own = entry.map(|x| x.addrs.as_slice());
        let is_own = |a: Option<&str>| {
            a.and_then(|a| a.parse::<IpAddr>().ok())
                .is_some_and(|ip| own.is_some_and(|v| v.contains(&ip)))
        };
        // Without `flow-direction`, and with neither side an address the inventory lists
        // for the ENI (an ENI fitted by its record's subnet and time, one known only by its
        // id, an address of a delegated prefix or assigned since), the ENI's side is the
        // one inside its VPC, when only one is: traffic with both sides inside stays in the
        // VPC whichever way it went.
        let inside = |a: Option<&str>| {
            let index = vpc.and_then(|v| self.vpcs.get(v));
            a.and_then(|a| a.parse::<IpAddr>().ok())
                .is_some_and(|ip| index.is_some_and(|x| x.inside.lookup(ip).is_some()))
        };
        let direction = match r.direction {
            Some("egress") => Some("egress"),
            Some("ingress") => Some("ingress"),
            _ if is_own(r.src) || is_own(r.pkt_src) => Some("egress"),
            _ if is_own(r.dst) || is_own(r.pkt_dst) => Some("ingress"),
            _ => match (inside(r.src), inside(r.dst)) {
                (true, false) => Some("egress"),
                (false, true) => Some("ingress"),
                _ => None,
            },
        };
        e.direction = direction;
        let (local, remote, svc) = match direction {
            Some("ingress") => (orig_dst, orig_src, r.src_service),
            _ => (orig_src, orig_dst, r.dst_service),
        };
        e.local = local;
        e.remote = remote;
        if let Some(dir) = direction {
            self.classify(&mut e, vpc, subnet, r, svc);
            e.initiator = initiator(r, dir);
        }
        if e.owner_kind == attribution::SAGEMAKER {
            e.set_flags(r.action);
        }
        e
    }

    /// Sets `remote_kind`, `remote_service` and `remote_vpc` from the remote address.
    fn classify<'a>(
        &'a self,
        e: &mut Enriched<'a>,
        vpc: Option<&'a str>,
        subnet: Option<&str>,
        r: &Record<'_>,
        record_service: Option<&'a str>,
    ) {
        let traffic_path = r.traffic_path;
        let Some(ip) = e.remote.and_then(|a| a.parse::<IpAddr>().ok()) else {
            return;
        };
        if let Some(v4) = nat64(ip) {
            self.classify_nat64(e, v4, record_service);
            return;
        }
        let index = vpc.and_then(|v| self.vpcs.get(v)).unwrap_or(&self.any_vpc);
        if let Some(sp) = index.special.lookup(ip) {
            match sp {
                Special::InterfaceEndpoint { id, service, vpc } => {
                    e.remote_kind = Some("interface_endpoint");
                    e.remote_service = Some(service);
                    e.remote_vpc = Some(vpc);
                    e.remote_evidence = Evidence::Endpoint(id);
                }
                Special::NatGateway { id, vpc } => {
                    e.remote_kind = Some("nat_gateway");
                    e.remote_vpc = Some(vpc);
                    e.remote_evidence = Evidence::Nat(id);
                }
            }
            return;
        }
        if let Some((net, ())) = index.inside.lookup_prefix(ip) {
            e.remote_kind = Some("same_vpc");
            e.remote_vpc = vpc.or_else(|| self.vpc_of(ip));
            e.remote_evidence = Evidence::Vpc(net);
            return;
        }
        // Link-local, the instance's own services and local broadcast or multicast: no
        // router forwards them, so they never leave the VPC (no route table applies).
        if let Some((net, what)) = self.local_scope.lookup_prefix(ip) {
            e.remote_kind = Some("same_vpc");
            e.remote_vpc = vpc;
            e.remote_evidence = Evidence::LocalScope(net, *what);
            return;
        }
        // A centralised interface endpoint in another VPC (shared services over a transit
        // gateway or peering), when exactly one endpoint has the address.
        if let Some(Some(ep)) = self.endpoint_addrs.get(&ip) {
            e.remote_kind = Some("interface_endpoint");
            e.remote_service = Some(&ep.service);
            e.remote_vpc = Some(&ep.vpc);
            e.remote_evidence = Evidence::Endpoint(&ep.id);
            return;
        }
        // Another VPC of the inventory, reached over peering or a transit gateway: its
        // IPv6 block is in ip-ranges' EC2 space and its IPv4 CIDR need not be RFC 1918
        // (198.19.0.0/16, …), but it is no internet host — unless it was reached over the
        // internet, as a VPC no route joins is.
        if let Some((net, v)) = self.vpc_of.lookup_prefix(ip)
            && self.reached_privately(ip, vpc, subnet, traffic_path)
        {
            e.remote_kind = Some("private_other");
            e.remote_vpc = v.as_deref();
            e.remote_evidence = Evidence::OtherVpc(net);
            return;
        }
        // A private CIDR the VPC had: the address may have been inside it when the record
        // was made, or elsewhere since; which, describe-vpcs does not say. (A public one,
        // an Amazon IPv6 block, is the internet's once released.)
        if let Some((net, ())) = index.former.lookup_prefix(ip)
            && self.private.lookup(ip).is_some()
        {
            e.remote_kind = Some("private_other");
            e.remote_vpc = vpc;
            e.remote_evidence = Evidence::FormerCidr(net);
            return;
        }
        let listed = self.inventory.ip_ranges.entry(ip);
        let in_ranges = match listed {
            Some(l) => Evidence::IpRanges(l.prefix, l.service),
            None => Evidence::Unlisted,
        };
        let gateway = match index.gateways.lookup(ip) {
            Some(g) => Some((&g.service, Evidence::PrefixList(&g.list))),
            // Prefix-list entries missing or stale: ip-ranges says the address is the
            // gateway endpoint's service in its region.
            None => listed.and_then(|l| {
                index
                    .gateway_services
                    .iter()
                    .find(|g| g.serves(l.service, l.region, ip))
                    .map(|g| (&g.service, in_ranges))
            }),
        };
        // Why the VPC's gateway endpoint of the address's service did not carry it: a
        // bypass of it is only actionable with the reason (the bucket's region, a route).
        let mut missed = None;
        match gateway {
            Some((service, why)) => {
                match self.gateway_miss(service, r.end.or(r.start), vpc, subnet, traffic_path) {
                    None => {
                        e.remote_kind = Some("gateway_endpoint");
                        e.remote_service = Some(service);
                        e.remote_evidence = why;
                        return;
                    }
                    Some(miss) => missed = Some((&**service, miss)),
                }
            }
            None => {
                let of_code = |l: &crate::inventory::ranges::Entry<'_>, same_region: bool| {
                    index
                        .gateway_services
                        .iter()
                        .find(|g| g.code == l.service && (!same_region || g.region == l.region))
                };
                if let Some(l) = listed
                    && let Some(g) = of_code(&l, true).or_else(|| of_code(&l, false))
                {
                    let miss = if g.region != l.region {
                        GatewayMiss::Region(l.region, &g.region)
                    } else {
                        GatewayMiss::Ipv6
                    };
                    missed = Some((&*g.service, miss));
                }
            }
        }
        let record_service = specific(record_service, listed);
        let service = record_service.or(listed.map(|l| l.service));
        e.remote_evidence = match (record_service, missed, listed) {
            (Some(s), Some((gw, miss)), _) => {
                Evidence::NotThroughGateway(Seen::RecordService(s), gw, miss)
            }
            (None, Some((gw, miss)), Some(l)) => {
                Evidence::NotThroughGateway(Seen::IpRanges(l.prefix, l.service), gw, miss)
            }
            (Some(s), None, _) => Evidence::RecordService(s),
            (None, _, _) => in_ranges,
        };
        // traffic-path 7 says the packet went through a gateway endpoint, whatever the
        // inventory's prefix lists say.
        if traffic_path == Some(7) {
            e.remote_evidence = Evidence::TrafficPath7;
            e.remote_kind = Some("gateway_endpoint");
            e.remote_service = match service {
                Some("S3") => Some("s3"),
                Some("DYNAMODB") => Some("dynamodb"),
                _ => match index.gateway_services.as_slice() {
                    [only] => Some(&only.service),
                    _ => None,
                },
            };
            return;
        }
        if let Some(svc) = service {
            e.remote_service = Some(svc);
            e.remote_kind = Some(service_kind(svc));
            return;
        }
        if let Some((net, ())) = self.private.lookup_prefix(ip) {
            e.remote_kind = Some("private_other");
            e.remote_vpc = self.vpc_of(ip);
            // The record's own traffic-path says which way it went, where it has one.
            e.remote_evidence = match (private_path(traffic_path), self.route_to(ip, vpc, subnet)) {
                (Some(path), _) => Evidence::PrivatePath(net, path),
                (None, Some((table, target))) => Evidence::PrivateRouted(net, target, table),
                (None, None) => Evidence::Private(net),
            };
        } else {
            e.remote_kind = Some("internet");
            e.remote_evidence = Evidence::Unlisted;
        }
    }

    /// A NAT64 address (`64:ff9b::/96`, RFC 6052): the packet goes to a NAT gateway, which
    /// sends it on to the IPv4 address in its last 32 bits; that address is the remote.
    /// The gateway endpoints' routes are IPv4 prefix lists, so none carries it.
    fn classify_nat64<'a>(
        &'a self,
        e: &mut Enriched<'a>,
        v4: std::net::Ipv4Addr,
        record_service: Option<&'a str>,
    ) {
        let ip = IpAddr::V4(v4);
        let listed = self.inventory.ip_ranges.entry(ip);
        let record_service = specific(record_service, listed);
        let (kind, behind) = match (record_service.or(listed.map(|l| l.service)), listed) {
            (Some(svc), _) => {
                e.remote_service = Some(svc);
                let behind = match (record_service, listed) {
                    (Some(s), _) => Nat64Behind::RecordService(s),
                    (None, Some(l)) => Nat64Behind::IpRanges(l.prefix, l.service),
                    (None, None) => Nat64Behind::Unlisted,
                };
                (service_kind(svc), behind)
            }
            (None, _) => match self.private.lookup_prefix(ip) {
                Some((net, ())) => {
                    e.remote_vpc = self.vpc_of(ip);
                    ("private_other", Nat64Behind::Private(net))
                }
                None => ("internet", Nat64Behind::Unlisted),
            },
        };
        e.remote_kind = Some(kind);
        e.remote_evidence = Evidence::Nat64(v4, behind);
    }

    /// Whether an address outside the VPC was reached over a private path (peering, a
    /// transit gateway, a VPN) rather than the internet: `traffic-path` where the record
    /// has it, else the route the subnet's table has for it, else whether it is private.
    fn reached_privately(
        &self,
        ip: IpAddr,
        vpc: Option<&str>,
        subnet: Option<&str>,
        traffic_path: Option<i32>,
    ) -> bool {
        match traffic_path {
            Some(2 | 8) => return false,
            Some(3..=6) => return true,
            _ => {}
        }
        match self.route_to(ip, vpc, subnet) {
            Some((_, target)) => !["igw-", "eigw-", "nat-"]
                .iter()
                .any(|p| target.starts_with(p)),
            None => self.private.lookup(ip).is_some(),
        }
    }

    /// The route of the subnet's table (else the VPC's main table) that takes `ip` out of
    /// the VPC — a transit gateway, a peering, a VPN gateway — as (table, target): where a
    /// private address outside the VPC is (a centralised endpoint the inventory lacks is
    /// often behind a transit gateway).
    fn route_to(
        &self,
        ip: IpAddr,
        vpc: Option<&str>,
        subnet: Option<&str>,
    ) -> Option<(&str, &str)> {
        let table = subnet
            .and_then(|s| self.subnet_routes.get(s))
            .or_else(|| vpc.and_then(|v| self.main_routes.get(v)))?;
        let rt = &self.inventory.route_tables[*table];
        rt.routes
            .iter()
            .filter_map(|r| match &r.destination {
                RouteDestination::Cidr(net) if net.contains(&ip) && r.target != "local" => {
                    Some((net.prefix_len(), r.target.as_str()))
                }
                _ => None,
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, target)| (rt.id.as_str(), target))
    }

    /// Whether a host on the internet can open a connection to `eni`: it has a public
    /// IPv4 address (`Association.PublicIp`), or an IPv6 address in a subnet whose route
    /// for the IPv6 internet is an internet gateway (an egress-only one lets only replies
    /// in). A private IPv4 address behind a NAT gateway takes no unsolicited connection.
    /// Without route tables in the inventory an IPv6 address counts as reachable.
    pub fn reachable_from_internet(&self, eni: &crate::inventory::Eni) -> bool {
        if eni.public_ip.is_some() {
            return true;
        }
        let v6 = eni.addresses.iter().any(IpAddr::is_ipv6)
            || eni
                .prefixes
                .iter()
                .any(|p| matches!(p, ipnet::IpNet::V6(_)));
        if !v6 {
            return false;
        }
        let internet = IpAddr::V6(std::net::Ipv6Addr::new(0x2600, 0, 0, 0, 0, 0, 0, 1));
        match self.route_to(internet, eni.vpc_id.as_deref(), eni.subnet_id.as_deref()) {
            Some((_, target)) => target.starts_with("igw-"),
            None => self.inventory.route_tables.is_empty(),
        }
    }

    fn vpc_of(&self, ip: IpAddr) -> Option<&str> {
        self.vpc_of.lookup(ip).and_then(|v| v.as_deref())
    }

    /// Whether traffic to a gateway endpoint's service really used it (`None`), and if
    /// not, why: traffic-path 7 says it did, 8 (internet gateway) says no; absent or 2 is
    /// ambiguous, and then the route table of the subnet decides when the inventory has
    /// route tables (else the endpoint is assumed): it must route a prefix list to a
    /// gateway endpoint of that service, created before the record ended at `end` (the
    /// route tables are the inventory's, of now). With one endpoint per route table, each
    /// subnet's own table names its endpoint; without tables, the VPC's first endpoint of
    /// the service (`index`) is the one.
    fn gateway_miss(
        &self,
        service: &str,
        end: Option<i64>,
        vpc: Option<&str>,
        subnet: Option<&str>,
        traffic_path: Option<i32>,
    ) -> Option<GatewayMiss<'_>> {
        match traffic_path {
            Some(7) => return None,
            Some(2) | None => {}
            Some(path) => return Some(GatewayMiss::TrafficPath(path)),
        }
        let inv = &self.inventory;
        // A gateway endpoint of the service.
        let of_service = |ep: &crate::inventory::VpcEndpoint| {
            ep.endpoint_type == crate::inventory::EndpointType::Gateway
                && split_service_name(&ep.service_name).map_or(ep.service_name.as_str(), |(_, s)| s)
                    == service
        };
        let table = subnet
            .and_then(|s| self.subnet_routes.get(s))
            .or_else(|| vpc.and_then(|v| self.main_routes.get(v)));
        let (Some(&t), false) = (table, inv.route_tables.is_empty()) else {
            // No table: nothing contradicts the endpoint but its creation, the first of
            // the VPC's (of any VPC, for a record of a VPC the inventory lacks).
            let vpc = vpc.filter(|v| self.vpcs.contains_key(*v));
            let created = created_after(
                inv.vpc_endpoints
                    .iter()
                    .filter(|ep| of_service(ep) && vpc.is_none_or(|v| ep.vpc_id == v)),
                end,
            );
            return created.map(GatewayMiss::NotYet);
        };
        let rt = &inv.route_tables[t];
        let routed = rt.routes.iter().find_map(|r| {
            let RouteDestination::PrefixList(pl) = &r.destination else {
                return None;
            };
            let serves = match self.gateway_endpoints.get(&r.target) {
                Some(s) => s.as_ref() == service,
                // A route to an endpoint describe-vpc-endpoints did not list: its
                // prefix list's name says the service.
                None => {
                    r.target.starts_with("vpce-")
                        && inv.prefix_lists.get(pl).is_some_and(|p| {
                            split_service_name(&p.name).is_some_and(|(_, s)| s == service)
                        })
                }
            };
            serves.then_some(r.target.as_str())
        });
        let associated = self
            .gateway_tables
            .get(&rt.id)
            .is_some_and(|s| s.iter().any(|x| x.as_ref() == service));
        if routed.is_none() && !associated {
            return Some(GatewayMiss::NoRoute(&rt.id));
        }
        // The endpoint this table routes to, or the first of those associated with it
        // whose creation is known.
        let created = created_after(
            inv.vpc_endpoints.iter().filter(|ep| {
                of_service(ep)
                    && ep.created.is_some()
                    && match routed {
                        Some(id) => ep.id == id,
                        None => ep.route_table_ids.contains(&rt.id),
                    }
            }),
            end,
        );
        created.map(GatewayMiss::NotYet)
    }
}

/// When the first of `endpoints` was created, if after a record that ended at `end` (with
/// the clock slack between services); unknown when one's creation is.
fn created_after<'e>(
    endpoints: impl Iterator<Item = &'e crate::inventory::VpcEndpoint>,
    end: Option<i64>,
) -> Option<i64> {
    let created = endpoints.map(|ep| ep.created).min()??;
    (end? + super::attribution::CLOCK_SLACK < created).then_some(created)
}

/// `remote_kind` of an address of service `svc`: the internet for the codes of address
/// space that serves customers, else an AWS service.
fn service_kind(svc: &str) -> &'static str {
    if CUSTOMER_ADDRESS_CODES.contains(&svc) {
        "internet"
    } else {
        "aws_service"
    }
}

/// The record's `pkt-*-aws-service`, unless it is the generic AMAZON and ip-ranges has a
/// more specific code (a CloudFront edge's records say AMAZON).
fn specific<'a>(
    record: Option<&'a str>,
    listed: Option<crate::inventory::ranges::Entry<'_>>,
) -> Option<&'a str> {
    record.filter(|&s| s != "AMAZON" || listed.is_none_or(|l| l.service == "AMAZON"))
}

/// The IPv4 address a NAT64 address (the well-known prefix `64:ff9b::/96`) stands for.
fn nat64(ip: IpAddr) -> Option<std::net::Ipv4Addr> {
    let IpAddr::V6(v6) = ip else { return None };
    let s = v6.segments();
    (s[..6] == [0x64, 0xff9b, 0, 0, 0, 0])
        .then(|| std::net::Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32))
}

/// The private path a record's `traffic-path` names (3–6), in words.
fn private_path(traffic_path: Option<i32>) -> Option<&'static str> {
    Some(match traffic_path? {
        3 => "traffic-path 3 (a virtual private gateway)",
        4 => "traffic-path 4 (an intra-region VPC peering)",
        5 => "traffic-path 5 (an inter-region VPC peering)",
        6 => "traffic-path 6 (a local gateway)",
        _ => return None,
    })
}

/// Which side opened a TCP connection, from one record's flags: a SYN without ACK is sent
/// by the side that opens it, a SYN-ACK by the side that answers. The sender is the
/// workload on egress and the remote on ingress.
pub(super) fn initiator(r: &Record, direction: &str) -> Option<&'static str> {
    if r.protocol != Some(6) {
        return None;
    }
    let flags = r.tcp_flags?;
    let local_sent = direction == "egress";
    let local_opened = if flags & 18 == 18 {
        !local_sent
    } else if flags & 2 != 0 {
        local_sent
    } else {
        return None;
    };
    Some(if local_opened { "local" } else { "remote" })
}

/// A record's fields the enrichment reads (its ENI is read before, for [`OwnerAt`]).
pub(super) struct Record<'a> {
    pub(super) src: Option<&'a str>,
    pub(super) dst: Option<&'a str>,
    pub(super) pkt_src: Option<&'a str>,
    pub(super) pkt_dst: Option<&'a str>,
    pub(super) direction: Option<&'a str>,
    pub(super) vpc: Option<&'a str>,
    pub(super) subnet: Option<&'a str>,
    pub(super) action: Option<&'a str>,
    pub(super) src_service: Option<&'a str>,
    pub(super) dst_service: Option<&'a str>,
    pub(super) start: Option<i64>,
    pub(super) end: Option<i64>,
    pub(super) traffic_path: Option<i32>,
    pub(super) protocol: Option<i32>,
    pub(super) tcp_flags: Option<i32>,
}

/// What classified a remote address; made into `remote_evidence` text only when asked.
#[derive(Default, Clone, Copy)]
pub(super) enum Evidence<'a> {
    #[default]
    None,
    Endpoint(&'a str),
    Nat(&'a str),
    Vpc(ipnet::IpNet),
    PrefixList(&'a str),
    TrafficPath7,
    RecordService(&'a str),
    IpRanges(ipnet::IpNet, &'a str),
    Private(ipnet::IpNet),
    /// A private range, and the route (target, table) that takes the address out of the VPC.
    PrivateRouted(ipnet::IpNet, &'a str, &'a str),
    /// A private range, and the private path the record's traffic-path names.
    PrivatePath(ipnet::IpNet, &'static str),
    /// A CIDR of another VPC of the inventory.
    OtherVpc(ipnet::IpNet),
    /// An address no router forwards, what it is and why it stays.
    LocalScope(ipnet::IpNet, (&'static str, &'static str)),
    /// A CIDR the record's VPC no longer has.
    FormerCidr(ipnet::IpNet),
    /// A NAT64 address, and what classified the IPv4 address in it.
    Nat64(std::net::Ipv4Addr, Nat64Behind<'a>),
    /// An address of a service a gateway endpoint of the VPC serves, which that endpoint
    /// did not carry: what said the service, the endpoint's service, and why.
    NotThroughGateway(Seen<'a>, &'a str, GatewayMiss<'a>),
    /// In no VPC, endpoint, ip-ranges prefix or private range the inventory knows.
    Unlisted,
}

/// What named an AWS service's address.
#[derive(Clone, Copy)]
pub(super) enum Seen<'a> {
    RecordService(&'a str),
    IpRanges(ipnet::IpNet, &'a str),
}

/// Why a gateway endpoint did not carry traffic to its service.
#[derive(Clone, Copy)]
pub(super) enum GatewayMiss<'a> {
    /// The record's traffic-path (8: an internet gateway).
    TrafficPath(i32),
    /// The subnet's route table, which routes no prefix list to such an endpoint.
    NoRoute(&'a str),
    /// The address's region and the endpoint's: a gateway endpoint reaches only its own
    /// region's service.
    Region(&'a str, &'a str),
    /// An IPv6 address, which the endpoint (IpAddressType ipv4) does not carry.
    Ipv6,
    /// When the endpoint was created, after the record.
    NotYet(i64),
}

/// What classified the IPv4 address of a NAT64 address.
#[derive(Clone, Copy)]
pub(super) enum Nat64Behind<'a> {
    RecordService(&'a str),
    IpRanges(ipnet::IpNet, &'a str),
    Private(ipnet::IpNet),
    Unlisted,
}

impl Evidence<'_> {
    pub(super) fn write(self, out: &mut String) {
        use std::fmt::Write;
        let _ = match self {
            Evidence::None => Ok(()),
            Evidence::Endpoint(id) => write!(out, "interface endpoint {id}"),
            Evidence::Nat(id) => write!(out, "NAT gateway {id}"),
            Evidence::Vpc(net) => write!(out, "inside the VPC: {net}"),
            Evidence::PrefixList(pl) => write!(out, "gateway endpoint prefix list {pl}"),
            Evidence::TrafficPath7 => write!(out, "traffic-path 7 (through a gateway endpoint)"),
            Evidence::RecordService(s) => write!(out, "pkt-*-aws-service {s}"),
            Evidence::IpRanges(net, code) => write!(out, "ip-ranges.json {net} {code}"),
            Evidence::Private(net) => write!(out, "private range {net}"),
            Evidence::PrivateRouted(net, target, table) => {
                write!(out, "private range {net}, routed to {target} by {table}")
            }
            Evidence::PrivatePath(net, path) => write!(out, "private range {net}, {path}"),
            Evidence::OtherVpc(net) => write!(out, "another VPC of the inventory: {net}"),
            Evidence::LocalScope(net, (what, why)) => {
                write!(out, "{what} {net}, {why}")
            }
            Evidence::FormerCidr(net) => write!(
                out,
                "a CIDR the VPC has had, disassociated since: {net} (inside the VPC if the record is older)"
            ),
            Evidence::Nat64(v4, behind) => {
                let _ = write!(out, "NAT64 64:ff9b::/96 of {v4}: ");
                match behind {
                    Nat64Behind::RecordService(s) => Evidence::RecordService(s),
                    Nat64Behind::IpRanges(net, code) => Evidence::IpRanges(net, code),
                    Nat64Behind::Private(net) => Evidence::Private(net),
                    Nat64Behind::Unlisted => Evidence::Unlisted,
                }
                .write(out);
                Ok(())
            }
            Evidence::NotThroughGateway(seen, gw, miss) => {
                let _ = match seen {
                    Seen::RecordService(s) => write!(out, "pkt-*-aws-service {s}"),
                    Seen::IpRanges(net, code) => write!(out, "ip-ranges.json {net} {code}"),
                };
                let _ = write!(out, "; not through the VPC's {gw} gateway endpoint: ");
                match miss {
                    GatewayMiss::TrafficPath(8) => {
                        write!(out, "traffic-path 8 (through an internet gateway)")
                    }
                    GatewayMiss::TrafficPath(p) => write!(out, "traffic-path {p}"),
                    GatewayMiss::NoRoute(table) => write!(
                        out,
                        "route table {table} of the subnet routes no prefix list to it"
                    ),
                    GatewayMiss::Region(at, serves) => write!(
                        out,
                        "the address is in {at}, and the endpoint reaches {serves} only"
                    ),
                    GatewayMiss::Ipv6 => {
                        write!(out, "an IPv6 address, and the endpoint carries IPv4 only")
                    }
                    GatewayMiss::NotYet(t) => write!(
                        out,
                        "it was created at {}, after the record",
                        crate::format::iso(t)
                    ),
                }
            }
            Evidence::Unlisted => {
                write!(
                    out,
                    "in no VPC, endpoint, ip-ranges.json prefix or private range"
                )
            }
        };
    }
}

#[derive(Default)]
pub(super) struct Enriched<'a> {
    /// The record's VPC, or its ENI's.
    pub(super) vpc: Option<&'a str>,
    pub(super) owner_kind: &'static str,
    pub(super) resource: Option<ResourceRef<'a>>,
    pub(super) attribution: Option<&'static str>,
    pub(super) rule: Option<&'static str>,
    pub(super) document: Option<&'a str>,
    pub(super) remote_evidence: Evidence<'a>,
    pub(super) direction: Option<&'static str>,
    pub(super) local: Option<&'a str>,
    pub(super) remote: Option<&'a str>,
    pub(super) remote_kind: Option<&'static str>,
    pub(super) remote_service: Option<&'a str>,
    pub(super) remote_vpc: Option<&'a str>,
    pub(super) initiator: Option<&'static str>,
    pub(super) leaves_vpc: bool,
    pub(super) endpoint_bypass: bool,
}

impl Enriched<'_> {
    /// The compliance flags of accepted SageMaker traffic, from the remote's kind.
    pub(super) fn set_flags(&mut self, action: Option<&str>) {
        if action != Some("ACCEPT") {
            return;
        }
        self.leaves_vpc = matches!(
            self.remote_kind,
            Some("nat_gateway" | "aws_service" | "private_other" | "internet")
        );
        self.endpoint_bypass =
            self.direction == Some("egress") && self.remote_kind == Some("aws_service");
    }
}
