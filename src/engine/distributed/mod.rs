//! Scale-out on datafusion-distributed: the same plans, with the `flows` read split by object
//! over workers that are this same binary (`sageflow worker`).
//!
//! A distributed plan is an ordinary DataFusion plan with network boundaries; its stages run
//! on the workers over Arrow Flight. Built-in operators travel with datafusion-proto; the one
//! plan of sageflow's own, the `flows` read ([`FlowsExec`]), travels with [`FlowsCodec`] as
//! what it was planned from (the objects, projection, filters, formats, window) plus the
//! inventory's documents, so a worker needs neither the inventory nor access to AWS's
//! control plane to enrich its share; it reads the objects itself (local paths must be on
//! storage every worker shares; S3 with the worker's own credentials).
//!
//! Each worker's counts (records, rows, rejects…) come back as the read's metrics and are
//! added to the run's counters ([`gather`]); while the run goes, the progress line asks the
//! workers how far they are ([`progress`]).

pub mod progress;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::execution::{SessionStateBuilder, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion_distributed::{
    DesiredTaskCountEvent, DesiredTaskCountEventResponse, DistributedExec, DistributedExt,
    DistributedLeafExec, DistributedMetricsFormat, NetworkBoundaryExt, RouteTasksEvent,
    RouteTasksEventResponse, ScaleUpLeafNodeEvent, ScaleUpLeafNodeEventResponse,
    SessionStateBuilderExt, Worker, WorkerQueryContext, WorkerResolver, WorkerSessionBuilder,
    rewrite_distributed_plan_with_metrics,
};
use datafusion_proto::bytes::Serializeable;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use prost::Message;
use url::Url;

use super::counters::{self, Counted};
use super::table::{FlowsExec, Origin, ScanConfig, balanced};
use crate::decode::{RejectSink, ScanStats, TimeWindow};
use crate::enrich::Enricher;
use crate::error::{Error, Result};
use crate::format::Layout;
use crate::source::SourceObject;
use crate::source::layout::KeyInfo;

/// The id a coordinating session gives its reads, by which workers report their progress.
#[derive(Debug, Clone, Copy)]
struct RunId(u64);

/// The workers of `--workers`.
#[derive(Debug, Clone)]
pub struct Cluster {
    urls: Vec<Url>,
}

impl Cluster {
    /// Parses worker addresses: `host:port` or `http://host:port`, separated by commas or
    /// whitespace; `@FILE` reads them from a file (one or more per line, `#` comments).
    pub fn parse(list: &str) -> Result<Cluster> {
        let mut words: Vec<String> = Vec::new();
        for part in list.split([',', ' ', '\n', '\t']).filter(|w| !w.is_empty()) {
            if let Some(file) = part.strip_prefix('@') {
                let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, e))?;
                for line in text.lines() {
                    let line = line.split('#').next().unwrap_or("");
                    words.extend(
                        line.split([',', ' ', '\t'])
                            .filter(|w| !w.is_empty())
                            .map(str::to_string),
                    );
                }
            } else {
                words.push(part.to_string());
            }
        }
        if words.is_empty() {
            return Err(Error::Usage(
                "--workers names no worker: give host:port[,host:port…] or @FILE".into(),
            ));
        }
        let mut urls = Vec::new();
        for w in words {
            let text = if w.contains("://") {
                w.clone()
            } else {
                format!("http://{w}")
            };
            let url = Url::parse(&text).map_err(|e| {
                Error::Usage(format!(
                    "--workers: `{w}` is not a worker address ({e}); give host:port, e.g. 10.0.1.5:7420, as `sageflow worker --listen` prints it"
                ))
            })?;
            if url.scheme() != "http" {
                return Err(Error::Usage(format!(
                    "--workers: `{w}`: workers speak plain gRPC (http://); put TLS in front of them with a service mesh or proxy (README, \"Scale out\")"
                )));
            }
            if url.host_str().is_none() || url.port().is_none() {
                return Err(Error::Usage(format!(
                    "--workers: `{w}` has no port; give host:port, as `sageflow worker --listen` prints it"
                )));
            }
            if !urls.contains(&url) {
                urls.push(url);
            }
        }
        Ok(Cluster { urls })
    }

    pub fn urls(&self) -> &[Url] {
        &self.urls
    }

    /// Refuses a cluster with a worker that does not answer, before any work is planned:
    /// naming it is more use than a failure in the middle of a query.
    pub async fn check(&self) -> Result<()> {
        for url in &self.urls {
            let host = url.host_str().unwrap_or_default();
            let port = url.port().unwrap_or_default();
            match answers(url, std::time::Duration::from_secs(5)).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                    return Err(Error::Usage(format!(
                        "worker {url} did not accept a connection within 5 s; is `sageflow worker` running there and the port open?"
                    )));
                }
                Err(e) => {
                    return Err(Error::Usage(format!(
                        "worker {url} is unreachable: {e}; start it with `sageflow worker --listen {host}:{port}` or leave it out of --workers"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Whether the worker at `url` accepts a connection within `wait`.
async fn answers(url: &Url, wait: std::time::Duration) -> std::io::Result<()> {
    let (host, port) = (url.host_str().unwrap_or_default(), url.port().unwrap_or(0));
    match tokio::time::timeout(wait, tokio::net::TcpStream::connect((host, port))).await {
        Ok(connected) => connected.map(drop),
        Err(_) => Err(std::io::ErrorKind::TimedOut.into()),
    }
}

impl WorkerResolver for Cluster {
    fn get_urls(&self) -> DfResult<Vec<Url>> {
        // datafusion-distributed runs a plan whose every stage has one task here, in the
        // coordinator (it elides network boundaries with one task on each side): with one
        // worker, nothing would run on it. As two tasks on that worker, the work goes there.
        Ok(match self.urls.as_slice() {
            [one] => vec![one.clone(), one.clone()],
            all => all.to_vec(),
        })
    }
}

/// A session like `ctx` (same tables, settings and memory pool) whose plans run on `cluster`.
pub fn distribute(ctx: &SessionContext, cluster: Cluster) -> Result<SessionContext> {
    let builder = SessionStateBuilder::new_from_existing(ctx.state())
        .with_distributed_worker_resolver(cluster);
    Ok(SessionContext::new_with_state(
        coordinator(builder)?.build(),
    ))
}

/// What a coordinating session needs besides a worker resolver (and, in tests, a channel
/// resolver): the distributed planner, the codec, how the `flows` read splits, and the
/// workers' counters sent back.
pub fn coordinator(mut builder: SessionStateBuilder) -> Result<SessionStateBuilder> {
    let run = random().max(1);
    let config = builder.config().get_or_insert_default();
    config.set_extension(Arc::new(Routed::default()));
    config.set_extension(Arc::new(RunId(run)));
    let mut codec = FlowsCodec::new(crate::aws::AwsOptions::default());
    codec.run = run;
    Ok(builder
        .with_distributed_planner()
        .with_distributed_user_codec(codec)
        .with_distributed_desired_task_count_handler(desired_tasks)
        .with_distributed_scale_up_leaf_node_handler(split_by_object)
        .with_distributed_route_tasks_handler(route_reads)
        .with_distributed_metrics_collection(true)?)
}

/// A worker: sageflow's codec, settings and memory pool (`memory_limit` bytes). Its AWS
/// clients are made with `aws` and the standard credential chain, unless the coordinator
/// gave a region or endpoint of its own.
pub fn worker(memory_limit: usize, aws: crate::aws::AwsOptions) -> Worker {
    Worker::from_session_builder(worker_session(memory_limit, aws))
        .with_runtime_env(super::runtime(memory_limit))
}

/// How a worker makes the session each stage runs in: the one function shared by
/// `sageflow worker` and the tests' in-memory cluster.
pub fn worker_session(
    memory_limit: usize,
    aws: crate::aws::AwsOptions,
) -> impl WorkerSessionBuilder + Send + Sync + 'static {
    let codec: Arc<dyn PhysicalExtensionCodec> = Arc::new(FlowsCodec::new(aws));
    move |ctx: WorkerQueryContext| {
        let codec = codec.clone();
        async move {
            let mut builder = ctx.builder.with_distributed_user_codec_arc(codec);
            // The coordinator's options (batch size and the like) arrive with the plan;
            // sageflow's own settings fill in when it sent none.
            if builder.config().is_none() {
                builder = builder.with_config(super::session_config(memory_limit));
            }
            Ok(builder.build())
        }
    }
}

/// Asks the workers of a coordinating session how far they have read, for its progress
/// line; `None` for a session that is not one.
pub fn watch(ctx: &SessionContext) -> Option<Arc<progress::Watch>> {
    let state = ctx.state();
    let run = state.config().get_extension::<RunId>()?.0;
    let mut urls = datafusion_distributed::get_distributed_worker_resolver(state.config())
        .and_then(|r| r.get_urls())
        .ok()?;
    // A worker answers for all its tasks of the run: asked once.
    urls.sort();
    urls.dedup();
    Some(progress::Watch::start(urls, run))
}

/// A random number, from the standard library's per-process hash keys.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
}

/// Serves a worker on `listen` until interrupted.
pub async fn serve(listen: SocketAddr, worker: Worker) -> Result<()> {
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    tonic::transport::Server::builder()
        .add_service(worker.into_worker_server())
        .add_service(progress::ProgressServer)
        .serve_with_shutdown(listen, shutdown)
        .await
        .map_err(|e| Error::Usage(format!("worker on {listen}: {}", crate::aws::causes(&e))))
}

/// How many tasks a `flows` read wants: one per object (the planner caps it at the number
/// of workers).
fn desired_tasks(ev: DesiredTaskCountEvent) -> Option<DfResult<DesiredTaskCountEventResponse>> {
    let exec = ev.plan.downcast_ref::<FlowsExec>()?;
    Some(Ok(DesiredTaskCountEventResponse::desired(
        exec.objects().len().max(1),
    )))
}

/// Splits a `flows` read into one share of its objects per task, balanced by bytes
/// (largest first onto the least-loaded share); every share has the read's partition
/// count, as distributed leaves must.
fn split_by_object(ev: ScaleUpLeafNodeEvent) -> Option<DfResult<ScaleUpLeafNodeEventResponse>> {
    let exec = ev.plan.downcast_ref::<FlowsExec>()?;
    let shares = balanced(exec.objects(), ev.task_count);
    let variants = shares
        .into_iter()
        .map(|objects| Arc::new(exec.share(objects)) as Arc<dyn ExecutionPlan>);
    Some(
        DistributedLeafExec::try_new(ev.plan.clone(), variants)
            .map(|leaf| ScaleUpLeafNodeEventResponse::new(Arc::new(leaf))),
    )
}

/// The worker each object of the session's `flows` reads was last sent to: a run that loses
/// a worker names the objects it held, which are the ones to look at (or re-read).
#[derive(Debug, Default)]
struct Routed(Mutex<HashMap<String, Url>>);

/// Each task's objects of the `flows` reads in one stage: `None` when the stage reads no
/// flows.
fn task_objects(stage: &Arc<dyn ExecutionPlan>, tasks: usize) -> Option<Vec<Vec<String>>> {
    let mut shares: Option<Vec<Vec<String>>> = None;
    walk_reads(stage, true, |task, exec| {
        let all = shares.get_or_insert_with(|| vec![Vec::new(); tasks]);
        let names: Vec<String> = exec.objects().into_iter().map(|o| o.name).collect();
        match task {
            Some(i) => {
                if let Some(a) = all.get_mut(i) {
                    a.extend(names);
                }
            }
            // Not split: every task of the stage reads all of it.
            None => all.iter_mut().for_each(|a| a.extend(names.iter().cloned())),
        }
    });
    shares
}

/// Routes the tasks of a stage that reads flows as datafusion-distributed would (round
/// robin from a random worker), remembering which worker got which objects.
fn route_reads(ev: RouteTasksEvent) -> Option<DfResult<RouteTasksEventResponse>> {
    let config = ev.task_ctx.session_config();
    let routed = config.get_extension::<Routed>()?;
    let shares = task_objects(ev.plan, ev.task_count)?;
    let urls = match datafusion_distributed::get_distributed_worker_resolver(config)
        .and_then(|r| r.get_urls())
    {
        Ok(urls) if !urls.is_empty() => urls,
        Ok(_) => {
            return Some(Err(DataFusionError::Execution(
                "no workers to run the read on".into(),
            )));
        }
        Err(e) => return Some(Err(e)),
    };
    let start = random() as usize % urls.len();
    let urls: Vec<Url> = (0..ev.task_count)
        .map(|i| urls[(start + i) % urls.len()].clone())
        .collect();
    let mut map = routed.0.lock().unwrap_or_else(|e| e.into_inner());
    for (objects, url) in shares.into_iter().zip(&urls) {
        for name in objects {
            map.insert(name, url.clone());
        }
    }
    Some(Ok(RouteTasksEventResponse::new(urls)))
}

/// The objects of `plan`'s `flows` reads that were sent to `worker`, by name.
fn held_by(
    plan: &Arc<dyn ExecutionPlan>,
    config: &datafusion::prelude::SessionConfig,
    worker: &str,
) -> Vec<String> {
    let Some(routed) = config.get_extension::<Routed>() else {
        return Vec::new();
    };
    let map = routed.0.lock().unwrap_or_else(|e| e.into_inner());
    let mut held = std::collections::BTreeSet::new();
    reads(plan, |exec| {
        for o in exec.objects() {
            if map
                .get(&o.name)
                .is_some_and(|u| u.as_str().trim_end_matches('/') == worker)
            {
                held.insert(o.name);
            }
        }
    });
    held.into_iter().collect()
}

/// The `flows` reads of `plan` (on the coordinator), each with the objects it reads.
fn reads(plan: &Arc<dyn ExecutionPlan>, mut each: impl FnMut(&FlowsExec)) {
    walk_reads(plan, false, |_, exec| each(exec));
}

/// Calls `each` with every `flows` read of `plan`: a read split among tasks once per task
/// (with its index), one that is not with `None`. `one_stage` stops at network boundaries.
fn walk_reads(
    plan: &Arc<dyn ExecutionPlan>,
    one_stage: bool,
    mut each: impl FnMut(Option<usize>, &FlowsExec),
) {
    let _ = plan.apply(|node| {
        if one_stage && node.as_network_boundary().is_some() {
            return Ok(TreeNodeRecursion::Jump);
        }
        if let Some(leaf) = node.downcast_ref::<DistributedLeafExec>() {
            for (task, v) in leaf.variants().iter().enumerate() {
                if let Some(exec) = v.downcast_ref::<FlowsExec>() {
                    each(Some(task), exec);
                }
            }
        } else if let Some(exec) = node.downcast_ref::<FlowsExec>() {
            each(None, exec);
        }
        Ok(TreeNodeRecursion::Continue)
    });
}

/// Gives the coordinator's objects what the workers read of them (how far each local file
/// was read), as an in-process read would have set it: what `--state` and the export's
/// manifest record.
fn record_marks(plan: &Arc<dyn ExecutionPlan>, marks: &[(String, crate::source::ReadMark)]) {
    if marks.is_empty() {
        return;
    }
    let marks: HashMap<&str, &crate::source::ReadMark> =
        marks.iter().map(|(n, m)| (n.as_str(), m)).collect();
    reads(plan, |exec| {
        for o in exec.objects() {
            if let Some(m) = marks.get(o.name.as_str()) {
                // Clones share the slot: set once, seen by the run's own list.
                let _ = o.read.set((*m).clone());
            }
        }
    });
}

/// Adds to the run's CloudWatch ledger (the coordinator's) the events the workers read of
/// each stream, as an in-process read would have noted them: what `--state` records.
fn record_streams(
    plan: &Arc<dyn ExecutionPlan>,
    streams: &[(String, crate::source::ledger::StreamState)],
) {
    if streams.is_empty() {
        return;
    }
    let mut ledger = None;
    reads(plan, |exec| {
        if ledger.is_none() {
            ledger = exec.remote().map(|r| r.ledger.clone());
        }
    });
    if let Some(ledger) = ledger {
        for (stream, read) in streams {
            ledger.merge(stream, read);
        }
    }
}

/// "it held a, b and 3 more": what a lost worker was reading.
fn holding(objects: &[String]) -> String {
    const SHOWN: usize = 5;
    match objects {
        [] => String::new(),
        [one] => format!(" (it was reading {one})"),
        many if many.len() <= SHOWN => format!(
            " (it was reading {} objects: {})",
            many.len(),
            many.join(", ")
        ),
        many => format!(
            " (it was reading {} objects: {}, and {} more)",
            many.len(),
            many[..SHOWN].join(", "),
            many.len() - SHOWN
        ),
    }
}

/// The counts the workers of a distributed `plan` sent back, once it has run to the end:
/// `None` for a plan that ran in-process (its reads counted into the run's counters).
pub async fn gather(planned: &Arc<dyn ExecutionPlan>) -> Result<Option<Counted>> {
    if !planned.is::<DistributedExec>() {
        return Ok(None);
    }
    let plan = rewrite_distributed_plan_with_metrics(
        planned.clone(),
        DistributedMetricsFormat::Aggregated,
    )
    .await
    .map_err(Error::from_datafusion)?;
    let mut total = Counted::default();
    let mut network_bytes = 0;
    plan.apply(|node| {
        let metrics = node.metrics();
        if let Some(c) = metrics.as_ref().and_then(counters::counted) {
            total.add(&c);
        }
        if node.name().starts_with("Network")
            && let Some(m) = &metrics
        {
            network_bytes += m
                .iter()
                .filter(|m| m.value().name() == "bytes_transferred")
                .map(|m| m.value().as_usize())
                .sum::<usize>();
        }
        Ok(TreeNodeRecursion::Continue)
    })
    .map_err(Error::from_datafusion)?;
    record_marks(planned, &total.marks);
    record_streams(planned, &total.streams);
    // What the plan shipped between stages (to the coordinator included): the benchmark's
    // measure of a distributed run's traffic.
    tracing::info!(
        network_bytes,
        records = total.records,
        "distributed run: {network_bytes} bytes of rows crossed the network"
    );
    Ok(Some(total))
}

/// The error `plan` ended with: for a distributed plan, [`worker_failure`]'s.
pub async fn failure(
    plan: &Arc<dyn ExecutionPlan>,
    config: &datafusion::prelude::SessionConfig,
    e: Error,
) -> Error {
    if is_distributed(plan) {
        worker_failure(plan, config, e).await
    } else {
        e
    }
}

/// The error a distributed query ended with, naming the workers that no longer answer
/// (a worker that died mid-query surfaces as a broken stream that names no one).
async fn worker_failure(
    plan: &Arc<dyn ExecutionPlan>,
    config: &datafusion::prelude::SessionConfig,
    e: Error,
) -> Error {
    let urls = datafusion_distributed::get_distributed_worker_resolver(config)
        .and_then(|r| r.get_urls())
        .unwrap_or_default();
    let mut down = Vec::new();
    // The error can arrive while the failed worker is still going down (its streams
    // closed, its port not yet): a few looks, a moment apart, before blaming no one.
    for attempt in 0..5 {
        if attempt > 0 {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        }
        for url in &urls {
            if answers(url, std::time::Duration::from_secs(2))
                .await
                .is_err()
            {
                down.push(url.as_str().trim_end_matches('/').to_string());
            }
        }
        if !down.is_empty() {
            break;
        }
    }
    let who = match down.as_slice() {
        [] => format!(
            "the query failed on the workers ({})",
            urls.iter()
                .map(|u| u.as_str().trim_end_matches('/'))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        [one] => format!(
            "worker {one} stopped answering during the query{}",
            holding(&held_by(plan, config, one))
        ),
        many => format!(
            "workers {} stopped answering during the query{}",
            many.join(", "),
            holding(
                &many
                    .iter()
                    .flat_map(|w| held_by(plan, config, w))
                    .collect::<Vec<_>>()
            )
        ),
    };
    Error::Workers {
        message: format!(
            "{who}: {}; the result is incomplete (any rows printed above are not the whole answer)",
            crate::terminal::printable(&e.to_string())
        ),
    }
}

/// A table of the plan's stages, for `EXPLAIN` of a distributed query: which operators
/// run on the workers, in how many tasks, and what crosses the network.
pub fn explain(plan: &Arc<dyn ExecutionPlan>) -> String {
    datafusion_distributed::display_plan_ascii(plan.as_ref(), false)
}

/// Whether `state` plans queries for workers.
pub fn enabled(state: &datafusion::execution::SessionState) -> bool {
    datafusion_distributed::get_distributed_worker_resolver(state.config()).is_ok()
}

/// Whether `plan` runs on workers.
pub fn is_distributed(plan: &Arc<dyn ExecutionPlan>) -> bool {
    plan.is::<DistributedExec>()
}

/// Encodes and decodes the `flows` read for the workers.
#[derive(Debug)]
pub struct FlowsCodec {
    aws: crate::aws::AwsOptions,
    /// Inventories by digest: a worker builds each once, not once per task.
    enrichers: Mutex<Vec<(String, Arc<Building>)>>,
    /// S3 clients by (region, endpoint), made on first use.
    remotes: Mutex<HashMap<AwsTarget, crate::source::Remote>>,
    /// A coordinator's run id, sent with its reads (0 on a worker).
    run: u64,
}

/// One inventory's enricher, built by the first task that needs it while the others of the
/// same run wait for it; tasks of other runs (other inventories) do not wait.
type Building = Mutex<Option<Arc<Enricher>>>;

/// The region and endpoint a coordinator reached S3 in.
type AwsTarget = (Option<String>, Option<String>);

/// Inventories a worker keeps built.
const KEPT_INVENTORIES: usize = 4;

impl FlowsCodec {
    pub fn new(aws: crate::aws::AwsOptions) -> Self {
        FlowsCodec {
            aws,
            enrichers: Mutex::new(Vec::new()),
            remotes: Mutex::new(HashMap::new()),
            run: 0,
        }
    }

    fn enricher(
        &self,
        inv: &InventoryProto,
        region: Option<String>,
        endpoint: Option<String>,
    ) -> DfResult<Arc<Enricher>> {
        let slot = {
            let mut kept = self.enrichers.lock().unwrap_or_else(|p| p.into_inner());
            match kept.iter().find(|(d, _)| *d == inv.digest) {
                Some((_, slot)) => slot.clone(),
                None => {
                    if kept.len() == KEPT_INVENTORIES {
                        kept.remove(0);
                    }
                    let slot = Arc::new(Building::default());
                    kept.push((inv.digest.clone(), slot.clone()));
                    slot
                }
            }
        };
        // A build that failed leaves the slot empty: the next task tries again.
        let mut built = slot.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(e) = built.as_ref() {
            return Ok(e.clone());
        }
        let originals = crate::inventory::Originals {
            files: inv
                .files
                .iter()
                .map(|f| (f.name.clone(), f.bytes.as_slice().into()))
                .collect(),
            ip_ranges: inv
                .ip_ranges
                .as_ref()
                .map(|f| (f.name.clone(), f.bytes.as_slice().into())),
        };
        let rebuilt = crate::inventory::load::rebuild(&originals).map_err(DataFusionError::from)?;
        let mut enricher = Enricher::new(Arc::new(rebuilt));
        if !inv.dns_sources.is_empty() {
            // The same answers as the coordinator's: the same sources over the same window
            // (S3 and CloudWatch as the coordinator reached them, with this worker's
            // credentials; local paths on storage both share).
            let window = crate::decode::TimeWindow {
                since: inv.dns_since,
                until: inv.dns_until,
            };
            let aws = crate::aws::AwsOptions {
                profile: self.aws.profile.clone(),
                region: region.or_else(|| self.aws.region.clone()),
                endpoint_url: endpoint.or_else(|| self.aws.endpoint_url.clone()),
            };
            let handle = tokio::runtime::Handle::try_current().map_err(|e| {
                DataFusionError::Execution(format!("no async runtime for --dns: {e}"))
            })?;
            let log = tokio::task::block_in_place(|| {
                handle.block_on(crate::source::dns::read_all(
                    &inv.dns_sources,
                    &window,
                    &aws,
                ))
            })
            .map_err(DataFusionError::from)?;
            let index = crate::enrich::DnsIndex::new(log.answers)
                .listing_from(window.since)
                .read_from(inv.dns_sources.clone(), window);
            enricher = enricher.with_dns(index);
        }
        let enricher = Arc::new(enricher);
        *built = Some(enricher.clone());
        Ok(enricher)
    }

    /// S3 and CloudWatch Logs access for a worker, as the coordinator reached the objects
    /// (its region and endpoint) with this worker's own credentials.
    fn remote(
        &self,
        region: Option<String>,
        endpoint: Option<String>,
    ) -> DfResult<crate::source::Remote> {
        let key = (region.clone(), endpoint.clone());
        if let Some(r) = self
            .remotes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
        {
            return Ok(r.clone());
        }
        let aws = crate::aws::AwsOptions {
            profile: self.aws.profile.clone(),
            region: region.or_else(|| self.aws.region.clone()),
            endpoint_url: endpoint.or_else(|| self.aws.endpoint_url.clone()),
        };
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|e| DataFusionError::Execution(format!("no async runtime for S3: {e}")))?;
        // Decoding is synchronous; the SDK's configuration (credential chain) is not.
        let sdk = tokio::task::block_in_place(|| handle.block_on(crate::aws::sdk_config(&aws)))
            .map_err(DataFusionError::from)?;
        let remote = crate::source::Remote {
            s3: Some(crate::aws::s3_client(&sdk, &aws)),
            logs: Some(aws_sdk_cloudwatchlogs::Client::new(&sdk)),
            handle,
            ledger: Default::default(),
        };
        self.remotes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, remote.clone());
        Ok(remote)
    }

    /// The message for one `flows` read.
    pub fn encode(exec: &FlowsExec) -> DfResult<ScanProto> {
        let origin = exec.origin();
        let config = &origin.config;
        let inventory = config.enricher.inventory();
        let originals = &inventory.originals;
        let files: Vec<NamedBytes> = originals
            .files
            .iter()
            .map(|(name, bytes)| NamedBytes {
                name: name.clone(),
                bytes: bytes.to_vec(),
            })
            .collect();
        let ip_ranges = originals
            .ip_ranges
            .as_ref()
            .map(|(name, bytes)| NamedBytes {
                name: name.clone(),
                bytes: bytes.to_vec(),
            });
        let dns = config
            .enricher
            .dns()
            .and_then(|d| d.origin())
            .unwrap_or((&[][..], Default::default()));
        let digest = {
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            for f in files.iter().chain(ip_ranges.iter()) {
                h.update((f.name.len() as u64).to_le_bytes());
                h.update(f.name.as_bytes());
                h.update((f.bytes.len() as u64).to_le_bytes());
                h.update(&f.bytes);
            }
            h.update([u8::from(ip_ranges.is_some())]);
            for s in dns.0 {
                h.update((s.len() as u64).to_le_bytes());
                h.update(s.as_bytes());
            }
            h.update(format!("{:?}", dns.1).as_bytes());
            format!("{:x}", h.finalize())
        };
        // A group's formats keep their order (the first is read by default): the sort is
        // stable.
        let mut formats: Vec<NamedFormat> = config
            .flow_log_formats
            .iter()
            .flat_map(|(id, layouts)| {
                layouts.iter().map(|l| NamedFormat {
                    id: id.clone(),
                    format: l.to_aws_format(),
                })
            })
            .collect();
        formats.sort_by(|a, b| a.id.cmp(&b.id));
        let mut objects = Vec::new();
        for o in exec.objects() {
            let cw = o.cw.as_ref();
            objects.push(ObjectProto {
                cw_group: cw.map(|c| c.group.clone()),
                cw_stream: cw.map(|c| c.stream.clone()),
                cw_resume_from_ms: cw.and_then(|c| c.resume_from_ms),
                cw_skip: cw
                    .map(|c| c.skip.iter().cloned().collect())
                    .unwrap_or_default(),
                cw_since: cw.and_then(|c| c.window.since),
                cw_until: cw.and_then(|c| c.window.until),
                path: o.path.to_string_lossy().into_owned(),
                name: o.name.clone(),
                size: o.size,
                account: o.key.account.clone(),
                region: o.key.region.clone(),
                flow_log_id: o.key.flow_log_id.clone(),
                range_from: o.key.range.map(|r| r.0),
                range_to: o.key.range.map(|r| r.1),
                bucket: o.s3.as_ref().map(|s| s.bucket.clone()),
                key: o.s3.as_ref().map(|s| s.key.clone()),
                etag: o.s3.as_ref().and_then(|s| s.etag.clone()),
                mtime_ns: o.mtime_ns,
                hold_open_line: o.hold_open_line,
                resume_from: o.resume.as_ref().map(|r| r.from),
                resume_lines: o.resume.as_ref().map(|r| r.lines),
                resume_header: o.resume.as_ref().and_then(|r| r.header.clone()),
            });
        }
        let filters = origin
            .filters
            .iter()
            .map(|f| f.to_bytes().map(|b| b.to_vec()))
            .collect::<DfResult<Vec<_>>>()?;
        Ok(ScanProto {
            extra: origin.extra.clone(),
            projection: origin.projection.iter().map(|&p| p as u64).collect(),
            filters,
            batch_size: origin.batch_size as u64,
            partitions: exec.properties().partitioning.partition_count() as u64,
            objects,
            log_format: config.log_format.as_ref().map(Layout::to_aws_format),
            flow_log_formats: formats,
            since: config.window.since,
            until: config.window.until,
            allow_unknown_fields: config.allow_unknown_fields,
            exported_enrichment: config.exported_enrichment,
            strict: config.rejects.strict(),
            concurrency: config.concurrency as u64,
            memory_limit: config.memory_limit as u64,
            inventory: Some(InventoryProto {
                digest,
                files,
                ip_ranges,
                dns_sources: dns.0.to_vec(),
                dns_since: dns.1.since,
                dns_until: dns.1.until,
            }),
            aws_region: config.aws.region.clone(),
            aws_endpoint_url: config.aws.endpoint_url.clone(),
            send_back_rejects: config.rejects.writes(),
            // The codec that sends it sets its own.
            run: 0,
            cw_overlap_ms: config
                .remote
                .as_ref()
                .map_or(crate::source::ledger::DEFAULT_OVERLAP_MS, |r| {
                    r.ledger.overlap_ms()
                }),
        })
    }

    /// The `flows` read a message describes, counting into counters of its own.
    pub fn decode(&self, msg: ScanProto, ctx: &TaskContext) -> DfResult<FlowsExec> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            DataFusionError::Internal(format!("flows read from the coordinator: {what}: {e}"))
        };
        let layout = |f: &str| Layout::parse(f).map_err(|e| bad("record format", &e));
        let inventory = msg
            .inventory
            .as_ref()
            .ok_or_else(|| bad("message", &"no inventory"))?;
        let enricher = self.enricher(
            inventory,
            msg.aws_region.clone(),
            msg.aws_endpoint_url.clone(),
        )?;
        let mut flow_log_formats: HashMap<String, Vec<Layout>> = HashMap::new();
        for f in &msg.flow_log_formats {
            flow_log_formats
                .entry(f.id.clone())
                .or_default()
                .push(layout(&f.format)?);
        }
        let objects: Vec<SourceObject> = msg
            .objects
            .iter()
            .map(|o| SourceObject {
                path: o.path.clone().into(),
                name: o.name.clone(),
                size: o.size,
                key: KeyInfo {
                    account: o.account.clone(),
                    region: o.region.clone(),
                    flow_log_id: o.flow_log_id.clone(),
                    range: o.range_from.zip(o.range_to),
                    named_at: None,
                },
                s3: o.bucket.clone().zip(o.key.clone()).map(|(bucket, key)| {
                    crate::source::s3::S3Location {
                        bucket,
                        key,
                        etag: o.etag.clone(),
                    }
                }),
                cw: o
                    .cw_group
                    .clone()
                    .zip(o.cw_stream.clone())
                    .map(|(group, stream)| crate::source::cloudwatch::CwLocation {
                        group,
                        stream,
                        resume_from_ms: o.cw_resume_from_ms,
                        skip: Arc::new(o.cw_skip.iter().cloned().collect()),
                        window: TimeWindow {
                            since: o.cw_since,
                            until: o.cw_until,
                        },
                    }),
                mtime_ns: o.mtime_ns,
                resume: o.resume_from.map(|from| crate::source::Resume {
                    from,
                    lines: o.resume_lines.unwrap_or(0),
                    header: o.resume_header.clone(),
                }),
                hold_open_line: o.hold_open_line,
                read: Default::default(),
            })
            .collect();
        tracing::info!(
            objects = objects.len(),
            bytes = objects.iter().map(|o| o.size).sum::<u64>(),
            first = objects.first().map(|o| o.name.as_str()).unwrap_or(""),
            "worker: objects to read"
        );
        let remote = if objects.iter().any(|o| o.s3.is_some() || o.cw.is_some()) {
            let mut remote = self.remote(msg.aws_region.clone(), msg.aws_endpoint_url.clone())?;
            // What this read takes of CloudWatch streams goes back with its counts (for
            // `--state`): a ledger of its own, not the one of the worker's other reads.
            remote.ledger = crate::source::ledger::CwLedger::new(msg.cw_overlap_ms);
            Some(remote)
        } else {
            None
        };
        let filters = msg
            .filters
            .iter()
            .map(|b| Expr::from_bytes_with_ctx(b, ctx))
            .collect::<DfResult<Vec<_>>>()?;
        let stats = Arc::new(ScanStats::default());
        progress::register(msg.run, &stats);
        let config = ScanConfig {
            log_format: msg.log_format.as_deref().map(layout).transpose()?,
            flow_log_formats: Arc::new(flow_log_formats),
            window: TimeWindow {
                since: msg.since,
                until: msg.until,
            },
            batch_size: msg.batch_size as usize,
            rejects: Arc::new(if msg.send_back_rejects {
                RejectSink::sending_back(msg.strict)
            } else {
                RejectSink::new(msg.strict, None)
            }),
            stats: stats.clone(),
            enricher,
            remote,
            concurrency: msg.concurrency as usize,
            memory_limit: msg.memory_limit as usize,
            allow_unknown_fields: msg.allow_unknown_fields,
            exported_enrichment: msg.exported_enrichment,
            damage_is_error: true,
            aws: crate::aws::AwsOptions {
                profile: None,
                region: msg.aws_region.clone(),
                endpoint_url: msg.aws_endpoint_url.clone(),
            },
        };
        let origin = Origin {
            extra: msg.extra.clone(),
            config: config.clone(),
            projection: msg.projection.iter().map(|&p| p as usize).collect(),
            filters,
            batch_size: msg.batch_size as usize,
        };
        Ok(origin.plan(config, objects, msg.partitions.max(1) as usize))
    }
}

impl PhysicalExtensionCodec for FlowsCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        _inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let msg = ScanProto::decode(buf).map_err(|e| {
            DataFusionError::Internal(format!(
                "a flows read from the coordinator does not decode ({e}): are the coordinator and the workers the same sageflow version?"
            ))
        })?;
        Ok(Arc::new(self.decode(msg, ctx)?))
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        _proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> DfResult<()> {
        let Some(exec) = node.downcast_ref::<FlowsExec>() else {
            return Err(DataFusionError::NotImplemented(format!(
                "{} cannot run on a worker",
                node.name()
            )));
        };
        let mut msg = FlowsCodec::encode(exec)?;
        msg.run = self.run;
        msg.encode(buf)
            .map_err(|e| DataFusionError::Internal(format!("encoding a flows read: {e}")))
    }
}

/// A `flows` read as sent to a worker.
#[derive(Clone, PartialEq, Message)]
pub struct ScanProto {
    #[prost(string, repeated, tag = "1")]
    pub extra: Vec<String>,
    #[prost(uint64, repeated, tag = "2")]
    pub projection: Vec<u64>,
    /// The table's filters, as datafusion-proto logical expressions.
    #[prost(bytes = "vec", repeated, tag = "3")]
    pub filters: Vec<Vec<u8>>,
    #[prost(uint64, tag = "4")]
    pub batch_size: u64,
    #[prost(uint64, tag = "5")]
    pub partitions: u64,
    #[prost(message, repeated, tag = "6")]
    pub objects: Vec<ObjectProto>,
    #[prost(string, optional, tag = "7")]
    pub log_format: Option<String>,
    #[prost(message, repeated, tag = "8")]
    pub flow_log_formats: Vec<NamedFormat>,
    #[prost(int64, optional, tag = "9")]
    pub since: Option<i64>,
    #[prost(int64, optional, tag = "10")]
    pub until: Option<i64>,
    #[prost(bool, tag = "11")]
    pub allow_unknown_fields: bool,
    #[prost(bool, tag = "12")]
    pub exported_enrichment: bool,
    #[prost(bool, tag = "13")]
    pub strict: bool,
    #[prost(uint64, tag = "14")]
    pub concurrency: u64,
    #[prost(uint64, tag = "15")]
    pub memory_limit: u64,
    #[prost(message, optional, tag = "16")]
    pub inventory: Option<InventoryProto>,
    #[prost(string, optional, tag = "17")]
    pub aws_region: Option<String>,
    #[prost(string, optional, tag = "18")]
    pub aws_endpoint_url: Option<String>,
    /// `--cw-overlap`: which event ids of CloudWatch streams `--state` keeps.
    #[prost(int64, tag = "19")]
    pub cw_overlap_ms: i64,
    /// `--rejects FILE`: the worker sends its rejects back for the coordinator to write.
    #[prost(bool, tag = "20")]
    pub send_back_rejects: bool,
    /// The coordinator's run id, under which the worker reports how far it has read.
    #[prost(uint64, tag = "21")]
    pub run: u64,
}

#[derive(Clone, PartialEq, Message)]
pub struct ObjectProto {
    #[prost(string, tag = "1")]
    pub path: String,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(uint64, tag = "3")]
    pub size: u64,
    #[prost(string, optional, tag = "4")]
    pub account: Option<String>,
    #[prost(string, optional, tag = "5")]
    pub region: Option<String>,
    #[prost(string, optional, tag = "6")]
    pub flow_log_id: Option<String>,
    #[prost(int64, optional, tag = "7")]
    pub range_from: Option<i64>,
    #[prost(int64, optional, tag = "8")]
    pub range_to: Option<i64>,
    #[prost(string, optional, tag = "9")]
    pub bucket: Option<String>,
    #[prost(string, optional, tag = "10")]
    pub key: Option<String>,
    #[prost(string, optional, tag = "11")]
    pub etag: Option<String>,
    #[prost(int64, optional, tag = "12")]
    pub mtime_ns: Option<i64>,
    #[prost(uint64, optional, tag = "13")]
    pub resume_from: Option<u64>,
    #[prost(uint64, optional, tag = "14")]
    pub resume_lines: Option<u64>,
    #[prost(string, optional, tag = "15")]
    pub resume_header: Option<String>,
    /// A CloudWatch Logs stream: its group and name, where an incremental run takes it up
    /// (and the event ids it already read there), and the events asked for.
    #[prost(string, optional, tag = "16")]
    pub cw_group: Option<String>,
    #[prost(string, optional, tag = "17")]
    pub cw_stream: Option<String>,
    #[prost(int64, optional, tag = "18")]
    pub cw_resume_from_ms: Option<i64>,
    #[prost(string, repeated, tag = "19")]
    pub cw_skip: Vec<String>,
    #[prost(int64, optional, tag = "20")]
    pub cw_since: Option<i64>,
    #[prost(int64, optional, tag = "21")]
    pub cw_until: Option<i64>,
    #[prost(bool, tag = "22")]
    pub hold_open_line: bool,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedFormat {
    #[prost(string, tag = "1")]
    pub id: String,
    #[prost(string, tag = "2")]
    pub format: String,
}

#[derive(Clone, PartialEq, Message)]
pub struct NamedBytes {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(bytes = "vec", tag = "2")]
    pub bytes: Vec<u8>,
}

/// The inventory's documents, and a digest by which a worker keeps it built.
#[derive(Clone, PartialEq, Message)]
pub struct InventoryProto {
    #[prost(string, tag = "1")]
    pub digest: String,
    #[prost(message, repeated, tag = "2")]
    pub files: Vec<NamedBytes>,
    #[prost(message, optional, tag = "3")]
    pub ip_ranges: Option<NamedBytes>,
    /// `--dns`: the sources each worker reads again (the answers themselves could be
    /// millions) over this window and its margin.
    #[prost(string, repeated, tag = "4")]
    pub dns_sources: Vec<String>,
    #[prost(int64, optional, tag = "5")]
    pub dns_since: Option<i64>,
    #[prost(int64, optional, tag = "6")]
    pub dns_until: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worker_lists() {
        let c = Cluster::parse("10.0.0.1:7420, http://h2:7421 10.0.0.1:7420").unwrap();
        let urls: Vec<&str> = c.urls().iter().map(Url::as_str).collect();
        assert_eq!(urls, ["http://10.0.0.1:7420/", "http://h2:7421/"]);
        for bad in ["", "h2", "https://h2:7420", "ftp://h:1"] {
            assert!(Cluster::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shares_are_balanced_by_size_and_complete() {
        let obj =
            |p: &str, size| SourceObject::local(std::path::Path::new(p), size, KeyInfo::default());
        let objects = vec![obj("a", 100), obj("b", 60), obj("c", 50), obj("d", 10)];
        let s = balanced(objects, 2);
        let names: Vec<Vec<String>> = s
            .iter()
            .map(|v| v.iter().map(|o| o.name.clone()).collect())
            .collect();
        assert_eq!(names, [vec!["a", "d"], vec!["b", "c"]]);
        assert_eq!(
            balanced(vec![obj("a", 1)], 3)
                .iter()
                .map(Vec::len)
                .sum::<usize>(),
            1
        );
    }
}
