//! Printing query results: tables for people, CSV/JSON/NDJSON for programs. The machine
//! formats stream batch by batch; only the table format holds the result to size columns.

use std::io::Write;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::physical_plan::SendableRecordBatchStream;
use futures::StreamExt;

use super::args::OutputFormat;
use crate::error::{Error, Result};

/// Writes a result stream in `format`; returns the number of rows.
pub async fn write_stream(
    mut stream: SendableRecordBatchStream,
    format: OutputFormat,
    out: &mut (dyn Write + Send),
) -> Result<usize> {
    let schema = stream.schema();
    let mut rows = 0;
    match format {
        OutputFormat::Table => {
            let mut batches = Vec::new();
            while let Some(b) = stream.next().await {
                let b = b.map_err(Error::from_datafusion)?;
                rows += b.num_rows();
                batches.push(b);
            }
            write_table(&schema, &batches, out)?;
        }
        OutputFormat::Csv => {
            let mut w = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            let mut wrote = false;
            while let Some(b) = stream.next().await {
                let b = b.map_err(Error::from_datafusion)?;
                rows += b.num_rows();
                w.write(&b)?;
                wrote = true;
            }
            if !wrote {
                w.write(&RecordBatch::new_empty(schema.clone()))?;
            }
        }
        OutputFormat::Json => {
            let mut w = datafusion::arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, datafusion::arrow::json::writer::JsonArray>(&mut *out);
            while let Some(b) = stream.next().await {
                let b = b.map_err(Error::from_datafusion)?;
                rows += b.num_rows();
                w.write(&b)?;
            }
            w.finish()?;
            if rows == 0 {
                // The array writer prints nothing for no rows; `[]` is the honest answer.
                write!(out, "[]").map_err(stdout_err)?;
            }
            writeln!(out).map_err(stdout_err)?;
        }
        OutputFormat::Ndjson => {
            let mut w = datafusion::arrow::json::WriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, datafusion::arrow::json::writer::LineDelimited>(&mut *out);
            while let Some(b) = stream.next().await {
                let b = b.map_err(Error::from_datafusion)?;
                rows += b.num_rows();
                w.write(&b)?;
            }
            w.finish()?;
        }
    }
    out.flush().map_err(stdout_err)?;
    Ok(rows)
}

fn write_table(schema: &SchemaRef, batches: &[RecordBatch], out: &mut dyn Write) -> Result<()> {
    let table = if batches.is_empty() {
        datafusion::arrow::util::pretty::pretty_format_batches(&[RecordBatch::new_empty(
            schema.clone(),
        )])?
    } else {
        datafusion::arrow::util::pretty::pretty_format_batches(batches)?
    };
    writeln!(out, "{table}").map_err(stdout_err)
}

fn stdout_err(e: std::io::Error) -> Error {
    Error::io("standard output", e)
}
