//! Fuzz harnesses: one function per `cargo fuzz` target in `fuzz/`, kept in the library so
//! that `tests/fuzz_corpus.rs` replays every seed and regression input through exactly
//! the code the fuzzer ran, under plain `cargo test`.
//!
//! Each harness takes arbitrary bytes and panics only when the library breaks a promise:
//! every input decodes, or fails with this crate's [`Error`] naming the object; counters
//! add up (`records = rows + rejected + outside_window`); and what is accepted does not
//! depend on how the bytes were chunked or which columns a query asked for.

use std::io::Read;
use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Int64Type, TimestampSecondType};

use crate::decode::{DecodeOptions, RejectSink, ScanStats, TextDecoder, TimeWindow};
use crate::error::{Error, Result};
use crate::format::{ColumnSource, FIELDS, FlowSchema, Kind, Layout};
use crate::source::{KeyInfo, SourceObject};

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

/// Record formats of the structured text target, picked by the input's first byte.
pub const FORMATS: &[Option<&str>] = &[
    // The default v2 format (no `--log-format`, no header line).
    None,
    // Every v2–v5 field, as AWS prints a custom format.
    Some(
        "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path}",
    ),
    // A v3..v11 mix: every kind of value (ports, counters, times, addresses, ECS, tags,
    // next-hop fields), not in catalogue order.
    Some(
        "${version} ${interface-id} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${packets} ${bytes} ${start} ${end} ${flow-direction} ${traffic-path} ${ecs-cluster-name} ${ecs-task-id} ${reject-reason} ${resource-id} ${encryption-status} ${instance-tag} ${interface-type} ${next-hop-interface-id} ${action} ${log-status}",
    ),
    // Transit Gateway flow logs, in AWS's default TGW order.
    Some(
        "${version} ${resource-type} ${account-id} ${tgw-id} ${tgw-attachment-id} ${tgw-src-vpc-account-id} ${tgw-dst-vpc-account-id} ${tgw-src-vpc-id} ${tgw-dst-vpc-id} ${tgw-src-subnet-id} ${tgw-dst-subnet-id} ${tgw-src-eni} ${tgw-dst-eni} ${tgw-src-az-id} ${tgw-dst-az-id} ${tgw-pair-attachment-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${log-status} ${type} ${packets-lost-no-route} ${packets-lost-blackhole} ${packets-lost-mtu-exceeded} ${packets-lost-ttl-expired} ${tcp-flags} ${region} ${flow-direction} ${pkt-src-aws-service} ${pkt-dst-aws-service}",
    ),
    // A field sageflow does not know becomes a text column.
    Some("${version} ${srcaddr} ${dstaddr} ${brand-new-field} ${bytes} ${start} ${end} ${action}"),
];

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
            opts.flow_log_formats = Arc::new([("fl-fuzz".to_string(), l.clone())].into());
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

/// A failed run must fail with a reject naming the object and a line of the input.
fn check_strict_error(e: &Error, lines: u64) {
    match e {
        Error::Rejected(r) => {
            assert_eq!(r.object, OBJECT, "reject names the wrong object: {r}");
            assert!(
                (1..=lines.max(1)).contains(&r.line),
                "reject at line {} of a {lines}-line input: {r}",
                r.line
            );
            assert!(!r.reason.is_empty(), "reject without a reason: {r}");
        }
        other => panic!("strict text decoding failed with something else than a reject: {other}"),
    }
}

/// Pushes `chunks` through a decoder as a reader would: each call sees what is buffered,
/// an incomplete line waits for the next chunk, full batches are flushed.
fn push_chunks<'a>(
    dec: &mut TextDecoder,
    opts: &DecodeOptions,
    chunks: impl Iterator<Item = &'a [u8]> + Clone,
) -> Result<u64> {
    let wrappers = chunks.clone().any(|c| c.contains(&b'{'));
    let mut rows = 0u64;
    let mut buf: Vec<u8> = Vec::new();
    let mut take = |dec: &mut TextDecoder| -> Result<()> {
        if let Some(b) = dec.flush()? {
            check_batch(&b, opts, true, wrappers);
            rows += b.num_rows() as u64;
        }
        Ok(())
    };
    let mut chunks = chunks.peekable();
    loop {
        let eof = chunks.peek().is_none();
        let mut start = 0;
        loop {
            let used = dec.decode(&buf[start..], eof)?;
            start += used;
            if dec.is_full() {
                take(dec)?;
                continue;
            }
            // A decoder that is not full and consumed nothing needs more input; at the
            // end of input it must have taken everything, or the reader would spin.
            if used == 0 || start == buf.len() {
                break;
            }
        }
        if eof {
            assert_eq!(
                start,
                buf.len(),
                "decoder left bytes unconsumed at end of input"
            );
            break;
        }
        buf.drain(..start);
        buf.extend_from_slice(chunks.next().expect("peeked"));
    }
    take(dec)?;
    Ok(rows)
}

fn counts(dec: &TextDecoder, rows: u64) -> Counts {
    Counts {
        records: dec.records,
        rows: rows + dec.filtered,
        rejected: dec.rejected,
        outside: dec.outside_window,
    }
}

/// Target `text_decoder`: arbitrary bytes through the push API, decoded whole, in small
/// chunks with no columns projected, line by line, and strictly. All four must agree.
pub fn text_decoder(data: &[u8]) {
    let setup = Setup {
        batch_size: 7,
        ..Setup::new()
    };
    let (opts, sink) = setup.build();
    let mut whole = TextDecoder::new(opts.clone(), OBJECT);
    let rows = push_chunks(&mut whole, &opts, std::iter::once(data)).expect("lenient decoding");
    let reference = counts(&whole, rows);
    reference.check("whole");
    assert_eq!(
        sink.count(),
        reference.rejected,
        "sink and decoder disagree"
    );

    let chunked_setup = Setup {
        columns: Some(Vec::new()),
        batch_size: 3,
        ..Setup::new()
    };
    let (chunked_opts, _) = chunked_setup.build();
    let mut chunked = TextDecoder::new(chunked_opts.clone(), OBJECT);
    let step = 1 + usize::from(data.first().copied().unwrap_or(0) % 13);
    let rows = push_chunks(&mut chunked, &chunked_opts, data.chunks(step)).expect("lenient");
    assert_eq!(
        counts(&chunked, rows),
        reference,
        "chunks of {step} bytes with no column projected decode differently"
    );

    let (line_opts, _) = setup.build();
    let mut by_line = TextDecoder::new(line_opts.clone(), OBJECT);
    let mut rows = 0u64;
    let wrappers = data.contains(&b'{');
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    if !data.is_empty() {
        for line in body.split(|&b| b == b'\n') {
            by_line.decode_line(line).expect("lenient decoding");
            if by_line.is_full()
                && let Some(b) = by_line.flush().expect("flush")
            {
                check_batch(&b, &line_opts, true, wrappers);
                rows += b.num_rows() as u64;
            }
        }
    }
    if let Some(b) = by_line.flush().expect("flush") {
        check_batch(&b, &line_opts, true, wrappers);
        rows += b.num_rows() as u64;
    }
    assert_eq!(
        counts(&by_line, rows),
        reference,
        "decode_line decodes differently"
    );

    let (strict_opts, _) = Setup {
        strict: true,
        ..Setup::new()
    }
    .build();
    let mut strict = TextDecoder::new(strict_opts.clone(), OBJECT);
    match push_chunks(&mut strict, &strict_opts, std::iter::once(data)) {
        Ok(_) => assert_eq!(
            reference.rejected, 0,
            "strict run accepted a rejected record"
        ),
        Err(e) => {
            assert!(
                reference.rejected > 0,
                "strict run failed on clean input: {e}"
            );
            check_strict_error(&e, whole.line());
        }
    }
}

/// Target `text_structured`: byte 0 picks a record format from [`FORMATS`], byte 1 how
/// it is given (`--log-format`, header line, the flow log's format, or both a header and
/// `--log-format`), strictness, a time window, a projection and the batch size; the rest
/// are records (seeded with real lines under each format).
pub fn text_structured(data: &[u8]) {
    let [pick, flags, lines @ ..] = data else {
        return;
    };
    let format = FORMATS[usize::from(*pick) % FORMATS.len()];
    let layout = format.map(|f| Layout::parse(f).expect("harness formats are valid"));
    let unknown = layout.as_ref().map(Layout::unknown).unwrap_or_default();
    let delivery = flags & 3;
    let strict = flags & 4 != 0;
    let window = (flags & 8 != 0).then_some(TimeWindow {
        since: Some(1_500_000_000),
        until: Some(1_800_000_000),
    });
    let columns = match (flags >> 4) & 3 {
        0 => None,
        1 => Some(Vec::new()),
        2 => Some(vec!["srcaddr", "bytes", "start_time", "end", "log_status"]),
        _ => Some(vec![
            "interface_id",
            "brand_new_field",
            "tgw_src_eni",
            "srcport",
        ]),
    };
    let batch_size = if flags & 0x40 != 0 { 2 } else { 1024 };
    let default_eni = (flags & 0x80 != 0).then_some("eni-fuzz0000");

    let mut input = Vec::with_capacity(lines.len() + 1024);
    if let Some(l) = &layout
        && delivery & 1 == 1
    {
        // A header line names fields with hyphens, as AWS writes it.
        let header: Vec<String> = l
            .to_aws_format()
            .split(' ')
            .map(|t| t.trim_start_matches("${").trim_end_matches('}').to_string())
            .collect();
        input.extend_from_slice(header.join(" ").as_bytes());
        input.push(b'\n');
    }
    input.extend_from_slice(lines);

    let setup = Setup {
        schema: schema_for(&unknown),
        columns,
        batch_size,
        window,
        log_format: layout.clone().filter(|_| delivery == 0 || delivery == 3),
        flow_log: layout.clone().filter(|_| delivery == 2),
        prune: false,
        strict,
    };
    let (opts, sink) = setup.build();
    let mut dec = TextDecoder::new(opts.clone(), OBJECT)
        .with_flow_log(Some("fl-fuzz"))
        .with_default_interface(default_eni);
    let step = 1 + usize::from(*flags % 61);
    let result = push_chunks(&mut dec, &opts, input.chunks(step));
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            assert!(strict, "lenient decoding failed: {e}");
            check_strict_error(&e, dec.line());
            return;
        }
    };
    let got = counts(&dec, rows);
    got.check("structured");
    assert_eq!(sink.count(), got.rejected, "sink and decoder disagree");

    // The same records with no column projected, no window, in one piece: the same
    // records are accepted.
    let plain = Setup {
        columns: Some(Vec::new()),
        window: None,
        strict: false,
        batch_size: 1024,
        ..setup
    };
    let (popts, _) = plain.build();
    let mut all = TextDecoder::new(popts.clone(), OBJECT).with_flow_log(Some("fl-fuzz"));
    let rows = push_chunks(&mut all, &popts, std::iter::once(input.as_slice())).expect("lenient");
    let reference = counts(&all, rows);
    assert_eq!(
        (reference.records, reference.rejected),
        (got.records, got.rejected),
        "projection, window or chunking changed which records are rejected"
    );
    assert_eq!(
        reference.rows,
        got.rows + got.outside,
        "projection, window or chunking changed which records are accepted"
    );
}

/// Target `log_format`: arbitrary strings as `--log-format` values, header lines and
/// object keys. A parsed layout names each column once, survives a round trip through
/// its AWS spelling, and has every column in the table built for it.
pub fn log_format(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match Layout::parse(&text) {
        Ok(l) => {
            assert!(!l.slots.is_empty(), "empty layout from {text:?}");
            let mut seen = std::collections::HashSet::new();
            for s in &l.slots {
                assert!(seen.insert(s.column()), "column {} twice", s.column());
            }
            let aws = l.to_aws_format();
            let again = Layout::parse(&aws)
                .unwrap_or_else(|e| panic!("{aws:?} (from {text:?}) does not parse: {e}"));
            assert_eq!(again, l, "{text:?} → {aws:?} is another layout");
            let schema = FlowSchema::new(&l.unknown());
            for s in &l.slots {
                let expected = match s {
                    crate::format::Slot::Known(i) => ColumnSource::Known(*i),
                    crate::format::Slot::Unknown(c) => ColumnSource::Unknown(c.clone()),
                };
                assert!(
                    schema.sources().contains(&expected),
                    "field {} of {text:?} has no column in the table",
                    s.column()
                );
            }
        }
        Err(Error::Format(m)) => assert!(!m.is_empty()),
        Err(other) => panic!("--log-format failed with a non-format error: {other}"),
    }
    if let Some(h) = Layout::from_header(&text) {
        assert_eq!(
            Layout::parse(&text).ok(),
            Some(h),
            "header {text:?} reads differently as a format"
        );
    }
    let key = crate::source::parse_key(&text);
    if let Some((lo, hi)) = key.range {
        assert!(lo <= hi, "key {text:?} gives the time range {lo}..{hi}");
    }
}

/// Target `inventory`: arbitrary bytes as a saved AWS CLI output file (twice, under a
/// plain name and under a name carrying a prefix-list id) and as ip-ranges.json; what
/// loads must also make an enrichment index and a report.
pub fn inventory(data: &[u8]) {
    use crate::inventory::{Inventory, IpRanges, load, show};
    let mut inv = Inventory::default();
    for file in [
        "inventory/describe-fuzz.json",
        "inventory/get-managed-prefix-list-entries-pl-0123abcd.json",
    ] {
        match load::add_file(&mut inv, file, data) {
            Ok(()) => {}
            Err(Error::Inventory { file: f, message }) => {
                assert_eq!(f, file, "inventory error names another file");
                assert!(!message.is_empty());
            }
            Err(other) => panic!("inventory load failed with a non-inventory error: {other}"),
        }
    }
    load::finish(&mut inv);
    load::finish(&mut inv);
    for w in &inv.warnings {
        assert!(
            w.starts_with("inventory/")
                || [
                    "route table ",
                    "gateway endpoint ",
                    "endpoint ",
                    "training job ",
                    "processing job ",
                    "transform job "
                ]
                .iter()
                .any(|p| w.starts_with(p)),
            "warning names no file: {w}"
        );
    }
    let enricher = crate::enrich::Enricher::new(Arc::new(inv));
    let report = show::render(enricher.inventory(), "fuzz", &|eni| {
        enricher
            .owner(&eni.id)
            .map(|o| o.describe())
            .unwrap_or_default()
    });
    assert!(!report.is_empty());
    match IpRanges::from_json(data, "fuzz-ip-ranges.json") {
        Ok(_) => {}
        Err(Error::Inventory { file, message }) => {
            assert_eq!(file, "fuzz-ip-ranges.json");
            assert!(!message.is_empty());
        }
        Err(other) => panic!("ip-ranges failed with a non-inventory error: {other}"),
    }
}

fn object(name: &str, size: usize) -> SourceObject {
    SourceObject::local(std::path::Path::new(name), size as u64, KeyInfo::default())
}

/// Runs one object through the local reader's decoding path, checking every batch.
fn read_object_bytes(
    enc: crate::source::read::Encoding,
    data: &[u8],
    setup: &Setup,
) -> (Result<bool>, Counts) {
    use crate::source::read::{Encoding, read_encoded, read_parquet};
    let obj = object(OBJECT, data.len());
    let (opts, sink) = setup.build();
    let stats = Arc::new(ScanStats::default());
    let mut rows = 0u64;
    let parquet = enc == Encoding::Parquet;
    // Compressed bytes say nothing of the text, so the batch bound is checked on plain
    // text and Parquet only.
    let wrappers = enc == Encoding::Gzip || data.contains(&b'{');
    let mut emit = |b: RecordBatch| {
        check_batch(&b, &opts, !parquet, wrappers);
        rows += b.num_rows() as u64;
        true
    };
    let result = if parquet {
        let bytes = bytes::Bytes::copy_from_slice(data);
        read_parquet(&obj, bytes, &opts, &stats, &mut emit)
    } else {
        read_encoded(
            &obj,
            enc,
            data,
            &opts,
            &stats,
            &mut emit,
            &mut Default::default(),
        )
    };
    // A damaged gzip member keeps the rows before it and ends the run with its error.
    let result = result.and_then(|go_on| stats.damage().map(|()| go_on));
    let snap = stats.snapshot();
    assert_eq!(snap.rows, rows, "rows counted differ from rows emitted");
    let counts = Counts {
        records: snap.records,
        rows,
        rejected: sink.count(),
        outside: snap.outside_window,
    };
    (result, counts)
}

/// Target `gzip`: arbitrary bytes (and mutated gzip) through the local reader's gzip text
/// path. What it accepts must be what the same bytes, decompressed separately, give as
/// plain text; what it refuses must be an IO error naming the object.
pub fn gzip(data: &[u8]) {
    use crate::source::read::Encoding;
    let setup = Setup {
        batch_size: 512,
        ..Setup::new()
    };
    let (result, got) = read_object_bytes(Encoding::Gzip, data, &setup);
    // Bounded: a small input can decompress to a great deal.
    const LIMIT: u64 = 64 << 20;
    let mut plain = Vec::new();
    let decompressed = flate2::bufread::MultiGzDecoder::new(data)
        .take(LIMIT)
        .read_to_end(&mut plain);
    let complete = decompressed.is_ok() && (plain.len() as u64) < LIMIT;
    match result {
        Ok(go_on) => {
            assert!(go_on, "reader stopped although every batch was taken");
            got.check("gzip");
            if (plain.len() as u64) < LIMIT {
                assert!(
                    decompressed.is_ok(),
                    "the reader took gzip that does not decompress"
                );
            }
            if complete {
                let (plain_result, want) = read_object_bytes(Encoding::Plain, &plain, &setup);
                assert!(
                    plain_result.is_ok(),
                    "the decompressed text fails as plain text"
                );
                assert_eq!(got, want, "gzip and plain text decode differently");
            }
        }
        Err(Error::Io { path, source }) => {
            assert_eq!(
                path,
                std::path::Path::new(OBJECT),
                "error names another object"
            );
            let message = source.to_string();
            assert!(!message.is_empty());
            assert!(
                !complete,
                "the reader failed ({message}) on gzip that decompresses"
            );
        }
        Err(other) => panic!("gzip reading failed with something else than an IO error: {other}"),
    }
}

/// Target `parquet`: arbitrary bytes (and mutated Parquet files) through the local
/// reader's Parquet set-up, with every column and with none (the same rows must be kept),
/// and with a time window that prunes row groups by their statistics.
pub fn parquet(data: &[u8]) {
    use crate::source::read::Encoding;
    let check_err = |e: &Error| match e {
        Error::Parquet { object, message } => {
            assert_eq!(object, OBJECT, "error names another object");
            assert!(!message.is_empty());
        }
        other => panic!("Parquet reading failed with something else than a Parquet error: {other}"),
    };
    let all = Setup {
        batch_size: 64,
        ..Setup::new()
    };
    let (result, got) = read_object_bytes(Encoding::Parquet, data, &all);
    match &result {
        Ok(go_on) => {
            assert!(go_on, "reader stopped although every batch was taken");
            got.check("parquet");
        }
        Err(e) => check_err(e),
    }
    let none = Setup {
        columns: Some(Vec::new()),
        ..all
    };
    let (none_result, none_got) = read_object_bytes(Encoding::Parquet, data, &none);
    match (&result, &none_result) {
        (Ok(_), Ok(_)) => assert_eq!(
            got, none_got,
            "the rows kept depend on the columns projected"
        ),
        (Ok(_), Err(e)) => panic!("fails with no column projected, not with all: {e}"),
        (Err(_), Err(e)) => check_err(e),
        (Err(_), Ok(_)) => {}
    }
    let windowed = Setup {
        columns: Some(vec!["srcaddr", "start_time", "bytes"]),
        window: Some(TimeWindow {
            since: Some(1_700_000_000),
            until: Some(1_800_000_000),
        }),
        prune: true,
        ..Setup::new()
    };
    let (windowed_result, w) = read_object_bytes(Encoding::Parquet, data, &windowed);
    match windowed_result {
        Ok(_) => w.check("parquet with a window"),
        Err(e) => check_err(&e),
    }
}
