//! Grouped findings (`scan --group-by`) and stable finding ids.
//!
//! A rule selects flow records; one connection is usually many of them (the request and
//! its reply, and a record per aggregation interval while it lasts), so a per-record list
//! buries the one fact an auditor needs under its repeats. Grouping wraps each rule's rows
//! in SQL aggregation, so memory stays that of the groups, not of the records.

use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GroupBy {
    /// One finding per flow record.
    Flow,
    /// One finding per connection: both directions and every record of the same
    /// 5-tuple on the same ENI, with first/last seen, records and bytes.
    #[default]
    Connection,
    /// One finding per SageMaker workload and remote kind/service.
    Resource,
}

/// Columns the grouping adds, when the rule does not select a column of that name.
pub const ADDED: [&str; 3] = super::connections::ADDED;

/// The columns of a finding grouped by resource that hold for the whole group: its keys
/// and what is computed over it. The others are its first record's.
pub const OF_A_RESOURCE: &[&str] = &[
    "rule",
    "severity",
    "finding_id",
    "sagemaker_resource_type",
    "sagemaker_resource",
    "sagemaker_candidates",
    "remote_kind",
    "remote_service",
    "interfaces",
    "remotes",
    "records",
    "first_seen",
    "last_seen",
    "bytes",
    "packets",
];

/// Columns summed over a group; every other column is the first record's.
const SUMMED: &[&str] = &["bytes", "packets"];

/// The view the grouping reads a rule's rows from.
const ROWS: &str = "sageflow_rule_rows";

fn quote(c: &str) -> String {
    format!("\"{}\"", c.replace('"', "\"\""))
}

/// One side of a connection as text: address and port.
fn endpoint(addr: &str, port: &str) -> String {
    format!(
        "concat(coalesce(CAST({addr} AS VARCHAR), ''), '|', coalesce(CAST({port} AS VARCHAR), ''))"
    )
}

/// `plan`'s rows grouped `by`, or `None` when they are not flow records (or `by` is
/// `flow`).
pub async fn grouped(
    ctx: &SessionContext,
    plan: LogicalPlan,
    by: GroupBy,
) -> Result<Option<DataFrame>> {
    let columns = super::column_names(plan.schema());
    let has = |c: &str| columns.iter().any(|x| x == c);
    // The finding columns from `interface_id` to `start` make a rule's rows flow records,
    // which can be grouped; the rows of other rules (an aggregate of their own, inventory
    // facts) are findings as they are.
    let record_columns = &super::KEY_COLUMNS[2..9];
    let groupable = record_columns.iter().all(|c| has(c))
        && (by != GroupBy::Resource || has("sagemaker_resource_type") && has("sagemaker_resource"));
    if by == GroupBy::Flow || !groupable {
        return Ok(None);
    }
    let ends = [
        endpoint("srcaddr", "srcport"),
        endpoint("dstaddr", "dstport"),
    ];
    let [low, high] = [
        format!("least({}, {})", ends[0], ends[1]),
        format!("greatest({}, {})", ends[0], ends[1]),
    ];
    // The first record: at equal times, the one sent from the higher port, which is the
    // client's request rather than the server's reply.
    let first = "\"start\" ASC NULLS LAST, \"srcport\" DESC NULLS LAST, \"srcaddr\" ASC NULLS LAST";
    if by == GroupBy::Connection {
        // Then the record's own place in the logs, so that of two records alike in those
        // the same one is first in every run.
        let mut order = first.to_string();
        for c in ["source_object", "source_line"]
            .into_iter()
            .filter(|c| has(c))
        {
            order.push_str(&format!(", {} ASC NULLS LAST", quote(c)));
        }
        let sql = format!(
            "SELECT *, {low} AS {lo}, {high} AS {hi} FROM {ROWS} \
             ORDER BY \"interface_id\", \"protocol\", {lo}, {hi}, {order}",
            lo = quote(super::connections::LOW_END),
            hi = quote(super::connections::HIGH_END),
        );
        if let Some(df) = by_connection(ctx, plan.clone(), &sql).await? {
            return Ok(Some(df));
        }
    }
    let keys: Vec<String> = match by {
        GroupBy::Connection => vec![quote("interface_id"), quote("protocol"), low, high],
        _ => {
            let mut k: Vec<String> = ["sagemaker_resource_type", "sagemaker_resource"]
                .into_iter()
                .chain(
                    ["sagemaker_candidates", "remote_kind", "remote_service"]
                        .into_iter()
                        .filter(|c| has(c)),
                )
                .map(quote)
                .collect();
            // A workload of no known name is told apart by its ENI.
            k.push(
                "CASE WHEN \"sagemaker_resource\" IS NULL THEN \"interface_id\" END".to_string(),
            );
            k
        }
    };
    let is_key = |c: &str| match by {
        GroupBy::Connection => c == "interface_id" || c == "protocol",
        _ => [
            "sagemaker_resource_type",
            "sagemaker_resource",
            "sagemaker_candidates",
            "remote_kind",
            "remote_service",
        ]
        .contains(&c),
    };
    let mut select: Vec<String> = columns
        .iter()
        .map(|c| {
            let q = quote(c);
            if is_key(c) {
                q
            } else if c == "start" {
                format!("min({q}) AS {q}")
            } else if c == "end" {
                format!("max({q}) AS {q}")
            } else if SUMMED.contains(&c.as_str()) {
                format!("sum({q}) AS {q}")
            } else {
                format!("first_value({q} ORDER BY {first}) AS {q}")
            }
        })
        .collect();
    let last = if has("end") {
        "max(coalesce(\"end\", \"start\"))"
    } else {
        "max(\"start\")"
    };
    for (name, expr) in [
        ("first_seen", "min(\"start\")".to_string()),
        ("last_seen", last.to_string()),
        ("records", "count(*)".to_string()),
    ] {
        if !has(name) {
            select.push(format!("{expr} AS {name}"));
        }
    }
    if by == GroupBy::Resource {
        for (name, expr) in [
            ("interfaces", "count(DISTINCT \"interface_id\")"),
            ("remotes", "count(DISTINCT \"remote_addr\")"),
        ] {
            if !has(name) && (name != "remotes" || has("remote_addr")) {
                select.push(format!("{expr} AS {name}"));
            }
        }
    }
    let sql = format!(
        "SELECT {} FROM {ROWS} GROUP BY {}",
        select.join(", "),
        keys.join(", ")
    );
    over_rows(ctx, plan, &sql).await.map(Some)
}

/// `sql` planned over `plan`'s rows, which it reads as [`ROWS`].
async fn over_rows(ctx: &SessionContext, plan: LogicalPlan, sql: &str) -> Result<DataFrame> {
    let rows = DataFrame::new(ctx.state(), plan).into_view();
    let _ = ctx.deregister_table(ROWS).map_err(Error::from_datafusion)?;
    ctx.register_table(ROWS, rows)
        .map_err(Error::from_datafusion)?;
    // The plan holds the view itself, so the name is free again once it is planned.
    let df = ctx.sql(sql).await;
    ctx.deregister_table(ROWS).map_err(Error::from_datafusion)?;
    df.map_err(Error::from_datafusion)
}

/// One finding per connection from `sorted` (the rule's rows with the connection's ends,
/// sorted by connection, first record first) in one pass ([`super::connections`]); `None`
/// when the rule's columns do not suit it (they are grouped by SQL instead).
async fn by_connection(
    ctx: &SessionContext,
    plan: LogicalPlan,
    sorted: &str,
) -> Result<Option<DataFrame>> {
    use super::connections::{Connections, Layout};
    let df = over_rows(ctx, plan, sorted).await?;
    let Some(layout) = Layout::new(df.schema().as_arrow(), SUMMED) else {
        return Ok(None);
    };
    let sorted = df
        .create_physical_plan()
        .await
        .map_err(Error::from_datafusion)?;
    if sorted.properties().partitioning.partition_count() != 1 {
        return Ok(None);
    }
    // A rule's author (and a benchmark) reads here which side of each join is held.
    tracing::debug!(
        "a rule's rows, sorted by connection:\n{}",
        datafusion::physical_plan::displayable(sorted.as_ref()).indent(true)
    );
    let Some(sorted) = super::sorting::compact(&sorted).map_err(Error::from_datafusion)? else {
        tracing::debug!(
            "the rows of a rule are grouped by SQL: their sorted plan is not one sort\n{}",
            datafusion::physical_plan::displayable(sorted.as_ref()).indent(false)
        );
        return Ok(None);
    };
    let schema = layout.output();
    let table = datafusion::catalog::streaming::StreamingTable::try_new(
        schema,
        vec![std::sync::Arc::new(Connections::new(layout, sorted))],
    )
    .map_err(Error::from_datafusion)?;
    ctx.read_table(std::sync::Arc::new(table))
        .map(Some)
        .map_err(Error::from_datafusion)
}

/// A finding's id, stable across runs: a hash of the rule and what identifies the finding
/// at its grouping — the record (ENI, 5-tuple, start, action), the connection (ENI,
/// protocol, both ends in either order) or the workload and remote kind/service. Findings
/// of rules whose rows are not flow records are identified by the rule and their key
/// columns.
pub fn finding_id(rule: &str, by: GroupBy, grouped: bool, f: &impl super::Lookup) -> String {
    let mut id = String::with_capacity(32);
    write_finding_id(rule, by, grouped, f, &mut id);
    id
}

/// [`finding_id`] into `id` (cleared first): a scan makes one per finding, and the texts
/// it hashes are looked up in place, without a string each.
pub fn write_finding_id(
    rule: &str,
    by: GroupBy,
    grouped: bool,
    f: &impl super::Lookup,
    id: &mut String,
) {
    // The parts are hashed as they are made, each followed by a NUL.
    fn part(h: &mut Sha256, p: &str) {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let mut h = Sha256::new();
    let mut buf = String::new();
    part(&mut h, rule);
    match (grouped, by) {
        (true, GroupBy::Connection) => {
            part(&mut h, "connection");
            part(&mut h, f.text_in("interface_id", &mut buf));
            part(&mut h, f.text_in("protocol", &mut buf));
            let mut ends = [String::new(), String::new()];
            for (end, (addr, port)) in ends
                .iter_mut()
                .zip([("srcaddr", "srcport"), ("dstaddr", "dstport")])
            {
                end.push_str(f.text_in(addr, &mut buf));
                end.push('|');
                end.push_str(f.text_in(port, &mut buf));
            }
            ends.sort();
            ends.iter().for_each(|e| part(&mut h, e));
        }
        (true, GroupBy::Resource) => {
            part(&mut h, "resource");
            for k in [
                "sagemaker_resource_type",
                "sagemaker_resource",
                "sagemaker_candidates",
                "remote_kind",
                "remote_service",
            ] {
                part(&mut h, f.text_in(k, &mut buf));
            }
            if f.value("sagemaker_resource").is_none_or(|v| v.is_null()) {
                part(&mut h, f.text_in("interface_id", &mut buf));
            }
        }
        _ => {
            part(&mut h, "record");
            for k in super::KEY_COLUMNS[2..]
                .iter()
                .chain(&["reason", "log_status"])
            {
                part(&mut h, f.text_in(k, &mut buf));
            }
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    id.clear();
    for b in &h.finalize()[..16] {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 15)]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn finding(pairs: &[(&str, Value)]) -> serde_json::Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn a_connection_has_one_id_in_both_directions() {
        let request = finding(&[
            ("interface_id", "eni-1".into()),
            ("protocol", 6.into()),
            ("srcaddr", "10.0.0.1".into()),
            ("srcport", 50000.into()),
            ("dstaddr", "52.1.1.1".into()),
            ("dstport", 443.into()),
            ("start", 100.into()),
        ]);
        let mut reply = request.clone();
        reply.insert("srcaddr".into(), "52.1.1.1".into());
        reply.insert("srcport".into(), 443.into());
        reply.insert("dstaddr".into(), "10.0.0.1".into());
        reply.insert("dstport".into(), 50000.into());
        reply.insert("start".into(), 160.into());
        let id = |f| finding_id("leaves-vpc", GroupBy::Connection, true, f);
        assert_eq!(id(&request), id(&reply));
        assert_eq!(id(&request).len(), 32);
        assert_ne!(
            id(&request),
            finding_id("endpoint-bypass", GroupBy::Connection, true, &request)
        );
        // Per record, the two are different findings.
        let flow = |f| finding_id("leaves-vpc", GroupBy::Flow, false, f);
        assert_ne!(flow(&request), flow(&reply));
    }
}
