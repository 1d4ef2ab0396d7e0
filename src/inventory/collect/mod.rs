//! Live inventory: calls the EC2 and SageMaker APIs (and CloudTrail's event history) and returns the documents the AWS CLI
//! would have printed, so that [`super::load::add_document`] reads them exactly as it
//! reads saved `aws ec2 describe-… > x.json` output.
//!
//! The SDK's structs are not serde types, so every field is mapped to the CLI's
//! PascalCase key by hand: at least every field that `load` reads, plus the obvious
//! identifying ones (ARNs, owners, states, times). Fields the API did not return are
//! left out, as the CLI leaves them out; an empty list is left out too (the SDK does not
//! tell an empty list from an absent one). Times are printed as the CLI prints them:
//! ISO 8601 in UTC with microseconds when there are any
//! (`2026-11-20T10:00:00.318000+00:00`).
//!
//! Every paginated call is followed to its last page. A call the endpoint does not
//! implement (`UnknownOperation`, `InvalidAction`, HTTP 501; emulators and some
//! partitions lack calls) skips that document with a warning; any other error fails the
//! whole collection, naming the call.

mod cloudtrail;
mod ec2;
mod sagemaker;
mod sdk;

use aws_config::SdkConfig;
use aws_sdk_ec2::types::Filter;
use serde_json::Value;

use self::cloudtrail::collect_trail;
use self::ec2::collect_ec2;
use self::sagemaker::collect_sagemaker;
use crate::error::Result;

/// Calls the EC2 and SageMaker APIs (every paginated call followed to the end) and returns
/// AWS-CLI-shaped JSON documents, named as the CLI command that would print them, that
/// `load::add_document` reads back unchanged: `("describe-network-interfaces.json",
/// {"NetworkInterfaces": [...]})`, describe-vpc-endpoints, describe-vpcs,
/// describe-nat-gateways, describe-managed-prefix-lists, one
/// `get-managed-prefix-list-entries-<pl-id>.json` per prefix list referenced by a gateway
/// endpoint or route (and every AWS-managed list when there are few), describe-route-tables,
/// describe-flow-logs, and one `sagemaker/describe-<kind>-<name>.json` per notebook
/// instance, domain, training/processing/transform job, model, endpoint config and
/// endpoint (list-* then describe-*). `vpc` restricts the EC2 calls that have a `vpc-id`
/// filter (VPCs, ENIs, VPC endpoints, NAT gateways, route tables); prefix lists, flow
/// logs and SageMaker resources are not filtered.
/// `since` (Unix seconds) limits training, processing and transform jobs to those that ran
/// in the window (modified since, or still running). `trail` (from, until) adds
/// `cloudtrail/lookup-events.json`: the ENI events of CloudTrail's event history in that
/// window, from which the inventory builds the lifetimes of ENIs since deleted.
pub async fn collect(
    sdk: &SdkConfig,
    vpc: Option<&str>,
    since: Option<i64>,
    trail: Option<(i64, i64)>,
) -> Result<Vec<(String, Value)>> {
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let sm = aws_sdk_sagemaker::Client::new(sdk);
    let ct = aws_sdk_cloudtrail::Client::new(sdk);
    let filters = vpc.map(|v| vec![Filter::builder().name("vpc-id").values(v).build()]);
    let history = async {
        match trail {
            Some((from, until)) => collect_trail(&ct, from, until).await,
            None => Ok(None),
        }
    };

    let (ec2_docs, sm_docs, trail_doc) = futures::try_join!(
        collect_ec2(&ec2, filters),
        collect_sagemaker(&sm, since),
        history
    )?;
    let mut docs = ec2_docs;
    docs.extend(sm_docs);
    docs.extend(trail_doc);
    Ok(docs)
}
