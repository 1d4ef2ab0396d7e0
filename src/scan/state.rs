//! Incremental scans (`scan --state FILE|s3://…`): what earlier runs read, so the next run
//! reads only what is new. S3 objects are remembered by key and ETag (so an object
//! delivered late for an earlier window is still new), local files by size and
//! modification time, CloudWatch streams by the newest event time read plus the event ids
//! near it (a run re-reads an overlap so that late events are not missed, and skips the
//! ids it already saw).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::source::SourceObject;

/// How far back a run re-reads a CloudWatch stream: CloudWatch Logs accepts events stamped
/// in the past, and flow logs reach it about five minutes after their window.
pub const CW_OVERLAP_MS: i64 = 30 * 60 * 1000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StreamState {
    /// Newest event timestamp read (ms).
    pub until_ms: i64,
    /// Ids of events read with timestamps within the overlap before `until_ms`.
    pub seen: BTreeSet<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScanState {
    pub version: u32,
    /// `s3://bucket/key` → ETag.
    #[serde(default)]
    pub s3: BTreeMap<String, String>,
    /// Local file (canonical path) → (size, modification time in ns since the epoch).
    #[serde(default)]
    pub files: BTreeMap<String, (u64, i128)>,
    /// `cwlogs://group/stream` → what was read.
    #[serde(default)]
    pub cloudwatch: BTreeMap<String, StreamState>,
    /// Findings not tied to a flow record (configuration, coverage) already reported: an
    /// incremental run reports them once, not on every run.
    #[serde(default)]
    pub reported: BTreeSet<String>,
}

/// Event times and ids read from CloudWatch streams during a run, by stream URL.
pub type CwLedger = Arc<Mutex<BTreeMap<String, StreamState>>>;

/// Records an event read from a stream, keeping only ids within the overlap.
pub fn note_event(ledger: &CwLedger, stream: &str, ts: i64, id: &str) {
    let mut l = ledger.lock().unwrap_or_else(|e| e.into_inner());
    let s = l.entry(stream.to_string()).or_default();
    if ts > s.until_ms {
        s.until_ms = ts;
    }
    if ts >= s.until_ms - CW_OVERLAP_MS {
        s.seen.insert(format!("{ts}:{id}"));
    }
    // Ids fall out of the overlap as newer events arrive; trim now and then.
    if s.seen.len() > 4096 {
        let floor = s.until_ms - CW_OVERLAP_MS;
        s.seen.retain(|k| {
            k.split(':')
                .next()
                .and_then(|t| t.parse::<i64>().ok())
                .is_some_and(|t| t >= floor)
        });
    }
}

impl ScanState {
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let s: ScanState = serde_json::from_str(text)
            .map_err(|e| Error::Usage(format!("state {origin}: not a sageflow state file: {e}")))?;
        if s.version > 1 {
            return Err(Error::Usage(format!(
                "state {origin}: version {} is newer than this sageflow understands",
                s.version
            )));
        }
        Ok(s)
    }

    pub fn to_json(&self) -> String {
        let mut s = self.clone();
        s.version = 1;
        serde_json::to_string_pretty(&s).expect("state serialises")
    }

    /// Whether an object was read by an earlier run, unchanged.
    pub fn seen(&self, o: &SourceObject) -> bool {
        if let Some(loc) = &o.s3 {
            return loc
                .etag
                .as_ref()
                .is_some_and(|e| self.s3.get(&o.name) == Some(e));
        }
        if o.cw.is_some() {
            return false; // streams are resumed, not skipped
        }
        // States written before files were keyed by canonical path name them as given.
        file_stamp(o).is_some_and(|st| {
            self.files.get(&o.identity()) == Some(&st) || self.files.get(&o.name) == Some(&st)
        })
    }

    /// Where to resume a stream: events from this time (ms), minus ids already read.
    pub fn resume(&self, stream: &str) -> Option<(i64, BTreeSet<String>)> {
        self.cloudwatch
            .get(stream)
            .map(|s| (s.until_ms - CW_OVERLAP_MS, s.seen.clone()))
    }

    /// Whether a finding belongs in this run's report: findings from flow records always
    /// (they come from new data); the others only the first time.
    pub fn report(&mut self, f: &serde_json::Map<String, serde_json::Value>) -> bool {
        if f.get("start").is_some_and(|v| !v.is_null()) {
            return true;
        }
        let fingerprint = crate::scan::KEY_COLUMNS
            .iter()
            .filter(|k| **k != "severity")
            .map(|k| f.get(*k).map_or(String::new(), |v| v.to_string()))
            .collect::<Vec<_>>()
            .join("|");
        self.reported.insert(fingerprint)
    }

    /// Adds what a successful run read.
    pub fn record(&mut self, objects: &[SourceObject], ledger: &CwLedger) {
        for o in objects {
            if let Some(loc) = &o.s3 {
                if let Some(e) = &loc.etag {
                    self.s3.insert(o.name.clone(), e.clone());
                }
            } else if o.cw.is_none()
                && let Some(st) = file_stamp(o)
            {
                self.files.remove(&o.name);
                self.files.insert(o.identity(), st);
            }
        }
        let l = ledger.lock().unwrap_or_else(|e| e.into_inner());
        for (stream, read) in l.iter() {
            let entry = self.cloudwatch.entry(stream.clone()).or_default();
            if read.until_ms >= entry.until_ms {
                let floor = read.until_ms - CW_OVERLAP_MS;
                let mut seen: BTreeSet<String> = entry
                    .seen
                    .iter()
                    .chain(read.seen.iter())
                    .filter(|k| {
                        k.split(':')
                            .next()
                            .and_then(|t| t.parse::<i64>().ok())
                            .is_some_and(|t| t >= floor)
                    })
                    .cloned()
                    .collect();
                std::mem::swap(&mut entry.seen, &mut seen);
                entry.until_ms = read.until_ms;
            } else {
                entry.seen.extend(read.seen.iter().cloned());
            }
        }
    }
}

/// The size and modification time of a local file as it was listed (before it was read:
/// records appended during the read are not marked read), else as it is now.
fn file_stamp(o: &SourceObject) -> Option<(u64, i128)> {
    if let Some(mtime) = o.mtime_ns {
        return Some((o.size, mtime));
    }
    let meta = std::fs::metadata(&o.path).ok()?;
    let mtime = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos() as i128;
    Some((meta.len(), mtime))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17, 7: the state records a file as it was listed, before it was read: a file
    /// that grew during the read is read again by the next run.
    #[test]
    fn files_are_stamped_as_listed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "one\n").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let key = crate::source::parse_key("a.log");
        let listed = SourceObject::local(&path, meta.len(), key.clone()).listed_at(&meta);
        // Appended while it was read; the run then saves its state.
        std::fs::write(&path, "one\ntwo\n").unwrap();
        let mut st = ScanState::default();
        st.record(std::slice::from_ref(&listed), &CwLedger::default());
        assert!(st.seen(&listed));
        let meta = std::fs::metadata(&path).unwrap();
        let next = SourceObject::local(&path, meta.len(), key).listed_at(&meta);
        assert!(!st.seen(&next), "the appended records are read next time");
    }

    #[test]
    fn ledger_keeps_only_the_overlap() {
        let ledger: CwLedger = Arc::default();
        note_event(&ledger, "s", 0, "a");
        note_event(&ledger, "s", CW_OVERLAP_MS + 10, "b");
        let mut st = ScanState::default();
        st.record(&[], &ledger);
        let s = &st.cloudwatch["s"];
        assert_eq!(s.until_ms, CW_OVERLAP_MS + 10);
        assert_eq!(
            s.seen.iter().cloned().collect::<Vec<_>>(),
            vec![format!("{}:b", CW_OVERLAP_MS + 10)]
        );
        let round = ScanState::parse(&st.to_json(), "test").unwrap();
        assert_eq!(round.cloudwatch, st.cloudwatch);
        assert_eq!(round.resume("s").unwrap().0, 10);
    }
}
