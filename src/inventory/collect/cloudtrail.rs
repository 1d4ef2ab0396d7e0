//! CloudTrail's event history (`LookupEvents`: the last 90 days of one region's management
//! events, no trail needed): the ENI events `inventory collect --cloudtrail` saves as one
//! `{"Records": [...]}` document, read back exactly as a trail's log files are.

use aws_sdk_cloudtrail::primitives::DateTime;
use aws_sdk_cloudtrail::types::{LookupAttribute, LookupAttributeKey};
use serde_json::Value;

use super::sdk::{all_pages, outcome};
use crate::error::{Error, Result};

/// What ENI lifetimes are built from.
const EVENT_NAMES: [&str; 5] = crate::inventory::load::ENI_EVENTS;

/// The ENI events between `since` and `until` (Unix seconds), oldest first, as the
/// document `cloudtrail/lookup-events.json`; `None` when the endpoint lacks the call.
pub(super) async fn collect_trail(
    client: &aws_sdk_cloudtrail::Client,
    since: i64,
    until: i64,
) -> Result<Option<(String, Value)>> {
    const OP: &str = "cloudtrail:LookupEvents";
    let mut records = Vec::new();
    for name in EVENT_NAMES {
        // One attribute per call: the API takes no more.
        let attribute = LookupAttribute::builder()
            .attribute_key(LookupAttributeKey::EventName)
            .attribute_value(name)
            .build()
            .map_err(|e| Error::source(OP, e.to_string()))?;
        let request = client
            .lookup_events()
            .lookup_attributes(attribute)
            .start_time(DateTime::from_secs(since))
            .end_time(DateTime::from_secs(until));
        // CreateTags of every other kind of resource (instances, volumes, …) are not an
        // ENI's: dropped as the pages come.
        let keep = |e: &aws_sdk_cloudtrail::types::Event| {
            let of_eni = e
                .resources()
                .iter()
                .any(|r| r.resource_name().is_some_and(|n| n.starts_with("eni-")));
            (name != "CreateTags" || of_eni).then(|| {
                (
                    e.event_id().unwrap_or("?").to_string(),
                    e.cloud_trail_event().map(str::to_string),
                )
            })
        };
        let Some(events) = all_pages!(OP, request, events, keep) else {
            return Ok(None);
        };
        for (id, text) in events.into_iter().flatten() {
            let record: Value = text
                .ok_or_else(|| "holds no CloudTrailEvent".to_string())
                .and_then(|t| serde_json::from_str(&t).map_err(|e| format!("is not JSON: {e}")))
                .map_err(|why| Error::source(OP, format!("event {id} ({name}) {why}")))?;
            records.push(record);
        }
    }
    // The history lists newest first; a trail's files hold them in time order.
    records.sort_by(|a, b| {
        let t = |r: &Value| r["eventTime"].as_str().unwrap_or("").to_string();
        t(a).cmp(&t(b))
    });
    Ok(Some((
        "cloudtrail/lookup-events.json".to_string(),
        serde_json::json!({ "Records": records }),
    )))
}
