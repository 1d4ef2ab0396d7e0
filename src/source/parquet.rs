//! Reading a Parquet object (local, S3 by ranges, or bytes for the fuzzer): the columns
//! and row groups to read, dictionaries for the columns filters use, and the batches mapped
//! onto the table.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::parquet::arrow::ProjectionMask;
use datafusion::parquet::arrow::arrow_reader::{
    ArrowReaderBuilder, ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use super::SourceObject;
use super::read::Emit;
use super::s3::{ParquetRanges, S3Location};
use crate::decode::parquet::{BoundedReads, ParquetPlan, catch_decoder_panic};
use crate::decode::{DecodeOptions, ScanStats};
use crate::error::{Error, Result};

/// An [`Error::Parquet`] naming `obj`.
pub(super) fn parquet_error(obj: &SourceObject, e: impl std::fmt::Display) -> Error {
    Error::Parquet {
        object: obj.name.clone(),
        message: e.to_string(),
    }
}

pub(super) fn read_s3_parquet(
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
    let fetched = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut ranges = ParquetRanges {
        client,
        loc: loc.clone(),
        size: obj.size,
        fetched: fetched.clone(),
    };
    let meta = catch_decoder_panic(|| {
        handle.block_on(ArrowReaderMetadata::load_async(
            &mut ranges,
            ArrowReaderOptions::new(),
        ))
    })
    .and_then(|m| m)
    .map_err(|e| parquet_error(obj, e))?;
    let setup = configure(meta, obj, opts)?;
    let builder = setup.builder(ranges, ParquetRecordBatchStreamBuilder::new_with_metadata);
    let mut stream = builder.build().map_err(|e| parquet_error(obj, e))?;
    let result = setup.batches(
        obj,
        || catch_decoder_panic(|| handle.block_on(stream.next())).unwrap_or_else(|e| Some(Err(e))),
        stats,
        emit,
    );
    ScanStats::add(
        &stats.bytes,
        fetched.load(std::sync::atomic::Ordering::Relaxed),
    );
    result
}

/// How one Parquet object is read: its plan, and the reader's settings (sync or async
/// alike).
pub(super) struct ParquetSetup {
    /// The file's metadata, with text columns only filters read asked for as dictionaries.
    pub(super) meta: ArrowReaderMetadata,
    pub(super) plan: ParquetPlan,
    /// Where each of the plan's `read` columns lands in the read batches.
    pub(super) positions: Vec<usize>,
    pub(super) mask: ProjectionMask,
    /// The row groups the time window keeps (`None`: all).
    pub(super) row_groups: Option<Vec<usize>>,
    pub(super) batch_size: usize,
    /// The options this object is decoded with (an export's own enrichment, or not).
    pub(super) opts: Arc<DecodeOptions>,
    /// Written by a sageflow export (its writer names itself so).
    pub(super) export: bool,
}

impl ParquetSetup {
    /// A reader of `input` (sync or async, by the `new` given) set up as planned: the
    /// file's metadata, the row groups kept, the projection, the batch size.
    pub(super) fn builder<I, T>(
        &self,
        input: I,
        new: fn(I, ArrowReaderMetadata) -> ArrowReaderBuilder<T>,
    ) -> ArrowReaderBuilder<T> {
        let builder = new(input, self.meta.clone());
        let builder = match &self.row_groups {
            Some(g) => builder.with_row_groups(g.clone()),
            None => builder,
        };
        builder
            .with_projection(self.mask.clone())
            .with_batch_size(self.batch_size)
    }
}

/// Maps a Parquet object onto the table: the columns to read and in which form, the row
/// groups the time window keeps.
/// The flow-log fields among a Parquet object's columns, as a format: what its records
/// have and lack ([`ScanStats::formats`]).
fn format_of(schema: &datafusion::arrow::datatypes::Schema) -> Option<String> {
    let fields: Vec<String> = schema
        .fields()
        .iter()
        .filter_map(|f| crate::format::lookup(f.name()))
        .map(|i| format!("${{{}}}", crate::format::FIELDS[i].name))
        .collect();
    (!fields.is_empty()).then(|| fields.join(" "))
}

pub(super) fn configure(
    meta: ArrowReaderMetadata,
    obj: &SourceObject,
    opts: &Arc<DecodeOptions>,
) -> Result<ParquetSetup> {
    let validated = meta
        .metadata()
        .file_metadata()
        .created_by()
        .is_some_and(|c| c.starts_with(super::committed::CREATED_BY_PREFIX));
    let opts = match &opts.materialised {
        Some(m) if validated => m.clone(),
        _ => opts.clone(),
    };
    let plan = ParquetPlan::new(meta.schema(), &opts, &obj.name, validated)?;
    let row_groups = row_groups(meta.metadata(), opts.prune.as_ref());
    let meta = with_dictionaries(meta, &plan, row_groups.as_deref(), obj);
    let (mask, positions) = parquet_projection(&plan, meta.parquet_schema());
    Ok(ParquetSetup {
        meta,
        plan,
        positions,
        mask,
        row_groups,
        batch_size: opts.batch_size,
        opts,
        export: validated,
    })
}

/// Asks for the text columns that only filters read as `Dictionary(Int32, Utf8)` where
/// every page of them is dictionary-encoded (in the row groups read), so that the filter
/// is tested per dictionary value and the rows' text is never materialised. A chunk with
/// plain pages would instead be re-interned into a dictionary by the reader, row by row,
/// so such columns are read as text.
pub(super) fn with_dictionaries(
    meta: ArrowReaderMetadata,
    plan: &ParquetPlan,
    row_groups: Option<&[usize]>,
    obj: &SourceObject,
) -> ArrowReaderMetadata {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::parquet::basic::{Encoding as PageEncoding, PageType};
    let md = meta.metadata();
    let schema = md.file_metadata().schema_descr();
    let all: Vec<usize> = (0..md.num_row_groups()).collect();
    let groups = row_groups.unwrap_or(&all);
    let dictionary_only = |root: usize| {
        // Flow-log files are flat: one leaf per root column.
        let leaves: Vec<usize> = (0..schema.num_columns())
            .filter(|&l| schema.get_column_root_idx(l) == root)
            .collect();
        let [leaf] = leaves[..] else { return false };
        groups.iter().all(|&g| {
            let c = md.row_group(g).column(leaf);
            let is_dict = |e: PageEncoding| {
                matches!(
                    e,
                    PageEncoding::RLE_DICTIONARY | PageEncoding::PLAIN_DICTIONARY
                )
            };
            c.dictionary_page_offset().is_some()
                && match (c.page_encoding_stats_mask(), c.page_encoding_stats()) {
                    (Some(mask), _) => {
                        mask.is_only(PageEncoding::RLE_DICTIONARY)
                            || mask.is_only(PageEncoding::PLAIN_DICTIONARY)
                    }
                    (None, Some(stats)) => stats
                        .iter()
                        .filter(|s| s.page_type != PageType::DICTIONARY_PAGE)
                        .all(|s| is_dict(s.encoding)),
                    (None, None) => false,
                }
        })
    };
    let arrow = meta.schema();
    let wanted: Vec<usize> = plan
        .filter_only_text_columns()
        .into_iter()
        .filter(|&c| {
            matches!(
                arrow.field(c).data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) && dictionary_only(c)
        })
        .collect();
    if wanted.is_empty() {
        return meta;
    }
    let fields: Vec<Field> = arrow
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            if wanted.contains(&i) {
                f.as_ref().clone().with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(DataType::Utf8),
                ))
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    let hint = Arc::new(Schema::new_with_metadata(fields, arrow.metadata().clone()));
    // Only a speed-up: a file whose columns the reader will not take as dictionaries is
    // read as it was.
    match ArrowReaderMetadata::try_new(md.clone(), ArrowReaderOptions::new().with_schema(hint)) {
        Ok(hinted) => hinted,
        Err(e) => {
            tracing::debug!(object = %obj.name, "filter columns read as text: {e}");
            meta
        }
    }
}

/// Row groups whose `start`/`end` statistics can overlap the window; `None` to read all.
pub(super) fn row_groups(
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
pub(super) fn parquet_projection(
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

impl ParquetSetup {
    /// Normalises and emits the Parquet batches `next` reads until it runs out.
    fn batches(
        &self,
        obj: &SourceObject,
        mut next: impl FnMut() -> Option<
            std::result::Result<RecordBatch, datafusion::parquet::errors::ParquetError>,
        >,
        stats: &Arc<ScanStats>,
        emit: &mut Emit<'_>,
    ) -> Result<bool> {
        let (plan, positions, opts) = (&self.plan, &self.positions, &self.opts);
        // An export's columns are every field's, whatever its records had: they say
        // nothing of the format they were read in.
        if self.meta.metadata().file_metadata().num_rows() > 0
            && !self.export
            && let Some(format) = format_of(self.meta.schema())
        {
            stats.note_format(format);
        }
        let mut row = 0u64;
        while let Some(batch) = next() {
            let batch =
                batch.map_err(|e| parquet_error(obj, format_args!("after row {row}: {e}")))?;
            let n = batch.num_rows();
            let cols: Vec<ArrayRef> = positions.iter().map(|&p| batch.column(p).clone()).collect();
            let out = plan.normalise(&cols, n, row, &obj.name, opts)?;
            row += n as u64;
            ScanStats::add(&stats.records, n as u64);
            ScanStats::add(&stats.outside_window, out.outside_window);
            ScanStats::add(&stats.rows, out.batch.num_rows() as u64 + out.filtered);
            if out.batch.num_rows() > 0 && !emit(out.batch) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Generic over the input so that the fuzz harness reads in-memory bytes through the
/// same reader set-up as a local file.
pub(super) fn read_parquet<T: datafusion::parquet::file::reader::ChunkReader + 'static>(
    obj: &SourceObject,
    file: T,
    opts: &Arc<DecodeOptions>,
    stats: &Arc<ScanStats>,
    emit: &mut Emit<'_>,
) -> Result<bool> {
    ScanStats::add(&stats.bytes, obj.size);
    let input = BoundedReads(file);
    let meta = catch_decoder_panic(|| ArrowReaderMetadata::load(&input, ArrowReaderOptions::new()))
        .and_then(|m| m)
        .map_err(|e| parquet_error(obj, e))?;
    let setup = configure(meta, obj, opts)?;
    let builder = setup.builder(input, ParquetRecordBatchReaderBuilder::new_with_metadata);
    let mut reader = builder.build().map_err(|e| parquet_error(obj, e))?;
    setup.batches(
        obj,
        || {
            catch_decoder_panic(|| reader.next().map(|r| r.map_err(Into::into)))
                .unwrap_or_else(|e| Some(Err(e)))
        },
        stats,
        emit,
    )
}
