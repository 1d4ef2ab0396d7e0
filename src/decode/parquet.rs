//! Parquet flow logs → the canonical schema.
//!
//! AWS writes underscore column names with INT_32/INT_64/STRING types, but other writers
//! (pandas, Firehose conversions) use other types: account ids as integers, ports as
//! strings, `-` instead of NULL. Each column is coerced to its canonical type; a value that
//! cannot be (a non-numeric port) rejects its row, exactly as in text.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch, RecordBatchOptions,
    StringViewArray, TimestampSecondArray,
};
use datafusion::arrow::array::{ArrayData, BooleanBufferBuilder};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type, Schema};
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::reader::{ChunkReader, Length};

use super::filter::Test;
use super::lex::valid_ip;
use super::{DecodeOptions, Reject, normalise_epoch};
use crate::error::{Error, Result};
use crate::format::{ColumnSource, FIELDS, Kind, column_name, lookup};

/// A Parquet input whose readers fail, instead of answering end-of-file again and again,
/// once they have been read past the end many times. parquet 59 skips unknown page-header
/// fields with reads that take end-of-file as success, so a damaged header declaring a
/// list of 2^31 doubles kept the reader busy for minutes; with this, it is an error.
pub struct BoundedReads<T>(pub T);

/// More end-of-file answers than any well-formed read needs.
const MAX_READS_AT_EOF: u32 = 64;

impl<T: Length> Length for BoundedReads<T> {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl<T: ChunkReader> ChunkReader for BoundedReads<T> {
    type T = EofLimited<T::T>;

    fn get_read(&self, start: u64) -> datafusion::parquet::errors::Result<Self::T> {
        Ok(EofLimited {
            inner: self.0.get_read(start)?,
            at_eof: 0,
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> datafusion::parquet::errors::Result<Bytes> {
        self.0.get_bytes(start, length)
    }
}

/// See [`BoundedReads`].
pub struct EofLimited<R> {
    inner: R,
    at_eof: u32,
}

impl<R: std::io::Read> std::io::Read for EofLimited<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && !buf.is_empty() {
            self.at_eof += 1;
            if self.at_eof > MAX_READS_AT_EOF {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    "a page header runs past the end of the file",
                ));
            }
        }
        Ok(n)
    }
}

thread_local! {
    static IN_DECODER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside [`catch_decoder_panic`]. The binary's panic hook logs such
/// panics at debug level instead of printing them: they become an error naming the object,
/// and a "thread panicked" message before it would read as a crash.
pub fn in_decoder_call() -> bool {
    IN_DECODER.with(|c| c.get())
}

/// Runs a call into the Parquet decoder, turning a panic into an error. parquet 59 still
/// panics on some damaged files (a dictionary page that declares no values but holds bytes
/// divides by zero), and one damaged object must fail naming itself, not take the query
/// down. Only calls into the decoder are wrapped, so sageflow's own bugs still panic.
pub fn catch_decoder_panic<T>(f: impl FnOnce() -> T) -> std::result::Result<T, ParquetError> {
    let outer = IN_DECODER.with(|c| c.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    IN_DECODER.with(|c| c.set(outer));
    result.map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        ParquetError::General(format!(
            "the Parquet decoder failed on damaged data ({what})"
        ))
    })
}

/// How one Parquet object maps onto the table.
#[derive(Debug)]
pub struct ParquetPlan {
    /// Root column indices of the file to read.
    pub read: Vec<usize>,
    /// For each output column: the position in `read`, or the time column's source.
    outputs: Vec<Out>,
    /// Positions in `read` of integer columns stored as text: they are parsed (and may
    /// reject rows) whether or not they are projected.
    checks: Vec<usize>,
    /// Positions in `read` of address columns, checked like the text decoder checks them
    /// whether or not they are projected.
    ip_checks: Vec<usize>,
    /// Kind and AWS name per position in `read`.
    read_kinds: Vec<(Kind, String)>,
    start: Option<usize>,
    end: Option<usize>,
    /// Pushed-down filters: the position in `read` of their column (`None`: the file has
    /// no such column, so the value is NULL and fails the test).
    filters: Vec<(Option<usize>, Test)>,
    /// [`DecodeOptions::skip_enis`], with the position in `read` of `interface_id` (`None`:
    /// the file has none, and every row passes).
    skip_enis: Option<(Option<usize>, Arc<super::EniSet>)>,
    /// Written by `sageflow export`: its NULLs are real NULLs, so text columns are taken as
    /// they are instead of being searched for stand-ins like `-` or `None`.
    validated: bool,
    /// Per filter: the dictionary it was last tested on and the verdict per value. A
    /// column chunk's batches share one dictionary, so each value is tested once per chunk
    /// instead of once per row (in the benchmark's export, `action` has 2 values per row
    /// group of 262,144 rows).
    verdicts: Vec<Mutex<Option<Verdicts>>>,
}

/// A dictionary's values (compared by buffer identity) and a filter's result for each.
type Verdicts = (ArrayData, Vec<bool>);

#[derive(Debug, Clone, Copy)]
enum Out {
    Col(usize),
    /// An enrichment column as a sageflow export wrote it (see
    /// [`DecodeOptions::materialised`](super::DecodeOptions::materialised)).
    Enriched(usize),
    Time(Option<usize>),
    /// The object's name, for `source_object` of a file that is not an export.
    Object,
    /// The row number, for `source_line` of a file that is not an export.
    Line,
    Null,
}

impl ParquetPlan {
    /// `validated`: the file was written by `sageflow export`, whose rows went through the
    /// decoder's checks already, so its addresses are not checked again (reading four more
    /// columns would double the time of a query over an export).
    pub fn new(
        file_schema: &Schema,
        opts: &DecodeOptions,
        object: &str,
        validated: bool,
    ) -> Result<Self> {
        let sources = opts.schema.sources();
        // Which file column feeds which table source.
        let mut by_source: Vec<(ColumnSource, usize, Kind, String)> = Vec::new();
        for (i, f) in file_schema.fields().iter().enumerate() {
            let name = column_name(f.name());
            match lookup(&name) {
                Some(k) => {
                    if !is_supported(f.data_type()) {
                        return Err(Error::Parquet {
                            object: object.to_string(),
                            message: format!(
                                "column `{}` has type {}, which cannot hold a flow-log field",
                                f.name(),
                                f.data_type()
                            ),
                        });
                    }
                    by_source.push((
                        ColumnSource::Known(k),
                        i,
                        FIELDS[k].kind,
                        FIELDS[k].name.to_string(),
                    ))
                }
                None => by_source.push((ColumnSource::Unknown(name.clone()), i, Kind::Str, name)),
            }
        }
        let mut read = Vec::new();
        let mut read_kinds = Vec::new();
        let mut read_pos = |file_idx: usize, kind: Kind, name: &str| -> usize {
            if let Some(p) = read.iter().position(|&r| r == file_idx) {
                return p;
            }
            read.push(file_idx);
            read_kinds.push((kind, name.to_string()));
            read.len() - 1
        };
        let find = |src: &ColumnSource| by_source.iter().find(|(s, ..)| s == src);
        let known = |col: &str| ColumnSource::Known(lookup(col).expect("known column"));

        let mut checks = Vec::new();
        for (src, file_idx, kind, name) in &by_source {
            let numeric_kind = matches!(kind, Kind::Int32 | Kind::Int64 | Kind::Epoch);
            let dt = file_schema.field(*file_idx).data_type();
            if numeric_kind && !dt.is_integer() && sources.contains(src) {
                checks.push(read_pos(*file_idx, *kind, name));
            }
        }
        let mut ip_checks = Vec::new();
        if !validated {
            for (src, file_idx, kind, name) in &by_source {
                let dt = file_schema.field(*file_idx).data_type();
                if *kind == Kind::Ip && !matches!(dt, DataType::Null) && sources.contains(src) {
                    ip_checks.push(read_pos(*file_idx, *kind, name));
                }
            }
        }
        let need_times = opts.window.is_some()
            || opts
                .projection
                .iter()
                .any(|&c| matches!(sources[c], ColumnSource::Time { .. }));
        let mut start = None;
        let mut end = None;
        if need_times {
            if let Some((_, i, k, n)) = find(&known("start")) {
                start = Some(read_pos(*i, *k, n));
            }
            if let Some((_, i, k, n)) = find(&known("end")) {
                end = Some(read_pos(*i, *k, n));
            }
        }
        let filters: Vec<_> = opts
            .filters
            .iter()
            .map(|f| {
                let at = match &sources[f.column] {
                    // An export's enrichment, read as it was written (the options of
                    // `DecodeOptions::materialised` test it; no other file's is sageflow's).
                    ColumnSource::Enriched(_) => {
                        let name = opts.schema.arrow().field(f.column).name();
                        match file_schema.index_of(name) {
                            Ok(i) if validated => Some(read_pos(i, Kind::Str, name)),
                            _ => None,
                        }
                    }
                    src => find(src).map(|(_, i, k, n)| read_pos(*i, *k, n)),
                };
                (at, f.test.clone())
            })
            .collect();
        let skip_enis = opts.skip_enis.as_ref().map(|set| {
            let at = find(&known("interface_id")).map(|(_, i, k, n)| read_pos(*i, *k, n));
            (at, set.clone())
        });
        let verdicts = filters.iter().map(|_| Mutex::new(None)).collect();
        let mut outputs = Vec::with_capacity(opts.projection.len());
        for &c in &opts.projection {
            let out = match &sources[c] {
                ColumnSource::Time { end: is_end } => Out::Time(if *is_end { end } else { start }),
                // Only an export's own columns are trusted as enrichment; in any other
                // file a column of that name is not sageflow's.
                ColumnSource::Enriched(_) if validated => {
                    let name = opts.schema.arrow().field(c).name();
                    match file_schema.index_of(name) {
                        Ok(i) => Out::Enriched(read_pos(i, Kind::Str, name)),
                        Err(_) => Out::Null,
                    }
                }
                // An export's provenance is that of the objects it was made from.
                ColumnSource::Provenance { line } => {
                    let name = opts.schema.arrow().field(c).name();
                    match file_schema.index_of(name) {
                        Ok(i) if validated => Out::Col(read_pos(
                            i,
                            if *line { Kind::Int64 } else { Kind::Str },
                            name,
                        )),
                        _ if *line => Out::Line,
                        _ => Out::Object,
                    }
                }
                src => match find(src) {
                    Some((_, i, k, n)) => Out::Col(read_pos(*i, *k, n)),
                    None => Out::Null,
                },
            };
            outputs.push(out);
        }
        Ok(ParquetPlan {
            read,
            outputs,
            checks,
            ip_checks,
            read_kinds,
            start,
            end,
            filters,
            skip_enis,
            validated,
            verdicts,
        })
    }

    /// File columns only text filters read: these can be read dictionary-encoded, and
    /// tested once per dictionary value ([`Self::normalise`] takes either form).
    pub fn filter_only_text_columns(&self) -> Vec<usize> {
        let mut cols: Vec<usize> = self
            .filters
            .iter()
            .filter_map(|(at, test)| at.filter(|_| !test.is_int()))
            .filter(|p| {
                !self.checks.contains(p)
                    && !self.ip_checks.contains(p)
                    && ![self.start, self.end].contains(&Some(*p))
                    && !self
                        .outputs
                        .iter()
                        .any(|o| matches!(o, Out::Col(c) | Out::Enriched(c) if c == p))
            })
            .map(|p| self.read[p])
            .collect();
        cols.sort_unstable();
        cols.dedup();
        cols
    }

    /// `test` (filter `i`) on a dictionary-encoded column: per dictionary value, then per
    /// row through its key. NULL rows and values fail.
    /// Column `p` of a batch as text, converted once and kept in `typed` for whatever else
    /// reads it (another filter, the skipped ENIs, the output).
    fn text_of<'a>(
        &self,
        typed: &'a mut [Option<ArrayRef>],
        read_columns: &[ArrayRef],
        p: usize,
    ) -> Result<&'a ArrayRef> {
        if typed[p].is_none() {
            typed[p] = Some(to_text(&read_columns[p], self.validated)?);
        }
        Ok(typed[p].as_ref().expect("converted above"))
    }

    fn dictionary_test(&self, i: usize, a: &ArrayRef, test: &Test) -> Result<BooleanBuffer> {
        let dict = a
            .as_any_dictionary_opt()
            .expect("called for dictionary columns");
        if dict.values().is_empty() {
            // Only NULL rows can point into an empty dictionary.
            return Ok(BooleanBuffer::new_unset(a.len()));
        }
        let values = dict.values().to_data();
        let mut cache = self.verdicts[i].lock().unwrap_or_else(|e| e.into_inner());
        let fresh = !matches!(&*cache, Some((seen, _)) if seen.ptr_eq(&values));
        if fresh {
            let text = to_text(dict.values(), self.validated)?;
            let pass = text
                .as_string_view()
                .iter()
                .map(|v| test.text(v.map(str::as_bytes)))
                .collect();
            *cache = Some((values, pass));
        }
        let pass = &cache.as_ref().expect("filled above").1;
        // Keys under NULL rows are arbitrary, so an index out of range fails instead of
        // panicking. Int32 is the key type sageflow asks the reader for; other key types
        // come from files written with dictionary types.
        let bits = match a.as_dictionary_opt::<Int32Type>() {
            Some(d) => {
                let keys = d.keys().values();
                BooleanBuffer::collect_bool(a.len(), |r| {
                    pass.get(keys[r] as usize).copied().unwrap_or(false)
                })
            }
            None => {
                let keys = dict.normalized_keys();
                BooleanBuffer::collect_bool(a.len(), |r| pass[keys[r]])
            }
        };
        Ok(match a.logical_nulls() {
            Some(nulls) => &bits & nulls.inner(),
            None => bits,
        })
    }

    /// Converts the `read` columns (in that order, `n` rows) to the output schema.
    /// `first_row` is the 0-based row number of the batch's first row in the object.
    pub fn normalise(
        &self,
        read_columns: &[ArrayRef],
        n: usize,
        first_row: u64,
        object: &str,
        opts: &DecodeOptions,
    ) -> Result<NormalisedBatch> {
        let mut keep = BooleanBufferBuilder::new(n);
        keep.append_n(n, true);
        let mut rejected = 0u64;
        // Each `read` column converted once: integers to Int64, checked addresses to text.
        let mut typed: Vec<Option<ArrayRef>> = vec![None; self.read.len()];

        // Integer columns first: they decide which rows are rejected.
        let mut int_positions: Vec<usize> = self.checks.clone();
        for out in &self.outputs {
            if let Out::Col(p) = out
                && matches!(
                    self.read_kinds[*p].0,
                    Kind::Int32 | Kind::Int64 | Kind::Epoch
                )
            {
                int_positions.push(*p);
            }
        }
        int_positions.extend(self.start.iter().chain(self.end.iter()).copied());
        for (at, test) in &self.filters {
            if let Some(p) = at
                && test.is_int()
            {
                int_positions.push(*p);
            }
        }
        int_positions.sort_unstable();
        int_positions.dedup();
        for p in int_positions {
            let (kind, name) = &self.read_kinds[p];
            let (values, bad) = to_i64(&read_columns[p], *kind)?;
            for (row, value, reason) in bad {
                if keep.get_bit(row) {
                    keep.set_bit(row, false);
                    rejected += 1;
                    opts.rejects.reject(Reject {
                        object: object.to_string(),
                        line: first_row + row as u64 + 1,
                        field: Some(name.clone()),
                        value: Some(value),
                        reason: reason.into(),
                        record: String::new(),
                    })?;
                }
            }
            typed[p] = Some(Arc::new(values));
        }
        for &p in &self.ip_checks {
            let text = to_text(&read_columns[p], false)?;
            for (row, value) in text.as_string_view().iter().enumerate() {
                let Some(value) = value else { continue };
                if keep.get_bit(row) && !valid_ip(value) {
                    keep.set_bit(row, false);
                    rejected += 1;
                    opts.rejects.reject(Reject {
                        object: object.to_string(),
                        line: first_row + row as u64 + 1,
                        field: Some(self.read_kinds[p].1.clone()),
                        value: Some(value.to_string()),
                        reason: "not an IPv4 or IPv6 address".into(),
                        record: String::new(),
                    })?;
                }
            }
            // A projected address column is output as this text.
            typed[p] = Some(text);
        }

        let mut outside = 0u64;
        if let Some(w) = &opts.window {
            let starts = self.start.and_then(|p| typed[p].clone());
            let ends = self.end.and_then(|p| typed[p].clone());
            let get = |a: &Option<ArrayRef>, i: usize| {
                a.as_ref().and_then(|a| {
                    let a = a.as_primitive::<Int64Type>();
                    a.is_valid(i).then(|| a.value(i))
                })
            };
            for i in 0..n {
                if keep.get_bit(i) && !w.overlaps(get(&starts, i), get(&ends, i)) {
                    keep.set_bit(i, false);
                    outside += 1;
                }
            }
        }

        // Word-wise from here: a loop over rows costs more than the filters' kernels.
        let mut keep = keep.finish();
        let kept = n as u64 - rejected - outside;
        for (i, (at, test)) in self.filters.iter().enumerate() {
            let Some(p) = *at else {
                // No such column: NULL, which fails.
                keep = BooleanBuffer::new_unset(n);
                break;
            };
            if typed[p].is_none() && matches!(read_columns[p].data_type(), DataType::Dictionary(..))
            {
                keep = &keep & &self.dictionary_test(i, &read_columns[p], test)?;
                continue;
            }
            keep = &keep & &test.passes(self.text_of(&mut typed, read_columns, p)?)?;
        }
        if let Some((Some(p), skip)) = &self.skip_enis {
            let enis = self.text_of(&mut typed, read_columns, *p)?.as_string_view();
            let mut other = BooleanBufferBuilder::new(n);
            for v in enis.iter() {
                other.append(!v.is_some_and(|v| skip.contains(v.as_bytes())));
            }
            keep = &keep & &other.finish();
        }
        let left = keep.count_set_bits();
        let filtered = kept - left as u64;

        let mut columns = Vec::with_capacity(self.outputs.len());
        for (out, field) in self.outputs.iter().zip(opts.output_schema.fields()) {
            let col: ArrayRef = match *out {
                Out::Null => datafusion::arrow::array::new_null_array(field.data_type(), n),
                Out::Time(None) => datafusion::arrow::array::new_null_array(field.data_type(), n),
                Out::Time(Some(p)) => {
                    let secs = typed[p].as_ref().expect("time columns are typed");
                    let secs = secs.as_primitive::<Int64Type>();
                    Arc::new(
                        TimestampSecondArray::new(secs.values().clone(), secs.nulls().cloned())
                            .with_timezone("UTC"),
                    )
                }
                Out::Enriched(p) => cast(&read_columns[p], field.data_type())?,
                Out::Object => super::repeated_name(object, n),
                Out::Line => Arc::new(Int64Array::from_iter_values(
                    (first_row as i64 + 1..).take(n),
                )),
                Out::Col(p) => match self.read_kinds[p].0 {
                    // Out-of-range values were rejected (and made NULL) by `to_i64`.
                    Kind::Int32 => cast(
                        typed[p].as_ref().expect("int columns are typed"),
                        &DataType::Int32,
                    )?,
                    Kind::Int64 | Kind::Epoch => typed[p].clone().expect("int columns are typed"),
                    Kind::Str | Kind::Ip => match &typed[p] {
                        Some(text) => text.clone(),
                        None => to_text(&read_columns[p], self.validated)?,
                    },
                },
            };
            columns.push(col);
        }
        let out = RecordBatch::try_new_with_options(
            opts.output_schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(n)),
        )?;
        let batch = if left == n {
            out
        } else {
            filter_record_batch(&out, &BooleanArray::new(keep, None))?
        };
        Ok(NormalisedBatch {
            batch,
            rejected,
            outside_window: outside,
            filtered,
        })
    }
}

pub struct NormalisedBatch {
    pub batch: RecordBatch,
    pub rejected: u64,
    pub outside_window: u64,
    /// Valid rows the pushed-down filters dropped.
    pub filtered: u64,
}

fn is_supported(dt: &DataType) -> bool {
    dt.is_integer()
        || matches!(
            dt,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null
        )
        || matches!(dt, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View))
}

type Bad = Vec<(usize, String, &'static str)>;

/// Any integer or text column → Int64, with `-` as NULL; values that are not integers
/// (or do not fit an Int32 field) are reported as bad rows.
fn to_i64(a: &ArrayRef, kind: Kind) -> Result<(Int64Array, Bad)> {
    let mut bad = Vec::new();
    let limit_i32 = kind == Kind::Int32;
    let check = |i: usize, v: i64, bad: &mut Bad| -> Option<i64> {
        if limit_i32 && i32::try_from(v).is_err() {
            bad.push((i, v.to_string(), "not a 32-bit integer"));
            return None;
        }
        Some(if kind == Kind::Epoch {
            normalise_epoch(v)
        } else {
            v
        })
    };
    let dt = a.data_type();
    // Whole-column paths for the types a value cannot be out of range in (every column of
    // an export): the per-row path below costs a third of a query over Parquet.
    let fits = match kind {
        Kind::Int32 => matches!(
            dt,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::UInt8 | DataType::UInt16
        ),
        _ => matches!(
            dt,
            DataType::Int8
                | DataType::Int16
                | DataType::Int32
                | DataType::Int64
                | DataType::UInt8
                | DataType::UInt16
                | DataType::UInt32
        ),
    };
    if fits {
        let wide = cast(a, &DataType::Int64)?;
        let wide = wide.as_primitive::<Int64Type>().clone();
        let values = if kind == Kind::Epoch {
            wide.unary(normalise_epoch)
        } else {
            wide
        };
        return Ok((values, bad));
    }
    let values: Int64Array = if dt.is_integer() {
        let wide = cast(a, &DataType::Int64)?;
        let wide = wide.as_primitive::<Int64Type>();
        (0..wide.len())
            .map(|i| {
                if wide.is_null(i) {
                    None
                } else {
                    check(i, wide.value(i), &mut bad)
                }
            })
            .collect()
    } else if matches!(dt, DataType::Null) {
        Int64Array::new_null(a.len())
    } else {
        let text = cast(a, &DataType::Utf8View)?;
        let text = text.as_string_view();
        (0..text.len())
            .map(|i| {
                if text.is_null(i) {
                    return None;
                }
                let s = text.value(i).trim();
                if is_null_text(s) {
                    return None;
                }
                match s.parse::<i64>() {
                    Ok(v) => check(i, v, &mut bad),
                    Err(_) => {
                        bad.push((
                            i,
                            s.to_string(),
                            if limit_i32 {
                                "not a 32-bit integer"
                            } else {
                                "not a 64-bit integer"
                            },
                        ));
                        None
                    }
                }
            })
            .collect()
    };
    Ok((values, bad))
}

/// Text that stands for "no value": AWS's `-`, and what dataframe writers put in string
/// columns for missing values (`None`, `nan`).
fn is_null_text(s: &str) -> bool {
    matches!(s, "-" | "" | "None" | "nan" | "NaN" | "null" | "NULL")
}

/// Any column → Utf8View with null stand-ins as NULL (unless `validated`: then the file's
/// NULLs are the only ones).
fn to_text(a: &ArrayRef, validated: bool) -> Result<ArrayRef> {
    let text = cast(a, &DataType::Utf8View)?;
    if validated {
        return Ok(text);
    }
    let view = text.as_string_view();
    if !view.iter().any(|v| v.is_some_and(is_null_text)) {
        return Ok(text);
    }
    Ok(Arc::new(StringViewArray::from_iter(
        view.iter().map(|v| v.filter(|s| !is_null_text(s))),
    )))
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn reads_past_the_end_fail_instead_of_spinning() {
        let input = BoundedReads(Bytes::from_static(b"abc"));
        let mut r = input.get_read(1).unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 2);
        for _ in 0..MAX_READS_AT_EOF {
            assert_eq!(r.read(&mut buf).unwrap(), 0);
        }
        let e = r.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::UnexpectedEof);
        assert_eq!(input.get_bytes(0, 2).unwrap(), Bytes::from_static(b"ab"));
    }

    #[test]
    fn a_page_header_listing_two_billion_doubles_is_an_error() {
        // Found by fuzzing: the sample Parquet file with one page header damaged; reading
        // the damaged column took minutes.
        use datafusion::parquet::arrow::ProjectionMask;
        use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let data = include_bytes!("../../fuzz/regressions/parquet/page-header-list-spin");
        let column = |i: usize| -> datafusion::parquet::errors::Result<usize> {
            let b =
                ParquetRecordBatchReaderBuilder::try_new(BoundedReads(Bytes::from_static(data)))?;
            let mask = ProjectionMask::roots(b.parquet_schema(), [i]);
            let mut n = 0;
            for batch in b.with_projection(mask).build()? {
                n += batch?.num_rows();
            }
            Ok(n)
        };
        let columns = ParquetRecordBatchReaderBuilder::try_new(Bytes::from_static(data))
            .unwrap()
            .schema()
            .fields()
            .len();
        let errors: Vec<String> = (0..columns)
            .filter_map(|i| column(i).err().map(|e| e.to_string()))
            .collect();
        assert!(
            errors
                .iter()
                .any(|e| e.contains("past the end of the file")),
            "{errors:?}"
        );
    }

    #[test]
    fn a_dictionary_page_without_values_is_an_error_not_a_panic() {
        // Found by fuzzing: parquet 59 divides by the declared value count.
        use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let data = include_bytes!("../../fuzz/regressions/parquet/dictionary-page-without-values");
        let input = BoundedReads(Bytes::from_static(data));
        let mut reader = ParquetRecordBatchReaderBuilder::try_new(input)
            .unwrap()
            .build()
            .unwrap();
        let e = loop {
            match catch_decoder_panic(|| reader.next()) {
                Ok(Some(Ok(_))) => continue,
                Ok(Some(Err(e))) => break e.to_string(),
                Ok(None) => panic!("the damaged dictionary page was read as data"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(e.contains("damaged data"), "{e}");
    }
}
