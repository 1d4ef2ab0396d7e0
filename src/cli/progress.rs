//! A progress line on stderr for long runs: objects, bytes and records per second. It
//! appears only when stderr is a terminal and the run has lasted more than a moment, and
//! it goes away with its owner. On a cluster, the counts are the workers' as they last
//! reported them.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use crate::decode::{ScanStats, StatsSnapshot};

/// How long a run goes before a bar is worth showing.
const DELAY: Duration = Duration::from_millis(800);

/// Counts read elsewhere (what a cluster's workers have read so far), shown with the run's
/// own: a worker's counts join the run's only when its part is over.
pub type Elsewhere = Box<dyn Fn() -> StatsSnapshot + Send>;

pub struct Progress {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Progress {
    /// Whether a run's progress line is shown at all.
    pub fn shown(quiet: bool) -> bool {
        !quiet && std::io::stderr().is_terminal()
    }

    pub fn start(stats: Arc<ScanStats>, quiet: bool, elsewhere: Option<Elsewhere>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        if !Self::shown(quiet) {
            return Progress { stop, handle: None };
        }
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let began = Instant::now();
            let mut bar: Option<ProgressBar> = None;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                if began.elapsed() < DELAY {
                    continue;
                }
                let bar = bar.get_or_insert_with(|| {
                    let b = ProgressBar::new(0);
                    b.set_style(
                        ProgressStyle::with_template(
                            "{spinner} [{elapsed_precise}] {bar:30} objects {pos}/{len} {msg}",
                        )
                        .expect("valid template"),
                    );
                    b
                });
                let mut now = stats.snapshot();
                // The larger of the two: the workers' counts join the run's at the end, and
                // are then in both.
                if let Some(far) = &elsewhere {
                    let far = far();
                    now.objects_done = now.objects_done.max(far.objects_done);
                    now.bytes = now.bytes.max(far.bytes);
                    now.records = now.records.max(far.records);
                }
                let secs = began.elapsed().as_secs_f64().max(0.001);
                bar.set_length(now.objects_total);
                bar.set_position(now.objects_done);
                bar.set_message(format!(
                    "· {} · {} records ({:.0}/s)",
                    HumanBytes(now.bytes),
                    now.records,
                    now.records as f64 / secs
                ));
            }
            if let Some(b) = bar {
                b.finish_and_clear();
            }
        });
        Progress {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops and erases the line, so that results printed next are not mixed with it.
    pub fn clear(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}
