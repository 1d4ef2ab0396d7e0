//! A batch of findings, read column by column: what a scan makes of a rule's rows, spools
//! and writes out.
//!
//! A finding was a JSON map per row (its keys sorted, the rule's name, severity and
//! `finding_id` among them). With hundreds of thousands of findings, making, printing,
//! parsing and freeing those maps took most of a scan's time after its read. A
//! [`Findings`] holds the rule's Arrow columns instead and gives each row's cells on
//! demand — as a JSON value, as the JSON text the map printed as, or as text — with the
//! same values and the same keys, in the same (sorted) order, as the map it replaces.

use std::borrow::Cow;
use std::io::Write;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Int64Array, LargeStringArray, RecordBatch, StringArray,
    StringViewArray, UInt64Array,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, UInt64Type};
use serde_json::{Map, Value};

use super::KEY_COLUMNS;
use crate::error::{Error, Result};

/// Field metadata of a column whose cells are JSON texts: findings spooled as maps.
pub(super) const JSON_TEXT: &str = "sageflow.json";

/// The columns a finding has besides its rule's: set from the rule, not from its rows.
pub(super) const RULE_SET: &[&str] = &["rule", "severity"];

/// A finding's columns, looked up by name: a JSON map, or a row of [`Findings`].
pub trait Lookup {
    /// Column `k`'s value, or `None` when the finding has no such column.
    fn value(&self, k: &str) -> Option<Cow<'_, Value>>;

    /// Column `k` as text: empty when missing or null, a string as itself, any other
    /// value as its JSON text; made in `buf` when it is not already text.
    fn text_in<'a>(&'a self, k: &str, buf: &'a mut String) -> &'a str {
        let text = match self.value(k) {
            None => return "",
            Some(Cow::Borrowed(v)) => value_text(v),
            Some(Cow::Owned(v)) => value_text(&v).into_owned().into(),
        };
        match text {
            Cow::Borrowed(s) => s,
            Cow::Owned(s) => {
                *buf = s;
                buf
            }
        }
    }
}

fn value_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::Null => "".into(),
        Value::String(s) => s.as_str().into(),
        v => v.to_string().into(),
    }
}

impl Lookup for Map<String, Value> {
    fn value(&self, k: &str) -> Option<Cow<'_, Value>> {
        self.get(k).map(Cow::Borrowed)
    }
}

/// Where a column's cells come from.
enum Col {
    Null,
    /// The same text in every row (the rule's name, its severity).
    Const(String),
    Bool(BooleanArray),
    Int(Int64Array),
    UInt(UInt64Array),
    Utf8(StringArray),
    Large(LargeStringArray),
    View(StringViewArray),
    /// Any other type, as Arrow's JSON writer gives it (or a spooled map's JSON text).
    Json(Vec<Value>),
}

/// One cell of a finding.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Str(&'a str),
    Json(&'a Value),
}

impl Cell<'_> {
    pub fn to_value(self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Bool(b) => Value::Bool(b),
            Cell::Int(i) => Value::from(i),
            Cell::UInt(u) => Value::from(u),
            Cell::Str(s) => Value::from(s),
            Cell::Json(v) => v.clone(),
        }
    }

    /// The cell as `serde_json` prints its value.
    pub fn write_json(self, out: &mut Vec<u8>) {
        match self {
            Cell::Null => out.extend_from_slice(b"null"),
            Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Cell::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
            Cell::UInt(u) => out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes()),
            Cell::Str(s) => serde_json::to_writer(out, s).expect("a Vec takes any text"),
            Cell::Json(v) => serde_json::to_writer(out, v).expect("a Vec takes any value"),
        }
    }

    /// The cell as text (see [`Lookup::text_in`]); `buf` holds it when it is made.
    pub fn text<'b>(self, buf: &'b mut String) -> &'b str
    where
        Self: 'b,
    {
        use std::fmt::Write as _;
        buf.clear();
        match self {
            Cell::Null | Cell::Json(Value::Null) => return "",
            Cell::Str(s) => return s,
            Cell::Json(Value::String(s)) => return s,
            Cell::Bool(b) => buf.push_str(if b { "true" } else { "false" }),
            Cell::Int(i) => buf.push_str(itoa::Buffer::new().format(i)),
            Cell::UInt(u) => buf.push_str(itoa::Buffer::new().format(u)),
            Cell::Json(v) => write!(buf, "{v}").expect("a String takes any text"),
        }
        buf
    }
}

/// Findings of one rule (or spooled maps), a batch of them, columns sorted by name.
pub struct Findings {
    names: Vec<String>,
    cols: Vec<Col>,
    rows: usize,
}

impl Findings {
    /// A rule's rows as findings: its columns, less any named `rule` or `severity` (the
    /// rule's name and severity take their place), and the [`KEY_COLUMNS`] it lacks as
    /// nulls. `what` names the rule in errors.
    pub fn of_rule(rule: &str, severity: &str, batch: &RecordBatch, what: &str) -> Result<Self> {
        let mut named = columns(batch, RULE_SET, what)?;
        named.push(("rule".into(), Col::Const(rule.into())));
        named.push(("severity".into(), Col::Const(severity.into())));
        for k in &KEY_COLUMNS[2..] {
            if !named.iter().any(|(n, _)| n == k) {
                named.push(((*k).into(), Col::Null));
            }
        }
        Ok(Self::sorted(named, batch.num_rows()))
    }

    /// Any batch's rows, with its columns as they are.
    pub fn of_batch(batch: &RecordBatch, what: &str) -> Result<Self> {
        Ok(Self::sorted(columns(batch, &[], what)?, batch.num_rows()))
    }

    /// Spooled maps: each column's cells are JSON texts ([`JSON_TEXT`]).
    pub(super) fn of_maps(batch: &RecordBatch, what: &str) -> Result<Self> {
        let mut named = Vec::with_capacity(batch.num_columns());
        for (field, col) in batch.schema().fields().iter().zip(batch.columns()) {
            let texts = col.as_string::<i32>();
            let values = (0..texts.len())
                .map(|r| {
                    serde_json::from_str(texts.value(r)).map_err(|e| {
                        Error::document(
                            what,
                            format!("damaged finding: {e}"),
                            "the run's temporary findings file was changed while it ran; run again",
                        )
                    })
                })
                .collect::<Result<Vec<Value>>>()?;
            named.push((field.name().clone(), Col::Json(values)));
        }
        Ok(Self::sorted(named, batch.num_rows()))
    }

    fn sorted(mut named: Vec<(String, Col)>, rows: usize) -> Self {
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let (names, cols) = named.into_iter().unzip();
        Findings { names, cols, rows }
    }

    /// Adds (or replaces) a text column.
    pub fn set(&mut self, name: &str, values: StringArray) {
        match self.names.binary_search_by(|n| n.as_str().cmp(name)) {
            Ok(i) => self.cols[i] = Col::Utf8(values),
            Err(i) => {
                self.names.insert(i, name.into());
                self.cols.insert(i, Col::Utf8(values));
            }
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// The column names, sorted.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of column `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.binary_search_by(|n| n.as_str().cmp(name)).ok()
    }

    pub fn cell(&self, col: usize, row: usize) -> Cell<'_> {
        fn or_null<'a>(a: &dyn Array, row: usize, cell: impl FnOnce() -> Cell<'a>) -> Cell<'a> {
            if a.is_null(row) { Cell::Null } else { cell() }
        }
        match &self.cols[col] {
            Col::Null => Cell::Null,
            Col::Const(s) => Cell::Str(s),
            Col::Bool(a) => or_null(a, row, || Cell::Bool(a.value(row))),
            Col::Int(a) => or_null(a, row, || Cell::Int(a.value(row))),
            Col::UInt(a) => or_null(a, row, || Cell::UInt(a.value(row))),
            Col::Utf8(a) => or_null(a, row, || Cell::Str(a.value(row))),
            Col::Large(a) => or_null(a, row, || Cell::Str(a.value(row))),
            Col::View(a) => or_null(a, row, || Cell::Str(a.value(row))),
            Col::Json(v) => Cell::Json(&v[row]),
        }
    }

    pub fn row(&self, row: usize) -> Row<'_> {
        Row { of: self, row }
    }

    /// Row `row` as a JSON map.
    pub fn to_map(&self, row: usize) -> Map<String, Value> {
        // Keys in order: the map is built without a search per key.
        self.names
            .iter()
            .enumerate()
            .map(|(c, n)| (n.clone(), self.cell(c, row).to_value()))
            .collect()
    }

    /// Row `row` as `serde_json` prints its map: `{"key":value,...}`.
    pub fn write_json(&self, row: usize, out: &mut Vec<u8>) {
        out.push(b'{');
        for (c, n) in self.names.iter().enumerate() {
            if c > 0 {
                out.push(b',');
            }
            serde_json::to_writer(&mut *out, n).expect("a Vec takes any text");
            out.push(b':');
            self.cell(c, row).write_json(out);
        }
        out.push(b'}');
    }

    /// Row `row` as `serde_json`'s pretty printer prints its map as an element of an
    /// array (`--format json`): two spaces a level, the map at the first.
    pub fn write_json_pretty(&self, row: usize, out: &mut Vec<u8>) {
        if self.names.is_empty() {
            out.extend_from_slice(b"  {}");
            return;
        }
        out.extend_from_slice(b"  {");
        for (c, n) in self.names.iter().enumerate() {
            if c > 0 {
                out.push(b',');
            }
            out.extend_from_slice(b"\n    ");
            serde_json::to_writer(&mut *out, n).expect("a Vec takes any text");
            out.extend_from_slice(b": ");
            match self.cell(c, row) {
                Cell::Json(v @ (Value::Array(_) | Value::Object(_))) => {
                    // Printed alone, then indented to the value's level (JSON text has
                    // no line end but between its tokens).
                    let text = serde_json::to_vec_pretty(v).expect("a Vec takes any value");
                    for b in text {
                        out.push(b);
                        if b == b'\n' {
                            out.extend_from_slice(b"    ");
                        }
                    }
                }
                cell => cell.write_json(out),
            }
        }
        out.extend_from_slice(b"\n  }");
    }
}

/// One finding of a [`Findings`].
#[derive(Clone, Copy)]
pub struct Row<'a> {
    of: &'a Findings,
    row: usize,
}

impl Row<'_> {
    pub fn cell(&self, k: &str) -> Option<Cell<'_>> {
        self.of.find(k).map(|c| self.of.cell(c, self.row))
    }
}

impl Lookup for Row<'_> {
    fn value(&self, k: &str) -> Option<Cow<'_, Value>> {
        self.cell(k).map(|c| match c {
            Cell::Json(v) => Cow::Borrowed(v),
            c => Cow::Owned(c.to_value()),
        })
    }

    fn text_in<'a>(&'a self, k: &str, buf: &'a mut String) -> &'a str {
        match self.cell(k) {
            None => "",
            Some(c) => c.text(buf),
        }
    }
}

/// `batch`'s columns but those named in `skip`, each read directly or, for the other
/// types, as Arrow's JSON writer gives its values.
fn columns(batch: &RecordBatch, skip: &[&str], what: &str) -> Result<Vec<(String, Col)>> {
    let mut named: Vec<(String, Col)> = Vec::with_capacity(batch.num_columns() + 8);
    let schema = batch.schema();
    let mut others = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        if skip.contains(&field.name().as_str()) {
            continue;
        }
        match direct(batch.column(i))? {
            Some(col) => named.push((field.name().clone(), col)),
            None => others.push(i),
        }
    }
    if !others.is_empty() {
        let mut written = written(&batch.project(&others)?, what)?;
        for i in others {
            let name = schema.field(i).name();
            let values = written
                .iter_mut()
                .map(|row| row.remove(name).unwrap_or(Value::Null))
                .collect();
            named.push((name.clone(), Col::Json(values)));
        }
    }
    Ok(named)
}

/// The rows through Arrow's JSON writer and back.
pub(super) fn written(batch: &RecordBatch, what: &str) -> Result<Vec<Map<String, Value>>> {
    let mut buf = Vec::new();
    {
        let mut w = datafusion::arrow::json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, datafusion::arrow::json::writer::LineDelimited>(&mut buf);
        w.write(batch)?;
        w.finish()?;
    }
    buf.split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            serde_json::from_slice(line)
                .map_err(|e| Error::Usage(format!("{what}: result is not JSON: {e}")))
        })
        .collect()
}

/// How a column of one of the types rules select is read directly; `None` for the
/// others, which take the form Arrow's JSON writer gives them.
fn direct(col: &ArrayRef) -> Result<Option<Col>> {
    Ok(Some(match col.data_type() {
        DataType::Null => Col::Null,
        DataType::Boolean => Col::Bool(col.as_boolean().clone()),
        DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => Col::Int(
            cast(col, &DataType::Int64)?
                .as_primitive::<Int64Type>()
                .clone(),
        ),
        DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => Col::UInt(
            cast(col, &DataType::UInt64)?
                .as_primitive::<UInt64Type>()
                .clone(),
        ),
        DataType::Utf8 => Col::Utf8(col.as_string::<i32>().clone()),
        DataType::LargeUtf8 => Col::Large(col.as_string::<i64>().clone()),
        DataType::Utf8View => Col::View(col.as_string_view().clone()),
        DataType::Dictionary(_, v)
            if matches!(
                v.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            Col::Utf8(cast(col, &DataType::Utf8)?.as_string::<i32>().clone())
        }
        _ => return Ok(None),
    }))
}

/// Writes `f`'s rows as NDJSON, one line each.
pub fn write_ndjson(f: &Findings, out: &mut dyn Write) -> std::io::Result<()> {
    let mut line = Vec::with_capacity(1024);
    for r in 0..f.len() {
        line.clear();
        f.write_json(r, &mut line);
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        DictionaryArray, Float64Array, Int32Array, ListArray, TimestampSecondArray,
    };
    use datafusion::arrow::datatypes::Int32Type;
    use std::sync::Arc;

    /// A rule's rows give the findings their JSON maps gave: the same maps, the same
    /// printed text, the same texts for ids.
    #[test]
    fn rows_are_the_maps_findings_were() {
        let dict: DictionaryArray<Int32Type> =
            vec![Some("a"), None, Some("a\"b\\c")].into_iter().collect();
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
            Some(vec![]),
        ]);
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "srcport",
                Arc::new(Int32Array::from(vec![Some(443), None, Some(-1)])),
            ),
            (
                "bytes",
                Arc::new(UInt64Array::from(vec![Some(u64::MAX), Some(0), None])),
            ),
            (
                "flag",
                Arc::new(BooleanArray::from(vec![Some(true), None, Some(false)])),
            ),
            (
                "interface_id",
                Arc::new(StringViewArray::from(vec![
                    Some("eni-0123456789abcdef0"),
                    None,
                    Some("\n\t\u{1}é"),
                ])),
            ),
            ("remote_service", Arc::new(dict)),
            (
                "ratio",
                Arc::new(Float64Array::from(vec![Some(0.5), None, Some(1e300)])),
            ),
            (
                "start",
                Arc::new(TimestampSecondArray::from(vec![Some(0), None, Some(-1)])),
            ),
            ("list", Arc::new(list)),
            ("severity", Arc::new(StringArray::from(vec!["x", "y", "z"]))),
        ];
        let batch = super::super::rows::batch_of(columns);
        let f = Findings::of_rule("leaves-vpc", "high", &batch, "test").unwrap();
        // The maps findings were: JSON rows, the rule's name and severity, null keys.
        let maps: Vec<Map<String, Value>> = super::super::rows::json_rows(&batch, "test")
            .unwrap()
            .into_iter()
            .map(|mut m| {
                m.insert("rule".into(), "leaves-vpc".into());
                m.insert("severity".into(), "high".into());
                for k in &KEY_COLUMNS[2..] {
                    m.entry(*k).or_insert(Value::Null);
                }
                m
            })
            .collect();
        // `--format json`: the array serde_json prints of the maps.
        let mut array = b"[".to_vec();
        for r in 0..f.len() {
            array.extend_from_slice(if r > 0 { b",\n" } else { b"\n" });
            f.write_json_pretty(r, &mut array);
        }
        array.extend_from_slice(b"\n]");
        assert_eq!(
            String::from_utf8(array).unwrap(),
            serde_json::to_string_pretty(&maps).unwrap()
        );
        for (r, m) in maps.iter().enumerate() {
            assert_eq!(&f.to_map(r), m);
            let mut line = Vec::new();
            f.write_json(r, &mut line);
            assert_eq!(
                String::from_utf8(line).unwrap(),
                serde_json::to_string(m).unwrap()
            );
            for k in m.keys().map(String::as_str).chain(["absent"]) {
                let (mut a, mut b) = (String::new(), String::new());
                assert_eq!(f.row(r).text_in(k, &mut a), m.text_in(k, &mut b), "{k}");
                assert_eq!(f.row(r).value(k), m.value(k), "{k}");
            }
        }
    }
}
