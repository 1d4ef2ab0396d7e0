//! The progress line of a distributed run: what the workers have read so far.
//!
//! A worker's counts reach the coordinator with its task's metrics, once the task is over,
//! which for a read of thousands of objects is the end of the run. So each worker keeps the
//! counters of the reads it runs under the coordinator's run id ([`register`]) and answers
//! one small gRPC call on its own port, `sageflow.Progress/Read`, with their sum; the
//! coordinator asks every worker twice a second while its progress line is shown
//! ([`Watch`]). Nothing else depends on it: a worker that does not answer leaves its last
//! figures on the line, and the run's summary is made from the metrics as before.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use prost::Message;
use tonic::codegen::{BoxFuture, Context, Poll, Service, http};
use url::Url;

use crate::decode::{ScanStats, StatsSnapshot};

/// The gRPC service and method, next to datafusion-distributed's `worker.WorkerService`.
const SERVICE: &str = "sageflow.Progress";
const READ_PATH: &str = "/sageflow.Progress/Read";

/// How often the coordinator asks.
const EVERY: Duration = Duration::from_millis(500);

/// Runs a worker remembers: the runs of the last coordinators, each a few counters.
const KEPT_RUNS: usize = 64;

#[derive(Clone, PartialEq, Message)]
pub struct ReadRequest {
    /// The coordinator's run id, sent with every `flows` read (`ScanProto.run`).
    #[prost(uint64, tag = "1")]
    pub run: u64,
}

#[derive(Clone, PartialEq, Message)]
pub struct ReadReply {
    #[prost(uint64, tag = "1")]
    pub objects_done: u64,
    #[prost(uint64, tag = "2")]
    pub bytes: u64,
    #[prost(uint64, tag = "3")]
    pub records: u64,
}

impl ReadReply {
    /// What the progress line shows: objects done, bytes and records.
    fn of(s: &ScanStats) -> ReadReply {
        ReadReply {
            objects_done: ScanStats::get(&s.objects_done),
            bytes: ScanStats::get(&s.bytes),
            records: ScanStats::get(&s.records),
        }
    }

    fn plus(self, other: &ReadReply) -> ReadReply {
        ReadReply {
            objects_done: self.objects_done + other.objects_done,
            bytes: self.bytes + other.bytes,
            records: self.records + other.records,
        }
    }
}

/// The counters of the reads this process runs for each coordinator run, newest last.
static BOARD: Mutex<VecDeque<(u64, Vec<Arc<ScanStats>>)>> = Mutex::new(VecDeque::new());

fn board() -> MutexGuard<'static, VecDeque<(u64, Vec<Arc<ScanStats>>)>> {
    BOARD.lock().unwrap_or_else(|e| e.into_inner())
}

/// Counts `stats` (a read a worker runs) towards run `run`; 0 is a coordinator that does
/// not ask.
pub(super) fn register(run: u64, stats: &Arc<ScanStats>) {
    if run == 0 {
        return;
    }
    let mut board = board();
    match board.iter_mut().find(|(r, _)| *r == run) {
        Some((_, reads)) => reads.push(stats.clone()),
        None => {
            if board.len() == KEPT_RUNS {
                board.pop_front();
            }
            board.push_back((run, vec![stats.clone()]));
        }
    }
}

/// What this process has read for run `run` so far (the reads over, too).
fn tally(run: u64) -> ReadReply {
    board()
        .iter()
        .filter(|(r, _)| *r == run)
        .flat_map(|(_, reads)| reads)
        .fold(ReadReply::default(), |t, s| t.plus(&ReadReply::of(s)))
}

/// The worker's side: `sageflow.Progress/Read`, served next to the worker service.
#[derive(Debug, Clone, Default)]
pub struct ProgressServer;

impl tonic::server::NamedService for ProgressServer {
    const NAME: &'static str = SERVICE;
}

impl<B> Service<http::Request<B>> for ProgressServer
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = std::convert::Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        if req.uri().path() != READ_PATH {
            return Box::pin(async {
                Ok(tonic::Status::unimplemented("sageflow.Progress has only Read").into_http())
            });
        }
        Box::pin(async move {
            let mut grpc = tonic::server::Grpc::new(tonic_prost::ProstCodec::default());
            Ok(grpc.unary(ReadMethod, req).await)
        })
    }
}

struct ReadMethod;

impl tonic::server::UnaryService<ReadRequest> for ReadMethod {
    type Response = ReadReply;
    type Future = BoxFuture<tonic::Response<ReadReply>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<ReadRequest>) -> Self::Future {
        let run = request.into_inner().run;
        Box::pin(async move { Ok(tonic::Response::new(tally(run))) })
    }
}

/// One worker's answer to `Read`.
async fn ask(channel: tonic::transport::Channel, run: u64) -> Result<ReadReply, tonic::Status> {
    let mut client = tonic::client::Grpc::new(channel);
    client
        .ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static(READ_PATH);
    let reply = client
        .unary(
            tonic::Request::new(ReadRequest { run }),
            path,
            tonic_prost::ProstCodec::default(),
        )
        .await?;
    Ok(reply.into_inner())
}

/// The coordinator's side: the last answer of each worker of a run, asked twice a second
/// for as long as the watch is held.
#[derive(Debug, Default)]
pub struct Watch(Mutex<Vec<ReadReply>>);

impl Watch {
    /// Starts asking `urls` about `run` (in the current tokio runtime).
    pub fn start(urls: Vec<Url>, run: u64) -> Arc<Watch> {
        let workers: Vec<_> = urls
            .into_iter()
            .filter_map(|u| {
                let endpoint = tonic::transport::Endpoint::from_shared(u.to_string()).ok()?;
                Some((u, endpoint.timeout(EVERY * 4).connect_lazy()))
            })
            .collect();
        let watch = Arc::new(Watch(Mutex::new(vec![ReadReply::default(); workers.len()])));
        // Weak: the asking ends with the last holder.
        let held = Arc::downgrade(&watch);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if held.strong_count() == 0 {
                    return;
                }
                let answers =
                    futures::future::join_all(workers.iter().map(|(_, c)| ask(c.clone(), run)))
                        .await;
                let Some(watch) = held.upgrade() else { return };
                let mut each = watch.0.lock().unwrap_or_else(|e| e.into_inner());
                for (i, answer) in answers.into_iter().enumerate() {
                    match answer {
                        Ok(r) => each[i] = r,
                        // Its last figures stay: progress is a hint, the summary is exact.
                        Err(e) => {
                            tracing::debug!(worker = %workers[i].0, "progress: {}", e.message())
                        }
                    }
                }
            }
        });
        watch
    }

    /// The workers' reads so far, added up.
    pub fn total(&self) -> StatsSnapshot {
        let each = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let sum = each.iter().fold(ReadReply::default(), ReadReply::plus);
        StatsSnapshot {
            objects_done: sum.objects_done,
            bytes: sum.bytes,
            records: sum.records,
            ..StatsSnapshot::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_adds_up_its_reads_and_old_runs_go() {
        let a = Arc::new(ScanStats::default());
        let b = Arc::new(ScanStats::default());
        let run = 0x5eed_0001;
        register(run, &a);
        register(run, &b);
        register(0, &a);
        ScanStats::add(&a.records, 10);
        ScanStats::add(&b.records, 5);
        ScanStats::add(&b.objects_done, 1);
        let t = tally(run);
        assert_eq!((t.records, t.objects_done), (15, 1));
        assert_eq!(tally(0), ReadReply::default());
        for r in 1..=KEPT_RUNS as u64 {
            register(0x5eed_1000 + r, &a);
        }
        assert_eq!(
            tally(run),
            ReadReply::default(),
            "the oldest run is forgotten"
        );
    }
}
