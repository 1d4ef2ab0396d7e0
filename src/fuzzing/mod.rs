//! Fuzz harnesses: one function per `cargo fuzz` target in `fuzz/`, kept in the library so
//! that `tests/it/fuzz_corpus.rs` replays every seed and regression input through exactly
//! the code the fuzzer ran, under plain `cargo test`. Behind the `fuzzing` feature, which
//! the fuzz crate and the tests enable, so a release build carries none of it.
//!
//! Each harness takes arbitrary bytes and panics only when the library breaks a promise:
//! every input decodes, or fails with this crate's [`Error`] naming the object; counters
//! add up (`records = rows + rejected + outside_window`); and what is accepted does not
//! depend on how the bytes were chunked or which columns a query asked for.

mod inventory;
mod read;
mod text;

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Int64Type, TimestampSecondType};

pub use self::inventory::inventory;
pub use self::read::{gzip, parquet};
pub use self::text::{log_format, text_decoder, text_structured};
use crate::decode::{DecodeOptions, RejectSink, TimeWindow};
use crate::format::{ColumnSource, FIELDS, FlowSchema, Kind, Layout};

/// A fuzz target's harness: any bytes in, no panic out.
pub type Harness = fn(&[u8]);

/// Every target: its name (the directory under `fuzz/corpus/` and `fuzz/regressions/`)
/// and its harness.
pub const TARGETS: &[(&str, Harness)] = &[
    ("text_decoder", text_decoder),
    ("text_structured", text_structured),
    ("log_format", log_format),
    ("inventory", inventory),
    ("gzip", gzip),
    ("parquet", parquet),
];

/// The object name every harness decodes under; errors and rejects must carry it.
const OBJECT: &str = "fuzz-object";

/// For the `parquet` target: the library turns panics inside the Parquet decoder into
/// errors, but libFuzzer's panic hook aborts before any `catch_unwind` is reached, so the
/// default hook is put back. A panic nothing catches still ends the run: libfuzzer-sys
/// aborts on any panic that gets back to it.
pub fn let_decoder_panics_unwind() {
    drop(std::panic::take_hook());
}

fn schema_for(unknown: &[String]) -> FlowSchema {
    static DEFAULT: OnceLock<FlowSchema> = OnceLock::new();
    if unknown.is_empty() {
        DEFAULT.get_or_init(FlowSchema::default).clone()
    } else {
        FlowSchema::new(unknown)
    }
}

struct Setup {
    schema: FlowSchema,
    /// Column names; `None` for every decoded column.
    columns: Option<Vec<&'static str>>,
    batch_size: usize,
    window: Option<TimeWindow>,
    log_format: Option<Layout>,
    /// The format `describe-flow-logs` gives for flow log `fl-fuzz`.
    flow_log: Option<Layout>,
    /// Skip Parquet row groups outside `window` by their statistics.
    prune: bool,
    strict: bool,
}

impl Setup {
    fn new() -> Self {
        Setup {
            schema: schema_for(&[]),
            columns: None,
            batch_size: 1024,
            window: None,
            log_format: None,
            flow_log: None,
            prune: false,
            strict: false,
        }
    }

    fn build(&self) -> (Arc<DecodeOptions>, Arc<RejectSink>) {
        let sink = Arc::new(RejectSink::new(self.strict, None));
        let projection = self.columns.as_ref().map(|cols| {
            cols.iter()
                .filter_map(|c| self.schema.index_of(c))
                .collect()
        });
        let mut opts = DecodeOptions::new(
            self.schema.clone(),
            projection,
            self.batch_size,
            self.window,
            self.log_format.clone(),
            sink.clone(),
        );
        if let Some(l) = &self.flow_log {
            opts.flow_log_formats = Arc::new([("fl-fuzz".to_string(), vec![l.clone()])].into());
        }
        if self.prune {
            opts.prune = self.window;
        }
        (Arc::new(opts), sink)
    }
}

/// What one decoding run produced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    records: u64,
    rows: u64,
    rejected: u64,
    outside: u64,
}

impl Counts {
    fn check(&self, what: &str) {
        assert_eq!(
            self.records,
            self.rows + self.rejected + self.outside,
            "{what}: records != rows + rejected + outside_window: {self:?}"
        );
    }
}

/// Checks what a batch promises whatever the input: the output schema, the batch size,
/// valid addresses in address columns, no `-` standing for a value, and timestamps equal
/// to the epoch columns they come from.
///
/// The decoder stops between lines, and one line may hold several `{"message": …}`
/// wrappers (Firehose concatenates them), so with `wrappers` a batch may run over by the
/// rest of one line; that line is at most `MAX_LINE_BYTES` long, so memory stays bounded.
fn check_batch(batch: &RecordBatch, opts: &DecodeOptions, text: bool, wrappers: bool) {
    assert_eq!(batch.schema(), opts.output_schema, "batch schema");
    assert!(
        wrappers || batch.num_rows() <= opts.batch_size,
        "batch of {} rows, over the batch size {}",
        batch.num_rows(),
        opts.batch_size
    );
    let sources = opts.schema.sources();
    let mut epochs = [None, None];
    let mut times = [None, None];
    for (out, &c) in opts.projection.iter().enumerate() {
        let col = batch.column(out);
        match &sources[c] {
            ColumnSource::Known(i) => {
                let f = &FIELDS[*i];
                match f.kind {
                    Kind::Ip | Kind::Str => {
                        for v in col.as_string_view().iter().flatten() {
                            assert_ne!(v, "-", "`-` kept as a value of {}", f.column);
                            if f.kind == Kind::Ip {
                                assert!(
                                    v.parse::<IpAddr>().is_ok(),
                                    "{} holds {v:?}, not an address",
                                    f.column
                                );
                            }
                            if text {
                                assert!(
                                    !v.is_empty() && !v.contains([' ', '\t']),
                                    "{} holds {v:?}, not one token",
                                    f.column
                                );
                            }
                        }
                    }
                    Kind::Epoch => epochs[usize::from(f.column == "end")] = Some(out),
                    Kind::Int32 | Kind::Int64 => {}
                }
            }
            ColumnSource::Time { end } => times[usize::from(*end)] = Some(out),
            ColumnSource::Provenance { line: true } => {
                let lines = col.as_primitive::<datafusion::arrow::datatypes::Int64Type>();
                assert_eq!(lines.null_count(), 0, "source_line has NULLs");
                assert!(
                    lines.values().iter().all(|&l| l >= 1),
                    "source_line below 1"
                );
            }
            ColumnSource::Unknown(_)
            | ColumnSource::Enriched(_)
            | ColumnSource::Provenance { line: false } => {}
        }
    }
    for (epoch, time) in epochs.into_iter().zip(times) {
        if let (Some(e), Some(t)) = (epoch, time) {
            let e = batch.column(e).as_primitive::<Int64Type>();
            let t = batch.column(t).as_primitive::<TimestampSecondType>();
            for i in 0..batch.num_rows() {
                assert_eq!(
                    e.is_valid(i).then(|| e.value(i)),
                    t.is_valid(i).then(|| t.value(i)),
                    "row {i}: time column differs from its epoch column"
                );
            }
        }
    }
}
