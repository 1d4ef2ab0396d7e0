//! Counting and reporting of records that do not fit their format, shared by every
//! decoder of a run. A reject is never dropped silently: it is counted, the first few are
//! kept for the end-of-run summary, and all of them can be written as NDJSON.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// How many rejects the summary keeps verbatim.
const KEEP: usize = 10;
/// Longest record text kept in a reject (the rest is elided).
const MAX_RECORD_CHARS: usize = 512;

pub use crate::error::Reject;

/// Collects rejects for a run.
#[derive(Default)]
pub struct RejectSink {
    count: AtomicU64,
    strict: bool,
    first: Mutex<Vec<Reject>>,
    out: Option<Mutex<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for RejectSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RejectSink")
            .field("count", &self.count())
            .field("strict", &self.strict)
            .finish()
    }
}

impl RejectSink {
    pub fn new(strict: bool, out: Option<Box<dyn Write + Send>>) -> Self {
        RejectSink {
            count: AtomicU64::new(0),
            strict,
            first: Mutex::new(Vec::new()),
            out: out.map(Mutex::new),
        }
    }

    /// Whether a reject fails the run (`--strict`).
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// Adds rejects counted elsewhere (by the workers of a distributed run), with the
    /// first of them.
    pub fn add_counted(&self, n: u64, samples: &[Reject]) {
        self.count
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        for r in samples {
            if first.len() < KEEP {
                first.push(r.clone());
            }
        }
    }

    /// A sink for a re-read of sources whose rejects were already reported: it counts
    /// nothing anyone sees and writes nothing, but `--strict` still fails.
    pub fn rereading(&self) -> Self {
        RejectSink::new(self.strict, None)
    }

    /// Records a reject. Under `--strict` it becomes the run's error.
    pub fn reject(&self, mut r: Reject) -> Result<()> {
        if r.record.len() > MAX_RECORD_CHARS {
            let mut cut = MAX_RECORD_CHARS;
            while !r.record.is_char_boundary(cut) {
                cut -= 1;
            }
            r.record.truncate(cut);
            r.record.push('…');
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        if let Some(out) = &self.out {
            let mut w = out.lock().unwrap_or_else(|e| e.into_inner());
            let line = serde_json::to_string(&r).expect("reject serialises");
            writeln!(w, "{line}").map_err(|e| Error::io("--rejects file", e))?;
        }
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        if first.len() < KEEP {
            first.push(r.clone());
        }
        if self.strict {
            return Err(Error::Rejected(Box::new(r)));
        }
        Ok(())
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// The first rejects, sorted by object and line for a stable report.
    pub fn first(&self) -> Vec<Reject> {
        let mut v = self.first.lock().unwrap_or_else(|e| e.into_inner()).clone();
        v.sort_by(|a, b| (&a.object, a.line).cmp(&(&b.object, b.line)));
        v
    }

    pub fn flush(&self) -> Result<()> {
        if let Some(out) = &self.out {
            let mut w = out.lock().unwrap_or_else(|e| e.into_inner());
            w.flush().map_err(|e| Error::io("--rejects file", e))?;
        }
        Ok(())
    }
}
