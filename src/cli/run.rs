//! What every command that reads flow logs shares: the run set-up (inventory, sources,
//! the session), the checks that refuse a result over nothing, the end-of-run summary,
//! and the time options.

use super::*;

/// Fails with the objects found damaged, if any: each but the last is printed, the last is
/// the error the run ends with (printed with its cause and hint as every error is).
pub(super) fn damage(stats: &ScanStats) -> Result<()> {
    let mut found = stats.take_damage();
    let Some(last) = found.pop() else {
        return Ok(());
    };
    for e in found {
        eprintln!("error: {}", crate::terminal::printable(&e.to_string()));
    }
    Err(last)
}

macro_rules! fix_rejects {
    ($next:literal) => {
        concat!(
            "fix their format (--log-format, or the object's header line; --rejects FILE lists every one with its object, line and field) and run again: ",
            $next,
            ". --allow-rejects accepts such a run"
        )
    };
}
/// [`complete`]'s hint for a run that moves nothing forward.
pub(super) const REJECTS_NO_STATE: &str =
    fix_rejects!("without --state, the next run reads every object again");
/// For a run whose state or export manifest stays where it was.
pub(super) const REJECTS_NOT_MOVED: &str = fix_rejects!(
    "the state or export manifest, if any, was not moved forward, so the next run reads these objects again"
);
/// For a scan whose state records the objects that had no reject.
pub(super) const REJECTS_HELD_BACK: &str = fix_rejects!(
    "--state records every other object as read, and leaves these to the next run, which reads them again"
);

/// Ends a run that did not read all it was given: the objects found damaged (as
/// [`damage`]), then records rejected by their format, which may be the very ones a rule
/// looks for. With `allow` (--allow-rejects) they are warnings and the run is complete.
/// A run whose every record was rejected is left to [`Run::read_something`]. `hint` (one
/// of the `REJECTS_*`) says what the next run reads again.
pub(super) fn complete(
    stats: &ScanStats,
    rejects: &RejectSink,
    allow: bool,
    hint: &'static str,
) -> Result<()> {
    if allow {
        for e in stats.take_damage() {
            eprintln!(
                "sageflow: warning: {} (accepted by --allow-rejects)",
                crate::terminal::printable(&e.to_string())
            );
        }
        return Ok(());
    }
    damage(stats)?;
    let s = stats.snapshot();
    let rejected = rejects.count();
    if rejected == 0 || s.rows == 0 {
        return Ok(());
    }
    Err(Error::config(
        format!(
            "{rejected} of the {} records read were rejected (listed above): the result covers only the {} records that fit their format, and those rejected may hold the traffic a rule looks for",
            s.records, s.rows
        ),
        hint,
    ))
}

/// A prepared run over the inputs: session, counters, timer.
pub(super) struct Run {
    /// The objects this run reads (for `--state`).
    pub(super) objects: Vec<source::SourceObject>,
    pub(super) ledger: source::ledger::CwLedger,
    /// Objects skipped because an earlier run (`--state`) read them unchanged.
    pub(super) already: usize,
    pub(super) ctx: SessionContext,
    pub(super) rejects: Arc<RejectSink>,
    pub(super) stats: Arc<ScanStats>,
    pub(super) quiet: bool,
    /// Under --strict the failing reject is the error itself; the summary does not repeat it.
    pub(super) strict: bool,
    pub(super) began: Instant,
    pub(super) ignored: usize,
    pub(super) enricher: Arc<Enricher>,
    /// `--workers`: a session like `ctx` (the same tables) whose plans run on the workers.
    pub(super) cluster: Option<SessionContext>,
    /// `--since`/`--until`, resolved.
    pub(super) window: TimeWindow,
    /// When the sources were listed, Unix seconds: the state's `listed_at` once the run
    /// has moved it forward.
    pub(super) listed_at: i64,
}

/// With `state`, an incremental run: only what earlier runs did not read.
pub(super) async fn prepare(
    input: &InputArgs,
    state: Option<(&ReadLedger, OnRewrite)>,
) -> Result<Run> {
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
                    flow_log_formats.insert(fl.id.clone(), vec![l]);
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
    // When the last run that moved the state forward listed its sources; a state written
    // before that was kept, about --since. The first run has none: no earlier run to have
    // missed anything.
    let listed = state.and_then(|(known, _)| {
        known
            .listed_at
            .or_else(|| (!known.is_empty()).then_some(window.since?))
    });
    // Less a quarter hour for an object being written then, or --cw-overlap for
    // CloudWatch events stamped late.
    let late = (input.cw_overlap / 1000).max(15 * 60);
    let filter = source::s3::ListFilter {
        window,
        accounts: input.accounts.clone(),
        regions: input.log_regions.clone(),
        flow_logs: input.flow_logs.clone(),
        // What was delivered since then, when that is before --since.
        delivered_since: window
            .since
            .zip(listed)
            .map(|(since, listed)| since.min(listed) - late),
    };
    if let (Some(listed), Some(since), false) = (listed, window.since, input.quiet)
        && listed - late < since - 2 * 3600
    {
        eprintln!(
            "note: the last run that moved the state forward listed its sources at {}: what was delivered since then is read as new, whatever --since says",
            crate::scan::iso(listed)
        );
    }
    let mut enricher = Enricher::new(Arc::new(inventory));
    if !input.dns.is_empty() {
        enricher = enricher.with_dns(load_dns(&input.dns, &window, &input.aws, input.quiet).await?);
    }
    let enricher = Arc::new(enricher);
    let mut discovery = source::discover(&input.sources, &filter, remote.as_ref()).await?;
    discovery.check_selection(&filter)?;
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
    if let Some((copy, of)) = discovery.copies.first() {
        eprintln!(
            "sageflow: warning: {} objects are copies of others by their AWS file name (as {copy} of {of}) and are read once",
            discovery.copies.len()
        );
    }
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
        exported_enrichment: input.inventory.inventory.is_empty(),
        damage_is_error: false,
        aws: input.aws.clone(),
    };
    let objects = discovery.objects.clone();
    let ledger = config
        .remote
        .as_ref()
        .map(|r| r.ledger.clone())
        .unwrap_or_default();
    let (ctx, _) = engine::session(discovery, config)?;
    #[cfg(feature = "distributed")]
    let cluster = match &input.workers {
        Some(list) => {
            let cluster = engine::distributed::Cluster::parse(list)?;
            cluster.check().await?;
            Some(engine::distributed::distribute(&ctx, cluster)?)
        }
        None => None,
    };
    #[cfg(not(feature = "distributed"))]
    let cluster = None;
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
        cluster,
        window,
        listed_at: now.timestamp(),
    })
}

/// ip-ranges.json older than this is worth a warning.
pub(super) const IP_RANGES_STALE_DAYS: i64 = 90;

/// How to get an inventory, for the errors that say one is missing or useless.
pub(super) const INVENTORY_HINT: &str = "collect one with `sageflow inventory collect --out inventory/` (or save the output of `aws ec2 describe-network-interfaces`, describe-vpc-endpoints, describe-vpcs, describe-flow-logs, … and `aws sagemaker describe-*` as the README shows) and pass --inventory inventory/, or use --inventory live; --allow-empty scans anyway";

/// Refuses a scan whose inventory cannot attribute any ENI to a SageMaker workload: its
/// "no findings" would say nothing.
pub(super) fn attributable(src: &InventorySource, enricher: &Enricher) -> Result<()> {
    let inv = enricher.inventory();
    let path = if src.inventory.is_empty() {
        "(none)".to_string()
    } else {
        src.inventory
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
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
        + inv.flow_logs.len()
        + inv.lifetimes.len();
    let message = if inv.files.is_empty() {
        format!("--inventory {path} holds no AWS CLI JSON output (*.json files)")
    } else if recognised == 0 {
        format!(
            "--inventory {path}: none of its {} files is a recognised AWS CLI document (the warnings above say what each is)",
            inv.files.len()
        )
    } else if inv.enis.is_empty() && inv.lifetimes.is_empty() && !inv.empty_eni_files.is_empty() {
        format!(
            "--inventory {path}: its describe-network-interfaces output ({}) lists no ENI, and there are no CloudTrail ENI events, so no ENI can be attributed to a SageMaker workload; was it run in another region or account, or with --filters?",
            inv.empty_eni_files.join(", ")
        )
    } else if inv.enis.is_empty() && inv.lifetimes.is_empty() {
        format!(
            "--inventory {path} has no describe-network-interfaces output and no CloudTrail ENI events, so no ENI can be attributed to a SageMaker workload"
        )
    } else if sagemaker_docs == 0
        && !inv
            .enis
            .keys()
            .chain(inv.lifetimes.iter().map(|l| &l.eni.id))
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
    /// The session queries run in: on the workers with `--workers`.
    pub(super) fn query_ctx(&self) -> &SessionContext {
        self.cluster.as_ref().unwrap_or(&self.ctx)
    }

    /// The run's progress line, until dropped: with `--workers`, with what the workers have
    /// read so far.
    pub(super) fn progress(&self) -> super::progress::Progress {
        use super::progress::{Elsewhere, Progress};
        #[cfg(feature = "distributed")]
        let elsewhere = self
            .cluster
            .as_ref()
            .filter(|_| Progress::shown(self.quiet))
            .and_then(engine::distributed::watch)
            .map(|watch| Box::new(move || watch.total()) as Elsewhere);
        #[cfg(not(feature = "distributed"))]
        let elsewhere: Option<Elsewhere> = None;
        Progress::start(self.stats.clone(), self.quiet, elsewhere)
    }

    /// Refuses a result over nothing: every record rejected (the format does not fit), or
    /// no record read at all unless `allow_empty`.
    pub(super) fn read_something(&self, s: StatsSnapshot, allow_empty: bool) -> Result<()> {
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
    pub(super) fn summary(&self) -> Result<()> {
        self.summary_of(self.stats.snapshot())
    }

    pub(super) fn summary_of(&self, s: StatsSnapshot) -> Result<()> {
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

/// Record formats of CloudWatch log groups: the `LogFormat` of each flow log that writes to
/// the group, from the inventory's `describe-flow-logs`, else from the live DescribeFlowLogs;
/// a group no flow log names is read in the default format. Flow logs that write to one
/// group share its streams (one per ENI), so a group can hold records in several formats:
/// each record is read in the one with its number of fields (the default format among
/// them, for records of a flow log deleted since).
pub(super) async fn group_formats(
    sdk: &aws_config::SdkConfig,
    inventory: &Inventory,
    groups: &[String],
    formats: &mut std::collections::HashMap<String, Vec<Layout>>,
) -> Result<()> {
    for group in groups {
        // (flow log id, its LogFormat: None for the default format)
        let mut writers: Vec<(String, Option<String>)> = inventory
            .flow_logs
            .iter()
            .filter(|f| f.log_group_name.as_deref() == Some(group.as_str()))
            .map(|f| (f.id.clone(), f.log_format.clone()))
            .collect();
        if writers.is_empty() {
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
                    writers = r
                        .flow_logs()
                        .iter()
                        .filter(|f| f.log_group_name() == Some(group.as_str()))
                        .map(|f| {
                            (
                                f.flow_log_id().unwrap_or("a flow log").to_string(),
                                f.log_format().map(str::to_string),
                            )
                        })
                        .collect();
                }
                // Without the permission (or on an endpoint without the call) the default
                // format is a reasonable guess; after a failure that retries did not cure,
                // it is not: a custom-format group would come back as all rejects.
                Err(e) if crate::aws::unavailable(&e) => tracing::warn!(
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
        // Each distinct format once, with the first flow log that writes it.
        let mut layouts: Vec<(String, Layout)> = Vec::new();
        for (id, format) in writers {
            let layout = Layout::of_flow_log(format.as_deref())?;
            tracing::info!(group = %group, flow_log = %id, format = %layout.to_aws_format(), "record format from describe-flow-logs");
            if !layouts.iter().any(|(_, l)| *l == layout) {
                layouts.push((id, layout));
            }
        }
        // Records are told apart by their number of fields only.
        for (i, (id, layout)) in layouts.iter().enumerate() {
            if let Some((first, _)) = layouts[..i]
                .iter()
                .find(|(_, l)| l.slots.len() == layout.slots.len())
            {
                eprintln!(
                    "sageflow: warning: log group {group} is written by flow logs {first} and {id} in different record formats of the same number of fields ({}): their records cannot be told apart, and are read in {first}'s format ({id}'s are rejected, or read wrongly where they fit it); give each flow log its own log group (or pass --log-format for the other's)",
                    layout.slots.len(),
                );
            }
        }
        // A flow log's format cannot be changed: a new format is a new flow log, and the
        // group keeps what the one deleted wrote, most often in the default format (a flow
        // log's unless given another). Records of its number of fields are read in it.
        let default = Layout::default_v2();
        if !layouts.is_empty()
            && !layouts
                .iter()
                .any(|(_, l)| l.slots.len() == default.slots.len())
        {
            layouts.push(("the default format".to_string(), default));
        }
        if !layouts.is_empty() {
            formats.insert(
                source::cloudwatch::format_key(group),
                layouts.into_iter().map(|(_, l)| l).collect(),
            );
        } else {
            tracing::info!(group = %group, "no flow log names this group; default format");
        }
    }
    Ok(())
}

/// The answers of the `--dns` sources within the window (and its margin), indexed; what
/// was read, and every rejected line, is reported.
async fn load_dns(
    paths: &[String],
    window: &TimeWindow,
    aws: &crate::aws::AwsOptions,
    quiet: bool,
) -> Result<crate::enrich::DnsIndex> {
    let log = source::dns::read_all(paths, window, aws).await?;
    if log.lines == 0 {
        return Err(Error::Usage(format!(
            "--dns {}: no query log line found; give Route 53 Resolver query logs (AWSLogs/<account>/vpcdnsquerylogs/…)",
            paths.join(" ")
        )));
    }
    if !quiet || log.rejected > 0 {
        eprintln!(
            "sageflow: DNS: {} lines in {} files: {} answers kept, {} without an address (NXDOMAIN, CNAME only), {} outside the window, {} rejected",
            log.lines,
            log.files,
            log.answers.len(),
            log.unanswered,
            log.outside_window,
            log.rejected
        );
        if log.blocked > 0 {
            eprintln!(
                "sageflow: DNS: {} queries blocked by DNS Firewall (their answers name nothing)",
                log.blocked
            );
        }
        for r in &log.reject_samples {
            eprintln!("  rejected: {r}");
        }
    }
    Ok(crate::enrich::DnsIndex::new(log.answers)
        .listing_from(window.since)
        .read_from(paths.to_vec(), *window))
}

/// The inventory of `--inventory` (or none) with ip-ranges (built-in or `--ip-ranges`).
/// Everything it could not use is logged as a warning.
/// `--inventory live` collects it from the EC2 and SageMaker APIs instead.
pub(super) async fn load_inventory(
    src: &InventorySource,
    aws: &crate::aws::AwsOptions,
) -> Result<Inventory> {
    use crate::inventory::load;
    let mut inv = load::empty(src.ip_ranges.as_deref())?;
    let sdk = crate::aws::OnDemand::new(aws);
    for path in &src.inventory {
        let text = path.to_string_lossy();
        if text == "live" {
            let docs =
                crate::inventory::collect::collect(sdk.get().await?, None, None, None).await?;
            for (name, doc) in docs {
                // As bytes, so that the workers of a distributed run get the same documents.
                let bytes = serde_json::to_vec(&doc).map_err(|e| Error::Inventory {
                    file: format!("live:{name}"),
                    message: e.to_string(),
                })?;
                load::add_file(&mut inv, &format!("live:{name}"), &bytes)?;
            }
        } else if text.starts_with("s3://") {
            let client = crate::aws::s3_client(sdk.get().await?, aws);
            crate::inventory::remote::add_s3(&mut inv, &client, &text).await?;
        } else if text.starts_with("cwlogs://") {
            let client = aws_sdk_cloudwatchlogs::Client::new(sdk.get().await?);
            crate::inventory::remote::add_cwlogs(&mut inv, &client, &text).await?;
        } else {
            load::add_path(&mut inv, path)?;
        }
    }
    load::finish(&mut inv);
    for w in &inv.warnings {
        tracing::warn!("inventory: {w}");
    }
    Ok(inv)
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
