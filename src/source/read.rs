//! Reading one object, whatever its transport (local file, S3 object, CloudWatch Logs
//! stream) and encoding (plain text, gzip, Parquet): the text chunk loop, how far a local
//! file is read, and the counters a run reports.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;

// The encodings and the Parquet reader, which this loop dispatches to.
use super::compression::*;
pub use super::compression::{Encoding, sniff};
use super::parquet::*;
use super::s3::{BodyReader, S3Location};
use super::{Remote, SourceObject};
use crate::decode::MAX_LINE_BYTES;
use crate::decode::{DecodeOptions, ScanStats, TextDecoder};
use crate::error::{Error, Result};

/// Receives decoded batches; returns `false` when the consumer has gone away.
pub type Emit<'a> = dyn FnMut(RecordBatch) -> bool + 'a;

/// Decodes one object, handing batches to `emit`. Returns `false` if `emit` asked to stop.
/// Remote objects need `remote`.
pub fn read_object(
    obj: &SourceObject,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    remote: Option<&Remote>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    if let Some(loc) = &obj.cw {
        let remote = remote
            .filter(|r| r.logs.is_some())
            .ok_or_else(|| Error::source(&obj.name, "no CloudWatch Logs client was configured"))?;
        let go_on = read_cw_stream(obj, loc, remote, opts, stats, emit)?;
        ScanStats::add(&stats.objects_done, 1);
        return Ok(go_on);
    }
    if let Some(loc) = &obj.s3 {
        let (client, handle) = remote
            .and_then(|r| r.s3.clone().map(|c| (c, &r.handle)))
            .ok_or_else(|| Error::source(&obj.name, "no S3 client was configured"))?;
        let go_on = read_s3_object(obj, (loc, client, handle), opts, stats, emit)?;
        ScanStats::add(&stats.objects_done, 1);
        return Ok(go_on);
    }
    let mut file = File::open(&obj.path).map_err(|e| Error::io(&obj.path, e))?;
    let mut head = [0u8; 4];
    let n = read_up_to(&mut file, &mut head).map_err(|e| Error::io(&obj.path, e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(&obj.path, e))?;
    let io = |e| Error::io(&obj.path, e);
    let enc = sniff(&head[..n]);
    // No further than the file was listed: what is appended meanwhile is the next run's
    // (its stamp changes). A line cut off at that size is not read either.
    let limit = match enc {
        Encoding::Parquet => file.metadata().map_err(io)?.len(),
        enc => listed_length(obj, enc, &mut file)?,
    };
    let (head, tail) = super::content_samples(&file, limit).map_err(io)?;
    // Only what an incremental run records: where a last line read as it was began.
    let open_from = match enc {
        Encoding::Plain if obj.hold_open_line => open_line_start(&mut file, limit).map_err(io)?,
        _ => None,
    };
    let mut end = TextEnd::default();
    let go_on = match enc {
        Encoding::Parquet => read_parquet(obj, file, opts, stats, emit)?,
        enc => {
            // An appended text file: from the first line an earlier run did not read.
            let from = match &obj.resume {
                Some(r) if enc == Encoding::Plain => r.from.min(limit),
                _ => 0,
            };
            file.seek(SeekFrom::Start(from)).map_err(io)?;
            read_encoded(
                obj,
                enc,
                file.take(limit - from),
                opts,
                stats,
                emit,
                &mut end,
            )?
        }
    };
    if go_on {
        let _ = obj.read.set(super::ReadMark {
            read_to: limit,
            lines: end.lines,
            header: end.header,
            head,
            tail,
            open_from,
        });
    }
    ScanStats::add(&stats.objects_done, 1);
    Ok(go_on)
}

/// Where a text read ended: its last line number and the header line then in force.
#[derive(Debug, Default)]
pub(super) struct TextEnd {
    pub lines: u64,
    pub header: Option<String>,
}

/// How much of a local file to read: its listed size; for a plain-text file that has grown
/// since, only the whole lines within it, and so for one whose last line is being written
/// ([`SourceObject::hold_open_line`]).
pub(super) fn listed_length(obj: &SourceObject, enc: Encoding, file: &mut File) -> Result<u64> {
    let io = |e| Error::io(&obj.path, e);
    let now = file.metadata().map_err(io)?.len();
    if enc == Encoding::Plain
        && now == obj.size
        && open_line(obj)
        && let Some(end) = open_line_start(file, obj.size).map_err(io)?
    {
        let from = obj.resume.as_ref().map_or(0, |r| r.from);
        tracing::warn!(
            file = %crate::terminal::printable(&obj.name),
            "its last line has no line end yet and the file changed less than {} s ago (still being written?): that line ({} bytes) is left to the next run",
            super::OPEN_LINE_SECS,
            obj.size - end
        );
        return Ok(end.max(from));
    }
    if obj.mtime_ns.is_none() || now <= obj.size {
        return Ok(now.max(obj.size));
    }
    if enc != Encoding::Plain {
        return Ok(obj.size);
    }
    line_end_before(file, obj.size).map_err(io)
}

/// Where the last line of a file's first `limit` bytes begins, when it has no line end.
fn open_line_start(file: &mut File, limit: u64) -> std::io::Result<Option<u64>> {
    if limit == 0 {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::Start(limit - 1))?;
    file.read_exact(&mut last)?;
    let start = if last[0] == b'\n' {
        None
    } else {
        Some(line_end_before(file, limit)?)
    };
    file.seek(SeekFrom::Start(0))?;
    Ok(start)
}

/// Whether `obj`'s last line may be one being written: an incremental run's file that
/// changed within [`OPEN_LINE_SECS`].
fn open_line(obj: &SourceObject) -> bool {
    use super::OPEN_LINE_SECS;
    let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(i64::MAX);
    obj.hold_open_line
        && obj
            .mtime_ns
            .is_some_and(|t| now.saturating_sub(t) < OPEN_LINE_SECS * 1_000_000_000)
}

/// The offset just past the last line end at or before `size` (0 if there is none); the
/// file is left positioned at its start.
fn line_end_before(file: &mut File, size: u64) -> std::io::Result<u64> {
    let mut end = size;
    let mut buf = vec![0u8; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(buf.len() as u64);
        let chunk = &mut buf[..(end - start) as usize];
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(chunk)?;
        if let Some(i) = memchr::memrchr(b'\n', chunk) {
            end = start + i as u64 + 1;
            break;
        }
        end = start;
    }
    file.seek(SeekFrom::Start(0))?;
    Ok(end)
}

/// Decodes a log stream's events, one record per event message.
pub(super) fn read_cw_stream(
    obj: &SourceObject,
    loc: &super::cloudwatch::CwLocation,
    remote: &Remote,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    use futures::StreamExt;
    let mut dec = TextDecoder::new(opts.clone(), obj.name.clone())
        .with_flow_log(obj.key.flow_log_id.as_deref())
        .with_default_interface(loc.stream_eni());
    let mut counted = Counted::default();
    let client = remote.logs.as_ref().expect("checked by the caller");
    let mut pages = Box::pin(super::cloudwatch::pages(client, loc, &loc.window));
    while let Some(page) = remote.handle.block_on(pages.next()) {
        for (ts, id, message) in page? {
            if !loc.skip.is_empty() && loc.skip.contains(&format!("{ts}:{id}")) {
                continue;
            }
            remote.ledger.note(&obj.name, ts, &id);
            ScanStats::add(&stats.bytes, message.len() as u64);
            dec.decode_line(message.as_bytes())?;
            if dec.is_full() && !flush(&mut dec, &mut counted, stats, emit)? {
                return Ok(false);
            }
        }
    }
    flush(&mut dec, &mut counted, stats, emit)
}

/// `s3`: where the object is, the client and the runtime to read it with.
pub(super) fn read_s3_object(
    obj: &SourceObject,
    s3: (&S3Location, aws_sdk_s3::Client, &tokio::runtime::Handle),
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    let (loc, client, handle) = s3;
    if obj.name.ends_with(".parquet") {
        return read_s3_parquet(obj, loc, client, handle, opts, stats, emit);
    }
    let mut body = BodyReader::open(client.clone(), loc, handle);
    let mut head = [0u8; 4];
    let n = read_up_to(&mut body, &mut head).map_err(|e| Error::io(&obj.path, e))?;
    let whole = std::io::Cursor::new(head[..n].to_vec()).chain(body);
    match sniff(&head[..n]) {
        Encoding::Parquet => read_s3_parquet(obj, loc, client, handle, opts, stats, emit),
        enc => read_encoded(obj, enc, whole, opts, stats, emit, &mut TextEnd::default()),
    }
}

/// Decodes an object whose bytes are in memory the way a local file of encoding `enc` is
/// decoded: the path the fuzz harnesses drive.
#[cfg(feature = "fuzzing")]
pub fn read_bytes(
    obj: &SourceObject,
    enc: Encoding,
    data: &[u8],
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    match enc {
        Encoding::Parquet => {
            let bytes = bytes::Bytes::copy_from_slice(data);
            read_parquet(obj, bytes, opts, stats, emit)
        }
        enc => read_encoded(obj, enc, data, opts, stats, emit, &mut TextEnd::default()),
    }
}

/// Decodes text, plain or gzip, from `reader` (Parquet is read by the callers, by ranges
/// or from the file).
fn read_encoded<R: Read>(
    obj: &SourceObject,
    enc: Encoding,
    reader: R,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
    end: &mut TextEnd,
) -> Result<bool> {
    let counted = Counting {
        inner: reader,
        read: 0,
        stats: stats.clone(),
        failed: false,
    };
    match enc {
        Encoding::Plain => read_text(obj, counted, opts, stats, emit, end),
        Encoding::Gzip => {
            let gz = GzMembers::new(BufReader::with_capacity(256 * 1024, counted));
            read_text(obj, gz, opts, stats, emit, end)
        }
        Encoding::Parquet => Err(Error::source(
            &obj.name,
            "a Parquet object cannot be read as text",
        )),
        Encoding::Zstd | Encoding::Bzip2 => Err(Error::source(
            &obj.name,
            format!("{enc:?}-compressed objects are not supported; AWS delivers gzip or Parquet"),
        )),
    }
}

pub(super) fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads lines from `reader` in large chunks.
///
/// A failed read ends the object, after the rows decoded before it have been emitted and
/// counted: nothing after the damage can be found (gzip has no resynchronisation points).
/// A failing source is an error at once. A damaged gzip member is recorded in
/// [`ScanStats::damaged`] and the run goes on, so the rows before it are kept in the
/// result; the command then ends with the damage as its error (corrupt deflate data can
/// decode to plausible records before its checksum fails, so the result is never presented
/// as complete).
pub(super) fn read_text<R: TextInput>(
    obj: &SourceObject,
    mut reader: R,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
    end: &mut TextEnd,
) -> Result<bool> {
    const CHUNK: usize = 1 << 20;
    let mut dec = TextDecoder::new(opts.clone(), obj.name.clone())
        .with_flow_log(obj.key.flow_log_id.as_deref());
    if let Some(r) = &obj.resume {
        dec.resume(r.header.as_deref(), r.lines)?;
    }
    let mut counted = Counted::default();
    // `buf[..filled]` holds the text read and not yet decoded past `start`. The rest of
    // `buf` stays initialised between reads: zeroing a megabyte before each one (as a
    // `resize` to the read's size does) was 1.6 % of the CPU time of a query over gzip logs.
    let mut buf: Vec<u8> = Vec::new();
    let mut filled = 0usize;
    let mut start = 0usize;
    let mut eof = false;
    // Bytes of an over-long line being skipped (it is never buffered whole).
    let mut skipping: Option<u64> = None;
    // The gzip member being read, and the first line that (partly) came from it.
    let mut part = reader.part();
    let mut part_line = 1;
    loop {
        // Decode what is buffered.
        loop {
            if let Some(skipped) = skipping {
                match memchr::memchr(b'\n', &buf[start..filled]) {
                    Some(i) => {
                        dec.reject_long_line(skipped + i as u64)?;
                        start += i + 1;
                        skipping = None;
                    }
                    None => {
                        skipping = Some(skipped + (filled - start) as u64);
                        start = filled;
                        break;
                    }
                }
            }
            let used = dec.decode(&buf[start..filled], eof)?;
            start += used;
            if dec.is_full() {
                if !flush(&mut dec, &mut counted, stats, emit)? {
                    return Ok(false);
                }
                continue;
            }
            break;
        }
        if eof {
            if let Some(skipped) = skipping {
                dec.reject_long_line(skipped)?;
            }
            break;
        }
        // Keep the partial line; drop it from the buffer if it is already too long.
        buf.copy_within(start..filled, 0);
        filled -= start;
        start = 0;
        if skipping.is_none() && filled >= MAX_LINE_BYTES {
            skipping = Some(filled as u64);
            filled = 0;
        }
        let old = filled;
        if buf.len() < old + CHUNK {
            buf.resize(old + CHUNK, 0);
        }
        let result = loop {
            match reader.read(&mut buf[old..old + CHUNK]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        // Everything buffered before this read was decoded but a partial line, so a member
        // that began with this read began with the next line.
        if reader.part() != part {
            part = reader.part();
            part_line = dec.line() + 1;
        }
        let n = match result {
            Ok(n) => n,
            Err(e) => {
                let at = reader.locate(obj.size);
                if let Located::Member { .. } = at {
                    // Damaged at rest: nothing after it can be found (gzip cannot resync),
                    // and re-reading will not help. The rows before it are kept, the rest is
                    // one rejected record, and the run ends with this error.
                    let failure = read_failure(obj, at, e, dec.line(), part_line);
                    let reason = match &failure {
                        Error::Io { source, .. } => source.to_string(),
                        other => other.to_string(),
                    };
                    dec.reject_unreadable_rest(reason)?;
                    let go_on = flush(&mut dec, &mut counted, stats, emit)?;
                    stats.note_damaged(failure);
                    return Ok(go_on);
                }
                // A failing source: keep what was decoded, then fail naming the place.
                flush(&mut dec, &mut counted, stats, emit)?;
                return Err(read_failure(obj, at, e, dec.line(), part_line));
            }
        };
        filled = old + n;
        if n == 0 {
            eof = true;
        }
    }
    let go_on = flush(&mut dec, &mut counted, stats, emit)?;
    end.lines = dec.line();
    end.header = dec.last_header().map(str::to_string);
    Ok(go_on)
}

/// What a decoder's counters were at the last flush, so stats get deltas.
#[derive(Default)]
pub(super) struct Counted {
    records: u64,
    outside: u64,
    filtered: u64,
}

pub(super) fn flush(
    dec: &mut TextDecoder,
    counted: &mut Counted,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    for format in dec.take_formats() {
        stats.note_format(format);
    }
    ScanStats::add(&stats.records, dec.records - counted.records);
    ScanStats::add(&stats.outside_window, dec.outside_window - counted.outside);
    ScanStats::add(&stats.rows, dec.filtered - counted.filtered);
    counted.records = dec.records;
    counted.outside = dec.outside_window;
    counted.filtered = dec.filtered;
    match dec.flush()? {
        Some(batch) => {
            ScanStats::add(&stats.rows, batch.num_rows() as u64);
            Ok(emit(batch))
        }
        None => Ok(true),
    }
}

/// Where [`peek_unknown_fields`] found the names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Declared {
    /// A text object's header line, as AWS writes it from the flow log's format (or as
    /// a user typed it).
    Header,
    /// A Parquet object's columns.
    Columns,
}

/// Unknown field names an object declares: in its header line (text) or its columns
/// (Parquet). Reads only the head of the object.
pub fn peek_unknown_fields(obj: &SourceObject) -> Result<(Vec<String>, Declared)> {
    use std::io::BufRead;
    if obj.s3.is_some() {
        // Not worth a request per object before the query; --log-format names them.
        return Ok((Vec::new(), Declared::Header));
    }
    let mut file = File::open(&obj.path).map_err(|e| Error::io(&obj.path, e))?;
    let mut head = [0u8; 4];
    let n = read_up_to(&mut file, &mut head).map_err(|e| Error::io(&obj.path, e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(&obj.path, e))?;
    let mut line = Vec::new();
    let limit = 64 * 1024;
    match sniff(&head[..n]) {
        Encoding::Parquet => {
            use datafusion::parquet::arrow::arrow_reader::{
                ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
            };
            use datafusion::parquet::file::metadata::ParquetStatisticsPolicy::SkipAll;
            // Only the schema is wanted: the statistics of every column chunk were most of
            // the footer's decoding (an export of 70 files took 20 ms to peek at).
            let options = ArrowReaderOptions::new()
                .with_column_stats_policy(SkipAll)
                .with_encoding_stats_policy(SkipAll)
                .with_size_stats_policy(SkipAll);
            let builder = crate::decode::parquet::catch_decoder_panic(|| {
                ParquetRecordBatchReaderBuilder::try_new_with_options(file, options)
            })
            .and_then(|b| b)
            .map_err(|e| parquet_error(obj, e))?;
            let names = builder
                .schema()
                .fields()
                .iter()
                .map(|f| crate::format::column_name(f.name()))
                .filter(|c| {
                    crate::format::lookup(c).is_none() && !crate::format::is_derived_column(c)
                })
                .collect();
            return Ok((names, Declared::Columns));
        }
        Encoding::Gzip => {
            let gz = flate2::read::MultiGzDecoder::new(file);
            BufReader::new(gz.take(limit))
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(&obj.path, e))?;
        }
        Encoding::Plain => {
            BufReader::new(file.take(limit))
                .read_until(b'\n', &mut line)
                .map_err(|e| Error::io(&obj.path, e))?;
        }
        Encoding::Zstd | Encoding::Bzip2 => return Ok((Vec::new(), Declared::Header)),
    }
    let text = String::from_utf8_lossy(&line);
    let names = crate::format::Layout::from_header(text.trim())
        .map(|l| l.unknown())
        .unwrap_or_default();
    Ok((names, Declared::Header))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::decode::RejectSink;
    use crate::format::FlowSchema;
    use datafusion::arrow::array::ArrayRef;
    use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};

    const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";
    const REC: &str = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1763632800 1763632860 ACCEPT OK\n";

    fn gz(text: &str) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    /// Delivers its bytes a few at a time and cannot seek, as an S3 body does; fails with
    /// a source error at `fail_at` when set.
    struct Trickle {
        data: Vec<u8>,
        pos: usize,
        fail_at: Option<usize>,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.fail_at.is_some_and(|f| self.pos >= f) {
                return Err(std::io::Error::other("connection reset"));
            }
            let end = (self.pos + 997)
                .min(self.data.len())
                .min(self.fail_at.unwrap_or(usize::MAX))
                .min(self.pos + buf.len());
            let n = end - self.pos;
            buf[..n].copy_from_slice(&self.data[self.pos..end]);
            self.pos = end;
            Ok(n)
        }
    }

    struct Outcome {
        result: Result<bool>,
        /// What the run ends with after its results: the damage found, if any.
        damage: Result<()>,
        rows: u64,
        records: u64,
        rejected: u64,
    }

    fn read(data: Vec<u8>, fail_at: Option<usize>) -> Outcome {
        let name = "s3://bucket/AWSLogs/x.log.gz";
        let obj = SourceObject::local(
            std::path::Path::new(name),
            data.len() as u64,
            crate::source::parse_key(name),
        );
        let sink = Arc::new(RejectSink::new(false, None));
        let opts = options_for(&sink);
        let stats = Arc::new(ScanStats::default());
        let mut rows = 0u64;
        let mut emit = |b: RecordBatch| {
            rows += b.num_rows() as u64;
            true
        };
        let input = Trickle {
            data,
            pos: 0,
            fail_at,
        };
        let result = read_encoded(
            &obj,
            Encoding::Gzip,
            input,
            &opts,
            &stats,
            &mut emit,
            &mut TextEnd::default(),
        );
        let snap = stats.snapshot();
        assert_eq!(snap.rows, rows, "every emitted row is counted");
        Outcome {
            result,
            damage: stats.take_damage().pop().map_or(Ok(()), Err),
            rows,
            records: snap.records,
            rejected: sink.count(),
        }
    }

    /// Three good members of 100 records around a damaged third one; returns the bytes
    /// and the offset of the damaged member.
    fn with_damaged_third(damage: impl Fn(&mut Vec<u8>)) -> (Vec<u8>, usize) {
        let mut third = gz(&REC.repeat(1000));
        damage(&mut third);
        let mut data = gz(&format!("{HEADER}{}", REC.repeat(100)));
        data.extend(gz(&REC.repeat(100)));
        let at = data.len();
        data.extend(third);
        data.extend(gz(&REC.repeat(100)));
        (data, at)
    }

    fn message<T: std::fmt::Debug>(r: &Result<T>) -> (std::io::ErrorKind, String) {
        match r {
            Err(Error::Io { path, source }) => {
                assert_eq!(path.to_string_lossy(), "s3://bucket/AWSLogs/x.log.gz");
                (source.kind(), source.to_string())
            }
            other => panic!("expected an IO error naming the object, got {other:?}"),
        }
    }

    #[test]
    fn damaged_member_header_fails_at_its_offset_after_the_rows_before_it() {
        let (data, at) = with_damaged_third(|m| m[2] = 7); // compression method
        let total = data.len();
        let o = read(data, None);
        assert!(matches!(o.result, Ok(true)), "the rows before are kept");
        let (kind, msg) = message(&o.damage);
        assert_eq!(kind, std::io::ErrorKind::InvalidData);
        assert!(
            msg.starts_with(&format!(
                "gzip member 3 at byte offset {at} (of {total}) is corrupt: "
            )),
            "{msg}"
        );
        assert!(msg.contains("stopped after line 201;"), "{msg}");
        assert!(msg.ends_with("the rest of the object is not read"), "{msg}");
        // The unreadable rest is one rejected record.
        assert_eq!((o.rows, o.records, o.rejected), (200, 201, 1));
    }

    #[test]
    fn damaged_deflate_data_is_blamed_on_its_member_and_counted_honestly() {
        let (data, at) = with_damaged_third(|m| {
            let mid = m.len() / 2;
            m[mid..mid + 8].fill(0xff);
        });
        let o = read(data, None);
        assert!(matches!(o.result, Ok(true)), "the rows before are kept");
        let (kind, msg) = message(&o.damage);
        assert_eq!(kind, std::io::ErrorKind::InvalidData);
        assert!(
            msg.starts_with(&format!("gzip member 3 at byte offset {at} ")),
            "{msg}"
        );
        // What the damaged member decoded to before the damage was found is counted (and
        // mostly rejected), never dropped.
        assert!(o.rows >= 200, "{}", o.rows);
        assert_eq!(o.records, o.rows + o.rejected);
    }

    #[test]
    fn checksum_failure_says_which_lines_came_from_the_member() {
        let (data, at) = with_damaged_third(|m| {
            let crc = m.len() - 8;
            m[crc] ^= 1;
        });
        let o = read(data, None);
        assert!(matches!(o.result, Ok(true)), "the rows before are kept");
        let (_, msg) = message(&o.damage);
        assert!(
            msg.contains(&format!("gzip member 3 at byte offset {at} ")),
            "{msg}"
        );
        assert!(msg.contains("checksum"), "{msg}");
        assert!(
            msg.contains("stopped after line 1201 (lines 202 on came from that member)"),
            "{msg}"
        );
        assert_eq!((o.rows, o.records, o.rejected), (1200, 1201, 1));
    }

    #[test]
    fn truncated_member_is_reported_as_truncated() {
        let (mut data, at) = with_damaged_third(|_| {});
        data.truncate(at + 40);
        let o = read(data, None);
        assert!(matches!(o.result, Ok(true)), "the rows before are kept");
        let (kind, msg) = message(&o.damage);
        assert_eq!(kind, std::io::ErrorKind::UnexpectedEof);
        assert!(
            msg.starts_with(&format!(
                "gzip member 3 at byte offset {at} (of {}) is truncated",
                at + 40
            )),
            "{msg}"
        );
        assert!(msg.ends_with("the object ends inside that member"), "{msg}");
        assert_eq!(o.records, o.rows + o.rejected);
    }

    #[test]
    fn source_failures_are_not_blamed_on_the_data() {
        let (data, at) = with_damaged_third(|_| {});
        let o = read(data, Some(at + 100));
        assert!(o.damage.is_ok(), "a failing source is not damage");
        let (kind, msg) = message(&o.result);
        assert_eq!(kind, std::io::ErrorKind::Other);
        assert!(
            msg.starts_with(&format!(
                "read failed at byte offset {}: connection reset",
                at + 100
            )),
            "{msg}"
        );
        assert!(o.rows >= 200);
        assert_eq!(o.records, o.rows + o.rejected);
    }

    #[test]
    fn members_read_as_multigzdecoder_reads_them() {
        // Members cut mid-line, empty members, a member of one byte.
        let text = format!("{HEADER}{}", REC.repeat(300));
        let mut data = Vec::new();
        for cut in text.as_bytes().chunks(1777) {
            data.extend(gz(""));
            data.extend(gz(std::str::from_utf8(cut).unwrap()));
        }
        data.extend(gz("\n"));
        let mut want = Vec::new();
        flate2::read::MultiGzDecoder::new(&data[..])
            .read_to_end(&mut want)
            .unwrap();
        let mut got = Vec::new();
        let mut members = GzMembers::new(BufReader::new(Counting {
            inner: &data[..],
            read: 0,
            stats: Arc::default(),
            failed: false,
        }));
        members.read_to_end(&mut got).unwrap();
        assert_eq!(got, want);
        let o = read(data, None);
        assert!(o.result.unwrap());
        assert_eq!((o.rows, o.records, o.rejected), (300, 300, 0));
    }

    #[test]
    fn a_failed_member_is_not_skipped_on_retry() {
        let (data, _) = with_damaged_third(|m| m[2] = 7);
        let mut members = GzMembers::new(BufReader::new(Counting {
            inner: &data[..],
            read: 0,
            stats: Arc::default(),
            failed: false,
        }));
        let mut sink = Vec::new();
        assert!(members.read_to_end(&mut sink).is_err());
        let mut buf = [0u8; 64];
        assert!(members.read(&mut buf).is_err());
    }

    /// A Parquet file of `ROWS` rows in row groups of 50, whose `action` dictionaries list
    /// their values in a different order in each row group, with NULLs and (unless
    /// `validated`) AWS's `-`. `dictionary_dstaddr: false` writes `dstaddr` plain.
    /// Decoding options of these tests: the whole table, batches of 64, rejects to `sink`.
    fn options_for(sink: &Arc<RejectSink>) -> Arc<DecodeOptions> {
        Arc::new(DecodeOptions::new(
            FlowSchema::default(),
            None,
            64,
            None,
            None,
            sink.clone(),
        ))
    }

    /// Issue 17, 7: a file is read no further than it was listed; a line cut off there is
    /// not read at all (it would have been a record with a truncated field).
    #[test]
    fn a_file_is_read_only_as_far_as_it_was_listed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("flows.log");
        let line = |i: u32| {
            format!(
                "2 1 eni-1 10.0.0.1 10.0.0.2 {i} 443 6 1 4454 1795169100 1795169130 ACCEPT OK\n"
            )
        };
        std::fs::write(&path, format!("{}{}", line(1), line(2))).unwrap();
        let listed = std::fs::metadata(&path).unwrap();
        let rows = |obj: &SourceObject| {
            let sink = Arc::new(RejectSink::new(false, None));
            let opts = options_for(&sink);
            let stats = Arc::new(ScanStats::default());
            let mut rows = 0;
            let mut emit = |b: RecordBatch| {
                rows += b.num_rows();
                true
            };
            read_object(obj, &opts, &stats, None, &mut emit).unwrap();
            assert_eq!(sink.count(), 0, "nothing rejected");
            rows
        };
        let key = crate::source::parse_key("flows.log");
        let obj = SourceObject::local(&path, listed.len(), key.clone()).listed_at(&listed);
        // Appended after the listing: not this run's.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, line(3).as_bytes()).unwrap();
        assert_eq!(rows(&obj), 2);
        // Listed in the middle of the third line: the two whole lines only.
        let mid = SourceObject::local(&path, listed.len() + 20, key).listed_at(&listed);
        assert_eq!(rows(&mid), 2);
    }

    fn filter_test_file(validated: bool, dictionary_dstaddr: bool) -> bytes::Bytes {
        use datafusion::arrow::array::{Int32Array, Int64Array, StringArray};
        use datafusion::arrow::datatypes::{DataType, Field, Schema};
        use datafusion::parquet::arrow::ArrowWriter;
        use datafusion::parquet::file::properties::WriterProperties;
        use datafusion::parquet::schema::types::ColumnPath;
        let n = FILTER_TEST_ROWS;
        let schema = Arc::new(Schema::new(vec![
            Field::new("version", DataType::Int32, false),
            Field::new("interface_id", DataType::Utf8, false),
            Field::new("dstaddr", DataType::Utf8, false),
            Field::new("action", DataType::Utf8, true),
            Field::new("bytes", DataType::Int64, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int32Array::from(vec![2; n])),
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("eni-{i}")),
            )),
            Arc::new(StringArray::from_iter_values(
                (0..n).map(|i| format!("{}.0.0.{}", [10, 52, 100][i % 3], i % 7)),
            )),
            Arc::new(StringArray::from_iter(
                (0..n).map(|i| filter_test_action(i, validated)),
            )),
            Arc::new(Int64Array::from_iter_values((0..n).map(|i| i as i64))),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        let mut props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(50))
            .set_column_dictionary_enabled(ColumnPath::from("dstaddr"), dictionary_dstaddr);
        if validated {
            props = props.set_created_by(format!(
                "{}test",
                crate::source::committed::CREATED_BY_PREFIX
            ));
        }
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, schema, Some(props.build())).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        bytes::Bytes::from(out)
    }

    const FILTER_TEST_ROWS: usize = 200;

    fn filter_test_action(i: usize, validated: bool) -> Option<&'static str> {
        // Row group g starts with REJECT when g is odd, so its dictionary is [REJECT, ACCEPT].
        let g = i / 50;
        match (i % 50, i % 11, i % 13) {
            (0, ..) => Some(if g % 2 == 1 { "REJECT" } else { "ACCEPT" }),
            (_, 0, _) => None,
            (_, _, 0) if !validated => Some("-"),
            _ => Some(if i.is_multiple_of(4) {
                "REJECT"
            } else {
                "ACCEPT"
            }),
        }
    }

    #[test]
    fn dictionary_read_filter_columns_give_the_text_result() {
        use datafusion::arrow::array::AsArray;

        use crate::decode::filter::{Predicate, Test};
        let schema = FlowSchema::default();
        let pred = Predicate::on;
        for validated in [true, false] {
            for dictionary_dstaddr in [true, false] {
                let file = filter_test_file(validated, dictionary_dstaddr);
                let mut opts = DecodeOptions::new(
                    schema.clone(),
                    Some(vec![schema.index_of("interface_id").unwrap()]),
                    16,
                    None,
                    None,
                    Arc::new(RejectSink::new(false, None)),
                );
                opts.filters = vec![
                    pred("action", Test::NotIn(vec!["REJECT".into()])),
                    pred("dstaddr", Test::NotPrefix("10.".into())),
                ];
                let opts = Arc::new(opts);
                let obj = SourceObject::local(
                    std::path::Path::new("test.parquet"),
                    file.len() as u64,
                    Default::default(),
                );

                // Which columns are read as dictionaries: `action` is only filtered; an
                // unvalidated file's `dstaddr` is also checked as an address, and a plain
                // `dstaddr` would have to be re-interned.
                let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).unwrap();
                let setup = configure(meta, &obj, &opts).unwrap();
                let is_dict = |c: &str| {
                    matches!(
                        setup.meta.schema().field_with_name(c).unwrap().data_type(),
                        datafusion::arrow::datatypes::DataType::Dictionary(..)
                    )
                };
                let case =
                    format!("validated {validated}, dictionary dstaddr {dictionary_dstaddr}");
                assert!(is_dict("action"), "{case}");
                assert_eq!(
                    is_dict("dstaddr"),
                    validated && dictionary_dstaddr,
                    "{case}"
                );
                assert!(!is_dict("interface_id"), "{case}");

                let stats = Arc::new(ScanStats::default());
                let mut got = Vec::new();
                let mut emit = |b: RecordBatch| {
                    got.extend(
                        b.column(0)
                            .as_string_view()
                            .iter()
                            .map(|v| v.unwrap().to_string()),
                    );
                    true
                };
                assert!(read_parquet(&obj, file, &opts, &stats, &mut emit).unwrap());
                let want: Vec<String> = (0..FILTER_TEST_ROWS)
                    .filter(|&i| {
                        filter_test_action(i, validated).is_some_and(|a| a == "ACCEPT")
                            && i % 3 != 0
                    })
                    .map(|i| format!("eni-{i}"))
                    .collect();
                assert_eq!(got, want, "{case}");
                let snap = stats.snapshot();
                assert_eq!(
                    (snap.records, snap.rows, opts.rejects.count()),
                    (FILTER_TEST_ROWS as u64, FILTER_TEST_ROWS as u64, 0),
                    "{case}"
                );
            }
        }
    }
}
