//! The spool findings wait in until the scan's output is written: on disk, not in memory.

use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;

use super::findings::{Findings, JSON_TEXT, write_ndjson};
use super::{Finding, KEY_COLUMNS};
use crate::error::{Error, Result};

/// The findings of a scan, spooled as Arrow IPC streams (a stream, not the file format:
/// a rule's batches may each have their own dictionaries) in the scan's temporary directory,
/// as their rules' columns (with their ids): a scan that flags millions of flows holds a
/// batch of findings in memory at a time, and every output format is written from the
/// spool, batch by batch.
pub struct Spool {
    /// The spool's name in its directory; its files are named after it.
    pub(super) path: PathBuf,
    segments: Vec<Segment>,
    /// Writing the last segment.
    writer: Option<StreamWriter<BufWriter<std::fs::File>>>,
    count: usize,
    per_rule: std::collections::HashMap<String, usize>,
    /// Per rule, in the order rules were first met: the columns beyond [`KEY_COLUMNS`]
    /// its findings carry, in the order first met, so the table and CSV keep them.
    pub(super) columns: Vec<(String, Vec<String>)>,
    /// The rule and column names of the last findings pushed.
    last: (String, Vec<String>),
}

/// A file of findings with the same columns, pushed one after the other.
struct Segment {
    kind: Kind,
    path: PathBuf,
    schema: SchemaRef,
}

#[derive(Clone, PartialEq)]
enum Kind {
    /// A rule's rows with their `finding_id`s ([`Findings::of_rule`]).
    Rule { rule: String, severity: String },
    /// Findings pushed as maps, their values as JSON texts ([`Findings::of_maps`]).
    Maps,
}

impl Spool {
    pub fn create(dir: &Path) -> Result<Spool> {
        Ok(Spool {
            path: dir.join("findings"),
            segments: Vec::new(),
            writer: None,
            count: 0,
            per_rule: Default::default(),
            columns: Vec::new(),
            last: Default::default(),
        })
    }

    /// Adds a rule's findings: `batch` is its rows with their `finding_id`s, `names` the
    /// columns of the findings they make, sorted ([`Findings::names`]).
    pub fn push_rule(
        &mut self,
        rule: &str,
        severity: &str,
        batch: &RecordBatch,
        names: &[String],
    ) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let kind = Kind::Rule {
            rule: rule.into(),
            severity: severity.into(),
        };
        self.append(kind, batch)?;
        self.counted(rule, batch.num_rows(), names);
        Ok(())
    }

    /// Adds one finding given as a map.
    pub fn push(&mut self, f: &Finding) -> Result<()> {
        let fields: Vec<Field> = f
            .keys()
            .map(|k| {
                Field::new(k, DataType::Utf8, false).with_metadata(
                    [(JSON_TEXT.to_string(), "1".to_string())]
                        .into_iter()
                        .collect(),
                )
            })
            .collect();
        let columns = f
            .values()
            .map(|v| Arc::new(StringArray::from(vec![v.to_string()])) as _)
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
        self.append(Kind::Maps, &batch)?;
        let rule = f
            .get("rule")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string();
        let names: Vec<String> = f.keys().cloned().collect();
        self.counted(&rule, 1, &names);
        Ok(())
    }

    /// Writes `batch` to the last segment, or to a new one when it is of another kind or
    /// has other columns.
    fn append(&mut self, kind: Kind, batch: &RecordBatch) -> Result<()> {
        let same = self.writer.is_some()
            && self
                .segments
                .last()
                .is_some_and(|s| s.kind == kind && *s.schema == *batch.schema());
        if !same {
            self.finish()?;
            let path = self
                .path
                .with_extension(format!("{}.arrow", self.segments.len()));
            let file = std::fs::File::create(&path).map_err(|e| Error::io(&path, e))?;
            let writer = StreamWriter::try_new(BufWriter::new(file), &batch.schema())
                .map_err(|e| damaged(&path, e))?;
            self.writer = Some(writer);
            self.segments.push(Segment {
                kind,
                path,
                schema: batch.schema(),
            });
        }
        let path = &self.segments.last().expect("pushed").path;
        self.writer
            .as_mut()
            .expect("opened")
            .write(batch)
            .map_err(|e| damaged(path, e))
    }

    /// Ends the last segment's file.
    fn finish(&mut self) -> Result<()> {
        if let Some(mut w) = self.writer.take() {
            let path = &self.segments.last().expect("opened").path;
            w.finish().map_err(|e| damaged(path, e))?;
            w.into_inner()
                .map_err(|e| damaged(path, e))?
                .flush()
                .map_err(|e| Error::io(path, e))?;
        }
        Ok(())
    }

    /// Counts `rows` findings of `rule`, with the columns `names`.
    fn counted(&mut self, rule: &str, rows: usize, names: &[String]) {
        self.count += rows;
        match self.per_rule.get_mut(rule) {
            Some(n) => *n += rows,
            None => {
                self.per_rule.insert(rule.to_string(), rows);
            }
        }
        // A rule's findings nearly always have the same columns: the last findings'
        // names are kept, and the columns looked at again only when they differ.
        if self.last.0 == rule && self.last.1 == names {
            return;
        }
        self.last = (rule.to_string(), names.to_vec());
        let at = match self.columns.iter().position(|(r, _)| r == rule) {
            Some(i) => i,
            None => {
                self.columns.push((rule.to_string(), Vec::new()));
                self.columns.len() - 1
            }
        };
        let cols = &mut self.columns[at].1;
        for k in names {
            if !KEY_COLUMNS.contains(&k.as_str()) && !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }

    /// Every column of every finding: [`KEY_COLUMNS`], then the others as first met.
    pub fn all_columns(&self) -> Vec<String> {
        let mut all: Vec<String> = KEY_COLUMNS.iter().map(|c| c.to_string()).collect();
        for c in self.columns.iter().flat_map(|(_, cols)| cols) {
            if !all.contains(c) {
                all.push(c.clone());
            }
        }
        all
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Findings kept for `rule`.
    pub fn count_of(&self, rule: &str) -> usize {
        self.per_rule.get(rule).copied().unwrap_or(0)
    }

    /// The findings, a batch at a time, in the order they were pushed.
    pub fn batches(&mut self) -> Result<impl Iterator<Item = Result<Findings>> + use<>> {
        self.finish()?;
        let segments: Vec<(Kind, PathBuf)> = self
            .segments
            .iter()
            .map(|s| (s.kind.clone(), s.path.clone()))
            .collect();
        Ok(segments.into_iter().flat_map(|(kind, path)| {
            let reader = std::fs::File::open(&path)
                .map_err(|e| Error::io(&path, e))
                .and_then(|f| {
                    StreamReader::try_new(BufReader::new(f), None).map_err(|e| damaged(&path, e))
                });
            let batches: Box<dyn Iterator<Item = Result<Findings>>> = match reader {
                Err(e) => Box::new(std::iter::once(Err(e))),
                Ok(reader) => Box::new(reader.map(move |b| {
                    let b = b.map_err(|e| damaged(&path, e))?;
                    let what = path.display().to_string();
                    match &kind {
                        Kind::Rule { rule, severity } => {
                            Findings::of_rule(rule, severity, &b, &what)
                        }
                        Kind::Maps => Findings::of_maps(&b, &what),
                    }
                })),
            };
            batches
        }))
    }

    /// The findings as maps, one at a time, in the order they were pushed.
    pub fn iter(&mut self) -> Result<impl Iterator<Item = Result<Finding>> + use<>> {
        Ok(self.batches()?.flat_map(|b| {
            let maps: Box<dyn Iterator<Item = Result<Finding>>> = match b {
                Ok(f) => Box::new((0..f.len()).map(move |r| Ok(f.to_map(r)))),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            maps
        }))
    }

    /// Writes the findings as NDJSON: one per line, in the order they were pushed, as
    /// `serde_json` prints their maps.
    pub fn copy_to(&mut self, out: &mut dyn Write) -> Result<()> {
        for f in self.batches()? {
            write_ndjson(&f?, out).map_err(|e| Error::io("output", e))?;
        }
        Ok(())
    }
}

/// The error for a spool file that cannot be written or read back.
fn damaged(path: &Path, e: ArrowError) -> Error {
    Error::document(
        path.display().to_string(),
        format!("findings spool: {e}"),
        "the run's temporary findings file could not be written or was changed while it ran; check the space in the temporary directory (TMPDIR) and run again",
    )
}
