//! Which owners' records a query's filters can keep. Enriching a record (its remote
//! classified, a dozen text columns made) costs more than decoding it, and most queries and
//! every bundled rule want one owner's records (`eni_owner_kind = 'sagemaker'`,
//! `leaves_vpc`): the `flows` table drops the other owners' records after one ENI lookup
//! each, before enriching the rest ([`crate::enrich::Enricher::owners_in`]). DataFusion
//! still applies the filters (they are pushed down `Inexact`), so this only has to be
//! sound: every record a filter keeps has one of the kinds found here.

use datafusion::logical_expr::expr::{Cast, InList};
use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

use super::pushdown::{is_text, text};
use crate::enrich::{Enricher, Holds};

/// The owner kinds of every record for which `e` is true, sorted; `None` when `e` says
/// nothing about them.
pub fn kinds(e: &Expr, enricher: &Enricher) -> Option<Vec<String>> {
    let mut found = match e {
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => match op {
            Operator::And => match (kinds(left, enricher), kinds(right, enricher)) {
                (Some(l), Some(r)) => Some(l.into_iter().filter(|k| r.contains(k)).collect()),
                (l, r) => l.or(r),
            },
            Operator::Or => {
                let (mut l, r) = (kinds(left, enricher)?, kinds(right, enricher)?);
                l.extend(r);
                Some(l)
            }
            Operator::Eq => match (column(left), column(right)) {
                (Some(c), None) => equals(c, right, enricher),
                (None, Some(c)) => equals(c, left, enricher),
                _ => None,
            },
            _ => None,
        },
        Expr::Column(c) => enricher.owners_when(&c.name, Holds::True),
        Expr::IsTrue(inner) => enricher.owners_when(column(inner)?, Holds::True),
        Expr::IsNull(inner) => enricher.owners_when(column(inner)?, Holds::Null),
        Expr::IsNotNull(inner) => enricher.owners_when(column(inner)?, Holds::NotNull),
        Expr::InList(InList {
            expr,
            list,
            negated: false,
        }) => {
            let c = column(expr)?;
            let mut all = Vec::new();
            for v in list {
                all.extend(enricher.owners_when(c, Holds::Equals(&text(v)?))?);
            }
            Some(all)
        }
        _ => None,
    }?;
    found.sort_unstable();
    found.dedup();
    Some(found)
}

/// `column = value`: text, or `true` for a flag.
fn equals(column: &str, value: &Expr, enricher: &Enricher) -> Option<Vec<String>> {
    match value {
        Expr::Literal(datafusion::common::ScalarValue::Boolean(Some(true)), _) => {
            enricher.owners_when(column, Holds::True)
        }
        v => enricher.owners_when(column, Holds::Equals(&text(v)?)),
    }
}

/// The column an expression is, also through a cast to text (which keeps every value,
/// and NULL as NULL).
fn column(e: &Expr) -> Option<&str> {
    match e {
        Expr::Column(c) => Some(&c.name),
        Expr::Cast(Cast { expr, field }) if is_text(field.data_type()) => column(expr),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::logical_expr::{cast, col, lit};

    use super::*;

    fn enricher() -> Enricher {
        Enricher::new(std::sync::Arc::new(crate::inventory::Inventory::default()))
    }

    #[test]
    fn filters_name_the_owners_they_keep() {
        let e = enricher();
        let k = |x: Expr| kinds(&x, &e);
        let v = |a: &[&str]| Some(a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let sm = || col("eni_owner_kind").eq(lit("sagemaker"));
        assert_eq!(k(sm()), v(&["sagemaker"]));
        assert_eq!(
            k(lit("sagemaker").eq(col("eni_owner_kind"))),
            v(&["sagemaker"])
        );
        assert_eq!(k(col("leaves_vpc")), v(&["nat_gateway", "sagemaker"]));
        assert_eq!(
            k(col("endpoint_bypass").eq(lit(true))),
            v(&["nat_gateway", "sagemaker"])
        );
        // A conjunction keeps the kinds both allow; an unrelated side says nothing.
        assert_eq!(
            k(sm().and(col("action").eq(lit("REJECT")))),
            v(&["sagemaker"])
        );
        assert_eq!(k(sm().and(col("leaves_vpc"))), v(&["sagemaker"]));
        assert_eq!(k(col("action").eq(lit("REJECT"))), None);
        // A disjunction needs both sides to name kinds.
        assert_eq!(
            k(sm().or(col("eni_owner_kind").eq(lit("aws_managed")))),
            v(&["aws_managed", "sagemaker"])
        );
        assert_eq!(k(sm().or(col("action").eq(lit("REJECT")))), None);
        assert_eq!(
            k(col("eni_owner_kind").in_list(vec![lit("ec2"), lit("sagemaker")], false)),
            v(&["ec2", "sagemaker"])
        );
        assert_eq!(
            k(col("eni_owner_kind").in_list(vec![lit("ec2")], true)),
            None
        );
        assert_eq!(k(col("eni_owner_kind").not_eq(lit("ec2"))), None);
        assert_eq!(
            k(cast(col("eni_owner_kind"), DataType::Utf8).eq(lit("ec2"))),
            v(&["ec2"])
        );
        assert_eq!(k(cast(col("leaves_vpc"), DataType::Int32).eq(lit(1))), None);
        assert_eq!(k(!col("leaves_vpc")), None);
        // The unknown-enis report's records: unattributed, or attributed by subnet.
        let unknown = col("interface_id").is_not_null().and(
            col("attribution")
                .is_null()
                .or(col("attribution").eq(lit(crate::enrich::BY_RECORD))),
        );
        assert_eq!(k(unknown), v(&["sagemaker", "unknown"]));
        assert_eq!(k(col("attribution").eq(lit("eni"))), None);
        // Without DNS answers no record has a name.
        assert_eq!(k(col("remote_name_endpoint").is_not_null()), v(&[]));
        assert_eq!(k(col("remote_name").is_null()), None);
    }
}
