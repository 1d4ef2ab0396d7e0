//! The text decoder's targets: `text_decoder` (any bytes), `text_structured` (records of
//! known formats, mutated) and `log_format` (format strings and header lines).

use super::{Counts, OBJECT, Setup, check_batch, schema_for};
use crate::decode::{DecodeOptions, TextDecoder, TimeWindow};
use crate::error::{Error, Result};
use crate::format::{ColumnSource, FlowSchema, Layout};

/// Record formats of the structured text target, picked by the input's first byte.
const FORMATS: &[Option<&str>] = &[
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

pub(super) fn counts(dec: &TextDecoder, rows: u64) -> Counts {
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
        Err(Error::Format { message, .. }) => assert!(!message.is_empty()),
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
