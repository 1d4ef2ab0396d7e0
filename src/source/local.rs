//! Reading one local object: the content decides how (gzip, Parquet or plain text by
//! magic bytes), whatever the file is called.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::s3::{BodyReader, ParquetRanges, S3Location};
use super::{Remote, SourceObject};
use crate::decode::parquet::ParquetPlan;
use crate::decode::text::MAX_LINE_BYTES;
use crate::decode::{DecodeOptions, ScanStats, TextDecoder};
use crate::error::{Error, Result};

/// How an object's bytes are encoded, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Plain,
    Gzip,
    Parquet,
    Zstd,
    Bzip2,
}

pub fn sniff(head: &[u8]) -> Encoding {
    match head {
        [0x1f, 0x8b, ..] => Encoding::Gzip,
        [b'P', b'A', b'R', b'1', ..] => Encoding::Parquet,
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Encoding::Zstd,
        [b'B', b'Z', b'h', ..] => Encoding::Bzip2,
        _ => Encoding::Plain,
    }
}

/// Receives decoded batches; returns `false` when the consumer has gone away.
pub type Emit<'a> = dyn FnMut(RecordBatch) -> bool + 'a;

/// Counts bytes as they are read, for progress and for error offsets.
struct Counting<R> {
    inner: R,
    read: u64,
    stats: Arc<ScanStats>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        ScanStats::add(&self.stats.bytes, n as u64);
        Ok(n)
    }
}

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
        let remote = remote
            .and_then(|r| r.s3.clone().map(|c| (c, r.handle.clone())))
            .ok_or_else(|| Error::source(&obj.name, "no S3 client was configured"))?;
        let go_on = read_s3_object(obj, loc, remote.0, &remote.1, opts, stats, emit)?;
        ScanStats::add(&stats.objects_done, 1);
        return Ok(go_on);
    }
    let mut file = File::open(&obj.path).map_err(|e| Error::io(&obj.path, e))?;
    let mut head = [0u8; 4];
    let n = read_up_to(&mut file, &mut head).map_err(|e| Error::io(&obj.path, e))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(&obj.path, e))?;
    let go_on = match sniff(&head[..n]) {
        Encoding::Parquet => read_parquet(obj, file, opts, stats, emit)?,
        enc => read_encoded(obj, enc, file, opts, stats, emit)?,
    };
    ScanStats::add(&stats.objects_done, 1);
    Ok(go_on)
}

/// Decodes a log stream's events, one record per event message.
fn read_cw_stream(
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
    let window = opts.window.unwrap_or_default();
    let client = remote.logs.as_ref().expect("checked by the caller");
    let mut pages = Box::pin(super::cloudwatch::pages(client, loc, &window));
    while let Some(page) = remote.handle.block_on(pages.next()) {
        for (ts, id, message) in page? {
            if !loc.skip.is_empty() && loc.skip.contains(&format!("{ts}:{id}")) {
                continue;
            }
            crate::scan::state::note_event(&remote.ledger, &obj.name, ts, &id);
            ScanStats::add(&stats.bytes, message.len() as u64);
            dec.decode_line(message.as_bytes())?;
            if dec.is_full() && !flush(&mut dec, &mut counted, stats, emit)? {
                return Ok(false);
            }
        }
    }
    flush(&mut dec, &mut counted, stats, emit)
}

fn read_s3_object(
    obj: &SourceObject,
    loc: &S3Location,
    client: aws_sdk_s3::Client,
    handle: &tokio::runtime::Handle,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    if obj.name.ends_with(".parquet") {
        return read_s3_parquet(obj, loc, client, handle, opts, stats, emit);
    }
    let mut body = BodyReader::open(client.clone(), loc, handle);
    let mut head = [0u8; 4];
    let n = read_up_to(&mut body, &mut head).map_err(|e| Error::io(&obj.path, e))?;
    let whole = std::io::Cursor::new(head[..n].to_vec()).chain(body);
    match sniff(&head[..n]) {
        Encoding::Parquet => read_s3_parquet(obj, loc, client, handle, opts, stats, emit),
        enc => read_encoded(obj, enc, whole, opts, stats, emit),
    }
}

fn read_s3_parquet(
    obj: &SourceObject,
    loc: &S3Location,
    client: aws_sdk_s3::Client,
    handle: &tokio::runtime::Handle,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    use datafusion::parquet::arrow::ParquetRecordBatchStreamBuilder;
    use futures::StreamExt;
    let perr = |e: &dyn std::fmt::Display| Error::Parquet {
        object: obj.name.clone(),
        message: e.to_string(),
    };
    let fetched = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let ranges = ParquetRanges {
        client,
        loc: loc.clone(),
        size: obj.size,
        fetched: fetched.clone(),
    };
    let builder = handle
        .block_on(ParquetRecordBatchStreamBuilder::new(ranges))
        .map_err(|e| perr(&e))?;
    let (builder, plan, positions) = configure(builder, obj, opts)?;
    let mut stream = builder.build().map_err(|e| perr(&e))?;
    let result = parquet_batches(
        obj,
        &plan,
        &positions,
        || handle.block_on(stream.next()),
        opts,
        stats,
        emit,
    );
    ScanStats::add(
        &stats.bytes,
        fetched.load(std::sync::atomic::Ordering::Relaxed),
    );
    result
}

/// Maps a Parquet object onto the table and sets up its reader (sync or async alike): the
/// columns to read, the row groups the time window keeps, the batch size.
fn configure<T>(
    builder: datafusion::parquet::arrow::arrow_reader::ArrowReaderBuilder<T>,
    obj: &SourceObject,
    opts: &DecodeOptions,
) -> Result<(
    datafusion::parquet::arrow::arrow_reader::ArrowReaderBuilder<T>,
    ParquetPlan,
    Vec<usize>,
)> {
    let plan = ParquetPlan::new(builder.schema(), opts, &obj.name)?;
    let (mask, positions) = parquet_projection(&plan, builder.parquet_schema());
    let builder = match row_groups(builder.metadata(), opts.prune.as_ref()) {
        Some(g) => builder.with_row_groups(g),
        None => builder,
    };
    Ok((
        builder
            .with_projection(mask)
            .with_batch_size(opts.batch_size),
        plan,
        positions,
    ))
}

/// Row groups whose `start`/`end` statistics can overlap the window; `None` to read all.
fn row_groups(
    meta: &datafusion::parquet::file::metadata::ParquetMetaData,
    window: Option<&crate::decode::TimeWindow>,
) -> Option<Vec<usize>> {
    use datafusion::parquet::file::statistics::Statistics;
    let w = window?;
    let schema = meta.file_metadata().schema_descr();
    let col = |name: &str| {
        (0..schema.num_columns())
            .find(|&i| crate::format::column_name(schema.column(i).name()) == name)
    };
    let (s, e) = (col("start"), col("end"));
    if s.is_none() && e.is_none() {
        return None;
    }
    let groups = (0..meta.num_row_groups())
        .filter(|&rg| {
            let g = meta.row_group(rg);
            let stat = |c: Option<usize>, min: bool| {
                let st = g.column(c?).statistics()?;
                let v = match st {
                    Statistics::Int64(v) => {
                        if min {
                            v.min_opt().copied()
                        } else {
                            v.max_opt().copied()
                        }
                    }
                    Statistics::Int32(v) => {
                        (if min { v.min_opt() } else { v.max_opt() }).map(|x| i64::from(*x))
                    }
                    _ => None,
                }?;
                Some(crate::decode::normalise_epoch(v))
            };
            let lo = stat(s, true).or(stat(e, true));
            let hi = stat(e, false).or(stat(s, false));
            match (lo, hi) {
                (Some(lo), Some(hi)) => w.overlaps_range(lo, hi),
                _ => true,
            }
        })
        .collect();
    Some(groups)
}

/// The projection mask for a plan's columns, and where each lands in the read batches
/// (they come back in file order).
fn parquet_projection(
    plan: &ParquetPlan,
    schema: &datafusion::parquet::schema::types::SchemaDescriptor,
) -> (ProjectionMask, Vec<usize>) {
    let mut sorted = plan.read.clone();
    sorted.sort_unstable();
    let positions = plan
        .read
        .iter()
        .map(|r| {
            sorted
                .iter()
                .position(|s| s == r)
                .expect("read column is in mask")
        })
        .collect();
    (
        ProjectionMask::roots(schema, sorted.iter().copied()),
        positions,
    )
}

/// Normalises and emits Parquet batches from `next` until it runs out.
fn parquet_batches(
    obj: &SourceObject,
    plan: &ParquetPlan,
    positions: &[usize],
    mut next: impl FnMut() -> Option<
        std::result::Result<RecordBatch, datafusion::parquet::errors::ParquetError>,
    >,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    let mut row = 0u64;
    while let Some(batch) = next() {
        let batch = batch.map_err(|e| Error::Parquet {
            object: obj.name.clone(),
            message: format!("after row {row}: {e}"),
        })?;
        let n = batch.num_rows();
        let cols: Vec<ArrayRef> = positions.iter().map(|&p| batch.column(p).clone()).collect();
        let out = plan.normalise(&cols, n, row, &obj.name, opts)?;
        row += n as u64;
        ScanStats::add(&stats.records, n as u64);
        ScanStats::add(&stats.outside_window, out.outside_window);
        ScanStats::add(&stats.rows, out.batch.num_rows() as u64);
        if out.batch.num_rows() > 0 && !emit(out.batch) {
            return Ok(false);
        }
    }
    Ok(true)
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
) -> Result<bool> {
    let counted = Counting {
        inner: reader,
        read: 0,
        stats: stats.clone(),
    };
    match enc {
        Encoding::Plain => read_text(obj, counted, opts, stats, emit, |_| None),
        Encoding::Gzip => {
            let gz =
                flate2::bufread::MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, counted));
            read_text(obj, gz, opts, stats, emit, |gz| {
                Some(gz.get_ref().get_ref().read)
            })
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

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Reads lines from `reader` in large chunks. `offset` reports how far into the
/// compressed input a failure happened, for error messages.
fn read_text<R: Read>(
    obj: &SourceObject,
    mut reader: R,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
    offset: impl Fn(&R) -> Option<u64>,
) -> Result<bool> {
    const CHUNK: usize = 1 << 20;
    let mut dec = TextDecoder::new(opts.clone(), obj.name.clone())
        .with_flow_log(obj.key.flow_log_id.as_deref());
    let mut counted = Counted::default();
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK * 2);
    let mut start = 0usize;
    let mut eof = false;
    // Bytes of an over-long line being skipped (it is never buffered whole).
    let mut skipping: Option<u64> = None;
    loop {
        // Decode what is buffered.
        loop {
            if let Some(skipped) = skipping {
                match buf[start..].iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        dec.reject_long_line(skipped + i as u64)?;
                        start += i + 1;
                        skipping = None;
                    }
                    None => {
                        skipping = Some(skipped + (buf.len() - start) as u64);
                        start = buf.len();
                        break;
                    }
                }
            }
            let used = dec.decode(&buf[start..], eof)?;
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
        buf.drain(..start);
        start = 0;
        if skipping.is_none() && buf.len() >= MAX_LINE_BYTES {
            skipping = Some(buf.len() as u64);
            buf.clear();
        }
        let old = buf.len();
        buf.resize(old + CHUNK, 0);
        let n = loop {
            match reader.read(&mut buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Keep what was decoded before the damage, then fail naming the place.
                    flush(&mut dec, &mut counted, stats, emit)?;
                    let at = match offset(&reader) {
                        Some(off) => format!(
                            "compressed data is corrupt near byte offset {off} (after line {})",
                            dec.line()
                        ),
                        None => format!("read failed after line {}", dec.line()),
                    };
                    return Err(Error::io(
                        &obj.path,
                        std::io::Error::new(e.kind(), format!("{at}: {e}")),
                    ));
                }
            }
        };
        buf.truncate(old + n);
        if n == 0 {
            eof = true;
        }
    }
    flush(&mut dec, &mut counted, stats, emit)
}

/// What a decoder's counters were at the last flush, so stats get deltas.
#[derive(Default)]
struct Counted {
    records: u64,
    outside: u64,
}

fn flush(
    dec: &mut TextDecoder,
    counted: &mut Counted,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    ScanStats::add(&stats.records, dec.records - counted.records);
    ScanStats::add(&stats.outside_window, dec.outside_window - counted.outside);
    counted.records = dec.records;
    counted.outside = dec.outside_window;
    match dec.flush()? {
        Some(batch) => {
            ScanStats::add(&stats.rows, batch.num_rows() as u64);
            Ok(emit(batch))
        }
        None => Ok(true),
    }
}

fn read_parquet(
    obj: &SourceObject,
    file: File,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    let perr = |e: &dyn std::fmt::Display| Error::Parquet {
        object: obj.name.clone(),
        message: e.to_string(),
    };
    ScanStats::add(&stats.bytes, obj.size);
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| perr(&e))?;
    let (builder, plan, positions) = configure(builder, obj, opts)?;
    let mut reader = builder.build().map_err(|e| perr(&e))?;
    parquet_batches(
        obj,
        &plan,
        &positions,
        || reader.next().map(|r| r.map_err(Into::into)),
        opts,
        stats,
        emit,
    )
}

/// Unknown field names an object declares: in its header line (text) or its columns
/// (Parquet). Reads only the head of the object.
pub fn peek_unknown_fields(obj: &SourceObject) -> Result<Vec<String>> {
    use std::io::BufRead;
    if obj.s3.is_some() {
        // Not worth a request per object before the query; --log-format names them.
        return Ok(Vec::new());
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
            let builder =
                ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| Error::Parquet {
                    object: obj.name.clone(),
                    message: e.to_string(),
                })?;
            return Ok(builder
                .schema()
                .fields()
                .iter()
                .map(|f| crate::format::column_name(f.name()))
                .filter(|c| {
                    crate::format::lookup(c).is_none() && !crate::format::is_derived_column(c)
                })
                .collect());
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
        Encoding::Zstd | Encoding::Bzip2 => return Ok(Vec::new()),
    }
    let text = String::from_utf8_lossy(&line);
    Ok(crate::format::Layout::from_header(text.trim())
        .map(|l| l.unknown())
        .unwrap_or_default())
}
