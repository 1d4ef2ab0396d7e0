//! Scale-out (issue 20): the same queries on a cluster of workers give the same rows as in
//! one process.
//!
//! The in-memory cluster is datafusion-distributed's own test harness: each worker is the
//! tonic worker service over an in-memory duplex stream, so every stage's plan goes through
//! the codecs (sageflow's `flows` read through `FlowsCodec`) and every batch through Arrow
//! Flight encoding, as between machines. (Not the in-process `LocalWorkerContext`, which
//! skips serialisation.) The process tests start real `sageflow worker` processes.

use std::path::Path;
use std::sync::Arc;

use clap::Parser;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::execution::SessionStateBuilder;
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::SessionContext;
use datafusion_distributed::DistributedExt;
use datafusion_distributed::test_utils::in_memory_channel_resolver::{
    InMemoryChannelResolver, InMemoryWorkerResolver,
};
use sageflow::cli::{Cli, Command};
use sageflow::engine::distributed;

use crate::support::{root, sageflow};

const WORKERS: usize = 4;

fn input(args: &[&str]) -> sageflow::cli::args::InputArgs {
    let mut argv = vec!["sageflow", "query", "--quiet"];
    argv.extend_from_slice(args);
    match Cli::try_parse_from(argv).expect("arguments parse").command {
        Command::Query(q) => q.input,
        _ => unreachable!(),
    }
}

/// The session `query` makes over `args`, and the same on an in-memory cluster of
/// [`WORKERS`] workers (a second preparation, so that each has its own counters).
async fn sessions(
    args: &[&str],
) -> (
    (
        SessionContext,
        Arc<sageflow::decode::ScanStats>,
        Arc<sageflow::decode::RejectSink>,
    ),
    SessionContext,
) {
    let single = sageflow::cli::session(&input(args)).await.expect("session");
    let (ctx, _, _) = sageflow::cli::session(&input(args)).await.expect("session");
    let worker = distributed::worker_session(256 << 20, Default::default());
    let builder = SessionStateBuilder::new_from_existing(ctx.state())
        .with_distributed_worker_resolver(InMemoryWorkerResolver::new(WORKERS))
        .with_distributed_channel_resolver(InMemoryChannelResolver::from_session_builder(worker));
    let state = distributed::coordinator(builder)
        .expect("coordinator")
        .build();
    (single, SessionContext::new_with_state(state))
}

/// Rows as text, sorted: the comparison does not depend on the order rows arrive in.
fn canon(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for b in batches {
        let formatters: Vec<ArrayFormatter> = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for r in 0..b.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .map(|f| f.value(r).to_string())
                    .collect::<Vec<_>>()
                    .join(" | "),
            );
        }
    }
    rows.sort();
    rows
}

fn names(plan: &Arc<dyn ExecutionPlan>) -> String {
    format!(
        "{}[{}]",
        plan.name(),
        plan.children()
            .iter()
            .map(|c| names(c))
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// How many objects the plan's `flows` reads take: a read of one object is one task, which
/// the planner rightly keeps in-process.
fn objects_read(plan: &Arc<dyn ExecutionPlan>) -> usize {
    plan.downcast_ref::<sageflow::engine::FlowsExec>()
        .map_or(0, |f| f.objects().len())
        + plan
            .children()
            .iter()
            .map(|c| objects_read(c))
            .sum::<usize>()
}

/// Ad hoc queries of the kinds users run: aggregates, joins with the inventory tables,
/// ORDER BY … LIMIT (with a total order), DISTINCT, window functions, time filters.
const QUERIES: &[&str] = &[
    "SELECT count(*) AS n, sum(bytes) AS b, sum(packets) AS p FROM flows",
    "SELECT action, log_status, count(*), sum(bytes) FROM flows GROUP BY action, log_status",
    "SELECT remote_kind, remote_service, count(*) AS n FROM flows GROUP BY 1, 2",
    "SELECT f.interface_id, e.eni_owner_kind, e.sagemaker_resource, count(*) AS n, sum(f.bytes) AS b \
     FROM flows f JOIN enis e ON f.interface_id = e.interface_id GROUP BY 1, 2, 3",
    "SELECT source_object, source_line, bytes FROM flows \
     ORDER BY bytes DESC NULLS LAST, source_object, source_line LIMIT 7",
    "SELECT DISTINCT interface_id, action FROM flows",
    "SELECT interface_id, bytes, r FROM (SELECT interface_id, bytes, \
     row_number() OVER (PARTITION BY interface_id ORDER BY bytes DESC, source_object, source_line) AS r \
     FROM flows) WHERE r <= 2",
    "SELECT count(*) FROM flows WHERE start_time >= TIMESTAMP '2026-11-20T10:30:00Z' \
     AND start_time < TIMESTAMP '2026-11-20T11:15:00Z'",
    "SELECT srcaddr, dstaddr, dstport, protocol FROM flows WHERE action = 'REJECT' AND dstport = 443",
    "SELECT sagemaker_resource, date_trunc('minute', start_time) AS m, sum(bytes) FROM flows \
     WHERE eni_owner_kind = 'sagemaker' GROUP BY 1, 2",
];

/// Every query and every bundled rule and report on the cluster gives the single-process
/// rows, and each that reads `flows` really was distributed; the workers' counts reach the
/// run's counters.
async fn equivalent(args: &[&str], expect_rejects: bool) {
    let ((single, stats, rejects), cluster) = sessions(args).await;
    let rules = sageflow::scan::rules::load(None).expect("bundled rules");
    let mut statements: Vec<(String, String)> = QUERIES
        .iter()
        .enumerate()
        .map(|(i, q)| (format!("query {i}"), q.to_string()))
        .collect();
    statements.extend(rules.iter().map(|r| (r.name.clone(), r.sql.clone())));
    let mut distributed_count = 0;
    for (name, sql) in &statements {
        let want_plan = single
            .sql(sql)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .create_physical_plan()
            .await
            .unwrap();
        let want = collect(want_plan.clone(), single.task_ctx()).await.unwrap();
        let plan = cluster
            .sql(sql)
            .await
            .unwrap()
            .create_physical_plan()
            .await
            .unwrap_or_else(|e| panic!("{name}: planning on the cluster: {e}"));
        if objects_read(&want_plan) > 1 {
            assert!(
                distributed::is_distributed(&plan),
                "{name} was not distributed: {} {}:\n{}\nin-process:\n{}",
                names(&plan),
                names(&want_plan),
                datafusion::physical_plan::displayable(plan.as_ref()).indent(true),
                datafusion::physical_plan::displayable(want_plan.as_ref()).indent(true)
            );
            distributed_count += 1;
        }
        let got = collect(plan.clone(), cluster.task_ctx())
            .await
            .unwrap_or_else(|e| panic!("{name}: on the cluster: {e}"));
        assert_eq!(canon(&got), canon(&want), "{name}: {sql}");
        // The first statement's counts are the run's: the workers' must be the same.
        if name == "query 0" {
            let counted = distributed::gather(&plan)
                .await
                .unwrap()
                .expect("distributed");
            let s = stats.snapshot();
            assert_eq!(counted.records, s.records, "records");
            assert_eq!(counted.rows, s.rows, "rows");
            assert_eq!(counted.rejected, rejects.count(), "rejects");
            assert_eq!(
                counted.records,
                counted.rows + counted.rejected + counted.outside_window
            );
            assert_eq!(counted.objects, s.objects_done, "objects");
            assert!(counted.records > 0);
            assert_eq!(counted.rejected > 0, expect_rejects, "rejects: {counted:?}");
        }
    }
    assert!(distributed_count >= QUERIES.len(), "{distributed_count}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raw_gzip_and_parquet_logs_with_enrichment_and_rejects() {
    let r = root();
    let sources = [
        r.join("sample-logs/v5-custom"),
        r.join("sample-logs/parquet-hive"),
        r.join("tests/data/malformed/mixed.log"),
    ];
    let inventory = r.join("sample-logs/inventory");
    let mut args: Vec<&str> = sources.iter().map(|p| p.to_str().unwrap()).collect();
    args.extend(["--inventory", inventory.to_str().unwrap()]);
    equivalent(&args, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_with_and_without_the_inventory() {
    let r = root();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    sageflow()
        .args(["export", "--quiet", "--out"])
        .arg(&out)
        .arg(r.join("sample-logs/v5-custom"))
        .arg(r.join("sample-logs/parquet-hive"))
        .arg("--inventory")
        .arg(r.join("sample-logs/inventory"))
        .assert()
        .success();
    let out = out.to_str().unwrap();
    // Without --inventory the export's own enrichment columns are read as written.
    equivalent(&[out], false).await;
    let inventory = r.join("sample-logs/inventory");
    equivalent(&[out, "--inventory", inventory.to_str().unwrap()], false).await;
}

/// The `flows` read goes through the codec and back with its objects, projection,
/// filters, formats and inventory intact: encoding the decoded read gives the same bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flows_read_round_trips_through_the_codec() {
    use datafusion_proto::physical_plan::DefaultPhysicalProtoConverter;
    use datafusion_proto::physical_plan::PhysicalExtensionCodec;
    let r = root();
    let inventory = r.join("sample-logs/inventory");
    let src = r.join("sample-logs/v5-custom");
    let (ctx, _, _) = sageflow::cli::session(&input(&[
        src.to_str().unwrap(),
        "--inventory",
        inventory.to_str().unwrap(),
        "--log-format",
        "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}",
        "--since",
        "2026-11-20T10:10:00Z",
    ]))
    .await
    .expect("session");
    let plan = ctx
        .sql(
            "SELECT srcaddr, remote_kind, sagemaker_resource FROM flows \
             WHERE action = 'ACCEPT' AND start_time < TIMESTAMP '2026-11-20T11:00:00Z'",
        )
        .await
        .unwrap()
        .create_physical_plan()
        .await
        .unwrap();
    let mut leaf = plan.clone();
    while leaf.name() != "FlowsExec" {
        leaf = leaf.children()[0].clone();
    }
    let codec = distributed::FlowsCodec::new(Default::default());
    let converter = DefaultPhysicalProtoConverter {};
    let mut first = Vec::new();
    codec
        .try_encode(leaf.clone(), &mut first, &converter)
        .unwrap();
    let decoded = codec
        .try_decode(&first, &[], &ctx.task_ctx(), &converter)
        .unwrap();
    let mut second = Vec::new();
    codec
        .try_encode(decoded.clone(), &mut second, &converter)
        .unwrap();
    assert_eq!(first, second, "the codec's message changed on the way");

    let exec = decoded
        .downcast_ref::<sageflow::engine::FlowsExec>()
        .expect("a flows read");
    let msg = distributed::FlowsCodec::encode(exec).unwrap();
    assert_eq!(
        msg.objects.len(),
        leaf.downcast_ref::<sageflow::engine::FlowsExec>()
            .unwrap()
            .objects()
            .len()
    );
    assert!(
        msg.objects.len() < 24,
        "--since and the time filter prune objects"
    );
    assert_eq!(msg.filters.len(), 2, "both filters travel");
    assert!(
        msg.log_format
            .as_deref()
            .unwrap()
            .contains("${traffic-path}")
    );
    assert_eq!(msg.since, Some(1_795_169_400), "2026-11-20T10:10:00Z");
    let inv = msg.inventory.as_ref().unwrap();
    assert!(
        inv.files
            .iter()
            .any(|f| f.name.ends_with("describe-network-interfaces.json"))
    );
    assert_eq!(decoded.schema(), leaf.schema());
    assert_eq!(
        datafusion::physical_plan::displayable(decoded.as_ref())
            .one_line()
            .to_string(),
        datafusion::physical_plan::displayable(leaf.as_ref())
            .one_line()
            .to_string()
    );
    // And the decoded read reads the same rows.
    let want = collect(leaf, ctx.task_ctx()).await.unwrap();
    let got = collect(decoded, ctx.task_ctx()).await.unwrap();
    assert_eq!(canon(&got), canon(&want));
    assert!(!want.is_empty());
}

/// A port for a worker, below Linux's ephemeral range: a worker killed by a test leaves
/// its port free, and a port that `bind(0)` could hand out again might be taken by
/// another test's worker, which would answer in the dead one's place.
fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 500) as u16 * 20;
    loop {
        let port = base + NEXT.fetch_add(1, Ordering::Relaxed) % 2_000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A `sageflow worker` process, stopped when dropped.
struct WorkerProcess {
    child: std::process::Child,
    addr: String,
    log: std::path::PathBuf,
}

impl WorkerProcess {
    fn start(dir: &Path, i: usize) -> WorkerProcess {
        Self::start_on(dir, i, format!("127.0.0.1:{}", free_port()), Vec::new())
    }

    fn start_on(dir: &Path, i: usize, addr: String, env: Vec<(&str, String)>) -> WorkerProcess {
        let log = dir.join(format!("worker-{i}.log"));
        let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sageflow"))
            .args(["worker", "--listen", &addr])
            .env("RUST_LOG", "sageflow=debug")
            .envs(env)
            .stderr(std::fs::File::create(&log).unwrap())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Ready when it accepts connections.
        for _ in 0..200 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        WorkerProcess { child, addr, log }
    }
}

impl WorkerProcess {
    /// Kills the worker once it has started reading its share; returns its address.
    fn kill_once_reading(self) -> String {
        let began = std::time::Instant::now();
        while !std::fs::read_to_string(&self.log)
            .unwrap()
            .contains("objects to read")
        {
            assert!(
                began.elapsed().as_secs() < 60,
                "the worker never started reading"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        self.addr.clone()
    }

    /// The first object of the share this worker was sent, from its log.
    fn first_object(&self) -> Option<String> {
        first_object(&std::fs::read_to_string(&self.log).unwrap())
    }
}

/// The `first` object a worker's "objects to read" log line names.
fn first_object(log: &str) -> Option<String> {
    let line = log.lines().find(|l| l.contains("objects to read"))?;
    let rest = &line[line.find("first=")? + "first=".len()..];
    Some(match rest.strip_prefix('"') {
        Some(quoted) => quoted[..quoted.find('"')?].to_string(),
        None => rest.split_whitespace().next()?.to_string(),
    })
}

/// A generated corpus of 200,000 records in 6 objects, with its inventory: large enough
/// that a debug build is still reading it when a test kills a worker.
fn generated(dir: &Path, seed: u64) -> std::path::PathBuf {
    let corpus = dir.join("corpus");
    sageflow()
        .args([
            "generate",
            "--records",
            "200000",
            "--objects",
            "6",
            "--enis",
            "50",
        ])
        .args(["--seed", &seed.to_string(), "--out"])
        .arg(&corpus)
        .assert()
        .success();
    corpus
}

/// The counts of a run's summary (its first line, without the time).
fn counts(stderr: &str) -> String {
    // The summary's first line (log lines, when a test asks for them, come before).
    let first = stderr
        .lines()
        .find(|l| l.starts_with("sageflow: "))
        .unwrap_or_default();
    first.split("; ").next().unwrap_or_default().to_string()
}

/// `n` worker processes logging into `dir`, and their `--workers` list.
fn fleet(dir: &Path, n: usize) -> (Vec<WorkerProcess>, String) {
    fleet_with(dir, n, Vec::new)
}

/// `n` worker processes, each with the environment `env` makes (credentials).
fn fleet_with<'a>(
    dir: &Path,
    n: usize,
    env: impl Fn() -> Vec<(&'a str, String)>,
) -> (Vec<WorkerProcess>, String) {
    let workers: Vec<WorkerProcess> = (0..n)
        .map(|i| WorkerProcess::start_on(dir, i, format!("127.0.0.1:{}", free_port()), env()))
        .collect();
    let list = addresses(&workers);
    (workers, list)
}

/// The `--workers` list of `workers`.
fn addresses(workers: &[WorkerProcess]) -> String {
    workers
        .iter()
        .map(|w| w.addr.clone())
        .collect::<Vec<_>>()
        .join(",")
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three real worker processes on loopback: `query --workers` prints what the in-process
/// query prints, its summary counts every worker's records, and `--rejects FILE` gets
/// every worker's rejects.
#[test]
fn query_on_worker_processes() {
    let r = root();
    let dir = tempfile::tempdir().unwrap();
    let (workers, list) = fleet(dir.path(), 3);
    let sql = "SELECT interface_id, remote_kind, count(*) AS n, sum(bytes) AS b FROM flows \
               GROUP BY 1, 2 ORDER BY 1, 2";
    // `query` of `sql` over the sample and `extra` sources and arguments.
    let query = |sql: &str, extra: &[&std::ffi::OsStr], workers: Option<&str>| {
        let mut cmd = sageflow();
        cmd.args(["query", "--format", "csv", "--sql", sql])
            .arg(r.join("sample-logs/v5-custom"))
            .arg(r.join("tests/data/malformed/mixed.log"))
            .args(extra);
        if let Some(w) = workers {
            cmd.args(["--workers", w]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let inventory = r.join("sample-logs/inventory");
    let run = |workers| {
        query(
            sql,
            &["--inventory".as_ref(), inventory.as_os_str()],
            workers,
        )
    };
    let (want, want_summary) = run(None);
    let (got, got_summary) = run(Some(&list));
    assert_eq!(got, want);
    assert!(want.lines().count() > 5, "{want}");
    // The summary's counts (objects, records, rows, rejects) are the workers' gathered.
    assert_eq!(counts(&got_summary), counts(&want_summary), "{got_summary}");
    assert!(
        counts(&want_summary).ends_with("2240 rows, 3 rejected"),
        "{want_summary}"
    );
    // The workers send their first rejects back: the summary lists the same ones.
    let listed = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("  rejected "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(listed(&got_summary), listed(&want_summary));
    assert_eq!(listed(&want_summary).len(), 3, "{want_summary}");
    // More rejects than the summary lists: `--rejects FILE` has them all, as in-process.
    let bad = dir.path().join("bad-addresses.log");
    let line = |i: usize| {
        format!(
            "2 111122223333 eni-0a1b2c3d 10.20.1.{i} 999.0.0.{i} 443 {i} 6 1 40 1795172400 1795172430 ACCEPT OK\n"
        )
    };
    std::fs::write(&bad, (0..25).map(line).collect::<String>()).unwrap();
    let rejects = |workers: Option<&str>, name: &str| {
        let file = dir.path().join(name);
        let extra = [bad.as_os_str(), "--rejects".as_ref(), file.as_os_str()];
        query("SELECT count(*) FROM flows", &extra, workers);
        let mut lines: Vec<String> = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        lines.sort();
        lines
    };
    let here = rejects(None, "rejects-here.ndjson");
    assert_eq!(here.len(), 28);
    assert_eq!(rejects(Some(&list), "rejects-workers.ndjson"), here);
    // Each worker read a share of the objects.
    for w in &workers {
        let log = std::fs::read_to_string(&w.log).unwrap();
        assert!(log.contains("objects to read"), "{}: {log}", w.addr);
    }
    drop(workers);
}

/// A worker that is not there is named before any work starts.
#[test]
fn an_unreachable_worker_is_named_before_any_work() {
    let r = root();
    let port = free_port();
    let out = sageflow()
        .args(["query", "--sql", "SELECT count(*) FROM flows", "--workers"])
        .arg(format!("127.0.0.1:{port}"))
        .arg(r.join("sample-logs/v5-custom"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("worker http://127.0.0.1:{port}/ is unreachable")),
        "{err}"
    );
    for bad in ["h:x", "https://h:1", ""] {
        let out = sageflow()
            .args(["query", "--sql", "SELECT 1", "--workers", bad])
            .arg(r.join("sample-logs/v5-custom"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("--workers"),
            "{bad}"
        );
    }
}

/// A worker killed in the middle of a query: the run exits 2 naming it, and says the
/// result is incomplete; with the worker back, the same query gives the in-process answer.
#[test]
fn a_worker_killed_mid_query_fails_the_run_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = generated(dir.path(), 3);
    let sql = "SELECT remote_kind, count(*) AS n, sum(bytes) AS b FROM flows GROUP BY 1 ORDER BY 1";
    let query = |workers: Option<&str>| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sageflow"));
        cmd.args(["query", "--quiet", "--format", "csv", "--sql", sql])
            .arg(&corpus)
            .arg("--inventory")
            .arg(corpus.join("inventory"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if let Some(w) = workers {
            cmd.args(["--workers", w]);
        }
        cmd.spawn().unwrap()
    };
    let first = WorkerProcess::start(dir.path(), 0);
    let second = WorkerProcess::start(dir.path(), 1);
    let list = format!("{},{}", first.addr, second.addr);
    let run = query(Some(&list));
    // Killed once it has started reading its share.
    let second_log = second.log.clone();
    let second_addr = second.kill_once_reading();
    let out = run.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!(
            "worker http://{second_addr} stopped answering during the query (it was reading"
        )),
        "{err}"
    );
    assert!(err.contains("the result is incomplete"), "{err}");
    // It names the objects the dead worker held, and not the live one's.
    let held = first_object(&std::fs::read_to_string(&second_log).unwrap()).unwrap();
    assert!(err.contains(&held), "{held} not named in: {err}");
    if let Some(other) = first.first_object() {
        assert!(
            !err.contains(&other),
            "{other} (the live worker's) named in: {err}"
        );
    }

    // Back on the same address, the query completes with the in-process answer.
    let _second = WorkerProcess::start_on(dir.path(), 2, second_addr, Vec::new());
    let want = query(None).wait_with_output().unwrap();
    let got = query(Some(&list)).wait_with_output().unwrap();
    assert!(
        got.status.success(),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(
        String::from_utf8(got.stdout).unwrap(),
        String::from_utf8(want.stdout).unwrap()
    );
}

/// `EXPLAIN` of a distributed query shows its stages and tasks.
#[test]
fn explain_shows_the_stages() {
    let r = root();
    let dir = tempfile::tempdir().unwrap();
    let (_workers, list) = fleet(dir.path(), 2);
    let out = sageflow()
        .args(["query", "--quiet", "--workers", &list, "--sql"])
        .arg("EXPLAIN SELECT remote_kind, count(*) FROM flows GROUP BY 1")
        .arg(r.join("sample-logs/v5-custom"))
        .arg("--inventory")
        .arg(r.join("sample-logs/inventory"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for part in [
        "distributed_plan",
        "Stage 1 ── tasks=2",
        "NetworkShuffleExec",
        "t1: FlowsExec: objects=12",
    ] {
        assert!(text.contains(part), "{part}:\n{text}");
    }
}

/// Three worker processes read flow logs from S3 (moto) with their own credentials and
/// the coordinator's endpoint: the rows equal the in-process query's, and every worker
/// read a share of the objects.
#[test]
fn query_scan_and_export_over_s3_on_worker_processes() {
    const BUCKET: &str = "distributed-flow-logs";
    let moto = crate::support::moto();
    let _guard = moto.lock();
    let root = env!("CARGO_MANIFEST_DIR");
    moto.run_python(&format!(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="{BUCKET}")
for shape in ("v5-custom", "parquet-hive"):
    base = os.path.join("{root}/sample-logs", shape)
    for d, _, files in os.walk(base):
        for f in files:
            p = os.path.join(d, f)
            s3.upload_file(p, "{BUCKET}", shape + "/" + os.path.relpath(p, base))
"#
    ));
    let dir = tempfile::tempdir().unwrap();
    // Workers get credentials and a region, not the endpoint: that comes with the plan.
    let (workers, list) = fleet_with(dir.path(), 3, || moto.env().into_iter().collect());
    let inventory = format!("{root}/sample-logs/inventory");
    let sql = "SELECT sagemaker_resource, remote_kind, action, count(*) AS n, sum(bytes) AS b \
               FROM flows GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
    let run = |workers: Option<&str>| {
        let mut args = vec![
            "query".to_string(),
            format!("s3://{BUCKET}/v5-custom"),
            format!("s3://{BUCKET}/parquet-hive"),
            "--inventory".into(),
            inventory.clone(),
            "--format".into(),
            "csv".into(),
            "--sql".into(),
            sql.into(),
        ];
        if let Some(w) = workers {
            args.extend(["--workers".to_string(), w.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = moto.run(&args);
        assert_eq!(code, Some(0), "{err}");
        (out, err)
    };
    let (want, want_err) = run(None);
    let (got, got_err) = run(Some(&list));
    assert_eq!(got, want);
    assert!(want.lines().count() > 5, "{want}");
    assert_eq!(counts(&got_err), counts(&want_err));
    for w in &workers {
        let log = std::fs::read_to_string(&w.log).unwrap();
        assert!(log.contains("objects to read"), "{}: {log}", w.addr);
        assert!(
            log.contains(&format!("s3://{BUCKET}/")),
            "{}: {log}",
            w.addr
        );
    }

    // A scheduled scan on the workers: the in-process findings, and --state moves on.
    let scan = |extra: &[&str]| {
        let mut args = vec![
            "scan".to_string(),
            format!("s3://{BUCKET}/v5-custom"),
            format!("s3://{BUCKET}/parquet-hive"),
            "--inventory".into(),
            inventory.clone(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        moto.run(&args)
    };
    let (code, want, err) = scan(&[]);
    assert_eq!(code, Some(1), "{err}");
    let state = format!("s3://{BUCKET}/state/sageflow.json");
    let (code, got, err) = scan(&["--workers", &list, "--state", &state]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(got, want);
    let (code, _, err) = scan(&["--workers", &list, "--state", &state]);
    assert_eq!(code, Some(2), "nothing new: {err}");
    assert!(
        err.contains("objects already done by an earlier run"),
        "{err}"
    );

    // An export on the workers holds the in-process export's rows, and its manifest
    // moves on.
    let dir = tempfile::tempdir().unwrap();
    let export = |out: &Path, workers: Option<&str>| {
        let mut args = vec![
            "export".to_string(),
            format!("s3://{BUCKET}/v5-custom"),
            format!("s3://{BUCKET}/parquet-hive"),
            "--inventory".into(),
            inventory.clone(),
            "--out".into(),
            out.display().to_string(),
        ];
        if let Some(w) = workers {
            args.extend(["--workers".to_string(), w.to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        moto.run(&args)
    };
    let (local, on_workers) = (dir.path().join("local"), dir.path().join("workers"));
    let (code, _, err) = export(&local, None);
    assert_eq!(code, Some(0), "{err}");
    let (code, _, got_err) = export(&on_workers, Some(&list));
    assert_eq!(code, Some(0), "{got_err}");
    assert_eq!(counts(&got_err), counts(&err));
    let dump = |out: &Path| {
        let out = sageflow()
            .args(["query", "--quiet", "--format", "csv", "--sql"])
            .arg("SELECT * FROM flows ORDER BY source_object, source_line")
            .arg(out)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let want = dump(&local);
    assert!(want.lines().count() > 2000, "{}", want.lines().count());
    assert_eq!(dump(&on_workers), want);
    let (code, _, err) = export(&on_workers, Some(&list));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("objects already done by an earlier run"),
        "{err}"
    );
}

/// `scan ARGS --format json`, in-process and with `workers`, logging the shared read:
/// its findings and its stderr. A scan with findings exits 1.
fn scan_logged(args: &[std::ffi::OsString], workers: Option<&str>) -> (String, String) {
    let mut cmd = sageflow();
    cmd.env("RUST_LOG", "sageflow::scan=info");
    cmd.args(["scan", "--format", "json"]).args(args);
    if let Some(w) = workers {
        cmd.args(["--workers", w]);
    }
    let out = cmd.output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// [`scan_logged`] in-process and on `workers`: the same findings and counts. Returns the
/// findings and both runs' stderr.
fn scan_both(
    args: &[std::ffi::OsString],
    workers: &str,
) -> (Vec<serde_json::Value>, String, String) {
    let (want, want_err) = scan_logged(args, None);
    let (got, got_err) = scan_logged(args, Some(workers));
    assert_eq!(got, want);
    assert_eq!(counts(&got_err), counts(&want_err));
    (serde_json::from_str(&want).unwrap(), want_err, got_err)
}

/// The rows the scan's shared read handed to the rules (its info line), and the rows
/// the summary says were read.
fn arrived_and_read(stderr: &str) -> (u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.contains("one read of flows fed"))
        .unwrap_or_else(|| panic!("no line of the read in {stderr}"));
    let last_number = |head: &str| -> u64 { head.rsplit(' ').next().unwrap().parse().unwrap() };
    let (head, _) = line.split_once(" rows arrived").unwrap();
    let read = counts(stderr)
        .split_once(" rows")
        .map(|(h, _)| last_number(h))
        .unwrap_or_else(|| panic!("no row count in {stderr}"));
    (last_number(head), read)
}

/// `scan --workers`: the workers decode and enrich, the rules run here; the findings and
/// the summary's counts are the in-process scan's. Only the records some rule keeps
/// reach the coordinator: the others are dropped on the workers.
#[test]
fn scan_on_worker_processes() {
    let r = root();
    let dir = tempfile::tempdir().unwrap();
    let (_workers, list) = fleet(dir.path(), 3);
    let args = [
        r.join("sample-logs/v5-custom").into_os_string(),
        r.join("sample-logs/parquet-hive").into_os_string(),
        r.join("tests/data/malformed/mixed.log").into_os_string(),
        "--inventory".into(),
        r.join("sample-logs/inventory").into_os_string(),
    ];
    // The workers' rejects are the run's: without --allow-rejects it fails after its
    // findings, as in-process.
    let out = sageflow()
        .args(["scan", "--format", "json", "--workers", &list])
        .args(&args)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("3 of the "), "{err}");
    assert!(!out.stdout.is_empty(), "{err}");
    let args = [&args[..], &["--allow-rejects".into()]].concat();
    let (findings, want_err, got_err) = scan_both(&args, &list);
    assert!(findings.len() > 5, "{findings:?}");
    assert!(counts(&want_err).ends_with("3 rejected"), "{want_err}");
    // The coverage line counts the same SageMaker records.
    let coverage = |s: &str| {
        s.lines()
            .find(|l| l.contains("records of SageMaker workloads"))
            .unwrap()
            .to_string()
    };
    assert_eq!(coverage(&got_err), coverage(&want_err));
    // In-process, the records of the owners the rules read (the others are dropped before
    // enrichment); from workers, only the records some rule's filters keep, fewer still.
    let (arrived, rows) = arrived_and_read(&want_err);
    assert!(arrived > 0 && arrived < rows, "{want_err}");
    let (shipped, _) = arrived_and_read(&got_err);
    assert!(
        shipped > 0 && shipped < arrived,
        "{shipped} of {rows} rows arrived ({arrived} in-process): {got_err}"
    );
}

/// A rule that reads `flows` without a filter needs every record: then the workers send
/// them all, and a user's rules (`--rules`) give on workers what they give in-process.
#[test]
fn a_rule_without_a_filter_gets_every_record_on_workers() {
    let r = root();
    let dir = tempfile::tempdir().unwrap();
    let (_workers, list) = fleet(dir.path(), 2);
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("ssh-anywhere.sql"),
        "-- rule: ssh-anywhere\n-- severity: critical\n-- description: SSH from SageMaker ENIs to outside the VPC\nSELECT interface_id, srcaddr, dstaddr, dstport FROM flows WHERE eni_owner_kind = 'sagemaker' AND direction = 'egress' AND dstport = 22 AND remote_kind <> 'same_vpc'\n",
    )
    .unwrap();
    std::fs::write(
        rules.join("records-per-eni.sql"),
        "-- rule: records-per-eni\n-- severity: low\n-- description: every ENI's records\nSELECT interface_id, count(*) AS records, sum(bytes) AS bytes FROM flows GROUP BY interface_id\n",
    )
    .unwrap();
    let args = [
        "--rules".into(),
        rules.into_os_string(),
        r.join("sample-logs/v5-custom").into_os_string(),
        "--inventory".into(),
        r.join("sample-logs/inventory").into_os_string(),
    ];
    let (findings, want_err, got_err) = scan_both(&args, &list);
    assert!(
        findings.iter().any(|f| f["rule"] == "records-per-eni"),
        "{findings:?}"
    );
    let (arrived, rows) = arrived_and_read(&want_err);
    assert_eq!(arrived, rows, "{want_err}");
    let (shipped, _) = arrived_and_read(&got_err);
    assert_eq!(shipped, rows, "{got_err}");
}

/// `scan --state` over a local file read on workers: the state learns how far the worker
/// read it, so a touched file is not read again, an appended one only from its new lines
/// (numbered as lines of the file), and a rewritten one whole, as in-process.
#[test]
fn incremental_scans_of_a_local_file_on_worker_processes() {
    let dir = tempfile::tempdir().unwrap();
    let (_workers, list) = fleet(dir.path(), 2);
    crate::no_false_clean::incremental_scans_of_a_local_file(&["--workers", &list]);
}

/// An export on workers records how far they read each local file: the next export over
/// the same files finds nothing new, and its manifest equals the in-process export's.
#[test]
fn an_incremental_export_of_local_files_on_worker_processes() {
    let r = root();
    let dir = tempfile::tempdir().unwrap();
    let (_workers, list) = fleet(dir.path(), 2);
    let export = |out: &Path, workers: Option<&str>| {
        let mut cmd = sageflow();
        cmd.arg("export")
            .arg(r.join("sample-logs/v5-custom"))
            .arg("--inventory")
            .arg(r.join("sample-logs/inventory"))
            .arg("--out")
            .arg(out);
        if let Some(w) = workers {
            cmd.args(["--workers", w]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stderr).unwrap()
    };
    let sources = |out: &Path| {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("_sageflow/manifest.json")).unwrap())
                .unwrap();
        m["sources"]["local"].clone()
    };
    let here = dir.path().join("here");
    let there = dir.path().join("there");
    export(&here, None);
    let first = export(&there, Some(&list));
    assert!(first.contains("exported"), "{first}");
    let local = sources(&there);
    assert_eq!(local, sources(&here));
    let files = local.as_object().unwrap();
    assert!(!files.is_empty() && files.values().all(|m| m["read_to"].as_u64() > Some(0)));
    // Nothing new the second time: every file was recorded as read to its end.
    let second = export(&there, Some(&list));
    assert_eq!(sources(&there), local);
    assert!(second.contains("exported 0 rows"), "{second}");
}

/// A worker killed in the middle of a scheduled scan over S3: exit 2 naming it, no
/// findings, and `--state` not moved; the next run reads everything and reports what the
/// in-process scan reports.
#[test]
fn a_worker_killed_mid_scan_moves_no_state() {
    const BUCKET: &str = "distributed-kill";
    let moto = crate::support::moto();
    let _guard = moto.lock();
    let dir = tempfile::tempdir().unwrap();
    let corpus = generated(dir.path(), 5);
    moto.run_python(&format!(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="{BUCKET}")
base = "{}/AWSLogs"
for d, _, files in os.walk(base):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, "{BUCKET}", "logs/AWSLogs/" + os.path.relpath(p, base))
"#,
        corpus.display()
    ));
    let inventory = corpus.join("inventory");
    let state = format!("s3://{BUCKET}/state/sageflow.json");
    let scan = |workers: Option<&str>, with_state: bool| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sageflow"));
        cmd.args([
            "scan",
            &format!("s3://{BUCKET}/logs/"),
            "--format",
            "json",
            "--quiet",
        ])
        .arg("--inventory")
        .arg(&inventory)
        .args(["--endpoint-url", &moto.endpoint])
        .env_remove("RUST_LOG")
        .envs(moto.env())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
        if with_state {
            cmd.args(["--state", &state]);
        }
        if let Some(w) = workers {
            cmd.args(["--workers", w]);
        }
        cmd.spawn().unwrap()
    };
    let env = || moto.env().into_iter().collect::<Vec<_>>();
    let first = WorkerProcess::start_on(dir.path(), 0, format!("127.0.0.1:{}", free_port()), env());
    let second =
        WorkerProcess::start_on(dir.path(), 1, format!("127.0.0.1:{}", free_port()), env());
    let list = format!("{},{}", first.addr, second.addr);
    let run = scan(Some(&list), true);
    let second_log = second.log.clone();
    let second_addr = second.kill_once_reading();
    let out = run.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("worker http://{second_addr} stopped answering")),
        "{err}"
    );
    let held = first_object(&std::fs::read_to_string(&second_log).unwrap()).unwrap();
    assert!(
        held.starts_with("s3://") && err.contains(&held),
        "{held} not named in: {err}"
    );
    assert!(out.stdout.is_empty(), "no findings from a failed run");
    let listed = moto.run_python(&format!(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
print(s3.list_objects_v2(Bucket="{BUCKET}", Prefix="state/").get("KeyCount", 0))
"#
    ));
    assert_eq!(listed.trim(), "0", "the state was not written");

    let _second = WorkerProcess::start_on(dir.path(), 2, second_addr, env());
    let want = scan(None, false).wait_with_output().unwrap();
    let got = scan(Some(&list), true).wait_with_output().unwrap();
    assert_eq!(
        got.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&got.stderr)
    );
    assert_eq!(
        String::from_utf8(got.stdout).unwrap(),
        String::from_utf8(want.stdout).unwrap()
    );
}

/// `--dns` on the cluster: each worker reads the query logs the coordinator names and
/// names its share of the records, so the names and every finding (private-dns-bypass's
/// included) are the in-process run's.
#[test]
fn dns_names_on_worker_processes() {
    let r = root();
    let dir = tempfile::tempdir().unwrap();
    let (_workers, list) = fleet(dir.path(), 2);
    let run = |args: &[&str], workers: Option<&str>| {
        let mut cmd = sageflow();
        cmd.args(args)
            .arg(r.join("sample-logs/v5-custom"))
            .arg("--inventory")
            .arg(r.join("sample-logs/inventory"))
            .arg("--dns")
            .arg(r.join("sample-logs/dns"));
        if let Some(w) = workers {
            cmd.args(["--workers", w]);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let names = [
        "query",
        "--format",
        "csv",
        "--sql",
        "SELECT remote_name, remote_name_source, remote_name_endpoint, count(*) AS n FROM flows \
         WHERE remote_name IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    ];
    let (code, want, err) = run(&names, None);
    assert_eq!(code, Some(0), "{err}");
    let (code, got, err) = run(&names, Some(&list));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(got, want);
    assert!(
        want.contains("api.sagemaker.us-east-1.amazonaws.com,dns_same_client"),
        "{want}"
    );

    let scan = ["scan", "--format", "json", "--group-by", "flow"];
    let (code, want, err) = run(&scan, None);
    assert_eq!(code, Some(1), "{err}");
    let (code, got, err) = run(&scan, Some(&list));
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(got, want);
    assert_eq!(want.matches("\"private-dns-bypass\"").count(), 2, "{want}");
}

/// CloudWatch Logs sources on worker processes: the streams are split among the workers,
/// the findings and counts are the in-process scan's, and `--state` records the same of
/// every stream, so that the next run, on the workers too, reads no event again. Two flow
/// logs in two formats write to the group, so the workers get both formats.
#[test]
fn a_cloudwatch_scan_with_state_on_worker_processes() {
    const GROUP: &str = "/aws/vpc/flowlogs-workers";
    let moto = crate::support::moto();
    let _guard = moto.lock();
    moto.run_python(&crate::support::log_group_seed_of(
        &[
            ("v5-custom", Some(crate::aws_cloudwatch::V5_FORMAT)),
            ("v2-default", Some(&crate::aws_cloudwatch::default_format())),
        ],
        GROUP,
    ));
    let dir = tempfile::tempdir().unwrap();
    let (workers, list) = fleet_with(dir.path(), 2, || moto.env().into_iter().collect());
    let source = format!("cwlogs://{GROUP}");
    let scan = |state: &Path, workers: Option<&str>| {
        let mut args = vec![
            "scan",
            &source,
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
            "--allow-empty",
            "--state",
            state.to_str().unwrap(),
        ];
        if let Some(w) = workers {
            args.extend(["--workers", w]);
        }
        moto.run(&args)
    };
    let (here, there) = (dir.path().join("here.json"), dir.path().join("there.json"));
    let (code, want, want_err) = scan(&here, None);
    assert_eq!(code, Some(1), "{want_err}");
    let (code, got, got_err) = scan(&there, Some(&list));
    assert_eq!(code, Some(1), "{got_err}");
    assert_eq!(got, want);
    assert_eq!(counts(&got_err), counts(&want_err));
    assert!(
        counts(&got_err).contains("4472 records: 4472 rows, 0 rejected"),
        "{got_err}"
    );
    // Each worker read a share of the streams.
    for w in &workers {
        let first = w.first_object();
        assert!(
            first.as_deref().is_some_and(|o| o.starts_with("cwlogs://")),
            "{first:?}"
        );
    }
    let streams = |p: &Path| {
        serde_json::from_slice::<serde_json::Value>(&std::fs::read(p).unwrap()).unwrap()
            ["cloudwatch"]
            .clone()
    };
    assert_eq!(streams(&there), streams(&here));
    assert!(!streams(&there).as_object().unwrap().is_empty());
    // The next run reads each stream from where this one stopped and skips what it read.
    let (code, again, err) = scan(&there, Some(&list));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        counts(&err).ends_with(" 0 records: 0 rows, 0 rejected"),
        "{err}"
    );
    assert_eq!(again.trim(), "[]");
    let (_, _, in_process) = scan(&here, None);
    assert_eq!(counts(&err), counts(&in_process));
    assert_eq!(streams(&there), streams(&here));
}

/// The progress line of a run on workers shows what they have read while they read it, not
/// only once their parts are over (their counts come back with their tasks' end), as a
/// run in one process does. Every read stops after each object until the test lets it go
/// (`SAGEFLOW_HOLD`), so the line is seen mid-run without racing it.
#[test]
fn the_progress_line_shows_what_the_workers_have_read() {
    use crate::support::terminal::{Terminal, progress_lines};
    let dir = tempfile::tempdir().unwrap();
    let corpus = generated(dir.path(), 5);
    let seen_mid_run = |workers: Option<&str>, gate: &Path| {
        let hold = format!("read:{}", gate.display());
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("sageflow"));
        cmd.args([
            "query",
            "--format",
            "csv",
            "--sql",
            "SELECT count(*) AS n FROM flows",
        ])
        .arg(&corpus)
        .arg("--inventory")
        .arg(corpus.join("inventory"))
        .env("SAGEFLOW_HOLD", &hold);
        if let Some(w) = workers {
            cmd.args(["--workers", w]);
        }
        let term = Terminal::start(&cmd);
        let moving = |s: &str| {
            progress_lines(s)
                .into_iter()
                .any(|(done, _, records)| done > 0 && records > 0)
        };
        let screen = term.wait_for(std::time::Duration::from_secs(180), moving);
        // Every read is still held after an object: no part is over, nothing has been
        // gathered, and the line's figures are what the reads report as they go.
        let (done, total, records) = progress_lines(&screen)
            .into_iter()
            .find(|&(done, _, records)| done > 0 && records > 0)
            .unwrap();
        assert_eq!(total, 6, "{screen}");
        assert!(done < 6 && records < 200_000, "{screen}");
        std::fs::write(gate, "").unwrap();
        let (status, screen) = term.finish();
        assert!(status.success(), "{screen}");
        assert!(screen.contains("n\r\n200000\r\n"), "{screen}");
        // The summary after the line has the gathered counts.
        assert!(screen.contains("6 objects read"), "{screen}");
    };
    seen_mid_run(None, &dir.path().join("go-here"));
    let gate = dir.path().join("go-workers");
    let hold = format!("read:{}", gate.display());
    let (workers, list) = fleet_with(dir.path(), 2, || vec![("SAGEFLOW_HOLD", hold.clone())]);
    seen_mid_run(Some(&list), &gate);
    // Each worker read a share.
    for w in &workers {
        let log = std::fs::read_to_string(&w.log).unwrap();
        assert!(log.contains("objects to read"), "{}: {log}", w.addr);
    }
}

/// One worker does the work: datafusion-distributed keeps a plan whose stages all have one
/// task in the coordinator, so a lone worker is given two tasks instead of being left idle.
#[test]
fn a_single_worker_runs_the_read() {
    let r = root();
    let dir = tempfile::tempdir().unwrap();
    let (workers, list) = fleet(dir.path(), 1);
    let query = |sql: &str, workers: Option<&str>| {
        let mut cmd = sageflow();
        cmd.args(["query", "--format", "csv", "--sql", sql])
            .arg(r.join("sample-logs"))
            .arg("--inventory")
            .arg(r.join("sample-logs/inventory"));
        if let Some(w) = workers {
            cmd.args(["--workers", w]);
        }
        let out = cmd.assert().success().get_output().clone();
        String::from_utf8(out.stdout).unwrap()
    };
    let sql = "SELECT sagemaker_resource, remote_kind, sum(bytes) AS b FROM flows \
               GROUP BY 1, 2 ORDER BY 1, 2";
    let want = query(sql, None);
    assert_eq!(query(sql, Some(&list)), want);
    assert!(want.lines().count() > 3, "{want}");
    let log = std::fs::read_to_string(&workers[0].log).unwrap();
    assert!(log.contains("objects to read"), "{log}");
    let plan = query(&format!("EXPLAIN {sql}"), Some(&list));
    assert!(plan.contains("Stage 1"), "{plan}");
}
