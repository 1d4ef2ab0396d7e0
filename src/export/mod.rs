//! `sageflow export`: the enriched `flows` table as Hive-partitioned Parquet
//! (`year=/month=/day=[/hour=]`), zstd, with statistics and page indexes, rows sorted by
//! time then interface inside each file.
//!
//! Commit protocol, so that readers never see a partial file and an interrupted run is
//! finished by the next one:
//! 1. files are written under `_sageflow/staging/<run>/…` (engines skip `_` folders);
//! 2. a run record `_sageflow/runs/<run>.json` lists them and the new manifest;
//! 3. each file is put in its partition (a rename; on S3 a copy), then the staged copies
//!    are deleted;
//! 4. the manifest `_sageflow/manifest.json` (what source data is exported) is replaced and
//!    the run record removed.
//!
//! A run that dies before step 2 leaves only staging, which the next run deletes (its
//! sources are not in the manifest, so they are exported again); one that dies after
//! step 2 is rolled forward by the next run. A run whose step 3 fails with an error (not a
//! crash) first withdraws the files it had put in place, so that no reader sees part of it.

pub mod ddl;
pub mod lock;

use std::sync::Arc;

use chrono::{DateTime, Datelike, Timelike};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{SchemaRef, TimestampSecondType};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, compute_leaves,
};
use datafusion::parquet::basic::{Compression, Encoding, ZstdLevel};
use datafusion::parquet::file::metadata::SortingColumn;
use datafusion::parquet::file::properties::{EnabledStatistics, WriterProperties};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use serde::{Deserialize, Serialize};

pub use crate::store::Store;
use crate::store::fault;

use crate::error::{Error, Result};
use crate::source::ledger::ReadLedger;

pub use crate::source::committed::{CREATED_BY_PREFIX, MANIFEST};
/// The inventory tables rules join (`enis`, `sagemaker_resources`), one folder each:
/// `_sageflow/tables/<name>/<name>.parquet` (engines skip `_` folders under the flows).
pub const TABLES: &str = "_sageflow/tables/";
const RUNS: &str = "_sageflow/runs/";
const STAGING: &str = "_sageflow/staging/";

/// Rows per row group: large enough for scans, small enough to buffer (~tens of MB).
pub const ROW_GROUP_ROWS: usize = 256 * 1024;
/// Rows per file before a new one is started in the same partition.
pub const FILE_ROWS: usize = 4 * ROW_GROUP_ROWS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum PartitionBy {
    #[default]
    Day,
    Hour,
}

impl PartitionBy {
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            PartitionBy::Day => &["year", "month", "day"],
            PartitionBy::Hour => &["year", "month", "day", "hour"],
        }
    }

    fn path(self, t: i64) -> String {
        let d = DateTime::from_timestamp(t, 0).unwrap_or_default();
        match self {
            PartitionBy::Day => format!(
                "year={:04}/month={:02}/day={:02}",
                d.year(),
                d.month(),
                d.day()
            ),
            PartitionBy::Hour => format!(
                "year={:04}/month={:02}/day={:02}/hour={:02}",
                d.year(),
                d.month(),
                d.day(),
                d.hour()
            ),
        }
    }
}

/// The output's manifest: the incremental state of the sources already exported, plus
/// the layout it was written with (a re-run must not mix layouts).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    pub partition_by: String,
    pub sources: ReadLedger,
    /// Data files written, relative to the output root.
    pub files: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct RunRecord {
    run: String,
    /// (staged name, final name)
    moves: Vec<(String, String)>,
    manifest: Manifest,
    /// Data files of the export this run replaces (`--full`), deleted once its manifest
    /// is written: until then the previous export stays whole.
    #[serde(default)]
    obsolete: Vec<String>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub rows: u64,
    pub files: u64,
    pub bytes: u64,
}

pub async fn load_manifest(store: &Store) -> Result<Option<Manifest>> {
    match store.read(MANIFEST).await? {
        None => Ok(None),
        Some(b) => serde_json::from_slice(&b).map(Some).map_err(|e| {
            Error::document(
                store.describe(MANIFEST),
                format!("not a sageflow manifest: {e}"),
                crate::source::committed::MANIFEST_HINT,
            )
        }),
    }
}

/// Finishes runs that were interrupted after their commit record, and deletes what runs
/// interrupted before it left in staging. Returns how many runs were rolled forward.
///
/// Only complete records, `<run>.json`, are runs: a `<run>.tmp` is a record whose run
/// died before committing (its rename is the commit), perhaps half-written on a full disk;
/// replaying it would put back its manifest, older than the ones committed since, and
/// export again everything exported after it. It is deleted with the run's staging (its
/// sources are not in the manifest, so they are exported again). Other files are not
/// sageflow's and are left alone.
pub async fn recover(store: &Store) -> Result<usize> {
    let mut rolled = 0;
    for rec in store.list(RUNS).await? {
        let name = rec.strip_prefix(RUNS).unwrap_or(&rec);
        if name.ends_with(".tmp") {
            tracing::warn!(file = %store.describe(&rec), "discarding the record of an export run that stopped before committing; its sources are exported again");
            store.delete(&rec).await?;
            continue;
        }
        if !name.ends_with(".json") || name.contains('/') {
            tracing::warn!(file = %store.describe(&rec), "not an export run record; ignored (remove it)");
            continue;
        }
        let data = store.read(&rec).await?.unwrap_or_default();
        let record: RunRecord = serde_json::from_slice(&data).map_err(|e| {
            Error::document(
                store.describe(&rec),
                format!("damaged run record: {e}"),
                crate::source::committed::MANIFEST_HINT,
            )
        })?;
        commit(store, &record).await?;
        tracing::warn!(run = %record.run, "finished an export run that had been interrupted");
        rolled += 1;
    }
    for stale in store.list(STAGING).await? {
        store.delete(&stale).await?;
    }
    if let Store::Local(root) = store {
        let _ = std::fs::remove_dir_all(root.join(STAGING));
    }
    Ok(rolled)
}

/// Every file is placed before any staged original is deleted, so that when placing one
/// fails the files placed before it can be withdrawn: readers then see none of the run,
/// and the run record, still valid, lets the next run finish it.
async fn commit(store: &Store, record: &RunRecord) -> Result<()> {
    let unfinished = |e: Error, state: &str| {
        Error::source(
            store.describe(&format!("{RUNS}{}.json", record.run)),
            format!(
                "export run {} not committed: {e}; {state}, and the next export to {} finishes the run",
                record.run,
                store.root()
            ),
        )
    };
    let mut placed = Vec::new();
    // Whether an earlier, interrupted attempt already moved files (their staged originals
    // are gone): those cannot be withdrawn, so withdrawing the others would not hide the
    // run. On S3 it means that attempt had placed every file and begun deleting.
    let mut moved_before = false;
    for (i, (from, to)) in record.moves.iter().enumerate() {
        fault("commit", i);
        match store.place(from, to).await {
            Ok(true) => placed.push((from, to)),
            Ok(false) => moved_before = true,
            Err(e) => {
                let mut withdrawn = !moved_before;
                for (from, to) in placed.into_iter().filter(|_| !moved_before) {
                    if let Err(undo) = store.unplace(from, to).await {
                        withdrawn = false;
                        tracing::warn!(file = %store.describe(to), error = %undo, "could not withdraw a file of the failed commit");
                    }
                }
                let state = if withdrawn {
                    "no file of it is visible"
                } else {
                    "some of its files are visible"
                };
                return Err(unfinished(e, state));
            }
        }
    }
    let in_place = "all its files are in place but not yet in the manifest";
    // The manifest is what publishes the files to sageflow's readers: the renames first
    // reach the disk.
    store
        .sync(record.moves.iter().map(|(_, to)| to.as_str()))
        .map_err(|e| unfinished(e, in_place))?;
    for (from, _) in &record.moves {
        store
            .delete(from)
            .await
            .map_err(|e| unfinished(e, in_place))?;
    }
    let json = serde_json::to_vec_pretty(&record.manifest).expect("manifest serialises");
    store
        .write(MANIFEST, &json)
        .await
        .map_err(|e| unfinished(e, in_place))?;
    let replaced = "it is committed, but files of the export it replaces are still there";
    for (i, f) in record.obsolete.iter().enumerate() {
        fault("obsolete", i);
        store.delete(f).await.map_err(|e| unfinished(e, replaced))?;
    }
    store.delete(&format!("{RUNS}{}.json", record.run)).await
}

/// The data files of the output (what `--full` replaces).
pub async fn data_files(store: &Store) -> Result<Vec<String>> {
    Ok(store
        .list("")
        .await?
        .into_iter()
        .filter(|f| !f.starts_with('_') && f.ends_with(".parquet"))
        .collect())
}

/// Columns written as plain values, without a dictionary, with the [`ADDRESS_COLUMNS`]:
/// nearly every value of a file is distinct (ephemeral ports, the remote side's addresses),
/// so a dictionary cost a hash lookup per value and saved nothing. On the benchmark corpus,
/// plain values and zstd made the export 167 -> 156 MB and 12.6 -> 11.3 s (with `bytes`
/// and `source_line`, now [`DELTA_COLUMNS`]; `packets`, repeated more, grew without one),
/// and the ports 8.9 -> 7.1 MB each.
const PLAIN_COLUMNS: &[&str] = &["srcport", "dstport"];

/// Integers written as deltas, bit-packed per block of values (DELTA_BINARY_PACKED), without
/// a dictionary (zstd, as every column, finds little more in them). Byte counts and
/// line numbers are spread too widely for a dictionary but need far fewer than 64 bits,
/// and `end` follows the file's order by start time. Benchmark corpus: `bytes` 13.7 ->
/// 11.6 MB, `source_line` 8.9 -> 8.1, `end` 4.6 -> 3.6. (`end_time`, in microseconds, grew to
/// 10.8 MB this way and keeps its dictionary; so does `packets`.)
const DELTA_COLUMNS: &[&str] = &["bytes", "source_line", "end"];

/// Plain columns (as [`PLAIN_COLUMNS`]) compressed harder (zstd 6, the rest 3): the
/// addresses but `local_addr`, the largest columns of the export, which the level makes 9 %
/// smaller (benchmark corpus: 156 -> 141 MB of Parquet with the columns above, below the
/// 142 MB of gzip logs it came from). The time this adds is spent in the column encoders,
/// which run in parallel ([`encode_row_group`]).
const ADDRESS_COLUMNS: &[&str] = &[
    "srcaddr",
    "dstaddr",
    "pkt_srcaddr",
    "pkt_dstaddr",
    "remote_addr",
];

fn writer_props(sort_cols: &[usize]) -> WriterProperties {
    let zstd = |level| Compression::ZSTD(ZstdLevel::try_new(level).expect("valid level"));
    let mut b = WriterProperties::builder()
        .set_compression(zstd(3))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_statistics_enabled(EnabledStatistics::Page);
    for c in PLAIN_COLUMNS.iter().chain(ADDRESS_COLUMNS) {
        b = b.set_column_dictionary_enabled((*c).into(), false);
    }
    for c in DELTA_COLUMNS {
        b = b
            .set_column_dictionary_enabled((*c).into(), false)
            .set_column_encoding((*c).into(), Encoding::DELTA_BINARY_PACKED);
    }
    for c in ADDRESS_COLUMNS {
        b = b.set_column_compression((*c).into(), zstd(6));
    }
    b.set_sorting_columns(Some(
        sort_cols
            .iter()
            .map(|&c| SortingColumn {
                column_idx: c as i32,
                descending: false,
                nulls_first: false,
            })
            .collect(),
    ))
    .set_created_by(format!("{CREATED_BY_PREFIX}{}", env!("CARGO_PKG_VERSION")))
    .build()
}

/// The type timestamps are written with (and the DDL declares).
pub fn written_time_type() -> datafusion::arrow::datatypes::DataType {
    datafusion::arrow::datatypes::DataType::Timestamp(
        datafusion::arrow::datatypes::TimeUnit::Microsecond,
        Some("UTC".into()),
    )
}

/// The schema of the written files: the table's, with timestamps in microseconds.
pub fn written_schema(schema: &SchemaRef) -> SchemaRef {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    std::sync::Arc::new(Schema::new(
        schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Timestamp(..) => {
                    Field::new(f.name(), written_time_type(), f.is_nullable())
                }
                _ => f.as_ref().clone(),
            })
            .collect::<Vec<Field>>(),
    ))
}

/// Rows of one partition waiting to be sorted and written. A column that is null in every
/// row of a batch is held as `None`, neither counted against the run's bytes nor gathered
/// when it is written: most of the catalogue's columns are absent from any one log format.
#[derive(Default)]
struct Pending {
    batches: Vec<Held>,
    bytes: usize,
}

/// One batch of a partition's rows: its columns with values, `None` for the all-null ones.
struct Held {
    columns: Vec<Option<datafusion::arrow::array::ArrayRef>>,
    rows: usize,
}

impl Held {
    /// Keeps the columns of `batch` that have a value, each copied to its length when its
    /// buffers are mostly someone else's (a slice of a larger batch, or a decoder's batch
    /// of a small object that keeps the capacity of a full one); returns it with the bytes
    /// it holds.
    fn new(batch: &RecordBatch) -> Result<(Held, usize)> {
        let mut bytes = 0;
        let mut columns = Vec::with_capacity(batch.num_columns());
        // Every row, in order: the index of the columns copied to their length.
        let mut all: Option<datafusion::arrow::array::UInt32Array> = None;
        for c in batch.columns() {
            if c.logical_null_count() == c.len() {
                columns.push(None);
                continue;
            }
            let used = c.to_data().get_slice_memory_size().unwrap_or(0);
            let c = if used * 2 < c.get_array_memory_size() {
                let all = all.get_or_insert_with(|| {
                    datafusion::arrow::array::UInt32Array::from_iter_values(
                        0..batch.num_rows() as u32,
                    )
                });
                datafusion::arrow::compute::take(c.as_ref(), all, None)?
            } else {
                c.clone()
            };
            bytes += used;
            columns.push(Some(c));
        }
        Ok((
            Held {
                columns,
                rows: batch.num_rows(),
            },
            bytes,
        ))
    }

    /// Column `c`, with a null array for an all-null one.
    fn column(&self, c: usize, schema: &SchemaRef) -> datafusion::arrow::array::ArrayRef {
        match &self.columns[c] {
            Some(a) => a.clone(),
            None => {
                datafusion::arrow::array::new_null_array(schema.field(c).data_type(), self.rows)
            }
        }
    }
}

/// Where a written column's values come from.
enum Gather {
    /// Null in every held row: slices of one null array of [`WRITE_ROWS`] rows.
    Null(datafusion::arrow::array::ArrayRef),
    /// The column of each held batch, gathered in sorted order.
    From(Vec<datafusion::arrow::array::ArrayRef>),
}

/// Rows per batch handed to the Parquet writer: a run is written by gathering its sorted
/// rows a batch at a time, never as one sorted copy.
const WRITE_ROWS: usize = 8192;

/// Bytes of rows held before the partition holding the most is sorted and written as a
/// run: a thirty-second of `--memory-limit`, between 8 and 64 MiB. One run is written
/// while the next fills, so the export holds about two runs of rows, plus the Parquet
/// writer's row group and the decoders' batches in flight: 340 MB of peak RSS on the
/// benchmark corpus at the default `1G` (README, "export", has the trade-off against
/// larger runs).
fn run_bytes(memory_limit: usize) -> usize {
    (memory_limit / 32).clamp(8 << 20, 64 << 20)
}

/// A file written locally, to be staged.
struct Written {
    rel: String,
    local: std::path::PathBuf,
}

/// Where a run's files go, and how they are written.
#[derive(Clone)]
struct RunFiles {
    run: String,
    staging_local: std::path::PathBuf,
    root: Option<std::path::PathBuf>,
    /// The table's schema (the held rows'), and the written files' one.
    schema: SchemaRef,
    written: SchemaRef,
    props: WriterProperties,
    sort_cols: [usize; 2],
    seq: Arc<std::sync::atomic::AtomicUsize>,
}

impl RunFiles {
    /// Sorts one partition's rows by time then interface and writes them as files of at
    /// most [`FILE_ROWS`] rows.
    fn write(&self, key: &str, pending: Pending) -> Result<Vec<Written>> {
        let schema = &self.schema;
        let order = sort_order(&pending.batches, self.sort_cols, schema)?;
        // A column null in every held row is written from one shared null array; the
        // others are gathered from the held batches.
        let gathers: Vec<Gather> = (0..schema.fields().len())
            .map(|c| {
                if pending.batches.iter().all(|b| b.columns[c].is_none()) {
                    Gather::Null(datafusion::arrow::array::new_null_array(
                        schema.field(c).data_type(),
                        WRITE_ROWS,
                    ))
                } else {
                    Gather::From(
                        pending
                            .batches
                            .iter()
                            .map(|b| b.column(c, schema))
                            .collect(),
                    )
                }
            })
            .collect();
        let mut out = Vec::new();
        for file_rows in order.chunks(FILE_ROWS) {
            let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let rel = format!("{key}/part-{}-{seq:05}.parquet", self.run);
            let local = match &self.root {
                Some(root) => {
                    crate::store::local_path(root, &format!("{STAGING}{}/{rel}", self.run))?
                }
                None => self.staging_local.join(&rel),
            };
            if let Some(d) = local.parent() {
                std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
            }
            let perr = |e: datafusion::parquet::errors::ParquetError| Error::Parquet {
                object: local.display().to_string(),
                message: e.to_string(),
            };
            let file = std::fs::File::create(&local).map_err(|e| Error::io(&local, e))?;
            // ArrowWriter for the file's schema and Arrow metadata; its row groups are
            // encoded here instead, a column per thread.
            let (mut writer, factory) =
                ArrowWriter::try_new(file, self.written.clone(), Some(self.props.clone()))
                    .and_then(|w| w.into_serialized_writer())
                    .map_err(perr)?;
            let descr = writer.schema_descr();
            let mut leaves = vec![0usize; self.written.fields().len()];
            for leaf in 0..descr.num_columns() {
                leaves[descr.get_column_root_idx(leaf)] += 1;
            }
            for (g, group_rows) in file_rows.chunks(ROW_GROUP_ROWS).enumerate() {
                let mut column_writers =
                    factory.create_column_writers(g).map_err(perr)?.into_iter();
                let writers: Vec<_> = leaves
                    .iter()
                    .map(|&n| column_writers.by_ref().take(n).collect())
                    .collect();
                let chunks =
                    encode_row_group(self.written.fields(), &gathers, writers, group_rows, &perr)?;
                let mut row_group = writer.next_row_group().map_err(perr)?;
                for chunk in chunks.into_iter().flatten() {
                    chunk.append_to_row_group(&mut row_group).map_err(perr)?;
                }
                row_group.close().map_err(perr)?;
            }
            writer.close().map_err(perr)?;
            out.push(Written { rel, local });
        }
        Ok(out)
    }
}

/// Encodes one row group, `rows` gathered from `gathers`, as each field's column
/// chunks (`writers`: each field's leaf column writers). The writer of a file was the
/// export's bottleneck (encoding, statistics and compression of every column on one
/// thread, while reading left the other core half idle): fields are taken by
/// `available_parallelism()` threads, the gathered ones first, and each thread gathers
/// and encodes a whole field. The memory is the same as one thread's, as the column
/// chunks are held until the row group is written either way.
fn encode_row_group(
    fields: &datafusion::arrow::datatypes::Fields,
    gathers: &[Gather],
    writers: Vec<Vec<ArrowColumnWriter>>,
    rows: &[(usize, usize)],
    perr: &(dyn Fn(datafusion::parquet::errors::ParquetError) -> Error + Sync),
) -> Result<Vec<Vec<ArrowColumnChunk>>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let mut order: Vec<usize> = (0..fields.len()).collect();
    order.sort_by_key(|&f| matches!(gathers[f], Gather::Null(_)));
    let writers: Vec<Mutex<Vec<ArrowColumnWriter>>> = writers.into_iter().map(Mutex::new).collect();
    let done: Vec<Mutex<Option<Result<Vec<ArrowColumnChunk>>>>> =
        (0..fields.len()).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(&f) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            let writers = std::mem::take(&mut *writers[f].lock().expect("not poisoned"));
            let chunks = encode_field(&gathers[f], &fields[f], writers, rows, perr);
            *done[f].lock().expect("not poisoned") = Some(chunks);
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(work);
        }
        work();
    });
    done.into_iter()
        .map(|d| {
            d.into_inner()
                .expect("not poisoned")
                .expect("every field is encoded")
        })
        .collect()
}

/// Gathers `rows` of one field `WRITE_ROWS` at a time, in the written type, into its
/// leaf column writers.
fn encode_field(
    gather: &Gather,
    field: &datafusion::arrow::datatypes::Field,
    mut writers: Vec<ArrowColumnWriter>,
    rows: &[(usize, usize)],
    perr: &dyn Fn(datafusion::parquet::errors::ParquetError) -> Error,
) -> Result<Vec<ArrowColumnChunk>> {
    let sources: Vec<&dyn Array> = match gather {
        Gather::Null(_) => Vec::new(),
        Gather::From(sources) => sources.iter().map(|a| a.as_ref()).collect(),
    };
    for chunk in rows.chunks(WRITE_ROWS) {
        let array = match gather {
            Gather::Null(n) => n.slice(0, chunk.len()),
            Gather::From(_) => datafusion::arrow::compute::interleave(&sources, chunk)?,
        };
        let array = if array.data_type() == field.data_type() {
            array
        } else {
            datafusion::arrow::compute::cast(&array, field.data_type())?
        };
        for (leaf, writer) in compute_leaves(field, &array)
            .map_err(perr)?
            .iter()
            .zip(&mut writers)
        {
            writer.write(leaf).map_err(perr)?;
        }
    }
    writers
        .into_iter()
        .map(|w| w.close().map_err(perr))
        .collect()
}

/// The rows of `batches` in (time, interface) order (`sort_cols`: a seconds timestamp and
/// a string view column), nulls last, as (batch, row) pairs; rows of equal keys keep the
/// order they were read in. Each interface is ranked once per run and the rows are sorted
/// on plain integers: sorting them as Arrow rows (a byte comparison per pair) took a fifth
/// of the export's writer thread, which every run waits for.
fn sort_order(
    batches: &[Held],
    sort_cols: [usize; 2],
    schema: &SchemaRef,
) -> Result<Vec<(usize, usize)>> {
    let columns: Vec<_> = batches
        .iter()
        .map(|b| {
            (
                b.column(sort_cols[0], schema),
                b.column(sort_cols[1], schema),
            )
        })
        .collect();
    let mut rank: foldhash::HashMap<&str, u32> = Default::default();
    for (_, interfaces) in &columns {
        for i in interfaces.as_string_view().iter().flatten() {
            rank.entry(i).or_insert(0);
        }
    }
    let mut names: Vec<&str> = rank.keys().copied().collect();
    names.sort_unstable();
    for (r, name) in names.iter().enumerate() {
        rank.insert(name, r as u32);
    }
    let mut keys: Vec<(bool, i64, u32, u32, u32)> =
        Vec::with_capacity(batches.iter().map(|b| b.rows).sum());
    for (b, (times, interfaces)) in columns.iter().enumerate() {
        let times = times.as_primitive::<TimestampSecondType>();
        let interfaces = interfaces.as_string_view();
        for r in 0..times.len() {
            let time = times.is_valid(r).then(|| times.value(r));
            let interface = if interfaces.is_valid(r) {
                rank[interfaces.value(r)]
            } else {
                u32::MAX
            };
            keys.push((
                time.is_none(),
                time.unwrap_or(0),
                interface,
                b as u32,
                r as u32,
            ));
        }
    }
    keys.sort_unstable();
    Ok(keys
        .into_iter()
        .map(|(_, _, _, b, r)| (b as usize, r as usize))
        .collect())
}

/// Writes `SELECT * FROM flows` as staged files, each sorted by time then interface, then
/// commits them with `manifest` as the new manifest, unless `complete` (called once every
/// row is written, to add what was read to the manifest) fails: a damaged source object,
/// whose rows could only be exported in part, leaves the export as it was. `obsolete` (the
/// data files of the export a `--full` run replaces) are deleted after the commit, not
/// before.
///
/// Memory is bounded without a global sort: rows wait per partition until
/// [`run_bytes`] of them are held, then the partition holding the most is sorted and
/// written as a run (its own files) while reading goes on.
pub async fn export(
    ctx: &SessionContext,
    store: &Store,
    partition_by: PartitionBy,
    memory_limit: usize,
    mut manifest: Manifest,
    obsolete: Vec<String>,
    complete: impl FnOnce(&mut Manifest, Option<crate::engine::counters::Counted>) -> Result<()>,
) -> Result<Summary> {
    let run = format!(
        "{}-{:08x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    );
    // Files bound for S3 are written locally first; the guard removes them however the
    // run ends (a failed run used to leave them in the temp directory).
    let (staging_local, _local_copies) = match store {
        Store::Local(root) => (root.join(STAGING).join(&run), None),
        Store::S3 { .. } => {
            let dir = crate::scratch::subdir(&format!("export-{run}-"))?;
            (dir.path().to_path_buf(), Some(dir))
        }
    };
    let df = ctx
        .sql("SELECT * FROM flows")
        .await
        .map_err(Error::from_datafusion)?;
    // With `--workers` the plan runs there: the workers read, decode and enrich their
    // shares, and the rows are written here.
    let plan = df
        .create_physical_plan()
        .await
        .map_err(Error::from_datafusion)?;
    let mut stream = datafusion::physical_plan::execute_stream(plan.clone(), ctx.task_ctx())
        .map_err(Error::from_datafusion)?;
    let schema: SchemaRef = stream.schema();
    let time_idx = schema.index_of("start_time").expect("start_time");
    let end_idx = schema.index_of("end_time").expect("end_time");
    // Written as microseconds, UTC: Parquet has no seconds unit, and nanoseconds (which a
    // DataFusion cast would give) are beyond older Spark and Hive readers.
    let written = written_schema(&schema);
    let sort_cols = [
        time_idx,
        schema.index_of("interface_id").expect("interface_id"),
    ];
    let files = RunFiles {
        run: run.clone(),
        staging_local: staging_local.clone(),
        root: match store {
            Store::Local(root) => Some(root.clone()),
            Store::S3 { .. } => None,
        },
        schema: schema.clone(),
        written,
        props: writer_props(&sort_cols),
        sort_cols,
        seq: Arc::default(),
    };
    let budget = run_bytes(memory_limit);

    let mut summary = Summary::default();
    let mut moves: Vec<(String, String)> = Vec::new();
    let mut pending: std::collections::BTreeMap<String, Pending> = Default::default();
    let mut held = 0usize;
    let mut writing: Option<tokio::task::JoinHandle<Result<Vec<Written>>>> = None;

    while let Some(batch) = stream.next().await {
        let batch = match batch {
            Ok(b) => b,
            #[cfg(feature = "distributed")]
            Err(e) => {
                let e = Error::from_datafusion(e);
                let state = ctx.state();
                return Err(crate::engine::distributed::failure(&plan, state.config(), e).await);
            }
            #[cfg(not(feature = "distributed"))]
            Err(e) => return Err(Error::from_datafusion(e)),
        };
        let starts = batch.column(time_idx).as_primitive::<TimestampSecondType>();
        let ends = batch.column(end_idx).as_primitive::<TimestampSecondType>();
        let key_of = |i: usize| {
            let t = if starts.is_valid(i) {
                starts.value(i)
            } else if ends.is_valid(i) {
                ends.value(i)
            } else {
                0
            };
            partition_by.path(t)
        };
        let mut rows: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
        let mut last: Option<(i64, String)> = None;
        for i in 0..batch.num_rows() {
            // Consecutive records are mostly of the same hour: format the key once per hour.
            let t = if starts.is_valid(i) {
                starts.value(i)
            } else {
                i64::MIN
            };
            let key = match &last {
                Some((h, k)) if *h == t.div_euclid(3600) && t != i64::MIN => k,
                _ => {
                    let k = key_of(i);
                    // A record without a start never reuses a key: its hour is not one.
                    let hour = if t != i64::MIN {
                        t.div_euclid(3600)
                    } else {
                        i64::MIN
                    };
                    last = Some((hour, k));
                    &last.as_ref().expect("set above").1
                }
            };
            // Looked up before inserting, so a row of a known partition copies no key.
            match rows.get_mut(key) {
                Some(v) => v.push(i as u32),
                None => {
                    rows.insert(key.clone(), vec![i as u32]);
                }
            }
        }
        for (key, idx) in rows {
            let part = if idx.len() == batch.num_rows() {
                batch.clone()
            } else {
                datafusion::arrow::compute::take_record_batch(
                    &batch,
                    &datafusion::arrow::array::UInt32Array::from(idx),
                )?
            };
            let (part, used) = Held::new(&part)?;
            held += used;
            summary.rows += part.rows as u64;
            let p = pending.entry(key).or_default();
            p.bytes += used;
            p.batches.push(part);
        }
        while held > budget {
            let key = pending
                .iter()
                .max_by_key(|(_, p)| p.bytes)
                .map(|(k, _)| k.clone())
                .expect("rows are held");
            let p = pending.remove(&key).expect("listed");
            held -= p.bytes;
            if let Some(w) = writing.take() {
                stage(store, &run, w, &mut moves, &mut summary).await?;
            }
            let files = files.clone();
            writing = Some(tokio::task::spawn_blocking(move || files.write(&key, p)));
        }
    }
    if let Some(w) = writing.take() {
        stage(store, &run, w, &mut moves, &mut summary).await?;
    }
    for (key, p) in std::mem::take(&mut pending) {
        let files = files.clone();
        let w = tokio::task::spawn_blocking(move || files.write(&key, p));
        stage(store, &run, w, &mut moves, &mut summary).await?;
    }
    // A distributed read's counts came back with its plan: they are the run's.
    #[cfg(feature = "distributed")]
    let counted = crate::engine::distributed::gather(&plan).await?;
    #[cfg(not(feature = "distributed"))]
    let counted = None;
    if let Err(e) = complete(&mut manifest, counted) {
        if let Store::Local(root) = store {
            let _ = std::fs::remove_dir_all(root.join(STAGING).join(&run));
        }
        return Err(e);
    }

    manifest
        .files
        .extend(moves.iter().map(|(_, to)| to.clone()));
    manifest.files.sort();
    manifest.partition_by = format!("{partition_by:?}").to_lowercase();
    // The run record names the staged files: they must outlive a power loss before it does.
    store.sync(moves.iter().map(|(from, _)| from.as_str()))?;
    let record = RunRecord {
        run: run.clone(),
        moves,
        manifest,
        obsolete,
    };
    store
        .write(
            &format!("{RUNS}{run}.json"),
            &serde_json::to_vec_pretty(&record).expect("record serialises"),
        )
        .await?;
    commit(store, &record).await?;
    if let Store::Local(root) = store {
        let _ = std::fs::remove_dir_all(root.join(STAGING).join(&run));
    }
    Ok(summary)
}

/// Writes the inventory tables of the run's inventory next to the flows, replacing those of
/// an earlier run, so that every rule runs on other engines over the export (`export
/// --ddl` declares them).
pub async fn write_tables(store: &Store, tables: Vec<(&str, RecordBatch)>) -> Result<()> {
    for (name, batch) in tables {
        let rel = format!("{TABLES}{name}/{name}.parquet");
        let perr = |e: datafusion::parquet::errors::ParquetError| Error::Parquet {
            object: store.describe(&rel),
            message: e.to_string(),
        };
        let mut buf = Vec::new();
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(
                ZstdLevel::try_new(3).expect("valid level"),
            ))
            .build();
        let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), Some(props)).map_err(perr)?;
        w.write(&batch).map_err(perr)?;
        w.close().map_err(perr)?;
        store.write(&rel, &buf).await?;
    }
    Ok(())
}

/// Stages the files a run wrote (on S3, uploads them).
async fn stage(
    store: &Store,
    run: &str,
    writing: tokio::task::JoinHandle<Result<Vec<Written>>>,
    moves: &mut Vec<(String, String)>,
    summary: &mut Summary,
) -> Result<()> {
    let written = writing
        .await
        .map_err(|e| Error::Usage(format!("writing a Parquet file failed: {e}")))??;
    for f in written {
        let size = std::fs::metadata(&f.local).map(|m| m.len()).unwrap_or(0);
        let staged = format!("{STAGING}{run}/{}", f.rel);
        if let Store::S3 { .. } = store {
            store.put_file(&f.local, &staged).await?;
            let _ = std::fs::remove_file(&f.local);
        }
        fault("staging", moves.len());
        moves.push((staged, f.rel));
        summary.files += 1;
        summary.bytes += size;
    }
    Ok(())
}

/// Time-sorted batch check used by tests: every file's rows are in `start_time` order.
pub fn is_time_sorted(batch: &RecordBatch) -> bool {
    let Ok(i) = batch.schema().index_of("start_time") else {
        return true;
    };
    let t = batch.column(i).as_primitive::<TimestampSecondType>();
    (1..t.len()).all(|k| t.is_null(k) || (t.is_valid(k - 1) && t.value(k - 1) <= t.value(k)))
}

/// For `Arc` users.
pub type SharedStore = Arc<Store>;

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{StringViewArray, TimestampSecondArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    /// A run whose batches differ in which columns have values (a column null in every row
    /// of one batch, filled in another; a column null everywhere) is written sorted, each
    /// value on its own row: the held `None` columns line up with the gathered ones.
    #[test]
    fn a_run_of_batches_with_different_null_columns_is_written_row_for_row() {
        let ts = DataType::Timestamp(TimeUnit::Second, Some("UTC".into()));
        let schema: SchemaRef = Arc::new(Schema::new(vec![
            Field::new("start_time", ts, true),
            Field::new("interface_id", DataType::Utf8View, true),
            Field::new("tag", DataType::Utf8View, true),
            Field::new("never", DataType::Utf8View, true),
        ]));
        let batch = |times: Vec<i64>, enis: Vec<&str>, tags: Vec<Option<&str>>| {
            let n = times.len();
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(TimestampSecondArray::from(times).with_timezone("UTC")),
                    Arc::new(StringViewArray::from(enis)),
                    Arc::new(StringViewArray::from(tags)),
                    Arc::new(StringViewArray::from(vec![None::<&str>; n])),
                ],
            )
            .unwrap()
        };
        let a = batch(
            vec![30, 10, 20],
            vec!["eni-a", "eni-b", "eni-c"],
            vec![None; 3],
        );
        let b = batch(
            vec![25, 5, 10],
            vec!["eni-d", "eni-e", "eni-a"],
            vec![Some("d"), None, Some("a")],
        );
        let mut pending = Pending::default();
        for x in [&a, &b] {
            let (held, _) = Held::new(x).unwrap();
            pending.batches.push(held);
        }
        assert!(pending.batches[0].columns[2].is_none());
        assert!(pending.batches[1].columns[3].is_none());
        let dir = tempfile::tempdir().unwrap();
        let files = RunFiles {
            run: "r".into(),
            staging_local: dir.path().to_path_buf(),
            root: None,
            schema: schema.clone(),
            written: written_schema(&schema),
            props: writer_props(&[0, 1]),
            sort_cols: [0, 1],
            seq: Arc::default(),
        };
        let written = files.write("day", pending).unwrap();
        assert_eq!(written.len(), 1);
        let file = std::fs::File::open(&written[0].local).unwrap();
        let rows: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap()
            .collect::<std::result::Result<_, _>>()
            .unwrap();
        let out = datafusion::arrow::compute::concat_batches(&rows[0].schema(), &rows).unwrap();
        let strings = |c: usize| -> Vec<Option<String>> {
            let c = datafusion::arrow::compute::cast(out.column(c), &DataType::Utf8).unwrap();
            let c = c.as_string::<i32>();
            (0..c.len())
                .map(|i| c.is_valid(i).then(|| c.value(i).to_string()))
                .collect()
        };
        let s = |v: &str| Some(v.to_string());
        // Time, then interface: (5 e) (10 a, from the second batch) (10 b) (20 c) (25 d) (30 a).
        assert_eq!(
            strings(1),
            vec![
                s("eni-e"),
                s("eni-a"),
                s("eni-b"),
                s("eni-c"),
                s("eni-d"),
                s("eni-a")
            ]
        );
        assert_eq!(strings(2), vec![None, s("a"), None, None, s("d"), None]);
        assert_eq!(out.column(3).null_count(), 6);
        let t = out
            .column(0)
            .as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
        assert_eq!(
            t.values().to_vec(),
            vec![
                5_000_000, 10_000_000, 10_000_000, 20_000_000, 25_000_000, 30_000_000
            ]
        );
    }
}
