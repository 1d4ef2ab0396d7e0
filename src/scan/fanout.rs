//! One read of `flows` for every rule of a scan.
//!
//! A scan runs a dozen plans over the same records. Reading the sources once per plan
//! would decode every gzip object a dozen times, and a full temporary copy costs a write
//! and a read of every record, SageMaker's or not. Instead `flows` is replaced, for the
//! scan, by [`SharedFlows`]: planning a rule registers what its scans of `flows` read
//! (columns and filters, each `Exact`), and once every plan is made, [`SharedFlows::start`]
//! reads the sources once with the union of those columns and hands each plan only its
//! rows and columns.
//!
//! Every plan's queue is bounded (a few batches): a plan that reads slower than the decoder
//! holds the read back. A plan may also not read one of its inputs until another is done
//! (a hash join's probe side waits for its build side, which may be `flows` too); waiting
//! for it would never end, so batches for a queue its plan has not started reading, or has
//! stopped reading for a while, go to an Arrow IPC file in the scan's scratch folder and
//! are read back when it asks. Memory stays at a few batches per plan and partition;
//! results do not depend on timing, only the spilled bytes do.

use std::collections::VecDeque;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::arrow::ipc::writer::FileWriter;
use datafusion::catalog::Session;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, Result as DfResult};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use tokio::sync::Notify;

use crate::error::{Error, Result};

/// A queue is full at this many batches, or bytes, whichever comes first.
const QUEUE_BATCHES: usize = 2;
const QUEUE_BYTES: usize = 4 << 20;
/// How long the read waits on a full queue whose plan has stopped reading before it
/// spills to disk instead (the plan may be waiting for another input of its own).
const STALL: Duration = Duration::from_millis(50);
/// Batches per spill file: a plan that asks for data gets the open file closed and handed
/// over, so files stay small.
const SPILL_BATCHES: usize = 64;

/// `flows` for a scan: every scan of it becomes a consumer of one shared read.
pub struct SharedFlows {
    inner: Arc<dyn TableProvider>,
    spill_dir: PathBuf,
    shared: Arc<Mutex<Consumers>>,
}

impl fmt::Debug for SharedFlows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedFlows").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Consumers {
    list: Vec<Consumer>,
    started: bool,
}

/// What one scan of `flows` in one plan reads.
struct Consumer {
    /// Columns of `flows`, by index.
    projection: Vec<usize>,
    /// Their conjunction selects the rows (column names unqualified).
    filters: Vec<Expr>,
    /// One per output partition; gone once the plan is dropped.
    queues: Vec<Weak<Queue>>,
}

/// The running read: await [`Reader::finish`] for its outcome.
pub struct Reader {
    tasks: Vec<tokio::task::JoinHandle<()>>,
    consumers: usize,
    failure: Arc<Mutex<Option<Error>>>,
    /// Rows the read handed out: on workers, only those some plan's filters keep.
    arrived: Arc<AtomicUsize>,
    /// The read's plan: on workers (`--workers`), its counts come back with it.
    plan: Arc<dyn ExecutionPlan>,
    cluster: Option<SessionContext>,
}

impl Reader {
    /// Waits until every record was read and handed out; the read's error, if any (the
    /// plans reading from it then fail with a note that points here). A read that ran on
    /// workers returns their counts, which are the run's.
    pub async fn finish(self) -> Result<Option<crate::engine::counters::Counted>> {
        for t in self.tasks {
            t.await
                .map_err(|e| Error::Usage(format!("reading the flows failed: {e}")))?;
        }
        tracing::info!(
            "one read of flows fed {} scans of it in the rules; {} rows arrived; {} batches waited on disk",
            self.consumers,
            self.arrived.load(Ordering::Relaxed),
            SPILLED.load(Ordering::Relaxed)
        );
        let failed = lock(&self.failure).take();
        if let Some(e) = failed {
            #[cfg(feature = "distributed")]
            if let Some(c) = &self.cluster {
                let state = c.state();
                let plan = &self.plan;
                return Err(crate::engine::distributed::failure(plan, state.config(), e).await);
            }
            return Err(e);
        }
        #[cfg(feature = "distributed")]
        return crate::engine::distributed::gather(&self.plan).await;
        #[cfg(not(feature = "distributed"))]
        {
            let _ = (&self.plan, &self.cluster);
            Ok(None)
        }
    }
}

impl SharedFlows {
    /// Replaces `flows` in `ctx` with a shared read of it; spill files go to `spill_dir`.
    pub async fn install(ctx: &SessionContext, spill_dir: PathBuf) -> Result<Arc<SharedFlows>> {
        let inner = ctx
            .table_provider("flows")
            .await
            .map_err(Error::from_datafusion)?;
        let shared = Arc::new(SharedFlows {
            inner,
            spill_dir,
            shared: Arc::default(),
        });
        ctx.deregister_table("flows")
            .map_err(Error::from_datafusion)?;
        ctx.register_table("flows", shared.clone())
            .map_err(Error::from_datafusion)?;
        Ok(shared)
    }

    /// Starts the one read, for every scan planned so far (none may be planned after).
    /// `None` when no plan reads `flows`.
    ///
    /// With `cluster` (`--workers`), the read runs there: the workers decode and enrich
    /// their shares of the objects and stream the rows here, where the rules run.
    pub async fn start(
        &self,
        ctx: &SessionContext,
        cluster: Option<&SessionContext>,
    ) -> Result<Option<Reader>> {
        let mut consumers = {
            let mut c = lock(&self.shared);
            c.started = true;
            std::mem::take(&mut c.list)
        };
        if consumers.is_empty() {
            return Ok(None);
        }
        let width = self.inner.schema().fields().len();
        let mut union: Vec<usize> = Vec::new();
        for c in &consumers {
            union.extend(&c.projection);
            for f in &c.filters {
                for col in f.column_refs() {
                    if let Ok(i) = self.inner.schema().index_of(&col.name) {
                        union.push(i);
                    }
                }
            }
        }
        union.sort_unstable();
        union.dedup();
        union.retain(|&i| i < width);
        // Each plan's rows: the conjunction of its filters (none: every row).
        let selects: Vec<Option<Expr>> = consumers
            .iter()
            .map(|c| c.filters.iter().cloned().reduce(Expr::and))
            .collect();
        // Records that no plan keeps: on workers they stay there (shipping every record to
        // the coordinator, to be dropped there by each plan's filters, cost more than
        // reading it); here the table drops other owners' records before enriching them.
        // A plan without filters reads every record.
        let kept = selects
            .iter()
            .cloned()
            .collect::<Option<Vec<Expr>>>()
            .and_then(|each| each.into_iter().reduce(Expr::or));
        let plan = match cluster {
            // Planned as a query of its own, so that the distributed planner cuts it into
            // the workers' stages (the rules' plans, here, read its rows).
            Some(cluster) => {
                let source = datafusion::datasource::provider_as_source(self.inner.clone());
                let mut read = datafusion::logical_expr::LogicalPlanBuilder::scan(
                    "flows",
                    source,
                    Some(union.clone()),
                )
                .map_err(Error::from_datafusion)?;
                if let Some(kept) = kept {
                    read = read.filter(kept).map_err(Error::from_datafusion)?;
                }
                let read = read.build().map_err(Error::from_datafusion)?;
                cluster
                    .state()
                    .create_physical_plan(&read)
                    .await
                    .map_err(Error::from_datafusion)?
            }
            // Each plan applies its own filters to what it is handed: `kept` may be
            // applied in part, or not at all.
            None => self
                .inner
                .scan(&ctx.state(), Some(&union), kept.as_slice(), None)
                .await
                .map_err(Error::from_datafusion)?,
        };
        let state = ctx.state();
        let schema = plan.schema();
        let df_schema =
            DFSchema::try_from(schema.as_ref().clone()).map_err(Error::from_datafusion)?;
        let mut routes = Vec::new();
        for (c, select) in consumers.iter_mut().zip(selects) {
            let position = |i: &usize| union.binary_search(i).expect("in the union");
            let columns: Vec<usize> = c.projection.iter().map(position).collect();
            let filter = match select {
                Some(e) => Some(
                    state
                        .create_physical_expr(e, &df_schema)
                        .map_err(Error::from_datafusion)?,
                ),
                None => None,
            };
            routes.push(Route {
                columns,
                filter,
                queues: std::mem::take(&mut c.queues),
            });
        }
        let partitions = plan.properties().partitioning.partition_count();
        let routes = Arc::new(routes);
        // Each queue learns how many partitions of the read feed it, to know its end.
        for r in routes.iter() {
            let width = r.queues.len().max(1);
            for (q, queue) in r.queues.iter().enumerate() {
                if let Some(queue) = queue.upgrade() {
                    let feeders = (0..partitions).filter(|p| p % width == q).count();
                    queue.expect(feeders);
                }
            }
        }
        let failure: Arc<Mutex<Option<Error>>> = Arc::default();
        let arrived: Arc<AtomicUsize> = Arc::default();
        // A distributed plan runs with its session's settings (workers, codecs).
        let task_ctx = cluster.unwrap_or(ctx).task_ctx();
        let mut tasks = Vec::new();
        for p in 0..partitions {
            let stream = plan
                .execute(p, task_ctx.clone())
                .map_err(Error::from_datafusion)?;
            let routes = routes.clone();
            let failure = failure.clone();
            let arrived = arrived.clone();
            tasks.push(tokio::spawn(async move {
                feed(p, stream, &routes, &failure, &arrived).await;
                for r in routes.iter() {
                    let width = r.queues.len().max(1);
                    if let Some(q) = r.queues.get(p % width).and_then(Weak::upgrade) {
                        q.producer_done();
                    }
                }
            }));
        }
        Ok(Some(Reader {
            tasks,
            consumers: consumers.len(),
            failure,
            arrived,
            plan,
            cluster: cluster.cloned(),
        }))
    }
}

/// Where one consumer's rows go from a batch of the read.
struct Route {
    /// Positions in the read's batch.
    columns: Vec<usize>,
    filter: Option<Arc<dyn PhysicalExpr>>,
    queues: Vec<Weak<Queue>>,
}

impl Route {
    fn select(&self, batch: &RecordBatch) -> DfResult<Option<RecordBatch>> {
        let projected = batch.project(&self.columns)?;
        let out = match &self.filter {
            None => projected,
            Some(f) => {
                let mask = f.evaluate(batch)?.into_array(batch.num_rows())?;
                let mask = datafusion::arrow::array::AsArray::as_boolean_opt(&mask)
                    .ok_or_else(|| {
                        DataFusionError::Internal("a filter of flows is not boolean".into())
                    })?
                    .clone();
                // The few rows a rule keeps would otherwise hold the string buffers of the
                // whole batch for as long as its sort or aggregation does: every batch of
                // the read, in the end.
                crate::engine::table::compact(
                    filter_record_batch(&projected, &mask)?,
                    batch.num_rows(),
                )
                .map_err(DataFusionError::from)?
            }
        };
        Ok((out.num_rows() > 0).then_some(out))
    }
}

/// Reads partition `p` of the read and hands its batches out; on an error, every plan
/// is told, and the error kept for [`Reader::finish`].
async fn feed(
    p: usize,
    mut stream: SendableRecordBatchStream,
    routes: &[Route],
    failure: &Mutex<Option<Error>>,
    arrived: &AtomicUsize,
) {
    let fail = |message: String| {
        for r in routes {
            for q in r.queues.iter().filter_map(Weak::upgrade) {
                q.fail(&message);
            }
        }
    };
    while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                let e = Error::from_datafusion(e);
                fail(e.to_string());
                lock(failure).get_or_insert(e);
                return;
            }
        };
        arrived.fetch_add(batch.num_rows(), Ordering::Relaxed);
        for r in routes {
            let width = r.queues.len().max(1);
            let Some(queue) = r.queues.get(p % width).and_then(Weak::upgrade) else {
                continue;
            };
            let result = match r.select(&batch) {
                Ok(Some(b)) => queue.push(b).await,
                Ok(None) => Ok(()),
                Err(e) => Err(Error::from_datafusion(e)),
            };
            if let Err(e) = result {
                fail(e.to_string());
                lock(failure).get_or_insert(e);
                return;
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Column references without the table's name or alias: the read's schema has none.
fn unqualified(e: &Expr) -> DfResult<Expr> {
    e.clone()
        .transform(|e| {
            Ok(match e {
                Expr::Column(c) => Transformed::yes(Expr::Column(Column::new_unqualified(c.name))),
                other => Transformed::no(other),
            })
        })
        .map(|t| t.data)
}

#[async_trait]
impl TableProvider for SharedFlows {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Applied when rows are handed out, so each plan's queue holds only its rows.
        Ok(vec![TableProviderFilterPushDown::Exact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let all = self.inner.schema();
        let projection: Vec<usize> = projection
            .cloned()
            .unwrap_or_else(|| (0..all.fields().len()).collect());
        let schema = Arc::new(all.project(&projection)?);
        let filters = filters
            .iter()
            .map(unqualified)
            .collect::<DfResult<Vec<_>>>()?;
        let partitions = state.config().target_partitions().max(1);
        let queues: Vec<Arc<Queue>> = (0..partitions)
            .map(|_| Arc::new(Queue::new(self.spill_dir.clone())))
            .collect();
        {
            let mut c = lock(&self.shared);
            if c.started {
                return Err(DataFusionError::Plan(
                    "flows is read once per scan, and that read has begun: plan every statement first".into(),
                ));
            }
            c.list.push(Consumer {
                projection,
                filters,
                queues: queues.iter().map(Arc::downgrade).collect(),
            });
        }
        Ok(Arc::new(SharedExec::new(schema, queues)))
    }
}

/// One plan's scan of `flows`: its partitions read their queues.
struct SharedExec {
    schema: SchemaRef,
    queues: Vec<Arc<Queue>>,
    properties: Arc<PlanProperties>,
}

impl fmt::Debug for SharedExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedExec")
            .field("partitions", &self.queues.len())
            .finish()
    }
}

impl SharedExec {
    fn new(schema: SchemaRef, queues: Vec<Arc<Queue>>) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(queues.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        SharedExec {
            schema,
            queues,
            properties,
        }
    }
}

impl DisplayAs for SharedExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "SharedExec: partitions={}, projection=[{}]",
            self.queues.len(),
            self.schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

impl ExecutionPlan for SharedExec {
    fn name(&self) -> &str {
        "SharedExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    crate::engine::leaf_plan!();

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let queue = self
            .queues
            .get(partition)
            .cloned()
            .ok_or_else(|| DataFusionError::Internal(format!("no partition {partition}")))?;
        // A second reader would get what the first left, and both would look complete.
        if queue.taken.swap(true, Ordering::Relaxed) {
            return Err(DataFusionError::NotImplemented(
                "this rule reads flows over and over (a recursive query?), but a scan reads the sources once: run it with `sageflow query`".into(),
            ));
        }
        let stream = futures::stream::unfold(
            (queue, None::<FileReader<std::io::BufReader<std::fs::File>>>),
            |(queue, mut reader)| async move {
                let next = queue.next(&mut reader).await;
                next.map(|b| (b, (queue, reader)))
            },
        );
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            stream,
        )))
    }
}

/// Batches for one partition of one plan's scan.
struct Queue {
    state: Mutex<QueueState>,
    /// The plan waits here for data.
    data: Notify,
    /// The read waits here for room.
    room: Notify,
    spill_dir: PathBuf,
    /// A stream reads it: there can be one.
    taken: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct QueueState {
    batches: VecDeque<RecordBatch>,
    bytes: usize,
    /// Being written; handed over (closed) when the plan asks and memory is empty.
    open: Option<Spill>,
    closed: VecDeque<PathBuf>,
    /// The plan has asked for data at least once: it is reading.
    reading: bool,
    /// The plan stopped reading for longer than [`STALL`]: spill until it reads again.
    stalled: bool,
    /// Partitions of the read still feeding this queue (`None` before the read starts).
    feeders: Option<usize>,
    failed: Option<String>,
}

struct Spill {
    writer: FileWriter<std::io::BufWriter<std::fs::File>>,
    path: PathBuf,
    batches: usize,
}

/// Spill files made, and batches written to them, by this process.
static SPILL_FILES: AtomicUsize = AtomicUsize::new(0);
static SPILLED: AtomicUsize = AtomicUsize::new(0);

impl Queue {
    fn new(spill_dir: PathBuf) -> Self {
        Queue {
            state: Mutex::default(),
            data: Notify::new(),
            room: Notify::new(),
            spill_dir,
            taken: Default::default(),
        }
    }

    fn expect(&self, feeders: usize) {
        lock(&self.state).feeders = Some(feeders);
        self.data.notify_one();
    }

    fn producer_done(&self) {
        {
            let mut s = lock(&self.state);
            if let Some(n) = s.feeders.as_mut() {
                *n = n.saturating_sub(1);
            }
        }
        self.data.notify_one();
    }

    fn fail(&self, message: &str) {
        lock(&self.state)
            .failed
            .get_or_insert_with(|| message.to_string());
        self.data.notify_one();
    }

    /// Adds a batch: to memory when there is room, else after waiting a little for the
    /// plan to make room, else to a spill file.
    async fn push(&self, batch: RecordBatch) -> Result<()> {
        loop {
            let wait = {
                let mut s = lock(&self.state);
                let full = s.batches.len() >= QUEUE_BATCHES || s.bytes >= QUEUE_BYTES;
                if !full {
                    s.bytes += batch.get_array_memory_size();
                    s.batches.push_back(batch);
                    drop(s);
                    self.data.notify_one();
                    return Ok(());
                }
                if !s.reading || s.stalled {
                    self.spill(&mut s, &batch)?;
                    drop(s);
                    self.data.notify_one();
                    return Ok(());
                }
                self.room.notified()
            };
            if tokio::time::timeout(STALL, wait).await.is_err() {
                lock(&self.state).stalled = true;
            }
        }
    }

    fn spill(&self, s: &mut QueueState, batch: &RecordBatch) -> Result<()> {
        if s.open.is_none() {
            let path = self.spill_dir.join(format!(
                "shared-{}.arrow",
                SPILL_FILES.fetch_add(1, Ordering::Relaxed)
            ));
            tracing::debug!(
                "a plan is not reading its queue: batches go to {}",
                path.display()
            );
            let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
            let writer = FileWriter::try_new(std::io::BufWriter::new(file), &batch.schema())?;
            s.open = Some(Spill {
                writer,
                path,
                batches: 0,
            });
        }
        let open = s.open.as_mut().expect("opened above");
        open.writer.write(batch)?;
        open.batches += 1;
        SPILLED.fetch_add(1, Ordering::Relaxed);
        if open.batches >= SPILL_BATCHES {
            Self::close(s)?;
        }
        Ok(())
    }

    fn close(s: &mut QueueState) -> Result<()> {
        if let Some(mut open) = s.open.take() {
            open.writer.finish()?;
            s.closed.push_back(open.path);
        }
        Ok(())
    }

    /// The next batch for the plan: from the spill file being read, memory, closed spill
    /// files, then the open one; `None` at the end.
    async fn next(
        &self,
        reader: &mut Option<FileReader<std::io::BufReader<std::fs::File>>>,
    ) -> Option<DfResult<RecordBatch>> {
        loop {
            if let Some(r) = reader {
                match r.next() {
                    Some(b) => return Some(b.map_err(DataFusionError::from)),
                    None => *reader = None,
                }
            }
            let path = {
                let mut s = lock(&self.state);
                s.reading = true;
                if let Some(b) = s.batches.pop_front() {
                    s.bytes -= b.get_array_memory_size();
                    s.stalled = false;
                    drop(s);
                    self.room.notify_one();
                    return Some(Ok(b));
                }
                if s.closed.is_empty()
                    && let Err(e) = Self::close(&mut s)
                {
                    return Some(Err(e.into()));
                }
                match s.closed.pop_front() {
                    Some(p) => Some(p),
                    None => {
                        if let Some(m) = s.failed.take() {
                            s.feeders = Some(0);
                            return Some(Err(DataFusionError::Execution(format!(
                                "reading the flows failed: {m}"
                            ))));
                        }
                        if s.feeders == Some(0) {
                            return None;
                        }
                        None
                    }
                }
            };
            match path {
                Some(p) => {
                    let opened = std::fs::File::open(&p)
                        .map_err(|e| Error::io(&p, e).into())
                        .and_then(|f| {
                            FileReader::try_new(std::io::BufReader::new(f), None)
                                .map_err(DataFusionError::from)
                        });
                    // Unlinked now: the open reader keeps it until it is dropped.
                    let _ = std::fs::remove_file(&p);
                    match opened {
                        Ok(r) => *reader = Some(r),
                        Err(e) => return Some(Err(e)),
                    }
                }
                None => self.data.notified().await,
            }
        }
    }
}
