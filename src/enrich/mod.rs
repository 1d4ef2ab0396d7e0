//! The enrichment stage: each decoded batch gains columns that say which SageMaker
//! workload owns the record's ENI and where its remote address is. They are computed once
//! per batch, at ingest, with prefix maps built once from the inventory, so that the
//! compliance rules are plain SQL over columns and can run on any engine that reads the
//! exported Parquet.

pub mod attribution;
mod classify;
pub mod dns;
mod index;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, ArrowPrimitiveType, AsArray, BooleanArray, BooleanBuilder, PrimitiveArray,
    RecordBatch, StringViewArray, StringViewBuilder,
};
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type, Schema};

pub use self::attribution::{Attributor, Owner, Resource, ResourceRef, VpcMatch};
use self::classify::Record;
pub use self::dns::DnsIndex;
use self::index::{EndpointAddr, EniEntry, VpcIndex};
use crate::error::Result;
use crate::format::enrichment::TEXT_COLUMNS;
pub use crate::format::enrichment::{COLUMNS, REMOTE_EVIDENCE, REMOTE_NAMES, fields};
use crate::inventory::{Inventory, PrefixMap};

/// Table columns the enrichment reads.
pub const INPUTS: &[&str] = &[
    "interface_id",
    "resource_id",
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

/// The owner kinds whose accepted records can have `leaves_vpc` or `endpoint_bypass` set:
/// a SageMaker workload's records, and a NAT gateway's legs, which carry a workload's
/// packet addresses (`classify::Enriched::set_flags`).
const FLAGGED_OWNERS: &[&str] = &[attribution::SAGEMAKER, attribution::NAT_GATEWAY];

/// The owner kind of a record whose ENI no inventory document names (and of a record
/// without an ENI): exactly the records without an `attribution`, or attributed by
/// `vpc_config_by_record` (which are `sagemaker`).
const UNATTRIBUTED: &str = "unknown";

/// The `attribution` of a record whose ENI no document names, attributed by its subnet
/// and time to a workload's VpcConfig: always a `sagemaker` record.
pub(crate) const BY_RECORD: &str = "vpc_config_by_record";

/// A condition on one enrichment column, for [`Enricher::owners_when`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holds<'a> {
    /// The (boolean) column is true.
    True,
    Equals(&'a str),
    Null,
    NotNull,
}

/// Who owns a record's ENI at the record's time.
enum OwnerAt<'a> {
    /// The ENI's inventory entry, or the CloudTrail lifetime of a deleted one that holds
    /// the record's time.
    Entry(&'a EniEntry),
    /// A record without an ENI, of the NAT gateway its `resource-id` names (a regional
    /// gateway has no ENI in the VPC).
    Resource(&'a EniEntry),
    /// An ENI no document names (a job's, deleted when it ended): the workload whose
    /// VpcConfig has the record's subnet and which ran then.
    Fitted(attribution::ResourceRef<'a>),
    Unknown,
}

impl OwnerAt<'_> {
    /// The record's `eni_owner_kind`.
    fn kind(&self) -> &'static str {
        match self {
            OwnerAt::Entry(x) | OwnerAt::Resource(x) => x.owner.kind(),
            OwnerAt::Fitted(_) => attribution::SAGEMAKER,
            OwnerAt::Unknown => UNATTRIBUTED,
        }
    }
}

/// ip-ranges codes of address space that serves customers, not AWS service endpoints:
/// instance public and Elastic IPs, Global Accelerator static addresses, CloudFront's
/// edges, which serve customers' distributions (a model hub's CDN), and the hosts that
/// reach customers' servers for them (CloudFront's origin fetches, Route 53 health
/// checks); none has a VPC endpoint. Reaching one, or being reached from one, is the
/// internet, not bypassing a VPC endpoint.
pub const CUSTOMER_ADDRESS_CODES: &[&str] = &[
    "EC2",
    "GLOBALACCELERATOR",
    "CLOUDFRONT",
    "CLOUDFRONT_ORIGIN_FACING",
    "ROUTE53_HEALTHCHECKS",
];

/// Everything the per-record work needs, built once from the inventory.
#[derive(Debug)]
pub struct Enricher {
    inventory: Arc<Inventory>,
    /// Per ENI id named by any inventory document: its owner and what classification
    /// needs, in one lookup per record.
    enis: foldhash::HashMap<String, EniEntry>,
    /// NAT gateway id → the gateway, for records with no ENI (regional NAT gateways').
    nat_gateways: foldhash::HashMap<String, EniEntry>,
    /// Subnet → the workloads whose VpcConfig names it, for records of ENIs the inventory
    /// does not know.
    by_subnet: foldhash::HashMap<String, VpcMatch>,
    /// [`Self::by_subnet`] for records that name an instance: HyperPod clusters only.
    by_subnet_on_instances: foldhash::HashMap<String, VpcMatch>,
    /// Address → owning ENI id, per VPC, for attributing NAT-gateway legs by packet
    /// address and DNS queries by client.
    addr_owner: index::AddrOwners,
    /// ENIs CloudTrail saw that `describe-network-interfaces` does not list (deleted
    /// since), each with the times it lived: a record is attributed from the lifetime
    /// that holds its start.
    history: foldhash::HashMap<String, Vec<Lived<EniEntry>>>,
    /// Address → the ENIs that held it and when (CloudTrail): an address is reused, so
    /// the owner of a packet address is the ENI that held it at the record's time.
    addr_history: foldhash::HashMap<IpAddr, Vec<Lived<index::Holder>>>,
    /// `--dns`: the names clients asked for, by answered address.
    dns: Option<DnsIndex>,
    /// Per VPC, the names its interface endpoints serve.
    endpoint_names: dns::EndpointNames,
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
    /// Addresses no router forwards ([`index::LOCAL_SCOPE`]), with what they are and why.
    local_scope: PrefixMap<(&'static str, &'static str)>,
}

/// Something valid while an ENI lived (see [`crate::inventory::EniLifetime::covers`]).
#[derive(Debug)]
struct Lived<T> {
    created: Option<i64>,
    deleted: Option<i64>,
    value: T,
}

impl<T> Lived<T> {
    fn covers(&self, t: i64) -> bool {
        crate::inventory::lived_at(self.created, self.deleted, t)
    }
}

impl Enricher {
    /// The DNS answers `remote_name` comes from, if any.
    pub fn dns(&self) -> Option<&DnsIndex> {
        self.dns.as_ref()
    }

    /// Names remote addresses from these DNS answers (`remote_name`).
    pub fn with_dns(mut self, dns: DnsIndex) -> Self {
        self.dns = Some(dns);
        self
    }

    /// Who owns a record's ENI at its time: the one decision both the full enrichment and
    /// the flags-only path start from.
    fn owner_at(
        &self,
        eni: Option<&str>,
        resource: Option<&str>,
        subnet: Option<&str>,
        instance: Option<&str>,
        start: Option<i64>,
        end: Option<i64>,
    ) -> OwnerAt<'_> {
        let Some(id) = eni else {
            return match resource.and_then(|r| self.nat_gateways.get(r)) {
                Some(x) => OwnerAt::Resource(x),
                None => OwnerAt::Unknown,
            };
        };
        if let Some(x) = self.eni_at(id, start) {
            return OwnerAt::Entry(x);
        }
        // `instance-id` is written only for an instance the account owns (or a HyperPod
        // node): an autoscaled EC2 instance deleted since, in a job's subnet during the
        // job, is not the job's.
        let by_subnet = match instance {
            Some(_) => &self.by_subnet_on_instances,
            None => &self.by_subnet,
        };
        match subnet
            .and_then(|s| by_subnet.get(s))
            .and_then(|m| m.fitting(start, end))
        {
            Some(r) => OwnerAt::Fitted(r),
            None => OwnerAt::Unknown,
        }
    }

    /// The ENI `id` as it was at `t`: the inventory's ENI, or the CloudTrail lifetime of
    /// a deleted one that holds `t` (`None` when none does: the records of an ENI before
    /// its creation or after its deletion are not its own).
    fn eni_at(&self, id: &str, t: Option<i64>) -> Option<&EniEntry> {
        if let Some(e) = self.enis.get(id) {
            return Some(e);
        }
        let lives = self.history.get(id)?;
        match t {
            Some(t) => lives.iter().find(|l| l.covers(t)).map(|l| &l.value),
            // No time on the record: one lifetime is the ENI; several could be any.
            None => match lives.as_slice() {
                [one] => Some(&one.value),
                _ => None,
            },
        }
    }

    /// The ENI that held address `ip` in `vpc` at `t` (a record's start; `until` its end):
    /// from CloudTrail where a lifetime holds `t`, else the inventory's ENI with that
    /// address unless CloudTrail says it was created after `t` or it was attached after
    /// `until`.
    fn addr_owner_at(
        &self,
        ip: IpAddr,
        vpc: Option<&str>,
        t: Option<i64>,
        until: Option<i64>,
    ) -> Option<&EniEntry> {
        self.addr_holder_at(ip, vpc, t, until).map(|(_, e)| e)
    }

    /// [`Self::addr_owner_at`], with the ENI's id.
    fn addr_holder_at(
        &self,
        ip: IpAddr,
        vpc: Option<&str>,
        t: Option<i64>,
        until: Option<i64>,
    ) -> Option<(&str, &EniEntry)> {
        // An address inside the VPC is one of its own ENIs'; one outside it came from
        // another VPC (over a transit gateway or peering, which do not translate it: a
        // central egress VPC's NAT gateway), whose ENI is the one ENI of any VPC with it.
        let vpc = vpc.filter(|v| {
            self.vpcs
                .get(*v)
                .is_some_and(|x| x.inside.lookup(ip).is_some())
        });
        let lives = self.addr_history.get(&ip);
        if let (Some(lives), Some(t)) = (lives, t)
            && let Some(l) = lives.iter().find(|l| l.covers(t) && l.value.in_vpc(vpc))
        {
            return Some((&l.value.eni, self.eni_at(&l.value.eni, Some(t))?));
        }
        let id = self.addr_owner.lookup(vpc, ip)?;
        let later = lives.is_some_and(|lives| {
            lives
                .iter()
                .any(|l| *l.value.eni == **id && t.is_some_and(|t| !l.covers(t)))
        });
        if later {
            return None;
        }
        let entry = self.enis.get(id.as_ref())?;
        // Attached after the record: the address was someone else's then (or no one's).
        if let (Some(a), Some(u)) = (entry.attached, until.or(t))
            && u < a.saturating_sub(attribution::CLOCK_SLACK)
        {
            return None;
        }
        Some((id, entry))
    }

    /// The answers SageMaker workloads got from `--dns`'s query logs, each with the
    /// interface endpoint of its VPC that serves the name asked for, whether the answer is
    /// an interface endpoint's address, and the ENI (and workload) that held the asking
    /// address then: the `dns_answers` table. Other clients' answers (most of a VPC's
    /// queries) name records but are not listed, so the table stays a fraction of them.
    pub fn dns_answers(&self) -> Vec<DnsAnswerRow<'_>> {
        let Some(dns) = &self.dns else {
            return Vec::new();
        };
        // Only SageMaker workloads' answers are listed: sorted once kept, not before.
        let mut kept: Vec<_> = dns
            .all()
            .filter_map(|(vpc, addr, a)| {
                let (eni, e) = self.addr_holder_at(a.client, Some(vpc), Some(a.time), None)?;
                (e.owner.kind() == attribution::SAGEMAKER).then_some((vpc, addr, a, eni, e))
            })
            .collect();
        kept.sort_by(|x, y| (x.0, x.1, x.2.time).cmp(&(y.0, y.1, y.2.time)));
        kept.into_iter()
            .map(|(vpc, addr, a, eni, e)| DnsAnswerRow {
                vpc,
                addr,
                answer: a,
                endpoint: self.endpoint_names.endpoint_for(vpc, &a.name),
                to_endpoint: self.endpoint_addrs.contains_key(&addr),
                eni,
                owner: &e.owner,
                rule: e.rule,
                document: e.document.as_deref(),
                from_trail: e.from_trail,
            })
            .collect()
    }
}

/// One row of `dns_answers` ([`Enricher::dns_answers`]).
pub struct DnsAnswerRow<'a> {
    pub vpc: &'a str,
    pub addr: IpAddr,
    pub answer: &'a dns::Answer,
    pub endpoint: Option<&'a str>,
    pub to_endpoint: bool,
    /// The SageMaker workload's ENI that held the asking address then.
    pub eni: &'a str,
    pub owner: &'a Owner,
    /// `attribution_rule` and `attribution_document` of that ENI.
    pub rule: &'static str,
    pub document: Option<&'a str>,
    pub from_trail: bool,
}

impl Enricher {
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// The columns the enrichment reads, of those a record has: [`INPUTS`], and
    /// `instance_id` when records of ENIs the inventory lacks can be attributed by their
    /// subnet (a record of the account's own instance never is).
    pub fn inputs(&self) -> impl Iterator<Item = &'static str> {
        let by_subnet = (!self.by_subnet.is_empty()).then_some("instance_id");
        INPUTS.iter().copied().chain(by_subnet)
    }

    /// The rule that attributed an ENI (`attribution_rule`).
    pub fn attribution_rule(&self, eni: &str) -> Option<&'static str> {
        self.enis.get(eni).map(|e| e.rule)
    }

    /// The inventory file that rule read (`attribution_document`).
    pub fn attribution_document(&self, eni: &str) -> Option<&str> {
        self.enis.get(eni).and_then(|e| e.document.as_deref())
    }

    /// The owner kinds (`eni_owner_kind`) of the records for which `column` `holds`:
    /// `None` when that says nothing about them. A read whose filters need one of
    /// these kinds can drop the other records before enriching them
    /// ([`Enricher::owners_in`]): most of a mixed account's records are other owners'.
    pub fn owners_when(&self, column: &str, holds: Holds) -> Option<Vec<String>> {
        let named = |kinds: &[&str]| Some(kinds.iter().map(|k| k.to_string()).collect());
        match (column, holds) {
            ("eni_owner_kind", Holds::Equals(kind)) => named(&[kind]),
            ("leaves_vpc" | "endpoint_bypass", Holds::True) => named(FLAGGED_OWNERS),
            ("attribution", Holds::Null) => named(&[UNATTRIBUTED]),
            ("attribution", Holds::Equals(BY_RECORD)) => named(&[attribution::SAGEMAKER]),
            // Without DNS answers no record is named.
            ("remote_name" | "remote_name_source" | "remote_name_endpoint", h)
                if self.dns.is_none() && h != Holds::Null =>
            {
                named(&[])
            }
            _ => None,
        }
    }

    /// Which records of `batch` (holding the [`INPUTS`] it has) have one of the owner
    /// `kinds`: the cheap first step of the enrichment, one ENI lookup per record.
    pub fn owners_in(&self, batch: &RecordBatch, kinds: &[String]) -> Result<BooleanArray> {
        let [eni, resource, subnet, instance] = [
            text(batch, "interface_id")?,
            text(batch, "resource_id")?,
            text(batch, "subnet_id")?,
            text(batch, "instance_id")?,
        ];
        let [eni, resource, subnet, instance] =
            [&eni, &resource, &subnet, &instance].map(|c| c.as_ref().map(|a| a.as_string_view()));
        let (start, end) = (
            ints::<Int64Type>(batch, "start"),
            ints::<Int64Type>(batch, "end"),
        );
        Ok((0..batch.num_rows())
            .map(|i| {
                let owner = self.owner_at(
                    s(eni, i),
                    s(resource, i),
                    s(subnet, i),
                    s(instance, i),
                    int(start, i),
                    int(end, i),
                );
                Some(kinds.iter().any(|k| k == owner.kind()))
            })
            .collect())
    }

    /// The ENIs of the inventory whose records have none of the owner `kinds`: their
    /// records can be dropped as they are decoded, before even their columns are built
    /// ([`crate::decode::DecodeOptions::skip_enis`]). Only ENIs the inventory lists: their
    /// owner does not depend on the record ([`Self::owner_at`]), while a deleted ENI's
    /// records may be another ENI's, or fitted to a workload by subnet and time. `None`
    /// when there is none.
    pub fn enis_outside(&self, kinds: &[String]) -> Option<crate::decode::EniSet> {
        let set: crate::decode::EniSet = self
            .enis
            .iter()
            .filter(|(_, e)| !kinds.iter().any(|k| k == e.owner.kind()))
            .map(|(id, _)| id.as_bytes().into())
            .collect();
        (!set.is_empty()).then_some(set)
    }

    /// The owner of an ENI id, `None` when no inventory document names it.
    pub fn owner(&self, eni: &str) -> Option<&Owner> {
        self.enis
            .get(eni)
            .or_else(|| self.history.get(eni)?.first().map(|l| &l.value))
            .map(|e| &e.owner)
    }

    /// Computes the enrichment columns `wanted` (indices in [`COLUMNS`]) for `batch`,
    /// which must hold the [`INPUTS`] columns it has (missing ones count as NULL), and
    /// returns them in `wanted`'s order. A query reads a few of them: building the text of
    /// every other one for every record cost more than classifying the record.
    pub fn enrich(&self, batch: &RecordBatch, wanted: &[usize]) -> Result<Vec<ArrayRef>> {
        let n = batch.num_rows();
        let text = |name: &str| text(batch, name);
        let columns = [
            text("interface_id")?,
            text("resource_id")?,
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
            text("instance_id")?,
        ];
        let [
            eni_c,
            res_c,
            src_c,
            dst_c,
            psrc_c,
            pdst_c,
            dir_c,
            vpc_c,
            subnet_c,
            act_c,
            ssvc_c,
            dsvc_c,
            inst_c,
        ] = columns
            .each_ref()
            .map(|c| c.as_ref().map(|a| a.as_string_view()));
        let int64 = |name: &str| ints::<Int64Type>(batch, name);
        let int32 = |name: &str| ints::<Int32Type>(batch, name);
        let (start_c, end_c) = (int64("start"), int64("end"));
        let (path_c, proto_c, flags_c) =
            (int32("traffic_path"), int32("protocol"), int32("tcp_flags"));

        let mut texts: Vec<(usize, StringViewBuilder)> = wanted
            .iter()
            .filter(|&&k| k < TEXT_COLUMNS)
            .map(|&k| (k, StringViewBuilder::with_capacity(n)))
            .collect();
        let evidence = wanted.contains(&REMOTE_EVIDENCE);
        // Naming parses both addresses of a record: only for a query that reads a name.
        let names = self.dns.is_some() && wanted.iter().any(|k| REMOTE_NAMES.contains(k));
        let mut leaves = BooleanBuilder::with_capacity(n);
        let mut bypass = BooleanBuilder::with_capacity(n);
        let mut text = String::new();
        // A query that reads only the flags (`WHERE leaves_vpc`, counts of them) needs a
        // record's remote classified only when the flags can be set: accepted traffic
        // whose owner can raise them. Most records of a mixed account are other
        // instances', whose flags are false whatever their remote is.
        let flags_only = texts.is_empty();
        for i in 0..n {
            // A rejected record is not even looked up when only the flags are read.
            let owner = (!flags_only || s(act_c, i) == Some("ACCEPT"))
                .then(|| {
                    let (eni, res, subnet) = (s(eni_c, i), s(res_c, i), s(subnet_c, i));
                    let instance = s(inst_c, i);
                    self.owner_at(eni, res, subnet, instance, int(start_c, i), int(end_c, i))
                })
                .filter(|o| !flags_only || FLAGGED_OWNERS.contains(&o.kind()));
            let Some(owner) = owner else {
                leaves.append_value(false);
                bypass.append_value(false);
                continue;
            };
            let rec = Record {
                src: s(src_c, i),
                dst: s(dst_c, i),
                pkt_src: s(psrc_c, i),
                pkt_dst: s(pdst_c, i),
                direction: s(dir_c, i),
                vpc: s(vpc_c, i),
                subnet: s(subnet_c, i),
                action: s(act_c, i),
                src_service: s(ssvc_c, i),
                dst_service: s(dsvc_c, i),
                start: int(start_c, i),
                end: int(end_c, i),
                traffic_path: int(path_c, i),
                protocol: int(proto_c, i),
                tcp_flags: int(flags_c, i),
            };
            let e = self.enrich_record(&rec, owner);
            if !texts.is_empty() {
                let resource = e.resource.as_ref();
                text.clear();
                if evidence {
                    e.remote_evidence.write(&mut text);
                }
                let named = if names {
                    self.remote_name(&e, rec.start)
                } else {
                    None
                };
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
                    named.map(|n| n.0),
                    named.map(|n| n.1),
                    named.and_then(|n| n.2),
                ];
                for (k, builder) in &mut texts {
                    builder.append_option(vals[*k]);
                }
            }
            leaves.append_value(e.leaves_vpc);
            bypass.append_value(e.endpoint_bypass);
        }
        let texts: Vec<(usize, ArrayRef)> = texts
            .into_iter()
            .map(|(k, mut b)| (k, Arc::new(b.finish()) as ArrayRef))
            .collect();
        let (leaves, bypass): (ArrayRef, ArrayRef) =
            (Arc::new(leaves.finish()), Arc::new(bypass.finish()));
        Ok(wanted
            .iter()
            .map(|&k| match k.cmp(&TEXT_COLUMNS) {
                std::cmp::Ordering::Less => texts
                    .iter()
                    .find(|(x, _)| *x == k)
                    .map(|(_, a)| a.clone())
                    .expect("built above"),
                std::cmp::Ordering::Equal => leaves.clone(),
                std::cmp::Ordering::Greater => bypass.clone(),
            })
            .collect())
    }
}

impl Enricher {
    /// `remote_name`, `remote_name_source` and `remote_name_endpoint` of an enriched record.
    fn remote_name<'a>(
        &'a self,
        e: &classify::Enriched<'_>,
        start: Option<i64>,
    ) -> Option<(&'a str, &'static str, Option<&'a str>)> {
        let dns = self.dns.as_ref()?;
        let vpc = e.vpc?;
        let remote = e.remote?.parse().ok()?;
        let local = e.local.and_then(|l| l.parse().ok());
        let (name, source) = dns.name(vpc, local, remote, start?)?;
        Some((name, source, self.endpoint_names.endpoint_for(vpc, name)))
    }
}

/// Column `name` of `batch` as string views (`None` when the batch lacks it).
fn text(batch: &RecordBatch, name: &str) -> Result<Option<ArrayRef>> {
    Ok(batch
        .column_by_name(name)
        .map(|c| datafusion::arrow::compute::cast(c, &DataType::Utf8View))
        .transpose()?)
}

/// Integer column `name` of `batch` (`None` when the batch lacks it).
fn ints<'a, T: ArrowPrimitiveType>(
    batch: &'a RecordBatch,
    name: &str,
) -> Option<&'a PrimitiveArray<T>> {
    batch.column_by_name(name).map(|c| c.as_primitive::<T>())
}

fn s(c: Option<&StringViewArray>, i: usize) -> Option<&str> {
    c.and_then(|a| a.is_valid(i).then(|| a.value(i)))
}

fn int<T: ArrowPrimitiveType>(c: Option<&PrimitiveArray<T>>, i: usize) -> Option<T::Native> {
    c.and_then(|a| a.is_valid(i).then(|| a.value(i)))
}

/// The schema of [`COLUMNS`].
pub fn schema() -> Schema {
    Schema::new(fields())
}
