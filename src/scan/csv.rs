//! The CSV format of findings, written from the spool's batches column by column: a
//! finding is never made a JSON map, so a scan with hundreds of thousands of findings is
//! not held up by making and freeing them after its read is done.

use std::io::Write;

use super::findings::{Cell, Findings};
use super::spool::Spool;
use crate::error::{Error, Result};

/// Writes the spooled findings as CSV: a header of `columns`, then one row per finding.
/// A cell is what the finding's JSON value prints as (a string as itself, null empty).
/// The rows of a few batches at a time are made on every core, then written in order:
/// this is all a scan does once its rules are done.
pub(super) fn write(spool: &mut Spool, out: &mut dyn Write) -> Result<()> {
    let w = |e| Error::io("output", e);
    let columns = spool.all_columns();
    writeln!(out, "{}", columns.join(",")).map_err(w)?;
    let lanes = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut batches = spool.batches()?;
    loop {
        let chunk = batches
            .by_ref()
            .take(2 * lanes)
            .collect::<Result<Vec<Findings>>>()?;
        if chunk.is_empty() {
            return Ok(());
        }
        let texts: Vec<Vec<u8>> = std::thread::scope(|s| {
            let made: Vec<_> = chunk
                .chunks(chunk.len().div_ceil(lanes))
                .map(|part| {
                    s.spawn(|| {
                        part.iter()
                            .map(|f| rows(f, &columns))
                            .collect::<Vec<Vec<u8>>>()
                    })
                })
                .collect();
            made.into_iter()
                .flat_map(|m| m.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect::<Vec<Vec<u8>>>()
        });
        for text in texts {
            out.write_all(&text).map_err(w)?;
        }
    }
}

/// The CSV rows of a batch of findings.
fn rows(f: &Findings, columns: &[String]) -> Vec<u8> {
    let mut text = String::new();
    let mut out = Vec::with_capacity(f.len() * 256);
    // For each column, the index of its cell in the findings' columns.
    let at: Vec<Option<usize>> = columns.iter().map(|c| f.find(c)).collect();
    for r in 0..f.len() {
        for (i, c) in at.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let s = c.map_or(Cell::Null, |c| f.cell(c, r)).text(&mut text);
            if s.contains([',', '"', '\n']) {
                out.push(b'"');
                out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
                out.push(b'"');
            } else {
                out.extend_from_slice(s.as_bytes());
            }
        }
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// A finding's value as a CSV cell, as the format was written from JSON maps.
    fn csv_cell(v: Option<&Value>) -> String {
        let s = super::super::report::plain(v);
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    }

    /// Each cell is what the finding's JSON value prints as, quoted where CSV needs it.
    #[test]
    fn rows_hold_each_columns_value() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path()).unwrap();
        for f in [
            json!({"rule": "r", "severity": "high", "interface_id": "eni-1", "srcport": 443,
                   "bytes": -5, "big": u64::MAX, "ratio": 0.5, "flag": true, "gone": null,
                   "text": "a,\"b\"\nc", "esc": "tab\there \u{e9} \\ /", "list": [1, "x", null],
                   "obj": {"b": 1, "a": [true]}}),
            json!({"rule": "s", "severity": "low", "other": "only here"}),
        ] {
            let Value::Object(m) = f else { unreachable!() };
            spool.push(&m).unwrap();
        }
        let mut out = Vec::new();
        write(&mut spool, &mut out).unwrap();
        // The same rows as the cells of the findings read back as JSON values.
        let columns = spool.all_columns();
        let mut expected = columns.join(",") + "\n";
        for f in spool.iter().unwrap() {
            let f = f.unwrap();
            let row: Vec<String> = columns.iter().map(|k| csv_cell(f.get(k))).collect();
            expected.push_str(&(row.join(",") + "\n"));
        }
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out, expected);
        assert!(out.contains(",\"a,\"\"b\"\"\nc\","), "{out}");
        assert!(out.contains(",18446744073709551615,"), "{out}");
        assert!(out.contains(",\"[1,\"\"x\"\",null]\","), "{out}");
    }
}
