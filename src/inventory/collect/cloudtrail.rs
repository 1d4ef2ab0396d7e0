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
        let Some(events) = all_pages!(OP, request, events, Clone::clone) else {
            return Ok(None);
        };
        for e in events {
            // CreateTags of every other kind of resource: not an ENI's.
            let of_eni = e
                .resources()
                .iter()
                .any(|r| r.resource_name().is_some_and(|n| n.starts_with("eni-")));
            if name == "CreateTags" && !of_eni {
                continue;
            }
            let Some(text) = e.cloud_trail_event() else {
                continue;
            };
            let record: Value = serde_json::from_str(text).map_err(|err| {
                Error::source(
                    OP,
                    format!(
                        "event {} ({name}) holds no JSON record: {err}",
                        e.event_id().unwrap_or("?")
                    ),
                )
            })?;
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
