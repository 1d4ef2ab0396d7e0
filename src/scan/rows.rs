//! A batch's rows as JSON objects: the form the HTML report's aggregations take, and the
//! form findings had ([`super::findings`] gives the same values column by column).
//!
//! Arrow's JSON writer and a parse of its text give the same objects, but with hundreds
//! of thousands of rows printing and parsing them took longer than reading the logs. The
//! column types flows and most rules have (integers, strings, booleans) are turned into
//! values directly; any other column still goes through the writer, so every type keeps
//! the JSON form the writer gives it.

use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// `batch`'s rows as JSON objects, with explicit nulls; `what` names the plan in errors.
pub fn json_rows(batch: &RecordBatch, what: &str) -> Result<Vec<Map<String, Value>>> {
    let schema = batch.schema();
    let mut columns: Vec<(&str, Column)> = Vec::with_capacity(schema.fields().len());
    let mut others = Vec::new();
    for (i, field) in schema.fields().iter().enumerate() {
        match direct(batch.column(i))? {
            Some(value) => columns.push((field.name(), Column::Direct(value))),
            None => others.push(i),
        }
    }
    for (i, values) in written_columns(batch, others, what)? {
        columns.push((schema.field(i).name(), Column::Written(values)));
    }
    // A map built from its keys in order is made in one go, without a search per key.
    columns.sort_by(|a, b| a.0.cmp(b.0));
    let mut rows = Vec::with_capacity(batch.num_rows());
    for r in 0..batch.num_rows() {
        let row: Map<String, Value> = columns
            .iter_mut()
            .map(|(name, column)| {
                let v = match column {
                    Column::Direct(value) => value(r),
                    Column::Written(values) => std::mem::take(&mut values[r]),
                };
                (name.to_string(), v)
            })
            .collect();
        rows.push(row);
    }
    Ok(rows)
}

/// A row's value of a column.
type ValueOf<'a> = Box<dyn Fn(usize) -> Value + 'a>;

/// Where a column's values come from.
enum Column<'a> {
    /// Made from the array, row by row.
    Direct(ValueOf<'a>),
    /// Parsed from Arrow's JSON writer's text, taken row by row.
    Written(Vec<Value>),
}

/// A row's value of `col`, when its type is one turned into JSON directly.
fn direct(col: &ArrayRef) -> Result<Option<ValueOf<'_>>> {
    fn each<'a, V: Into<Value>>(
        col: &'a dyn Array,
        value: impl Fn(usize) -> V + 'a,
    ) -> Option<ValueOf<'a>> {
        Some(Box::new(move |i| {
            if col.is_null(i) {
                Value::Null
            } else {
                value(i).into()
            }
        }))
    }
    macro_rules! primitive {
        ($t:ty) => {{
            let a = col.as_primitive::<$t>();
            each(a, |i| a.value(i))
        }};
    }
    Ok(match col.data_type() {
        DataType::Null => Some(Box::new(|_| Value::Null)),
        DataType::Boolean => {
            let a = col.as_boolean();
            each(a, |i| a.value(i))
        }
        DataType::Int8 => primitive!(Int8Type),
        DataType::Int16 => primitive!(Int16Type),
        DataType::Int32 => primitive!(Int32Type),
        DataType::Int64 => primitive!(Int64Type),
        DataType::UInt8 => primitive!(UInt8Type),
        DataType::UInt16 => primitive!(UInt16Type),
        DataType::UInt32 => primitive!(UInt32Type),
        DataType::UInt64 => primitive!(UInt64Type),
        DataType::Utf8 => {
            let a = col.as_string::<i32>();
            each(a, |i| a.value(i))
        }
        DataType::LargeUtf8 => {
            let a = col.as_string::<i64>();
            each(a, |i| a.value(i))
        }
        DataType::Utf8View => {
            let a = col.as_string_view();
            each(a, |i| a.value(i))
        }
        DataType::Dictionary(_, v)
            if matches!(
                v.as_ref(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ) =>
        {
            let plain = cast(col, &DataType::Utf8)?;
            Some(Box::new(move |i| {
                let a = plain.as_string::<i32>();
                if a.is_null(i) {
                    Value::Null
                } else {
                    Value::from(a.value(i))
                }
            }))
        }
        _ => None,
    })
}

/// Columns `which` of `batch`, each as its values through Arrow's JSON writer and back.
pub(super) fn written_columns(
    batch: &RecordBatch,
    which: Vec<usize>,
    what: &str,
) -> Result<Vec<(usize, Vec<Value>)>> {
    if which.is_empty() {
        return Ok(Vec::new());
    }
    let mut rows = written(&batch.project(&which)?, what)?;
    let schema = batch.schema();
    Ok(which
        .into_iter()
        .map(|i| {
            let name = schema.field(i).name();
            let values = rows
                .iter_mut()
                .map(|row| row.remove(name).unwrap_or(Value::Null))
                .collect();
            (i, values)
        })
        .collect())
}

/// The rows through Arrow's JSON writer and back.
fn written(batch: &RecordBatch, what: &str) -> Result<Vec<Map<String, Value>>> {
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

/// A batch of the named columns, all nullable: for tests.
#[cfg(test)]
pub(super) fn batch_of(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    use datafusion::arrow::datatypes::{Field, Schema};
    let schema = Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    RecordBatch::try_new(
        std::sync::Arc::new(schema),
        columns.into_iter().map(|(_, a)| a).collect(),
    )
    .expect("columns of the same length")
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{
        BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array, LargeStringArray,
        ListArray, StringArray, StringViewArray, TimestampSecondArray, UInt64Array,
    };
    use std::sync::Arc;

    /// Every type, direct or not, gives the objects the JSON writer's text gives.
    #[test]
    fn rows_equal_the_json_writers() {
        let dict: DictionaryArray<Int32Type> = vec![Some("a"), None, Some("a\"b\\c"), Some("é")]
            .into_iter()
            .collect();
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None]),
            None,
            Some(vec![]),
            Some(vec![Some(-3)]),
        ]);
        let columns: Vec<(&str, ArrayRef)> = vec![
            (
                "i32",
                Arc::new(Int32Array::from(vec![
                    Some(1),
                    None,
                    Some(-7),
                    Some(i32::MAX),
                ])),
            ),
            (
                "i64",
                Arc::new(Int64Array::from(vec![
                    Some(i64::MIN),
                    Some(0),
                    None,
                    Some(42),
                ])),
            ),
            (
                "u64",
                Arc::new(UInt64Array::from(vec![
                    Some(u64::MAX),
                    None,
                    Some(0),
                    Some(5),
                ])),
            ),
            (
                "b",
                Arc::new(BooleanArray::from(vec![
                    Some(true),
                    Some(false),
                    None,
                    Some(true),
                ])),
            ),
            (
                "s",
                Arc::new(StringArray::from(vec![
                    Some("x,y"),
                    None,
                    Some(""),
                    Some("\n\t\u{1}"),
                ])),
            ),
            (
                "ls",
                Arc::new(LargeStringArray::from(vec![
                    Some("l"),
                    Some("m"),
                    None,
                    Some("o"),
                ])),
            ),
            (
                "sv",
                Arc::new(StringViewArray::from(vec![
                    Some("a string longer than twelve bytes"),
                    None,
                    Some("short"),
                    Some("\u{7f}"),
                ])),
            ),
            ("d", Arc::new(dict)),
            (
                "f",
                Arc::new(Float64Array::from(vec![
                    Some(1.5),
                    None,
                    Some(-0.0),
                    Some(1e300),
                ])),
            ),
            (
                "t",
                Arc::new(TimestampSecondArray::from(vec![
                    Some(0),
                    None,
                    Some(1_795_133_317),
                    Some(-1),
                ])),
            ),
            ("l", Arc::new(list)),
            ("n", Arc::new(datafusion::arrow::array::NullArray::new(4))),
        ];
        let batch = batch_of(columns);
        let direct = json_rows(&batch, "test").unwrap();
        let via_text = written(&batch, "test").unwrap();
        assert_eq!(direct, via_text);
        // And the serialised text is the same, numbers included.
        assert_eq!(
            serde_json::to_string(&direct).unwrap(),
            serde_json::to_string(&via_text).unwrap()
        );
        assert_eq!(direct[0]["u64"], Value::from(u64::MAX));
        assert_eq!(direct[1]["s"], Value::Null);
    }
}
