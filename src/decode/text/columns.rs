//! The column builders one decoder fills, and the value a token decodes to.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayBuilder, ArrayRef, Int32Builder, Int64Builder, StringViewBuilder, TimestampSecondBuilder,
};

use crate::format::{ColumnSource, FIELDS, Kind};

/// Bytes per data block of a string column (values over 12 bytes are stored in blocks).
const STRING_BLOCK: u32 = 64 * 1024;

pub(super) enum Builder {
    Str(StringViewBuilder),
    I32(Int32Builder),
    I64(Int64Builder),
    Ts(TimestampSecondBuilder),
}

impl Builder {
    pub(super) fn for_source(source: &ColumnSource, capacity: usize) -> Self {
        let kind = match source {
            ColumnSource::Known(i) => FIELDS[*i].kind,
            // Enrichment columns are never decoded; they come from the enrich stage.
            ColumnSource::Unknown(_) | ColumnSource::Enriched(_) => Kind::Str,
            ColumnSource::Time { .. } => {
                return Builder::Ts(TimestampSecondBuilder::with_capacity(capacity));
            }
            ColumnSource::Provenance { line: false } => Kind::Str,
            ColumnSource::Provenance { line: true } => Kind::Int64,
        };
        match kind {
            // Fixed blocks: the builder lives across batches, and its default doubling
            // reaches 2 MiB blocks per column, so every batch carried ~30 MB of mostly
            // empty buffers (export's sort failed to fit even one in a small pool).
            Kind::Str | Kind::Ip => Builder::Str(
                StringViewBuilder::with_capacity(capacity).with_fixed_block_size(STRING_BLOCK),
            ),
            Kind::Int32 => Builder::I32(Int32Builder::with_capacity(capacity)),
            Kind::Int64 | Kind::Epoch => Builder::I64(Int64Builder::with_capacity(capacity)),
        }
    }

    /// Rows appended since the last `finish`.
    pub(super) fn len(&self) -> usize {
        match self {
            Builder::Str(b) => b.len(),
            Builder::I32(b) => b.len(),
            Builder::I64(b) => b.len(),
            Builder::Ts(b) => b.len(),
        }
    }

    /// Appends nulls until the builder holds `rows` rows.
    pub(super) fn pad_to(&mut self, rows: usize) {
        let n = rows.saturating_sub(self.len());
        if n == 0 {
            return;
        }
        match self {
            Builder::Str(b) => (0..n).for_each(|_| b.append_null()),
            Builder::I32(b) => b.append_nulls(n),
            Builder::I64(b) => b.append_nulls(n),
            Builder::Ts(b) => b.append_nulls(n),
        }
    }

    pub(super) fn append_null(&mut self) {
        match self {
            Builder::Str(b) => b.append_null(),
            Builder::I32(b) => b.append_null(),
            Builder::I64(b) => b.append_null(),
            Builder::Ts(b) => b.append_null(),
        }
    }

    pub(super) fn append(&mut self, v: &Val, text: &str) {
        match (self, v) {
            (b, Val::Null) => b.append_null(),
            (Builder::Str(b), Val::Str(s, e)) => b.append_value(&text[*s as usize..*e as usize]),
            (Builder::I32(b), Val::Int(i)) => b.append_value(*i as i32),
            (Builder::I64(b), Val::Int(i)) => b.append_value(*i),
            (Builder::Ts(b), Val::Int(i)) => b.append_value(*i),
            (b, _) => b.append_null(),
        }
    }

    pub(super) fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Str(b) => Arc::new(b.finish()),
            Builder::I32(b) => Arc::new(b.finish()),
            Builder::I64(b) => Arc::new(b.finish()),
            Builder::Ts(b) => Arc::new(b.finish().with_timezone("UTC")),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Val {
    Null,
    Int(i64),
    /// Byte range of the token in the record text.
    Str(u32, u32),
}
