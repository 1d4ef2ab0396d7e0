//! `sageflow report` (and `scan --format html`): one self-contained HTML file, charts
//! included, that opens offline.
//!
//! Its numbers come from a few SQL aggregations over `flows` ([`Aggregations::start`]),
//! planned with the scan's rules so that the one read of the sources feeds them all: the
//! page holds aggregates (time buckets × workloads × kinds of remote), never records, so
//! its size depends on the window and the number of workloads, not on the records.
//! [`ReportData`] is what the charts are drawn from; the page carries it as JSON
//! (`<script type="application/json" id="sageflow-data">`) beside the SVG that
//! [`charts`] draws from it in Rust: no script is needed to see the report.

mod charts;
mod page;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::decode::TimeWindow;
use crate::error::{Error, Result};
pub use crate::scan::iso;

pub use page::{Context, SuppressionUse, write};

/// Bucket widths the charts use, in seconds: each one a multiple of the ones the
/// aggregation may have used before it, so buckets can be merged.
const STEPS: &[i64] = &[60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400, 604800];

/// About how many time buckets a chart gets.
const TARGET_BUCKETS: i64 = 72;

/// The resources drawn one by one in the traffic chart; the rest are summed.
pub const MAX_RESOURCE_CHARTS: usize = 12;
/// SageMaker ENIs drawn in the log-coverage chart.
pub const MAX_COVERAGE_ROWS: usize = 60;
/// Findings of each rule listed in the page's table by default (all of them are counted
/// and drawn; `scan --format csv` writes every one).
pub const TABLE_FINDINGS_PER_RULE: usize = 50;

/// The width of the buckets the SQL aggregates into, before the page merges them: from
/// the window when `--since` gives one, else a minute.
fn base_bucket(window: &TimeWindow, now: i64) -> i64 {
    match window.since {
        Some(since) => nice_step(window.until.unwrap_or(now) - since, 60),
        None => 60,
    }
}

/// The smallest step in [`STEPS`] (a multiple of `base`) that cuts `span` seconds into
/// at most [`TARGET_BUCKETS`] buckets.
fn nice_step(span: i64, base: i64) -> i64 {
    STEPS
        .iter()
        .copied()
        .filter(|s| s % base == 0)
        .find(|s| span / s < TARGET_BUCKETS)
        .unwrap_or(*STEPS.last().unwrap_or(&86400))
        .max(base)
}

/// The report's queries, planned and running alongside the scan's rules.
pub struct Aggregations {
    base: i64,
    parts: Vec<(&'static str, SendableRecordBatchStream)>,
}

/// Accepted traffic of the SageMaker workloads' own ENIs: what the bundled
/// bytes-per-resource report counts (a NAT gateway's leg of the same flow would count it
/// twice).
const WORKLOAD_TRAFFIC: &str = "eni_owner_kind = 'sagemaker' AND action = 'ACCEPT'";

impl Aggregations {
    /// Plans the report's aggregations over `flows` and starts them; call before the scan's
    /// shared read starts, so that they are fed by it.
    pub async fn start(
        ctx: &SessionContext,
        window: &TimeWindow,
        now: i64,
    ) -> Result<Aggregations> {
        let b = base_bucket(window, now);
        let queries: [(&'static str, String); 5] = [
            (
                "traffic",
                format!(
                    "SELECT (start / {b}) * {b} AS t, coalesce(sagemaker_resource, '(unresolved)') AS resource, \
                     max(sagemaker_resource_type) AS resource_type, coalesce(remote_kind, 'none') AS remote_kind, \
                     sum(bytes) AS bytes, count(*) AS records \
                     FROM flows WHERE {WORKLOAD_TRAFFIC} \
                     GROUP BY (start / {b}) * {b}, coalesce(sagemaker_resource, '(unresolved)'), coalesce(remote_kind, 'none')"
                ),
            ),
            (
                "destinations",
                format!(
                    "SELECT remote_addr, remote_kind, remote_service, max(remote_name) AS remote_name, \
                     count(*) AS records, sum(bytes) AS bytes, \
                     min(sagemaker_resource) AS resource, max(sagemaker_resource) AS last_resource \
                     FROM flows WHERE {WORKLOAD_TRAFFIC} AND direction = 'egress' \
                     AND remote_kind IN ('internet', 'aws_service', 'private_other', 'nat_gateway') \
                     GROUP BY remote_addr, remote_kind, remote_service \
                     ORDER BY bytes DESC, remote_addr LIMIT 20"
                ),
            ),
            (
                "flows",
                format!(
                    "SELECT coalesce(sagemaker_resource, '(unresolved)') AS resource, \
                     max(sagemaker_resource_type) AS resource_type, coalesce(remote_kind, 'none') AS remote_kind, \
                     coalesce(remote_service, '') AS remote_service, sum(bytes) AS bytes, count(*) AS records \
                     FROM flows WHERE {WORKLOAD_TRAFFIC} \
                     GROUP BY coalesce(sagemaker_resource, '(unresolved)'), coalesce(remote_kind, 'none'), coalesce(remote_service, '')"
                ),
            ),
            (
                "coverage",
                format!(
                    "SELECT interface_id, (start / {b}) * {b} AS t, min(sagemaker_resource) AS resource, \
                     count(*) AS records, \
                     sum(CASE WHEN log_status = 'NODATA' THEN 1 ELSE 0 END) AS nodata, \
                     sum(CASE WHEN log_status = 'SKIPDATA' THEN 1 ELSE 0 END) AS skipdata \
                     FROM flows WHERE eni_owner_kind = 'sagemaker' \
                     GROUP BY interface_id, (start / {b}) * {b}"
                ),
            ),
            (
                "totals",
                "SELECT count(*) AS rows, \
                 sum(CASE WHEN eni_owner_kind IS NOT NULL AND eni_owner_kind <> 'unknown' THEN 1 ELSE 0 END) AS attributed, \
                 min(start) AS first_start, max(\"end\") AS last_end FROM flows"
                    .to_string(),
            ),
        ];
        let mut parts = Vec::new();
        for (name, sql) in queries {
            let stream = ctx
                .sql(&sql)
                .await
                .map_err(Error::from_datafusion)?
                .execute_stream()
                .await
                .map_err(Error::from_datafusion)?;
            parts.push((name, crate::scan::eager(stream)));
        }
        Ok(Aggregations { base: b, parts })
    }

    /// Their results, once the shared read has ended.
    pub async fn finish(self) -> Result<Aggregated> {
        let mut rows: HashMap<&'static str, Vec<Map<String, Value>>> = HashMap::new();
        for (name, stream) in self.parts {
            rows.insert(name, all_rows(stream).await?);
        }
        let mut take = |name: &str| rows.remove(name).unwrap_or_default();
        Ok(Aggregated {
            base: self.base,
            traffic: typed(take("traffic"))?,
            destinations: typed(take("destinations"))?,
            flows: typed(take("flows"))?,
            coverage: typed(take("coverage"))?,
            totals: typed(take("totals"))?
                .into_iter()
                .next()
                .unwrap_or_default(),
        })
    }
}

async fn all_rows(mut stream: SendableRecordBatchStream) -> Result<Vec<Map<String, Value>>> {
    let mut out = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(Error::from_datafusion)?;
        out.extend(crate::scan::json_rows(&batch, "report aggregation")?);
    }
    Ok(out)
}

fn typed<T: for<'de> Deserialize<'de>>(rows: Vec<Map<String, Value>>) -> Result<Vec<T>> {
    rows.into_iter()
        .map(|r| {
            serde_json::from_value(Value::Object(r))
                .map_err(|e| Error::Usage(format!("report aggregation: {e}")))
        })
        .collect()
}

/// The aggregations' rows.
pub struct Aggregated {
    base: i64,
    traffic: Vec<TrafficRow>,
    destinations: Vec<Destination>,
    flows: Vec<FlowRow>,
    coverage: Vec<CoverageRow>,
    totals: Totals,
}

#[derive(Deserialize)]
struct TrafficRow {
    t: Option<i64>,
    resource: String,
    resource_type: Option<String>,
    remote_kind: String,
    bytes: Option<i64>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
pub struct Destination {
    pub remote_addr: Option<String>,
    pub remote_kind: Option<String>,
    pub remote_service: Option<String>,
    pub remote_name: Option<String>,
    pub records: i64,
    pub bytes: Option<i64>,
    /// One of the resources that sent there, and the last by name: the same when only one
    /// did (a count of distinct resources per address would hold a set per address).
    pub resource: Option<String>,
    pub last_resource: Option<String>,
}

#[derive(Deserialize, Serialize, Clone, Debug, PartialEq)]
pub struct FlowRow {
    pub resource: String,
    pub resource_type: Option<String>,
    pub remote_kind: String,
    pub remote_service: String,
    pub bytes: Option<i64>,
    pub records: i64,
}

#[derive(Deserialize)]
struct CoverageRow {
    interface_id: Option<String>,
    t: Option<i64>,
    resource: Option<String>,
    records: i64,
    nodata: i64,
    skipdata: i64,
}

#[derive(Deserialize, Default)]
struct Totals {
    rows: i64,
    attributed: Option<i64>,
    first_start: Option<i64>,
    last_end: Option<i64>,
}

/// What the charts are drawn from: the page's data section.
#[derive(Serialize, Debug)]
pub struct ReportData {
    pub window: Window,
    pub verdict: Verdict,
    pub rules: Vec<RuleCount>,
    pub sources: Sources,
    pub suppressions: Vec<SuppressionUse>,
    pub attribution: Attribution,
    pub traffic: Traffic,
    pub findings_timeline: Timeline,
    pub destinations: Vec<Destination>,
    pub flow_summary: Vec<ResourceFlows>,
    pub log_coverage: LogCoverage,
    pub findings: FindingsInfo,
    pub notes: Vec<String>,
    /// The findings the page's table lists (up to the limit per rule), in the scan's
    /// order: read in the same pass over the spool as the timeline.
    #[serde(skip)]
    pub table: Vec<crate::scan::Finding>,
}

#[derive(Serialize, Debug)]
pub struct Window {
    /// `--since`/`--until` as given (UTC, RFC 3339), or null.
    pub since: Option<String>,
    pub until: Option<String>,
    /// First start and last end of the records read.
    pub data_from: Option<String>,
    pub data_to: Option<String>,
    /// Start of the first bucket and width of each, seconds; every time series has
    /// `buckets` values.
    pub bucket_start: i64,
    pub bucket_seconds: i64,
    pub buckets: usize,
}

#[derive(Serialize, Debug)]
pub struct Verdict {
    /// Did any SageMaker traffic leave the VPC or bypass an endpoint?
    pub left_vpc_or_bypassed: bool,
    /// leaves-vpc, endpoint-bypass and private-dns-bypass findings.
    pub egress_findings: usize,
    pub findings: usize,
    pub by_severity: BTreeMap<String, usize>,
}

#[derive(Serialize, Debug)]
pub struct RuleCount {
    pub name: String,
    pub severity: String,
    pub description: String,
    pub findings: usize,
}

#[derive(Serialize, Debug)]
pub struct Sources {
    pub given: Vec<String>,
    pub objects: u64,
    pub bytes: u64,
    pub records: u64,
    pub rows: u64,
    pub rejected: u64,
    pub outside_window: u64,
}

#[derive(Serialize, Debug)]
pub struct Attribution {
    pub rows: i64,
    /// Rows whose ENI the inventory names (a workload, endpoint, NAT gateway…).
    pub attributed: i64,
    pub attributed_share: f64,
    pub sagemaker_records: i64,
    /// NAT gateway records attributed to a workload by packet address.
    pub nat_leg_records: i64,
    pub unknown_enis: u64,
    pub unknown_records: u64,
    pub inventory_files: usize,
    pub inventory_enis: usize,
    pub sagemaker_enis: usize,
    /// Dated inventory snapshots (`inventory collect --dated`): the newest's time.
    pub newest_snapshot: Option<String>,
    pub cloudtrail_span: Option<(String, String)>,
    pub ip_ranges_date: String,
}

/// Bytes per bucket, per resource and kind of remote.
#[derive(Serialize, Debug)]
pub struct Traffic {
    pub kinds: Vec<String>,
    pub resources: Vec<ResourceSeries>,
    /// Resources beyond [`MAX_RESOURCE_CHARTS`], summed into the last chart.
    pub others: usize,
}

#[derive(Serialize, Debug)]
pub struct ResourceSeries {
    pub resource: String,
    pub resource_type: Option<String>,
    pub total_bytes: i64,
    pub series: Vec<Series>,
}

#[derive(Serialize, Debug)]
pub struct Series {
    pub name: String,
    pub values: Vec<i64>,
}

/// Findings per rule per bucket (by the finding's `start`).
#[derive(Serialize, Debug)]
pub struct Timeline {
    pub rules: Vec<Series>,
    /// Findings without a time (configuration rules), per rule.
    pub untimed: BTreeMap<String, usize>,
}

#[derive(Serialize, Debug)]
pub struct ResourceFlows {
    pub resource: String,
    pub resource_type: Option<String>,
    pub total_bytes: i64,
    pub parts: Vec<FlowPart>,
}

#[derive(Serialize, Debug)]
pub struct FlowPart {
    pub remote_kind: String,
    pub remote_service: String,
    pub bytes: i64,
    pub records: i64,
}

#[derive(Serialize, Debug)]
pub struct LogCoverage {
    pub enis: Vec<EniCoverage>,
    /// SageMaker ENIs beyond [`MAX_COVERAGE_ROWS`].
    pub more: usize,
    /// SageMaker ENIs of the inventory with no record at all.
    pub without_records: Vec<String>,
}

#[derive(Serialize, Debug)]
pub struct EniCoverage {
    pub interface_id: String,
    pub resource: Option<String>,
    pub records: Vec<i64>,
    pub nodata: Vec<i64>,
    pub skipdata: Vec<i64>,
    /// Buckets between the ENI's first and last record with no record at all.
    pub gaps: usize,
}

#[derive(Serialize, Debug)]
pub struct FindingsInfo {
    pub total: usize,
    pub in_table: usize,
    /// Findings of each rule the table lists (0: all).
    pub per_rule_limit: usize,
    pub columns: Vec<String>,
}

/// Rules whose findings answer "did SageMaker traffic leave the VPC or bypass an
/// endpoint?".
pub const EGRESS_RULES: &[&str] = &["leaves-vpc", "endpoint-bypass", "private-dns-bypass"];

/// The findings' time, when they have one: a record's (or connection's first) start.
fn finding_time(f: &crate::scan::Finding) -> Option<i64> {
    ["start", "first_seen"]
        .iter()
        .find_map(|k| f.get(*k).and_then(Value::as_i64))
}

/// Of `n` findings of a rule, how many the table lists.
pub fn table_share(n: usize, limit: usize) -> usize {
    if limit == 0 { n } else { n.min(limit) }
}

impl ReportData {
    /// Builds the data section from the aggregations, the spooled findings and the run's
    /// context.
    pub fn build(
        agg: Aggregated,
        spool: &mut crate::scan::Spool,
        cx: &Context,
    ) -> Result<ReportData> {
        // The time axis: the window where given, else the records' span.
        let from = cx.window.since.or(agg.totals.first_start);
        let to = cx.window.until.or(agg.totals.last_end).or(from);
        let (bucket_start, bucket_seconds, buckets) = match (from, to) {
            (Some(from), Some(to)) => {
                let step = nice_step(to - from, agg.base);
                let start = from.div_euclid(step) * step;
                let n = ((to - start).div_euclid(step) + 1).max(1) as usize;
                (start, step, n)
            }
            _ => (0, agg.base, 0),
        };
        let slot = |t: Option<i64>| -> Option<usize> {
            let t = t?;
            if buckets == 0 || t < bucket_start {
                return None;
            }
            let i = ((t - bucket_start) / bucket_seconds) as usize;
            (i < buckets).then_some(i)
        };

        // Traffic: per resource, per kind, per bucket.
        let mut kinds = BTreeSet::new();
        // Resource → (its type, kind of remote → bytes per bucket).
        type PerKind = BTreeMap<String, Vec<i64>>;
        let mut per_resource: BTreeMap<String, (Option<String>, PerKind)> = BTreeMap::new();
        for r in &agg.traffic {
            let Some(i) = slot(r.t) else { continue };
            kinds.insert(r.remote_kind.clone());
            let e = per_resource
                .entry(r.resource.clone())
                .or_insert_with(|| (r.resource_type.clone(), BTreeMap::new()));
            if e.0.is_none() {
                e.0 = r.resource_type.clone();
            }
            e.1.entry(r.remote_kind.clone())
                .or_insert_with(|| vec![0; buckets])[i] += r.bytes.unwrap_or(0);
        }
        let mut resources: Vec<ResourceSeries> = per_resource
            .into_iter()
            .map(|(resource, (resource_type, series))| {
                let series: Vec<Series> = series
                    .into_iter()
                    .map(|(name, values)| Series { name, values })
                    .collect();
                ResourceSeries {
                    resource,
                    resource_type,
                    total_bytes: series.iter().flat_map(|s| &s.values).sum(),
                    series,
                }
            })
            .collect();
        resources.sort_by(|a, b| {
            b.total_bytes
                .cmp(&a.total_bytes)
                .then(a.resource.cmp(&b.resource))
        });
        let mut others = 0;
        if resources.len() > MAX_RESOURCE_CHARTS {
            let rest = resources.split_off(MAX_RESOURCE_CHARTS - 1);
            others = rest.len();
            let mut sum: BTreeMap<String, Vec<i64>> = BTreeMap::new();
            for r in rest {
                for s in r.series {
                    let v = sum.entry(s.name).or_insert_with(|| vec![0; buckets]);
                    for (a, b) in v.iter_mut().zip(s.values) {
                        *a += b;
                    }
                }
            }
            let series: Vec<Series> = sum
                .into_iter()
                .map(|(name, values)| Series { name, values })
                .collect();
            resources.push(ResourceSeries {
                resource: format!("{others} other resources"),
                resource_type: None,
                total_bytes: series.iter().flat_map(|s| &s.values).sum(),
                series,
            });
        }

        // Per-resource summary.
        let mut flows: BTreeMap<String, ResourceFlows> = BTreeMap::new();
        for r in &agg.flows {
            let e = flows
                .entry(r.resource.clone())
                .or_insert_with(|| ResourceFlows {
                    resource: r.resource.clone(),
                    resource_type: r.resource_type.clone(),
                    total_bytes: 0,
                    parts: Vec::new(),
                });
            e.total_bytes += r.bytes.unwrap_or(0);
            e.parts.push(FlowPart {
                remote_kind: r.remote_kind.clone(),
                remote_service: r.remote_service.clone(),
                bytes: r.bytes.unwrap_or(0),
                records: r.records,
            });
        }
        let mut flow_summary: Vec<ResourceFlows> = flows.into_values().collect();
        for f in &mut flow_summary {
            f.parts.sort_by(|a, b| {
                b.bytes
                    .cmp(&a.bytes)
                    .then(a.remote_kind.cmp(&b.remote_kind))
                    .then(a.remote_service.cmp(&b.remote_service))
            });
        }
        flow_summary.sort_by(|a, b| {
            b.total_bytes
                .cmp(&a.total_bytes)
                .then(a.resource.cmp(&b.resource))
        });

        // Log coverage per SageMaker ENI.
        let mut enis: BTreeMap<String, EniCoverage> = BTreeMap::new();
        for r in &agg.coverage {
            let Some(id) = &r.interface_id else { continue };
            let Some(i) = slot(r.t) else { continue };
            let e = enis.entry(id.clone()).or_insert_with(|| EniCoverage {
                interface_id: id.clone(),
                resource: None,
                records: vec![0; buckets],
                nodata: vec![0; buckets],
                skipdata: vec![0; buckets],
                gaps: 0,
            });
            if e.resource.is_none() || r.resource.is_some() && r.resource < e.resource {
                e.resource = r.resource.clone().or(e.resource.take());
            }
            e.records[i] += r.records;
            e.nodata[i] += r.nodata;
            e.skipdata[i] += r.skipdata;
        }
        for e in enis.values_mut() {
            let first = e.records.iter().position(|&n| n > 0);
            let last = e.records.iter().rposition(|&n| n > 0);
            if let (Some(a), Some(b)) = (first, last) {
                e.gaps = e.records[a..=b].iter().filter(|&&n| n == 0).count();
            }
        }
        let mut eni_rows: Vec<EniCoverage> = enis.into_values().collect();
        eni_rows
            .sort_by(|a, b| (&a.resource, &a.interface_id).cmp(&(&b.resource, &b.interface_id)));
        let more = eni_rows.len().saturating_sub(MAX_COVERAGE_ROWS);
        eni_rows.truncate(MAX_COVERAGE_ROWS);
        let seen: BTreeSet<&str> = agg
            .coverage
            .iter()
            .filter_map(|r| r.interface_id.as_deref())
            .collect();
        let without_records: Vec<String> = cx
            .sagemaker_enis
            .iter()
            .filter(|id| !seen.contains(id.as_str()))
            .cloned()
            .collect();

        // Findings: per rule and bucket, and the table's columns.
        let mut timeline: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        let mut untimed: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_severity: BTreeMap<String, usize> = BTreeMap::new();
        let mut egress = 0;
        let mut table = Vec::new();
        let mut listed: HashMap<String, usize> = HashMap::new();
        for f in spool.iter()? {
            let f = f?;
            let rule = f
                .get("rule")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let severity = f
                .get("severity")
                .and_then(Value::as_str)
                .unwrap_or_default();
            *by_severity.entry(severity.to_string()).or_default() += 1;
            if EGRESS_RULES.contains(&rule.as_str()) {
                egress += 1;
            }
            match slot(finding_time(&f)) {
                Some(i) => {
                    timeline
                        .entry(rule.clone())
                        .or_insert_with(|| vec![0; buckets])[i] += 1;
                }
                None => *untimed.entry(rule.clone()).or_default() += 1,
            }
            let n = listed.entry(rule).or_default();
            *n += 1;
            if cx.findings_per_rule == 0 || *n <= cx.findings_per_rule {
                table.push(f);
            }
        }
        let rules: Vec<RuleCount> = cx
            .rules
            .iter()
            .filter(|r| !r.is_report)
            .map(|r| RuleCount {
                name: r.name.clone(),
                severity: r.severity.clone(),
                description: r.description.clone(),
                findings: spool.count_of(&r.name),
            })
            .collect();
        // In the rules' order, so the timeline's rows match the table of rules.
        let rule_order = |n: &str| rules.iter().position(|r| r.name == n);
        let mut timeline: Vec<Series> = timeline
            .into_iter()
            .map(|(name, values)| Series { name, values })
            .collect();
        timeline.sort_by_key(|s| rule_order(&s.name));

        let t = &agg.totals;
        let attributed = t.attributed.unwrap_or(0);
        let inv = cx.inventory;
        Ok(ReportData {
            window: Window {
                since: cx.window.since.map(iso),
                until: cx.window.until.map(iso),
                data_from: t.first_start.map(iso),
                data_to: t.last_end.map(iso),
                bucket_start,
                bucket_seconds,
                buckets,
            },
            verdict: Verdict {
                left_vpc_or_bypassed: egress > 0,
                egress_findings: egress,
                findings: spool.len(),
                by_severity,
            },
            rules,
            sources: Sources {
                given: cx.sources.clone(),
                objects: cx.read.objects_done,
                bytes: cx.read.bytes,
                records: cx.read.records,
                rows: cx.read.rows,
                rejected: cx.rejected,
                outside_window: cx.read.outside_window,
            },
            suppressions: cx.suppressions.clone(),
            attribution: Attribution {
                rows: t.rows,
                attributed,
                attributed_share: if t.rows > 0 {
                    (attributed as f64 / t.rows as f64 * 10000.0).round() / 10000.0
                } else {
                    0.0
                },
                // The scan's summary counts them already.
                sagemaker_records: cx.coverage.sagemaker_records as i64,
                nat_leg_records: cx.coverage.nat_leg_records as i64,
                unknown_enis: cx.coverage.unknown_enis,
                unknown_records: cx.coverage.unknown_records,
                inventory_files: inv.files.len(),
                inventory_enis: inv.enis.len(),
                sagemaker_enis: cx.sagemaker_enis.len(),
                newest_snapshot: inv.snapshots.last().map(|&s| iso(s)),
                cloudtrail_span: inv.trail.range.map(|(a, b)| (iso(a), iso(b))),
                ip_ranges_date: inv.ip_ranges.create_date.clone(),
            },
            traffic: Traffic {
                kinds: kinds.into_iter().collect(),
                resources,
                others,
            },
            findings_timeline: Timeline {
                rules: timeline,
                untimed,
            },
            destinations: agg.destinations,
            flow_summary,
            log_coverage: LogCoverage {
                enis: eni_rows,
                more,
                without_records,
            },
            findings: FindingsInfo {
                total: spool.len(),
                in_table: table.len(),
                per_rule_limit: cx.findings_per_rule,
                columns: spool.all_columns(),
            },
            notes: cx.notes.clone(),
            table,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_merge_into_nice_steps() {
        // 39 minutes: one-minute buckets.
        assert_eq!(nice_step(39 * 60, 60), 60);
        // A day: half-hour buckets (48).
        assert_eq!(nice_step(86400, 60), 1800);
        // A week aggregated in 2-hour buckets: 6-hour buckets, still multiples.
        assert_eq!(nice_step(7 * 86400, 7200), 21600);
        // Never finer than what the SQL aggregated.
        assert_eq!(nice_step(60, 3600), 3600);
        for w in STEPS.windows(2) {
            assert_eq!(w[1] % 60, 0);
        }
    }

    #[test]
    fn the_base_bucket_follows_since() {
        let w = TimeWindow {
            since: Some(0),
            until: Some(30 * 86400),
        };
        assert_eq!(base_bucket(&w, 0), 43200);
        assert_eq!(base_bucket(&TimeWindow::default(), 0), 60);
    }
}
