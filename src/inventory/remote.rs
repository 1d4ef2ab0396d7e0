//! An inventory kept in S3 (`--inventory s3://bucket/prefix`): where a trail delivers its
//! CloudTrail files (`AWSLogs/<account>/CloudTrail/…`, or `AWSLogs/o-…/<account>/…` for an
//! organisation's trail) and where scheduled `inventory collect` runs can write. Every
//! object under the prefix is read as a file of a local inventory directory would be.

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

/// What [`load_s3`] does, into `inv`; call [`load::finish`] once every source is added.
pub async fn add_s3(inv: &mut Inventory, client: &Client, url: &str) -> Result<()> {
    let (bucket, keys) = crate::source::s3::list_keys(client, url).await?;
    if keys.is_empty() {
        return Err(Error::Inventory {
            file: url.to_string(),
            message: "no object under this prefix".to_string(),
        });
    }
    let mut keys = keys;
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
