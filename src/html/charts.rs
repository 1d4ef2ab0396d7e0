//! The report's charts, as inline SVG drawn from [`ReportData`]: readable without
//! scripts, in print and in dark mode (colours are CSS classes, see `report.css`).
//!
//! Every chart is an `<svg class="chart" id=…>`; its series are `<g class="series"
//! data-series=…>` and its bars `rect.bar`, which the browser test counts.

use std::fmt::Write;

use super::{ReportData, Series, Window, iso};

const W: f64 = 960.0;
/// Left margin (axis labels) and right margin of the time charts.
const LEFT: f64 = 70.0;
const RIGHT: f64 = 16.0;

/// Kinds of remote, in stacking order: inside the VPC first, the internet last.
pub const KIND_ORDER: &[&str] = &[
    "same_vpc",
    "interface_endpoint",
    "gateway_endpoint",
    "private_other",
    "nat_gateway",
    "aws_service",
    "internet",
    "none",
];

pub fn kind_rank(k: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|x| *x == k)
        .unwrap_or(KIND_ORDER.len())
}

/// A CSS class name for a value from the data (kinds, severities).
pub fn class_of(prefix: &str, v: &str) -> String {
    let safe: String = v
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}-{safe}")
}

/// Escapes text for HTML and SVG (elements and attribute values).
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Bytes in decimal units: 1.5 MB, 2.3 GB.
pub fn bytes(n: i64) -> String {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut u = 0;
    while v.abs() >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// A count with thousands separators.
pub fn count(n: impl Into<i128>) -> String {
    let s = n.into().to_string();
    let (sign, digits) = match s.strip_prefix('-') {
        Some(d) => ("-", d),
        None => ("", s.as_str()),
    };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

fn bucket_label(w: &Window, i: usize) -> String {
    let t = w.bucket_start + i as i64 * w.bucket_seconds;
    let d = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default();
    if w.bucket_seconds >= 86400 {
        d.format("%Y-%m-%d").to_string()
    } else {
        d.format("%m-%d %H:%M").to_string()
    }
}

fn bucket_range(w: &Window, i: usize) -> String {
    let t = w.bucket_start + i as i64 * w.bucket_seconds;
    format!("{} – {}", iso(t), iso(t + w.bucket_seconds))
}

/// The time axis under a plot `[left, W-RIGHT]` whose bottom is at `y`.
fn time_axis(out: &mut String, w: &Window, y: f64, left: f64) {
    let n = w.buckets.max(1);
    let bw = (W - left - RIGHT) / n as f64;
    let every = n.div_ceil(7).max(1);
    let _ = write!(
        out,
        r#"<g class="axis x"><line x1="{left}" y1="{y}" x2="{}" y2="{y}"/>"#,
        W - RIGHT
    );
    for i in (0..n).step_by(every) {
        let x = left + i as f64 * bw;
        let _ = write!(
            out,
            r#"<line x1="{x:.1}" y1="{y}" x2="{x:.1}" y2="{}"/><text x="{x:.1}" y="{}" text-anchor="start">{}</text>"#,
            y + 4.0,
            y + 16.0,
            esc(&bucket_label(w, i))
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis-title" x="{}" y="{}" text-anchor="end">time (UTC), {} per bar</text></g>"#,
        W - RIGHT,
        y + 30.0,
        esc(
            &humantime::format_duration(std::time::Duration::from_secs(w.bucket_seconds as u64))
                .to_string()
        )
    );
}

/// Bytes over time per SageMaker resource, stacked by kind of remote: one small chart per
/// resource, each on its own scale.
pub fn traffic(d: &ReportData) -> String {
    let w = &d.window;
    let mut out = String::new();
    if d.traffic.resources.is_empty() {
        return r#"<p class="empty" id="chart-traffic-empty">No accepted traffic of a SageMaker workload's own ENI in the scanned records.</p>"#.into();
    }
    out.push_str(r#"<div class="legend">"#);
    let mut kinds: Vec<&String> = d.traffic.kinds.iter().collect();
    kinds.sort_by_key(|k| kind_rank(k));
    for k in kinds {
        let _ = write!(
            out,
            r#"<span class="key {}"><i></i>{}</span>"#,
            class_of("k", k),
            esc(k)
        );
    }
    out.push_str("</div>");
    let n = w.buckets.max(1);
    let (top, ph) = (22.0, 110.0);
    let h = top + ph + 40.0;
    let bw = (W - LEFT - RIGHT) / n as f64;
    for r in &d.traffic.resources {
        let mut series: Vec<&Series> = r.series.iter().collect();
        series.sort_by_key(|s| kind_rank(&s.name));
        let totals: Vec<i64> = (0..w.buckets)
            .map(|i| series.iter().map(|s| s.values[i]).sum())
            .collect();
        let max = totals.iter().copied().max().unwrap_or(0).max(1) as f64;
        let _ = write!(
            out,
            r#"<svg class="chart traffic" viewBox="0 0 {W} {h}" role="img" data-resource="{}" data-series-count="{}" aria-label="bytes over time of {}"><text class="title" x="{LEFT}" y="14">{}{} · {}</text>"#,
            esc(&r.resource),
            series.len(),
            esc(&r.resource),
            esc(&r.resource),
            r.resource_type
                .as_deref()
                .map(|t| format!(" ({})", esc(t)))
                .unwrap_or_default(),
            bytes(r.total_bytes)
        );
        // The y axis: 0, half and the highest bar.
        out.push_str(r#"<g class="axis y">"#);
        for f in [0.0, 0.5, 1.0] {
            let y = top + ph - f * ph;
            let _ = write!(
                out,
                r#"<line class="grid" x1="{LEFT}" y1="{y:.1}" x2="{}" y2="{y:.1}"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
                W - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                bytes((max * f) as i64)
            );
        }
        out.push_str("</g>");
        let mut base = vec![0i64; w.buckets];
        for s in &series {
            let _ = write!(
                out,
                r#"<g class="series {}" data-series="{}">"#,
                class_of("k", &s.name),
                esc(&s.name)
            );
            for (i, &v) in s.values.iter().enumerate() {
                if v <= 0 {
                    continue;
                }
                let y0 = top + ph - base[i] as f64 / max * ph;
                let hh = (v as f64 / max * ph).max(0.5);
                let _ = write!(
                    out,
                    r#"<rect class="bar" x="{:.2}" y="{:.2}" width="{:.2}" height="{hh:.2}"><title>{}: {} to {} ({})</title></rect>"#,
                    LEFT + i as f64 * bw + bw * 0.1,
                    y0 - hh,
                    (bw * 0.8).max(0.5),
                    esc(&r.resource),
                    bytes(v),
                    esc(&s.name),
                    esc(&bucket_range(w, i))
                );
                base[i] += v;
            }
            out.push_str("</g>");
        }
        time_axis(&mut out, w, top + ph, LEFT);
        out.push_str("</svg>");
    }
    out
}

/// A chart with a row per item and a column per time bucket: its height, a bucket's width
/// and the largest value (at least 1).
struct RowGrid {
    h: f64,
    bw: f64,
    max: f64,
}

impl RowGrid {
    /// The margins: the label column's width, the top margin and a row's height.
    fn new<'a>(
        w: &Window,
        (left, top, row): (f64, f64, f64),
        rows: usize,
        values: impl Iterator<Item = &'a i64>,
    ) -> RowGrid {
        RowGrid {
            h: top + row * rows as f64 + 40.0,
            bw: (W - left - RIGHT) / w.buckets.max(1) as f64,
            max: values.copied().max().unwrap_or(1).max(1) as f64,
        }
    }
}

/// Findings per rule over time: a row per rule, a dot per bucket sized by the count.
pub fn findings_timeline(d: &ReportData) -> String {
    let w = &d.window;
    let rules = &d.findings_timeline.rules;
    if rules.is_empty() {
        return r#"<p class="empty" id="chart-findings-empty">No finding with a time in the window.</p>"#.into();
    }
    let (left, top, row) = (220.0, 10.0, 28.0);
    let RowGrid { h, bw, max } = RowGrid::new(
        w,
        (left, top, row),
        rules.len(),
        rules.iter().flat_map(|s| &s.values),
    );
    let severity = |rule: &str| {
        d.rules
            .iter()
            .find(|r| r.name == rule)
            .map(|r| r.severity.clone())
            .unwrap_or_default()
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" id="chart-findings" viewBox="0 0 {W} {h}" role="img" data-series-count="{}" aria-label="findings per rule over time">"#,
        rules.len()
    );
    for (j, s) in rules.iter().enumerate() {
        let cy = top + row * j as f64 + row / 2.0;
        let total: i64 = s.values.iter().sum();
        let _ = write!(
            out,
            r#"<line class="grid" x1="{left}" y1="{cy}" x2="{}" y2="{cy}"/><text class="label" x="{}" y="{}" text-anchor="end">{} ({})</text><g class="series {}" data-series="{}">"#,
            W - RIGHT,
            left - 8.0,
            cy + 4.0,
            esc(&s.name),
            count(total),
            class_of("sev", &severity(&s.name)),
            esc(&s.name)
        );
        for (i, &v) in s.values.iter().enumerate() {
            if v <= 0 {
                continue;
            }
            let r = 3.0 + 9.0 * (v as f64 / max).sqrt();
            let _ = write!(
                out,
                r#"<circle class="dot" cx="{:.1}" cy="{cy}" r="{r:.1}"><title>{}: {} findings, {}</title></circle>"#,
                left + (i as f64 + 0.5) * bw,
                esc(&s.name),
                count(v),
                esc(&bucket_range(w, i))
            );
        }
        out.push_str("</g>");
    }
    time_axis(&mut out, w, top + row * rules.len() as f64, left);
    out.push_str("</svg>");
    out
}

/// The remote addresses outside the VPC that SageMaker workloads sent the most bytes to.
pub fn destinations(d: &ReportData) -> String {
    let rows = &d.destinations;
    if rows.is_empty() {
        return r#"<p class="empty" id="chart-destinations-empty">No accepted egress of a SageMaker workload left its VPC's private addresses.</p>"#.into();
    }
    let (left, top, row) = (360.0, 4.0, 24.0);
    let h = top + row * rows.len() as f64 + 8.0;
    let max = rows
        .iter()
        .filter_map(|r| r.bytes)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let plot = W - left - 110.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" id="chart-destinations" viewBox="0 0 {W} {h}" role="img" data-bar-count="{}" aria-label="top external destinations">"#,
        rows.len()
    );
    for (j, r) in rows.iter().enumerate() {
        let y = top + row * j as f64;
        let kind = r.remote_kind.as_deref().unwrap_or("none");
        let mut label = r.remote_addr.clone().unwrap_or_default();
        if let Some(n) = &r.remote_name {
            label += &format!(" · {n}");
        }
        label += &format!(
            " · {}",
            r.remote_service.as_deref().unwrap_or(kind).to_lowercase()
        );
        let v = r.bytes.unwrap_or(0);
        let bw = (v as f64 / max * plot).max(1.0);
        let _ = write!(
            out,
            r#"<text class="label" x="{}" y="{}" text-anchor="end">{}</text><rect class="bar {}" data-addr="{}" x="{left}" y="{}" width="{bw:.1}" height="{}"><title>{}: {} in {} records from {} ({kind})</title></rect><text class="value" x="{:.1}" y="{}">{}</text>"#,
            left - 8.0,
            y + 16.0,
            esc(&truncate(&label, 52)),
            class_of("k", kind),
            esc(r.remote_addr.as_deref().unwrap_or_default()),
            y + 4.0,
            row - 8.0,
            esc(&label),
            bytes(v),
            count(r.records),
            esc(&match (&r.resource, &r.last_resource) {
                (Some(a), Some(b)) if a != b => format!("{a}, {b} and maybe others"),
                (Some(a), _) => a.clone(),
                _ => "unresolved resources".to_string(),
            }),
            left + bw + 6.0,
            y + 16.0,
            bytes(v)
        );
    }
    out.push_str("</svg>");
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "…"
    }
}

/// Per SageMaker resource, where its bytes went: a bar per resource, in parts by kind of
/// remote and service.
pub fn flow_summary(d: &ReportData) -> String {
    let rows = &d.flow_summary;
    if rows.is_empty() {
        return r#"<p class="empty" id="chart-flows-empty">No accepted traffic of a SageMaker workload's own ENI in the scanned records.</p>"#.into();
    }
    let (left, top, row) = (260.0, 4.0, 26.0);
    let h = top + row * rows.len() as f64 + 8.0;
    let max = rows.iter().map(|r| r.total_bytes).max().unwrap_or(1).max(1) as f64;
    let plot = W - left - 110.0;
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" id="chart-flows" viewBox="0 0 {W} {h}" role="img" data-bar-count="{}" aria-label="bytes per SageMaker resource by kind of remote">"#,
        rows.len()
    );
    for (j, r) in rows.iter().enumerate() {
        let y = top + row * j as f64;
        let _ = write!(
            out,
            r#"<text class="label" x="{}" y="{}" text-anchor="end">{}</text><g class="bar-group" data-resource="{}">"#,
            left - 8.0,
            y + 17.0,
            esc(&truncate(&r.resource, 34)),
            esc(&r.resource)
        );
        let mut parts: Vec<_> = r.parts.iter().collect();
        parts.sort_by_key(|p| kind_rank(&p.remote_kind));
        let mut x = left;
        for p in parts {
            let bw = p.bytes as f64 / max * plot;
            if bw <= 0.0 {
                continue;
            }
            let what = if p.remote_service.is_empty() {
                p.remote_kind.clone()
            } else {
                format!("{} {}", p.remote_kind, p.remote_service)
            };
            let _ = write!(
                out,
                r#"<rect class="bar {}" x="{x:.2}" y="{}" width="{:.2}" height="{}"><title>{} → {}: {} in {} records</title></rect>"#,
                class_of("k", &p.remote_kind),
                y + 4.0,
                bw.max(0.5),
                row - 8.0,
                esc(&r.resource),
                esc(&what),
                bytes(p.bytes),
                count(p.records)
            );
            x += bw;
        }
        let _ = write!(
            out,
            r#"</g><text class="value" x="{:.1}" y="{}">{}</text>"#,
            x + 6.0,
            y + 17.0,
            bytes(r.total_bytes)
        );
    }
    out.push_str("</svg>");
    out
}

/// Per SageMaker ENI and bucket: records, NODATA and SKIPDATA windows, and gaps (no record
/// between the ENI's first and last).
pub fn log_coverage(d: &ReportData) -> String {
    let w = &d.window;
    let rows = &d.log_coverage.enis;
    if rows.is_empty() {
        return r#"<p class="empty" id="chart-coverage-empty">No record of a SageMaker ENI in the scanned data.</p>"#.into();
    }
    let (left, top, row) = (300.0, 4.0, 16.0);
    let RowGrid { h, bw, max } = RowGrid::new(
        w,
        (left, top, row),
        rows.len(),
        rows.iter().flat_map(|r| &r.records),
    );
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" id="chart-coverage" viewBox="0 0 {W} {h}" role="img" data-row-count="{}" aria-label="flow-log coverage per SageMaker ENI">"#,
        rows.len()
    );
    for (j, e) in rows.iter().enumerate() {
        let y = top + row * j as f64;
        let label = match &e.resource {
            Some(r) => format!("{} · {r}", e.interface_id),
            None => e.interface_id.clone(),
        };
        let _ = write!(
            out,
            r#"<text class="label small" x="{}" y="{}" text-anchor="end">{}</text><g class="row" data-eni="{}" data-gaps="{}">"#,
            left - 6.0,
            y + 12.0,
            esc(&truncate(&label, 46)),
            esc(&e.interface_id),
            e.gaps
        );
        let first = e.records.iter().position(|&v| v > 0);
        let last = e.records.iter().rposition(|&v| v > 0);
        for i in 0..w.buckets {
            let (class, opacity, what) = if e.skipdata[i] > 0 {
                (
                    "c-skip",
                    1.0,
                    format!("{} SKIPDATA records: records lost", e.skipdata[i]),
                )
            } else if e.records[i] > 0 && e.nodata[i] == e.records[i] {
                ("c-nodata", 1.0, "NODATA: no traffic recorded".to_string())
            } else if e.records[i] > 0 {
                (
                    "c-ok",
                    0.35 + 0.65 * (e.records[i] as f64).ln_1p() / max.ln_1p(),
                    format!("{} records", count(e.records[i])),
                )
            } else if first.is_some_and(|a| a < i) && last.is_some_and(|b| i < b) {
                ("c-gap", 1.0, "gap: no record at all".to_string())
            } else {
                continue;
            };
            let _ = write!(
                out,
                r#"<rect class="cell {class}" x="{:.2}" y="{}" width="{:.2}" height="{}" fill-opacity="{opacity:.2}"><title>{}: {what}, {}</title></rect>"#,
                left + i as f64 * bw,
                y + 2.0,
                (bw - 0.5).max(0.5),
                row - 4.0,
                esc(&e.interface_id),
                esc(&bucket_range(w, i))
            );
        }
        out.push_str("</g>");
    }
    time_axis(&mut out, w, top + row * rows.len() as f64, left);
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_500_000), "1.5 MB");
        assert_eq!(bytes(2_340_000_000), "2.3 GB");
        assert_eq!(count(1234567i64), "1,234,567");
        assert_eq!(count(-1000i64), "-1,000");
        assert_eq!(count(12i64), "12");
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc(r#"<a href="x">&'"#),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(class_of("k", "aws service/x"), "k-aws_service_x");
    }
}
