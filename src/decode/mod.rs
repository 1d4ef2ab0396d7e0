//! Bytes → Arrow record batches, with no IO: text records ([`text`]) and Parquet batches
//! as AWS writes them ([`parquet`]), both into the canonical [`FlowSchema`].

pub mod filter;
mod lex;
pub mod parquet;
mod rejects;
mod text;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use datafusion::arrow::datatypes::{Schema, SchemaRef};

pub use rejects::{Reject, RejectSink};

pub use text::{MAX_LINE_BYTES, TextDecoder};

use crate::format::{ColumnSource, FlowSchema, Layout};

/// Epoch values at or above this are taken as milliseconds (in seconds it is year 5138).
const MILLIS_THRESHOLD: i64 = 100_000_000_000;

/// `source_object` for `n` rows of one object: the name stored once and `n` views of it,
/// not `n` copies (a path is ~180 bytes, and every row of a scan's copy carries it). Its
/// buffer is the name's size: a builder's first block is 8 KiB, which each batch's rows
/// kept alive (26 MB of the 4x benchmark corpus's scan, for a few hundred bytes of names).
pub fn repeated_name(name: &str, n: usize) -> datafusion::arrow::array::ArrayRef {
    use datafusion::arrow::array::{StringViewBuilder, UInt32Array};
    let mut one =
        StringViewBuilder::with_capacity(1).with_fixed_block_size(name.len().max(1) as u32);
    one.append_value(name);
    datafusion::arrow::compute::take(&one.finish(), &UInt32Array::from(vec![0u32; n]), None)
        .expect("index 0 of a one-row array")
}

/// Some writers put `start`/`end` in milliseconds; sageflow always stores seconds.
pub fn normalise_epoch(v: i64) -> i64 {
    if v >= MILLIS_THRESHOLD { v / 1000 } else { v }
}

/// A time window in unix seconds; either bound may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl TimeWindow {
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Whether a record spanning `start..=end` overlaps the window. A record with no
    /// times (unusual) is kept: dropping it would hide it.
    pub fn overlaps(&self, start: Option<i64>, end: Option<i64>) -> bool {
        let lo = start.or(end);
        let hi = end.or(start);
        if let (Some(since), Some(hi)) = (self.since, hi)
            && hi < since
        {
            return false;
        }
        if let (Some(until), Some(lo)) = (self.until, lo)
            && lo > until
        {
            return false;
        }
        true
    }

    /// Whether the interval `[lo, hi]` (e.g. what a file may hold) overlaps the window.
    pub fn overlaps_range(&self, lo: i64, hi: i64) -> bool {
        self.overlaps(Some(lo), Some(hi))
    }

    /// The intersection of two windows.
    pub fn intersect(&self, other: &TimeWindow) -> TimeWindow {
        let max = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        let min = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        TimeWindow {
            since: max(self.since, other.since),
            until: min(self.until, other.until),
        }
    }
}

/// Everything a decoder needs to know about the run, shared by all decoders.
#[derive(Debug)]
pub struct DecodeOptions {
    pub schema: FlowSchema,
    /// Table columns to produce, in output order.
    pub projection: Vec<usize>,
    pub output_schema: SchemaRef,
    pub batch_size: usize,
    /// Rows outside this window are counted and dropped (`--since`/`--until`).
    pub window: Option<TimeWindow>,
    /// `--log-format`: overrides header lines and the default format.
    pub log_format: Option<Layout>,
    /// Formats of flow logs by id (from `describe-flow-logs`), for objects whose key names
    /// the flow log and that have no header line. A CloudWatch log group's key has the
    /// format of each flow log that writes to it, the first read by default: they share
    /// its streams, and a record is read in the format with its number of fields.
    pub flow_log_formats: Arc<std::collections::HashMap<String, Vec<Layout>>>,
    /// The window of the query's time filters and `--since`/`--until`: Parquet row groups
    /// whose statistics lie outside it are not read.
    pub prune: Option<TimeWindow>,
    /// The query's filters that decoders apply exactly (see [`filter`]): their columns are
    /// read whether or not they are projected.
    pub filters: Vec<filter::Predicate>,
    /// The decoders count the records of these ENIs as rows and drop them as soon as they
    /// are decoded (the text decoder before any of their columns is built): ENIs whose
    /// owner the query's filters rule out (see [`crate::engine::owners`]). Unlike
    /// `filters` this only thins the rows (the owner filter is applied again after
    /// decoding), so a record without an ENI passes.
    pub skip_enis: Option<Arc<EniSet>>,
    pub rejects: Arc<RejectSink>,
    /// Whether a header line may name fields the catalogue does not know (they become no
    /// column); when not, such a header is an error naming the object and line.
    pub allow_unknown_fields: bool,
    /// For a run without an inventory, the options that read a sageflow export's
    /// enrichment columns as it wrote them (its projection includes them): an export is
    /// enriched already, and recomputing without an inventory would make every column
    /// empty. Other objects use these options and are enriched after decoding.
    pub materialised: Option<Arc<DecodeOptions>>,
}

impl DecodeOptions {
    pub fn new(
        schema: FlowSchema,
        projection: Option<Vec<usize>>,
        batch_size: usize,
        window: Option<TimeWindow>,
        log_format: Option<Layout>,
        rejects: Arc<RejectSink>,
    ) -> Self {
        // Enrichment columns are not decoded: by default every decoded column is produced.
        let projection = projection.unwrap_or_else(|| {
            (0..schema.arrow().fields().len())
                .filter(|&i| !matches!(schema.sources()[i], ColumnSource::Enriched(_)))
                .collect()
        });
        let output_schema = Arc::new(Schema::new(
            projection
                .iter()
                .map(|&i| schema.arrow().field(i).clone())
                .collect::<Vec<_>>(),
        ));
        DecodeOptions {
            schema,
            projection,
            output_schema,
            batch_size: batch_size.max(1),
            window: window.filter(|w| !w.is_open()),
            log_format,
            flow_log_formats: Arc::default(),
            prune: None,
            filters: Vec::new(),
            skip_enis: None,
            rejects,
            allow_unknown_fields: true,
            materialised: None,
        }
    }
}

/// ENI ids, as the bytes of the field, for [`DecodeOptions::skip_enis`].
pub type EniSet = foldhash::HashSet<Box<[u8]>>;

/// Run-wide counters, updated by every source and read by the progress bar and summary.
/// Invariant at the end of a run: `records == rows + rejected + outside_window`.
#[derive(Debug, Default)]
pub struct ScanStats {
    pub objects_total: AtomicU64,
    pub objects_done: AtomicU64,
    /// Objects skipped without being opened because their key lies outside the window.
    pub objects_pruned: AtomicU64,
    /// Bytes read from sources (compressed size).
    pub bytes: AtomicU64,
    pub records: AtomicU64,
    /// Records that decoded, including those the query's pushed-down filters then dropped
    /// (as the query's `WHERE` would have): they are valid rows, not rejects.
    pub rows: AtomicU64,
    pub outside_window: AtomicU64,
    /// Objects damaged at rest (a corrupt or truncated gzip member): their rows before the
    /// damage are kept and the unreadable rest is one rejected record, but the run must end
    /// with these errors ([`ScanStats::damage`]), never as a complete result.
    pub damaged: std::sync::Mutex<Vec<crate::error::Error>>,
    /// The record formats rows were decoded in (AWS `${field}` syntax; `interface-id`
    /// included where a CloudWatch stream's ENI stood in for it): what the records read
    /// lack, whatever describe-flow-logs says ([`ScanStats::note_format`]).
    pub formats: std::sync::Mutex<std::collections::BTreeSet<String>>,
    /// Set once a statement has read the sources: the next statements of the same run read
    /// them again, and the summary must count each object once ([`ScanStats::settle`]).
    settled: std::sync::atomic::AtomicBool,
}

/// The counters at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub objects_total: u64,
    pub objects_done: u64,
    pub objects_pruned: u64,
    pub bytes: u64,
    pub records: u64,
    pub rows: u64,
    pub outside_window: u64,
}

impl ScanStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            objects_total: Self::get(&self.objects_total),
            objects_done: Self::get(&self.objects_done),
            objects_pruned: Self::get(&self.objects_pruned),
            bytes: Self::get(&self.bytes),
            records: Self::get(&self.records),
            rows: Self::get(&self.rows),
            outside_window: Self::get(&self.outside_window),
        }
    }

    /// Marks the counters final when something was read: later reads of the run (the next
    /// statements of a `--file`) count into a throwaway set and report no reject twice.
    pub fn settle(&self) {
        if Self::get(&self.objects_done) > 0 || Self::get(&self.objects_pruned) > 0 {
            self.settled.store(true, Ordering::Relaxed);
        }
    }

    pub fn is_settled(&self) -> bool {
        self.settled.load(Ordering::Relaxed)
    }

    /// Records a format rows were decoded in.
    pub fn note_format(&self, format: String) {
        let mut formats = self.formats.lock().unwrap_or_else(|p| p.into_inner());
        formats.insert(format);
    }

    /// The formats rows were decoded in so far.
    pub fn formats(&self) -> Vec<String> {
        let formats = self.formats.lock().unwrap_or_else(|p| p.into_inner());
        formats.iter().cloned().collect()
    }

    /// Records an object damaged at rest.
    pub fn note_damaged(&self, e: crate::error::Error) {
        self.damaged
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    /// Every object found damaged so far, in the order found, taken out. Called once a
    /// run's results are out, and before anything that would mark its objects as done
    /// (scan state, export commit): the run then fails.
    pub fn take_damage(&self) -> Vec<crate::error::Error> {
        std::mem::take(&mut *self.damaged.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millisecond_epochs_become_seconds() {
        assert_eq!(normalise_epoch(1512564058000), 1512564058);
        assert_eq!(normalise_epoch(1512564058), 1512564058);
    }

    #[test]
    fn window_overlap() {
        let w = TimeWindow {
            since: Some(100),
            until: Some(200),
        };
        assert!(w.overlaps(Some(90), Some(110)));
        assert!(w.overlaps(Some(150), Some(160)));
        assert!(!w.overlaps(Some(10), Some(99)));
        assert!(!w.overlaps(Some(201), Some(300)));
        assert!(w.overlaps(None, None));
    }
}
