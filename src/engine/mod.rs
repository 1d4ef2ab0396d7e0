//! DataFusion session set-up: the `flows` table over the sources.

/// The [`ExecutionPlan`](datafusion::physical_plan::ExecutionPlan) methods of a plan with
/// no inputs (the leaves that read flows: the sources' read, and a scan's share of it).
macro_rules! leaf_plan {
    () => {
        fn children(
            &self,
        ) -> Vec<&std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>> {
            vec![]
        }

        fn apply_expressions(
            &self,
            _f: &mut dyn FnMut(
                &std::sync::Arc<dyn datafusion::physical_expr::PhysicalExpr>,
            ) -> datafusion::common::Result<
                datafusion::common::tree_node::TreeNodeRecursion,
            >,
        ) -> datafusion::common::Result<datafusion::common::tree_node::TreeNodeRecursion> {
            Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
        }

        fn replace_children(
            self: std::sync::Arc<Self>,
            _: Vec<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>>,
            _: datafusion::physical_plan::ReplaceChildrenOptions,
        ) -> datafusion::common::Result<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>>
        {
            Ok(self)
        }

        fn with_new_children(
            self: std::sync::Arc<Self>,
            children: Vec<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>>,
        ) -> datafusion::common::Result<std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>>
        {
            self.replace_children(
                children,
                datafusion::physical_plan::ReplaceChildrenOptions::new(
                    datafusion::physical_plan::ChildrenPropertiesMode::Recompute,
                ),
            )
        }
    };
}
pub(crate) use leaf_plan;

mod answers;
pub mod counters;
#[cfg(feature = "distributed")]
pub mod distributed;
mod owners;
pub mod policy;
mod pushdown;
pub mod table;
pub mod tables;

use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::error::Result;
use crate::format::FlowSchema;
use crate::source::{Discovery, SourceObject};
pub use table::{FlowsExec, FlowsTable, ScanConfig};

/// Rows per decoded batch.
pub const BATCH_SIZE: usize = 8192;

/// Unknown field names found in the inputs (header lines and Parquet columns), so the
/// table can show them as columns. Only the head of each object is read. A header line
/// naming a field the catalogue does not know is an error unless `--allow-unknown-fields`
/// (a typo would otherwise be an empty column); Parquet columns are AWS's own, kept with
/// a warning.
pub fn unknown_fields(objects: &[SourceObject], config: &ScanConfig) -> Result<Vec<String>> {
    use crate::source::read::Declared;
    let mut names = Vec::new();
    if let Some(l) = &config.log_format {
        names.extend(l.unknown());
        return Ok(names);
    }
    for o in objects {
        match crate::source::read::peek_unknown_fields(o) {
            Ok((found, declared)) => {
                if let (Some(name), Declared::Header, false) =
                    (found.first(), declared, config.allow_unknown_fields)
                {
                    return Err(crate::format::unknown_field(
                        &format!("{}, header line", o.name),
                        &name.replace('_', "-"),
                    ));
                }
                for name in found {
                    if !names.contains(&name) {
                        tracing::warn!(object = %o.name, field = %name, "unknown flow-log field; kept as a text column");
                        names.push(name);
                    }
                }
            }
            // The real read reports the problem with full context.
            Err(e) => tracing::debug!(object = %o.name, error = %e, "could not peek at object"),
        }
    }
    Ok(names)
}

/// A session whose `flows` table reads `discovery`'s objects.
pub fn session(discovery: Discovery, config: ScanConfig) -> Result<(SessionContext, FlowSchema)> {
    let extra = unknown_fields(&discovery.objects, &config)?;
    let schema = FlowSchema::new(&extra);
    let ctx = new_context(config.memory_limit);
    tables::register(&ctx, &config.enricher, config.window, &discovery.objects)?;
    let table = FlowsTable::new(schema.clone(), discovery.objects, config);
    ctx.register_table("flows", Arc::new(table))?;
    Ok((ctx, schema))
}

/// `batch` with its columns cast to `to`'s types (the same columns, in the same order);
/// `same` gives a column that already has its type (itself, or a copy).
pub fn cast_columns(
    batch: &datafusion::arrow::array::RecordBatch,
    to: &datafusion::arrow::datatypes::SchemaRef,
    same: impl Fn(
        &datafusion::arrow::array::ArrayRef,
    ) -> std::result::Result<
        datafusion::arrow::array::ArrayRef,
        datafusion::arrow::error::ArrowError,
    >,
) -> std::result::Result<datafusion::arrow::array::RecordBatch, datafusion::arrow::error::ArrowError>
{
    use datafusion::arrow::array::{RecordBatch, RecordBatchOptions};
    let columns = batch
        .columns()
        .iter()
        .zip(to.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                same(c)
            } else {
                datafusion::arrow::compute::cast(c, f.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
    RecordBatch::try_new_with_options(to.clone(), columns, &options)
}

/// A bare session configured for sageflow (all cores, UTC, information_schema for `SHOW`).
pub fn new_context(memory_limit: usize) -> SessionContext {
    let state = SessionStateBuilder::new()
        .with_config(session_config(memory_limit))
        .with_runtime_env(runtime(memory_limit))
        .with_default_features()
        .build();
    SessionContext::new_with_state(state)
}

/// The settings every sageflow session runs with (a distributed run's workers too).
pub fn session_config(memory_limit: usize) -> SessionConfig {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .with_batch_size(BATCH_SIZE)
        .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
    // A sort that spilled merges its runs with this much held back from the pool; the 10 MB
    // default runs out when export's wide batches merge many runs.
    config.options_mut().execution.sort_spill_reservation_bytes = memory_limit / 16;
    // One sort over all partitions. Per-partition sorts merged afterwards each held their
    // merge buffers in the pool, and the final merge failed for want of memory whatever the
    // spilling: export at the default 1 GB on the 4 M-record benchmark corpus, and any
    // `ORDER BY` of a large result at a small limit.
    config.options_mut().optimizer.repartition_sorts = false;
    config
}

/// Spilled runs one merge reads at once (see [`runtime`]): one per 32 MiB of the pool, 2 to
/// 16. Each run read holds two of its batches (a few MB for a rule's wide rows); at 64 MB,
/// merging 8 runs took 49 MB and the scan's other sorts failed.
fn merge_fan_in(memory_limit: usize) -> usize {
    (memory_limit / (32 << 20)).clamp(2, 16)
}

/// The memory pool and spill folder of a session (a distributed run's workers too).
pub fn runtime(memory_limit: usize) -> Arc<datafusion::execution::runtime_env::RuntimeEnv> {
    // Sorts (export) and large aggregations spill to disk past this, so memory stays bounded
    // whatever the input size.
    // A fair pool: with the greedy one, one partition's sorter took the whole pool and the
    // other's first batch failed instead of spilling.
    let pool = datafusion::execution::memory_pool::FairSpillPool::new(memory_limit);
    let pool = datafusion::execution::memory_pool::TrackConsumersPool::new(
        pool,
        std::num::NonZeroUsize::new(5).expect("non-zero"),
    );
    // Spill files go to the run's scratch folder, which is removed however the run ends.
    let mut runtime = datafusion::execution::runtime_env::RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool));
    if let Ok(dir) = crate::scratch::dir() {
        use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
        runtime = runtime.with_disk_manager_builder(
            DiskManagerBuilder::default()
                .with_mode(DiskManagerMode::Directories(vec![dir.to_path_buf()]))
                // A merge of spilled runs holds a batch or two of each run it reads, which
                // no other plan can take back: unlimited, the sort of a large rule's rows
                // took 180 MB of a 256 MB pool for one merge and a concurrent rule's hash
                // table failed. A few runs at a time, merged again as needed, keep it small.
                .with_max_spill_merge_fan_in(merge_fan_in(memory_limit)),
        );
    }
    runtime
        .build_arc()
        .expect("runtime with a memory pool and a disk manager")
}
