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
            Test::Prefix(p) => match short_prefix(a, p.as_bytes(), false) {
                Some(m) => Ok(m),
                None => comparison::starts_with(a, &text(p)),
            },
            Test::NotPrefix(p) => match short_prefix(a, p.as_bytes(), true) {
                Some(m) => Ok(m),
                None => boolean::not(&comparison::starts_with(a, &text(p))?),
            },
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

/// `LIKE 'p%'` (or, `negate`d, `NOT LIKE`) on a view array for a prefix of at most four
/// bytes, which every view holds after its length, inline or not: a word test per row,
/// without reading any value. Arrow's kernel takes each value's prefix through an iterator
/// and packs a `Vec<bool>`; on an export's `dstaddr NOT LIKE '10.%'` that was a tenth of a
/// query's time. `None` for other arrays and longer prefixes.
fn short_prefix(a: &ArrayRef, p: &[u8], negate: bool) -> Option<BooleanArray> {
    let views = a.as_any().downcast_ref::<StringViewArray>()?;
    if p.len() > 4 {
        return None;
    }
    let mut want = [0u8; 4];
    want[..p.len()].copy_from_slice(p);
    let want = u32::from_le_bytes(want);
    let mask = u32::MAX.checked_shr(8 * (4 - p.len() as u32)).unwrap_or(0);
    let min_len = p.len() as u32;
    let v = views.views();
    let values = BooleanBuffer::collect_bool(v.len(), |i| {
        let view = v[i];
        let hit = view as u32 >= min_len && (view >> 32) as u32 & mask == want;
        hit != negate
    });
    Some(BooleanArray::new(values, views.logical_nulls()))
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

    /// The view kernel of short prefixes against Arrow's `starts_with`: inline and long
    /// values, values shorter than the prefix, empty values and prefix, NULLs, non-ASCII.
    #[test]
    fn short_prefixes_on_views_match_arrows_kernel() {
        let values: Vec<Option<&str>> = vec![
            Some("10.0.0.1"),
            Some("100.0.0.1"),
            Some("10."),
            Some("10"),
            Some(""),
            None,
            Some("1"),
            Some("10.20.30.40.a-value-longer-than-twelve-bytes"),
            Some("2600:1f18:4a1b:c200::1"),
            Some("é10."),
            Some("10.é"),
            Some("\0\0\0\0"),
        ];
        let a: ArrayRef = std::sync::Arc::new(StringViewArray::from(values.clone()));
        for p in ["", "1", "10", "10.", "100.", "é", "10.é", "\0", "10.0.0"] {
            for negate in [false, true] {
                let want =
                    comparison::starts_with(&a, &StringViewArray::new_scalar(p)).expect("kernel");
                let want = if negate {
                    boolean::not(&want).expect("not")
                } else {
                    want
                };
                let test = if negate {
                    Test::NotPrefix(p.into())
                } else {
                    Test::Prefix(p.into())
                };
                let got = test.array(&a).expect("test");
                assert_eq!(got, want, "prefix {p:?}, negate {negate}");
                if p.len() <= 4 {
                    assert!(short_prefix(&a, p.as_bytes(), negate).is_some());
                }
                // And the per-value test of the text decoder agrees.
                let by_value: Vec<bool> = values
                    .iter()
                    .map(|v| test.text(v.map(str::as_bytes)))
                    .collect();
                let passes = test.passes(&a).expect("passes");
                assert_eq!(
                    passes.iter().collect::<Vec<_>>(),
                    by_value,
                    "{p:?} {negate}"
                );
            }
        }
    }
}
