//! `dns_answers`: every address `--dns`'s Resolver query logs answered a SageMaker
//! workload, with the interface endpoint whose name was asked for and the workload, so that a rule can
//! flag a resolution that bypassed an endpoint even when no traffic followed it. Empty
//! without `--dns`, so that rules reading it run everywhere (and over an export).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};

use crate::enrich::Enricher;
use crate::error::Result;

const TEXT: [&str; 15] = [
    "vpc_id",
    "client_addr",
    "query_name",
    "answer_addr",
    "name_endpoint",
    "interface_id",
    "eni_owner_kind",
    "sagemaker_resource_type",
    "sagemaker_resource",
    "sagemaker_user_profile",
    "sagemaker_candidates",
    "attribution",
    "attribution_rule",
    "attribution_document",
    "source_object",
];

pub(super) fn batch(enricher: &Enricher) -> Result<RecordBatch> {
    let rows = enricher.dns_answers();
    let mut text: Vec<Vec<Option<String>>> = vec![Vec::with_capacity(rows.len()); TEXT.len()];
    let (mut time, mut line, mut to_endpoint) = (Vec::new(), Vec::new(), Vec::new());
    for r in &rows {
        let a = r.answer;
        let resource = r.owner.resource_ref(Some(a.time), Some(a.time));
        let s = |v: Option<&str>| v.map(str::to_string);
        let vals = [
            Some(r.vpc.to_string()),
            Some(a.client.to_string()),
            Some(a.name.to_string()),
            Some(r.addr.to_string()),
            s(r.endpoint),
            Some(r.eni.to_string()),
            Some(r.owner.kind().to_string()),
            s(resource.as_ref().and_then(|x| x.rtype)),
            s(resource.as_ref().and_then(|x| x.name)),
            s(resource.as_ref().and_then(|x| x.user_profile)),
            s(resource.as_ref().and_then(|x| x.candidates.as_deref())),
            Some(if r.from_trail { "eni_history" } else { "eni" }.to_string()),
            Some(r.rule.to_string()),
            s(r.document),
            Some(a.source.to_string()),
        ];
        for (c, v) in text.iter_mut().zip(vals) {
            c.push(v);
        }
        time.push(a.time);
        line.push(i64::from(a.line));
        to_endpoint.push(r.to_endpoint);
    }
    let mut fields = vec![Field::new("query_time", DataType::Int64, false)];
    fields.extend(TEXT.iter().map(|n| Field::new(*n, DataType::Utf8, true)));
    fields.push(Field::new("source_line", DataType::Int64, false));
    fields.push(Field::new(
        "answer_is_interface_endpoint",
        DataType::Boolean,
        false,
    ));
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(time))];
    arrays.extend(
        text.into_iter()
            .map(|c| Arc::new(StringArray::from(c)) as ArrayRef),
    );
    arrays.push(Arc::new(Int64Array::from(line)));
    arrays.push(Arc::new(BooleanArray::from(to_endpoint)));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}
