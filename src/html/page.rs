//! The HTML page: verdict, charts, findings table and the data section, with its style
//! and script inlined (no request leaves the page).

use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;
use serde_json::Value;

use super::charts::{self, bytes, class_of, count, esc};
use super::{Aggregated, ReportData, iso, table_share};
use crate::decode::{StatsSnapshot, TimeWindow};
use crate::error::{Error, Result};
use crate::scan::{Coverage, Rule, Spool};

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// What a suppression did in this run.
#[derive(Serialize, Debug, Clone)]
pub struct SuppressionUse {
    pub rule: String,
    pub reason: String,
    pub removed: usize,
    pub expires: Option<String>,
    pub expired: bool,
}

/// The run around the findings: what was read, with which rules and inventory.
pub struct Context<'a> {
    pub window: TimeWindow,
    pub rules: &'a [Rule],
    pub sources: Vec<String>,
    pub read: StatsSnapshot,
    pub rejected: u64,
    pub suppressions: Vec<SuppressionUse>,
    pub coverage: Coverage,
    pub inventory: &'a crate::inventory::Inventory,
    /// The inventory's SageMaker ENIs, sorted.
    pub sagemaker_enis: Vec<String>,
    pub notes: Vec<String>,
    /// When the report was made (Unix seconds): the inventory's age is counted to it.
    pub now: i64,
    /// Findings of each rule the table lists (0: all).
    pub findings_per_rule: usize,
}

/// The findings table's visible columns; every other column of a finding is in its
/// details.
const TABLE_COLUMNS: &[(&str, &str)] = &[
    ("rule", "rule"),
    ("severity", "severity"),
    ("sagemaker_resource", "resource"),
    ("interface_id", "ENI"),
    ("direction", "direction"),
    ("srcaddr", "source"),
    ("dstaddr", "destination"),
    ("dstport", "port"),
    ("protocol", "protocol"),
    ("remote_kind", "remote kind"),
    ("remote_service", "service"),
    ("remote_name", "name"),
    ("start", "start (UTC)"),
    ("bytes", "bytes"),
];

/// Writes the report of a finished scan to `out`.
pub fn write(
    agg: Aggregated,
    spool: &mut Spool,
    cx: &Context,
    out: &mut dyn Write,
) -> Result<ReportData> {
    let data = ReportData::build(agg, spool, cx)?;
    let mut html = String::with_capacity(64 * 1024);
    let _ = write!(
        html,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="color-scheme" content="light dark">
<title>sageflow report — {}</title>
<style>{STYLE}</style></head><body>
<header><h1>SageMaker network traffic report</h1>
<p class="meta">sageflow {} · made {} · window {}</p></header>
"#,
        esc(&window_text(&data)),
        env!("CARGO_PKG_VERSION"),
        esc(&iso(cx.now)),
        esc(&window_text(&data)),
    );
    verdict(&mut html, &data, cx);
    section(
        &mut html,
        "traffic",
        "Bytes over time per SageMaker resource",
        "Accepted traffic on each workload's own ENIs, stacked by where the remote address is (inside the VPC, through an endpoint, or out of it). Each chart has its own scale.",
        &charts::traffic(&data),
    );
    section(
        &mut html,
        "findings-timeline",
        "Findings over time",
        "Findings per rule, by the time of their first record; a larger dot is more findings.",
        &(charts::findings_timeline(&data) + &untimed(&data)),
    );
    section(
        &mut html,
        "destinations",
        "Top external destinations",
        "The remote addresses outside the VPC's private addresses that SageMaker workloads sent the most accepted bytes to (with the name the workload resolved, from --dns).",
        &charts::destinations(&data),
    );
    section(
        &mut html,
        "flows",
        "Where each resource's bytes went",
        "Per SageMaker resource, its accepted bytes by kind of remote and AWS service.",
        &charts::flow_summary(&data),
    );
    let mut cov = charts::log_coverage(&data);
    if data.log_coverage.more > 0 {
        let _ = write!(
            cov,
            r#"<p class="note">{} more are not drawn.</p>"#,
            plural(data.log_coverage.more, "SageMaker ENI")
        );
    }
    if !data.log_coverage.without_records.is_empty() {
        let _ = write!(
            cov,
            r#"<p class="note" id="enis-without-records">{} of the inventory {} no record at all in the scanned data: {}</p>"#,
            plural(data.log_coverage.without_records.len(), "SageMaker ENI"),
            if data.log_coverage.without_records.len() == 1 {
                "has"
            } else {
                "have"
            },
            esc(&data.log_coverage.without_records.join(", "))
        );
    }
    section(
        &mut html,
        "coverage",
        "Flow-log coverage per SageMaker ENI",
        "Records per ENI and time bucket (darker: more). Grey: NODATA (no traffic in the window); red: SKIPDATA (records lost); hatched: a gap with no record at all between the ENI's first and last.",
        &cov,
    );
    findings_table(&mut html, &data, cx);
    if !data.notes.is_empty() {
        html.push_str(r#"<section id="notes"><h2>Notes</h2><ul>"#);
        for n in &data.notes {
            let _ = write!(html, "<li>{}</li>", esc(n));
        }
        html.push_str("</ul></section>");
    }
    let json = serde_json::to_string(&data)
        .map_err(|e| Error::Usage(format!("report data: {e}")))?
        // Nothing in the data may end the script element.
        .replace("</", "<\\/");
    let _ = write!(
        html,
        r#"<script type="application/json" id="sageflow-data">{json}</script>
<script>{SCRIPT}</script>
</body></html>
"#
    );
    out.write_all(html.as_bytes())
        .map_err(|e| Error::io("report", e))?;
    Ok(data)
}

fn window_text(d: &ReportData) -> String {
    let w = &d.window;
    let from = w.since.as_deref().or(w.data_from.as_deref()).unwrap_or("?");
    let to = w.until.as_deref().or(w.data_to.as_deref()).unwrap_or("?");
    format!("{from} to {to}")
}

fn section(html: &mut String, id: &str, title: &str, about: &str, body: &str) {
    let _ = write!(
        html,
        r#"<section id="{id}"><h2>{}</h2><p class="about">{}</p>{body}</section>"#,
        esc(title),
        esc(about)
    );
}

fn verdict(html: &mut String, d: &ReportData, cx: &Context) {
    let v = &d.verdict;
    let (class, headline) = if v.left_vpc_or_bypassed {
        (
            "bad",
            format!(
                "Yes: SageMaker traffic left the VPC or bypassed an endpoint ({} findings of leaves-vpc, endpoint-bypass or private-dns-bypass).",
                count(v.egress_findings as i64)
            ),
        )
    } else {
        (
            "good",
            "No SageMaker traffic in the scanned records left the VPC or bypassed an endpoint."
                .to_string(),
        )
    };
    let _ = write!(
        html,
        r#"<section id="verdict" class="{class}"><h2>Verdict</h2><p class="headline">{}</p>"#,
        esc(&headline)
    );
    let s = &d.sources;
    let a = &d.attribution;
    let _ = write!(
        html,
        r#"<dl class="facts">
<dt>Window</dt><dd>{}</dd>
<dt>Records</dt><dd id="records-line">{} records = {} rows + {} rejected{}</dd>
<dt>Sources</dt><dd>{} objects read ({}) from {}</dd>
<dt>Attribution</dt><dd>{} of rows ({} of {}) on ENIs the inventory names; {} records of SageMaker workloads{}; {} ENIs with {} records unknown to the inventory</dd>
<dt>Inventory</dt><dd>{} files, {} ENIs ({} of SageMaker workloads){}</dd>
<dt>Findings</dt><dd>{} in all{}</dd>
</dl>"#,
        esc(&window_text(d)),
        count(s.records as i64),
        count(s.rows as i64),
        count(s.rejected as i64),
        if s.outside_window > 0 {
            format!(
                " ({} more outside --since/--until)",
                count(s.outside_window as i64)
            )
        } else {
            String::new()
        },
        count(s.objects as i64),
        bytes(s.bytes as i64),
        esc(&s.given.join(", ")),
        percent(a.attributed_share),
        count(a.attributed),
        count(a.rows),
        count(a.sagemaker_records),
        crate::scan::nat_legs(a.nat_leg_records as u64, count(a.nat_leg_records)),
        count(a.unknown_enis as i64),
        count(a.unknown_records as i64),
        count(a.inventory_files as i64),
        count(a.inventory_enis as i64),
        count(a.sagemaker_enis as i64),
        esc(&inventory_age(d, cx)),
        count(v.findings as i64),
        if v.by_severity.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                {
                    let mut by: Vec<_> = v.by_severity.iter().collect();
                    by.sort_by_key(|(k, _)| {
                        ["high", "medium", "low", "info"]
                            .iter()
                            .position(|s| s == k)
                            .unwrap_or(4)
                    });
                    by
                }
                .iter()
                .map(|(k, n)| format!("{} {k}", count(**n as i64)))
                .collect::<Vec<_>>()
                .join(", ")
            )
        }
    );
    html.push_str(
        r#"<table class="rules" id="rules"><thead><tr><th>rule</th><th>severity</th><th class="num">findings</th><th>what it finds</th></tr></thead><tbody>"#,
    );
    for r in &d.rules {
        let _ = write!(
            html,
            r#"<tr data-rule="{}"><td>{}</td><td><span class="sev {}">{}</span></td><td class="num">{}</td><td class="desc">{}</td></tr>"#,
            esc(&r.name),
            esc(&r.name),
            class_of("sev", &r.severity),
            esc(&r.severity),
            count(r.findings as i64),
            esc(&r.description)
        );
    }
    html.push_str("</tbody></table>");
    if !d.suppressions.is_empty() {
        html.push_str(r#"<h3>Suppressions</h3><ul id="suppressions">"#);
        for s in &d.suppressions {
            let what = if s.expired {
                format!(
                    "expired on {}: no longer applied",
                    s.expires.as_deref().unwrap_or("?")
                )
            } else if s.removed > 0 {
                format!("removed {} findings", count(s.removed as i64))
            } else {
                "matched no finding".to_string()
            };
            let _ = write!(
                html,
                "<li><b>{}</b> ({}): {}</li>",
                esc(&s.rule),
                esc(&s.reason),
                esc(&what)
            );
        }
        html.push_str("</ul>");
    }
    html.push_str("</section>");
}

fn plural(n: usize, what: &str) -> String {
    format!(
        "{} {what}{}",
        count(n as i64),
        if n == 1 { "" } else { "s" }
    )
}

fn percent(f: f64) -> String {
    format!("{:.1} %", f * 100.0)
}

fn inventory_age(d: &ReportData, cx: &Context) -> String {
    let a = &d.attribution;
    let mut parts = Vec::new();
    match cx.inventory.snapshots.last() {
        Some(&t) => parts.push(format!(
            "newest dated snapshot {} ({} days before this report)",
            iso(t),
            (cx.now - t).div_euclid(86400)
        )),
        None => parts.push(
            "undated (no `inventory collect --dated` snapshot): its age is unknown".to_string(),
        ),
    }
    if let Some((from, to)) = &a.cloudtrail_span {
        parts.push(format!("CloudTrail ENI events {from} to {to}"));
    }
    parts.push(format!(
        "ip-ranges.json of {}",
        a.ip_ranges_date.get(..10).unwrap_or(&a.ip_ranges_date)
    ));
    format!("; {}", parts.join("; "))
}

fn untimed(d: &ReportData) -> String {
    if d.findings_timeline.untimed.is_empty() {
        return String::new();
    }
    let list: Vec<String> = d
        .findings_timeline
        .untimed
        .iter()
        .map(|(r, n)| format!("{} {}", count(*n as i64), esc(r)))
        .collect();
    format!(
        r#"<p class="note" id="untimed">Findings about configuration, without a time: {}.</p>"#,
        list.join(", ")
    )
}

/// A finding's value as the page's table shows it: as scan's table format shows it
/// (times in ISO 8601 UTC, protocols by name), bytes in kB/MB/GB; numbers but protocols
/// also give the key the table sorts them by.
fn shown(column: &str, v: &Value) -> (String, Option<String>) {
    let text = match (column, v.as_i64()) {
        ("bytes", Some(n)) => bytes(n),
        _ => crate::scan::shown_raw(column, Some(v)),
    };
    let sort = match v {
        Value::Number(n) if column != "protocol" => Some(n.to_string()),
        _ => None,
    };
    (text, sort)
}

/// The first sentence of a rule's description: the reason a finding was raised.
fn reason(description: &str) -> &str {
    match description.find(". ") {
        Some(i) => &description[..=i],
        None => description,
    }
}

fn findings_table(html: &mut String, d: &ReportData, cx: &Context) {
    let _ = write!(
        html,
        r#"<section id="findings"><h2>Findings</h2><p class="about">Every finding of the scan, in the scan's order. Filter by rule, severity or resource; click a column to sort. The details hold every other column of the finding.</p>"#
    );
    if d.findings.total > d.findings.in_table {
        let capped: Vec<String> = d
            .rules
            .iter()
            .filter(|r| r.findings > table_share(r.findings, d.findings.per_rule_limit))
            .map(|r| {
                format!(
                    "{} of {} {}",
                    count(d.findings.per_rule_limit as i64),
                    count(r.findings as i64),
                    r.name
                )
            })
            .collect();
        let _ = write!(
            html,
            r#"<p class="note" id="findings-capped">The table lists the first {} findings of each rule ({}); the charts and counts above include every one. `--findings-per-rule 0` lists them all; `sageflow scan … --format csv` writes every one with every column.</p>"#,
            count(d.findings.per_rule_limit as i64),
            esc(&capped.join(", "))
        );
    }
    html.push_str(
        r#"<div class="controls"><label>rule <select id="filter-rule" data-key="rule"><option value="">all</option></select></label><label>severity <select id="filter-severity" data-key="severity"><option value="">all</option></select></label><label>resource <select id="filter-resource" data-key="resource"><option value="">all</option></select></label><label>text <input id="filter-text" type="search" placeholder="address, ENI…"></label><span id="shown-count"></span></div>"#,
    );
    html.push_str(r#"<div class="scroll"><table id="findings-table"><thead><tr>"#);
    for (_, title) in TABLE_COLUMNS {
        let _ = write!(html, "<th>{}</th>", esc(title));
    }
    html.push_str("<th>reason and details</th></tr></thead><tbody>");
    let visible: Vec<&str> = TABLE_COLUMNS.iter().map(|(c, _)| *c).collect();
    for f in &d.table {
        let text = |k: &str| f.get(k).and_then(Value::as_str).unwrap_or_default();
        let _ = write!(
            html,
            r#"<tr data-rule="{}" data-severity="{}" data-resource="{}">"#,
            esc(text("rule")),
            esc(text("severity")),
            esc(text("sagemaker_resource"))
        );
        for c in &visible {
            let (t, sort) = shown(c, f.get(*c).unwrap_or(&Value::Null));
            let class = if *c == "severity" {
                format!(r#" class="sev {}""#, class_of("sev", &t))
            } else {
                String::new()
            };
            match sort {
                Some(s) => {
                    let _ = write!(
                        html,
                        r#"<td data-sort="{}"{class}>{}</td>"#,
                        esc(&s),
                        esc(&t)
                    );
                }
                None => {
                    let _ = write!(html, "<td{class}>{}</td>", esc(&t));
                }
            }
        }
        let why = cx
            .rules
            .iter()
            .find(|r| r.name == text("rule"))
            .map(|r| reason(&r.description))
            .unwrap_or_default();
        let _ = write!(
            html,
            r#"<td class="details"><details><summary>why, and every column</summary><p class="reason">{}</p><dl>"#,
            esc(why)
        );
        for (k, v) in f {
            if visible.contains(&k.as_str()) || v.is_null() {
                continue;
            }
            let (t, _) = shown(k, v);
            let _ = write!(html, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(&t));
        }
        html.push_str("</dl></details></td></tr>");
    }
    html.push_str("</tbody></table></div></section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_for_people() {
        assert_eq!(
            shown("start", &Value::from(1763600000)).0,
            "2025-11-20T00:53:20Z"
        );
        assert_eq!(shown("protocol", &Value::from(6)).0, "tcp");
        assert_eq!(shown("protocol", &Value::from(47)).0, "gre");
        assert_eq!(shown("protocol", &Value::from(99)).0, "99");
        assert_eq!(shown("bytes", &Value::from(2_500_000)).0, "2.5 MB");
        assert_eq!(shown("x", &Value::Null).0, "");
        assert_eq!(reason("One thing. Then more."), "One thing.");
    }
}
