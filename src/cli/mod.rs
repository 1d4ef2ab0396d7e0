//! The commands. `main.rs` parses arguments and maps errors to exit codes; everything
//! else happens here.

pub mod args;
mod output;
mod progress;
mod shell;

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement};

pub use args::{Cli, Command};
use args::{
    InputArgs, InventoryCommand, InventorySource, OutputFormat, QueryArgs, RulesArgs, ScanArgs,
    SchemaArgs, SchemaFormat,
};

use crate::decode::{RejectSink, ScanStats, StatsSnapshot, TimeWindow};
use crate::engine::{self, BATCH_SIZE, ScanConfig};
use crate::enrich::Enricher;
use crate::error::{Error, Result};
use crate::format::{FIELDS, FlowSchema, Layout, kind_name};
use crate::inventory::{Inventory, IpRanges};
use crate::scan::state::ScanState;
use crate::source;
use crate::source::ledger::{OnRewrite, ReadLedger};

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when a scan found something (used by `scan`).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage and input errors.
pub const EXIT_ERROR: u8 = 2;

/// Runs a parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Query(a) => query(a).await,
        Command::Scan(a) => scan(a).await,
        Command::Export(a) => export(a).await,
        Command::Rules(a) => list_rules(a),
        Command::Inventory(InventoryCommand::Show(a)) => inventory_show(&a.inventory, &a.aws).await,
        Command::Inventory(InventoryCommand::Collect(a)) => inventory_collect(a).await,
        Command::Schema(a) => schema(a),
        Command::Generate(a) => generate(a),
        Command::Completions(a) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(a.shell, &mut cmd, "sageflow", &mut std::io::stdout());
            Ok(EXIT_OK)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| Error::io("standard output", e))?;
            Ok(EXIT_OK)
        }
    }
}

/// A prepared run over the inputs: session, counters, timer.
struct Run {
    /// The objects this run reads (for `--state`).
    objects: Vec<source::SourceObject>,
    ledger: source::ledger::CwLedger,
    /// Objects skipped because an earlier run (`--state`) read them unchanged.
    already: usize,
    ctx: SessionContext,
    rejects: Arc<RejectSink>,
    stats: Arc<ScanStats>,
    quiet: bool,
    /// Under --strict the failing reject is the error itself; the summary does not repeat it.
    strict: bool,
    began: Instant,
    ignored: usize,
    enricher: Arc<Enricher>,
}

/// With `state`, an incremental run: only what earlier runs did not read.
async fn prepare(input: &InputArgs, state: Option<(&ReadLedger, OnRewrite)>) -> Result<Run> {
    if input.sources.is_empty() {
        return Err(Error::Usage(
            "give at least one SOURCE (a file, directory, glob, s3:// or cwlogs:// URL)".into(),
        ));
    }
    let now = Utc::now();
    let window = TimeWindow {
        since: input
            .since
            .as_deref()
            .map(|s| parse_time(s, now))
            .transpose()?,
        until: input
            .until
            .as_deref()
            .map(|s| parse_until(s, now))
            .transpose()?,
    };
    if let (Some(s), Some(u)) = (window.since, window.until)
        && s > u
    {
        return Err(Error::Usage("--since is later than --until".into()));
    }
    let log_format = input.log_format.as_deref().map(Layout::parse).transpose()?;
    if let Some(l) = &log_format
        && !input.allow_unknown_fields
    {
        l.check_known("--log-format")?;
    }
    let rejects_out: Option<Box<dyn Write + Send>> = match &input.rejects {
        Some(p) => Some(Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
        ))),
        None => None,
    };
    let rejects = Arc::new(RejectSink::new(input.strict, rejects_out));
    let inventory = load_inventory(&input.inventory, &input.aws).await?;
    let mut flow_log_formats = std::collections::HashMap::new();
    for fl in &inventory.flow_logs {
        if let Some(f) = &fl.log_format {
            match Layout::parse(f) {
                Ok(l) => {
                    flow_log_formats.insert(fl.id.clone(), l);
                }
                Err(e) => tracing::warn!("inventory: flow log {}: {e}", fl.id),
            }
        }
    }
    let stats = Arc::new(ScanStats::default());
    let wants_s3 = input.sources.iter().any(|s| s.starts_with("s3://"));
    let groups: Vec<String> = input
        .sources
        .iter()
        .filter(|s| s.starts_with("cwlogs://"))
        .map(|s| source::cloudwatch::parse_url(s).map(|(g, _)| g))
        .collect::<Result<_>>()?;
    let remote = if wants_s3 || !groups.is_empty() {
        let sdk = crate::aws::sdk_config(&input.aws).await?;
        if !groups.is_empty() && log_format.is_none() {
            group_formats(&sdk, &inventory, &groups, &mut flow_log_formats).await?;
        }
        Some(source::Remote {
            s3: wants_s3.then(|| crate::aws::s3_client(&sdk, &input.aws)),
            logs: (!groups.is_empty()).then(|| aws_sdk_cloudwatchlogs::Client::new(&sdk)),
            handle: tokio::runtime::Handle::current(),
            ledger: source::ledger::CwLedger::new(input.cw_overlap),
        })
    } else {
        None
    };
    let filter = source::s3::ListFilter {
        window,
        accounts: input.accounts.clone(),
        regions: input.log_regions.clone(),
    };
    let enricher = Arc::new(Enricher::new(Arc::new(inventory)));
    let mut discovery = source::discover(&input.sources, &filter, remote.as_ref()).await?;
    let mut already = 0;
    if let Some((state, on_rewrite)) = state {
        already = state.select(&mut discovery.objects, on_rewrite)?;
        for o in &mut discovery.objects {
            if let (Some(cw), Some((from, skip))) =
                (o.cw.as_mut(), state.resume(&o.name, input.cw_overlap))
            {
                cw.resume_from_ms = Some(from);
                cw.skip = Arc::new(skip);
            }
        }
    }
    ScanStats::add(&stats.objects_pruned, discovery.pruned);
    for p in &discovery.ignored {
        tracing::info!(path = %p.display(), "not a flow-log file name; skipped (name it explicitly to read it)");
    }
    let ignored = discovery.ignored.len();
    if discovery.objects.is_empty() && discovery.pruned == 0 && already == 0 {
        return Err(Error::source(
            input.sources.join(" "),
            "no flow-log objects found (directories are searched for *.log, *.gz, *.parquet, *.txt)",
        ));
    }
    let config = ScanConfig {
        log_format,
        flow_log_formats: Arc::new(flow_log_formats),
        // An incremental run (`scan --state`, export) reads the objects the window selects
        // whole: a late object's records from before --since are new data all the same,
        // and the object is marked done, so a record dropped here would never be reported.
        window: if state.is_some() {
            TimeWindow::default()
        } else {
            window
        },
        batch_size: BATCH_SIZE,
        rejects: rejects.clone(),
        stats: stats.clone(),
        enricher: enricher.clone(),
        remote,
        concurrency: input.concurrency,
        memory_limit: input.memory_limit,
        allow_unknown_fields: input.allow_unknown_fields,
        exported_enrichment: input.inventory.inventory.is_none(),
    };
    let objects = discovery.objects.clone();
    let ledger = config
        .remote
        .as_ref()
        .map(|r| r.ledger.clone())
        .unwrap_or_default();
    let (ctx, _) = engine::session(discovery, config)?;
    Ok(Run {
        objects,
        ledger,
        already,
        ctx,
        rejects,
        stats,
        quiet: input.quiet,
        strict: input.strict,
        began: Instant::now(),
        ignored,
        enricher,
    })
}

/// ip-ranges.json older than this is worth a warning.
const IP_RANGES_STALE_DAYS: i64 = 90;

/// How to get an inventory, for the errors that say one is missing or useless.
const INVENTORY_HINT: &str = "collect one with `sageflow inventory collect --out inventory/` (or save the output of `aws ec2 describe-network-interfaces`, describe-vpc-endpoints, describe-vpcs, describe-flow-logs, … and `aws sagemaker describe-*` as the README shows) and pass --inventory inventory/, or use --inventory live; --allow-empty scans anyway";

/// Refuses a scan whose inventory cannot attribute any ENI to a SageMaker workload: its
/// "no findings" would say nothing.
fn attributable(src: &InventorySource, enricher: &Enricher) -> Result<()> {
    let inv = enricher.inventory();
    let path = src
        .inventory
        .as_ref()
        .map_or_else(|| "(none)".to_string(), |p| p.display().to_string());
    let sagemaker_docs = inv.notebooks.len()
        + inv.domains.len()
        + inv.jobs.len()
        + inv.endpoints.len()
        + inv.models.len();
    let recognised = sagemaker_docs
        + inv.vpcs.len()
        + inv.enis.len()
        + inv.vpc_endpoints.len()
        + inv.nat_gateways.len()
        + inv.prefix_lists.len()
        + inv.route_tables.len()
        + inv.flow_logs.len();
    let message = if inv.files.is_empty() {
        format!("--inventory {path} holds no AWS CLI JSON output (*.json files)")
    } else if recognised == 0 {
        format!(
            "--inventory {path}: none of its {} files is a recognised AWS CLI document (the warnings above say what each is)",
            inv.files.len()
        )
    } else if inv.enis.is_empty() {
        format!(
            "--inventory {path} has no describe-network-interfaces output, so no ENI can be attributed to a SageMaker workload"
        )
    } else if sagemaker_docs == 0
        && !inv
            .enis
            .keys()
            .any(|id| enricher.owner(id).is_some_and(|o| o.kind() == "sagemaker"))
    {
        format!(
            "--inventory {path} describes {} ENIs but no SageMaker resource: none of them is a SageMaker workload's, and no notebook, domain, job, model or endpoint is described (an inventory of another account, region or VPC?)",
            inv.enis.len()
        )
    } else {
        return Ok(());
    };
    Err(Error::config(message, INVENTORY_HINT))
}

impl Run {
    /// Refuses a result over nothing: every record rejected (the format does not fit), or
    /// no record read at all unless `allow_empty`.
    fn read_something(&self, s: StatsSnapshot, allow_empty: bool) -> Result<()> {
        let rejected = self.rejects.count();
        if s.rows == 0 && rejected > 0 {
            return Err(Error::config(
                format!(
                    "every one of the {rejected} records read was rejected: nothing was analysed"
                ),
                "the records do not fit their format: pass the flow log's format with --log-format (or check the object's header line); the rejects listed above say which field failed",
            ));
        }
        if s.rows == 0 && !allow_empty {
            let outside = if s.outside_window > 0 {
                format!(", {} outside --since/--until", s.outside_window)
            } else {
                String::new()
            };
            return Err(Error::config(
                format!(
                    "the sources yielded no flow record ({} objects read{outside}): there was nothing to check",
                    s.objects_done
                ),
                "check the sources and the time window (--since/--until); --allow-empty accepts a run with nothing to read (an incremental scan with nothing new)",
            ));
        }
        Ok(())
    }

    /// The end-of-run report on stderr. Rejects are always mentioned, even with --quiet.
    fn summary(&self) -> Result<()> {
        self.summary_of(self.stats.snapshot())
    }

    fn summary_of(&self, s: StatsSnapshot) -> Result<()> {
        self.rejects.flush()?;
        let g = |v: u64| v;
        let rejected = self.rejects.count();
        let mut err = std::io::stderr().lock();
        if !self.quiet {
            let mut line = format!(
                "sageflow: {} objects read ({}), {} records: {} rows, {} rejected",
                g(s.objects_done),
                indicatif::HumanBytes(g(s.bytes)),
                g(s.records),
                g(s.rows),
                rejected
            );
            if g(s.outside_window) > 0 {
                line += &format!(", {} outside --since/--until", g(s.outside_window));
            }
            if g(s.objects_pruned) > 0 {
                line += &format!("; {} objects/prefixes skipped by time", g(s.objects_pruned));
            }
            if self.already > 0 {
                line += &format!("; {} objects already done by an earlier run", self.already);
            }
            if self.ignored > 0 {
                line += &format!("; {} non-log files ignored", self.ignored);
            }
            line += &format!("; {:.2}s", self.began.elapsed().as_secs_f64());
            let _ = writeln!(err, "{line}");
            let inv = self.enricher.inventory();
            if let Some(age) = inv
                .ip_ranges_age_days(Utc::now().timestamp())
                .filter(|&d| d > IP_RANGES_STALE_DAYS)
            {
                let _ = writeln!(
                    err,
                    "sageflow: warning: the ip-ranges.json in use ({}) is from {} ({age} days old): AWS adds address ranges every week, so some AWS service addresses may read as internet. `sageflow inventory collect` saves a current one into the inventory, or: curl -o ip-ranges.json {IP_RANGES_URL} and --ip-ranges ip-ranges.json",
                    inv.ip_ranges_source
                        .as_deref()
                        .unwrap_or("built-in snapshot"),
                    inv.ip_ranges
                        .create_date
                        .get(..10)
                        .unwrap_or(&inv.ip_ranges.create_date),
                );
            }
        }
        if rejected > 0 {
            if self.quiet {
                let _ = writeln!(err, "sageflow: {rejected} records rejected");
            } else if !self.strict {
                let first = self.rejects.first();
                for r in &first {
                    let _ = writeln!(
                        err,
                        "  rejected {}",
                        crate::terminal::printable(&r.to_string())
                    );
                }
                if rejected as usize > first.len() {
                    let _ = writeln!(
                        err,
                        "  … and {} more (write them all with --rejects FILE)",
                        rejected as usize - first.len()
                    );
                }
            }
        }
        Ok(())
    }
}

async fn query(a: QueryArgs) -> Result<u8> {
    if let Some(out) = &a.output {
        refuse_format_as_output(out)?;
    }
    let sql = match (&a.sql, &a.file, &a.report) {
        (Some(s), ..) => Some(s.clone()),
        (None, Some(f), _) => Some(std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?),
        (None, None, Some(name)) => Some(report_sql(name)?),
        (None, None, None) if !std::io::stdin().is_terminal() => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io("standard input", e))?;
            Some(s)
        }
        (None, None, None) => None,
    };
    let run = prepare(&a.input, None).await?;
    let printing = Printing {
        format: a.format,
        max_rows: a.maxrows,
    };
    match sql {
        Some(sql) => {
            let mut out: Box<dyn Write + Send> = match &a.output {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let mut progress = progress::Progress::start(run.stats.clone(), run.quiet);
            let result = run_sql(
                &run.ctx,
                &sql,
                printing,
                Some(&run.stats),
                &mut out,
                &mut || progress.clear(),
            )
            .await;
            drop(out);
            drop(progress);
            run.summary()?;
            result?;
            run.stats.damage()?;
            run.read_something(run.stats.snapshot(), true)?;
        }
        None => shell::repl(&run.ctx, &run.stats, printing).await?,
    }
    Ok(EXIT_OK)
}

/// `--output json` is an AWS CLI habit: the file would be named `json` and hold a table.
fn refuse_format_as_output(out: &std::path::Path) -> Result<()> {
    let name = out.to_string_lossy();
    if ["table", "csv", "json", "ndjson", "sarif", "text"].contains(&name.as_ref()) {
        return Err(Error::Usage(format!(
            "--output {name} names a file called `{name}`; the output format is chosen with --format {}, and --output FILE writes it to FILE",
            if name == "text" { "table" } else { &name }
        )));
    }
    Ok(())
}

/// A bundled report's SQL, by name (`sageflow rules` lists them).
fn report_sql(name: &str) -> Result<String> {
    let rules = crate::scan::rules::load(None)?;
    let reports: Vec<&crate::scan::Rule> = rules.iter().filter(|r| r.is_report).collect();
    match reports.iter().find(|r| r.name == name) {
        Some(r) => Ok(r.sql.clone()),
        None => Err(Error::Usage(format!(
            "no report named `{name}`{}; the reports are: {}",
            crate::format::suggest::did_you_mean(name, reports.iter().map(|r| r.name.as_str())),
            reports
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// How results are printed: the format, and how many rows a table shows.
#[derive(Debug, Clone, Copy)]
pub struct Printing {
    pub format: OutputFormat,
    pub max_rows: usize,
}

/// Runs every statement in `sql`, printing each result; `before_output` runs before a
/// result is printed (it clears the progress line). With `settle`, the run's counters are
/// those of the first statement that read the sources, so that a summary after several
/// statements counts each source once.
pub async fn run_sql(
    ctx: &SessionContext,
    sql: &str,
    printing: Printing,
    settle: Option<&ScanStats>,
    out: &mut (dyn Write + Send),
    before_output: &mut (dyn FnMut() + Send),
) -> Result<()> {
    let statements = DFParser::parse_sql(sql).map_err(Error::DataFusion)?;
    if statements.is_empty() {
        return Err(Error::Usage("no SQL statement given".into()));
    }
    for stmt in statements {
        run_statement(ctx, stmt, printing, out, before_output).await?;
        if let Some(stats) = settle {
            stats.settle();
        }
    }
    Ok(())
}

async fn run_statement(
    ctx: &SessionContext,
    stmt: Statement,
    printing: Printing,
    out: &mut (dyn Write + Send),
    before_output: &mut (dyn FnMut() + Send),
) -> Result<usize> {
    let state = ctx.state();
    let plan = state
        .statement_to_plan(stmt)
        .await
        .map_err(|e| planning_error(ctx, e))?;
    crate::engine::policy::verify(&plan)?;
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(Error::from_datafusion)?;
    let stream = df.execute_stream().await.map_err(Error::from_datafusion)?;
    output::write_stream(
        stream,
        printing.format,
        printing.max_rows,
        out,
        before_output,
    )
    .await
}

/// The tables of the session (`flows` and the inventory tables).
fn table_names(ctx: &SessionContext) -> Vec<String> {
    let mut names = ctx
        .catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names())
        .unwrap_or_default();
    names.sort();
    names
}

/// A planning error in the user's terms: an unknown column with the closest names (not
/// the whole catalogue), an unknown table with the tables there are.
fn planning_error(ctx: &SessionContext, e: datafusion::error::DataFusionError) -> Error {
    use crate::format::suggest;
    use datafusion::common::SchemaError;
    use datafusion::error::DataFusionError;
    let root = e.find_root();
    if let DataFusionError::SchemaError(boxed, _) = root
        && let SchemaError::FieldNotFound {
            field,
            valid_fields,
        } = boxed.as_ref()
    {
        let hint =
            suggest::did_you_mean_any(&field.name, valid_fields.iter().map(|c| c.name.as_str()), 5);
        return Error::Usage(format!(
            "no column `{}`{hint}; `sageflow schema` lists the columns of flows (quote names that are SQL words: \"end\")",
            field.name
        ));
    }
    if let DataFusionError::Plan(m) = root
        && let Some(full) = m
            .strip_prefix("table '")
            .and_then(|m| m.strip_suffix("' not found"))
    {
        let name = full.rsplit('.').next().unwrap_or(full);
        let tables = table_names(ctx);
        return Error::Usage(format!(
            "no table `{name}`{}; the tables are {}",
            suggest::did_you_mean(name, tables.iter().map(String::as_str)),
            tables.join(", ")
        ));
    }
    Error::from_datafusion(e)
}

/// Record formats of CloudWatch log groups: the `LogFormat` of the flow log that writes to
/// the group, from the inventory's `describe-flow-logs`, else from the live DescribeFlowLogs;
/// a group no flow log names is read in the default format.
async fn group_formats(
    sdk: &aws_config::SdkConfig,
    inventory: &Inventory,
    groups: &[String],
    formats: &mut std::collections::HashMap<String, Layout>,
) -> Result<()> {
    for group in groups {
        let key = source::cloudwatch::format_key(group);
        let mut format = inventory
            .flow_logs
            .iter()
            .find(|f| f.log_group_name.as_deref() == Some(group.as_str()))
            .map(|f| f.log_format.clone());
        if format.is_none() {
            let ec2 = aws_sdk_ec2::Client::new(sdk);
            let resp = ec2
                .describe_flow_logs()
                .filter(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("log-group-name")
                        .values(group)
                        .build(),
                )
                .send()
                .await;
            match resp {
                Ok(r) => {
                    format = r
                        .flow_logs()
                        .iter()
                        .find(|f| f.log_group_name() == Some(group.as_str()))
                        .map(|f| f.log_format().map(str::to_string));
                }
                // Without the permission (or on an endpoint without the call) the default
                // format is a reasonable guess; after a failure that retries did not cure,
                // it is not: a custom-format group would come back as all rejects.
                Err(e) if flow_logs_unavailable(&e) => tracing::warn!(
                    group = %group,
                    error = %crate::aws::error_text(&e),
                    "DescribeFlowLogs failed; reading the group in the default format unless --log-format is given"
                ),
                Err(e) => {
                    return Err(Error::source(
                        format!("cwlogs://{group}"),
                        format!(
                            "DescribeFlowLogs failed, so the group's record format is unknown (give it with --log-format): {}",
                            crate::aws::error_text(&e)
                        ),
                    ));
                }
            }
        }
        match format.flatten() {
            Some(f) => {
                let layout = Layout::parse(&f)?;
                tracing::info!(group = %group, format = %f, "record format from describe-flow-logs");
                formats.insert(key, layout);
            }
            None => tracing::info!(group = %group, "no flow log names this group; default format"),
        }
    }
    Ok(())
}

/// Whether DescribeFlowLogs is denied to the caller or missing from the endpoint, as
/// opposed to failing.
fn flow_logs_unavailable<R>(
    e: &aws_sdk_ec2::error::SdkError<
        aws_sdk_ec2::operation::describe_flow_logs::DescribeFlowLogsError,
        R,
    >,
) -> bool {
    use aws_sdk_ec2::error::ProvideErrorMetadata;
    matches!(
        e.code(),
        Some(
            "UnauthorizedOperation"
                | "AccessDenied"
                | "AccessDeniedException"
                | "InvalidAction"
                | "UnknownOperation"
                | "NotImplemented"
        )
    )
}

/// The inventory of `--inventory` (or none) with ip-ranges (built-in or `--ip-ranges`).
/// Everything it could not use is logged as a warning.
/// `--inventory live` collects it from the EC2 and SageMaker APIs instead.
async fn load_inventory(src: &InventorySource, aws: &crate::aws::AwsOptions) -> Result<Inventory> {
    use crate::inventory::load;
    let inv = match &src.inventory {
        Some(path) if path.as_os_str() == "live" => {
            let sdk = crate::aws::sdk_config(aws).await?;
            let docs = crate::inventory::collect::collect(&sdk, None, None).await?;
            let mut inv = load::empty(src.ip_ranges.as_deref())?;
            for (name, doc) in docs {
                load::add_document(&mut inv, &format!("live:{name}"), doc);
            }
            load::finish(&mut inv);
            inv
        }
        Some(path) => load::load(path, src.ip_ranges.as_deref())?,
        None => load::empty(src.ip_ranges.as_deref())?,
    };
    for w in &inv.warnings {
        tracing::warn!("inventory: {w}");
    }
    Ok(inv)
}

async fn inventory_show(src: &InventorySource, aws: &crate::aws::AwsOptions) -> Result<u8> {
    if src.inventory.is_none() {
        return Err(Error::Usage(
            "inventory show needs --inventory PATH (or live)".into(),
        ));
    }
    let inv = Arc::new(load_inventory(src, aws).await?);
    let enricher = Enricher::new(inv.clone());
    let source = inv
        .ip_ranges_source
        .clone()
        .unwrap_or_else(|| "built-in snapshot".to_string());
    let text = crate::inventory::show::render(&inv, &source, &|eni| {
        enricher
            .owner(&eni.id)
            .map_or_else(|| "unknown".to_string(), |o| o.describe())
    });
    let mut out = std::io::stdout().lock();
    write!(out, "{text}").map_err(|e| Error::io("standard output", e))?;
    Ok(EXIT_OK)
}

/// Writes the live inventory as AWS-CLI-shaped JSON that `--inventory DIR` reads back.
async fn inventory_collect(a: args::CollectArgs) -> Result<u8> {
    let sdk = crate::aws::sdk_config(&a.aws).await?;
    let since = a
        .since
        .as_deref()
        .map(|s| parse_time(s, Utc::now()))
        .transpose()?;
    let docs = crate::inventory::collect::collect(&sdk, a.vpc.as_deref(), since).await?;
    for (name, doc) in &docs {
        let path = a.out.join(name);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let text = serde_json::to_string_pretty(doc).expect("json");
        std::fs::write(&path, text + "\n").map_err(|e| Error::io(&path, e))?;
    }
    eprintln!(
        "sageflow: wrote {} documents to {}",
        docs.len(),
        a.out.display()
    );
    // Current AWS address ranges next to the inventory, which reads them in place of the
    // built-in snapshot.
    let url = std::env::var("SAGEFLOW_IP_RANGES_URL").unwrap_or_else(|_| IP_RANGES_URL.into());
    let path = a.out.join("ip-ranges.json");
    match crate::aws::fetch(&url).await.and_then(|bytes| {
        let ranges = IpRanges::from_json(&bytes, &url)?;
        Ok((bytes, ranges))
    }) {
        Ok((bytes, ranges)) => {
            std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))?;
            eprintln!(
                "sageflow: wrote {} (createDate {})",
                path.display(),
                ranges.create_date
            );
        }
        Err(e) => tracing::warn!(
            "could not fetch {url} ({e}); without it the built-in ip-ranges snapshot is used. Where this machine cannot reach it, fetch it elsewhere: curl -o {} {IP_RANGES_URL}",
            path.display()
        ),
    }
    Ok(EXIT_OK)
}

/// Where AWS publishes its address ranges.
const IP_RANGES_URL: &str = "https://ip-ranges.amazonaws.com/ip-ranges.json";

async fn export(a: args::ExportArgs) -> Result<u8> {
    use crate::export::{self as ex, Store};
    let out = a
        .out
        .as_deref()
        .ok_or_else(|| Error::Usage("export needs --out DIR or --out s3://bucket/prefix".into()))?;
    let s3 = if out.starts_with("s3://") {
        let (bucket, prefix) = source::s3::parse_url(out)?;
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix
        } else {
            format!("{prefix}/")
        };
        Some((bucket, prefix))
    } else {
        None
    };
    if let Some(dialect) = a.ddl {
        // The DDL names the location; it needs no credentials, region or request.
        let root = match &s3 {
            Some((bucket, prefix)) => format!("s3://{bucket}/{prefix}"),
            None => Store::Local(out.into()).root(),
        };
        let schema = FlowSchema::default();
        print!(
            "{}",
            ex::ddl::create_table(schema.arrow(), &root, a.partition_by, &a.table, dialect)
        );
        print!("{}", ex::ddl::inventory_tables(&root, dialect)?);
        return Ok(EXIT_OK);
    }
    let store = match s3 {
        Some((bucket, prefix)) => {
            let sdk = crate::aws::sdk_config(&a.input.aws).await?;
            Store::S3 {
                client: crate::aws::s3_client(&sdk, &a.input.aws),
                bucket,
                prefix,
            }
        }
        None => Store::Local(out.into()),
    };
    store.check_links()?;
    let lock = ex::lock::Lock::take(&store, a.break_lock).await?;
    let result = export_locked(&a, &store).await;
    lock.release(&store).await?;
    result
}

/// The export, once its lock is held.
async fn export_locked(a: &args::ExportArgs, store: &crate::export::Store) -> Result<u8> {
    use crate::export as ex;
    let out = a.out.as_deref().unwrap_or_default();
    let rolled = ex::recover(store).await?;
    // `--full` builds the new export beside the old one, which it replaces only when the
    // new one commits: a failed run leaves the old one whole.
    let (manifest, obsolete) = match ex::load_manifest(store).await? {
        _ if a.full => (ex::Manifest::default(), ex::data_files(store).await?),
        Some(m) => (m, Vec::new()),
        None => (ex::Manifest::default(), Vec::new()),
    };
    let layout = format!("{:?}", a.partition_by).to_lowercase();
    if !manifest.partition_by.is_empty() && manifest.partition_by != layout {
        return Err(Error::Usage(format!(
            "the export at {out} is partitioned by {}; use the same --partition-by, or --full to rebuild it",
            manifest.partition_by
        )));
    }
    let run = prepare(&a.input, Some((&manifest.sources, OnRewrite::Refuse))).await?;
    let progress = progress::Progress::start(run.stats.clone(), run.quiet);
    if a.full && run.objects.is_empty() {
        return Err(Error::config(
            "export --full found no source object to rebuild the export from; the previous export is left as it is",
            "check the sources and --since/--until",
        ));
    }
    let summary = if run.objects.is_empty() {
        ex::Summary::default()
    } else {
        // Checked before the commit: an object whose records were all rejected must not be
        // marked exported, so that a run with the right --log-format reads it again. What
        // was read is known once the rows are written (how far each file was read, the
        // newest event of each stream).
        ex::export(&run.ctx, store, a.partition_by, manifest, obsolete, |m| {
            run.stats.damage()?;
            run.read_something(run.stats.snapshot(), true)?;
            m.sources.record(&run.objects, &run.ledger);
            Ok(())
        })
        .await?
    };
    drop(progress);
    if a.input.inventory.inventory.is_some() {
        ex::write_tables(store, crate::engine::tables::batches(&run.enricher)?).await?;
    }
    run.summary()?;
    if !run.quiet {
        eprintln!(
            "sageflow: exported {} rows in {} files ({}) to {}{}",
            summary.rows,
            summary.files,
            indicatif::HumanBytes(summary.bytes),
            store.root(),
            if rolled > 0 {
                format!("; finished {rolled} interrupted run(s)")
            } else {
                String::new()
            }
        );
    }
    Ok(EXIT_OK)
}

fn generate(a: args::GenerateArgs) -> Result<u8> {
    let spec = crate::generate::Spec {
        records: a.records,
        objects: a.objects,
        v5: a.format == args::GenFormat::V5,
        enis: a.enis,
        seed: a.seed,
        start: parse_time(&a.start, Utc::now())?,
    };
    let began = Instant::now();
    let paths = crate::generate::generate(&a.out, &spec)?;
    let bytes: u64 = paths
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    eprintln!(
        "sageflow: wrote {} records in {} objects ({}) and an inventory to {} in {:.1}s",
        spec.records,
        paths.len(),
        indicatif::HumanBytes(bytes),
        a.out.display(),
        began.elapsed().as_secs_f64()
    );
    Ok(EXIT_OK)
}

fn list_rules(a: RulesArgs) -> Result<u8> {
    let rules = crate::scan::rules::load(a.rules.as_deref())?;
    let mut out = std::io::stdout().lock();
    let w = |e| Error::io("standard output", e);
    writeln!(
        out,
        "{:<32} {:<7} {:<9} DESCRIPTION",
        "NAME", "KIND", "SEVERITY"
    )
    .map_err(w)?;
    for r in &rules {
        writeln!(
            out,
            "{:<32} {:<7} {:<9} {}",
            r.name,
            if r.is_report { "report" } else { "rule" },
            r.severity,
            r.description
        )
        .map_err(w)?;
    }
    Ok(EXIT_OK)
}

async fn scan(a: ScanArgs) -> Result<u8> {
    if let Some(out) = &a.output {
        refuse_format_as_output(out)?;
    }
    let rules = crate::scan::rules::load(a.rules.as_deref())?;
    let suppressions = match &a.suppress {
        Some(p) => crate::scan::load_suppressions(p)?,
        None => Vec::new(),
    };
    if a.input.inventory.inventory.is_none() && !a.allow_empty {
        return Err(Error::config(
            "scan needs --inventory: without one no ENI can be attributed to a SageMaker workload, so every rule would find nothing",
            INVENTORY_HINT,
        ));
    }
    let state_store = match &a.state {
        Some(loc) => Some(StateStore::open(loc, &a.input.aws).await?),
        None => None,
    };
    let mut state = match &state_store {
        Some(s) => s.load().await?,
        None => ScanState::default(),
    };
    // A full-coverage run reads as if no earlier run had (every object and event of the
    // window), whole as incremental runs read, and then moves the state forward.
    let nothing_read = ReadLedger::default();
    let known = if a.full_coverage {
        &nothing_read
    } else {
        &state.read
    };
    let run = prepare(
        &a.input,
        state_store.as_ref().map(|_| (known, OnRewrite::ReadAgain)),
    )
    .await?;
    if !a.allow_empty {
        attributable(&a.input.inventory, &run.enricher)?;
    }
    if let Some(p) = &a.suppress {
        crate::scan::check_suppressions(
            &run.ctx,
            &rules,
            &suppressions,
            &p.display().to_string(),
            a.group_by,
        )
        .await?;
    }
    let incremental = state_store.is_some() && !a.full_coverage;
    crate::engine::tables::register_context(&run.ctx, incremental)?;
    let progress = progress::Progress::start(run.stats.clone(), run.quiet);
    let mut per_rule: Vec<(String, usize)> = Vec::new();
    // The sources are read once; the rules run over a temporary columnar copy.
    let temp = crate::scratch::subdir("scan-")?;
    let unknown_report = crate::scan::rules::bundled("unknown-enis")?;
    let summary_query = crate::scan::Coverage::query(&unknown_report);
    // The report itself too: planning it inside the summary prunes the columns the
    // summary does not total, but they must exist in the copy for it to plan at all.
    let mut used: Vec<&crate::scan::Rule> = rules.iter().filter(|r| !r.is_report).collect();
    used.extend([&unknown_report, &summary_query]);
    crate::scan::materialize(&run.ctx, temp.path(), &used).await?;
    let read = run.stats.snapshot();
    if let Err(e) = run.read_something(read, a.allow_empty) {
        drop(progress);
        run.summary_of(read)?;
        return Err(e);
    }
    let coverage = crate::scan::Coverage::of(&run.ctx, &summary_query).await?;
    let today = Utc::now().date_naive();
    let mut removed = vec![0usize; suppressions.len()];
    let mut spool = crate::scan::Spool::create(temp.path())?;
    for rule in rules.iter().filter(|r| !r.is_report) {
        let found = crate::scan::run_rule(&run.ctx, rule, a.group_by, |f| {
            for (i, s) in suppressions.iter().enumerate() {
                if !s.expired(today) && s.matches(&f) {
                    removed[i] += 1;
                    return Ok(());
                }
            }
            // A full-coverage run reports them all again, and remembers them.
            if state_store.is_some() && !state.report(&f) && !a.full_coverage {
                return Ok(());
            }
            spool.push(&f)
        })
        .await?;
        per_rule.push((rule.name.clone(), found));
    }
    drop(progress);

    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    crate::scan::write(&mut spool, &rules, a.format, &mut out).map_err(|e| {
        match (e, &a.output) {
            // Name the file the findings could not be written to.
            (Error::Io { source, .. }, Some(p)) => Error::io(p, source),
            (e, _) => e,
        }
    })?;
    drop(out);

    // Only a complete run moves the state forward: a failed one (a damaged object too) is
    // read again next time.
    let damage = run.stats.damage();
    if let (Some(store), Ok(())) = (&state_store, &damage) {
        state.read.record(&run.objects, &run.ledger);
        store.save(&state).await?;
    }
    run.summary_of(read)?;
    if !run.quiet {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "sageflow: {} records of SageMaker workloads; {} ENIs with records unknown to the inventory",
            coverage.sagemaker_records, coverage.unknown_enis
        );
        let _ = writeln!(err, "sageflow: {} findings", spool.len());
        for (name, _) in &per_rule {
            let _ = writeln!(err, "  {name:<32} {}", spool.count_of(name));
        }
        for (s, n) in suppressions.iter().zip(&removed) {
            if s.expired(today) {
                let _ = writeln!(
                    err,
                    "  suppression for {} expired on {} ({}): no longer applied",
                    s.rule,
                    s.expires.as_deref().unwrap_or("?"),
                    s.reason
                );
            } else if *n > 0 {
                let _ = writeln!(err, "  suppressed {n} {} findings: {}", s.rule, s.reason);
            } else {
                let _ = writeln!(
                    err,
                    "  suppression for {} ({}) matched no finding: check its match, or remove it",
                    s.rule, s.reason
                );
            }
        }
        let read_from: Vec<String> = run
            .objects
            .iter()
            .filter_map(|o| o.key.flow_log_id.clone())
            .collect();
        for note in crate::scan::coverage_notes(&run.enricher, &read_from) {
            let _ = writeln!(err, "note: {note}");
        }
        if incremental {
            let _ = writeln!(
                err,
                "note: an incremental run sees only new data: SageMaker ENIs with no record at all, and CloudWatch events that arrive stamped more than {} before the newest one read (--cw-overlap), are found by `--full-coverage` runs; run one periodically",
                humantime::format_duration(std::time::Duration::from_millis(
                    a.input.cw_overlap as u64
                ))
            );
        }
    }
    if coverage.unknown_records > 0 {
        // A trust problem, not a detail: printed even with --quiet.
        let attributed = if coverage.attributed > 0 {
            format!(
                " ({} of them attributed to a workload by the record's subnet and time)",
                coverage.attributed
            )
        } else {
            String::new()
        };
        eprintln!(
            "sageflow: warning: {} records ({}) on {} ENIs that no inventory document names{attributed}; \
             their workloads are unknown and findings on them may be missed. List them with \
             `sageflow query … --report unknown-enis`, and save \
             describe-network-interfaces while the workloads run (job ENIs are deleted when jobs end)",
            coverage.unknown_records,
            indicatif::HumanBytes(coverage.unknown_bytes),
            coverage.unknown_enis,
        );
    }
    damage?;
    Ok(if spool.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}

/// Where `--state` lives: a local file (written atomically) or an S3 object.
enum StateStore {
    Local(std::path::PathBuf),
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
        key: String,
    },
}

impl StateStore {
    async fn open(loc: &str, aws: &crate::aws::AwsOptions) -> Result<StateStore> {
        if loc.starts_with("s3://") {
            let (bucket, key) = source::s3::parse_url(loc)?;
            if key.is_empty() {
                return Err(Error::Usage(format!(
                    "--state {loc}: name an object, not a bucket"
                )));
            }
            let sdk = crate::aws::sdk_config(aws).await?;
            Ok(StateStore::S3 {
                client: crate::aws::s3_client(&sdk, aws),
                bucket,
                key,
            })
        } else {
            Ok(StateStore::Local(loc.into()))
        }
    }

    async fn load(&self) -> Result<ScanState> {
        match self {
            StateStore::Local(p) => match std::fs::read_to_string(p) {
                Ok(text) => ScanState::parse(&text, &p.display().to_string()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ScanState::default()),
                Err(e) => Err(Error::io(p, e)),
            },
            StateStore::S3 {
                client,
                bucket,
                key,
            } => {
                let url = format!("s3://{bucket}/{key}");
                match client.get_object().bucket(bucket).key(key).send().await {
                    Ok(resp) => {
                        let body = resp.body.collect().await.map_err(|e| {
                            Error::source(&url, format!("reading the state failed: {e}"))
                        })?;
                        ScanState::parse(&String::from_utf8_lossy(&body.into_bytes()), &url)
                    }
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                        Ok(ScanState::default())
                    }
                    Err(e) => Err(Error::source(
                        &url,
                        format!("reading the state failed: {}", crate::aws::error_text(&e)),
                    )),
                }
            }
        }
    }

    async fn save(&self, state: &ScanState) -> Result<()> {
        let json = state.to_json();
        match self {
            StateStore::Local(p) => {
                let tmp = p.with_extension("tmp");
                std::fs::write(&tmp, json).map_err(|e| Error::io(&tmp, e))?;
                std::fs::rename(&tmp, p).map_err(|e| Error::io(p, e))
            }
            StateStore::S3 {
                client,
                bucket,
                key,
            } => client
                .put_object()
                .bucket(bucket)
                .key(key)
                .body(json.into_bytes().into())
                .content_type("application/json")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    Error::source(
                        format!("s3://{bucket}/{key}"),
                        format!("writing the state failed: {}", crate::aws::error_text(&e)),
                    )
                }),
        }
    }
}

/// `--until`: like [`parse_time`], but a bare date means the end of that day, so that
/// `--since 2026-11-20 --until 2026-11-20` is that whole day.
pub fn parse_until(s: &str, now: DateTime<Utc>) -> Result<i64> {
    let t = parse_time(s, now)?;
    Ok(if NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_ok() {
        t + 86_399
    } else {
        t
    })
}

/// `--since`/`--until` values: RFC 3339, a date, or an age before `now`.
pub fn parse_time(s: &str, now: DateTime<Utc>) -> Result<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(t.and_utc().timestamp());
    }
    if let Ok(age) = humantime::parse_duration(s) {
        // An age past 1970 is a typo (a wrapped or negative time would select everything).
        return i64::try_from(age.as_secs())
            .ok()
            .and_then(|a| now.timestamp().checked_sub(a))
            .filter(|t| *t >= 0)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "`{s}` reaches back before 1970: give a shorter age or a date (2026-11-20)"
                ))
            });
    }
    Err(Error::Usage(format!(
        "`{s}` is not a time: use RFC 3339 (2026-11-20T10:00:00Z), a date (2026-11-20) or an age (24h, 30m, 7d)"
    )))
}

fn schema(a: SchemaArgs) -> Result<u8> {
    let schema = FlowSchema::default();
    let mut out = std::io::stdout().lock();
    let w = |e| Error::io("standard output", e);
    match a.format {
        SchemaFormat::Json => {
            let columns: Vec<serde_json::Value> = schema
                .arrow()
                .fields()
                .iter()
                .map(|f| serde_json::json!({"column": f.name(), "type": f.data_type().to_string()}))
                .collect();
            let fields: Vec<serde_json::Value> = FIELDS
                .iter()
                .map(|f| {
                    serde_json::json!({"field": f.name, "column": f.column, "version": f.version,
                        "type": kind_name(f.kind), "meaning": f.meaning})
                })
                .collect();
            let enrichment: Vec<serde_json::Value> = crate::enrich::COLUMNS
                .iter()
                .map(|(c, m)| serde_json::json!({"column": c, "meaning": m}))
                .collect();
            let doc = serde_json::json!({"table": "flows", "columns": columns, "fields": fields,
                "enrichment": enrichment});
            writeln!(out, "{}", serde_json::to_string_pretty(&doc).expect("json")).map_err(w)?;
        }
        SchemaFormat::Table => {
            writeln!(
                out,
                "Table `flows` ({} columns)\n",
                schema.arrow().fields().len()
            )
            .map_err(w)?;
            writeln!(out, "{:<28} TYPE", "COLUMN").map_err(w)?;
            for f in schema.arrow().fields() {
                writeln!(out, "{:<28} {}", f.name(), f.data_type()).map_err(w)?;
            }
            writeln!(
                out,
                "\nField catalogue (VPC flow-log versions 2-11; version 6 = Transit Gateway fields)\n"
            )
            .map_err(w)?;
            writeln!(out, "{:<28} {:>3}  {:<20} MEANING", "FIELD", "VER", "TYPE").map_err(w)?;
            for f in FIELDS {
                writeln!(
                    out,
                    "{:<28} {:>3}  {:<20} {}",
                    f.name,
                    f.version,
                    kind_name(f.kind),
                    f.meaning
                )
                .map_err(w)?;
            }
            writeln!(
                out,
                "\nEnrichment columns (computed at ingest from --inventory and ip-ranges)\n"
            )
            .map_err(w)?;
            for (name, meaning) in crate::enrich::COLUMNS {
                writeln!(out, "{name:<28} {meaning}").map_err(w)?;
            }
            writeln!(
                out,
                "\n`-` is NULL in every column. start_time/end_time are start/end as UTC timestamps;\n\
                 start/end written in milliseconds are normalised to seconds. A field name the\n\
                 catalogue does not know, in a header line or --log-format, is an error (a typo,\n\
                 most often); --allow-unknown-fields keeps it as a text column. source_object and\n\
                 source_line name where each record was read: the file, S3 URL or cwlogs://group/stream\n\
                 and its line (a Parquet object's row, a log stream's event number as read); an\n\
                 export keeps those of the objects it was made from."
            )
            .map_err(w)?;
        }
    }
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_time("24h", now).unwrap(), now.timestamp() - 86_400);
        assert_eq!(
            parse_time("2026-11-20", now).unwrap(),
            parse_time("2026-11-20T00:00:00Z", now).unwrap()
        );
        assert!(parse_time("yesterday-ish", now).is_err());
        for huge in ["99999999999999d", "600000000000000000s", "60y"] {
            let e = parse_time(huge, now).unwrap_err().to_string();
            assert!(e.contains("before 1970"), "{huge}: {e}");
        }
        // A bare date for --until is that whole day.
        assert_eq!(
            parse_until("2026-11-20", now).unwrap(),
            parse_time("2026-11-20T23:59:59Z", now).unwrap()
        );
        assert_eq!(
            parse_until("2026-11-20T10:00:00Z", now).unwrap(),
            parse_time("2026-11-20T10:00:00Z", now).unwrap()
        );
    }
}
