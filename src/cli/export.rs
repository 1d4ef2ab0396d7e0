//! `sageflow export`: the lock, recovery of interrupted runs, and the run itself.

use super::*;

pub(super) async fn export(a: args::ExportArgs) -> Result<u8> {
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
pub(super) async fn export_locked(
    a: &args::ExportArgs,
    store: &crate::export::Store,
) -> Result<u8> {
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
    let progress = run.progress();
    if a.full && run.objects.is_empty() {
        return Err(Error::config(
            "export --full found no source object to rebuild the export from; the previous export is left as it is",
            "check the sources and --since/--until",
        ));
    }
    let summary = if run.objects.is_empty() {
        ex::Summary::default()
    } else {
        // Checked before the commit: an object with rejected records must not be marked
        // exported (unless --allow-rejects), so that a run with the right --log-format
        // exports it whole. What
        // was read is known once the rows are written (how far each file was read, the
        // newest event of each stream).
        let exported = ex::export(
            run.query_ctx(),
            store,
            a.partition_by,
            a.input.memory_limit,
            manifest,
            obsolete,
            |m, counted| {
                if let Some(c) = counted {
                    c.add_to(&run.stats, &run.rejects)?;
                }
                complete(&run.stats, &run.rejects, a.allow_rejects, REJECTS_NOT_MOVED)?;
                run.read_something(run.stats.snapshot(), true)?;
                m.sources
                    .record(&run.objects, &run.ledger, &Default::default());
                if run.window.until.is_none() {
                    m.sources.listed_at = Some(run.listed_at);
                }
                Ok(())
            },
        )
        .await;
        match exported {
            Ok(s) => s,
            Err(e) => {
                // The rejects and counts the refusal speaks of.
                drop(progress);
                run.summary()?;
                return Err(e);
            }
        }
    };
    drop(progress);
    if !a.input.inventory.inventory.is_empty() {
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
