//! `sageflow inventory show`: what was understood, and what was not.
//!
//! Every section is printed even when empty ("none"), because a missing describe call is
//! exactly what the user needs to notice.

use std::fmt::Write;

use chrono::{DateTime, SecondsFormat};

use super::{
    EndpointType, Eni, Inventory, JobKind, LifetimeSource, Placed, RouteDestination, VpcEndpoint,
};

/// Human report of an inventory for `sageflow inventory show`. `owner` describes an ENI's
/// owner (given by the enrichment stage, e.g. "sagemaker notebook_instance nb-analyst" or
/// "nat_gateway").
pub fn render(inv: &Inventory, ip_ranges_source: &str, owner: &dyn Fn(&Eni) -> String) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut out, inv, ip_ranges_source, owner);
    out
}

fn write_report(
    out: &mut String,
    inv: &Inventory,
    ip_ranges_source: &str,
    owner: &dyn Fn(&Eni) -> String,
) -> std::fmt::Result {
    heading(out, "Files read", inv.files.len())?;
    for f in &inv.files {
        writeln!(out, "  {f}")?;
    }

    heading(out, "VPCs", inv.vpcs.len())?;
    for v in &inv.vpcs {
        write!(out, "  {}  {}", v.id, list(&v.cidrs))?;
        if !v.former.is_empty() {
            write!(out, "  (disassociated: {})", list(&v.former))?;
        }
        writeln!(out)?;
    }

    let of_type = |t: EndpointType| -> Vec<&VpcEndpoint> {
        let mut v: Vec<&VpcEndpoint> = inv
            .vpc_endpoints
            .iter()
            .filter(|e| e.endpoint_type == t)
            .collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    };
    let interface = of_type(EndpointType::Interface);
    heading(out, "Interface endpoints", interface.len())?;
    for e in interface {
        let dns = match e.private_dns_enabled {
            Some(true) => "private DNS on",
            Some(false) => "private DNS off",
            None => "private DNS unknown",
        };
        writeln!(out, "  {}  {}  {}  {dns}", e.id, e.service_name, e.vpc_id)?;
        for id in &e.eni_ids {
            writeln!(out, "    {id}  {}", eni_ips(inv, id))?;
        }
    }

    let gateway = of_type(EndpointType::Gateway);
    heading(out, "Gateway endpoints", gateway.len())?;
    for e in gateway {
        writeln!(
            out,
            "  {}  {}  {}  route tables: {}",
            e.id,
            e.service_name,
            e.vpc_id,
            or_none(&e.route_table_ids.join(", "))
        )?;
        for pl in gateway_prefix_lists(inv, e) {
            match inv.prefix_lists.get(&pl) {
                Some(p) if !p.cidrs.is_empty() => {
                    writeln!(out, "    {pl}: {}", list(&p.cidrs))?;
                }
                _ => writeln!(out, "    {pl}: CIDRs unknown")?,
            }
        }
    }

    let other = of_type(EndpointType::Other);
    if !other.is_empty() {
        heading(out, "Other endpoints", other.len())?;
        for e in other {
            writeln!(out, "  {}  {}  {}", e.id, e.service_name, e.vpc_id)?;
        }
    }

    heading(out, "NAT gateways", inv.nat_gateways.len())?;
    for n in &inv.nat_gateways {
        writeln!(
            out,
            "  {}  {}{}  {}  {}",
            n.id,
            or_none(&n.connectivity),
            if n.regional { " regional" } else { "" },
            or_none(&n.vpc_id),
            n.subnet_id.as_deref().unwrap_or("-")
        )?;
        writeln!(
            out,
            "    ENIs: {}  private: {}  public: {}",
            or_none(&n.eni_ids.join(", ")),
            or_none(&list(&n.private_ips)),
            or_none(&list(&n.public_ips))
        )?;
    }

    let mut pls: Vec<_> = inv.prefix_lists.values().collect();
    pls.sort_by(|a, b| a.id.cmp(&b.id));
    heading(out, "Prefix lists", pls.len())?;
    for p in pls {
        let name = or_none(&p.name);
        if p.cidrs.is_empty() {
            writeln!(out, "  {}  {name}  entries unknown", p.id)?;
        } else {
            writeln!(
                out,
                "  {}  {name}  {} CIDRs: {}",
                p.id,
                p.cidrs.len(),
                list(&p.cidrs)
            )?;
        }
    }

    heading(out, "Route tables", inv.route_tables.len())?;
    for r in &inv.route_tables {
        let main = if r.main { "main, " } else { "" };
        writeln!(
            out,
            "  {}  {}  {} routes  {main}subnets: {}",
            r.id,
            or_none(&r.vpc_id),
            r.routes.len(),
            or_none(&r.subnet_ids.join(", "))
        )?;
    }

    heading(out, "Flow logs", inv.flow_logs.len())?;
    for f in &inv.flow_logs {
        let dest = f
            .destination
            .as_deref()
            .or(f.log_group_name.as_deref())
            .unwrap_or("-");
        writeln!(
            out,
            "  {}  {}  -> {} {dest}",
            f.id,
            or_none(&f.resource_id),
            f.destination_type.as_deref().unwrap_or("-")
        )?;
        writeln!(
            out,
            "    format: {}",
            f.log_format.as_deref().unwrap_or("default")
        )?;
    }

    let mut enis: Vec<&Eni> = inv.enis.values().collect();
    enis.sort_by(|a, b| a.id.cmp(&b.id));
    heading(out, "ENIs", enis.len())?;
    for e in enis {
        let mut ips = list(&e.addresses);
        if !e.prefixes.is_empty() {
            let _ = write!(ips, " (prefixes {})", list(&e.prefixes));
        }
        if let Some(p) = e.public_ip {
            let _ = write!(ips, " public {p}");
        }
        let who = owner(e);
        writeln!(
            out,
            "  {}  {}  {}  {}  {}",
            e.id,
            or_none(&ips),
            e.subnet_id.as_deref().unwrap_or("-"),
            or_none(&e.interface_type),
            if who.is_empty() { "-" } else { who.as_str() }
        )?;
    }

    // CloudTrail's view: when each ENI lived, who made it, and what it is attributed to.
    if inv.trail.files == 0 {
        writeln!(
            out,
            "CloudTrail: none (the records of ENIs deleted before this inventory was taken, a finished job's, cannot be attributed: add the trail's files, AWSLogs/<account>/CloudTrail/…, to --inventory)"
        )?;
    } else {
        let t = &inv.trail;
        let range = match t.range {
            Some((a, b)) => format!("{} to {}", time(Some(a), "-"), time(Some(b), "-")),
            None => "no ENI events".to_string(),
        };
        writeln!(
            out,
            "CloudTrail: {} file(s), {} record(s), ENI events {range}; {} failed call(s) (DryRun or error) skipped; {} delete(s) of ENIs created before the files",
            t.files, t.records, t.failed_calls, t.deletes_without_create
        )?;
    }
    if let (Some(first), Some(last)) = (inv.snapshots.first(), inv.snapshots.last()) {
        writeln!(
            out,
            "Inventory snapshots: {} dated describe-network-interfaces, {} to {}; ENIs the newest no longer lists are attributed within their lifetimes",
            inv.snapshots.len(),
            time(Some(*first), "-"),
            time(Some(*last), "-")
        )?;
    }
    if !inv.lifetimes.is_empty() {
        heading(out, "ENI lifetimes", inv.lifetimes.len())?;
    }
    for l in &inv.lifetimes {
        let e = &l.eni;
        let listed = if inv.enis.contains_key(&e.id) {
            "listed"
        } else {
            "deleted before the inventory"
        };
        let who = owner(e);
        writeln!(
            out,
            "  {}  {}  {}  {} .. {}  {}  created by {}{}  ({listed}; {}: {})",
            e.id,
            or_none(&list(&e.addresses)),
            e.subnet_id.as_deref().unwrap_or("-"),
            time(l.created, "?"),
            time(l.deleted, "not deleted"),
            if who.is_empty() { "-" } else { who.as_str() },
            l.created_by.as_deref().unwrap_or("-"),
            l.invoked_by
                .as_deref()
                .map(|b| format!(" via {b}"))
                .unwrap_or_default(),
            match l.from {
                LifetimeSource::CloudTrail => "CloudTrail",
                LifetimeSource::Snapshots => "snapshots",
            },
            l.source
        )?;
    }

    heading(out, "SageMaker notebook instances", inv.notebooks.len())?;
    for n in &inv.notebooks {
        let access = if n.direct_internet_access {
            "Enabled"
        } else {
            "Disabled"
        };
        writeln!(
            out,
            "  {}  {}  {}  DirectInternetAccess {access}",
            n.name,
            n.eni_id.as_deref().unwrap_or("-"),
            n.subnet_id.as_deref().unwrap_or("-")
        )?;
    }

    heading(out, "SageMaker domains", inv.domains.len())?;
    for d in &inv.domains {
        writeln!(
            out,
            "  {} ({})  {}  {}  subnets: {}  security groups: {}",
            d.id,
            or_none(&d.name),
            or_none(&d.app_network_access_type),
            d.vpc_id.as_deref().unwrap_or("-"),
            or_none(&d.subnet_ids.join(", ")),
            or_none(&d.security_group_ids.join(", "))
        )?;
    }

    heading(out, "SageMaker Studio spaces", inv.spaces.len())?;
    for s in &inv.spaces {
        writeln!(
            out,
            "  {} {}  {}  owner {}",
            s.domain_id,
            s.name,
            if s.shared { "shared" } else { "private" },
            s.owner.as_deref().unwrap_or("-"),
        )?;
    }

    // Workloads that make no record in your flow logs are marked.
    let outside_vpc: std::collections::HashSet<(Placed, &str)> = inv
        .placements()
        .into_iter()
        .filter(|p| p.outside_vpc == Some(true))
        .map(|p| (p.placed, p.name))
        .collect();
    // The end of a workload's line: the mark, when it runs outside.
    let mark = |placed: Placed, name: &str| {
        if outside_vpc.contains(&(placed, name)) {
            "  outside your VPCs (SageMaker-managed)"
        } else {
            ""
        }
    };
    heading(out, "SageMaker jobs", inv.jobs.len())?;
    for j in &inv.jobs {
        let kind = match j.kind {
            JobKind::Training => "training",
            JobKind::Processing => "processing",
            JobKind::Transform => "transform",
        };
        // A job in progress is bounded by its stopping condition: say until when.
        let end = match j.stops_by() {
            Some(to) => format!("not ended (at the latest {})", time(Some(to), "")),
            None => time(j.end, "not ended"),
        };
        write!(
            out,
            "  {kind} {}  {} .. {end}",
            j.name,
            time(j.start, "not started"),
        )?;
        if let Some(m) = &j.model_name {
            write!(out, "  model {m}")?;
        }
        if j.kind != JobKind::Transform || !j.security_group_ids.is_empty() {
            write!(out, "  {}", vpc_config(&j.security_group_ids, &j.subnets))?;
        }
        writeln!(out, "{}", mark(Placed::Job(j.kind), &j.name))?;
    }

    heading(out, "SageMaker models", inv.models.len())?;
    for m in &inv.models {
        writeln!(
            out,
            "  {}  {}",
            m.name,
            vpc_config(&m.security_group_ids, &m.subnets)
        )?;
    }

    heading(
        out,
        "SageMaker endpoint configs",
        inv.endpoint_configs.len(),
    )?;
    for c in &inv.endpoint_configs {
        writeln!(
            out,
            "  {}  models: {}{}",
            c.name,
            or_none(&c.model_names.join(", ")),
            if c.serverless { "  serverless" } else { "" }
        )?;
    }

    heading(out, "SageMaker endpoints", inv.endpoints.len())?;
    for e in &inv.endpoints {
        writeln!(
            out,
            "  {}  config {}{}{}",
            e.name,
            or_none(&e.config_name),
            e.pending_config_name
                .as_deref()
                .map(|p| format!(" (update in progress to config {p})"))
                .unwrap_or_default(),
            mark(Placed::Endpoint, &e.name)
        )?;
    }

    heading(out, "SageMaker HyperPod clusters", inv.clusters.len())?;
    for c in &inv.clusters {
        write!(
            out,
            "  {}  {}  {}  created {}  {}",
            c.name,
            c.orchestrator,
            c.status.as_deref().unwrap_or("-"),
            time(c.created, "unknown"),
            vpc_config(&c.security_group_ids, &c.subnets)
        )?;
        for g in c.groups.iter().filter(|g| !g.subnets.is_empty()) {
            let overrides = vpc_config(&g.security_group_ids, &g.subnets);
            write!(out, "  group {} overrides: {overrides}", g.name)?;
        }
        writeln!(out, "{}", mark(Placed::Cluster, &c.name))?;
    }
    heading(out, "SageMaker HyperPod nodes", inv.cluster_nodes.len())?;
    for n in &inv.cluster_nodes {
        writeln!(
            out,
            "  {}  cluster {}  group {}  {}",
            n.instance_id,
            or_none(&n.cluster),
            n.group.as_deref().unwrap_or("-"),
            n.private_ip.map_or("-".to_string(), |ip| ip.to_string()),
        )?;
    }
    heading(
        out,
        "SageMaker MLflow tracking servers",
        inv.mlflow_servers.len(),
    )?;
    for m in &inv.mlflow_servers {
        writeln!(
            out,
            "  {}  {}  created {}  artifact store {}{}",
            m.name,
            m.status.as_deref().unwrap_or("-"),
            time(m.created, "unknown"),
            m.artifact_store.as_deref().unwrap_or("-"),
            mark(Placed::MlflowServer, &m.name)
        )?;
    }

    let r = &inv.ip_ranges;
    if r.is_empty() {
        writeln!(out, "ip-ranges: {ip_ranges_source}, empty")?;
    } else {
        writeln!(
            out,
            "ip-ranges: {ip_ranges_source}, createDate {}, syncToken {}, {} IPv4 and {} IPv6 prefixes",
            or_none(&r.create_date),
            or_none(&r.sync_token),
            r.ipv4_prefixes(),
            r.ipv6_prefixes()
        )?;
    }

    for w in &inv.warnings {
        writeln!(out, "warning: {w}")?;
    }
    Ok(())
}

fn heading(out: &mut String, title: &str, n: usize) -> std::fmt::Result {
    if n == 0 {
        writeln!(out, "{title}: none")
    } else {
        writeln!(out, "{title} ({n}):")
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A SageMaker VpcConfig as one line's part.
fn vpc_config(groups: &[String], subnets: &[String]) -> String {
    format!(
        "security groups: {}  subnets: {}",
        or_none(&groups.join(", ")),
        or_none(&subnets.join(", "))
    )
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

fn eni_ips(inv: &Inventory, id: &str) -> String {
    match inv.enis.get(id) {
        Some(e) if !e.addresses.is_empty() => list(&e.addresses),
        Some(_) => "no addresses".to_string(),
        None => "not in describe-network-interfaces".to_string(),
    }
}

/// The prefix lists a gateway endpoint serves: those its route tables route to it, and
/// the AWS-managed list named after its service (present even when no route was saved).
fn gateway_prefix_lists(inv: &Inventory, e: &VpcEndpoint) -> Vec<String> {
    let mut ids: Vec<String> = inv
        .route_tables
        .iter()
        .flat_map(|r| &r.routes)
        .filter(|r| r.target == e.id)
        .filter_map(|r| match &r.destination {
            RouteDestination::PrefixList(pl) => Some(pl.clone()),
            RouteDestination::Cidr(_) => None,
        })
        .collect();
    ids.extend(
        inv.prefix_lists
            .values()
            .filter(|p| !e.service_name.is_empty() && p.name == e.service_name)
            .map(|p| p.id.clone()),
    );
    ids.sort();
    ids.dedup();
    ids
}

fn time(t: Option<i64>, missing: &str) -> String {
    match t {
        Some(secs) => DateTime::from_timestamp(secs, 0)
            .map(|d| d.to_rfc3339_opts(SecondsFormat::Secs, true))
            .unwrap_or_else(|| format!("@{secs}")),
        None => missing.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn renders_the_sample_inventory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/inventory");
        let inv = super::super::load::load(&dir, None).expect("sample loads");
        let owner = |e: &Eni| format!("owner-of-{}", e.id);
        let text = render(&inv, "built-in", &owner);

        for id in inv.enis.keys() {
            assert!(text.contains(id.as_str()), "missing {id}\n{text}");
            assert!(
                text.contains(&format!("owner-of-{id}")),
                "missing owner of {id}"
            );
        }
        assert!(
            text.contains("eni-0c5bde740a6b7c1ba  10.20.1.100"),
            "{text}"
        );
        assert!(text.contains("com.amazonaws.us-east-1.sagemaker.api"));
        assert!(text.contains("44.200.10.10"));
        assert!(text.contains("PublicInternetOnly"));
        assert!(text.contains("DirectInternetAccess Enabled"));
        assert!(
            text.contains("pl-63a5400a: 52.216.0.0/15, 54.231.0.0/16, 16.182.0.0/16, 3.5.0.0/19")
        );
        assert!(text.contains("train-a  2026-11-20T10:00:00Z .. 2026-11-20T10:40:01Z"));
        assert!(text.contains("ip-ranges: built-in, createDate 2026-08-22-21-17-05"));
        assert!(!text.contains("warning: "));
        // The deleted training job's ENI, from the sample's CloudTrail files.
        assert!(text.contains(
            "eni-0c7d2f4a9e1b35680  10.20.2.31  subnet-0sm000000000000b2  2026-11-20T11:43:12Z .. 2026-11-20T11:56:40Z  owner-of-eni-0c7d2f4a9e1b35680  created by "
        ));

        // ENIs are listed in id order.
        let section = text
            .split_once("ENIs (16):\n")
            .and_then(|(_, rest)| rest.split_once("CloudTrail: "))
            .map(|(s, _)| s)
            .expect("ENI section");
        let listed: Vec<&str> = section
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        let mut ids: Vec<&str> = inv.enis.keys().map(String::as_str).collect();
        ids.sort_unstable();
        assert_eq!(listed, ids);

        // Deterministic: the same inventory renders the same text.
        let again = super::super::load::load(&dir, None).expect("sample loads");
        assert_eq!(render(&again, "built-in", &owner), text);
    }

    #[test]
    fn empty_inventory_and_warnings() {
        let mut inv = Inventory::default();
        inv.warnings.push("x.json: something; skipped".to_string());
        let text = render(&inv, "/tmp/ip-ranges.json", &|_| String::new());
        assert!(text.contains("VPCs: none"));
        assert!(text.contains("ENIs: none"));
        assert!(text.contains("ip-ranges: /tmp/ip-ranges.json, empty"));
        assert!(text.ends_with("warning: x.json: something; skipped\n"));
    }
}
