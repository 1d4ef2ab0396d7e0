//! `sageflow scan`: runs every rule, removes accepted findings (suppressions), and
//! writes the findings as a table, JSON, NDJSON, CSV or SARIF.

mod connections;
mod csv;
mod delivery;
pub mod fanout;
pub mod findings;
pub mod group;
mod report;
mod rows;
pub mod rules;
mod sorting;
mod spool;
pub mod state;
mod suppress;

use std::io::Write;

use datafusion::logical_expr::LogicalPlan;
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};

pub use delivery::delivery_notes;
pub use findings::{Findings, Lookup, Row};
pub use group::GroupBy;
pub use report::{FindingFormat, SARIF_MAX_RESULTS, iso, shown_raw, write};
pub use rows::json_rows;
pub use rules::Rule;
pub use spool::Spool;
pub use suppress::{Suppression, check_suppressions, load_suppressions};

use crate::error::{Error, Result};

/// Sets `ctx` up for a scan. A DataFusion sort (a rule's own `ORDER BY`; the finding
/// orders are `sorting::Sorted`) keeps back, from the memory limit, what merging its
/// spilled runs would take (`sort_spill_reservation_bytes`): at the sixteenth of the limit
/// that suits one sort (export), a dozen rules' sorts held back most of the limit before
/// any of them had a row, and sorted their rows in pieces too small to fit. A sixty-fourth
/// is kept.
///
/// A rule's joins build one hash table of their build side instead of repartitioning both
/// sides by key (`repartition_joins`): the probe side is a rule's share of the read, and
/// its repartition held a batch coalescer per partition on top of the queue it reads
/// from. The `internet-ingress` join so cost 10–13 MB of peak RSS on both benchmark
/// corpora (A/B, three alternating runs: scan 196–200 → 186–192 MB, 4x corpus
/// 305–311 → 296–298 MB, report 215–226 → 204–210 MB), at the same speed and with the same
/// findings.
pub fn configure(ctx: &SessionContext) {
    let state = ctx.state_ref();
    let mut state = state.write();
    let options = state.config_mut().options_mut();
    options.execution.sort_spill_reservation_bytes /= 4;
    options.optimizer.repartition_joins = false;
}

/// Columns every finding carries, in output order (missing ones are NULL).
pub const KEY_COLUMNS: &[&str] = &[
    "rule",
    "severity",
    "interface_id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "start",
    "action",
    "sagemaker_resource_type",
    "sagemaker_resource",
    "remote_kind",
    "remote_service",
];

pub type Finding = Map<String, Value>;

/// What the scanned records were attributed to, for the scan summary: records of
/// SageMaker workloads, and records on ENIs that no inventory document names (from the
/// `unknown-enis` report).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub sagemaker_records: u64,
    /// Of those, the records of captured traffic (`log-status` OK; without the field, those
    /// with an address or packet count, which NODATA and SKIPDATA records lack), and those
    /// of them without an `action`: a format without the field, on which no rule can
    /// decide.
    pub sagemaker_traffic: u64,
    pub sagemaker_no_action: u64,
    /// Records of NAT gateways attributed to a workload by the address in the packet: the
    /// workload's traffic seen on the gateway, counted apart (where the workload's own ENI is
    /// logged too, they are the same connections again).
    pub nat_leg_records: u64,
    pub unknown_enis: u64,
    pub unknown_records: u64,
    pub unknown_bytes: u64,
    /// Of `unknown_records`, those attributed by the record's subnet and time.
    pub attributed: u64,
    /// First start and last end of those records, Unix seconds (0: none).
    pub unknown_from: u64,
    pub unknown_to: u64,
    /// Of the unknown ENIs, those whose records name an account (`account-id`) that owns
    /// no ENI of the inventory: logs of accounts whose inventory was not given (a central
    /// log bucket), not ENIs missing from a given one.
    pub foreign_enis: u64,
    pub foreign_records: u64,
    /// The lowest such account id, and how many there are.
    pub foreign_account: u64,
    pub foreign_accounts: u64,
    /// Of the unknown ENIs, those whose records name a region (`region`) in which the
    /// inventory has no ENI: logs of a region whose inventory was not given.
    pub other_region_enis: u64,
    pub other_region_records: u64,
    pub other_regions: u64,
}

impl Coverage {
    /// "N records of SageMaker workloads", with the NAT gateway legs attributed to them
    /// when there are any: where only the gateway is logged, they are all there is, and a
    /// bare 0 would read as "nothing of SageMaker was seen".
    pub fn workload_records(&self) -> String {
        format!(
            "{} records of SageMaker workloads{}",
            self.sagemaker_records,
            nat_legs(self.nat_leg_records, self.nat_leg_records)
        )
    }

    /// Plans the summary's two queries over `flows` (the second built on the
    /// `unknown-enis` report) and starts them; [`Coverage::of`] reads their results. Two
    /// plans, not one with a subquery: a join of two reads of `flows` would make one wait
    /// (on disk) for the other.
    /// Unknown ENIs are told apart by the accounts and regions `inv`'s ENIs are in.
    pub async fn start(
        ctx: &SessionContext,
        unknown_enis: &Rule,
        inv: &crate::inventory::Inventory,
    ) -> Result<CoverageRun> {
        // `unknown` (an AWS-created interface) and a format without the field say nothing:
        // account ids are digits.
        let foreign = none_of(
            "try_cast(account_id AS BIGINT) IS NOT NULL",
            "account_id",
            inv.enis.values().filter_map(|e| e.owner_id.as_deref()),
            |a| a.bytes().all(|b| b.is_ascii_digit()),
        );
        let elsewhere = none_of(
            "region IS NOT NULL",
            "region",
            inv.enis.values().filter_map(|e| e.region.as_deref()),
            |r| r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
        );
        let unknown = format!(
            "SELECT count(*) AS unknown_enis, coalesce(sum(records), 0) AS unknown_records, \
             coalesce(sum(bytes), 0) AS unknown_bytes, \
             coalesce(sum(attributed_records), 0) AS attributed, \
             min(first_start) AS unknown_from, max(last_end) AS unknown_to, \
             coalesce(sum(CASE WHEN {foreign} THEN 1 ELSE 0 END), 0) AS foreign_enis, \
             coalesce(sum(CASE WHEN {foreign} THEN records ELSE 0 END), 0) AS foreign_records, \
             min(CASE WHEN {foreign} THEN try_cast(account_id AS BIGINT) END) AS foreign_account, \
             count(DISTINCT CASE WHEN {foreign} THEN account_id END) AS foreign_accounts, \
             coalesce(sum(CASE WHEN {elsewhere} THEN 1 ELSE 0 END), 0) AS other_region_enis, \
             coalesce(sum(CASE WHEN {elsewhere} THEN records ELSE 0 END), 0) AS other_region_records, \
             count(DISTINCT CASE WHEN {elsewhere} THEN region END) AS other_regions \
             FROM ({}\n) AS r",
            unknown_enis.sql.trim().trim_end_matches(';')
        );
        // A NODATA or SKIPDATA record has neither addresses nor packets (nor an action).
        let traffic = "coalesce(log_status = 'OK', srcaddr IS NOT NULL OR packets IS NOT NULL)";
        let workloads = format!(
            "SELECT coalesce(sum(CASE WHEN eni_owner_kind = 'sagemaker' THEN 1 ELSE 0 END), 0) AS sagemaker_records, \
             coalesce(sum(CASE WHEN eni_owner_kind = 'sagemaker' AND {traffic} THEN 1 ELSE 0 END), 0) AS sagemaker_traffic, \
             coalesce(sum(CASE WHEN eni_owner_kind = 'sagemaker' AND {traffic} AND action IS NULL THEN 1 ELSE 0 END), 0) AS sagemaker_no_action, \
             coalesce(sum(CASE WHEN attribution = 'packet_address' THEN 1 ELSE 0 END), 0) AS nat_leg_records \
             FROM flows WHERE eni_owner_kind IN ('sagemaker', 'nat_gateway') \
             AND (eni_owner_kind = 'sagemaker' OR attribution = 'packet_address')"
        );
        let mut streams = Vec::new();
        for sql in [workloads.as_str(), unknown.as_str()] {
            let stream = ctx
                .sql(sql)
                .await
                .map_err(Error::from_datafusion)?
                .execute_stream()
                .await
                .map_err(Error::from_datafusion)?;
            streams.push(eager(stream));
        }
        Ok(CoverageRun(streams))
    }

    /// The counts from the queries [`Coverage::start`] started.
    pub async fn of(run: CoverageRun) -> Result<Coverage> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::{DataType, UInt64Type};
        let mut v = Vec::new();
        for mut stream in run.0 {
            let width = stream.schema().fields().len();
            let mut row = vec![0u64; width];
            while let Some(b) = stream.next().await {
                let b = b.map_err(Error::from_datafusion)?;
                if b.num_rows() == 0 {
                    continue;
                }
                for (i, slot) in row.iter_mut().enumerate() {
                    let a = datafusion::arrow::compute::cast(b.column(i), &DataType::UInt64)?;
                    let a = a.as_primitive::<UInt64Type>();
                    *slot = if a.is_valid(0) { a.value(0) } else { 0 };
                }
            }
            v.extend(row);
        }
        Ok(Coverage {
            sagemaker_records: v[0],
            sagemaker_traffic: v[1],
            sagemaker_no_action: v[2],
            nat_leg_records: v[3],
            unknown_enis: v[4],
            unknown_records: v[5],
            unknown_bytes: v[6],
            attributed: v[7],
            unknown_from: v[8],
            unknown_to: v[9],
            foreign_enis: v[10],
            foreign_records: v[11],
            foreign_account: v[12],
            foreign_accounts: v[13],
            other_region_enis: v[14],
            other_region_records: v[15],
            other_regions: v[16],
        })
    }
}

/// " (and N NAT gateway legs …)" after a count of workload records, when `n` > 0; `shown`
/// is N as the output writes it.
pub fn nat_legs(n: u64, shown: impl std::fmt::Display) -> String {
    if n == 0 {
        return String::new();
    }
    format!(" (and {shown} NAT gateway legs attributed to them by packet address)")
}

/// `(guard AND column NOT IN (…))` over the distinct `values` that `valid` accepts
/// (quoted as SQL text, so only values of a known alphabet); `false` when there are none:
/// an inventory that says nothing makes nothing foreign.
fn none_of<'a>(
    guard: &str,
    column: &str,
    values: impl Iterator<Item = &'a str>,
    valid: impl Fn(&str) -> bool,
) -> String {
    let mut listed: Vec<&str> = values.filter(|v| !v.is_empty() && valid(v)).collect();
    listed.sort_unstable();
    listed.dedup();
    if listed.is_empty() {
        return "false".to_string();
    }
    let quoted: Vec<String> = listed.iter().map(|v| format!("'{v}'")).collect();
    format!("({guard} AND {column} NOT IN ({}))", quoted.join(", "))
}

/// The summary's queries, running; see [`Coverage::start`].
pub struct CoverageRun(Vec<SendableRecordBatchStream>);

/// What the inventory's flow logs cannot show, for the scan summary: flow logs of only
/// rejected or only accepted traffic, and record formats without fields some rules use.
/// `read` names the flow logs (ids) and log groups the scanned objects came from; when
/// none is known, every flow log that covers a SageMaker ENI is considered. `window` is
/// the run's `--since`/`--until`; `formats` the record formats the rows read were decoded
/// in (AWS syntax): when the objects' names do not say whose they are, what those lack is
/// told instead of what the inventory's flow logs lack (which may not be those read).
pub fn coverage_notes(
    enricher: &crate::enrich::Enricher,
    read: &[String],
    window: &crate::decode::TimeWindow,
    formats: &[String],
) -> Vec<String> {
    use crate::format::Layout;
    let inv = enricher.inventory();
    let sagemaker = sagemaker_enis(enricher);
    let named = |f: &crate::inventory::FlowLogConfig| {
        read.iter().any(|r| {
            *r == f.id
                || f.log_group_name
                    .as_deref()
                    .is_some_and(|g| *r == crate::source::cloudwatch::format_key(g))
        })
    };
    let any_named = inv.flow_logs.iter().any(named);
    let by_format = !any_named && !formats.is_empty();
    let mut notes = Vec::new();
    // What the formats the records were read in lack, for those of no flow log whose
    // objects were read: all of them when the objects' names do not say whose they are,
    // else those of a flow log deleted since (a CloudWatch group keeps the records of one
    // re-created in a new format). The named flow logs' formats are told below.
    for format in formats {
        let Ok(layout) = Layout::parse(format) else {
            continue;
        };
        let listed = inv
            .flow_logs
            .iter()
            .filter(|f| named(f))
            .any(|f| f.layout().is_ok_and(|l| same_format(&layout, &l)));
        if listed {
            continue;
        }
        if let Some(missing) = missing_fields(&layout) {
            let whose = if any_named {
                " (no flow log whose objects were read has it in describe-flow-logs)"
            } else {
                ""
            };
            notes.push(format!(
                "the records read in the format `{format}`{whose} lack fields rules use, so:\n    {missing}"
            ));
        }
    }
    let workloads = !sagemaker.is_empty() || !inv.jobs.is_empty() || !inv.endpoints.is_empty();
    if !inv.flow_logs_listed && workloads {
        notes.push(
            "the inventory has no describe-flow-logs output: which SageMaker ENIs and subnets a flow log covers, and since when, is not checked (blind-spots and log-gaps cannot report them); save `aws ec2 describe-flow-logs --output json --region REGION` into it (`sageflow inventory collect` does)".to_string(),
        );
    } else if inv.flow_logs.is_empty() && workloads {
        notes.push(
            "describe-flow-logs lists no flow log: nothing logs the SageMaker ENIs now; the records read come from a flow log deleted since (or a shared VPC owner's), and workloads that ran in subnets no flow log covered are blind spots".to_string(),
        );
    }
    // Where a workload runs comes from the documents it names: without them it may run
    // outside your VPCs (serverless inference, a model without VpcConfig), unseen.
    let unknown: Vec<String> = inv
        .placements()
        .into_iter()
        .filter(|p| p.outside_vpc.is_none())
        .filter(|p| {
            p.window
                .is_none_or(|w| window.overlaps(Some(w.from), Some(w.to.unwrap_or(i64::MAX))))
        })
        .map(|p| format!("{}: {}", p.name, p.reason))
        .collect();
    if !unknown.is_empty() {
        notes.push(format!(
            "where {} workloads run is unknown, so neither blind-spots nor the flow rules can vouch for them (each may run outside your VPCs, unseen):\n    {}",
            unknown.len(),
            unknown.join("\n    ")
        ));
    }
    // The accepted traffic of SageMaker ENIs that only flow logs whose objects were not
    // read record: the records read cannot show it.
    if any_named {
        let unread: Vec<_> = inv
            .flow_logs
            .iter()
            .filter(|f| !named(f) && f.logs_accepted())
            .filter_map(|f| {
                let n = sagemaker
                    .iter()
                    .filter(|e| {
                        f.covers(e)
                            && !inv
                                .flow_logs
                                .iter()
                                .any(|r| named(r) && r.logs_accepted() && r.covers(e))
                    })
                    .count();
                (n > 0).then_some((f, n))
            })
            .collect();
        for (f, n) in unread {
            notes.push(format!(
                "the accepted traffic of {n} SageMaker ENIs is recorded only by flow log {} ({}), whose objects were not among those read: what they sent is unseen by this scan; scan its destination too",
                f.id,
                match (&f.log_group_name, &f.destination) {
                    (Some(g), _) => format!("to CloudWatch Logs group {g}: cwlogs://{g}"),
                    (None, Some(d)) => format!("to {d}"),
                    (None, None) => "destination unknown".to_string(),
                },
            ));
        }
    }
    // Two flow logs that capture the same ENIs each deliver their own records of the same
    // traffic: read together, every connection counts twice (records, bytes, per-record
    // findings). Only the objects' own flow-log ids say both were read.
    let read_logs: Vec<_> = inv.flow_logs.iter().filter(|f| named(f)).collect();
    for (i, f) in read_logs.iter().enumerate() {
        for g in &read_logs[i + 1..] {
            let disjoint = (f.logs_accepted() != g.logs_accepted())
                && (f.logs_rejected() != g.logs_rejected());
            let both = sagemaker
                .iter()
                .filter(|e| f.covers(e) && g.covers(e))
                .count();
            if disjoint || both == 0 {
                continue;
            }
            notes.push(format!(
                "flow logs {} and {} both capture the {both} SageMaker ENIs of {}, and objects of both were read: each of their connections is counted twice (records, bytes, per-record findings); read one of them with --flow-log {}",
                f.id,
                g.id,
                if f.resource_id == g.resource_id {
                    f.resource_id.as_str()
                } else if f.resource_id.starts_with("vpc-") {
                    g.resource_id.as_str()
                } else {
                    f.resource_id.as_str()
                },
                richer(f, g).id,
            ));
        }
    }
    for f in &inv.flow_logs {
        // Whether or not its objects were read: one that fails to deliver has none.
        let covered = sagemaker.iter().filter(|e| f.covers(e)).count();
        if let Some(why) = f.delivery_failed.as_ref().filter(|_| covered > 0) {
            // Those another delivering flow log of accepted traffic also logs are not lost.
            let alone = sagemaker
                .iter()
                .filter(|e| f.covers(e) && !inv.accepted_delivered(e))
                .count();
            notes.push(if alone > 0 {
                format!(
                    "flow log {} failed to deliver logs (DeliverLogsStatus FAILED: {why}): records of the {alone} SageMaker ENIs it alone logs may be missing (log-gaps lists them), and their NAT gateway legs are not flagged in their stead; fix the delivery (the destination's permissions) and scan again",
                    f.id
                )
            } else {
                format!(
                    "flow log {} failed to deliver logs (DeliverLogsStatus FAILED: {why}); the {covered} SageMaker ENIs it covers are logged by other flow logs too; fix its delivery (the destination's permissions)",
                    f.id
                )
            });
        }
        if any_named && !named(f) {
            continue;
        }
        // A regional NAT gateway's records have no ENI: only `resource-id` ties them to it.
        let regional = inv
            .nat_gateways
            .iter()
            .filter(|n| n.regional && (f.resource_id == n.id || f.resource_id == n.vpc_id));
        let lacks_resource_id = f.layout().is_ok_and(|l| !l.has("resource-id"));
        for nat in regional.filter(|_| lacks_resource_id) {
            notes.push(format!(
                "flow log {} has no resource-id field: the records of regional NAT gateway {} (which have no interface-id) cannot be told from other records without an ENI, so its legs are not attributed to the workloads behind it; add ${{resource-id}} to the flow log's format",
                f.id, nat.id
            ));
        }
        if covered == 0 {
            continue;
        }
        match f.traffic_type.as_deref() {
            Some("REJECT") => notes.push(format!(
                "flow log {} records only rejected traffic (TrafficType REJECT): the accepted traffic of the {covered} SageMaker ENIs it covers is unseen in its records (blind-spots lists those no other flow log covers; when another does, its objects must be among the sources)",
                f.id
            )),
            Some("ACCEPT") => notes.push(format!(
                "flow log {} records only accepted traffic (TrafficType ACCEPT): rejected-sagemaker-egress cannot see the {covered} SageMaker ENIs it covers",
                f.id
            )),
            _ => {}
        }
        let Ok(layout) = f.layout() else { continue };
        if let Some(missing) = missing_fields(&layout).filter(|_| !by_format) {
            notes.push(format!(
                "flow log {} ({}) lacks fields rules use, so:\n    {missing}",
                f.id,
                // describe-flow-logs prints the default format's fields too.
                if layout == Layout::default_v2() {
                    "default format"
                } else {
                    "custom format"
                },
            ));
        }
    }
    notes
}

/// Whether records read in `read` are in the format `listed`, read as a file's or as a
/// CloudWatch stream's ([`Layout::with_stream_eni`](crate::format::Layout::with_stream_eni)).
fn same_format(read: &crate::format::Layout, listed: &crate::format::Layout) -> bool {
    read == listed || *read == listed.with_stream_eni()
}

/// The fields rules use that `layout` lacks, with what follows, one per line; `None` if
/// it has them all.
fn missing_fields(layout: &crate::format::Layout) -> Option<String> {
    let missing: Vec<String> = FIELD_USES
        .iter()
        .filter(|(fields, _)| fields.iter().any(|n| !layout.has(n)))
        .map(|(fields, why)| format!("{}: {why}", fields.join(", ")))
        .collect();
    (!missing.is_empty()).then(|| missing.join("\n    "))
}

/// Of two flow logs of the same ENIs, the one to keep: the one whose format has more of
/// the fields the rules use.
fn richer<'a>(
    f: &'a crate::inventory::FlowLogConfig,
    g: &'a crate::inventory::FlowLogConfig,
) -> &'a crate::inventory::FlowLogConfig {
    use crate::format::Layout;
    let score = |x: &crate::inventory::FlowLogConfig| {
        let layout = x.layout().unwrap_or_else(|_| Layout::default_v2());
        FIELD_USES
            .iter()
            .filter(|(fields, _)| fields.iter().all(|n| layout.has(n)))
            .count()
    };
    if score(g) > score(f) { g } else { f }
}

/// The inventory's ENIs of SageMaker workloads, by id.
pub fn sagemaker_enis(enricher: &crate::enrich::Enricher) -> Vec<&crate::inventory::Eni> {
    let mut v: Vec<_> = enricher
        .inventory()
        .enis
        .values()
        .filter(|e| {
            enricher
                .owner(&e.id)
                .is_some_and(|o| o.kind() == "sagemaker")
        })
        .collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v
}

/// Optional flow-log fields and what the rules do without them.
const FIELD_USES: &[(&[&str], &str)] = &[
    (
        &["interface-id"],
        "no record names its ENI, so none is attributed to a workload: every rule on workloads' traffic finds nothing, and log-gaps reports their ENIs as without records",
    ),
    (
        &["pkt-srcaddr", "pkt-dstaddr"],
        "NAT-gateway legs cannot be attributed to the workload, and secondary addresses read as the primary one",
    ),
    (
        &["flow-direction"],
        "direction comes from the ENI's addresses in the inventory (for an ENI it lacks, from the VPC's address ranges)",
    ),
    (
        &["traffic-path"],
        "whether S3/DynamoDB traffic used the gateway endpoint comes from route tables, not from the record",
    ),
    (
        &["tcp-flags"],
        "internet-ingress decides who opened a connection from its ports",
    ),
    (
        &["subnet-id"],
        "records of ENIs missing from the inventory cannot be attributed by VpcConfig",
    ),
    (
        &["log-status"],
        "log-gaps cannot see SKIPDATA, the windows whose records AWS lost",
    ),
];

/// A rule's SQL statements; errors name the rule's file.
fn statements(rule: &Rule) -> Result<Vec<datafusion::sql::parser::Statement>> {
    datafusion::sql::parser::DFParser::parse_sql(&rule.sql)
        .map(Into::into)
        .map_err(|e| Error::document(&rule.origin, e.to_string(), rules::RULE_HINT))
}

/// Plans one of a rule's statements; errors name the rule's file.
async fn plan(
    ctx: &SessionContext,
    rule: &Rule,
    stmt: datafusion::sql::parser::Statement,
) -> Result<LogicalPlan> {
    ctx.state()
        .statement_to_plan(stmt)
        .await
        .map_err(|e| Error::Usage(format!("{}: {}", rule.origin, Error::from_datafusion(e))))
}

/// One statement of a rule, planned and running: its rows arrive in finding order.
pub struct Started {
    stream: SendableRecordBatchStream,
    grouped: bool,
}

/// Plans a rule's statements and starts them: each reads its input at once (through
/// [`fanout`] in a scan, alongside the other rules) and holds its sorted rows until
/// [`emit_rule`] asks for them.
pub async fn start_rule(ctx: &SessionContext, rule: &Rule, by: GroupBy) -> Result<Vec<Started>> {
    let mut started = Vec::new();
    for stmt in statements(rule)? {
        let plan = plan(ctx, rule, stmt).await?;
        crate::engine::policy::verify(&plan)?;
        let ordered = matches!(plan, LogicalPlan::Sort(_));
        let (mut df, grouped) = match group::grouped(ctx, plan.clone(), by).await {
            Ok(Some(df)) => (df, true),
            Ok(None) => (
                ctx.execute_logical_plan(plan)
                    .await
                    .map_err(Error::from_datafusion)?,
                false,
            ),
            Err(e) => {
                return Err(Error::document(
                    &rule.origin,
                    e.to_string(),
                    rules::RULE_HINT,
                ));
            }
        };
        let stream = if !ordered || grouped {
            df = in_finding_order(df)?;
            let task = std::sync::Arc::new(df.task_ctx());
            let plan = df
                .create_physical_plan()
                .await
                .map_err(Error::from_datafusion)?;
            // The findings read the compact strings as they read any other.
            let plan = sorting::compact(&plan)
                .map_err(Error::from_datafusion)?
                .unwrap_or(plan);
            tracing::debug!(
                "rule {}:\n{}",
                rule.name,
                datafusion::physical_plan::displayable(plan.as_ref()).indent(true)
            );
            datafusion::physical_plan::execute_stream(plan, task)
        } else {
            df.execute_stream().await
        }
        .map_err(Error::from_datafusion)?;
        started.push(Started {
            stream: eager(stream),
            grouped,
        });
    }
    Ok(started)
}

/// Polls `stream` in a task of its own from now on, a batch ahead: a sorted or
/// aggregated plan reads its whole input to make its first batch, so every started plan
/// reads while the others do.
pub fn eager(mut stream: SendableRecordBatchStream) -> SendableRecordBatchStream {
    let mut builder = RecordBatchReceiverStream::builder(stream.schema(), 1);
    let tx = builder.tx();
    builder.spawn(async move {
        while let Some(b) = stream.next().await {
            if tx.send(b).await.is_err() {
                break;
            }
        }
        Ok(())
    });
    builder.build()
}

/// A started rule's rows become findings tagged with the rule, severity and a stable
/// `finding_id`; those `keep` accepts (suppressions, state) go to `spool`. Returns how
/// many findings there were, kept or not.
pub async fn emit_rule(
    rule: &Rule,
    by: GroupBy,
    started: Vec<Started>,
    spool: &mut Spool,
    mut keep: impl FnMut(&Row<'_>) -> bool,
) -> Result<usize> {
    use datafusion::arrow::array::BooleanArray;
    let mut found = 0;
    let rule = std::sync::Arc::new(rule.clone());
    for Started { stream, grouped } in started {
        // Making the findings of a batch (their columns, their ids) is done by another
        // task while the last batch's are judged and spooled, in order. A task of the
        // runtime, not of the blocking pool: on the pool's extra threads (each with its own
        // malloc arena) the scan's peak memory doubled.
        let of = rule.clone();
        let mut made = stream
            .map(move |batch| {
                let rule = of.clone();
                tokio::spawn(async move {
                    let batch = batch.map_err(Error::from_datafusion)?;
                    with_ids(&rule, by, grouped, &batch)
                })
            })
            .buffered(2);
        while let Some(made) = made.next().await {
            let (stored, findings) =
                made.map_err(|e| Error::Usage(format!("making the findings failed: {e}")))??;
            found += findings.len();
            let kept: BooleanArray = (0..findings.len())
                .map(|r| Some(keep(&findings.row(r))))
                .collect();
            let stored = if kept.true_count() == kept.len() {
                stored
            } else {
                datafusion::arrow::compute::filter_record_batch(&stored, &kept)?
            };
            spool.push_rule(&rule.name, &rule.severity, &stored, findings.names())?;
        }
    }
    Ok(found)
}

/// A rule's rows with their `finding_id`s, as spooled (the rule's columns less any named
/// `rule`, `severity` or `finding_id`, then the ids), and as findings.
fn with_ids(
    rule: &Rule,
    by: GroupBy,
    grouped: bool,
    batch: &datafusion::arrow::array::RecordBatch,
) -> Result<(datafusion::arrow::array::RecordBatch, Findings)> {
    use datafusion::arrow::array::{ArrayRef, RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    let mut findings = Findings::of_rule(&rule.name, &rule.severity, batch, &rule.origin)?;
    let mut ids =
        datafusion::arrow::array::StringBuilder::with_capacity(findings.len(), 32 * findings.len());
    let mut id = String::with_capacity(32);
    for r in 0..findings.len() {
        group::write_finding_id(&rule.name, by, grouped, &findings.row(r), &mut id);
        ids.append_value(&id);
    }
    let ids: StringArray = ids.finish();
    let schema = batch.schema();
    let mut fields = Vec::with_capacity(schema.fields().len() + 1);
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(fields.capacity());
    for (f, c) in schema.fields().iter().zip(batch.columns()) {
        if !findings::RULE_SET.contains(&f.name().as_str()) && f.name() != "finding_id" {
            fields.push(f.as_ref().clone());
            columns.push(c.clone());
        }
    }
    fields.push(Field::new("finding_id", DataType::Utf8, false));
    columns.push(std::sync::Arc::new(ids.clone()));
    let stored = RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), columns)?;
    findings.set("finding_id", ids);
    Ok((stored, findings))
}

/// The (unqualified) column names of a plan's output.
fn column_names(schema: &datafusion::common::DFSchema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// Sorts a rule's rows by the finding columns, then by its other columns, so two scans of
/// the same logs print the same findings in the same order (parallel partitions otherwise
/// deliver them in any order), and scan outputs can be diffed. A rule whose SQL ends in
/// ORDER BY keeps its own order.
fn in_finding_order(
    df: datafusion::dataframe::DataFrame,
) -> Result<datafusion::dataframe::DataFrame> {
    use datafusion::common::Column;
    use datafusion::logical_expr::Expr;
    let names = column_names(df.schema());
    let key = |n: &String| {
        KEY_COLUMNS
            .iter()
            .position(|k| k == n)
            .unwrap_or(usize::MAX)
    };
    let mut order = names.clone();
    order.sort_by_key(key);
    let sorts = order
        .into_iter()
        .map(|n| Expr::Column(Column::new_unqualified(n)).sort(true, true))
        .collect();
    df.sort(sorts).map_err(Error::from_datafusion)
}

#[cfg(test)]
mod tests {
    use crate::format::Layout;

    /// A CloudWatch stream's records without `interface-id` are read with the stream's ENI
    /// as one more field, and are still in their flow log's format.
    #[test]
    fn a_format_read_with_the_stream_eni_is_its_flow_logs() {
        let listed = Layout::parse("${version} ${srcaddr} ${dstaddr} ${action}").unwrap();
        let read =
            Layout::parse("${version} ${srcaddr} ${dstaddr} ${action} ${interface-id}").unwrap();
        assert!(super::same_format(&read, &listed));
        assert!(super::same_format(&listed, &listed));
        assert!(!super::same_format(&Layout::default_v2(), &listed));
        let other = Layout::parse("${version} ${srcaddr} ${dstaddr} ${bytes} ${interface-id}");
        assert!(!super::same_format(&other.unwrap(), &listed));
    }
}
