//! `--group-by connection` as one sort and one pass.
//!
//! A connection's finding is its first record (by start, then the higher source port,
//! which is the client's request) with the times, counts and byte totals of all of them.
//! As SQL that is a `first_value(… ORDER BY …)` per column, and DataFusion keeps each of
//! those as a list of values per group and column: with a rule's two dozen columns and
//! hundreds of thousands of connections, that took more time and memory than reading the
//! logs. Instead the rule's rows are sorted by connection and then that order, so each
//! connection's rows arrive together with its first record first, and this pass keeps one
//! row and a few integers for the connection it is in.

use std::fmt;
use std::sync::Arc;

use arrow_select::dictionary::garbage_collect_any_dictionary;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int64Array, Int64Builder, RecordBatch, RecordBatchOptions,
};
use datafusion::arrow::compute::{cast, interleave_record_batch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::common::Result as DfResult;
use datafusion::execution::TaskContext;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use futures::StreamExt;

use super::sorting::sorted_type;

/// The names of the two columns the sorted rows carry after the rule's own: the
/// connection's two ends (address and port), lower first.
pub const LOW_END: &str = "__sageflow_low_end";
pub const HIGH_END: &str = "__sageflow_high_end";

/// Where the grouping finds what it needs in the sorted rows.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The rule's columns come first in the sorted rows: this many.
    width: usize,
    /// The connection: ENI, protocol and both ends.
    keys: Vec<usize>,
    start: usize,
    end: Option<usize>,
    /// Summed over the connection (`bytes`, `packets`).
    summed: Vec<usize>,
    key_types: Vec<DataType>,
    /// Which of [`ADDED`] are added (a rule's own column of that name wins).
    added: [bool; 3],
    output: SchemaRef,
}

impl Layout {
    /// The layout for sorted rows of `schema` (the rule's columns, then [`LOW_END`] and
    /// [`HIGH_END`]), or `None` when a column this pass computes is not an `Int64`, as it
    /// is in `flows` (a rule that casts one is grouped by SQL instead).
    pub fn new(schema: &Schema, summed: &[&str]) -> Option<Layout> {
        let index = |name: &str| schema.index_of(name).ok();
        let int = |i: usize| schema.field(i).data_type() == &DataType::Int64;
        let width = schema.fields().len().checked_sub(2)?;
        let start = index("start").filter(|&i| i < width && int(i))?;
        let end = match index("end").filter(|&i| i < width) {
            Some(i) if !int(i) => return None,
            e => e,
        };
        let mut sums = Vec::new();
        for name in summed {
            if let Some(i) = index(name).filter(|&i| i < width) {
                if !int(i) {
                    return None;
                }
                sums.push(i);
            }
        }
        let keys = vec![
            index("interface_id")?,
            index("protocol")?,
            index(LOW_END)?,
            index(HIGH_END)?,
        ];
        let own = |name: &str| schema.fields()[..width].iter().any(|f| f.name() == name);
        let added = ADDED.map(|name| !own(name));
        // The sort's types stay: the finding-order sort that follows holds them too.
        let mut fields: Vec<Field> = schema.fields()[..width]
            .iter()
            .map(|f| {
                f.as_ref()
                    .clone()
                    .with_data_type(sorted_type(f))
                    .with_nullable(true)
            })
            .collect();
        for (name, on) in ADDED.into_iter().zip(added) {
            if on {
                fields.push(Field::new(name, DataType::Int64, name != "records"));
            }
        }
        let key_types: Vec<DataType> = keys.iter().map(|&i| sorted_type(schema.field(i))).collect();
        let sortable: Vec<SortField> = key_types.iter().cloned().map(SortField::new).collect();
        if !RowConverter::supports_fields(&sortable) {
            return None;
        }
        Some(Layout {
            width,
            keys,
            key_types,
            start,
            end,
            summed: sums,
            added,
            output: Arc::new(Schema::new(fields)),
        })
    }

    /// The schema of one finding per connection.
    pub fn output(&self) -> SchemaRef {
        self.output.clone()
    }
}

/// The columns the grouping adds: `min(start)`, `max(coalesce(end, start))` and
/// `count(*)` of the connection.
pub const ADDED: [&str; 3] = ["first_seen", "last_seen", "records"];

/// The sorted rows of a rule as a stream of one row per connection, for a
/// `StreamingTable` (its one partition).
pub struct Connections {
    layout: Layout,
    sorted: Arc<dyn ExecutionPlan>,
}

impl fmt::Debug for Connections {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connections").finish_non_exhaustive()
    }
}

impl Connections {
    /// `sorted` yields the rule's rows in one partition, ordered by the connection
    /// (`layout`'s keys) and then by which record comes first.
    pub fn new(layout: Layout, sorted: Arc<dyn ExecutionPlan>) -> Connections {
        Connections { layout, sorted }
    }
}

impl PartitionStream for Connections {
    fn schema(&self) -> &SchemaRef {
        &self.layout.output
    }

    fn execute(&self, ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let layout = self.layout.clone();
        let schema = layout.output();
        let started = self
            .sorted
            .execute(0, ctx)
            .and_then(|input| Ok((input, Pass::new(layout)?)));
        let (input, state) = match started {
            Ok(s) => s,
            Err(e) => return super::sorting::failed(schema, e),
        };
        let stream =
            futures::stream::unfold((input, Some(state)), |(mut input, state)| async move {
                let mut state = state?;
                loop {
                    match input.next().await {
                        Some(Ok(batch)) => match state.push(&batch) {
                            Ok(Some(out)) => return Some((Ok(out), (input, Some(state)))),
                            Ok(None) => continue,
                            Err(e) => return Some((Err(e), (input, None))),
                        },
                        Some(Err(e)) => return Some((Err(e), (input, None))),
                        None => {
                            return state.finish().transpose().map(|r| (r, (input, None)));
                        }
                    }
                }
            });
        Box::pin(RecordBatchStreamAdapter::new(schema, stream))
    }
}

/// The running totals of one connection.
#[derive(Debug, Default, Clone)]
struct Totals {
    start: Option<i64>,
    end: Option<i64>,
    /// `max(coalesce(end, start))`.
    last: Option<i64>,
    sums: Vec<Option<i64>>,
    records: i64,
}

fn fold(slot: &mut Option<i64>, v: Option<i64>, f: fn(i64, i64) -> i64) {
    if let Some(v) = v {
        *slot = Some(slot.map_or(v, |s| f(s, v)));
    }
}

/// The connection the pass is in, begun in an earlier batch.
struct Open {
    key: OwnedRow,
    /// Its first record: the rule's columns, one row.
    first: RecordBatch,
    totals: Totals,
}

struct Pass {
    layout: Layout,
    converter: RowConverter,
    open: Option<Open>,
}

fn value(a: &Int64Array, i: usize) -> Option<i64> {
    a.is_valid(i).then(|| a.value(i))
}

impl Pass {
    fn new(layout: Layout) -> DfResult<Pass> {
        let fields = layout
            .key_types
            .iter()
            .cloned()
            .map(SortField::new)
            .collect();
        let converter = RowConverter::new(fields)?;
        Ok(Pass {
            layout,
            converter,
            open: None,
        })
    }

    /// Takes a batch of sorted rows; returns the connections it completed.
    fn push(&mut self, batch: &RecordBatch) -> DfResult<Option<RecordBatch>> {
        let n = batch.num_rows();
        if n == 0 {
            return Ok(None);
        }
        let l = &self.layout;
        // The rows come in the sort's types ([`sorted_type`]); any others are cast to them.
        let keys = l
            .keys
            .iter()
            .zip(&l.key_types)
            .map(|(&i, t)| match batch.column(i) {
                c if c.data_type() == t => Ok(c.clone()),
                c => cast(c, t),
            })
            .collect::<Result<Vec<ArrayRef>, _>>()?;
        let rows = self.converter.convert_columns(&keys)?;
        let int = |i: usize| batch.column(i).as_primitive::<Int64Type>();
        let start = int(l.start);
        let end = l.end.map(int);
        let summed: Vec<&Int64Array> = l.summed.iter().map(|&i| int(i)).collect();
        let rule = batch.project(&(0..l.width).collect::<Vec<_>>())?;

        // Completed connections: where their first record is (source 0: the open one's,
        // kept from an earlier batch; 1: this batch) and their totals.
        let mut firsts: Vec<(usize, usize)> = Vec::new();
        let mut totals: Vec<Totals> = Vec::new();
        let mut carried: Option<RecordBatch> = None;
        let mut current = self.fresh();
        let mut current_first = (1, 0);
        if let Some(open) = self.open.take() {
            carried = Some(open.first);
            if open.key.row() == rows.row(0) {
                current = open.totals;
                current_first = (0, 0);
            } else {
                firsts.push((0, 0));
                totals.push(open.totals);
            }
        }
        for i in 0..n {
            if i > 0 && rows.row(i) != rows.row(i - 1) {
                firsts.push(current_first);
                totals.push(std::mem::replace(&mut current, self.fresh()));
                current_first = (1, i);
            }
            let s = value(start, i);
            fold(&mut current.start, s, i64::min);
            let e = end.and_then(|a| value(a, i));
            fold(&mut current.end, e, i64::max);
            fold(&mut current.last, e.or(s), i64::max);
            for (slot, a) in current.sums.iter_mut().zip(&summed) {
                fold(slot, value(a, i), i64::wrapping_add);
            }
            current.records += 1;
        }
        let carried = carried.unwrap_or_else(|| rule.slice(0, 0));
        // The last connection of the batch may go on in the next one.
        let first = match current_first {
            (0, _) => carried.clone(),
            (_, row) => rule.slice(row, 1),
        };
        self.open = Some(Open {
            key: rows.row(n - 1).owned(),
            first,
            totals: current,
        });
        if firsts.is_empty() {
            return Ok(None);
        }
        let picked = interleave_record_batch(&[&carried, &rule], &firsts)?;
        self.finish_rows(picked, &totals).map(Some)
    }

    /// The open connection, at the end of the rows.
    fn finish(&mut self) -> DfResult<Option<RecordBatch>> {
        match self.open.take() {
            None => Ok(None),
            Some(open) => self.finish_rows(open.first, &[open.totals]).map(Some),
        }
    }

    fn fresh(&self) -> Totals {
        Totals {
            sums: vec![None; self.layout.summed.len()],
            ..Totals::default()
        }
    }

    /// The first records of connections, with their totals in place of the summed and
    /// time columns, and the added columns.
    fn finish_rows(&self, firsts: RecordBatch, totals: &[Totals]) -> DfResult<RecordBatch> {
        let l = &self.layout;
        let ints = |f: &dyn Fn(&Totals) -> Option<i64>| -> ArrayRef {
            let mut b = Int64Builder::with_capacity(totals.len());
            for t in totals {
                b.append_option(f(t));
            }
            Arc::new(b.finish())
        };
        let mut columns: Vec<ArrayRef> = firsts.columns().to_vec();
        columns[l.start] = ints(&|t| t.start);
        if let Some(e) = l.end {
            columns[e] = ints(&|t| t.end);
        }
        for (k, &i) in l.summed.iter().enumerate() {
            columns[i] = ints(&|t| t.sums[k]);
        }
        let added: [ArrayRef; 3] = [
            ints(&|t| t.start),
            ints(&|t| t.last),
            ints(&|t| Some(t.records)),
        ];
        for (a, on) in added.into_iter().zip(l.added) {
            if on {
                columns.push(a);
            }
        }
        let options = RecordBatchOptions::new().with_row_count(Some(totals.len()));
        // To the output's types, where a column is not already of them. A dictionary of
        // the sorted rows holds the values of all the batches the sort merged: only this
        // batch's are kept, or every batch would count (and keep) them all.
        for (c, f) in columns.iter_mut().zip(l.output.fields()) {
            if c.data_type() != f.data_type() {
                *c = cast(c, f.data_type())?;
            }
            if let Some(d) = c.as_any_dictionary_opt() {
                *c = garbage_collect_any_dictionary(d)?;
            }
        }
        Ok(RecordBatch::try_new_with_options(
            l.output.clone(),
            columns,
            &options,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int32Array, StringArray};

    fn schema() -> Schema {
        Schema::new(vec![
            Field::new("interface_id", DataType::Utf8, true),
            Field::new("protocol", DataType::Int32, true),
            Field::new("srcport", DataType::Int32, true),
            Field::new("start", DataType::Int64, true),
            Field::new("end", DataType::Int64, true),
            Field::new("bytes", DataType::Int64, true),
            Field::new(LOW_END, DataType::Utf8, true),
            Field::new(HIGH_END, DataType::Utf8, true),
        ])
    }

    /// A sorted row: (eni, low end, srcport, start, end, bytes).
    type In<'a> = (&'a str, &'a str, i32, i64, Option<i64>, Option<i64>);

    fn batch(rows: &[In]) -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(schema()),
            vec![
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
                Arc::new(Int32Array::from(vec![6; rows.len()])),
                Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.2))),
                Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.3))),
                Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.4))),
                Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.5))),
                Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
                Arc::new(StringArray::from_iter_values(
                    rows.iter().map(|_| "10.0.0.9|443"),
                )),
            ],
        )
        .unwrap()
    }

    /// (eni, srcport, start, end, bytes, first_seen, last_seen, records) per finding.
    type Row = (String, i32, i64, Option<i64>, Option<i64>, i64, i64, i64);

    fn rows(out: &[RecordBatch]) -> Vec<Row> {
        let mut v = Vec::new();
        for b in out {
            // The ENI comes out as the sort kept it, a dictionary.
            assert!(matches!(b.column(0).data_type(), DataType::Dictionary(..)));
            let eni = cast(b.column(0), &DataType::Utf8).unwrap();
            let eni = eni.as_string::<i32>();
            let i32s = |i: usize| {
                b.column(i)
                    .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
            };
            let i64s = |i: usize| b.column(i).as_primitive::<Int64Type>();
            for r in 0..b.num_rows() {
                v.push((
                    eni.value(r).to_string(),
                    i32s(2).value(r),
                    i64s(3).value(r),
                    value(i64s(4), r),
                    value(i64s(5), r),
                    i64s(6).value(r),
                    i64s(7).value(r),
                    i64s(8).value(r),
                ));
            }
        }
        v
    }

    #[test]
    fn a_connection_across_batches_is_one_finding_with_its_first_record() {
        let layout = Layout::new(&schema(), &["bytes", "packets"]).unwrap();
        assert_eq!(
            layout.output().fields().len(),
            9,
            "six of the rule's columns and three added"
        );
        let mut pass = Pass::new(layout).unwrap();
        let mut out = Vec::new();
        // eni-a's connection spans all three batches, the middle one entirely; eni-b's
        // begins at the end of the last one.
        let batches = [
            batch(&[
                ("eni-0", "10.0.0.1|50000", 50000, 5, Some(6), Some(1)),
                ("eni-a", "10.0.0.1|40000", 40000, 10, Some(20), Some(100)),
            ]),
            batch(&[
                ("eni-a", "10.0.0.1|40000", 443, 10, None, None),
                ("eni-a", "10.0.0.1|40000", 443, 30, Some(90), Some(7)),
            ]),
            batch(&[]),
            batch(&[
                ("eni-a", "10.0.0.1|40000", 40000, 60, Some(70), Some(3)),
                ("eni-b", "10.0.0.1|40001", 40001, 1, None, None),
            ]),
        ];
        for b in &batches {
            out.extend(pass.push(b).unwrap());
        }
        out.extend(pass.finish().unwrap());
        assert_eq!(
            rows(&out),
            vec![
                ("eni-0".into(), 50000, 5, Some(6), Some(1), 5, 6, 1),
                ("eni-a".into(), 40000, 10, Some(90), Some(110), 10, 90, 4),
                ("eni-b".into(), 40001, 1, None, None, 1, 1, 1),
            ]
        );
        assert!(pass.finish().unwrap().is_none(), "nothing is left open");
    }

    #[test]
    fn columns_it_cannot_total_leave_the_grouping_to_sql() {
        let mut fields: Vec<Field> = schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields[5] = Field::new("bytes", DataType::Utf8, true);
        assert!(Layout::new(&Schema::new(fields), &["bytes"]).is_none());
        let without_start: Vec<Field> = schema()
            .fields()
            .iter()
            .filter(|f| f.name() != "start")
            .map(|f| f.as_ref().clone())
            .collect();
        assert!(Layout::new(&Schema::new(without_start), &["bytes"]).is_none());
    }
}
