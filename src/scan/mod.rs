//! `sageflow scan`: runs every rule, removes accepted findings (suppressions), and
//! writes the findings as a table, JSON, NDJSON, CSV or SARIF.

pub mod group;
pub mod rules;
pub mod state;

use std::io::Write;

use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::Deserialize;
use serde_json::{Map, Value};

pub use group::GroupBy;
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
/// Only the columns the rules (and reports) given read are copied; nothing is copied when
/// none reads `flows`.
pub async fn materialize(
    ctx: &SessionContext,
    dir: &std::path::Path,
    rules: &[&Rule],
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
async fn columns_read(ctx: &SessionContext, rules: &[&Rule]) -> Result<Option<Vec<String>>> {
    use datafusion::common::tree_node::TreeNodeRecursion;
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
    for rule in rules {
        for stmt in statements(rule)? {
            let plan = plan(ctx, rule, stmt).await?;
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

/// What the scanned records were attributed to, for the scan summary: records of
/// SageMaker workloads, and records on ENIs that no inventory document names (from the
/// `unknown-enis` report).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Coverage {
    pub sagemaker_records: u64,
    pub unknown_enis: u64,
    pub unknown_records: u64,
    pub unknown_bytes: u64,
    /// Of `unknown_records`, those attributed by the record's subnet and time.
    pub attributed: u64,
}

impl Coverage {
    /// The summary query over `flows`, built on the `unknown-enis` report; [`materialize`]
    /// must be given it so that the columns it reads are copied.
    pub fn query(unknown_enis: &Rule) -> Rule {
        Rule {
            name: "scan-summary".into(),
            is_report: true,
            severity: "info".into(),
            description: String::new(),
            sql: format!(
                "SELECT (SELECT count(*) FROM flows WHERE eni_owner_kind = 'sagemaker') AS sagemaker_records, \
                 count(*) AS unknown_enis, coalesce(sum(records), 0) AS unknown_records, \
                 coalesce(sum(bytes), 0) AS unknown_bytes, \
                 coalesce(sum(attributed_records), 0) AS attributed FROM ({}\n) AS r",
                unknown_enis.sql.trim().trim_end_matches(';')
            ),
            origin: format!("scan summary over {}", unknown_enis.origin),
        }
    }

    /// Runs [`Coverage::query`].
    pub async fn of(ctx: &SessionContext, query: &Rule) -> Result<Coverage> {
        use datafusion::arrow::array::{Array, AsArray};
        use datafusion::arrow::datatypes::{DataType, UInt64Type};
        let batches = ctx
            .sql(&query.sql)
            .await
            .map_err(Error::from_datafusion)?
            .collect()
            .await
            .map_err(Error::from_datafusion)?;
        let mut v = [0u64; 5];
        for b in batches.iter().filter(|b| b.num_rows() > 0) {
            for (i, slot) in v.iter_mut().enumerate() {
                let a = datafusion::arrow::compute::cast(b.column(i), &DataType::UInt64)?;
                let a = a.as_primitive::<UInt64Type>();
                *slot = if a.is_valid(0) { a.value(0) } else { 0 };
            }
        }
        Ok(Coverage {
            sagemaker_records: v[0],
            unknown_enis: v[1],
            unknown_records: v[2],
            unknown_bytes: v[3],
            attributed: v[4],
        })
    }
}

/// What the inventory's flow logs cannot show, for the scan summary: flow logs of only
/// rejected or only accepted traffic, and record formats without fields some rules use.
/// `read` names the flow logs (ids) and log groups the scanned objects came from; when
/// none is known, every flow log that covers a SageMaker ENI is considered.
pub fn coverage_notes(enricher: &crate::enrich::Enricher, read: &[String]) -> Vec<String> {
    use crate::format::Layout;
    let inv = enricher.inventory();
    let sagemaker: Vec<&crate::inventory::Eni> = {
        let mut v: Vec<_> = inv
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
    };
    let named = |f: &crate::inventory::FlowLogConfig| {
        read.iter().any(|r| {
            *r == f.id
                || f.log_group_name
                    .as_deref()
                    .is_some_and(|g| *r == crate::source::cloudwatch::format_key(g))
        })
    };
    let any_named = inv.flow_logs.iter().any(named);
    let mut notes = Vec::new();
    for f in &inv.flow_logs {
        let covered = sagemaker.iter().filter(|e| f.covers(e)).count();
        if covered == 0 || (any_named && !named(f)) {
            continue;
        }
        match f.traffic_type.as_deref() {
            Some("REJECT") => notes.push(format!(
                "flow log {} records only rejected traffic (TrafficType REJECT): the accepted traffic of the {covered} SageMaker ENIs it covers is unseen (blind-spots lists those no other flow log covers)",
                f.id
            )),
            Some("ACCEPT") => notes.push(format!(
                "flow log {} records only accepted traffic (TrafficType ACCEPT): rejected-sagemaker-egress cannot see the {covered} SageMaker ENIs it covers",
                f.id
            )),
            _ => {}
        }
        let layout = match &f.log_format {
            Some(fmt) => match Layout::parse(fmt) {
                Ok(l) => l,
                Err(_) => continue,
            },
            None => Layout::default_v2(),
        };
        let missing: Vec<String> = FIELD_USES
            .iter()
            .filter(|(fields, _)| fields.iter().any(|n| !layout.has(n)))
            .map(|(fields, why)| format!("{}: {why}", fields.join(", ")))
            .collect();
        if !missing.is_empty() {
            notes.push(format!(
                "flow log {} ({}) lacks fields rules use, so:\n    {}",
                f.id,
                if f.log_format.is_some() {
                    "custom format"
                } else {
                    "default format"
                },
                missing.join("\n    ")
            ));
        }
    }
    notes
}

/// Optional flow-log fields and what the rules do without them.
const FIELD_USES: &[(&[&str], &str)] = &[
    (
        &["pkt-srcaddr", "pkt-dstaddr"],
        "NAT-gateway legs cannot be attributed to the workload, and secondary addresses read as the primary one",
    ),
    (
        &["flow-direction"],
        "direction comes from the ENI's addresses in the inventory",
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
];

/// A rule's SQL statements; errors name the rule's file.
fn statements(rule: &Rule) -> Result<Vec<datafusion::sql::parser::Statement>> {
    datafusion::sql::parser::DFParser::parse_sql(&rule.sql)
        .map(Into::into)
        .map_err(|e| Error::Usage(format!("{}: {e}", rule.origin)))
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

/// Runs one rule; its rows, grouped `by`, become findings tagged with the rule, severity
/// and a stable `finding_id`, handed to `emit` one at a time. Returns how many there were.
pub async fn run_rule(
    ctx: &SessionContext,
    rule: &Rule,
    by: GroupBy,
    mut emit: impl FnMut(Finding) -> Result<()>,
) -> Result<usize> {
    let mut found = 0;
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
            Err(e) => return Err(Error::Usage(format!("{}: {e}", rule.origin))),
        };
        if !ordered || grouped {
            df = in_finding_order(df)?;
        }
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
                let id = group::finding_id(&rule.name, by, grouped, &f);
                f.insert("finding_id".into(), Value::from(id));
                found += 1;
                emit(f)?;
            }
        }
    }
    Ok(found)
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
    let names: Vec<String> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
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

/// The findings of a scan, spooled as NDJSON to a file in the scan's temporary directory:
/// a scan that flags millions of flows holds one finding in memory at a time, and every
/// output format is written from the spool.
pub struct Spool {
    path: std::path::PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    count: usize,
    per_rule: std::collections::HashMap<String, usize>,
    /// Per rule, in the order rules were first met: the columns beyond [`KEY_COLUMNS`]
    /// its findings carry, in the order first met, so the table and CSV keep them.
    columns: Vec<(String, Vec<String>)>,
}

impl Spool {
    pub fn create(dir: &std::path::Path) -> Result<Spool> {
        let path = dir.join("findings.ndjson");
        let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Spool {
            path,
            file: std::io::BufWriter::new(file),
            count: 0,
            per_rule: Default::default(),
            columns: Vec::new(),
        })
    }

    pub fn push(&mut self, f: &Finding) -> Result<()> {
        let io = |e: std::io::Error| Error::io(&self.path, e);
        serde_json::to_writer(&mut self.file, f)
            .map_err(std::io::Error::from)
            .map_err(io)?;
        self.file.write_all(b"\n").map_err(io)?;
        self.count += 1;
        let rule = f.get("rule").and_then(Value::as_str).unwrap_or_default();
        *self.per_rule.entry(rule.to_string()).or_default() += 1;
        let at = match self.columns.iter().position(|(r, _)| r == rule) {
            Some(i) => i,
            None => {
                self.columns.push((rule.to_string(), Vec::new()));
                self.columns.len() - 1
            }
        };
        let cols = &mut self.columns[at].1;
        for k in f.keys() {
            if !KEY_COLUMNS.contains(&k.as_str()) && !cols.contains(k) {
                cols.push(k.clone());
            }
        }
        Ok(())
    }

    /// Every column of every finding: [`KEY_COLUMNS`], then the others as first met.
    pub fn all_columns(&self) -> Vec<String> {
        let mut all: Vec<String> = KEY_COLUMNS.iter().map(|c| c.to_string()).collect();
        for c in self.columns.iter().flat_map(|(_, cols)| cols) {
            if !all.contains(c) {
                all.push(c.clone());
            }
        }
        all
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Findings kept for `rule`.
    pub fn count_of(&self, rule: &str) -> usize {
        self.per_rule.get(rule).copied().unwrap_or(0)
    }

    /// Reads the findings back, in the order they were pushed.
    pub fn iter(&mut self) -> Result<impl Iterator<Item = Result<Finding>> + use<>> {
        use std::io::BufRead;
        let path = self.path.clone();
        self.file.flush().map_err(|e| Error::io(&path, e))?;
        let file = std::fs::File::open(&path).map_err(|e| Error::io(&path, e))?;
        Ok(std::io::BufReader::new(file).lines().map(move |line| {
            let line = line.map_err(|e| Error::io(&path, e))?;
            serde_json::from_str(&line)
                .map_err(|e| Error::Usage(format!("{}: damaged finding: {e}", path.display())))
        }))
    }
}

/// Serialises the spooled findings (the first `limit`) as a JSON array, one element at a
/// time.
struct Streamed<'a, F> {
    spool: std::cell::RefCell<&'a mut Spool>,
    map: F,
    limit: usize,
}

impl<F: Fn(Finding) -> Value> serde::Serialize for Streamed<'_, F> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut spool = self.spool.borrow_mut();
        let mut seq = s.serialize_seq(Some(spool.len().min(self.limit)))?;
        for f in spool.iter().map_err(S::Error::custom)?.take(self.limit) {
            seq.serialize_element(&(self.map)(f.map_err(S::Error::custom)?))?;
        }
        seq.end()
    }
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

/// Refuses suppressions that cannot do what they say: a rule that does not exist, no
/// `match` (it would accept every finding of the rule), or a column the rule's findings
/// do not have (it would never match). `file` names the suppression file in errors.
pub async fn check_suppressions(
    ctx: &SessionContext,
    rules: &[Rule],
    suppressions: &[Suppression],
    file: &str,
    by: GroupBy,
) -> Result<()> {
    const HINT: &str = "`sageflow rules` lists the rules; a finding's columns are the ones `scan --format json` prints for it";
    for (i, s) in suppressions.iter().enumerate() {
        let at = format!("{file}: suppression {} (rule {})", i + 1, s.rule);
        let Some(rule) = rules.iter().find(|r| !r.is_report && r.name == s.rule) else {
            return Err(Error::config(
                format!(
                    "{at}: no such rule{}",
                    crate::suggest::did_you_mean(
                        &s.rule,
                        rules
                            .iter()
                            .filter(|r| !r.is_report)
                            .map(|r| r.name.as_str())
                    )
                ),
                HINT,
            ));
        };
        if s.matches.is_empty() {
            return Err(Error::config(
                format!(
                    "{at}: no `match`, so it would accept every finding of the rule; name what to accept, e.g. match = {{ sagemaker_resource = \"train-*\" }}"
                ),
                HINT,
            ));
        }
        let columns = finding_columns(ctx, rule, by).await?;
        for key in s.matches.keys() {
            if !columns.iter().any(|c| c == key) {
                return Err(Error::config(
                    format!(
                        "{at}: `{key}` is not a column of its findings, so it would never match{}",
                        crate::suggest::did_you_mean(key, columns.iter().map(String::as_str))
                    ),
                    HINT,
                ));
            }
        }
    }
    Ok(())
}

/// The columns a rule's findings carry: the key columns, `finding_id` and what its SQL
/// selects, grouped `by`.
async fn finding_columns(ctx: &SessionContext, rule: &Rule, by: GroupBy) -> Result<Vec<String>> {
    let mut columns: Vec<String> = KEY_COLUMNS.iter().map(|c| c.to_string()).collect();
    columns.push("finding_id".into());
    for stmt in statements(rule)? {
        let plan = plan(ctx, rule, stmt).await?;
        let schema = match group::grouped(ctx, plan.clone(), by).await? {
            Some(df) => df.schema().as_arrow().clone(),
            None => plan.schema().as_arrow().clone(),
        };
        columns.extend(schema.fields().iter().map(|f| f.name().clone()));
    }
    Ok(columns)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindingFormat {
    Table,
    Json,
    Ndjson,
    Csv,
    Sarif,
}

/// Writes the spooled findings in `format`.
pub fn write(
    spool: &mut Spool,
    rules: &[Rule],
    format: FindingFormat,
    out: &mut dyn Write,
) -> Result<()> {
    let w = |e| Error::io("output", e);
    match format {
        FindingFormat::Json => {
            let all = Streamed {
                spool: std::cell::RefCell::new(spool),
                map: |f: Finding| Value::Object(f),
                limit: usize::MAX,
            };
            serde_json::to_writer_pretty(&mut *out, &all)
                .map_err(std::io::Error::from)
                .map_err(w)?;
            writeln!(out).map_err(w)?;
        }
        FindingFormat::Ndjson => {
            for f in spool.iter()? {
                serde_json::to_writer(&mut *out, &f?)
                    .map_err(std::io::Error::from)
                    .map_err(w)?;
                writeln!(out).map_err(w)?;
            }
        }
        FindingFormat::Csv => {
            let columns = spool.all_columns();
            writeln!(out, "{}", columns.join(",")).map_err(w)?;
            for f in spool.iter()? {
                let f = f?;
                let row: Vec<String> = columns.iter().map(|k| csv_cell(f.get(k))).collect();
                writeln!(out, "{}", row.join(",")).map_err(w)?;
            }
        }
        FindingFormat::Table => {
            if spool.is_empty() {
                writeln!(out, "No findings.").map_err(w)?;
            } else {
                write_tables(spool, rules, out)?;
            }
        }
        FindingFormat::Sarif => {
            if spool.len() > SARIF_MAX_RESULTS {
                tracing::warn!(
                    "{} findings, of which SARIF output holds the first {SARIF_MAX_RESULTS} (GitHub code scanning's limit per run): use --group-by connection or resource, or --format json for all of them",
                    spool.len()
                );
            }
            serde_json::to_writer_pretty(&mut *out, &sarif(spool, rules))
                .map_err(std::io::Error::from)
                .map_err(w)?;
            writeln!(out).map_err(w)?;
        }
    }
    out.flush().map_err(w)
}

/// The table format: one table per rule (its findings are contiguous in the spool), with
/// the key columns and every column the rule selects, less those empty in all of its
/// findings; times in ISO 8601 UTC and protocols by name, for people (CSV and JSON keep the
/// raw values).
fn write_tables(spool: &mut Spool, rules: &[Rule], out: &mut dyn Write) -> Result<()> {
    let w = |e| Error::io("output", e);
    let blocks = spool.columns.clone();
    for (n, (rule, extra)) in blocks.iter().enumerate() {
        let columns: Vec<String> = KEY_COLUMNS[2..]
            .iter()
            .map(|c| c.to_string())
            .chain(extra.iter().cloned())
            .collect();
        // Two passes over the spool: widths (and which columns hold anything), then rows.
        let mut widths: Vec<usize> = columns.iter().map(|k| k.len()).collect();
        let mut used = vec![false; columns.len()];
        for f in spool.iter()? {
            let f = f?;
            if f.get("rule").and_then(Value::as_str) != Some(rule.as_str()) {
                continue;
            }
            for (i, k) in columns.iter().enumerate() {
                let cell = shown(k, f.get(k));
                used[i] |= !cell.is_empty();
                widths[i] = widths[i].max(cell.len());
            }
        }
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .zip(&widths)
                .zip(&used)
                .filter(|(_, used)| **used)
                .map(|((c, w), _)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        };
        let severity = rules
            .iter()
            .find(|r| &r.name == rule)
            .map_or("", |r| r.severity.as_str());
        if n > 0 {
            writeln!(out).map_err(w)?;
        }
        writeln!(
            out,
            "{rule} ({severity}): {} findings",
            spool.count_of(rule)
        )
        .map_err(w)?;
        writeln!(
            out,
            "{}",
            line(columns.iter().map(|s| s.to_uppercase()).collect())
        )
        .map_err(w)?;
        for f in spool.iter()? {
            let f = f?;
            if f.get("rule").and_then(Value::as_str) != Some(rule.as_str()) {
                continue;
            }
            let cells = columns.iter().map(|k| shown(k, f.get(k))).collect();
            writeln!(out, "{}", line(cells)).map_err(w)?;
        }
    }
    Ok(())
}

/// A cell of the table format: Unix-second times as ISO 8601 UTC, IANA protocol numbers
/// by name, control characters (in object names, say) escaped for the terminal.
fn shown(column: &str, v: Option<&Value>) -> String {
    let cell = shown_raw(column, v);
    crate::terminal::printable(&cell).into_owned()
}

fn shown_raw(column: &str, v: Option<&Value>) -> String {
    const TIMES: &[&str] = &[
        "start",
        "end",
        "first_start",
        "last_end",
        "first_seen",
        "last_seen",
    ];
    match (column, v) {
        (c, Some(Value::Number(n))) if TIMES.contains(&c) => n
            .as_i64()
            .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_else(|| n.to_string()),
        ("protocol", Some(Value::Number(n))) => match n.as_i64() {
            Some(1) => "icmp".into(),
            Some(6) => "tcp".into(),
            Some(17) => "udp".into(),
            Some(47) => "gre".into(),
            Some(50) => "esp".into(),
            Some(58) => "icmpv6".into(),
            Some(132) => "sctp".into(),
            _ => n.to_string(),
        },
        _ => plain(v),
    }
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

/// SARIF 2.1.0 document; its fields are in key order, as `json!` objects print theirs.
#[derive(serde::Serialize)]
#[serde(bound = "F: Fn(Finding) -> Value")]
struct Sarif<'a, F> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [SarifRun<'a, F>; 1],
    version: &'static str,
}

#[derive(serde::Serialize)]
#[serde(bound = "F: Fn(Finding) -> Value")]
struct SarifRun<'a, F> {
    invocations: Value,
    results: Streamed<'a, F>,
    tool: Value,
}

/// Results GitHub code scanning accepts in one run; the rest are left out, and the run
/// says how many.
pub const SARIF_MAX_RESULTS: usize = 25_000;

/// GitHub's `security-severity` (0.0–10.0; over 9.0 critical, 7.0 high, 4.0 medium, else
/// low) of a rule severity.
fn security_severity(sev: &str) -> &'static str {
    match sev {
        "critical" => "9.5",
        "high" => "8.0",
        "medium" => "5.5",
        "low" => "3.0",
        _ => "1.0",
    }
}

/// An object name as a SARIF `artifactLocation.uri`: URLs (`s3://`, `cwlogs://`) and
/// relative paths as URI references, absolute paths as `file://` URLs, with every byte a
/// URI path cannot hold percent-encoded.
fn artifact_uri(name: &str) -> String {
    fn encode(s: &str, colon: bool) -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            let keep = b.is_ascii_alphanumeric()
                || b"-._~/!$&'()*+,;=@".contains(&b)
                || (colon && b == b':');
            if keep {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    if let Some((scheme, rest)) = name.split_once("://")
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return format!("{scheme}://{}", encode(rest, true));
    }
    if name.starts_with('/') {
        return format!("file://{}", encode(name, true));
    }
    // A relative reference: a colon in it would read as a scheme.
    encode(name, false)
}

fn sarif_level(sev: &str) -> &'static str {
    match sev {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

/// SARIF 2.1.0 as GitHub code scanning takes it: one result per finding (at most
/// [`SARIF_MAX_RESULTS`]), located at the source object and line of its (first) record,
/// or at the inventory document of a finding about configuration; `finding_id` as the
/// partial fingerprint; rules with `security-severity`.
fn sarif<'a>(spool: &'a mut Spool, rules: &[Rule]) -> Sarif<'a, impl Fn(Finding) -> Value> {
    let used: Vec<&Rule> = rules.iter().filter(|r| !r.is_report).collect();
    let names: Vec<String> = used.iter().map(|r| r.name.clone()).collect();
    // A rule's file, for findings no data or inventory file locates (`built-in X` is the
    // bundled queries/X).
    let files: Vec<String> = used
        .iter()
        .map(|r| match r.origin.strip_prefix("built-in ") {
            Some(f) => format!("queries/{f}"),
            None => r.origin.clone(),
        })
        .collect();
    let result = move |f: Finding| {
        let rule = plain(f.get("rule"));
        let sev = plain(f.get("severity"));
        let what = [
            "sagemaker_resource_type",
            "sagemaker_resource",
            "sagemaker_candidates",
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
        let (artifact, line) = match (plain(f.get("source_object")), f.get("source_line")) {
            (o, l) if !o.is_empty() => (o, l.and_then(Value::as_u64).unwrap_or(1)),
            _ => match plain(f.get("attribution_document")) {
                d if !d.is_empty() => (d, 1),
                // Nothing names a file: the rule's own.
                _ => (
                    names
                        .iter()
                        .position(|n| *n == rule)
                        .map_or_else(|| format!("queries/{rule}.sql"), |i| files[i].clone()),
                    1,
                ),
            },
        };
        let mut physical = serde_json::json!({
            "artifactLocation": {"uri": artifact_uri(&artifact)},
            "region": {"startLine": line.max(1)},
        });
        if location.is_empty() {
            physical = serde_json::json!({"physicalLocation": physical});
        } else {
            physical = serde_json::json!({
                "physicalLocation": physical,
                "logicalLocations": [{"name": location, "kind": "resource"}],
            });
        }
        let id = plain(f.get("finding_id"));
        serde_json::json!({
            "ruleId": rule,
            "ruleIndex": names.iter().position(|n| *n == rule),
            "level": sarif_level(&sev),
            "message": {"text": format!("{rule}: {what}")},
            "locations": [physical],
            "partialFingerprints": {"sageflowFindingId/v1": id},
            "properties": f,
        })
    };
    let tool = serde_json::json!({"driver": {
        "name": "sageflow",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": used.iter().map(|r| serde_json::json!({
            "id": r.name,
            "name": r.name,
            "shortDescription": {"text": r.name},
            "fullDescription": {"text": r.description},
            "help": {"text": r.description},
            "defaultConfiguration": {"level": sarif_level(&r.severity)},
            "properties": {
                "severity": r.severity,
                "security-severity": security_severity(&r.severity),
                "tags": ["security", "sagemaker", "vpc-flow-logs"],
            },
        })).collect::<Vec<_>>(),
    }});
    let left_out = spool.len().saturating_sub(SARIF_MAX_RESULTS);
    let notifications: Vec<Value> = (left_out > 0)
        .then(|| {
            serde_json::json!({
                "level": "warning",
                "message": {"text": format!(
                    "{left_out} of {} findings are not in this file: GitHub code scanning accepts {SARIF_MAX_RESULTS} results per run. Group them (scan --group-by connection or resource) or write them all with --format json",
                    spool.len()
                )},
            })
        })
        .into_iter()
        .collect();
    Sarif {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [SarifRun {
            invocations: serde_json::json!([{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }]),
            results: Streamed {
                spool: std::cell::RefCell::new(spool),
                map: result,
                limit: SARIF_MAX_RESULTS,
            },
            tool,
        }],
        version: "2.1.0",
    }
}
