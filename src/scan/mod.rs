//! `sageflow scan`: runs every rule, removes accepted findings (suppressions), and
//! writes the findings as a table, JSON, NDJSON, CSV or SARIF.

pub mod rules;
pub mod state;

use std::io::Write;

use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};

pub use rules::Rule;

use crate::error::{Error, Result};

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

/// Reads the sources once, with every column and the enrichment, into a temporary
/// Parquet copy under `dir`, and points `flows` at it: each rule is then a cheap columnar
/// scan instead of another pass over (compressed, text) sources, and rejects and counters
/// are those of the one pass. Partitions are written in parallel; memory stays bounded.
/// Only the columns the rules read are copied; nothing is copied when no rule reads `flows`.
pub async fn materialize(
    ctx: &SessionContext,
    dir: &std::path::Path,
    rules: &[Rule],
) -> Result<()> {
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::basic::{Compression, ZstdLevel};
    use datafusion::parquet::file::properties::WriterProperties;
    let Some(columns) = columns_read(ctx, rules).await? else {
        return Ok(());
    };
    let df = ctx
        .table("flows")
        .await
        .and_then(|df| df.select_columns(&columns.iter().map(String::as_str).collect::<Vec<_>>()))
        .map_err(Error::from_datafusion)?;
    let streams = df
        .execute_stream_partitioned()
        .await
        .map_err(Error::from_datafusion)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(1).expect("valid level"),
        ))
        .set_max_row_group_row_count(Some(128 * 1024))
        .build();
    let mut tasks = Vec::new();
    for (i, mut stream) in streams.into_iter().enumerate() {
        let path = dir.join(format!("part-{i:04}.parquet"));
        let props = props.clone();
        tasks.push(tokio::spawn(async move {
            let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
            let perr = |e: datafusion::parquet::errors::ParquetError| Error::Parquet {
                object: path.display().to_string(),
                message: e.to_string(),
            };
            let mut w = ArrowWriter::try_new(file, stream.schema(), Some(props)).map_err(perr)?;
            while let Some(batch) = stream.next().await {
                let batch = batch.map_err(Error::from_datafusion)?;
                w.write(&batch).map_err(perr)?;
            }
            w.close().map_err(perr)?;
            Ok::<(), Error>(())
        }));
    }
    for t in tasks {
        t.await
            .map_err(|e| Error::Usage(format!("materialising the flows failed: {e}")))??;
    }
    ctx.deregister_table("flows")
        .map_err(Error::from_datafusion)?;
    ctx.register_parquet(
        "flows",
        dir.to_string_lossy().as_ref(),
        datafusion::prelude::ParquetReadOptions::default(),
    )
    .await
    .map_err(Error::from_datafusion)?;
    Ok(())
}

/// The `flows` columns the rules read (`None` when none reads `flows`).
async fn columns_read(ctx: &SessionContext, rules: &[Rule]) -> Result<Option<Vec<String>>> {
    use datafusion::common::tree_node::TreeNodeRecursion;
    use datafusion::logical_expr::LogicalPlan;
    let all: Vec<String> = ctx
        .table("flows")
        .await
        .map_err(Error::from_datafusion)?
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let mut used = std::collections::BTreeSet::new();
    let mut any = false;
    for rule in rules.iter().filter(|r| !r.is_report) {
        let statements = datafusion::sql::parser::DFParser::parse_sql(&rule.sql)
            .map_err(|e| Error::Usage(format!("{}: {e}", rule.origin)))?;
        for stmt in statements {
            let plan = ctx.state().statement_to_plan(stmt).await.map_err(|e| {
                Error::Usage(format!("{}: {}", rule.origin, Error::from_datafusion(e)))
            })?;
            let plan = ctx
                .state()
                .optimize(&plan)
                .map_err(Error::from_datafusion)?;
            plan.apply_with_subqueries(|node| {
                if let LogicalPlan::TableScan(scan) = node
                    && scan.table_name.table() == "flows"
                {
                    any = true;
                    match &scan.projection {
                        Some(p) => used.extend(p.iter().map(|&i| all[i].clone())),
                        None => used.extend(all.iter().cloned()),
                    }
                }
                Ok(TreeNodeRecursion::Continue)
            })
            .map_err(Error::from_datafusion)?;
        }
    }
    Ok(any.then(|| {
        // Keep the table's column order; a rule counting rows needs at least one column.
        let mut cols: Vec<String> = all.into_iter().filter(|c| used.contains(c)).collect();
        if cols.is_empty() {
            cols.push("interface_id".into());
        }
        cols
    }))
}

/// Runs one rule; its rows become findings tagged with the rule and severity.
pub async fn run_rule(ctx: &SessionContext, rule: &Rule) -> Result<Vec<Finding>> {
    let statements = datafusion::sql::parser::DFParser::parse_sql(&rule.sql)
        .map_err(|e| Error::Usage(format!("{}: {e}", rule.origin)))?;
    let mut findings = Vec::new();
    let options = crate::cli::sql_options();
    for stmt in statements {
        let plan =
            ctx.state().statement_to_plan(stmt).await.map_err(|e| {
                Error::Usage(format!("{}: {}", rule.origin, Error::from_datafusion(e)))
            })?;
        options.verify_plan(&plan).map_err(Error::from_datafusion)?;
        let df = ctx
            .execute_logical_plan(plan)
            .await
            .map_err(Error::from_datafusion)?;
        let mut stream = df.execute_stream().await.map_err(Error::from_datafusion)?;
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(Error::from_datafusion)?;
            let mut buf = Vec::new();
            {
                let mut w = datafusion::arrow::json::WriterBuilder::new()
                    .with_explicit_nulls(true)
                    .build::<_, datafusion::arrow::json::writer::LineDelimited>(&mut buf);
                w.write(&batch)?;
                w.finish()?;
            }
            for line in buf.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let row: Map<String, Value> = serde_json::from_slice(line).map_err(|e| {
                    Error::Usage(format!("{}: result is not JSON: {e}", rule.origin))
                })?;
                let mut f = Map::new();
                f.insert("rule".into(), Value::from(rule.name.clone()));
                f.insert("severity".into(), Value::from(rule.severity.clone()));
                for k in &KEY_COLUMNS[2..] {
                    f.insert((*k).into(), row.get(*k).cloned().unwrap_or(Value::Null));
                }
                for (k, v) in row {
                    f.entry(k).or_insert(v);
                }
                findings.push(f);
            }
        }
    }
    Ok(findings)
}

/// One accepted finding pattern from the `--suppress` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    pub rule: String,
    /// Column → value that must match exactly (`*` at the end matches a prefix).
    #[serde(default, rename = "match")]
    pub matches: Map<String, Value>,
    pub reason: String,
    /// `YYYY-MM-DD`: the suppression stops applying after this day.
    pub expires: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SuppressionFile {
    #[serde(default)]
    suppress: Vec<Suppression>,
}

impl Suppression {
    pub fn expired(&self, today: chrono::NaiveDate) -> bool {
        self.expires
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .is_some_and(|d| today > d)
    }

    pub fn matches(&self, f: &Finding) -> bool {
        if f.get("rule").and_then(Value::as_str) != Some(self.rule.as_str()) {
            return false;
        }
        self.matches.iter().all(|(k, want)| {
            let got = f.get(k).unwrap_or(&Value::Null);
            match (want, got) {
                (Value::String(w), Value::String(g)) => match w.strip_suffix('*') {
                    Some(prefix) => g.starts_with(prefix),
                    None => w == g,
                },
                (Value::String(w), Value::Number(n)) => w == &n.to_string(),
                (w, g) => w == g,
            }
        })
    }
}

/// Reads a suppression file (TOML, `[[suppress]]` tables).
pub fn load_suppressions(path: &std::path::Path) -> Result<Vec<Suppression>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let file: SuppressionFile =
        toml::from_str(&text).map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    for s in &file.suppress {
        if let Some(d) = &s.expires
            && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
        {
            return Err(Error::Usage(format!(
                "{}: expires `{d}` is not a date (YYYY-MM-DD)",
                path.display()
            )));
        }
    }
    Ok(file.suppress)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindingFormat {
    Table,
    Json,
    Ndjson,
    Csv,
    Sarif,
}

/// Writes findings in `format`.
pub fn write(
    findings: &[Finding],
    rules: &[Rule],
    format: FindingFormat,
    out: &mut dyn Write,
) -> Result<()> {
    let w = |e| Error::io("output", e);
    match format {
        FindingFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, findings)
                .map_err(std::io::Error::from)
                .map_err(w)?;
            writeln!(out).map_err(w)?;
        }
        FindingFormat::Ndjson => {
            for f in findings {
                serde_json::to_writer(&mut *out, f)
                    .map_err(std::io::Error::from)
                    .map_err(w)?;
                writeln!(out).map_err(w)?;
            }
        }
        FindingFormat::Csv => {
            writeln!(out, "{}", KEY_COLUMNS.join(",")).map_err(w)?;
            for f in findings {
                let row: Vec<String> = KEY_COLUMNS.iter().map(|k| csv_cell(f.get(*k))).collect();
                writeln!(out, "{}", row.join(",")).map_err(w)?;
            }
        }
        FindingFormat::Table => {
            if findings.is_empty() {
                writeln!(out, "No findings.").map_err(w)?;
            } else {
                let rows: Vec<Vec<String>> = findings
                    .iter()
                    .map(|f| KEY_COLUMNS.iter().map(|k| plain(f.get(*k))).collect())
                    .collect();
                let widths: Vec<usize> = KEY_COLUMNS
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        rows.iter()
                            .map(|r| r[i].len())
                            .max()
                            .unwrap_or(0)
                            .max(k.len())
                    })
                    .collect();
                let line = |cells: Vec<String>| {
                    cells
                        .iter()
                        .zip(&widths)
                        .map(|(c, w)| format!("{c:<w$}"))
                        .collect::<Vec<_>>()
                        .join("  ")
                        .trim_end()
                        .to_string()
                };
                writeln!(
                    out,
                    "{}",
                    line(KEY_COLUMNS.iter().map(|s| s.to_uppercase()).collect())
                )
                .map_err(w)?;
                for r in rows {
                    writeln!(out, "{}", line(r)).map_err(w)?;
                }
            }
        }
        FindingFormat::Sarif => {
            serde_json::to_writer_pretty(&mut *out, &sarif(findings, rules))
                .map_err(std::io::Error::from)
                .map_err(w)?;
            writeln!(out).map_err(w)?;
        }
    }
    out.flush().map_err(w)
}

fn plain(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

fn csv_cell(v: Option<&Value>) -> String {
    let s = plain(v);
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// SARIF 2.1.0: one result per finding; flow findings are located at the ENI.
fn sarif(findings: &[Finding], rules: &[Rule]) -> Value {
    let level = |sev: &str| match sev {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    };
    let used: Vec<&Rule> = rules.iter().filter(|r| !r.is_report).collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let rule = plain(f.get("rule"));
            let sev = plain(f.get("severity"));
            let what = [
                "sagemaker_resource_type",
                "sagemaker_resource",
                "interface_id",
                "srcaddr",
                "dstaddr",
                "dstport",
                "remote_kind",
                "remote_service",
            ]
            .iter()
            .filter_map(|k| {
                let v = plain(f.get(*k));
                (!v.is_empty()).then(|| format!("{k}={v}"))
            })
            .collect::<Vec<_>>()
            .join(" ");
            let location = plain(f.get("interface_id"));
            let location = if location.is_empty() {
                plain(f.get("sagemaker_resource"))
            } else {
                location
            };
            serde_json::json!({
                "ruleId": rule,
                "ruleIndex": used.iter().position(|r| r.name == rule),
                "level": level(&sev),
                "message": {"text": format!("{rule}: {what}")},
                "locations": [{"logicalLocations": [{"name": location, "kind": "resource"}]}],
                "properties": f,
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "sageflow",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": used.iter().map(|r| serde_json::json!({
                    "id": r.name,
                    "shortDescription": {"text": r.description},
                    "defaultConfiguration": {"level": level(&r.severity)},
                    "properties": {"severity": r.severity},
                })).collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    })
}
