//! What a scan's sorts hold: a rule's rows are sorted twice (by connection, then into
//! finding order, by every column), and the largest rule has hundreds of thousands of
//! them. Held as the scan reads them, those rows took most of a scan's memory; this
//! module hands each sort the same rows in a compact form and in few, large runs, and
//! sorts them itself ([`Sorted`]), keeping a share of the memory limit and spilling the
//! rest.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::common::Result as DfResult;
use datafusion::execution::TaskContext;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryLimit};
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_plan::EmptyRecordBatchStream;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::metrics::{BaselineMetrics, ExecutionPlanMetricsSet, SpillMetrics};
use datafusion::physical_plan::sorts::sort::{SortExec, sort_batch_chunked};
use datafusion::physical_plan::sorts::streaming_merge::{SortedSpillFile, StreamingMergeBuilder};
use datafusion::physical_plan::spill::{SpillManager, get_record_batch_memory_size};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::{PartitionStream, StreamingTableExec};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use futures::{StreamExt, TryStreamExt};

/// A sort sorts each batch it is given, then merges those runs through a row form of its
/// sort columns (every column, for the finding order), held for one output batch of each
/// run at once: with a rule's own 8192-row batches as runs, the finding-order sort of the
/// benchmark corpus's largest rule held 105 MB of it. Its runs are made of this share of
/// the memory limit in compact rows instead...
const RUN_SHARE: usize = 256;
/// ... of at most this many rows...
const RUN_ROWS: usize = 64 * 1024;
/// ... and the sort's output batches are this small, which is what the merge holds of
/// each run.
const SORTED_ROWS: usize = 1024;
/// A sort holds its sorted runs in memory up to this share of the memory limit, and
/// writes the runs past it to the scan's temporary directory, to be merged from there.
/// A scan's largest rules sort their rows by connection and then into finding order, and
/// every rule's sorts finish together when the read ends: held in memory, those rows were
/// most of a scan's peak, and grew with the logs.
const SORT_SHARE: usize = 64;

/// Columns whose values are mostly distinct from row to row: addresses, and the
/// connection ends made of them.
const DISTINCT: &[&str] = &[
    "srcaddr",
    "dstaddr",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "remote_addr",
    super::connections::LOW_END,
    super::connections::HIGH_END,
];

/// What a column (`field`) is sorted (and kept) as. Views would share their buffers among
/// the batches the sort cuts its output into, each batch counting all of them against
/// the memory limit; plain strings are copied into the batch that holds them. Most of a
/// finding's text repeats from record to record (the object it was read from, the
/// inventory document, the evidence, the workload), so other string columns become
/// dictionaries. Not the [`DISTINCT`] ones: a sort's output batches share their run's
/// dictionary, and each counts all of it.
pub fn sorted_type(field: &Field) -> DataType {
    match field.data_type() {
        DataType::Utf8View | DataType::Utf8 | DataType::LargeUtf8
            if !DISTINCT.contains(&field.name().as_str()) =>
        {
            DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
        }
        DataType::Utf8View => DataType::Utf8,
        DataType::BinaryView => DataType::Binary,
        t => t.clone(),
    }
}

/// `sorted` (a plan with a sort at its root) with the sort's input in compact form
/// ([`sorted_type`]) and in runs of a [`RUN_SHARE`]th of the memory limit, and its output
/// in batches of [`SORTED_ROWS`], or `None` when it has another shape. Its output has the
/// compact types.
pub fn compact(sorted: &Arc<dyn ExecutionPlan>) -> DfResult<Option<Arc<dyn ExecutionPlan>>> {
    let Some(sort) = sorted.downcast_ref::<SortExec>() else {
        return Ok(None);
    };
    if sort.fetch().is_some() || sort.preserve_partitioning() {
        return Ok(None);
    }
    // The sort's expressions are evaluated over the new rows: columns, by position.
    let by_column = sort.expr().iter().all(|e| {
        e.expr
            .downcast_ref::<datafusion::physical_expr::expressions::Column>()
            .is_some()
    });
    if !by_column {
        return Ok(None);
    }
    // Converted where the rows are still in parallel partitions, if they are.
    let merged = sort.input().downcast_ref::<CoalescePartitionsExec>();
    let input = match merged {
        Some(m) if m.fetch().is_none() => m.input().clone(),
        _ => sort.input().clone(),
    };
    let schema = Arc::new(Schema::new(
        input
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_data_type(sorted_type(f)))
            .collect::<Vec<_>>(),
    ));
    let n = input.properties().partitioning.partition_count();
    let parts: Vec<Arc<dyn PartitionStream>> = (0..n)
        .map(|partition| {
            Arc::new(Compact {
                input: input.clone(),
                schema: schema.clone(),
                partition,
            }) as Arc<dyn PartitionStream>
        })
        .collect();
    let mut rows: Arc<dyn ExecutionPlan> = Arc::new(StreamingTableExec::try_new(
        schema,
        parts,
        None,
        [],
        false,
        None,
    )?);
    if n > 1 {
        rows = Arc::new(CoalescePartitionsExec::new(rows));
    }
    let out = rows.schema();
    let sorted = Sorted {
        rows,
        order: sort.expr().clone(),
        schema: out.clone(),
    };
    Ok(Some(Arc::new(StreamingTableExec::try_new(
        out,
        vec![Arc::new(sorted) as Arc<dyn PartitionStream>],
        None,
        [],
        false,
        None,
    )?)))
}

/// An external sort of [`Compact`] runs, with output batches of [`SORTED_ROWS`]. Unlike
/// DataFusion's sort, it counts a run's dictionaries once (its output batches share them),
/// so its share of memory ([`SORT_SHARE`]) holds what it says.
struct Sorted {
    rows: Arc<dyn ExecutionPlan>,
    order: LexOrdering,
    schema: SchemaRef,
}

impl fmt::Debug for Sorted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sorted").finish_non_exhaustive()
    }
}

impl PartitionStream for Sorted {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (rows, order, schema) = (self.rows.clone(), self.order.clone(), self.schema.clone());
        let sorted = futures::stream::once(async move { sorted(rows, order, schema, ctx).await })
            .try_flatten();
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), sorted))
    }
}

/// Sorts each run of `rows` as it comes, keeps the sorted runs while they fit the sort's
/// share of the memory limit (and the pool grants them) and spills the others, then
/// merges them all (in several passes if there are more spilled runs than one merge may
/// read at once).
async fn sorted(
    rows: Arc<dyn ExecutionPlan>,
    order: LexOrdering,
    schema: SchemaRef,
    ctx: Arc<TaskContext>,
) -> DfResult<SendableRecordBatchStream> {
    let runtime = ctx.runtime_env();
    let share = match runtime.memory_pool.memory_limit() {
        MemoryLimit::Finite(n) => n / SORT_SHARE,
        _ => usize::MAX,
    };
    let metrics = ExecutionPlanMetricsSet::new();
    let spill = SpillManager::new(
        runtime.clone(),
        SpillMetrics::new(&metrics, 0),
        schema.clone(),
    );
    let held = MemoryConsumer::new("scan sort").register(&runtime.memory_pool);
    let mut runs: Vec<Vec<RecordBatch>> = Vec::new();
    let mut spilled = Vec::new();
    let mut input = rows.execute(0, ctx.clone())?;
    while let Some(run) = input.next().await {
        let run = run?;
        // Sorted into batches of their own (a run's dictionaries still shared), so that
        // the merge frees each as it reads it: slices of one sorted batch would all keep
        // it until the last was read, as the next sort fills.
        let bytes = run.get_array_memory_size();
        let chunks = sort_batch_chunked(&run, &order, SORTED_ROWS)?;
        drop(run);
        if held.size() + bytes <= share && held.try_grow(bytes).is_ok() {
            runs.push(chunks);
            continue;
        }
        let largest = chunks
            .iter()
            .map(get_record_batch_memory_size)
            .max()
            .unwrap_or(0);
        if let Some(file) = spill.spill_record_batch_and_finish(&chunks, "a scan's sorted run")? {
            spilled.push(SortedSpillFile {
                file,
                max_record_batch_memory: largest,
            });
        }
    }
    drop(input);
    if runs.is_empty() && spilled.is_empty() {
        return Ok(Box::pin(EmptyRecordBatchStream::new(schema)));
    }
    let streams = runs
        .into_iter()
        .map(|chunks| {
            Box::pin(RecordBatchStreamAdapter::new(
                schema.clone(),
                futures::stream::iter(chunks.into_iter().map(Ok)),
            )) as SendableRecordBatchStream
        })
        .collect();
    let merged = StreamingMergeBuilder::new()
        .with_streams(streams)
        .with_sorted_spill_files(spilled)
        .with_spill_manager(spill)
        .with_schema(schema.clone())
        .with_expressions(&order)
        .with_metrics(BaselineMetrics::new(&metrics, 0))
        .with_batch_size(SORTED_ROWS)
        .with_reservation(held.new_empty())
        .build()?;
    // The runs held in memory are counted until the merge has read them all.
    Ok(Box::pin(RecordBatchStreamAdapter::new(
        schema,
        merged.inspect(move |_| {
            let _ = &held;
        }),
    )))
}

/// A partition stream that could not start: its one item is the error.
pub(super) fn failed(
    schema: SchemaRef,
    e: datafusion::error::DataFusionError,
) -> SendableRecordBatchStream {
    Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::once(async move { Err(e) }),
    ))
}

/// One partition of a plan, compact and in runs.
struct Compact {
    input: Arc<dyn ExecutionPlan>,
    schema: SchemaRef,
    partition: usize,
}

impl fmt::Debug for Compact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compact")
            .field("partition", &self.partition)
            .finish_non_exhaustive()
    }
}

impl PartitionStream for Compact {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let schema = self.schema.clone();
        let ctx_limit = ctx.memory_pool().memory_limit();
        let input = match self.input.execute(self.partition, ctx) {
            Ok(s) => s,
            Err(e) => return failed(schema, e),
        };
        let from = input.schema();
        let to = schema.clone();
        let run_bytes = match ctx_limit {
            MemoryLimit::Finite(n) => n / RUN_SHARE,
            _ => 4 << 20,
        };
        // How many rows make a run: a sorted batch's worth at first, then what the last
        // run's bytes per row say fits the share. A batch that does not fit is cut, and its
        // rest begins the next run.
        let runs = futures::stream::unfold(
            (input, None::<RecordBatch>, SORTED_ROWS, false),
            move |(mut input, mut rest, target, done)| {
                let (from, to) = (from.clone(), to.clone());
                async move {
                    if done {
                        return None;
                    }
                    let mut pending = Vec::new();
                    let mut rows = 0;
                    let mut ended = false;
                    while rows < target {
                        let b = match rest.take() {
                            Some(b) => b,
                            None => match input.next().await {
                                Some(Ok(b)) => b,
                                Some(Err(e)) => return Some((Err(e), (input, None, target, true))),
                                None => {
                                    ended = true;
                                    break;
                                }
                            },
                        };
                        let take = b.num_rows().min(target - rows);
                        if take < b.num_rows() {
                            rest = Some(b.slice(take, b.num_rows() - take));
                        }
                        if take > 0 {
                            pending.push(b.slice(0, take));
                        }
                        rows += take;
                    }
                    if pending.is_empty() {
                        return None;
                    }
                    let run = run(&from, &to, pending);
                    let target = match &run {
                        Ok(b) => {
                            let per_row = (b.get_array_memory_size() / rows.max(1)).max(1);
                            (run_bytes / per_row).clamp(SORTED_ROWS, RUN_ROWS)
                        }
                        Err(_) => target,
                    };
                    Some((run, (input, rest, target, ended)))
                }
            },
        );
        Box::pin(RecordBatchStreamAdapter::new(schema, runs))
    }
}

/// `batches` (of schema `from`) as one batch of `to`'s types. They are put together
/// before they are made compact: each string column becomes one dictionary of the run's
/// distinct values (put together after, the dictionaries of its batches would all be kept,
/// and counted more than once). A lone batch may be cut from a larger one: its columns
/// that keep their type are copied, or they would keep (and count) the whole batch's
/// buffers; put together, they are already copies.
fn run(from: &SchemaRef, to: &SchemaRef, batches: Vec<RecordBatch>) -> DfResult<RecordBatch> {
    Ok(match <[RecordBatch; 1]>::try_from(batches) {
        Ok([b]) => {
            let all = UInt32Array::from_iter_values(0..b.num_rows() as u32);
            crate::engine::cast_columns(&b, to, |c| take(c, &all, None))?
        }
        Err(batches) => {
            crate::engine::cast_columns(&concat_batches(from, &batches)?, to, |c| Ok(c.clone()))?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Array, Int64Array, StringViewArray};
    use datafusion::arrow::compute::cast;
    use datafusion::datasource::memory::MemorySourceConfig;
    use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
    use datafusion::execution::memory_pool::FairSpillPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::physical_expr::expressions::col;
    use datafusion::physical_expr::{LexOrdering, PhysicalSortExpr};
    use datafusion::prelude::{SessionConfig, SessionContext};

    /// Rows as text, for comparing plans whose string types differ.
    fn text(batches: &[RecordBatch]) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for b in batches {
            let columns: Vec<_> = b
                .columns()
                .iter()
                .map(|c| cast(c, &DataType::Utf8).unwrap())
                .collect();
            for i in 0..b.num_rows() {
                rows.push(
                    columns
                        .iter()
                        .map(|c| {
                            let c = c
                                .as_any()
                                .downcast_ref::<datafusion::arrow::array::StringArray>();
                            let c = c.unwrap();
                            if c.is_null(i) {
                                "NULL".into()
                            } else {
                                c.value(i).to_string()
                            }
                        })
                        .collect(),
                );
            }
        }
        rows
    }

    #[tokio::test]
    async fn compact_sort_gives_the_same_rows_in_small_batches() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("source_object", DataType::Utf8View, true),
            Field::new("srcaddr", DataType::Utf8View, true),
            Field::new("n", DataType::Int64, false),
        ]));
        // Two partitions of a few batches: objects repeat, addresses do not.
        let partition = |p: i64| -> Vec<RecordBatch> {
            (0..3)
                .map(|b| {
                    let ids: Vec<i64> = (0..1500).map(|i| (p * 3 + b) * 1500 + i).collect();
                    RecordBatch::try_new(
                        schema.clone(),
                        vec![
                            Arc::new(StringViewArray::from_iter(ids.iter().map(|i| {
                                (i % 7 != 3).then(|| {
                                    format!("AWSLogs/111122223333/object-{}.log.gz", i % 5)
                                })
                            }))),
                            Arc::new(StringViewArray::from_iter_values(ids.iter().map(|i| {
                                format!("10.{}.{}.{}", i % 3, (i / 256) % 256, i % 256)
                            }))),
                            Arc::new(Int64Array::from(ids.clone())),
                        ],
                    )
                    .unwrap()
                })
                .collect()
        };
        let input =
            MemorySourceConfig::try_new_exec(&[partition(0), partition(1)], schema.clone(), None)
                .unwrap();
        let order = LexOrdering::new(
            ["source_object", "srcaddr", "n"]
                .into_iter()
                .map(|c| PhysicalSortExpr::new_default(col(c, &schema).unwrap())),
        )
        .unwrap();
        let sort: Arc<dyn ExecutionPlan> = Arc::new(SortExec::new(
            order,
            Arc::new(CoalescePartitionsExec::new(input)),
        ));
        let ctx = SessionContext::new();
        let plain = datafusion::physical_plan::collect(sort.clone(), ctx.task_ctx())
            .await
            .unwrap();
        let compact = compact(&sort)
            .unwrap()
            .expect("a sort of columns is compacted");
        let out = datafusion::physical_plan::collect(compact, ctx.task_ctx())
            .await
            .unwrap();

        assert_eq!(text(&out), text(&plain));
        assert_eq!(text(&out).len(), 9000);
        let types: Vec<_> = out[0]
            .schema()
            .fields()
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        assert_eq!(
            types,
            [
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)),
                DataType::Utf8,
                DataType::Int64
            ]
        );
        assert!(out.iter().all(|b| b.num_rows() <= SORTED_ROWS));

        // Past its share of a small limit, the sort writes its runs to disk and merges them
        // from there: the same rows in the same order. Without a disk it cannot.
        let limited = |disk: DiskManagerMode| {
            let runtime = RuntimeEnvBuilder::new()
                .with_memory_pool(Arc::new(FairSpillPool::new(4 << 20)))
                .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(disk))
                .build_arc()
                .unwrap();
            SessionContext::new_with_config_rt(SessionConfig::new(), runtime).task_ctx()
        };
        let spilled = datafusion::physical_plan::collect(
            super::compact(&sort).unwrap().unwrap(),
            limited(DiskManagerMode::OsTmpDirectory),
        )
        .await
        .unwrap();
        assert_eq!(text(&spilled), text(&plain));
        let no_disk = datafusion::physical_plan::collect(
            super::compact(&sort).unwrap().unwrap(),
            limited(DiskManagerMode::Disabled),
        )
        .await;
        assert!(no_disk.is_err(), "a sort past its share spills");
    }

    #[test]
    fn a_sort_of_expressions_is_left_alone() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)]));
        let input = MemorySourceConfig::try_new_exec(&[vec![]], schema.clone(), None).unwrap();
        let negated =
            datafusion::physical_expr::expressions::negative(col("n", &schema).unwrap(), &schema)
                .unwrap();
        let order = LexOrdering::new([PhysicalSortExpr::new_default(negated)]).unwrap();
        let sort: Arc<dyn ExecutionPlan> = Arc::new(SortExec::new(order, input));
        assert!(compact(&sort).unwrap().is_none());
    }
}
