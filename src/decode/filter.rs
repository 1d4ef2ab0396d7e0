//! Row predicates the query pushes into the scan (`action = 'ACCEPT'`,
//! `dstaddr NOT LIKE '10.%'`, `dstport < 1024`, `log_status IN (…)`), tested on each record
//! as soon as it is decoded: a row the query's `WHERE` drops is never appended to a batch,
//! and its columns are not output at all when nothing else reads them. Most of a
//! compliance query's records fail its filter, so this is most of the appending.
//!
//! They are the exact SQL result, not a pre-filter: DataFusion does not test them again.
//! Every test is false for NULL, as a comparison with NULL is in a `WHERE` clause.

use datafusion::arrow::array::{Array, ArrayRef, BooleanArray, Datum, Int64Array, StringViewArray};
use datafusion::arrow::buffer::BooleanBuffer;
use datafusion::arrow::compute::kernels::{boolean, cmp, comparison};
use datafusion::arrow::error::ArrowError;

/// Comparison of an integer field with a constant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// What a field's value must satisfy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Test {
    /// The text is one of these (`=`, `IN`, `LIKE` without wildcards).
    In(Vec<String>),
    /// The text is none of these (`<>`, `NOT IN`, `NOT LIKE` without wildcards).
    NotIn(Vec<String>),
    /// `LIKE 'prefix%'`.
    Prefix(String),
    /// `NOT LIKE 'prefix%'`.
    NotPrefix(String),
    Int(CmpOp, i64),
}

impl Test {
    /// The test on a text value (`None`: NULL).
    pub fn text(&self, v: Option<&[u8]>) -> bool {
        let Some(v) = v else { return false };
        match self {
            Test::In(list) => list.iter().any(|s| same(s.as_bytes(), v)),
            Test::NotIn(list) => list.iter().all(|s| !same(s.as_bytes(), v)),
            Test::Prefix(p) => v.len() >= p.len() && same(p.as_bytes(), &v[..p.len()]),
            Test::NotPrefix(p) => v.len() < p.len() || !same(p.as_bytes(), &v[..p.len()]),
            Test::Int(..) => false,
        }
    }

    /// The test on an integer value (`None`: NULL).
    pub fn int(&self, v: Option<i64>) -> bool {
        let (Some(v), Test::Int(op, c)) = (v, self) else {
            return false;
        };
        match op {
            CmpOp::Eq => v == *c,
            CmpOp::Ne => v != *c,
            CmpOp::Lt => v < *c,
            CmpOp::Le => v <= *c,
            CmpOp::Gt => v > *c,
            CmpOp::Ge => v >= *c,
        }
    }

    pub fn is_int(&self) -> bool {
        matches!(self, Test::Int(..))
    }

    /// The rows of a column that pass the test, as a `WHERE` clause keeps them: a NULL
    /// value fails. The column is `Int64` for [`Test::Int`], `Utf8View` otherwise.
    pub fn passes(&self, a: &ArrayRef) -> Result<BooleanBuffer, ArrowError> {
        let pass = self.array(a)?;
        Ok(match pass.nulls() {
            Some(nulls) => pass.values() & nulls.inner(),
            None => pass.values().clone(),
        })
    }

    /// The test on a column: `Int64` for [`Test::Int`], `Utf8View` otherwise (rows whose
    /// value is NULL come out NULL). Arrow's kernels compare short views as whole words,
    /// several times faster than a loop over the values.
    fn array(&self, a: &ArrayRef) -> Result<BooleanArray, ArrowError> {
        let text = |s: &str| StringViewArray::new_scalar(s);
        // `f` against each value, joined by `join`; `empty` is the result for no values.
        let fold = |list: &[String],
                    f: fn(&dyn Datum, &dyn Datum) -> _,
                    join: fn(&_, &_) -> _,
                    empty: bool| {
            let mut acc: Option<BooleanArray> = None;
            for s in list {
                let m = f(a, &text(s))?;
                acc = Some(match acc {
                    Some(acc) => join(&acc, &m)?,
                    None => m,
                });
            }
            Ok(acc.unwrap_or_else(|| BooleanArray::from(vec![empty; a.len()])))
        };
        match self {
            Test::In(list) => fold(list, cmp::eq, boolean::or, false),
            Test::NotIn(list) => fold(list, cmp::neq, boolean::and, true),
            Test::Prefix(p) => comparison::starts_with(a, &text(p)),
            Test::NotPrefix(p) => boolean::not(&comparison::starts_with(a, &text(p))?),
            Test::Int(op, c) => {
                let c = Int64Array::new_scalar(*c);
                match op {
                    CmpOp::Eq => cmp::eq(a, &c),
                    CmpOp::Ne => cmp::neq(a, &c),
                    CmpOp::Lt => cmp::lt(a, &c),
                    CmpOp::Le => cmp::lt_eq(a, &c),
                    CmpOp::Gt => cmp::gt(a, &c),
                    CmpOp::Ge => cmp::gt_eq(a, &c),
                }
            }
        }
    }
}

/// Slice equality without a call to `memcmp`: the values are a few bytes long, and the
/// call cost more than the text decoder's other work on a record's filtered fields.
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// A test on one table column (an index into the [`crate::format::FlowSchema`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Predicate {
    pub column: usize,
    pub test: Test,
    /// The SQL it came from, for `EXPLAIN`.
    pub shown: String,
}

#[cfg(test)]
impl Predicate {
    /// `test` on the default schema's column named `column`, for decoder tests.
    pub fn on(column: &str, test: Test) -> Self {
        let schema = crate::format::FlowSchema::default();
        Predicate {
            column: schema.index_of(column).expect("a table column"),
            test,
            shown: String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_fails_every_test() {
        let tests = [
            Test::In(vec!["a".into()]),
            Test::NotIn(vec!["a".into()]),
            Test::Prefix(String::new()),
            Test::NotPrefix("a".into()),
            Test::Int(CmpOp::Ne, 1),
        ];
        for t in &tests {
            assert!(!t.text(None) && !t.int(None), "{t:?}");
        }
    }

    #[test]
    fn tests_match_sql() {
        assert!(Test::In(vec!["ACCEPT".into(), "REJECT".into()]).text(Some(b"REJECT")));
        assert!(!Test::In(vec!["ACCEPT".into()]).text(Some(b"ACCEPTED")));
        assert!(Test::NotIn(vec!["ACCEPT".into()]).text(Some(b"ACCEPTED")));
        assert!(!Test::NotIn(vec!["ACCEPT".into()]).text(Some(b"ACCEPT")));
        assert!(Test::Prefix("10.".into()).text(Some(b"10.0.0.1")));
        assert!(!Test::Prefix("10.".into()).text(Some(b"100.0.0.1")));
        assert!(Test::NotPrefix("10.".into()).text(Some(b"100.0.0.1")));
        assert!(!Test::NotPrefix("10.".into()).text(Some(b"10.")));
        assert!(Test::Prefix(String::new()).text(Some(b"")));
        let t = |op, v| Test::Int(op, 443).int(Some(v));
        assert!(t(CmpOp::Eq, 443) && !t(CmpOp::Eq, 80));
        assert!(t(CmpOp::Ne, 80) && !t(CmpOp::Ne, 443));
        assert!(t(CmpOp::Lt, 80) && !t(CmpOp::Lt, 443));
        assert!(t(CmpOp::Le, 443) && !t(CmpOp::Le, 444));
        assert!(t(CmpOp::Gt, 444) && !t(CmpOp::Gt, 443));
        assert!(t(CmpOp::Ge, 443) && !t(CmpOp::Ge, 442));
        // A text test never passes an integer, nor the reverse.
        assert!(!Test::In(vec!["1".into()]).int(Some(1)));
        assert!(!Test::Int(CmpOp::Eq, 1).text(Some(b"1")));
    }
}
