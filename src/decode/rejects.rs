//! Counting and reporting of records that do not fit their format, shared by every
//! decoder of a run. A reject is never dropped silently: it is counted, the first few are
//! kept for the end-of-run summary, and all of them can be written as NDJSON.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::error::{Error, Result};

/// How many rejects the summary keeps verbatim.
const KEEP: usize = 10;
/// Longest record text kept in a reject (the rest is elided).
const MAX_RECORD_CHARS: usize = 512;

pub use crate::error::Reject;

/// The most rejects one read on a worker keeps to send back for the coordinator's
/// `--rejects FILE`: about 35 MB at the longest records, whatever the input.
pub const SENT_BACK_MAX: usize = 50_000;

/// Collects rejects for a run.
#[derive(Default)]
pub struct RejectSink {
    count: AtomicU64,
    strict: bool,
    first: Mutex<Vec<Reject>>,
    out: Option<Mutex<Box<dyn Write + Send>>>,
    /// A worker's read for a run that writes `--rejects FILE`: its rejects (up to
    /// [`SENT_BACK_MAX`]), sent back with its counts for the coordinator to write.
    kept: Option<Mutex<Vec<Reject>>>,
    /// The objects that had a reject, so that `scan --state` can leave them to the next
    /// run and record the others.
    objects: Mutex<BTreeSet<String>>,
    /// Set when some rejects came back from workers without their object (only the first
    /// of each read comes back, unless the run writes `--rejects FILE`).
    objects_unknown: AtomicBool,
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
            kept: None,
            objects: Mutex::default(),
            objects_unknown: AtomicBool::new(false),
        }
    }

    /// A worker's sink for a run that writes `--rejects FILE`: it keeps the rejects to
    /// send back ([`Self::sent_back`]).
    pub fn sending_back(strict: bool) -> Self {
        RejectSink {
            kept: Some(Mutex::new(Vec::new())),
            ..RejectSink::new(strict, None)
        }
    }

    /// Whether the rejects are written to a file (`--rejects FILE`).
    pub fn writes(&self) -> bool {
        self.out.is_some()
    }

    /// What a worker's read sends back: every reject kept for the coordinator's
    /// `--rejects` file, else the first (for the summary).
    pub fn sent_back(&self) -> Vec<Reject> {
        match &self.kept {
            Some(kept) => kept.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            None => self.first(),
        }
    }

    /// Whether a reject fails the run (`--strict`).
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// Adds `n` rejects counted elsewhere (by the workers of a distributed run), with the
    /// ones they sent back: the first of each read, or with `--rejects FILE` all of them
    /// (up to [`SENT_BACK_MAX`] a read), which go to the file. A file that cannot have them
    /// all is an error, once it has those that came back.
    pub fn add_counted(&self, n: u64, samples: &[Reject]) -> Result<()> {
        self.count.fetch_add(n, Ordering::Relaxed);
        self.keep_first(samples);
        self.note_objects(samples);
        if (samples.len() as u64) < n {
            self.objects_unknown.store(true, Ordering::Relaxed);
        }
        self.write_out(samples)?;
        if self.writes() && (samples.len() as u64) < n {
            return Err(Error::config(
                format!(
                    "--rejects: the workers rejected {n} records and sent back {} of them (at most {SENT_BACK_MAX} per worker's share); the file has those",
                    samples.len()
                ),
                "run without --workers to write every reject, or give the flow log's format (--log-format) if the records do not fit it",
            ));
        }
        Ok(())
    }

    /// Keeps rejects for the summary while it has fewer than [`KEEP`].
    fn keep_first<'a>(&self, rejects: impl IntoIterator<Item = &'a Reject>) {
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        for r in rejects.into_iter().take(KEEP.saturating_sub(first.len())) {
            first.push(r.clone());
        }
    }

    fn note_objects<'a>(&self, rejects: impl IntoIterator<Item = &'a Reject>) {
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        for r in rejects {
            if !objects.contains(&r.object) {
                objects.insert(r.object.clone());
            }
        }
    }

    /// The objects (as rejects name them) that had a reject, or `None` when that is not
    /// known of every reject (some were counted on workers and did not come back).
    pub fn objects(&self) -> Option<BTreeSet<String>> {
        if self.objects_unknown.load(Ordering::Relaxed) {
            return None;
        }
        Some(
            self.objects
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }

    /// Writes rejects to the `--rejects` file, if there is one, a line of JSON each.
    fn write_out<'a>(&self, rejects: impl IntoIterator<Item = &'a Reject>) -> Result<()> {
        if let Some(out) = &self.out {
            let mut w = out.lock().unwrap_or_else(|e| e.into_inner());
            for r in rejects {
                let line = serde_json::to_string(r).expect("reject serialises");
                writeln!(w, "{line}").map_err(|e| Error::io("--rejects file", e))?;
            }
        }
        Ok(())
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
        self.write_out([&r])?;
        if let Some(kept) = &self.kept {
            let mut kept = kept.lock().unwrap_or_else(|e| e.into_inner());
            if kept.len() < SENT_BACK_MAX {
                kept.push(r.clone());
            }
        }
        self.keep_first([&r]);
        self.note_objects([&r]);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn reject(line: u64) -> Reject {
        Reject {
            object: "a.log".into(),
            line,
            field: Some("dstaddr".into()),
            value: Some("999.0.0.1".into()),
            reason: "not an address".into(),
            record: "2 …".into(),
        }
    }

    /// A shared buffer standing in for the `--rejects` file.
    #[derive(Clone, Default)]
    struct Buf(std::sync::Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_worker_sends_back_every_reject_for_the_coordinators_file() {
        let worker = RejectSink::sending_back(false);
        for line in 1..=25 {
            worker.reject(reject(line)).unwrap();
        }
        assert_eq!(worker.first().len(), KEEP);
        let sent = worker.sent_back();
        assert_eq!(sent.len(), 25);
        // Without --rejects, a read sends back only the first.
        let plain = RejectSink::new(false, None);
        for line in 1..=25 {
            plain.reject(reject(line)).unwrap();
        }
        assert_eq!(plain.sent_back().len(), KEEP);

        let buf = Buf::default();
        let coordinator = RejectSink::new(false, Some(Box::new(buf.clone())));
        assert!(coordinator.writes());
        coordinator.add_counted(25, &sent).unwrap();
        assert_eq!(coordinator.count(), 25);
        assert_eq!(coordinator.first().len(), KEEP);
        let written = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(written.lines().count(), 25);
        // Fewer sent back than counted: the file has those, and the run fails saying so.
        let e = coordinator.add_counted(60_000, &sent).unwrap_err();
        assert!(e.to_string().contains("sent back 25 of them"), "{e}");
    }

    #[test]
    fn the_objects_with_rejects_are_known_while_every_reject_names_its_own() {
        let sink = RejectSink::new(false, None);
        assert_eq!(sink.objects(), Some(BTreeSet::new()));
        for (object, line) in [("b.log", 3), ("a.log", 1), ("b.log", 9)] {
            sink.reject(Reject {
                object: object.into(),
                ..reject(line)
            })
            .unwrap();
        }
        let named = |names: &[&str]| Some(names.iter().map(|n| n.to_string()).collect());
        assert_eq!(sink.objects(), named(&["a.log", "b.log"]));
        // A worker's rejects that all came back name their objects too.
        sink.add_counted(
            1,
            &[Reject {
                object: "c.log".into(),
                ..reject(2)
            }],
        )
        .unwrap();
        assert_eq!(sink.objects(), named(&["a.log", "b.log", "c.log"]));
        // Counted on a worker without coming back: which objects had them is unknown.
        sink.add_counted(12, &[reject(4)]).unwrap();
        assert_eq!(sink.objects(), None);
    }
}
