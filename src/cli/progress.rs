//! A progress line on stderr for long runs: objects, bytes and records per second. It
//! appears only when stderr is a terminal and the run has lasted more than a moment, and
//! it goes away with its owner.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use crate::decode::ScanStats;

/// How long a run goes before a bar is worth showing.
const DELAY: Duration = Duration::from_millis(800);

pub struct Progress {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Progress {
    pub fn start(stats: Arc<ScanStats>, quiet: bool) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        if quiet || !std::io::stderr().is_terminal() {
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
                let records = ScanStats::get(&stats.records);
                let secs = began.elapsed().as_secs_f64().max(0.001);
                bar.set_length(ScanStats::get(&stats.objects_total));
                bar.set_position(ScanStats::get(&stats.objects_done));
                bar.set_message(format!(
                    "· {} · {records} records ({:.0}/s)",
                    HumanBytes(ScanStats::get(&stats.bytes)),
                    records as f64 / secs
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
