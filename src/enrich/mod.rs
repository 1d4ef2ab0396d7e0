//! The enrichment stage: each decoded batch gains columns that say which SageMaker
//! workload owns the record's ENI and where its remote address is. They are computed once
//! per batch, at ingest, with prefix maps built once from the inventory, so that the
//! compliance rules are plain SQL over columns and can run on any engine that reads the
//! exported Parquet.

pub mod attribution;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, RecordBatch, StringViewBuilder,
};
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type, Schema};

pub use attribution::{Attributor, Owner, Resource, ResourceRef, VpcMatch};

use crate::error::Result;
use crate::inventory::{EndpointType, Inventory, Item, PrefixMap, RouteDestination};

use crate::format::enrichment::TEXT_COLUMNS;
pub use crate::format::enrichment::{COLUMNS, REMOTE_EVIDENCE, fields};

/// Table columns the enrichment reads.
pub const INPUTS: &[&str] = &[
    "interface_id",
    "srcaddr",
    "dstaddr",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "flow_direction",
    "vpc_id",
    "subnet_id",
    "start",
    "end",
    "action",
    "protocol",
    "tcp_flags",
    "traffic_path",
    "pkt_src_aws_service",
    "pkt_dst_aws_service",
];

/// ip-ranges codes of address space that customers hold (instance public and Elastic IPs,
/// Global Accelerator static addresses), not AWS service endpoints: reaching one is
/// reaching someone's server on the internet, not bypassing a VPC endpoint.
pub const CUSTOMER_ADDRESS_CODES: &[&str] = &["EC2", "GLOBALACCELERATOR"];

#[derive(Debug)]
struct EniEntry {
    owner: Owner,
    /// `attribution_rule` and `attribution_document`.
    rule: &'static str,
    document: Option<Arc<str>>,
    vpc: Option<String>,
    subnet: Option<String>,
    addrs: Vec<IpAddr>,
    /// The inventory lists flow logs and none that records accepted traffic covers this
    /// ENI: its NAT-gateway legs are the only evidence of its traffic.
    unlogged: bool,
}

#[derive(Debug, Clone)]
enum Special {
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
struct EndpointAddr {
    id: Arc<str>,
    service: Arc<str>,
    vpc: Arc<str>,
}

/// A gateway endpoint's service (`s3`, `dynamodb`) for an address in its prefix list.
#[derive(Debug, Clone)]
struct Gateway {
    service: Arc<str>,
    /// The prefix list the address is in.
    list: Arc<str>,
}

#[derive(Debug, Default)]
struct VpcIndex {
    inside: PrefixMap<()>,
    special: PrefixMap<Special>,
    gateways: PrefixMap<Gateway>,
    /// Its gateway endpoints' services as (ip-ranges code, region, service): an address
    /// ip-ranges gives that code and region stands in for prefix-list entries that are
    /// missing or stale.
    gateway_services: Vec<(String, String, Arc<str>)>,
}

/// Everything the per-record work needs, built once from the inventory.
#[derive(Debug)]
pub struct Enricher {
    inventory: Arc<Inventory>,
    /// Per ENI id named by any inventory document: its owner and what classification
    /// needs, in one lookup per record.
    enis: foldhash::HashMap<String, EniEntry>,
    /// Subnet → the workloads whose VpcConfig names it, for records of ENIs the inventory
    /// does not know.
    by_subnet: foldhash::HashMap<String, VpcMatch>,
    /// Address → owning ENI id, for attributing NAT-gateway legs by packet address.
    addr_owner: PrefixMap<Arc<str>>,
    vpcs: foldhash::HashMap<String, VpcIndex>,
    /// Used when a record's VPC is unknown: every VPC merged.
    any_vpc: VpcIndex,
    /// Interface-endpoint ENI addresses of every VPC (centralised endpoints in a shared
    /// VPC): `None` where two endpoints share the address, which then says nothing.
    endpoint_addrs: foldhash::HashMap<IpAddr, Option<EndpointAddr>>,
    /// VPC CIDRs → the VPC (`None` where VPCs overlap).
    vpc_of: PrefixMap<Option<Arc<str>>>,
    /// Gateway endpoint id → its service (`s3`), and route table id → the services of the
    /// gateway endpoints associated with it.
    gateway_endpoints: HashMap<String, Arc<str>>,
    gateway_tables: HashMap<String, Vec<Arc<str>>>,
    /// Route table per subnet, for traffic-path 2 / absent.
    subnet_routes: HashMap<String, usize>,
    main_routes: HashMap<String, usize>,
    private: PrefixMap<()>,
}

/// `com.amazonaws.<region>.<service>` → (region, service).
fn split_service_name(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_prefix("com.amazonaws.")?;
    let (region, service) = rest.split_once('.')?;
    (!service.contains('.')).then_some((region, service))
}

impl Enricher {
    pub fn new(inventory: Arc<Inventory>) -> Self {
        let inv = &inventory;
        let attributor = Attributor::new(inv);
        let has_flow_logs = !inv.flow_logs.is_empty();
        let unlogged = |eni: &crate::inventory::Eni| {
            has_flow_logs
                && !inv
                    .flow_logs
                    .iter()
                    .any(|f| f.logs_accepted() && f.covers(eni))
        };
        let mut enis = foldhash::HashMap::default();
        let mut addr_owner = PrefixMap::new();
        for (id, eni) in &inv.enis {
            let why = attributor.attribute_why(eni);
            enis.insert(
                id.clone(),
                EniEntry {
                    owner: why.owner,
                    rule: why.rule,
                    document: why.document.map(Arc::from),
                    vpc: eni.vpc_id.clone(),
                    subnet: eni.subnet_id.clone(),
                    addrs: eni.addresses.clone(),
                    unlogged: unlogged(eni),
                },
            );
            let owner: Arc<str> = Arc::from(id.as_str());
            for a in &eni.addresses {
                addr_owner.insert(ipnet::IpNet::from(*a), owner.clone(), 0);
            }
            for p in &eni.prefixes {
                addr_owner.insert(*p, owner.clone(), 0);
            }
        }
        addr_owner.build();
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
                        unlogged: unlogged(&eni),
                        vpc: eni.vpc_id,
                        subnet: eni.subnet_id,
                        addrs: eni.addresses,
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
                    Item::Notebook(&nb.name),
                );
            }
        }
        for ep in &inv.vpc_endpoints {
            for id in &ep.eni_ids {
                let eni = crate::inventory::Eni {
                    id: id.clone(),
                    vpc_id: Some(ep.vpc_id.clone()).filter(|v| !v.is_empty()),
                    ..Default::default()
                };
                named(
                    id,
                    eni,
                    Owner::Kind("vpc_endpoint"),
                    attribution::VPC_ENDPOINT_ENI,
                    Item::VpcEndpoint(&ep.id),
                );
            }
        }
        for nat in &inv.nat_gateways {
            for (i, id) in nat.eni_ids.iter().enumerate() {
                let eni = crate::inventory::Eni {
                    id: id.clone(),
                    vpc_id: Some(nat.vpc_id.clone()).filter(|v| !v.is_empty()),
                    subnet_id: nat.subnet_id.clone(),
                    addresses: nat.private_ips.get(i).copied().into_iter().collect(),
                    ..Default::default()
                };
                named(
                    id,
                    eni,
                    Owner::Kind("nat_gateway"),
                    attribution::NAT_GATEWAY_ENI,
                    Item::NatGateway(&nat.id),
                );
            }
        }
        let mut by_subnet = foldhash::HashMap::default();
        for subnet in attributor.subnets() {
            if let Some(m) = attributor.in_subnet(subnet) {
                by_subnet.insert(subnet.to_string(), m);
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
                    let code = short.to_ascii_uppercase();
                    let entry = (code, region.to_string(), short.clone());
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
            "169.254.0.0/16",
            "fc00::/7",
            "fe80::/10",
        ] {
            private.insert(net.parse().expect("valid CIDR"), (), 0);
        }
        private.build();
        drop(attributor);

        Enricher {
            inventory,
            enis,
            by_subnet,
            addr_owner,
            vpcs,
            any_vpc,
            endpoint_addrs,
            vpc_of,
            gateway_endpoints,
            gateway_tables,
            subnet_routes,
            main_routes,
            private,
        }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The rule that attributed an ENI (`attribution_rule`).
    pub fn attribution_rule(&self, eni: &str) -> Option<&'static str> {
        self.enis.get(eni).map(|e| e.rule)
    }

    /// The inventory file that rule read (`attribution_document`).
    pub fn attribution_document(&self, eni: &str) -> Option<&str> {
        self.enis.get(eni).and_then(|e| e.document.as_deref())
    }

    /// The owner of an ENI id, `None` when no inventory document names it.
    pub fn owner(&self, eni: &str) -> Option<&Owner> {
        self.enis.get(eni).map(|e| &e.owner)
    }

    /// Computes the enrichment columns for `batch`, which must hold the [`INPUTS`]
    /// columns it has (missing ones count as NULL). Returns them in [`COLUMNS`] order;
    /// `remote_evidence` is text made per record, so it is NULL unless `evidence`.
    pub fn enrich(&self, batch: &RecordBatch, evidence: bool) -> Result<Vec<ArrayRef>> {
        let n = batch.num_rows();
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .map(|c| datafusion::arrow::compute::cast(c, &DataType::Utf8View))
                .transpose()
        };
        let (eni_c, src_c, dst_c, psrc_c, pdst_c, dir_c, vpc_c, subnet_c, act_c, ssvc_c, dsvc_c) = (
            text("interface_id")?,
            text("srcaddr")?,
            text("dstaddr")?,
            text("pkt_srcaddr")?,
            text("pkt_dstaddr")?,
            text("flow_direction")?,
            text("vpc_id")?,
            text("subnet_id")?,
            text("action")?,
            text("pkt_src_aws_service")?,
            text("pkt_dst_aws_service")?,
        );
        let int64 = |name: &str| {
            batch
                .column_by_name(name)
                .map(|c| c.as_primitive::<Int64Type>().clone())
        };
        let int32 = |name: &str| {
            batch
                .column_by_name(name)
                .map(|c| c.as_primitive::<Int32Type>().clone())
        };
        let (start_c, end_c) = (int64("start"), int64("end"));
        let (path_c, proto_c, flags_c) =
            (int32("traffic_path"), int32("protocol"), int32("tcp_flags"));

        let mut b: Vec<StringViewBuilder> = (0..TEXT_COLUMNS)
            .map(|_| StringViewBuilder::with_capacity(n))
            .collect();
        let mut leaves = BooleanBuilder::with_capacity(n);
        let mut bypass = BooleanBuilder::with_capacity(n);
        let mut text = String::new();
        for i in 0..n {
            let get_i64 = |c: &Option<datafusion::arrow::array::Int64Array>| {
                c.as_ref().and_then(|a| a.is_valid(i).then(|| a.value(i)))
            };
            let get_i32 = |c: &Option<datafusion::arrow::array::Int32Array>| {
                c.as_ref().and_then(|a| a.is_valid(i).then(|| a.value(i)))
            };
            let rec = Record {
                eni: s(&eni_c, i),
                src: s(&src_c, i),
                dst: s(&dst_c, i),
                pkt_src: s(&psrc_c, i),
                pkt_dst: s(&pdst_c, i),
                direction: s(&dir_c, i),
                vpc: s(&vpc_c, i),
                subnet: s(&subnet_c, i),
                action: s(&act_c, i),
                src_service: s(&ssvc_c, i),
                dst_service: s(&dsvc_c, i),
                start: get_i64(&start_c),
                end: get_i64(&end_c),
                traffic_path: get_i32(&path_c),
                protocol: get_i32(&proto_c),
                tcp_flags: get_i32(&flags_c),
            };
            let e = self.enrich_record(&rec);
            let resource = e.resource.as_ref();
            text.clear();
            if evidence {
                e.remote_evidence.write(&mut text);
            }
            let vals: [Option<&str>; TEXT_COLUMNS] = [
                Some(e.owner_kind),
                resource.and_then(|r| r.rtype),
                resource.and_then(|r| r.name),
                resource.and_then(|r| r.user_profile),
                resource.and_then(|r| r.candidates.as_deref()),
                e.attribution,
                e.rule,
                resource.and_then(|r| r.document).or(e.document),
                e.direction,
                e.local,
                e.remote,
                e.remote_kind,
                e.remote_service,
                e.remote_vpc,
                (!text.is_empty()).then_some(text.as_str()),
                e.initiator,
            ];
            for (builder, v) in b.iter_mut().zip(vals) {
                builder.append_option(v);
            }
            leaves.append_value(e.leaves_vpc);
            bypass.append_value(e.endpoint_bypass);
        }
        let mut out: Vec<ArrayRef> = b
            .into_iter()
            .map(|mut x| Arc::new(x.finish()) as ArrayRef)
            .collect();
        out.push(Arc::new(leaves.finish()));
        out.push(Arc::new(bypass.finish()));
        Ok(out)
    }

    fn enrich_record<'a>(&'a self, r: &Record<'a>) -> Enriched<'a> {
        let mut e = Enriched::default();
        let entry = r.eni.and_then(|id| self.enis.get(id));
        match entry {
            Some(x) => {
                e.owner_kind = x.owner.kind();
                e.resource = x.owner.resource_ref(r.start, r.end);
                e.attribution = Some("eni");
                e.rule = Some(x.rule);
                e.document = x.document.as_deref();
            }
            None => {
                e.owner_kind = "unknown";
                // An ENI no document names (a job's, deleted when it ended): the workload
                // whose VpcConfig has the record's subnet and which ran then.
                if r.eni.is_some()
                    && let Some(m) = r.subnet.and_then(|s| self.by_subnet.get(s))
                    && let Some(res) = m.fitting(r.start, r.end)
                {
                    e.owner_kind = "sagemaker";
                    e.resource = Some(res);
                    e.attribution = Some("vpc_config_by_record");
                    e.rule = Some(attribution::VPC_CONFIG);
                }
            }
        }
        let vpc = r.vpc.or_else(|| entry.and_then(|x| x.vpc.as_deref()));
        let subnet = r.subnet.or_else(|| entry.and_then(|x| x.subnet.as_deref()));
        let orig_src = r.pkt_src.or(r.src);
        let orig_dst = r.pkt_dst.or(r.dst);

        // A NAT gateway's legs belong to the workload whose address is in the packet.
        if e.owner_kind == "nat_gateway" {
            for (addr, other, dir) in [
                (orig_src, orig_dst, "egress"),
                (orig_dst, orig_src, "ingress"),
            ] {
                let Some(ip) = addr.and_then(|a| a.parse::<IpAddr>().ok()) else {
                    continue;
                };
                let Some(owner_eni) = self.addr_owner.lookup(ip) else {
                    continue;
                };
                let Some(w) = self.enis.get(owner_eni.as_ref()) else {
                    continue;
                };
                if w.owner.kind() == "sagemaker" {
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
                    self.classify(&mut e, vpc, w.subnet.as_deref(), r.traffic_path, svc);
                    e.initiator = initiator(r, dir);
                    // One connection is flagged once, on the workload's own record; when
                    // no flow log records the workload's ENI, these legs are all there is.
                    if w.unlogged {
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
        let direction = match r.direction {
            Some("egress") => Some("egress"),
            Some("ingress") => Some("ingress"),
            _ if is_own(r.src) || is_own(r.pkt_src) => Some("egress"),
            _ if is_own(r.dst) || is_own(r.pkt_dst) => Some("ingress"),
            _ => None,
        };
        e.direction = direction;
        let (local, remote, svc) = match direction {
            Some("ingress") => (orig_dst, orig_src, r.src_service),
            _ => (orig_src, orig_dst, r.dst_service),
        };
        e.local = local;
        e.remote = remote;
        if let Some(dir) = direction {
            self.classify(&mut e, vpc, subnet, r.traffic_path, svc);
            e.initiator = initiator(r, dir);
        }
        if e.owner_kind == "sagemaker" {
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
        traffic_path: Option<i32>,
        record_service: Option<&'a str>,
    ) {
        let Some(ip) = e.remote.and_then(|a| a.parse::<IpAddr>().ok()) else {
            return;
        };
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
        // A centralised interface endpoint in another VPC (shared services over a transit
        // gateway or peering), when exactly one endpoint has the address.
        if let Some(Some(ep)) = self.endpoint_addrs.get(&ip) {
            e.remote_kind = Some("interface_endpoint");
            e.remote_service = Some(&ep.service);
            e.remote_vpc = Some(&ep.vpc);
            e.remote_evidence = Evidence::Endpoint(&ep.id);
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
                    .find(|(c, r, _)| c == l.service && r == l.region)
                    .map(|(_, _, s)| (s, in_ranges))
            }),
        };
        if let Some((service, why)) = gateway
            && self.through_gateway(service, vpc, subnet, traffic_path)
        {
            e.remote_kind = Some("gateway_endpoint");
            e.remote_service = Some(service);
            e.remote_evidence = why;
            return;
        }
        let service = record_service.or(listed.map(|l| l.service));
        e.remote_evidence = match record_service {
            Some(s) => Evidence::RecordService(s),
            None => in_ranges,
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
                    [(_, _, only)] => Some(only),
                    _ => None,
                },
            };
            return;
        }
        if let Some(svc) = service {
            e.remote_service = Some(svc);
            e.remote_kind = Some(if CUSTOMER_ADDRESS_CODES.contains(&svc) {
                "internet"
            } else {
                "aws_service"
            });
            return;
        }
        if let Some((net, ())) = self.private.lookup_prefix(ip) {
            e.remote_kind = Some("private_other");
            e.remote_vpc = self.vpc_of(ip);
            e.remote_evidence = Evidence::Private(net);
        } else {
            e.remote_kind = Some("internet");
            e.remote_evidence = Evidence::Unlisted;
        }
    }

    fn vpc_of(&self, ip: IpAddr) -> Option<&str> {
        self.vpc_of.lookup(ip).and_then(|v| v.as_deref())
    }

    /// Whether traffic to a gateway endpoint's service really used it: traffic-path 7 says
    /// yes, 8 (internet gateway) says no; absent or 2 is ambiguous, and then the route table
    /// of the subnet decides when the inventory has route tables (else the endpoint is
    /// assumed): it must route a prefix list to a gateway endpoint of that service. With
    /// one endpoint per route table, each subnet's own table names its endpoint.
    fn through_gateway(
        &self,
        service: &str,
        vpc: Option<&str>,
        subnet: Option<&str>,
        traffic_path: Option<i32>,
    ) -> bool {
        match traffic_path {
            Some(7) => return true,
            Some(8) => return false,
            Some(2) | None => {}
            Some(_) => return false,
        }
        let inv = &self.inventory;
        if inv.route_tables.is_empty() {
            return true;
        }
        let table = subnet
            .and_then(|s| self.subnet_routes.get(s))
            .or_else(|| vpc.and_then(|v| self.main_routes.get(v)));
        let Some(&t) = table else {
            // A subnet with no known table: nothing contradicts the endpoint.
            return true;
        };
        let rt = &inv.route_tables[t];
        let routed = rt.routes.iter().any(|r| {
            let RouteDestination::PrefixList(pl) = &r.destination else {
                return false;
            };
            match self.gateway_endpoints.get(&r.target) {
                Some(s) => s.as_ref() == service,
                // A route to an endpoint describe-vpc-endpoints did not list: its
                // prefix list's name says the service.
                None => {
                    r.target.starts_with("vpce-")
                        && inv.prefix_lists.get(pl).is_some_and(|p| {
                            split_service_name(&p.name).is_some_and(|(_, s)| s == service)
                        })
                }
            }
        });
        routed
            || self
                .gateway_tables
                .get(&rt.id)
                .is_some_and(|s| s.iter().any(|x| x.as_ref() == service))
    }
}

/// Which side opened a TCP connection, from one record's flags: a SYN without ACK is sent
/// by the side that opens it, a SYN-ACK by the side that answers. The sender is the
/// workload on egress and the remote on ingress.
fn initiator(r: &Record, direction: &str) -> Option<&'static str> {
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

fn s(c: &Option<ArrayRef>, i: usize) -> Option<&str> {
    c.as_ref().and_then(|a| {
        let a = a.as_string_view();
        a.is_valid(i).then(|| a.value(i))
    })
}

struct Record<'a> {
    eni: Option<&'a str>,
    src: Option<&'a str>,
    dst: Option<&'a str>,
    pkt_src: Option<&'a str>,
    pkt_dst: Option<&'a str>,
    direction: Option<&'a str>,
    vpc: Option<&'a str>,
    subnet: Option<&'a str>,
    action: Option<&'a str>,
    src_service: Option<&'a str>,
    dst_service: Option<&'a str>,
    start: Option<i64>,
    end: Option<i64>,
    traffic_path: Option<i32>,
    protocol: Option<i32>,
    tcp_flags: Option<i32>,
}

/// What classified a remote address; made into `remote_evidence` text only when asked.
#[derive(Default, Clone, Copy)]
enum Evidence<'a> {
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
    /// In no VPC, endpoint, ip-ranges prefix or private range the inventory knows.
    Unlisted,
}

impl Evidence<'_> {
    fn write(self, out: &mut String) {
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
struct Enriched<'a> {
    owner_kind: &'static str,
    resource: Option<ResourceRef<'a>>,
    attribution: Option<&'static str>,
    rule: Option<&'static str>,
    document: Option<&'a str>,
    remote_evidence: Evidence<'a>,
    direction: Option<&'static str>,
    local: Option<&'a str>,
    remote: Option<&'a str>,
    remote_kind: Option<&'static str>,
    remote_service: Option<&'a str>,
    remote_vpc: Option<&'a str>,
    initiator: Option<&'static str>,
    leaves_vpc: bool,
    endpoint_bypass: bool,
}

impl Enriched<'_> {
    /// The compliance flags of accepted SageMaker traffic, from the remote's kind.
    fn set_flags(&mut self, action: Option<&str>) {
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

/// The schema of [`COLUMNS`].
pub fn schema() -> Schema {
    Schema::new(fields())
}
