//! `sageflow scan` and `sageflow rules`, and where `--state` is kept.

use super::*;

pub(super) fn list_rules(a: RulesArgs) -> Result<u8> {
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

pub(super) async fn scan(a: ScanArgs) -> Result<u8> {
    if let Some(out) = &a.output {
        refuse_format_as_output(out)?;
    }
    let rules = crate::scan::rules::load(a.rules.as_deref())?;
    let suppressions = match &a.suppress {
        Some(p) => crate::scan::load_suppressions(p)?,
        None => Vec::new(),
    };
    if a.input.inventory.inventory.is_empty() && !a.allow_empty {
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
    crate::engine::tables::register_context(&run.ctx, incremental, run.window, &run.objects)?;
    let progress = run.progress();
    let mut per_rule: Vec<(String, usize)> = Vec::new();
    // Every rule is planned first, then the sources are read once for all of them
    // (`scan::fanout`): each rule gets its columns and rows as they are decoded.
    crate::scan::configure(&run.ctx);
    let temp = crate::scratch::subdir("scan-")?;
    let shared = crate::scan::fanout::SharedFlows::install(&run.ctx, temp.path().into()).await?;
    let unknown_report = crate::scan::rules::bundled("unknown-enis")?;
    let summary =
        crate::scan::Coverage::start(&run.ctx, &unknown_report, run.enricher.inventory()).await?;
    let html = a.format == crate::scan::FindingFormat::Html;
    let aggregations = if html {
        Some(crate::html::Aggregations::start(&run.ctx, &run.window, Utc::now().timestamp()).await?)
    } else {
        None
    };
    let mut started = Vec::new();
    for rule in rules.iter().filter(|r| !r.is_report) {
        started.push((
            rule,
            crate::scan::start_rule(&run.ctx, rule, a.group_by).await?,
        ));
    }
    if let Some(reader) = shared.start(&run.ctx, run.cluster.as_ref()).await? {
        // A read on the workers counted there: their counts are the run's.
        if let Some(counted) = reader.finish().await? {
            counted.add_to(&run.stats, &run.rejects)?;
        }
    }
    let read = run.stats.snapshot();
    if let Err(e) = run.read_something(read, a.allow_empty) {
        drop(progress);
        run.summary_of(read)?;
        return Err(e);
    }
    let coverage = crate::scan::Coverage::of(summary).await?;
    let aggregated = match aggregations {
        Some(a) => Some(a.finish().await?),
        None => None,
    };
    let today = Utc::now().date_naive();
    let mut removed = vec![0usize; suppressions.len()];
    let mut spool = crate::scan::Spool::create(temp.path())?;
    for (rule, started) in started {
        let found = crate::scan::emit_rule(rule, a.group_by, started, &mut spool, |f| {
            for (i, s) in suppressions.iter().enumerate() {
                if !s.expired(today) && s.matches(f) {
                    removed[i] += 1;
                    return false;
                }
            }
            // A full-coverage run reports them all again, and remembers them.
            state_store.is_none() || state.report(f) || a.full_coverage
        })
        .await?;
        per_rule.push((rule.name.clone(), found));
    }
    drop(progress);

    let read_from: Vec<String> = run
        .objects
        .iter()
        .filter_map(|o| o.key.flow_log_id.clone())
        .collect();
    // The formats the rows were decoded in: for the notes and for `no_interface`.
    let formats = run.stats.formats();
    let mut notes = crate::scan::coverage_notes(&run.enricher, &read_from, &run.window, &formats);
    // An incremental run's objects are only the new ones: gaps between them are by design.
    if !incremental {
        notes.extend(crate::scan::delivery_notes(
            &run.objects,
            &run.window,
            run.enricher.inventory(),
            Utc::now().timestamp(),
        ));
    }
    // Its zero without DNS logs says nothing: never let it read as clean.
    if a.input.dns.is_empty() && per_rule.iter().any(|(n, _)| n == "private-dns-bypass") {
        notes.push(
            "private-dns-bypass needs --dns (Route 53 Resolver query logs): without them it cannot fire".into(),
        );
    }

    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
        )),
        // Standard output flushes at every line end: pretty JSON and SARIF, a line per
        // value, took a write call each (`--format json` of 267,534 findings written to a
        // file: 12.6 s, buffered 4.4 s).
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let written = match aggregated {
        Some(agg) => {
            let cx = report_context(
                &a,
                &run,
                read,
                &rules,
                &suppressions,
                &removed,
                coverage,
                &notes,
            );
            crate::html::write(agg, &mut spool, &cx, &mut out).map(|_| ())
        }
        None => crate::scan::write(&mut spool, &rules, a.format, &mut out),
    };
    written
        .and_then(|()| out.flush().map_err(|e| Error::io("output", e)))
        .map_err(|e| match (e, &a.output) {
            // Name the file the findings could not be written to.
            (Error::Io { source, .. }, Some(p)) => Error::io(p, source),
            (e, _) => e,
        })?;
    drop(out);

    // A run with rejected records (a damaged object's unreadable rest is one) fails, and
    // the objects that had them are left out of the state, so that the next run reads them
    // again; the others are recorded, so that their findings are not reported a second
    // time. Records no rule could decide on (a format), or rejects whose objects did not
    // come back from the workers, leave the whole state where it was.
    let undecidable = no_action(&coverage).and(no_interface(&formats, &coverage));
    let held_back = if a.allow_rejects {
        Some(std::collections::BTreeSet::new())
    } else {
        run.rejects.objects()
    };
    let complete = super::complete(
        &run.stats,
        &run.rejects,
        a.allow_rejects,
        match (&state_store, &held_back) {
            (None, _) => super::run::REJECTS_NO_STATE,
            (Some(_), Some(_)) if undecidable.is_ok() => super::run::REJECTS_HELD_BACK,
            (Some(_), _) => super::run::REJECTS_NOT_MOVED,
        },
    );
    let held_back = held_back.filter(|held| complete.is_ok() || !held.is_empty());
    if let (Some(store), Some(held), Ok(())) = (&state_store, &held_back, &undecidable) {
        state.read.record(&run.objects, &run.ledger, held);
        // A run bounded by --until (a backfill) leaves out what was delivered for later
        // windows, and one that left objects out must list them again: the next run must
        // still find them new.
        if run.window.until.is_none() && held.is_empty() {
            state.read.listed_at = Some(run.listed_at);
        }
        store.save(&state).await?;
    }
    run.summary_of(read)?;
    if !run.quiet {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(
            err,
            "sageflow: {}; {} ENIs with records unknown to the inventory",
            coverage.workload_records(),
            coverage.unknown_enis
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
        for note in &notes {
            let _ = writeln!(err, "note: {note}");
        }
        if let (true, Some(p)) = (html, &a.output) {
            let _ = writeln!(
                err,
                "sageflow: report written to {} ({})",
                p.display(),
                indicatif::HumanBytes(std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
            );
        }
        if incremental && a.format == crate::scan::FindingFormat::Sarif {
            let _ = writeln!(
                err,
                "note: this SARIF holds only this run's new findings: GitHub code scanning closes the alerts an upload lacks, so upload SARIF of `--full-coverage` runs (or runs without --state) instead"
            );
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
             describe-network-interfaces while the workloads run (job ENIs are deleted when jobs end), \
             and describe-nat-gateways (a regional NAT gateway's records have no ENI: the report \
             lists them by its nat- id){}{}{}",
            coverage.unknown_records,
            indicatif::HumanBytes(coverage.unknown_bytes),
            coverage.unknown_enis,
            history_hint(run.enricher.inventory(), &coverage),
            foreign_hint(&coverage),
            age_hint(run.enricher.inventory(), &coverage),
        );
    }
    complete?;
    undecidable?;
    Ok(if spool.is_empty() {
        EXIT_OK
    } else {
        EXIT_FINDINGS
    })
}

/// Records read only in formats without `interface-id`: none names its ENI, so none is
/// attributed to a workload, and the rules on workloads' traffic cannot fire. (An export's
/// Parquet says nothing of the format its records were read in: a run that reads one with
/// workloads' records is not refused.)
fn no_interface(formats: &[String], coverage: &crate::scan::Coverage) -> Result<()> {
    let lacking =
        |f: &String| crate::format::Layout::parse(f).is_ok_and(|l| !l.has("interface-id"));
    if formats.is_empty() || !formats.iter().all(lacking) || coverage.sagemaker_records > 0 {
        return Ok(());
    }
    Err(Error::config(
        format!(
            "no record read names its ENI: the format{} `{}` {} no interface-id, so no record can be attributed to a SageMaker workload, no rule on workloads' traffic can fire, and log-gaps reports their ENIs as without records",
            if formats.len() > 1 { "s" } else { "" },
            formats.join("`, `"),
            if formats.len() > 1 { "have" } else { "has" },
        ),
        "add ${interface-id} to the flow log's format (a flow log's format cannot be changed: create another with it), or read the objects with the --log-format they were written in; the state, if any, is not moved forward",
    ))
}

/// Records of SageMaker workloads' traffic without an action (only NODATA and SKIPDATA
/// records have none): their format lacks the field, and no rule can decide on them.
fn no_action(coverage: &crate::scan::Coverage) -> Result<()> {
    if coverage.sagemaker_no_action == 0 {
        return Ok(());
    }
    Err(Error::config(
        format!(
            "{} of the {} records of SageMaker workloads' traffic have no action (ACCEPT or REJECT): their format lacks the action field, so no rule can tell traffic that passed from traffic that was refused on them, and none reported any",
            coverage.sagemaker_no_action, coverage.sagemaker_traffic
        ),
        "add ${action} to the flow log's format (a flow log's format cannot be changed: create another with it), or read the objects with the --log-format they were written in; the state, if any, is not moved forward",
    ))
}

/// What the report page says about the run besides its aggregations.
#[allow(clippy::too_many_arguments)]
fn report_context<'a>(
    a: &ScanArgs,
    run: &'a Run,
    read: StatsSnapshot,
    rules: &'a [crate::scan::Rule],
    suppressions: &[crate::scan::Suppression],
    removed: &[usize],
    coverage: crate::scan::Coverage,
    notes: &[String],
) -> crate::html::Context<'a> {
    let today = Utc::now().date_naive();
    let inv = run.enricher.inventory();
    let sagemaker_enis = crate::scan::sagemaker_enis(&run.enricher)
        .into_iter()
        .map(|e| e.id.clone())
        .collect();
    let mut notes = notes.to_vec();
    if coverage.unknown_records > 0 {
        notes.push(format!(
            "{} records on {} ENIs that no inventory document names: their workloads are unknown and findings on them may be missed (`sageflow query … --report unknown-enis` lists them){}",
            coverage.unknown_records,
            coverage.unknown_enis,
            foreign_hint(&coverage)
        ));
    }
    crate::html::Context {
        window: run.window,
        rules,
        sources: a.input.sources.clone(),
        read,
        rejected: run.rejects.count(),
        suppressions: suppressions
            .iter()
            .zip(removed)
            .map(|(s, &n)| crate::html::SuppressionUse {
                rule: s.rule.clone(),
                reason: s.reason.clone(),
                removed: n,
                expires: s.expires.clone(),
                expired: s.expired(today),
            })
            .collect(),
        coverage,
        inventory: inv,
        sagemaker_enis,
        notes,
        now: Utc::now().timestamp(),
        findings_per_rule: a.findings_per_rule,
    }
}

/// Which of the unknown ENIs are of accounts the inventory has nothing of: their logs
/// were read (a central log bucket) without their inventory.
fn foreign_hint(c: &crate::scan::Coverage) -> String {
    let elsewhere = if c.other_region_enis == 0 {
        String::new()
    } else {
        format!(
            ". Of them, {} records on {} ENIs are of {}, where the inventory has no ENI (the \
             records' region field; the report's region column): add the inventory of {} to \
             --inventory, or read only this region's logs (--log-region)",
            c.other_region_records,
            c.other_region_enis,
            if c.other_regions == 1 {
                "another region".to_string()
            } else {
                format!("{} other regions", c.other_regions)
            },
            if c.other_regions == 1 {
                "that region"
            } else {
                "those regions"
            },
        )
    };
    if c.foreign_enis == 0 {
        return elsewhere;
    }
    let others = match c.foreign_accounts {
        0 | 1 => String::new(),
        2 => " and 1 other account".to_string(),
        n => format!(" and {} other accounts", n - 1),
    };
    format!(
        ". Of them, {} records on {} ENIs are of account {:012}{others}, which owns no ENI of \
         the inventory: read only your accounts' logs (…/AWSLogs/<account-id>/…), or add \
         those accounts' inventories to --inventory (a shared VPC's flow log delivers every \
         participant's records under the VPC owner's account: add the owner's \
         describe-network-interfaces)",
        c.foreign_records, c.foreign_enis, c.foreign_account
    ) + &elsewhere
}

/// What the inventory's age says of records of unknown ENIs well after it was saved: ENIs
/// created since cannot be in it (dated snapshots have their own hint).
fn age_hint(inv: &crate::inventory::Inventory, c: &crate::scan::Coverage) -> String {
    let newest = c.unknown_to as i64;
    match inv.enis_saved_at() {
        Some(saved) if inv.snapshots.is_empty() && newest > saved + 86_400 => format!(
            "; the inventory's describe-network-interfaces was saved at {} (its file's time), {} days before the newest of those records ({}): ENIs created since cannot be in it, so save it again before each scan (`sageflow inventory collect`)",
            crate::scan::iso(saved),
            (newest - saved) / 86_400,
            crate::scan::iso(newest),
        ),
        _ => String::new(),
    }
}

/// What the ENI history could add about records of unknown ENIs: the trail's files when
/// the inventory has none, or the time they (and dated snapshots) do not cover.
fn history_hint(inv: &crate::inventory::Inventory, c: &crate::scan::Coverage) -> String {
    let at = |t: u64| crate::scan::iso(t as i64);
    let snapshots = match (inv.snapshots.first(), inv.snapshots.last()) {
        (Some(&first), Some(&last)) => format!(
            "; the {} dated inventory snapshots span {} to {} (those records {} to {}): \
             collect more often (inventory collect --dated) for ENIs that live between two",
            inv.snapshots.len(),
            at(first as u64),
            at(last as u64),
            at(c.unknown_from),
            at(c.unknown_to)
        ),
        _ => String::new(),
    };
    let trail = &inv.trail;
    snapshots
        + &match trail.range {
            None if trail.files == 0 => "; or add the account's CloudTrail files \
            (AWSLogs/<account>/CloudTrail/…) to --inventory: they keep the ENIs of finished jobs"
                .to_string(),
            None => "; the CloudTrail files in --inventory hold no ENI event".to_string(),
            Some((from, to)) if (c.unknown_from as i64) < from || (c.unknown_to as i64) > to => {
                format!(
                    "; those records span {} to {}, but the CloudTrail files cover only {} to {}: \
                 add the trail's files for the rest",
                    at(c.unknown_from),
                    at(c.unknown_to),
                    at(from as u64),
                    at(to as u64)
                )
            }
            Some(_) => String::new(),
        }
}

/// Where `--state` is kept: one document in a [`crate::store::Store`] (a local folder or an
/// S3 prefix), written as the export's documents are (never through a link, on disk before
/// it replaces the previous state).
pub(super) struct StateStore {
    store: crate::store::Store,
    name: String,
}

impl StateStore {
    pub(super) async fn open(loc: &str, aws: &crate::aws::AwsOptions) -> Result<StateStore> {
        if loc.starts_with("s3://") {
            let (bucket, key) = source::s3::parse_url(loc)?;
            if key.is_empty() || key.ends_with('/') {
                return Err(Error::Usage(format!(
                    "--state {loc}: name an object, not a bucket"
                )));
            }
            let (prefix, name) = match key.rsplit_once('/') {
                Some((dir, name)) => (format!("{dir}/"), name.to_string()),
                None => (String::new(), key),
            };
            let sdk = crate::aws::sdk_config(aws).await?;
            Ok(StateStore {
                store: crate::store::Store::S3 {
                    client: crate::aws::s3_client(&sdk, aws),
                    bucket,
                    prefix,
                },
                name,
            })
        } else {
            let path = std::path::Path::new(loc);
            let name = path
                .file_name()
                .ok_or_else(|| Error::Usage(format!("--state {loc}: name a file")))?
                .to_string_lossy()
                .into_owned();
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(std::path::Path::new("."));
            Ok(StateStore {
                store: crate::store::Store::Local(dir.to_path_buf()),
                name,
            })
        }
    }

    pub(super) async fn load(&self) -> Result<ScanState> {
        match self.store.read(&self.name).await? {
            Some(text) => ScanState::parse(
                &String::from_utf8_lossy(&text),
                &self.store.describe(&self.name),
            ),
            None => Ok(ScanState::default()),
        }
    }

    pub(super) async fn save(&self, state: &ScanState) -> Result<()> {
        self.store
            .write(&self.name, state.to_json().as_bytes())
            .await
    }
}
