//! Command-line arguments as typed by the user ("low args"); `cli::mod` turns them into
//! validated settings.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sageflow",
    version,
    about = "Analyse Amazon VPC Flow Logs to prove where Amazon SageMaker traffic goes",
    long_about = "Analyse Amazon VPC Flow Logs to prove where Amazon SageMaker traffic goes.\n\n\
        Reads flow logs in every shape AWS writes them (default and custom formats v2-v11, \
        Transit Gateway fields, gzip text with header lines, Parquet, {\"message\": ...} \
        wrappers) into one typed table, `flows`, and queries it with SQL.\n\n\
        Exit codes: 0 success, 1 findings, 2 usage or input errors.",
    after_help = "Examples:\n  sageflow query sample-logs --sql \"SELECT action, count(*) FROM flows GROUP BY 1\"\n  sageflow query 'logs/**/*.log.gz' --since 24h --format csv --file report.sql\n  sageflow scan sample-logs/v5-custom --inventory sample-logs/inventory --dns sample-logs/dns\n  sageflow schema"
)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Colours in messages on stderr: auto (when stderr is a terminal and NO_COLOR is not
    /// set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run SQL over flow logs (the table is `flows`); without --sql or --file, an interactive shell.
    Query(QueryArgs),
    /// Run the compliance rules; exit 1 when there are findings.
    Scan(ScanArgs),
    /// Scan, and write what it found as one self-contained HTML page with charts (verdict,
    /// bytes over time per workload, findings timeline, destinations, log coverage, findings
    /// table); exit codes as scan's.
    Report(ReportArgs),
    /// Write the enriched flows as Hive-partitioned Parquet (or print a CREATE TABLE for it).
    Export(ExportArgs),
    /// List the compliance rules and reports (bundled and from --rules DIR).
    Rules(RulesArgs),
    /// Inspect the inventory (AWS CLI JSON) that attribution uses.
    #[command(subcommand)]
    Inventory(InventoryCommand),
    /// Print the `flows` table schema and the flow-log field catalogue.
    Schema(SchemaArgs),
    /// Write deterministic synthetic flow logs (S3 layout, gzip, header) and an inventory.
    Generate(GenerateArgs),
    /// Print a shell completion script (e.g. `sageflow completions bash > /etc/bash_completion.d/sageflow`).
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `sageflow man > sageflow.1`.
    Man,
    /// Serve as a worker of distributed runs (`--workers` of query, scan and export): reads its share of the
    /// objects and runs its stages of the plan, until interrupted.
    #[cfg(feature = "distributed")]
    Worker(WorkerArgs),
}

#[cfg(feature = "distributed")]
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// Address and port to serve on: 0.0.0.0:7420 for every interface of the host (workers
    /// speak plain gRPC: keep them in a private network, or behind a service mesh for TLS).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7420")]
    pub listen: std::net::SocketAddr,

    /// Memory for this worker's sorts, joins and aggregations before they spill to disk.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub memory_limit: usize,

    #[command(flatten)]
    pub aws: crate::aws::AwsOptions,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Output directory (AWSLogs/… and inventory/ are created in it).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Records in all.
    #[arg(long, default_value_t = 4_000_000)]
    pub records: u64,

    /// Objects (5-minute files) to spread them over.
    #[arg(long, default_value_t = 8)]
    pub objects: u64,

    /// Record format: the default v2 or the v5 custom format.
    #[arg(long, value_enum, default_value_t = GenFormat::V5)]
    pub format: GenFormat,

    /// Network interfaces the records belong to.
    #[arg(long, default_value_t = 200)]
    pub enis: u32,

    /// Seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Time of the first object's window.
    #[arg(long, default_value = "2026-11-20T00:00:00Z")]
    pub start: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenFormat {
    V2,
    V5,
}

#[derive(Debug, Subcommand)]
pub enum InventoryCommand {
    /// Print what was understood from --inventory, and warn about what was not.
    Show(InventoryShowArgs),
    /// Call the EC2 and SageMaker APIs and write AWS-CLI-shaped JSON for --inventory DIR.
    Collect(CollectArgs),
}

#[derive(Debug, Args)]
pub struct InventoryShowArgs {
    #[command(flatten)]
    pub inventory: InventorySource,

    #[command(flatten)]
    pub aws: crate::aws::AwsOptions,
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Directory to write the documents to (created if missing), or an s3://bucket/prefix.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,

    /// Write into a folder of --out named by the current UTC time (2026-11-20T120000Z/):
    /// run on a schedule, and give --inventory the parent; ENIs a later snapshot no longer
    /// lists (a finished job's) are attributed within the time they were listed.
    #[arg(long)]
    pub dated: bool,

    /// Also save the ENI events (CreateNetworkInterface, DeleteNetworkInterface, CreateTags,
    /// Attach/DetachNetworkInterface)
    /// of CloudTrail's event history (LookupEvents: this region's last 90 days, no trail
    /// needed) from --since, else 90 days ago, until now, as cloudtrail/lookup-events.json:
    /// the ENIs of jobs that ended before this collect.
    #[arg(long)]
    pub cloudtrail: bool,

    /// Only this VPC's EC2 resources.
    #[arg(long, value_name = "VPC_ID")]
    pub vpc: Option<String>,

    /// Only training, processing and transform jobs that ran since TIME (modified since,
    /// or still running): RFC 3339, a date, or an age such as 7d. Accounts keep every job
    /// ever run; a scan of a week of logs needs that week's.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    #[command(flatten)]
    pub aws: crate::aws::AwsOptions,
}

/// Where the account facts come from.
#[derive(Debug, Args, Clone)]
pub struct InventorySource {
    /// AWS CLI JSON output (describe-network-interfaces, describe-vpc-endpoints, describe-vpcs,
    /// describe-nat-gateways, prefix lists, route tables, describe-flow-logs, sagemaker
    /// describe-*) and CloudTrail log files (the ENIs of finished jobs): a file, a directory
    /// or an s3://bucket/prefix of them, or cwlogs://GROUP for a trail's events in CloudWatch
    /// Logs; `live` calls the APIs instead. Repeat it to read
    /// several into one inventory (saved describe-* output and the trail's S3 prefix, say).
    /// A sageflow export read as a source keeps its exported enrichment columns without
    /// --inventory; with it, they are recomputed from this inventory (the inventory wins).
    #[arg(long, value_name = "PATH")]
    pub inventory: Vec<PathBuf>,

    /// AWS ip-ranges.json to use instead of the built-in snapshot.
    #[arg(long, value_name = "FILE")]
    pub ip_ranges: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// A directory of extra rules (*.sql); a rule with a bundled rule's name replaces it.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,

    /// Output format of the findings.
    #[arg(long, value_enum, default_value_t = crate::scan::FindingFormat::Table)]
    pub format: crate::scan::FindingFormat,

    /// Write the findings to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// How flow records become findings: `connection` (a request and its reply and every
    /// record of the same 5-tuple on the same ENI are one finding, with first_seen,
    /// last_seen, records and summed bytes; other columns are the first record's),
    /// `resource` (one per SageMaker workload and remote kind/service, with the number of
    /// ENIs and remote addresses) or `flow` (one per record). Rules whose rows are not flow
    /// records are not grouped. Suppressions match the grouped findings.
    #[arg(long, value_enum, default_value_t = crate::scan::GroupBy::Connection)]
    pub group_by: crate::scan::GroupBy,

    /// Accepted findings to leave out (TOML: [[suppress]] rule, match, reason, expires).
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,

    /// Incremental scan: read only objects and log events that earlier runs with this state
    /// (a local file or s3://bucket/key) did not; the state is updated when the run completes.
    #[arg(long, value_name = "FILE|S3_URL")]
    pub state: Option<String>,

    /// Scan even when nothing can be attributed (no --inventory, or one without
    /// describe-network-interfaces or any SageMaker resource) or the sources yield no
    /// record (an incremental scan with nothing new); without it such a scan fails
    /// (exit 2) instead of reporting no findings.
    #[arg(long)]
    pub allow_empty: bool,

    /// Accept a run that rejected records (they do not fit their format) or found objects
    /// damaged: it exits 0 or 1 by its findings, and moves --state past them. Without it
    /// such a scan prints its findings and then fails (exit 2): the rejected records may
    /// hold what a rule looks for, and --state records the run's other objects only, so
    /// the next run reads those with rejects again (with the right --log-format, say).
    #[arg(long)]
    pub allow_rejects: bool,

    /// With --state: read every object and log event the window selects, as a scan without
    /// state would, and report every finding (those of earlier runs too), including
    /// SageMaker ENIs with no record at all, which incremental runs cannot see; then update
    /// the state. Run it periodically (e.g. daily with --since 1d): it also reports
    /// CloudWatch events that arrived later than --cw-overlap.
    #[arg(long, requires = "state")]
    pub full_coverage: bool,

    /// With --format html: findings of each rule listed in the page's table (the charts and
    /// counts include every one); 0 lists them all.
    #[arg(long, value_name = "N", default_value_t = crate::html::TABLE_FINDINGS_PER_RULE)]
    pub findings_per_rule: usize,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  sageflow report sample-logs/v5-custom --inventory sample-logs/inventory --dns sample-logs/dns --out report.html\n\nThe page opens offline (no request leaves it): charts are SVG, its style and script are inline. It is made from aggregations planned with the rules, over the same one read of the sources; with --since, time buckets are chosen from the window (else from the records' span, aggregated per minute first)."
)]
pub struct ReportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,

    /// A directory of extra rules (*.sql); a rule with a bundled rule's name replaces it.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,

    /// How flow records become findings in the table: connection, resource or flow (as
    /// scan's --group-by).
    #[arg(long, value_enum, default_value_t = crate::scan::GroupBy::Connection)]
    pub group_by: crate::scan::GroupBy,

    /// Accepted findings to leave out (TOML, as scan's --suppress); the page lists what
    /// each removed and which expired.
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,

    /// Make the report even when nothing can be attributed or nothing was read (as scan's).
    #[arg(long)]
    pub allow_empty: bool,

    /// Accept a run that rejected records or found objects damaged (as scan's): without it
    /// the page is written and the run then fails (exit 2).
    #[arg(long)]
    pub allow_rejects: bool,

    /// Findings of each rule listed in the page's table (the charts and counts include
    /// every one); 0 lists them all, which makes the page grow with the findings.
    #[arg(long, value_name = "N", default_value_t = crate::html::TABLE_FINDINGS_PER_RULE)]
    pub findings_per_rule: usize,
}

impl From<ReportArgs> for ScanArgs {
    fn from(r: ReportArgs) -> ScanArgs {
        ScanArgs {
            input: r.input,
            rules: r.rules,
            format: crate::scan::FindingFormat::Html,
            output: Some(r.out),
            group_by: r.group_by,
            suppress: r.suppress,
            state: None,
            allow_empty: r.allow_empty,
            allow_rejects: r.allow_rejects,
            full_coverage: false,
            findings_per_rule: r.findings_per_rule,
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// Output: a directory or s3://bucket/prefix. Re-runs add only new source data.
    #[arg(long, value_name = "DIR|S3_URL")]
    pub out: Option<String>,

    /// Partition folders: year=/month=/day= (day) or also hour= (hour).
    #[arg(long, value_enum, default_value_t = crate::export::PartitionBy::Day)]
    pub partition_by: crate::export::PartitionBy,

    /// Rebuild the whole export instead of adding new source data.
    #[arg(long)]
    pub full: bool,

    /// Commit an export whose run rejected records (they do not fit their format) or found
    /// objects damaged: their objects are then marked exported, and the rejected records
    /// are not in the export. Without it such a run fails (exit 2) and commits nothing, so
    /// a run with the right --log-format exports those objects whole.
    #[arg(long)]
    pub allow_rejects: bool,

    /// Take over the export lock of an S3 output (`_sageflow/lock.json`) left by a run
    /// on another host that was killed. One export at a time runs per output: a second one
    /// fails (exit 2) naming the holder. A lock left on this host by a process that no
    /// longer runs is taken over without it; local outputs use an OS lock, which ends with
    /// its process.
    #[arg(long)]
    pub break_lock: bool,

    /// Print the statements that read the export at --out, and exit: the flows table, the
    /// inventory tables an export with --inventory writes under _sageflow/tables/ (enis,
    /// sagemaker_resources, dns_answers) and a scan_context view, so that the bundled rules run unchanged
    /// on that engine.
    #[arg(long, value_enum, value_name = "DIALECT")]
    pub ddl: Option<crate::export::ddl::Dialect>,

    /// Table name for --ddl.
    #[arg(long, default_value = "flows")]
    pub table: String,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A directory of extra rules (*.sql).
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

/// Where flow logs come from and how to read them.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Flow-log sources: files, directories (read recursively), quoted globs,
    /// s3://bucket/prefix (text, gzip or Parquet objects; sageflow exports too) or
    /// cwlogs://LOG-GROUP[?stream-prefix=…] (CloudWatch Logs).
    #[arg(value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Route 53 Resolver query logs that name remote addresses (`remote_name`): a file, a
    /// directory or an s3://bucket/prefix of NDJSON (gzip or plain), or a
    /// cwlogs://LOG-GROUP; repeatable. Answers
    /// from an hour before --since on are kept in memory (about 120 bytes each); with
    /// --workers, each worker reads the same sources.
    #[arg(long, value_name = "PATH")]
    pub dns: Vec<String>,

    /// Record format, when objects have no header line: AWS syntax ('${version} ${srcaddr} ...')
    /// or space-separated field names (hyphens or underscores). Overrides header lines.
    /// Without it, a CloudWatch group is read in the formats of the flow logs that write to
    /// it (describe-flow-logs; each record in the one with its number of fields).
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,

    /// Keep field names the catalogue does not know (in --log-format or a header line) as
    /// text columns, for fields AWS added after this version; without it such a name is an
    /// error, since it is far more often a typo.
    #[arg(long)]
    pub allow_unknown_fields: bool,

    /// Only records that end at or after this time: RFC 3339 (2026-11-20T10:00:00Z), a date
    /// (2026-11-20), or an age such as 24h, 30m, 7d. Incremental runs (scan --state,
    /// export) use the window to choose the objects and log events to read, and keep every
    /// record of those: the earlier records of an object delivered late are new data.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,

    /// Only records that start at or before this time (same forms as --since; a bare date
    /// means the end of that day).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,

    /// Write every rejected record as NDJSON (object, line, field, value, reason) to FILE.
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,

    /// Fail (exit 2) on the first record that does not fit its format.
    #[arg(long)]
    pub strict: bool,

    /// No progress bar and no summary on stderr (rejects are still reported in one line).
    #[arg(short, long)]
    pub quiet: bool,

    #[command(flatten)]
    pub inventory: InventorySource,

    /// Objects read at once from S3 (and log streams from CloudWatch Logs).
    #[arg(long, value_name = "N", default_value_t = 16)]
    pub concurrency: usize,

    /// Memory for the rules' sorts, joins and aggregations; past it they spill to the
    /// temporary directory. Decoding itself needs about 40 MB per core on top. Export holds
    /// rows in sort runs of a thirty-second of it (8 to 64 MiB), about two runs at a time.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    pub memory_limit: usize,

    /// Incremental runs (scan --state, export) re-read each CloudWatch stream from this long
    /// before the newest event an earlier run read, skipping the events already read: an
    /// event that reaches CloudWatch Logs stamped earlier than that is missed until a
    /// `scan --state --full-coverage` run. After the first, they also read what was
    /// delivered since the last run listed its sources (or --since, if earlier), less this
    /// (at least 15 minutes): S3 objects and local files whatever time their names say, and
    /// streams from then at the earliest. At most 24h. Keep it from run to run: the run
    /// that widens it reads again events whose ids the state did not keep, and reports them
    /// again.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_overlap)]
    pub cw_overlap: i64,

    /// Only these accounts' flow logs (S3 AWSLogs layout, in a bucket or a local copy);
    /// repeatable. An account no object belongs to is an error.
    #[arg(long = "account", value_name = "ID")]
    pub accounts: Vec<String>,

    /// Only flow logs of these regions (S3 AWSLogs layout, in a bucket or a local copy);
    /// repeatable. A region no object belongs to is an error.
    #[arg(long = "log-region", value_name = "REGION")]
    pub log_regions: Vec<String>,

    /// Only the objects of these flow logs (the `fl-…` id in the names of the files AWS
    /// delivers to S3); repeatable. For two flow logs that record the same ENIs into one
    /// bucket: read one of them, or every connection counts twice. A flow log no object
    /// belongs to is an error.
    #[arg(long = "flow-log", value_name = "ID")]
    pub flow_logs: Vec<String>,

    /// Run on these workers (`sageflow worker` on each): host:port[,host:port…], or @FILE
    /// with one or more per line. Each worker reads a share of the objects, decodes and
    /// enriches it and runs what it can of the query (filters, partial aggregates); a scan's
    /// rules run here on the rows the workers send. Local paths must be on storage every
    /// worker sees at the same path (S3 is read with each worker's own credentials).
    /// CloudWatch Logs streams are split among the workers like objects. How far each
    /// local file and CloudWatch stream was read (what --state and an export's manifest
    /// record), and the rejects for --rejects, come back from the worker that read it. The
    /// progress line asks the workers how far they have read, on the same ports.
    /// Without it everything runs in this process.
    #[cfg(feature = "distributed")]
    #[arg(long, value_name = "URLS", env = "SAGEFLOW_WORKERS")]
    pub workers: Option<String>,

    #[command(flatten)]
    pub aws: crate::aws::AwsOptions,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[command(flatten)]
    pub input: InputArgs,

    /// SQL to run; several statements may be separated by `;`.
    #[arg(long, conflicts_with = "file")]
    pub sql: Option<String>,

    /// Read the SQL from a file.
    #[arg(long, value_name = "FILE", conflicts_with = "report")]
    pub file: Option<PathBuf>,

    /// Run a bundled report by name (`sageflow rules` lists them), e.g. unknown-enis.
    #[arg(long, value_name = "NAME", conflicts_with = "sql")]
    pub report: Option<String>,

    /// Output format. With several statements, json prints one array per statement, each
    /// on its own line.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the results to FILE (in --format) instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Rows a table shows at most (the rest are counted, not held); `inf` for all.
    #[arg(long, value_name = "N|inf", default_value = "40", value_parser = parse_max_rows)]
    pub maxrows: usize,
}

fn parse_max_rows(s: &str) -> Result<usize, String> {
    match s.trim() {
        "inf" | "unlimited" => Ok(usize::MAX),
        n => n
            .parse()
            .map_err(|_| format!("`{s}` is not a number of rows (or `inf`)")),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
    Ndjson,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = SchemaFormat::Table)]
    pub format: SchemaFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SchemaFormat {
    Table,
    Json,
}

/// `512M`, `2G`, `1.5GiB`, `300MB` or plain bytes.
fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a size such as 512M or 2G"))?;
    let mult: f64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use K, M or G)")),
    };
    let bytes = n * mult;
    if bytes.is_nan() || bytes < 64.0 * 1024.0 * 1024.0 || !bytes.is_finite() {
        return Err(format!("`{s}` is below the 64M minimum"));
    }
    Ok(bytes as usize)
}

/// `--cw-overlap`: a duration up to the bound the state keeps event ids for, in ms.
fn parse_overlap(s: &str) -> Result<i64, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration such as 30m or 2h: {e}"))?;
    let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    if ms > crate::source::ledger::MAX_OVERLAP_MS {
        return Err(format!(
            "`{s}` is longer than 24h, the most the state keeps event ids for; run `scan --state --full-coverage` periodically instead"
        ));
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("134217728"), Ok(128 << 20));
        assert!(parse_size("1M").is_err());
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
    }
}
