//! An inventory kept in S3 (`--inventory s3://bucket/prefix`): where a trail delivers its
//! CloudTrail files (`AWSLogs/<account>/CloudTrail/…`, or `AWSLogs/o-…/<account>/…` for an
//! organisation's trail) and where scheduled `inventory collect` runs can write. Every
//! object under the prefix is read as a file of a local inventory directory would be.
//! And a trail's events sent to CloudWatch Logs (`--inventory cwlogs://group`).

use std::path::Path;

use aws_sdk_s3::Client;

use super::Inventory;
use super::load;
use crate::error::{Error, Result};

/// Loads every JSON (and gzip JSON) object under `url`, in key order; digest files are
/// skipped, other objects are warnings.
pub async fn load_s3(client: &Client, url: &str, ip_ranges: Option<&Path>) -> Result<Inventory> {
    let mut inv = load::empty(ip_ranges)?;
    add_s3(&mut inv, client, url).await?;
    load::finish(&mut inv);
    Ok(inv)
}

/// A trail's events in CloudWatch Logs (`cwlogs://group[?stream-prefix=…]`, one CloudTrail
/// record per event): each stream becomes one `{"Records": [...]}` document of its ENI
/// events, read as a trail's file is. Every event of the group is read (CloudTrail's
/// ENI events of a job can precede a scan's window by the job's whole run), the others
/// dropped as they come; an event that is not a JSON object is an error naming it.
pub async fn add_cwlogs(
    inv: &mut Inventory,
    client: &aws_sdk_cloudwatchlogs::Client,
    url: &str,
) -> Result<()> {
    // Each stream's ENI events (few), by stream, until every event is read.
    let mut by_stream: std::collections::BTreeMap<String, Vec<serde_json::Value>> =
        Default::default();
    let all = crate::decode::TimeWindow::default();
    let streams = crate::source::cloudwatch::each_message(client, url, &all, |name, n, message| {
        let bad = |why: String| Error::Inventory {
            file: name.to_string(),
            message: format!("event {n} is not a CloudTrail record ({why})"),
        };
        let record: serde_json::Value =
            serde_json::from_str(message).map_err(|e| bad(format!("JSON: {e}")))?;
        if !record.is_object() {
            return Err(bad("an object".to_string()));
        }
        let kept = by_stream.entry(name.to_string()).or_default();
        if load::is_eni_event(&record) {
            kept.push(record);
        }
        Ok(())
    })
    .await?;
    if streams == 0 {
        return Err(Error::Inventory {
            file: url.to_string(),
            message: "no log stream in this group".to_string(),
        });
    }
    for (name, records) in by_stream {
        let doc = serde_json::json!({ "Records": records });
        load::add_file(inv, &name, doc.to_string().as_bytes())?;
    }
    Ok(())
}

/// What [`load_s3`] does, into `inv`; call [`load::finish`] once every source is added.
pub async fn add_s3(inv: &mut Inventory, client: &Client, url: &str) -> Result<()> {
    let (bucket, mut keys) = crate::source::s3::list_keys(client, url).await?;
    if keys.is_empty() {
        return Err(Error::Inventory {
            file: url.to_string(),
            message: "no object under this prefix".to_string(),
        });
    }
    load::newest_first(&mut keys, |k| k.as_str());
    for key in keys {
        let name = format!("s3://{bucket}/{key}");
        match load::wanted(&key) {
            Some(true) => {}
            Some(false) => continue,
            None => {
                inv.warnings
                    .push(format!("{name}: not a *.json or *.json.gz object; skipped"));
                continue;
            }
        }
        let body = crate::source::s3::get_whole(client, &bucket, &key).await?;
        load::add_file(inv, &name, &body)?;
    }
    Ok(())
}
