//! The `flows` table: a DataFusion [`TableProvider`] over flow-log objects that decodes
//! only the projected columns, prunes objects by time filters, and reads objects in
//! parallel partitions through bounded channels (memory stays at a few batches per
//! partition, whatever the input size).

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::Session;
use datafusion::common::{Result as DfResult, ScalarValue};
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_expr::EquivalenceProperties;
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchReceiverStream;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch, RecordBatchOptions};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::Schema;

use crate::decode::filter::{Predicate, Test};
use crate::decode::{DecodeOptions, RejectSink, ScanStats, TimeWindow};
use crate::enrich::Enricher;
use crate::format::{ColumnSource, FlowSchema, Layout};
use crate::source::SourceObject;
use crate::source::read::read_object;

/// Settings of a scan that come from the command line.
#[derive(Debug, Clone)]
pub struct ScanConfig {
    pub log_format: Option<Layout>,
    /// Record formats by flow-log id, from the inventory's `describe-flow-logs` (a
    /// CloudWatch group's key: each format written to it; see `DecodeOptions`).
    pub flow_log_formats: Arc<std::collections::HashMap<String, Vec<Layout>>>,
    /// `--since`/`--until`: prunes objects and drops rows outside it.
    pub window: TimeWindow,
    pub batch_size: usize,
    pub rejects: Arc<RejectSink>,
    pub stats: Arc<ScanStats>,
    pub enricher: Arc<Enricher>,
    /// Clients for remote objects.
    pub remote: Option<crate::source::Remote>,
    /// Objects read at once from remote stores (`--concurrency`).
    pub concurrency: usize,
    /// Bytes of the operators' memory pool (`--memory-limit`).
    pub memory_limit: usize,
    /// `--allow-unknown-fields`: header lines may name fields the catalogue does not know.
    pub allow_unknown_fields: bool,
    /// No `--inventory` was given: sageflow exports among the sources keep the enrichment
    /// they were written with, instead of one recomputed from nothing.
    pub exported_enrichment: bool,
    /// A worker's read of a distributed run: an object found damaged fails the read,
    /// because the coordinator, which ends a run with such errors, never sees this run's
    /// counters until the read is over.
    pub damage_is_error: bool,
    /// `--profile`, `--region`, `--endpoint-url`: what the workers of a distributed run
    /// reach the same objects with (their credentials are their own).
    pub aws: crate::aws::AwsOptions,
}

/// The `flows` table.
#[derive(Debug)]
pub struct FlowsTable {
    schema: FlowSchema,
    objects: Arc<Vec<SourceObject>>,
    config: ScanConfig,
}

impl FlowsTable {
    pub fn new(schema: FlowSchema, objects: Vec<SourceObject>, config: ScanConfig) -> Self {
        FlowsTable {
            schema,
            objects: Arc::new(objects),
            config,
        }
    }

    pub fn flow_schema(&self) -> &FlowSchema {
        &self.schema
    }

    /// The decoders' form of a filter this table answers `Exact` for; `scan` gets the same
    /// filters back and must apply exactly those. Time filters only prune (`Inexact`).
    /// Without an inventory, tests of enrichment columns are exact too: an export's are
    /// applied as it is read, other objects' once they are enriched.
    fn exact_filter(&self, f: &Expr) -> Option<Predicate> {
        if time_bound(f).is_some() {
            return None;
        }
        super::pushdown::compile(f, &self.schema, self.config.exported_enrichment)
    }

    /// The owner kinds every record `f` keeps has, when it names them and the enrichment
    /// is computed here (an export read without `--inventory` brings its own).
    fn owners(&self, f: &Expr) -> Option<Vec<String>> {
        if self.config.exported_enrichment {
            return None;
        }
        super::owners::kinds(f, &self.config.enricher)
    }
}

#[async_trait]
impl TableProvider for FlowsTable {
    fn schema(&self) -> SchemaRef {
        self.schema.arrow().clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        // Time filters prune whole objects; DataFusion still applies them to rows.
        Ok(filters
            .iter()
            .map(|f| {
                if time_bound(f).is_some() {
                    TableProviderFilterPushDown::Inexact
                } else if self.exact_filter(f).is_some() {
                    TableProviderFilterPushDown::Exact
                } else if self.owners(f).is_some() {
                    // Only prunes records before enrichment: DataFusion still applies it.
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        // A later statement of the run reads the objects again; its counts and rejects are
        // not the run's (the first statement's already are).
        let (stats, rejects) = if self.config.stats.is_settled() {
            (
                Arc::new(ScanStats::default()),
                Arc::new(self.config.rejects.rereading()),
            )
        } else {
            (self.config.stats.clone(), self.config.rejects.clone())
        };
        let projection: Vec<usize> = projection
            .cloned()
            .unwrap_or_else(|| (0..self.schema.arrow().fields().len()).collect());
        let batch_size = state.config().batch_size().min(self.config.batch_size);
        Ok(Arc::new(self.exec(
            projection,
            filters.to_vec(),
            batch_size,
            None,
            stats,
            rejects,
            Some(state.config().target_partitions()),
        )))
    }
}

impl FlowsTable {
    /// The read of `projection` under `filters`: [`TableProvider::scan`], and a worker's
    /// share of it in a distributed run (`partitions` then fixes the partition count, which
    /// every share of a distributed read must have).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn exec(
        &self,
        projection: Vec<usize>,
        filters: Vec<Expr>,
        batch_size: usize,
        partitions: Option<usize>,
        stats: Arc<ScanStats>,
        rejects: Arc<RejectSink>,
        target_partitions: Option<usize>,
    ) -> FlowsExec {
        let mut prune = self.config.window;
        for f in &filters {
            if let Some(w) = time_bound(f) {
                prune = prune.intersect(&w);
            }
        }
        let objects: Vec<SourceObject> = self
            .objects
            .iter()
            .filter(|o| match o.key.range {
                Some((lo, hi)) => prune.overlaps_range(lo, hi),
                None => true,
            })
            .cloned()
            .collect();
        let pruned = self.objects.len() - objects.len();
        ScanStats::add(&stats.objects_pruned, pruned as u64);
        ScanStats::add(&stats.objects_total, objects.len() as u64);

        let (on_enriched, on_fields): (Vec<Predicate>, Vec<Predicate>) = filters
            .iter()
            .filter_map(|f| self.exact_filter(f))
            .partition(|p| matches!(self.schema.sources()[p.column], ColumnSource::Enriched(_)));
        let (decode, mut post) = plan_enrichment(
            &self.schema,
            &projection,
            &on_enriched,
            &self.config.enricher,
        );
        if let Some(post) = post.as_mut() {
            // Filters hold together: the kinds of their conjunction.
            post.owners = filters
                .iter()
                .cloned()
                .reduce(Expr::and)
                .and_then(|all| self.owners(&all));
        }
        let options = |projection: Vec<usize>, filters: Vec<Predicate>| {
            let mut opts = DecodeOptions::new(
                self.schema.clone(),
                Some(projection),
                batch_size,
                Some(self.config.window),
                self.config.log_format.clone(),
                rejects.clone(),
            );
            opts.flow_log_formats = self.config.flow_log_formats.clone();
            opts.allow_unknown_fields = self.config.allow_unknown_fields;
            opts.prune = Some(prune).filter(|w| !w.is_open());
            opts.filters = filters;
            opts
        };
        let mut opts = options(decode, on_fields.clone());
        if let Some(kinds) = post.as_ref().and_then(|p| p.owners.as_ref()) {
            opts.skip_enis = self.config.enricher.enis_outside(kinds).map(Arc::new);
        }
        if let Some(post) = post.as_mut()
            && self.config.exported_enrichment
        {
            // An export's enrichment columns are tested as the file is read, where a
            // column only the filter reads is tested once per dictionary value.
            let all = on_fields.into_iter().chain(on_enriched).collect();
            let materialised = options(projection.clone(), all);
            post.exported = Some(materialised.output_schema.clone());
            opts.materialised = Some(Arc::new(materialised));
        }
        let opts = Arc::new(opts);
        let n = partitions.unwrap_or_else(|| {
            // Remote objects wait on the network: more of them in flight than cores.
            let lanes = if objects.iter().any(|o| o.s3.is_some()) {
                self.config.concurrency.max(1)
            } else {
                target_partitions.unwrap_or(1).max(1)
            };
            lanes.min(objects.len().max(1))
        });
        let origin = Arc::new(Origin {
            extra: self.schema.extra(),
            config: self.config.clone(),
            projection,
            filters,
            batch_size,
        });
        FlowsExec::new(
            objects,
            n,
            opts,
            post.map(Arc::new),
            stats,
            self.config.remote.clone(),
            origin,
        )
    }
}

/// What a [`FlowsExec`] was planned from: enough to plan the same read again elsewhere
/// (a worker of a distributed run, from the codec's message).
#[derive(Debug)]
pub struct Origin {
    /// The table's columns for fields the catalogue does not know.
    pub extra: Vec<String>,
    pub config: ScanConfig,
    pub projection: Vec<usize>,
    /// The filters the table was given (the exact ones are applied by the decoders).
    pub filters: Vec<Expr>,
    pub batch_size: usize,
}

impl Origin {
    /// The read of `objects` this origin describes, in `partitions` partitions, counting
    /// into `stats` and `rejects`.
    pub fn plan(
        &self,
        config: ScanConfig,
        objects: Vec<SourceObject>,
        partitions: usize,
    ) -> FlowsExec {
        let stats = config.stats.clone();
        let rejects = config.rejects.clone();
        let table = FlowsTable::new(FlowSchema::new(&self.extra), objects, config);
        table.exec(
            self.projection.clone(),
            self.filters.clone(),
            self.batch_size,
            Some(partitions),
            stats,
            rejects,
            None,
        )
    }
}

/// How a decoded batch becomes the projected output when enrichment columns are asked for.
#[derive(Debug)]
struct PostProcess {
    enricher: Arc<Enricher>,
    /// Per output column: a decoded column position, or a position in `wanted`.
    outputs: Vec<Result<usize, usize>>,
    schema: SchemaRef,
    /// The enrichment columns projected (indices in `enrich::COLUMNS`): only they are made.
    wanted: Vec<usize>,
    /// The owner kinds the query's filters keep (`None`: any): the other records are
    /// dropped before they are enriched.
    owners: Option<Vec<String>>,
    /// The table's exact filters on enrichment columns, each with its column's position in
    /// `wanted` (which holds the columns only a filter reads too).
    filters: Vec<(usize, Test)>,
    /// The schema of the batches a sageflow export's reader hands out with the enrichment
    /// it was written with, and its filters applied ([`DecodeOptions::materialised`]):
    /// these pass as they are. Compared by identity: a batch decoded from any other object
    /// may have the same fields (when every projected column is an enrichment input and
    /// only a filter reads an enrichment column).
    exported: Option<SchemaRef>,
}

impl PostProcess {
    fn apply(&self, batch: RecordBatch) -> crate::error::Result<RecordBatch> {
        if self
            .exported
            .as_ref()
            .is_some_and(|s| Arc::ptr_eq(s, &batch.schema()))
        {
            return Ok(batch);
        }
        let batch = match &self.owners {
            Some(kinds) => {
                let keep = self.enricher.owners_in(&batch, kinds)?;
                if keep.true_count() == batch.num_rows() {
                    batch
                } else {
                    compact(filter_record_batch(&batch, &keep)?, batch.num_rows())?
                }
            }
            None => batch,
        };
        let enriched = self.enricher.enrich(&batch, &self.wanted)?;
        let columns: Vec<ArrayRef> = self
            .outputs
            .iter()
            .map(|o| match o {
                Ok(p) => batch.column(*p).clone(),
                Err(k) => enriched[*k].clone(),
            })
            .collect();
        let n = batch.num_rows();
        let out = RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        let mut keep: Option<BooleanBuffer> = None;
        for (k, test) in &self.filters {
            let pass = test.passes(&enriched[*k])?;
            keep = Some(match keep {
                Some(keep) => &keep & &pass,
                None => pass,
            });
        }
        match keep {
            Some(keep) if keep.count_set_bits() < n => Ok(compact(
                filter_record_batch(&out, &BooleanArray::new(keep, None))?,
                n,
            )?),
            _ => Ok(out),
        }
    }
}

/// Splits a projection into the columns to decode and, when enrichment columns are
/// projected or `filters` test them, the post-processing that adds them and applies those
/// filters (decoding their inputs too).
fn plan_enrichment(
    schema: &FlowSchema,
    projection: &[usize],
    filters: &[Predicate],
    enricher: &Arc<Enricher>,
) -> (Vec<usize>, Option<PostProcess>) {
    let sources = schema.sources();
    let is_enriched = |c: &usize| matches!(sources[*c], ColumnSource::Enriched(_));
    let mut decode: Vec<usize> = projection
        .iter()
        .copied()
        .filter(|c| !is_enriched(c))
        .collect();
    if decode.len() == projection.len() && filters.is_empty() {
        return (decode, None);
    }
    for name in enricher.inputs() {
        if let Some(i) = schema.index_of(name)
            && !decode.contains(&i)
        {
            decode.push(i);
        }
    }
    let mut wanted: Vec<usize> = Vec::new();
    let mut want = |k: usize| match wanted.iter().position(|w| *w == k) {
        Some(at) => at,
        None => {
            wanted.push(k);
            wanted.len() - 1
        }
    };
    let outputs: Vec<Result<usize, usize>> = projection
        .iter()
        .map(|c| match sources[*c] {
            ColumnSource::Enriched(k) => Err(want(k)),
            _ => Ok(decode.iter().position(|d| d == c).expect("decoded")),
        })
        .collect();
    let filters = filters
        .iter()
        .filter_map(|p| match sources[p.column] {
            ColumnSource::Enriched(k) => Some((want(k), p.test.clone())),
            _ => None,
        })
        .collect();
    let out_schema = Arc::new(Schema::new(
        projection
            .iter()
            .map(|&i| schema.arrow().field(i).clone())
            .collect::<Vec<_>>(),
    ));
    (
        decode,
        Some(PostProcess {
            enricher: enricher.clone(),
            outputs,
            schema: out_schema,
            wanted,
            owners: None,
            filters,
            exported: None,
        }),
    )
}

/// `batch`, some rows of a batch of `of` rows, without holding the rest's strings: a
/// string column whose rows use less than half of the buffers they share with the
/// others gets buffers of its own. (A column whose rows share one value, such as
/// `source_object`, keeps its buffer: copies of it would be larger.)
pub(crate) fn compact(batch: RecordBatch, of: usize) -> crate::error::Result<RecordBatch> {
    use datafusion::arrow::array::{AsArray, GenericByteViewArray};
    use datafusion::arrow::datatypes::{ByteViewType, DataType};
    fn own<T: ByteViewType + ?Sized>(a: &GenericByteViewArray<T>) -> Option<ArrayRef> {
        let held: usize = a.data_buffers().iter().map(|b| b.len()).sum();
        // A view's low 32 bits are its length; up to 12 bytes live in the view itself.
        let used: usize = a
            .views()
            .iter()
            .map(|v| (*v as u32) as usize)
            .filter(|&n| n > 12)
            .sum();
        (used * 2 < held).then(|| Arc::new(a.gc()) as ArrayRef)
    }
    if batch.num_rows() * 2 >= of {
        return Ok(batch);
    }
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| {
            let owned = match c.data_type() {
                DataType::Utf8View => own(c.as_string_view()),
                DataType::BinaryView => own(c.as_binary_view()),
                _ => None,
            };
            owned.unwrap_or_else(|| c.clone())
        })
        .collect();
    Ok(RecordBatch::try_new_with_options(
        batch.schema(),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )?)
}

/// Extracts a time window from a filter on `start_time`, `end_time`, `start` or `end`.
/// A record has start ≤ end, so a lower bound on either is a lower bound on `end` and an
/// upper bound on either is an upper bound on `start`: both map onto the record window.
fn time_bound(e: &Expr) -> Option<TimeWindow> {
    match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            if *op == Operator::And {
                let (l, r) = (time_bound(left), time_bound(right));
                return match (l, r) {
                    (Some(l), Some(r)) => Some(l.intersect(&r)),
                    (l, r) => l.or(r),
                };
            }
            let (col, value, op) = match (column_of(left), seconds_of(right)) {
                (Some(c), Some(v)) => (c, v, *op),
                _ => match (column_of(right), seconds_of(left)) {
                    (Some(c), Some(v)) => (c, v, op.swap()?),
                    _ => return None,
                },
            };
            let _ = col;
            match op {
                Operator::Gt | Operator::GtEq => Some(TimeWindow {
                    since: Some(value),
                    until: None,
                }),
                Operator::Lt | Operator::LtEq => Some(TimeWindow {
                    since: None,
                    until: Some(value),
                }),
                Operator::Eq => Some(TimeWindow {
                    since: Some(value),
                    until: Some(value),
                }),
                _ => None,
            }
        }
        Expr::Between(b) if !b.negated => {
            column_of(&b.expr)?;
            Some(TimeWindow {
                since: Some(seconds_of(&b.low)?),
                until: Some(seconds_of(&b.high)?),
            })
        }
        _ => None,
    }
}

fn column_of(e: &Expr) -> Option<&str> {
    match e {
        Expr::Column(c)
            if matches!(c.name.as_str(), "start_time" | "end_time" | "start" | "end") =>
        {
            Some(c.name.as_str())
        }
        Expr::Cast(c) => column_of(&c.expr),
        _ => None,
    }
}

fn seconds_of(e: &Expr) -> Option<i64> {
    let Expr::Literal(v, _) = e else {
        return None;
    };
    match v {
        ScalarValue::TimestampSecond(Some(s), _) => Some(*s),
        ScalarValue::TimestampMillisecond(Some(s), _) => Some(s.div_euclid(1000)),
        ScalarValue::TimestampMicrosecond(Some(s), _) => Some(s.div_euclid(1_000_000)),
        ScalarValue::TimestampNanosecond(Some(s), _) => Some(s.div_euclid(1_000_000_000)),
        ScalarValue::Int64(Some(s)) => Some(*s),
        ScalarValue::Int32(Some(s)) => Some(i64::from(*s)),
        _ => None,
    }
}

/// `objects` in `n` groups balanced by bytes (largest first onto the least-loaded group),
/// each in path order: a read's partitions, and a distributed read's shares of workers.
pub fn balanced(mut objects: Vec<SourceObject>, n: usize) -> Vec<Vec<SourceObject>> {
    objects.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    let mut groups: Vec<(u64, Vec<SourceObject>)> = vec![(0, Vec::new()); n.max(1)];
    for o in objects {
        let g = groups
            .iter_mut()
            .min_by_key(|(load, _)| *load)
            .expect("at least one group");
        g.0 += o.size.max(1);
        g.1.push(o);
    }
    groups
        .into_iter()
        .map(|(_, mut v)| {
            v.sort_by(|a, b| a.path.cmp(&b.path));
            v
        })
        .collect()
}

/// Reads objects, spread over partitions.
pub struct FlowsExec {
    partitions: Vec<Vec<SourceObject>>,
    opts: Arc<DecodeOptions>,
    post: Option<Arc<PostProcess>>,
    schema: SchemaRef,
    remote: Option<crate::source::Remote>,
    stats: Arc<ScanStats>,
    properties: Arc<PlanProperties>,
    origin: Arc<Origin>,
}

impl fmt::Debug for FlowsExec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlowsExec")
            .field("partitions", &self.partitions.len())
            .finish()
    }
}

impl FlowsExec {
    fn new(
        objects: Vec<SourceObject>,
        n: usize,
        opts: Arc<DecodeOptions>,
        post: Option<Arc<PostProcess>>,
        stats: Arc<ScanStats>,
        remote: Option<crate::source::Remote>,
        origin: Arc<Origin>,
    ) -> Self {
        let partitions = balanced(objects, n);
        let schema = post
            .as_ref()
            .map_or_else(|| opts.output_schema.clone(), |p| p.schema.clone());
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema.clone()),
            Partitioning::UnknownPartitioning(partitions.len()),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        FlowsExec {
            partitions,
            opts,
            post,
            schema,
            remote,
            stats,
            properties,
            origin,
        }
    }

    /// What this read was planned from.
    pub fn origin(&self) -> &Arc<Origin> {
        &self.origin
    }

    /// The objects this read takes, in partition order.
    pub fn objects(&self) -> Vec<SourceObject> {
        self.partitions.iter().flatten().cloned().collect()
    }

    /// Its clients for remote objects (and the run's CloudWatch ledger).
    pub fn remote(&self) -> Option<&crate::source::Remote> {
        self.remote.as_ref()
    }

    /// The same read of only `objects`, in as many partitions as this one (one worker's
    /// share of a distributed read).
    pub fn share(&self, objects: Vec<SourceObject>) -> FlowsExec {
        FlowsExec::new(
            objects,
            self.partitions.len(),
            self.opts.clone(),
            self.post.clone(),
            self.stats.clone(),
            self.remote.clone(),
            self.origin.clone(),
        )
    }
}

impl DisplayAs for FlowsExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let objects: usize = self.partitions.iter().map(Vec::len).sum();
        write!(
            f,
            "FlowsExec: objects={objects}, partitions={}, projection=[{}]",
            self.partitions.len(),
            self.schema
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        // Those on enrichment columns are among an export's (they are applied after
        // enrichment elsewhere).
        let filters = &self
            .opts
            .materialised
            .as_ref()
            .unwrap_or(&self.opts)
            .filters;
        if !filters.is_empty() {
            let shown: Vec<&str> = filters.iter().map(|p| p.shown.as_str()).collect();
            write!(f, ", filters=[{}]", shown.join(", "))?;
        }
        Ok(())
    }
}

impl ExecutionPlan for FlowsExec {
    fn name(&self) -> &str {
        "FlowsExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    crate::engine::leaf_plan!();

    /// The read's counters, under names of their own: how a distributed run gathers its
    /// workers' counts (`records = rows + rejected` holds over the whole run).
    fn metrics(&self) -> Option<datafusion::physical_plan::metrics::MetricsSet> {
        // How far each local file was read goes back with the counts: on a worker, that
        // is the only way it reaches the coordinator's --state or export manifest.
        let marks: Vec<_> = self
            .partitions
            .iter()
            .flatten()
            .filter(|o| o.s3.is_none() && o.cw.is_none())
            .filter_map(|o| Some((o.name.clone(), o.read.get()?.clone())))
            .collect();
        let streams: Vec<_> = self
            .remote
            .as_ref()
            .map(|r| {
                r.ledger
                    .streams()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        Some(super::counters::metrics(
            &self.stats.snapshot(),
            self.opts.rejects.count(),
            &self.opts.rejects.sent_back(),
            &marks,
            &streams,
            &self.stats.formats(),
        ))
    }

    fn execute(
        &self,
        partition: usize,
        _context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let objects = self
            .partitions
            .get(partition)
            .cloned()
            .ok_or_else(|| DataFusionError::Internal(format!("no partition {partition}")))?;
        let opts = self.opts.clone();
        let post = self.post.clone();
        let stats = self.stats.clone();
        let remote = self.remote.clone();
        let damage_is_error = self.origin.config.damage_is_error;
        // Two batches in flight per partition: decoding runs ahead of the query a little,
        // never a whole object.
        let mut builder = RecordBatchReceiverStream::builder(self.schema.clone(), 2);
        let tx = builder.tx();
        builder.spawn_blocking(move || {
            for obj in &objects {
                let mut emit = |batch: RecordBatch| match &post {
                    Some(p) => match p.apply(batch) {
                        Ok(b) => tx.blocking_send(Ok(b)).is_ok(),
                        Err(e) => {
                            // The consumer sees the error; nothing more is decoded.
                            let _ = tx.blocking_send(Err(DataFusionError::from(e)));
                            false
                        }
                    },
                    None => tx.blocking_send(Ok(batch)).is_ok(),
                };
                match read_object(obj, &opts, &stats, remote.as_ref(), &mut emit) {
                    Ok(true) => crate::store::hold("read"),
                    Ok(false) => return Ok(()),
                    Err(e) => return Err(DataFusionError::from(e)),
                }
            }
            if damage_is_error && let Some(e) = stats.take_damage().pop() {
                return Err(DataFusionError::from(e));
            }
            Ok(())
        });
        Ok(builder.build())
    }
}
