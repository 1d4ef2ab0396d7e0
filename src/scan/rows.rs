//! A batch's rows as JSON objects: the form the HTML report's aggregations take, and the
//! form findings had. They are read through [`Findings`], which gives the values Arrow's
//! JSON writer would, without printing and parsing the rows: the column types flows and
//! most rules have (integers, strings, booleans) directly, any other through the writer.

use datafusion::arrow::array::RecordBatch;
use serde_json::{Map, Value};

use super::findings::Findings;
use crate::error::Result;

/// `batch`'s rows as JSON objects, with explicit nulls; `what` names the plan in errors.
pub fn json_rows(batch: &RecordBatch, what: &str) -> Result<Vec<Map<String, Value>>> {
    let rows = Findings::of_batch(batch, what)?;
    Ok((0..rows.len()).map(|r| rows.to_map(r)).collect())
}

/// A batch of the named columns, all nullable: for tests.
#[cfg(test)]
pub(super) fn batch_of(columns: Vec<(&str, datafusion::arrow::array::ArrayRef)>) -> RecordBatch {
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
        ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int32Array, Int64Array,
        LargeStringArray, ListArray, StringArray, StringViewArray, TimestampSecondArray,
        UInt64Array,
    };
    use datafusion::arrow::datatypes::Int32Type;
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
        let via_text = super::super::findings::written(&batch, "test").unwrap();
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
