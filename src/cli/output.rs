//! Printing query results: tables for people, CSV/JSON/NDJSON for programs. The machine
//! formats stream batch by batch; only the table format holds the result to size columns.

use std::io::Write;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::json::writer::{JsonArray, JsonFormat, LineDelimited};
use datafusion::physical_plan::SendableRecordBatchStream;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use futures::StreamExt;

use super::args::OutputFormat;
use crate::error::{Error, Result};

/// Writes every batch of `stream` as JSON in the layout `F` (one array, or a line per row),
/// nulls included; returns the rows written.
async fn write_json<F: JsonFormat>(
    stream: &mut SendableRecordBatchStream,
    out: &mut (dyn Write + Send),
) -> Result<usize> {
    let mut w = datafusion::arrow::json::WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, F>(out);
    let mut rows = 0;
    while let Some(b) = stream.next().await {
        let b = b.map_err(Error::from_datafusion)?;
        rows += b.num_rows();
        w.write(&b)?;
    }
    w.finish()?;
    Ok(rows)
}

/// Writes a result stream in `format`; returns the number of rows. The table format
/// holds at most `max_rows` rows (and counts the rest), so it stays bounded whatever the
/// result; the machine formats stream everything. `before_output` runs once, before the
/// first byte is written (it clears the progress line).
pub async fn write_stream(
    mut stream: SendableRecordBatchStream,
    format: OutputFormat,
    max_rows: usize,
    out: &mut (dyn Write + Send),
    before_output: &mut (dyn FnMut() + Send),
) -> Result<usize> {
    let schema = stream.schema();
    let mut rows = 0;
    if format != OutputFormat::Table {
        // The progress line stays until the first result (or the end) arrives, which for
        // an aggregate over every record is most of the run.
        let first = stream.next().await;
        stream = Box::pin(RecordBatchStreamAdapter::new(
            schema.clone(),
            futures::stream::iter(first).chain(stream),
        ));
    }
    match format {
        OutputFormat::Table => {
            let mut batches = Vec::new();
            let mut held = 0;
            while let Some(b) = stream.next().await {
                let b = b.map_err(Error::from_datafusion)?;
                rows += b.num_rows();
                if held < max_rows {
                    let take = b.num_rows().min(max_rows - held);
                    held += take;
                    batches.push(b.slice(0, take));
                }
            }
            before_output();
            write_table(&schema, &batches, out)?;
            if rows > held {
                writeln!(
                    out,
                    "{} more rows not shown (--maxrows N or inf shows more; csv, json and ndjson print every row)",
                    rows - held
                )
                .map_err(stdout_err)?;
            }
        }
        OutputFormat::Csv => {
            before_output();
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
            before_output();
            // One JSON array per statement, on one line: several statements print one
            // document per line, which a reader parses line by line.
            rows += write_json::<JsonArray>(&mut stream, &mut *out).await?;
            if rows == 0 {
                // The array writer prints nothing for no rows; `[]` is the honest answer.
                write!(out, "[]").map_err(stdout_err)?;
            }
            writeln!(out).map_err(stdout_err)?;
        }
        OutputFormat::Ndjson => {
            before_output();
            rows += write_json::<LineDelimited>(&mut stream, &mut *out).await?;
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
