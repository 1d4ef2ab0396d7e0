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
use datafusion::arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema};

pub use attribution::{Owner, Resource};

use crate::error::Result;
use crate::inventory::{EndpointType, Inventory, PrefixMap, RouteDestination};

/// The enrichment columns, in table order.
pub const COLUMNS: &[(&str, &str)] = &[
    (
        "eni_owner_kind",
        "sagemaker, vpc_endpoint, nat_gateway, efs, lambda, ec2, aws_managed or unknown",
    ),
    (
        "sagemaker_resource_type",
        "studio_domain, notebook_instance, training_job, processing_job, transform_job, endpoint, hyperpod_cluster",
    ),
    (
        "sagemaker_resource",
        "domain id, notebook name, job name or endpoint name",
    ),
    (
        "sagemaker_user_profile",
        "Studio user profile, when the ENI names one",
    ),
    ("direction", "egress or ingress relative to the workload"),
    (
        "local_addr",
        "the workload-side address (original packet address where present)",
    ),
    (
        "remote_addr",
        "the other side's address (original packet address where present)",
    ),
    (
        "remote_kind",
        "same_vpc, interface_endpoint, gateway_endpoint, nat_gateway, aws_service, private_other or internet",
    ),
    (
        "remote_service",
        "endpoint service name, s3/dynamodb for gateway endpoints, or the ip-ranges service code",
    ),
    (
        "leaves_vpc",
        "ACCEPT traffic of a SageMaker ENI whose remote is outside its VPC and not behind an endpoint",
    ),
    (
        "endpoint_bypass",
        "ACCEPT egress of a SageMaker ENI to a public AWS service address, not through a gateway endpoint",
    ),
];

pub fn fields() -> Vec<Field> {
    COLUMNS
        .iter()
        .map(|(name, _)| {
            let dt = if name.starts_with("leaves") || name.starts_with("endpoint_bypass") {
                DataType::Boolean
            } else {
                DataType::Utf8View
            };
            Field::new(*name, dt, true)
        })
        .collect()
}

/// Table columns the enrichment reads.
pub const INPUTS: &[&str] = &[
    "interface_id",
    "srcaddr",
    "dstaddr",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "flow_direction",
    "vpc_id",
    "start",
    "end",
    "action",
    "traffic_path",
    "pkt_src_aws_service",
    "pkt_dst_aws_service",
];

#[derive(Debug)]
struct EniEntry {
    owner: Owner,
    vpc: Option<String>,
    subnet: Option<String>,
    addrs: Vec<IpAddr>,
}

#[derive(Debug, Clone)]
enum Special {
    InterfaceEndpoint(Arc<str>),
    NatGateway,
}

#[derive(Debug, Clone)]
struct Gateway {
    /// `s3` or `dynamodb`.
    service: Arc<str>,
    endpoint_id: String,
    prefix_list_id: String,
}

#[derive(Debug, Default)]
struct VpcIndex {
    inside: PrefixMap<()>,
    special: PrefixMap<Special>,
    gateways: PrefixMap<Gateway>,
}

/// Everything the per-record work needs, built once from the inventory.
#[derive(Debug)]
pub struct Enricher {
    inventory: Arc<Inventory>,
    /// Per ENI id: its owner and what classification needs, in one lookup per record.
    enis: foldhash::HashMap<String, EniEntry>,
    /// Address → owning ENI id, for attributing NAT-gateway legs by packet address.
    addr_owner: PrefixMap<Arc<str>>,
    vpcs: foldhash::HashMap<String, VpcIndex>,
    /// Used when a record's VPC is unknown: every VPC merged.
    any_vpc: VpcIndex,
    /// Route table per subnet, for traffic-path 2 / absent.
    subnet_routes: HashMap<String, usize>,
    main_routes: HashMap<String, usize>,
    private: PrefixMap<()>,
}

impl Enricher {
    pub fn new(inventory: Arc<Inventory>) -> Self {
        let inv = &inventory;
        let mut enis = foldhash::HashMap::default();
        let mut addr_owner = PrefixMap::new();
        for (id, eni) in &inv.enis {
            enis.insert(
                id.clone(),
                EniEntry {
                    owner: attribution::attribute(eni, inv),
                    vpc: eni.vpc_id.clone(),
                    subnet: eni.subnet_id.clone(),
                    addrs: eni.addresses.clone(),
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
        for v in &inv.vpcs {
            for c in &v.cidrs {
                add_inside(&mut vpcs, &mut any_vpc, &v.id, *c);
            }
        }
        for eni in inv.enis.values() {
            if let Some(v) = &eni.vpc_id {
                for a in &eni.addresses {
                    add_inside(&mut vpcs, &mut any_vpc, v, ipnet::IpNet::from(*a));
                }
            }
        }
        for ep in &inv.vpc_endpoints {
            match ep.endpoint_type {
                EndpointType::Interface | EndpointType::Other => {
                    let service: Arc<str> = Arc::from(ep.service_name.as_str());
                    for id in &ep.eni_ids {
                        for a in inv
                            .enis
                            .get(id)
                            .map(|e| e.addresses.as_slice())
                            .unwrap_or(&[])
                        {
                            let net = ipnet::IpNet::from(*a);
                            let s = Special::InterfaceEndpoint(service.clone());
                            vpcs.entry(ep.vpc_id.clone()).or_default().special.insert(
                                net,
                                s.clone(),
                                1,
                            );
                            any_vpc.special.insert(net, s, 1);
                        }
                    }
                }
                EndpointType::Gateway => {
                    let short: Arc<str> = Arc::from(
                        ep.service_name
                            .rsplit('.')
                            .next()
                            .unwrap_or(&ep.service_name),
                    );
                    // The endpoint's prefix list: same name, or routed to this endpoint.
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
                        for c in &list.cidrs {
                            let g = Gateway {
                                service: short.clone(),
                                endpoint_id: ep.id.clone(),
                                prefix_list_id: pl.to_string(),
                            };
                            vpcs.entry(ep.vpc_id.clone()).or_default().gateways.insert(
                                *c,
                                g.clone(),
                                0,
                            );
                            any_vpc.gateways.insert(*c, g, 0);
                        }
                    }
                }
            }
        }
        for nat in &inv.nat_gateways {
            for a in &nat.private_ips {
                let net = ipnet::IpNet::from(*a);
                vpcs.entry(nat.vpc_id.clone()).or_default().special.insert(
                    net,
                    Special::NatGateway,
                    0,
                );
                any_vpc.special.insert(net, Special::NatGateway, 0);
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

        Enricher {
            inventory,
            enis,
            addr_owner,
            vpcs,
            any_vpc,
            subnet_routes,
            main_routes,
            private,
        }
    }

    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The owner of an ENI id, `None` when the inventory does not know it.
    pub fn owner(&self, eni: &str) -> Option<&Owner> {
        self.enis.get(eni).map(|e| &e.owner)
    }

    /// Computes the enrichment columns for `batch`, which must hold the [`INPUTS`]
    /// columns it has (missing ones count as NULL). Returns them in [`COLUMNS`] order.
    pub fn enrich(&self, batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
        let n = batch.num_rows();
        let text = |name: &str| {
            batch
                .column_by_name(name)
                .map(|c| datafusion::arrow::compute::cast(c, &DataType::Utf8View))
                .transpose()
        };
        let (eni_c, src_c, dst_c, psrc_c, pdst_c, dir_c, vpc_c, act_c, ssvc_c, dsvc_c) = (
            text("interface_id")?,
            text("srcaddr")?,
            text("dstaddr")?,
            text("pkt_srcaddr")?,
            text("pkt_dstaddr")?,
            text("flow_direction")?,
            text("vpc_id")?,
            text("action")?,
            text("pkt_src_aws_service")?,
            text("pkt_dst_aws_service")?,
        );
        let int64 = |name: &str| {
            batch
                .column_by_name(name)
                .map(|c| c.as_primitive::<Int64Type>().clone())
        };
        let (start_c, end_c) = (int64("start"), int64("end"));
        let path_c = batch
            .column_by_name("traffic_path")
            .map(|c| c.as_primitive::<Int32Type>().clone());

        let mut b: Vec<StringViewBuilder> = (0..9)
            .map(|_| StringViewBuilder::with_capacity(n))
            .collect();
        let mut leaves = BooleanBuilder::with_capacity(n);
        let mut bypass = BooleanBuilder::with_capacity(n);
        for i in 0..n {
            let get_i64 = |c: &Option<datafusion::arrow::array::Int64Array>| {
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
                action: s(&act_c, i),
                src_service: s(&ssvc_c, i),
                dst_service: s(&dsvc_c, i),
                start: get_i64(&start_c),
                end: get_i64(&end_c),
                traffic_path: path_c
                    .as_ref()
                    .and_then(|a| a.is_valid(i).then(|| a.value(i))),
            };
            let e = self.enrich_record(&rec);
            let vals = [
                Some(e.owner_kind),
                e.resource.map(|r| r.rtype),
                e.resource.and_then(|r| r.name),
                e.resource.and_then(|r| r.user_profile),
                e.direction,
                e.local,
                e.remote,
                e.remote_kind,
                e.remote_service,
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
        let eni = r.eni.unwrap_or("");
        let entry = self.enis.get(eni);
        let owner = entry.map(|x| &x.owner);
        e.owner_kind = owner.map_or("unknown", Owner::kind);
        e.resource = owner.and_then(|o| o.resource_ref(r.start, r.end));
        let vpc = r.vpc.or_else(|| entry.and_then(|x| x.vpc.as_deref()));
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
                let Some(o) = self.enis.get(owner_eni.as_ref()).map(|x| &x.owner) else {
                    continue;
                };
                if o.kind() == "sagemaker" {
                    e.resource = o.resource_ref(r.start, r.end);
                    e.direction = Some(dir);
                    e.local = addr;
                    e.remote = other;
                    let svc = if dir == "egress" {
                        r.dst_service
                    } else {
                        r.src_service
                    };
                    self.classify(&mut e, vpc, owner_eni.as_ref(), r.traffic_path, svc);
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
        if direction.is_some() {
            self.classify(&mut e, vpc, eni, r.traffic_path, svc);
        }
        if e.owner_kind == "sagemaker" && r.action == Some("ACCEPT") {
            e.leaves_vpc = matches!(
                e.remote_kind,
                Some("nat_gateway" | "aws_service" | "private_other" | "internet")
            );
            e.endpoint_bypass = direction == Some("egress") && e.remote_kind == Some("aws_service");
        }
        e
    }

    /// Sets `remote_kind`/`remote_service` from the remote address.
    fn classify<'a>(
        &'a self,
        e: &mut Enriched<'a>,
        vpc: Option<&str>,
        eni: &str,
        traffic_path: Option<i32>,
        record_service: Option<&'a str>,
    ) {
        let Some(ip) = e.remote.and_then(|a| a.parse::<IpAddr>().ok()) else {
            return;
        };
        let index = vpc.and_then(|v| self.vpcs.get(v)).unwrap_or(&self.any_vpc);
        if let Some(sp) = index.special.lookup(ip) {
            match sp {
                Special::InterfaceEndpoint(svc) => {
                    e.remote_kind = Some("interface_endpoint");
                    e.remote_service = Some(svc);
                }
                Special::NatGateway => e.remote_kind = Some("nat_gateway"),
            }
            return;
        }
        if index.inside.lookup(ip).is_some() {
            e.remote_kind = Some("same_vpc");
            return;
        }
        if let Some(g) = index.gateways.lookup(ip)
            && self.through_gateway(g, eni, traffic_path)
        {
            e.remote_kind = Some("gateway_endpoint");
            e.remote_service = Some(&g.service);
            return;
        }
        let service = record_service.or_else(|| self.inventory.ip_ranges.service(ip));
        if let Some(svc) = service {
            e.remote_kind = Some("aws_service");
            e.remote_service = Some(svc);
            return;
        }
        e.remote_kind = Some(if self.private.lookup(ip).is_some() {
            "private_other"
        } else {
            "internet"
        });
    }

    /// Whether traffic to a gateway endpoint's prefix really used it: traffic-path 7 says
    /// yes, 8 (internet gateway) says no; absent or 2 is ambiguous, and then the ENI's
    /// subnet route table decides when the inventory has route tables (else the endpoint
    /// is assumed).
    fn through_gateway(&self, g: &Gateway, eni: &str, traffic_path: Option<i32>) -> bool {
        match traffic_path {
            Some(7) => return true,
            Some(8) => return false,
            Some(2) | None => {}
            Some(_) => return false,
        }
        if self.inventory.route_tables.is_empty() {
            return true;
        }
        let entry = self.enis.get(eni);
        let table = entry
            .and_then(|e| e.subnet.as_ref())
            .and_then(|s| self.subnet_routes.get(s))
            .or_else(|| {
                entry
                    .and_then(|e| e.vpc.as_ref())
                    .and_then(|v| self.main_routes.get(v))
            });
        match table {
            Some(&t) => self.inventory.route_tables[t].routes.iter().any(|r| {
                matches!(&r.destination, RouteDestination::PrefixList(pl) if *pl == g.prefix_list_id)
                    && r.target == g.endpoint_id
            }),
            // An ENI whose subnet has no known table: nothing contradicts the endpoint.
            None => true,
        }
    }
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
    action: Option<&'a str>,
    src_service: Option<&'a str>,
    dst_service: Option<&'a str>,
    start: Option<i64>,
    end: Option<i64>,
    traffic_path: Option<i32>,
}

#[derive(Default)]
struct Enriched<'a> {
    owner_kind: &'static str,
    resource: Option<attribution::ResourceRef<'a>>,
    direction: Option<&'static str>,
    local: Option<&'a str>,
    remote: Option<&'a str>,
    remote_kind: Option<&'static str>,
    remote_service: Option<&'a str>,
    leaves_vpc: bool,
    endpoint_bypass: bool,
}

/// The schema of [`COLUMNS`].
pub fn schema() -> Schema {
    Schema::new(fields())
}
