//! The CSV format of findings, written from the spool's lines without making each finding
//! a JSON map again: its cells borrow the line's text (strings without escapes), so a
//! scan with hundreds of thousands of findings is not held up by allocating and freeing
//! them after its read is done.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, Write};

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::report::{Spool, damaged};
use crate::error::{Error, Result};

/// Writes the spooled findings as CSV: a header of `columns`, then one row per finding.
pub(super) fn write(spool: &mut Spool, out: &mut dyn Write) -> Result<()> {
    let w = |e| Error::io("output", e);
    let columns = spool.all_columns();
    writeln!(out, "{}", columns.join(",")).map_err(w)?;
    let at: HashMap<&str, usize> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let (path, reader) = spool.reader()?;
    // For each column, the index of its cell in the line (the line's cells borrow it).
    let mut row: Vec<Option<usize>> = Vec::with_capacity(columns.len());
    let mut text = String::new();
    for line in reader.lines() {
        let line = line.map_err(|e| Error::io(&path, e))?;
        let cells: Cells = serde_json::from_str(&line).map_err(|e| damaged(&path, e))?;
        row.clear();
        row.resize_with(columns.len(), || None);
        for (n, (k, _)) in cells.0.iter().enumerate() {
            if let Some(&i) = at.get(k.as_ref()) {
                row[i] = Some(n);
            }
        }
        for (i, cell) in row.iter().map(|n| n.map(|n| &cells.0[n].1)).enumerate() {
            if i > 0 {
                out.write_all(b",").map_err(w)?;
            }
            let s: &str = match cell {
                None | Some(Cell::Null) => "",
                Some(Cell::Str(s)) => s.as_ref(),
                Some(Cell::Other(v)) => {
                    text.clear();
                    fmt::write(&mut text, format_args!("{v}")).expect("a String takes any text");
                    &text
                }
            };
            if s.contains([',', '"', '\n']) {
                write!(out, "\"{}\"", s.replace('"', "\"\"")).map_err(w)?;
            } else {
                out.write_all(s.as_bytes()).map_err(w)?;
            }
        }
        out.write_all(b"\n").map_err(w)?;
    }
    Ok(())
}

/// A spooled finding's columns, in the order of its line.
struct Cells<'a>(Vec<(Cow<'a, str>, Cell<'a>)>);

/// A column's value: a string as text (borrowed unless it had escapes), anything else
/// as its JSON value, which prints as the CSV cell.
enum Cell<'a> {
    Null,
    Str(Cow<'a, str>),
    Other(Value),
}

struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_str(Text).map(Key)
    }
}

struct CellVisitor;

impl<'de> Visitor<'de> for CellVisitor {
    type Value = Cell<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> std::result::Result<Self::Value, E> {
        Ok(Cell::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
        Ok(Cell::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> std::result::Result<Self::Value, E> {
        Ok(Cell::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(Cell::Null)
    }
    fn visit_none<E: de::Error>(self) -> std::result::Result<Self::Value, E> {
        Ok(Cell::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<Self::Value, E> {
        Ok(Cell::Other(Value::Bool(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<Self::Value, E> {
        Ok(Cell::Other(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<Self::Value, E> {
        Ok(Cell::Other(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<Self::Value, E> {
        Ok(Cell::Other(Value::from(v)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> std::result::Result<Self::Value, A::Error> {
        de::Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(Cell::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Self::Value, A::Error> {
        de::Deserialize::deserialize(de::value::MapAccessDeserializer::new(map)).map(Cell::Other)
    }
}

impl<'de> de::Deserialize<'de> for Cell<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(CellVisitor)
    }
}

struct CellsVisitor;

impl<'de> Visitor<'de> for CellsVisitor {
    type Value = Cells<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a finding (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut cells = Vec::with_capacity(map.size_hint().unwrap_or(40));
        while let Some((Key(k), v)) = map.next_entry::<Key, Cell>()? {
            cells.push((k, v));
        }
        Ok(Cells(cells))
    }
}

impl<'de> de::Deserialize<'de> for Cells<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(CellsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
