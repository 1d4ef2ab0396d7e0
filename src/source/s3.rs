//! S3 sources (`s3://bucket/prefix`): listing that follows the AWSLogs key layout so that
//! only the day prefixes of the time window are listed, and object bodies streamed into
//! the decoder through a bounded channel, resumed with a range request when a body breaks.

use std::io::Read;
use std::ops::Range;
use std::sync::Arc;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use bytes::Bytes;
use chrono::{Duration, NaiveDate, Utc};
use datafusion::parquet::arrow::arrow_reader::ArrowReaderOptions;
use datafusion::parquet::arrow::async_reader::AsyncFileReader;
use datafusion::parquet::errors::ParquetError;
use datafusion::parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};
use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::runtime::Handle;
use tokio::sync::mpsc;

use super::layout::{KeyInfo, KeysSeen};
use super::{SourceObject, looks_like_flow_log, parse_key};
use crate::aws::{causes, error_text};
use crate::decode::TimeWindow;
use crate::error::{Error, Result};

/// Where an S3 object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub key: String,
    pub etag: Option<String>,
}

/// `s3://bucket/prefix` → (bucket, prefix).
pub fn parse_url(url: &str) -> Result<(String, String)> {
    let (bucket, prefix) = super::url_parts(
        url,
        ("an", "s3://"),
        '/',
        "the URL names no bucket (s3://bucket/prefix)",
    )?;
    Ok((bucket.to_string(), prefix.to_string()))
}

/// Narrows a listing: the time window and `--account`/`--log-region`/`--flow-log`.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub window: TimeWindow,
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub flow_logs: Vec<String>,
    /// Incremental runs (`--state`) after the first: since when (Unix seconds) what was
    /// delivered is new to the run, when that is before `--since`. Such a run reads what
    /// it has not read before, and what was delivered late for an earlier window (or for
    /// the window of a run that failed) is new to it: an object delivered since then (S3
    /// `LastModified`, a local copy's mtime) is read whatever time its name says, and a
    /// CloudWatch stream is read from then at the earliest.
    pub delivered_since: Option<i64>,
}

impl ListFilter {
    /// Whether an object whose name says records of `lo..=hi`, delivered at `delivered`
    /// (Unix seconds), is read: records of the window, or an incremental run's late
    /// delivery.
    pub fn wants(&self, (lo, hi): (i64, i64), delivered: Option<i64>) -> bool {
        if self.window.overlaps_range(lo, hi) {
            return true;
        }
        // Late for a window before this one; never one after --until.
        match (self.delivered_since, self.window.since, delivered) {
            (Some(from), Some(since), Some(t)) => hi < since && t >= from,
            _ => false,
        }
    }

    /// Whether an object with this key is read: a key that does not say (no AWS layout
    /// or name) is never left out by what it does not say.
    pub fn selects(&self, key: &KeyInfo) -> bool {
        let ok = |wanted: &[String], has: &Option<String>| {
            wanted.is_empty() || has.as_ref().is_none_or(|v| wanted.contains(v))
        };
        ok(&self.accounts, &key.account)
            && ok(&self.regions, &key.region)
            && ok(&self.flow_logs, &key.flow_log_id)
    }
}

/// What a listing found.
#[derive(Debug, Default)]
pub struct Listing {
    pub objects: Vec<SourceObject>,
    /// Keys listed but skipped by their time.
    pub pruned: u64,
    /// Prefixes listed (each a ListObjectsV2 sequence), for tests and logs.
    pub prefixes: Vec<String>,
    /// Accounts, regions and flow logs the keys named, left out or not.
    pub seen: KeysSeen,
}

fn s3_err<E>(op: &str, url: &str, e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    Error::source(url, format!("S3 {op} failed: {}", error_text(&e)))
}

async fn list_dirs(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>> {
    let mut dirs = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .delimiter("/")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| s3_err("ListObjectsV2", &format!("s3://{bucket}/{prefix}"), e))?;
        for p in page.common_prefixes() {
            if let Some(p) = p.prefix() {
                dirs.push(p.to_string());
            }
        }
    }
    Ok(dirs)
}

async fn list_all(
    client: &Client,
    bucket: &str,
    prefix: &str,
    filter: &ListFilter,
    out: &mut Listing,
) -> Result<()> {
    out.prefixes.push(prefix.to_string());
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| s3_err("ListObjectsV2", &format!("s3://{bucket}/{prefix}"), e))?;
        for o in page.contents() {
            let Some(key) = o.key() else { continue };
            if key.ends_with('/') || !looks_like_flow_log(std::path::Path::new(key)) {
                continue;
            }
            // As in local directory walks, `_…` and `.…` folders below the listed prefix
            // hold metadata and staging, never data: an export's `_sageflow/staging/` files
            // are rows that are (or will be) in its partitions too.
            let below = key.strip_prefix(prefix).unwrap_or(key);
            if below
                .split('/')
                .rev()
                .skip(1)
                .any(|dir| dir.starts_with(['_', '.']))
            {
                continue;
            }
            let info = parse_key(key);
            out.seen.note(&info);
            let delivered = o.last_modified().map(|t| t.secs());
            if let Some(range) = info.range
                && !filter.wants(range, delivered)
            {
                out.pruned += 1;
                continue;
            }
            if !filter.selects(&info) {
                continue;
            }
            let url = format!("s3://{bucket}/{key}");
            out.objects.push(SourceObject {
                path: url.clone().into(),
                name: url,
                size: o.size().unwrap_or(0).max(0) as u64,
                key: info,
                s3: Some(S3Location {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                    etag: o.e_tag().map(str::to_string),
                }),
                cw: None,
                mtime_ns: None,
                resume: None,
                hold_open_line: false,
                read: Default::default(),
            });
        }
    }
    Ok(())
}

/// Lists the flow-log objects under `s3://bucket/prefix`. When the prefix leads to an
/// `AWSLogs/` tree, accounts and regions are listed by delimiter and, with a time window,
/// only the day prefixes of the window are listed; otherwise everything under the prefix.
pub async fn list(client: &Client, url: &str, filter: &ListFilter) -> Result<Listing> {
    let (bucket, prefix) = parse_url(url)?;
    let mut out = Listing::default();
    let root = match prefix.find("AWSLogs/") {
        Some(i) if prefix[i + 8..].is_empty() => Some(prefix.clone()),
        Some(_) => None,
        None => {
            let base = if prefix.is_empty() || prefix.ends_with('/') {
                prefix.clone()
            } else {
                format!("{prefix}/")
            };
            let dirs = list_dirs(client, &bucket, &base).await?;
            let root = format!("{base}AWSLogs/");
            dirs.contains(&root).then_some(root)
        }
    };
    let Some(root) = root else {
        // A prefix inside the layout (or no layout at all): list it whole; keys still
        // prune by their own date and file name.
        list_all(client, &bucket, &prefix, filter, &mut out).await?;
        return Ok(out);
    };
    for acct_dir in list_dirs(client, &bucket, &root).await? {
        let seg = acct_dir[root.len()..].trim_end_matches('/');
        let (acct, hive) = match seg.strip_prefix("aws-account-id=") {
            Some(a) => (a.to_string(), true),
            None => (seg.to_string(), false),
        };
        out.seen.accounts.insert(acct.clone());
        if !filter.accounts.is_empty() && !filter.accounts.contains(&acct) {
            continue;
        }
        let service = if hive {
            format!("{acct_dir}aws-service=vpcflowlogs/")
        } else {
            format!("{acct_dir}vpcflowlogs/")
        };
        for region_dir in list_dirs(client, &bucket, &service).await? {
            let seg = region_dir[service.len()..].trim_end_matches('/');
            let region = seg.strip_prefix("aws-region=").unwrap_or(seg);
            out.seen.regions.insert(region.to_string());
            if !filter.regions.is_empty() && !filter.regions.iter().any(|r| r == region) {
                continue;
            }
            // Days of deliveries new to an incremental run are listed too.
            let listed = TimeWindow {
                since: match (filter.window.since, filter.delivered_since) {
                    (Some(s), Some(d)) => Some(s.min(d)),
                    (s, _) => s,
                },
                ..filter.window
            };
            match days(&listed) {
                Some(days) => {
                    for d in days {
                        let p = if hive {
                            format!("{region_dir}{}", d.format("year=%Y/month=%m/day=%d/"))
                        } else {
                            format!("{region_dir}{}", d.format("%Y/%m/%d/"))
                        };
                        list_all(client, &bucket, &p, filter, &mut out).await?;
                    }
                }
                None => list_all(client, &bucket, &region_dir, filter, &mut out).await?,
            }
        }
    }
    Ok(out)
}

/// The days whose partitions may hold records of the window, one day of margin each
/// side (files are partitioned by delivery time); `None` without a lower bound.
fn days(w: &TimeWindow) -> Option<Vec<NaiveDate>> {
    let since = w.since?;
    let until = w.until.unwrap_or_else(|| Utc::now().timestamp());
    let first = chrono::DateTime::from_timestamp(since, 0)?.date_naive() - Duration::days(1);
    let last = chrono::DateTime::from_timestamp(until, 0)?.date_naive() + Duration::days(1);
    if (last - first).num_days() > 3660 {
        return None;
    }
    let mut v = Vec::new();
    let mut d = first;
    while d <= last {
        v.push(d);
        d += Duration::days(1);
    }
    Some(v)
}

/// How many times a broken body is resumed before the object fails.
const RESUMES: u32 = 5;
/// Chunks buffered between the download task and the decoder.
const CHANNEL_CHUNKS: usize = 8;

/// A blocking reader over an object body that a task on `handle` downloads. A body that
/// breaks mid-stream is resumed from the byte it stopped at (range request pinned to the
/// ETag); a failure after the resumes surfaces as a read error naming the object.
pub struct BodyReader {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
    current: Bytes,
    done: bool,
}

impl BodyReader {
    pub fn open(client: Client, loc: &S3Location, handle: &Handle) -> BodyReader {
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let loc = loc.clone();
        handle.spawn(async move {
            let mut offset: u64 = 0;
            let mut attempt = 0;
            loop {
                let mut req = client.get_object().bucket(&loc.bucket).key(&loc.key);
                if offset > 0 {
                    req = req.range(format!("bytes={offset}-"));
                    if let Some(etag) = &loc.etag {
                        req = req.if_match(etag);
                    }
                }
                let url = format!("s3://{}/{}", loc.bucket, loc.key);
                let resp = match req.send().await {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx
                            .send(Err(std::io::Error::other(format!(
                                "GetObject {url} failed: {}",
                                error_text(&e)
                            ))))
                            .await;
                        return;
                    }
                };
                // A server or cache that ignores Range answers with the whole object:
                // appending it would repeat the first `offset` bytes (duplicate records in
                // plain text), so anything but the requested range fails the object.
                if offset > 0
                    && !resp
                        .content_range()
                        .is_some_and(|r| r.starts_with(&format!("bytes {offset}-")))
                {
                    let _ = tx
                        .send(Err(std::io::Error::other(format!(
                            "resuming {url} at byte {offset}: the answer is not that range (Content-Range: {})",
                            resp.content_range().unwrap_or("none")
                        ))))
                        .await;
                    return;
                }
                let mut body = resp.body;
                let broke = loop {
                    match body.try_next().await {
                        Ok(Some(chunk)) => {
                            offset += chunk.len() as u64;
                            if tx.send(Ok(chunk)).await.is_err() {
                                return; // the reader went away
                            }
                        }
                        Ok(None) => return,
                        Err(e) => break e,
                    }
                };
                attempt += 1;
                let broke = causes(&broke);
                if attempt > RESUMES {
                    let _ = tx
                        .send(Err(std::io::Error::other(format!(
                            "body of {url} broke {attempt} times, the last at byte {offset}: {broke}"
                        ))))
                        .await;
                    return;
                }
                tracing::warn!(object = %url, offset, attempt, error = %broke, "S3 body broke; resuming with a range request");
            }
        });
        BodyReader {
            rx,
            current: Bytes::new(),
            done: false,
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => self.current = chunk,
                Some(Err(e)) => return Err(e),
                None => {
                    self.done = true;
                    return Ok(0);
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Range reads of a Parquet object: the footer first, then only the column chunks the
/// query needs.
pub struct ParquetRanges {
    pub client: Client,
    pub loc: S3Location,
    pub size: u64,
    pub fetched: Arc<std::sync::atomic::AtomicU64>,
}

impl ParquetRanges {
    async fn range(&self, range: Range<u64>) -> std::result::Result<Bytes, ParquetError> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let mut req = self
            .client
            .get_object()
            .bucket(&self.loc.bucket)
            .key(&self.loc.key)
            .range(format!("bytes={}-{}", range.start, range.end - 1));
        if let Some(etag) = &self.loc.etag {
            req = req.if_match(etag);
        }
        let what = format!("bytes {}-{}", range.start, range.end - 1);
        // The SDK retries failed requests, not bodies that break after the headers: those
        // are asked for again here, as `BodyReader` resumes text objects.
        let mut attempt = 0;
        let data = loop {
            let resp = req.clone().send().await.map_err(|e| {
                ParquetError::External(
                    format!("GetObject {what} failed: {}", error_text(&e)).into(),
                )
            })?;
            match resp.body.collect().await {
                Ok(d) => break d.into_bytes(),
                Err(e) => {
                    attempt += 1;
                    let e = causes(&e);
                    if attempt > RESUMES {
                        return Err(ParquetError::External(
                            format!("GetObject {what}: the body broke {attempt} times: {e}").into(),
                        ));
                    }
                    tracing::warn!(object = %format!("s3://{}/{}", self.loc.bucket, self.loc.key), range = %what, attempt, error = %e, "S3 body broke; asking for the range again");
                }
            }
        };
        if data.len() as u64 != range.end - range.start {
            return Err(ParquetError::EOF(format!(
                "asked for {} bytes at {}, got {}",
                range.end - range.start,
                range.start,
                data.len()
            )));
        }
        self.fetched
            .fetch_add(data.len() as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(data)
    }
}

impl AsyncFileReader for ParquetRanges {
    fn get_bytes(
        &mut self,
        range: Range<u64>,
    ) -> BoxFuture<'_, datafusion::parquet::errors::Result<Bytes>> {
        async move { self.range(range).await }.boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, datafusion::parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let meta = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .load_and_finish(&mut *self, size)
                .await?;
            Ok(Arc::new(meta))
        }
        .boxed()
    }
}

/// Every key under `s3://bucket/prefix`, sorted: a prefix of documents (an inventory, DNS
/// query logs) read whole, not a flow-log layout.
pub async fn list_keys(client: &Client, url: &str) -> Result<(String, Vec<String>)> {
    let (bucket, prefix) = parse_url(url)?;
    let mut keys = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(&bucket)
        .prefix(&prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| s3_err("ListObjectsV2", url, e))?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_string)),
        );
    }
    keys.sort();
    Ok((bucket, keys))
}

/// A whole (small) object.
pub async fn get_whole(client: &Client, bucket: &str, key: &str) -> Result<bytes::Bytes> {
    let url = format!("s3://{bucket}/{key}");
    Ok(client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| s3_err("GetObject", &url, e))?
        .body
        .collect()
        .await
        .map_err(|e| Error::source(&url, format!("S3 GetObject failed: {e}")))?
        .into_bytes())
}

/// The first bytes of an object (to tell gzip, Parquet and text apart by content).
pub async fn head_bytes(client: &Client, loc: &S3Location, n: u64) -> Result<Vec<u8>> {
    let url = format!("s3://{}/{}", loc.bucket, loc.key);
    let resp = client
        .get_object()
        .bucket(&loc.bucket)
        .key(&loc.key)
        .range(format!("bytes=0-{}", n.saturating_sub(1)))
        .send()
        .await
        .map_err(|e| s3_err("GetObject", &url, e))?;
    let data = resp
        .body
        .collect()
        .await
        .map_err(|e| Error::source(&url, format!("reading the first bytes failed: {e}")))?;
    Ok(data.into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(parse_url("s3://b/x/y").unwrap(), ("b".into(), "x/y".into()));
        assert_eq!(parse_url("s3://b").unwrap(), ("b".into(), "".into()));
        assert!(parse_url("s3:///x").is_err());
    }

    #[test]
    fn day_prefixes_cover_the_window_with_margin() {
        let w = TimeWindow {
            since: Some(1795132800), // 2026-11-20
            until: Some(1795132800 + 3600),
        };
        let d = days(&w).unwrap();
        assert_eq!(d.first().unwrap().to_string(), "2026-11-19");
        assert_eq!(d.last().unwrap().to_string(), "2026-11-21");
        assert!(days(&TimeWindow::default()).is_none());
    }
}
