//! What runs have read, so that the next one reads only what is new: the ledger that
//! `scan --state` saves and the export manifest keeps. S3 objects are remembered by key and
//! ETag (so an object delivered late for an earlier window is still new), local files by
//! how far they were read and samples of their content (so a grown file is read on from
//! where the last run stopped, and a touched one not at all), CloudWatch streams by the
//! newest event time read plus the ids of the events near it (a run re-reads an overlap
//! so that late events are not missed, and skips the ids it already saw).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{ReadMark, Resume, SourceObject};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ReadLedger {
    pub version: u32,
    /// `s3://bucket/key` → ETag.
    #[serde(default)]
    pub s3: BTreeMap<String, String>,
    /// Local file (canonical path) → (size, modification time in ns since the epoch), as
    /// states written before `local` recorded them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    /// (Nanoseconds fit in an `i64` until 2262; serde cannot read an `i128` in a state
    /// flattened into another document.)
    pub files: BTreeMap<String, (u64, i64)>,
    /// Local file (canonical path) → what was read of it.
    #[serde(default)]
    pub local: BTreeMap<String, LocalMark>,
    /// `cwlogs://group/stream` → what was read.
    #[serde(default)]
    pub cloudwatch: BTreeMap<String, StreamState>,
    /// When the last run that moved it forward listed its sources (Unix seconds): what
    /// was delivered since is new to the next run, whatever its `--since` (a late object,
    /// or one of the hour of a run that failed or did not run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_at: Option<i64>,
}

/// How far back an incremental run re-reads a CloudWatch stream by default
/// (`--cw-overlap`): CloudWatch Logs accepts events stamped in the past, and flow logs
/// reach it about five minutes after their window. An event that arrives stamped more than
/// the overlap before the newest event an earlier run read is not read by incremental
/// runs; `scan --state --full-coverage` reads the window whole.
pub const DEFAULT_OVERLAP_MS: i64 = 30 * 60 * 1000;
/// The largest `--cw-overlap`: the ids of the events read within it are kept in the state.
pub const MAX_OVERLAP_MS: i64 = 24 * 3600 * 1000;

/// What an incremental run knows of a stream it read.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct StreamState {
    /// Newest event timestamp read (ms).
    pub until_ms: i64,
    /// Ids (`<timestamp>:<event id>`) of events read with timestamps within the overlap
    /// before `until_ms`.
    pub seen: BTreeSet<String>,
}

impl StreamState {
    /// The timestamp of a `seen` entry.
    pub fn stamp(seen: &str) -> Option<i64> {
        seen.split(':').next().and_then(|t| t.parse().ok())
    }

    /// Ids fall out of the overlap as newer events arrive: drops those stamped before
    /// `floor` now and then, once there are many.
    fn trim(&mut self, floor: i64) {
        if self.seen.len() > 4096 {
            self.forget_before(floor);
        }
    }

    /// Drops the ids of events stamped before `floor` (out of the overlap).
    fn forget_before(&mut self, floor: i64) {
        self.seen
            .retain(|k| Self::stamp(k).is_some_and(|t| t >= floor));
    }
}

/// Event times and ids read from CloudWatch streams during a run, by stream URL, for the
/// state an incremental run saves. Shared by the partitions reading streams.
#[derive(Debug, Clone)]
pub struct CwLedger {
    overlap_ms: i64,
    streams: std::sync::Arc<std::sync::Mutex<std::collections::BTreeMap<String, StreamState>>>,
}

impl Default for CwLedger {
    fn default() -> Self {
        CwLedger::new(DEFAULT_OVERLAP_MS)
    }
}

impl CwLedger {
    pub fn new(overlap_ms: i64) -> Self {
        CwLedger {
            overlap_ms,
            streams: Default::default(),
        }
    }

    pub fn overlap_ms(&self) -> i64 {
        self.overlap_ms
    }

    /// What was read, by stream.
    pub fn streams(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, StreamState>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds what another read (a worker's) took of `stream`, as if its events had been
    /// noted here one by one.
    pub fn merge(&self, stream: &str, read: &StreamState) {
        let mut l = self.streams();
        let s = l.entry(stream.to_string()).or_default();
        s.until_ms = s.until_ms.max(read.until_ms);
        s.seen.extend(read.seen.iter().cloned());
        s.trim(s.until_ms - self.overlap_ms);
    }

    /// Records an event read from a stream, keeping only ids within the overlap.
    pub fn note(&self, stream: &str, ts: i64, id: &str) {
        let mut l = self.streams();
        let s = l.entry(stream.to_string()).or_default();
        if ts > s.until_ms {
            s.until_ms = ts;
        }
        let floor = s.until_ms - self.overlap_ms;
        if ts >= floor {
            s.seen.insert(format!("{ts}:{id}"));
        }
        s.trim(floor);
    }
}

/// What a run read of a local file, and the file as it was listed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct LocalMark {
    pub size: u64,
    pub mtime_ns: i64,
    #[serde(flatten)]
    pub read: ReadMark,
}

/// What to do with a local file read before that has changed other than by growing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRewrite {
    /// Read it whole again, with a warning (a scan: its findings may repeat).
    ReadAgain,
    /// Refuse (an export, where its rows would be there twice).
    Refuse,
}

/// A local file compared with what an earlier run read of it.
#[derive(Debug, PartialEq, Eq)]
enum Known {
    New,
    Unchanged,
    Appended(Resume),
    /// Its last line, read without its line end, was continued since: read again whole
    /// from here.
    Continued(Resume),
    Rewritten(&'static str),
}

/// Reads what `file` (local object `o`) holds at `at` into `buf`; returns how much.
fn read_at(o: &SourceObject, file: &std::fs::File, at: u64, buf: &mut [u8]) -> Result<usize> {
    use std::os::unix::fs::FileExt;
    file.read_at(buf, at).map_err(|e| Error::io(&o.path, e))
}

/// A file whose last line, read without its line end, was continued since: line `line` is
/// read again whole with a warning (a scan: its cut reading stands), or refused (an
/// export, which holds the cut line already).
fn continued(o: &SourceObject, line: u64, on_rewrite: OnRewrite) -> Result<()> {
    let name = crate::terminal::printable(&o.name);
    let what = format!(
        "its last line (line {line}) was read without its line end, as it was, and the file has continued it since: that reading was of a line cut short"
    );
    match on_rewrite {
        OnRewrite::ReadAgain => {
            tracing::warn!(file = %name, "{what}: read again whole (the findings of the cut line stand)");
            Ok(())
        }
        OnRewrite::Refuse => Err(Error::config(
            format!("{name}: {what}, and exporting it again would put the line in twice"),
            "rebuild the export with --full (the old one stays until the new one is committed)",
        )),
    }
}

/// An object read before whose content changed otherwise than by growing: read whole
/// again with a warning (a scan), or refused (an export, which would hold its earlier
/// records twice).
fn rewritten(o: &SourceObject, why: &str, on_rewrite: OnRewrite) -> Result<()> {
    let name = crate::terminal::printable(&o.name);
    match on_rewrite {
        OnRewrite::ReadAgain if o.s3.is_some() => {
            tracing::warn!(object = %name, "{why}: read whole again (its findings may be reported again)");
            Ok(())
        }
        OnRewrite::ReadAgain => {
            tracing::warn!(file = %name, "{why}: read whole again (its findings may be reported again)");
            Ok(())
        }
        OnRewrite::Refuse => Err(Error::config(
            format!(
                "{name}: {why}: exporting it again would put its earlier records in the export twice"
            ),
            if o.s3.is_some() {
                "put the object back as it was (for S3, restore the earlier version), or rebuild the export with --full (the old one stays until the new one is committed)"
            } else {
                "put the file back as it was and add new records at its end (they are exported alone), or rebuild the export with --full (the old one stays until the new one is committed)"
            },
        )),
    }
}

impl ReadLedger {
    /// Whether no run has recorded anything in it.
    pub fn is_empty(&self) -> bool {
        self.s3.is_empty()
            && self.files.is_empty()
            && self.local.is_empty()
            && self.cloudwatch.is_empty()
    }

    /// Keeps, of `objects`, what earlier runs did not read: new objects, S3 objects with a
    /// new ETag, every CloudWatch stream (resumed, not skipped), and local files that are
    /// new, grew (read from where the last run stopped) or changed (see `on_rewrite`).
    /// Returns how many were left out as already read.
    pub fn select(&self, objects: &mut Vec<SourceObject>, on_rewrite: OnRewrite) -> Result<usize> {
        let before = objects.len();
        let mut keep = Vec::with_capacity(before);
        for mut o in objects.drain(..) {
            if let Some(loc) = &o.s3 {
                let read = self.s3.get(&o.name);
                if loc.etag.is_some() && read == loc.etag.as_ref() {
                    continue;
                }
                // Another object under a key read before: AWS never rewrites its
                // deliveries, so it was replaced (an intact copy of a damaged one, say).
                if read.is_some() && loc.etag.is_some() {
                    rewritten(
                        &o,
                        "it was replaced since it was read (its ETag changed)",
                        on_rewrite,
                    )?;
                }
                keep.push(o);
                continue;
            }
            if o.cw.is_some() {
                keep.push(o);
                continue;
            }
            // Incremental: a line still being written is left to the next run.
            o.hold_open_line = true;
            match self.known(&o)? {
                Known::Unchanged => {}
                Known::New => keep.push(o),
                Known::Appended(r) => {
                    o.resume = Some(r);
                    keep.push(o);
                }
                Known::Continued(r) => {
                    continued(&o, r.lines + 1, on_rewrite)?;
                    o.resume = Some(r);
                    keep.push(o);
                }
                Known::Rewritten(why) => {
                    rewritten(&o, why, on_rewrite)?;
                    keep.push(o);
                }
            }
        }
        *objects = keep;
        Ok(before - objects.len())
    }

    fn known(&self, o: &SourceObject) -> Result<Known> {
        let id = o.identity();
        let Some(m) = self.local.get(&id) else {
            // States written before `local` name files by stamp only (and, earlier still,
            // by the path as given).
            let old = self.files.get(&id).or_else(|| self.files.get(&o.name));
            let same = old.is_some_and(|&(size, mtime)| {
                size == o.size && o.mtime_ns.is_none_or(|t| t == mtime)
            });
            return Ok(if same { Known::Unchanged } else { Known::New });
        };
        // A last line an earlier run left unread (it had no line end yet) is read now
        // that the file has not changed since, as it is.
        let held = if m.read.read_to < m.size && o.size >= m.size {
            let mut rest = vec![0u8; (m.size - m.read.read_to).min(1 << 20) as usize];
            let file = std::fs::File::open(&o.path).map_err(|e| Error::io(&o.path, e))?;
            let n = read_at(o, &file, m.read.read_to, &mut rest)?;
            (!rest[..n].contains(&b'\n')).then(|| Resume {
                from: m.read.read_to,
                lines: m.read.lines,
                header: m.read.header.clone(),
            })
        } else {
            None
        };
        if o.size == m.size && o.mtime_ns == Some(m.mtime_ns) {
            return Ok(held.map_or(Known::Unchanged, Known::Appended));
        }
        if o.size < m.read.read_to {
            return Ok(Known::Rewritten("it is shorter than when it was read"));
        }
        let file = std::fs::File::open(&o.path).map_err(|e| Error::io(&o.path, e))?;
        let samples =
            super::content_samples(&file, m.read.read_to).map_err(|e| Error::io(&o.path, e))?;
        if samples != (m.read.head.clone(), m.read.tail.clone()) {
            return Ok(Known::Rewritten("its content changed since it was read"));
        }
        if o.size == m.size {
            // touched, or rewritten with the same bytes
            return Ok(held.map_or(Known::Unchanged, Known::Appended));
        }
        let mut first = [0u8; 4];
        let n = read_at(o, &file, 0, &mut first)?;
        if super::compression::sniff(&first[..n]) != super::compression::Encoding::Plain {
            return Ok(Known::Rewritten(
                "it grew since it was read, and only plain text can be read on from where a run stopped",
            ));
        }
        // A last line read as it was, without its line end, and continued since: if what
        // follows begins with its line end, it was whole; else it was cut short, and is
        // read again whole.
        let mut next = [0u8; 2];
        let n = read_at(o, &file, m.read.read_to, &mut next)?;
        let ended = match &next[..n] {
            [b'\n', ..] => Some(1),
            [b'\r', b'\n'] => Some(2),
            _ => None,
        };
        Ok(match (m.read.open_from, ended) {
            (Some(from), None) => Known::Continued(Resume {
                from,
                lines: m.read.lines.saturating_sub(1),
                header: m.read.header.clone(),
            }),
            (open, ended) => Known::Appended(Resume {
                // Its line end came later: the line was whole.
                from: m.read.read_to + open.and(ended).unwrap_or(0),
                lines: m.read.lines,
                header: m.read.header.clone(),
            }),
        })
    }

    /// Where to resume a stream: events from `overlap_ms` before the newest one read, minus
    /// the ids already read.
    pub fn resume(&self, stream: &str, overlap_ms: i64) -> Option<(i64, BTreeSet<String>)> {
        self.cloudwatch
            .get(stream)
            .map(|s| (s.until_ms - overlap_ms, s.seen.clone()))
    }

    /// Adds what a run read, but for the objects and CloudWatch streams named in
    /// `held_back` (their records were rejected): the next run reads those again.
    pub fn record(
        &mut self,
        objects: &[SourceObject],
        ledger: &CwLedger,
        held_back: &BTreeSet<String>,
    ) {
        for o in objects.iter().filter(|o| !held_back.contains(&o.name)) {
            if let Some(loc) = &o.s3 {
                if let Some(e) = &loc.etag {
                    self.s3.insert(o.name.clone(), e.clone());
                }
            } else if o.cw.is_none()
                && let Some(read) = o.read.get()
            {
                // A file the run did not read to its end (it stopped early) is not recorded.
                self.files.remove(&o.name);
                let id = o.identity();
                self.files.remove(&id);
                self.local.insert(
                    id,
                    LocalMark {
                        size: o.size,
                        mtime_ns: o.mtime_ns.unwrap_or_default(),
                        read: read.clone(),
                    },
                );
            }
        }
        let overlap = ledger.overlap_ms();
        for (stream, read) in ledger.streams().iter() {
            if held_back.contains(stream) {
                continue;
            }
            let entry = self.cloudwatch.entry(stream.clone()).or_default();
            if read.until_ms >= entry.until_ms {
                entry.seen.extend(read.seen.iter().cloned());
                entry.until_ms = read.until_ms;
                entry.forget_before(read.until_ms - overlap);
            } else {
                entry.seen.extend(read.seen.iter().cloned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(path: &std::path::Path) -> SourceObject {
        let meta = std::fs::metadata(path).unwrap();
        SourceObject::local(path, meta.len(), crate::source::parse_key("a.log")).listed_at(&meta)
    }

    /// What a read of `o` to `read_to` (lines, header) leaves in its mark.
    fn read(o: &SourceObject, read_to: u64, lines: u64) {
        let file = std::fs::File::open(&o.path).unwrap();
        let (head, tail) = crate::source::content_samples(&file, read_to).unwrap();
        o.read
            .set(ReadMark {
                read_to,
                lines,
                header: Some("version srcaddr".into()),
                head,
                tail,
                open_from: None,
            })
            .unwrap();
    }

    fn select(st: &ReadLedger, o: &SourceObject, on: OnRewrite) -> Result<Vec<SourceObject>> {
        let mut v = vec![o.clone()];
        st.select(&mut v, on)?;
        Ok(v)
    }

    /// Issue 17, 6 and 7: a file is recorded as it was listed and read (records appended
    /// during the read are read next time); a touched file is not read again, an appended
    /// one only from where the last read stopped, and a rewritten one is read whole again
    /// by a scan and refused by an export.
    #[test]
    fn local_files_are_known_by_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.log");
        std::fs::write(&path, "version srcaddr\n2 10.0.0.1\n").unwrap();
        let first = listed(&path);
        read(&first, 26, 2);
        // Appended while it was read; the run then saves its state.
        std::fs::write(&path, "version srcaddr\n2 10.0.0.1\n2 10.0.0.2\n").unwrap();
        let mut st = ReadLedger::default();
        st.record(
            std::slice::from_ref(&first),
            &CwLedger::default(),
            &BTreeSet::new(),
        );
        let grown = select(&st, &listed(&path), OnRewrite::Refuse).unwrap();
        assert_eq!(
            grown[0].resume,
            Some(Resume {
                from: 26,
                lines: 2,
                header: Some("version srcaddr".into())
            })
        );

        // Touched: the same bytes, a new modification time.
        std::fs::write(&path, "version srcaddr\n2 10.0.0.1\n").unwrap();
        let touched = listed(&path);
        assert!(select(&st, &touched, OnRewrite::Refuse).unwrap().is_empty());

        // Rewritten: a scan reads it whole again, an export refuses it.
        std::fs::write(&path, "version srcaddr\n2 10.0.0.9\n2 10.0.0.2\n").unwrap();
        let changed = listed(&path);
        let again = select(&st, &changed, OnRewrite::ReadAgain).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].resume, None);
        let err = select(&st, &changed, OnRewrite::Refuse)
            .unwrap_err()
            .to_string();
        assert!(err.contains("its content changed"), "{err}");
        std::fs::write(&path, "version").unwrap();
        let err = select(&st, &listed(&path), OnRewrite::Refuse)
            .unwrap_err()
            .to_string();
        assert!(err.contains("shorter"), "{err}");
    }

    #[test]
    fn ledger_keeps_only_the_overlap() {
        for overlap in [30 * 60 * 1000, 6 * 3600 * 1000] {
            let ledger = CwLedger::new(overlap);
            ledger.note("s", 0, "a");
            ledger.note("s", overlap + 10, "b");
            let mut st = ReadLedger::default();
            st.record(&[], &ledger, &BTreeSet::new());
            let s = &st.cloudwatch["s"];
            assert_eq!(s.until_ms, overlap + 10);
            assert_eq!(
                s.seen.iter().cloned().collect::<Vec<_>>(),
                vec![format!("{}:b", overlap + 10)]
            );
            let round =
                serde_json::from_str::<ReadLedger>(&serde_json::to_string(&st).unwrap()).unwrap();
            assert_eq!(round.cloudwatch, st.cloudwatch);
            assert_eq!(round.resume("s", overlap).unwrap().0, 10);
        }
    }

    /// A stream whose records were rejected stays where it was, to be read again.
    #[test]
    fn a_held_back_stream_is_not_moved_forward() {
        let ledger = CwLedger::new(60_000);
        ledger.note("cwlogs://g/held", 5_000, "a");
        ledger.note("cwlogs://g/read", 7_000, "b");
        let mut st = ReadLedger::default();
        st.record(&[], &ledger, &["cwlogs://g/held".to_string()].into());
        assert!(!st.cloudwatch.contains_key("cwlogs://g/held"));
        assert_eq!(st.cloudwatch["cwlogs://g/read"].until_ms, 7_000);
    }
}
