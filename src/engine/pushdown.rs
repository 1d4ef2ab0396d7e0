//! Which of a query's filters the `flows` table applies itself, exactly, while decoding
//! (see [`crate::decode::filter`]): comparisons of a decoded field with a constant, the
//! shapes compliance queries are made of. Anything else (expressions, `LIKE` patterns
//! other than a prefix, `OR`) stays with DataFusion.
//!
//! Enrichment columns are compiled only for a run that reads them as an export wrote them
//! (no inventory): the Parquet reader then tests an export's column as it reads it, and
//! other objects are tested after their enrichment (`engine::table`). With an inventory
//! the owner filters thin the read instead ([`super::owners`]).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::expr::{Cast, InList, Like};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

use crate::decode::filter::{CmpOp, Predicate, Test};
use crate::format::enrichment::TEXT_COLUMNS;
use crate::format::{ColumnSource, FIELDS, FlowSchema, Kind};

/// The predicate `e` is, when the decoders can apply it with the same result as SQL.
/// `enriched`: whether tests of the text enrichment columns are compiled too.
pub fn compile(e: &Expr, schema: &FlowSchema, enriched: bool) -> Option<Predicate> {
    let (column, test) = match e {
        // Short `IN` lists reach here as `x = 'a' OR x = 'b'`.
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            let (l, r) = (
                compile(left, schema, enriched)?,
                compile(right, schema, enriched)?,
            );
            match (l.test, r.test) {
                (Test::In(mut a), Test::In(b)) if l.column == r.column => {
                    a.extend(b);
                    (l.column, Test::In(a))
                }
                _ => return None,
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (column, value, op) = match (
                field(left, schema, enriched),
                field(right, schema, enriched),
            ) {
                (Some(c), None) => (c, right, *op),
                (None, Some(c)) => (c, left, op.swap()?),
                _ => return None,
            };
            let test = if column.1 {
                let s = text(value)?;
                match op {
                    Operator::Eq => Test::In(vec![s]),
                    Operator::NotEq => Test::NotIn(vec![s]),
                    _ => return None,
                }
            } else {
                let v = int(value)?;
                let op = match op {
                    Operator::Eq => CmpOp::Eq,
                    Operator::NotEq => CmpOp::Ne,
                    Operator::Lt => CmpOp::Lt,
                    Operator::LtEq => CmpOp::Le,
                    Operator::Gt => CmpOp::Gt,
                    Operator::GtEq => CmpOp::Ge,
                    _ => return None,
                };
                Test::Int(op, v)
            };
            (column.0, test)
        }
        Expr::Like(Like {
            negated,
            expr,
            pattern,
            escape_char: None,
            case_insensitive: false,
        }) => {
            let (column, true) = field(expr, schema, enriched)? else {
                return None;
            };
            let pattern = text(pattern)?;
            // `_` matches any character and `\` escapes (the default escape character).
            if pattern.contains(['_', '\\']) {
                return None;
            }
            let stem = pattern.trim_end_matches('%');
            if stem.contains('%') {
                return None;
            }
            let exact = stem.len() == pattern.len();
            let stem = stem.to_string();
            let test = match (exact, negated) {
                (true, false) => Test::In(vec![stem]),
                (true, true) => Test::NotIn(vec![stem]),
                (false, false) => Test::Prefix(stem),
                (false, true) => Test::NotPrefix(stem),
            };
            (column, test)
        }
        Expr::InList(InList {
            expr,
            list,
            negated,
        }) if !list.is_empty() => {
            let (column, true) = field(expr, schema, enriched)? else {
                return None;
            };
            // A NULL in the list makes `NOT IN` NULL for every row; it is not pushed.
            let values = list.iter().map(text).collect::<Option<Vec<_>>>()?;
            let test = if *negated {
                Test::NotIn(values)
            } else {
                Test::In(values)
            };
            (column, test)
        }
        _ => return None,
    };
    Some(Predicate {
        column,
        test,
        shown: e.to_string(),
    })
}

/// The table column a filter side reads, and whether it is text (otherwise an integer):
/// a decoded field of a kind the decoders test (or, when `enriched`, a text enrichment
/// column), possibly cast to a type that keeps every value as it is.
fn field(e: &Expr, schema: &FlowSchema, enriched: bool) -> Option<(usize, bool)> {
    let (column, cast_to) = match e {
        Expr::Column(c) => (c, None),
        Expr::Cast(Cast { expr, field }) => match expr.as_ref() {
            Expr::Column(c) => (c, Some(field.data_type())),
            _ => return None,
        },
        _ => return None,
    };
    let i = schema.index_of(&column.name)?;
    let kind = match schema.sources()[i] {
        ColumnSource::Known(k) => FIELDS[k].kind,
        ColumnSource::Enriched(k) if enriched && k < TEXT_COLUMNS => Kind::Str,
        _ => return None,
    };
    let lossless = match (kind, cast_to) {
        (_, None) => true,
        (Kind::Str | Kind::Ip, Some(t)) => is_text(t),
        (Kind::Int32, Some(t)) => matches!(t, DataType::Int32 | DataType::Int64),
        (Kind::Int64, Some(t)) => matches!(t, DataType::Int64),
        _ => false,
    };
    // `start`/`end` (epoch seconds) prune objects by time instead.
    match kind {
        Kind::Str | Kind::Ip if lossless => Some((i, true)),
        Kind::Int32 | Kind::Int64 if lossless => Some((i, false)),
        _ => None,
    }
}

/// Whether a cast of text to `t` keeps every value as it is (and NULL as NULL).
pub(super) fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

pub(super) fn text(e: &Expr) -> Option<String> {
    match e {
        Expr::Literal(v, _) => text_value(v),
        _ => None,
    }
}

fn text_value(v: &ScalarValue) -> Option<String> {
    match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Some(s.clone()),
        ScalarValue::Dictionary(_, v) => text_value(v),
        _ => None,
    }
}

fn int(e: &Expr) -> Option<i64> {
    let Expr::Literal(v, _) = e else {
        return None;
    };
    match v {
        ScalarValue::Int8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::Int64(Some(v)) => Some(*v),
        ScalarValue::UInt8(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt16(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt32(Some(v)) => Some(i64::from(*v)),
        ScalarValue::UInt64(Some(v)) => i64::try_from(*v).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::{cast, col, lit};

    use super::*;

    #[test]
    fn only_shapes_with_the_sql_result_are_compiled() {
        let schema = FlowSchema::default();
        let test = |e: Expr| compile(&e, &schema, false).map(|p| p.test);
        let like = |pattern: &str, escape_char, case_insensitive| {
            Expr::Like(Like::new(
                false,
                Box::new(col("dstaddr")),
                Box::new(lit(pattern)),
                escape_char,
                case_insensitive,
            ))
        };
        assert_eq!(
            test(like("10.%%", None, false)),
            Some(Test::Prefix("10.".into()))
        );
        assert_eq!(
            test(like("10.0.0.1", None, false)),
            Some(Test::In(vec!["10.0.0.1".into()]))
        );
        for pattern in ["10._.%", "%.1", "10.%.1", "10\\%"] {
            assert_eq!(test(like(pattern, None, false)), None, "{pattern}");
        }
        assert_eq!(test(like("10.%", Some('!'), false)), None);
        assert_eq!(test(like("10.%", None, true)), None);
        assert_eq!(
            test(lit(443).lt_eq(col("dstport"))),
            Some(Test::Int(CmpOp::Ge, 443))
        );
        assert_eq!(
            test(cast(col("dstport"), DataType::Int64).eq(lit(1i64 << 40))),
            Some(Test::Int(CmpOp::Eq, 1 << 40))
        );
        // A cast that could change values, a text order, enrichment and time columns.
        assert_eq!(test(cast(col("bytes"), DataType::Int32).eq(lit(1))), None);
        assert_eq!(test(col("action").lt(lit("B"))), None);
        assert_eq!(test(col("remote_kind").eq(lit("internet"))), None);
        // Without an inventory an export's enrichment is read as it is: its text columns
        // are tested like fields, its flags are not.
        let enriched = |e: Expr| compile(&e, &schema, true).map(|p| p.test);
        assert_eq!(
            enriched(col("remote_kind").eq(lit("internet"))),
            Some(Test::In(vec!["internet".into()]))
        );
        assert_eq!(
            enriched(col("sagemaker_resource").like(lit("nb-%"))),
            Some(Test::Prefix("nb-".into()))
        );
        assert_eq!(enriched(col("leaves_vpc").eq(lit(true))), None);
        assert_eq!(enriched(col("start").gt(lit(5i64))), None);
        assert_eq!(test(col("start").gt(lit(5i64))), None);
        assert_eq!(
            test(col("action").eq(lit("A")).or(col("action").eq(lit("B")))),
            Some(Test::In(vec!["A".into(), "B".into()]))
        );
        assert_eq!(
            test(
                col("action")
                    .eq(lit("A"))
                    .or(col("log_status").eq(lit("B")))
            ),
            None
        );
    }
}
