//! CloudWatch Logs sources: `cwlogs://<log-group-name>[?stream-prefix=…]`. Everything
//! after `cwlogs://` up to `?` is the group name, slashes included. Each log stream is
//! one object of the scan (streams are read in parallel); its events come from
//! FilterLogEvents over the time window, page by page.

use aws_sdk_cloudwatchlogs::Client;

use super::{KeyInfo, SourceObject};
use crate::aws::error_text;
use crate::decode::TimeWindow;
use crate::error::{Error, Result};

/// Events are stamped with the record's `start`; a record that ends inside the window may
/// start up to one aggregation interval (10 min) before it.
const START_MARGIN_SECS: i64 = 15 * 60;

/// A log stream of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CwLocation {
    pub group: String,
    pub stream: String,
    /// Incremental scans: read events from this time (ms) on…
    pub resume_from_ms: Option<i64>,
    /// …except these (`<timestamp>:<event id>`), already read by the previous run.
    pub skip: std::sync::Arc<std::collections::BTreeSet<String>>,
    /// The events asked for (`--since`/`--until`, by event time): the listing's window,
    /// which an incremental run does not apply to the records themselves.
    pub window: TimeWindow,
}

impl CwLocation {
    /// The ENI a flow-log stream is named after (`eni-0123…-all` → `eni-0123…`).
    pub fn stream_eni(&self) -> Option<&str> {
        let s = self.stream.as_str();
        if !s.starts_with("eni-") {
            return None;
        }
        Some(s.rsplit_once('-').map_or(s, |(eni, _)| eni))
    }
}

/// `cwlogs://group?stream-prefix=p` → (group, stream prefix).
pub fn parse_url(url: &str) -> Result<(String, Option<String>)> {
    let (group, query) = super::url_parts(
        url,
        ("a", "cwlogs://"),
        '?',
        "the URL names no log group (cwlogs://<log-group-name>)",
    )?;
    let mut prefix = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("stream-prefix", v)) => prefix = Some(v.to_string()),
            _ => {
                return Err(Error::source(
                    url,
                    format!("unknown parameter `{pair}` (only stream-prefix=… is understood)"),
                ));
            }
        }
    }
    Ok((group.to_string(), prefix))
}

/// The key under which a group's record format is looked up (see `flow_log_formats`).
pub fn format_key(group: &str) -> String {
    format!("log-group:{group}")
}

/// Lists the streams of a group (with the optional prefix) that can hold events of the
/// window, one object each; also returns how many streams the window excluded.
/// `delivered_since`: an incremental run's ([`super::s3::ListFilter::delivered_since`]):
/// events stamped since then may be new to it, so streams are read from then at the
/// earliest (a stream an earlier run read, from where it left it, if later).
pub async fn list(
    client: &Client,
    url: &str,
    window: &TimeWindow,
    delivered_since: Option<i64>,
) -> Result<(Vec<SourceObject>, u64)> {
    let (group, prefix) = parse_url(url)?;
    let stream_window = match (delivered_since, window.since) {
        (Some(from), Some(since)) => TimeWindow {
            since: Some(since.min(from + START_MARGIN_SECS)),
            ..*window
        },
        _ => *window,
    };
    let mut req = client.describe_log_streams().log_group_name(&group);
    if let Some(p) = &prefix {
        req = req.log_stream_name_prefix(p);
    }
    let mut pages = req.into_paginator().send();
    let mut out = Vec::new();
    let mut pruned = 0;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            Error::source(
                url,
                format!("DescribeLogStreams failed: {}", error_text(&e)),
            )
        })?;
        for s in page.log_streams() {
            let Some(name) = s.log_stream_name() else {
                continue;
            };
            let first = s.first_event_timestamp().map(|t| t / 1000);
            let last = s.last_event_timestamp().map(|t| t / 1000);
            // A stream's lastEventTimestamp is eventually consistent (it can lag
            // ingestion by an hour, rarely more): an incremental run, which must not miss
            // what just arrived, gives it a day.
            let hi = match delivered_since {
                Some(_) => last.map(|t| t + 24 * 3600),
                None => last,
            };
            if let (Some(lo), Some(hi)) = (first, hi)
                && !stream_window.overlaps_range(lo - START_MARGIN_SECS, hi + START_MARGIN_SECS)
            {
                pruned += 1;
                continue;
            }
            let loc = CwLocation {
                group: group.clone(),
                stream: name.to_string(),
                resume_from_ms: None,
                skip: Default::default(),
                window: stream_window,
            };
            let url = format!("cwlogs://{group}/{name}");
            out.push(SourceObject {
                path: url.clone().into(),
                name: url,
                // Streams report no size (storedBytes is always 0 since 2019).
                size: 0,
                key: KeyInfo {
                    flow_log_id: Some(format_key(&group)),
                    ..KeyInfo::default()
                },
                s3: None,
                cw: Some(loc),
                mtime_ns: None,
                resume: None,
                hold_open_line: false,
                read: Default::default(),
            });
        }
    }
    Ok((out, pruned))
}

/// One page of a stream's events: (timestamp ms, event id, message).
pub type Page = Vec<(i64, String, String)>;

/// Every event of every stream of `url` over `window`, in order, for a group of documents
/// read whole (a trail's events, DNS query logs): `each(stream, n, message)` with the
/// stream's name (`cwlogs://group/stream`) and the event's number in it from 1. Returns
/// the number of streams.
pub async fn each_message(
    client: &Client,
    url: &str,
    window: &TimeWindow,
    mut each: impl FnMut(&std::sync::Arc<str>, u64, &str) -> Result<()>,
) -> Result<usize> {
    use futures::StreamExt;
    let (streams, _) = list(client, url, window, None).await?;
    let mut read = 0;
    for o in streams {
        let Some(loc) = &o.cw else { continue };
        read += 1;
        let name: std::sync::Arc<str> =
            std::sync::Arc::from(format!("cwlogs://{}/{}", loc.group, loc.stream));
        let mut n = 0;
        let mut pages = std::pin::pin!(pages(client, loc, window));
        while let Some(page) = pages.next().await {
            for (_, _, message) in page? {
                n += 1;
                each(&name, n, &message)?;
            }
        }
    }
    Ok(read)
}

/// Pages of FilterLogEvents for one stream over the window (with the start margin).
pub fn pages(
    client: &Client,
    loc: &CwLocation,
    window: &TimeWindow,
) -> impl futures::Stream<Item = Result<Page>> + use<> {
    let mut req = client
        .filter_log_events()
        .log_group_name(&loc.group)
        .log_stream_names(&loc.stream);
    let since = window.since.map(|s| (s - START_MARGIN_SECS).max(0) * 1000);
    // A stream an earlier run read is resumed where that run left it (less the overlap),
    // unless that is before the window (an incremental run's widened as `list` says).
    let start = match (since, loc.resume_from_ms) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    if let Some(start) = start {
        req = req.start_time(start);
    }
    if let Some(until) = window.until {
        req = req.end_time(until * 1000 + 999);
    }
    let name = format!("cwlogs://{}/{}", loc.group, loc.stream);
    let paginator = req.into_paginator().send();
    futures::stream::unfold((paginator, name), |(mut p, name)| async move {
        let page = p.next().await?;
        let item = page
            .map(|page| {
                page.events()
                    .iter()
                    .map(|e| {
                        (
                            e.timestamp().unwrap_or(0),
                            e.event_id().unwrap_or_default().to_string(),
                            e.message().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .map_err(|e| {
                Error::source(&name, format!("FilterLogEvents failed: {}", error_text(&e)))
            });
        Some((item, (p, name)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            parse_url("cwlogs:///aws/vpc/flowlogs").unwrap(),
            ("/aws/vpc/flowlogs".into(), None)
        );
        assert_eq!(
            parse_url("cwlogs://g/x?stream-prefix=eni-0").unwrap(),
            ("g/x".into(), Some("eni-0".into()))
        );
        assert!(parse_url("cwlogs://").is_err());
        assert!(parse_url("cwlogs://g?bogus=1").is_err());
    }

    #[test]
    fn stream_names_give_the_eni() {
        let l = |s: &str| CwLocation {
            group: "g".into(),
            stream: s.into(),
            resume_from_ms: None,
            skip: Default::default(),
            window: TimeWindow::default(),
        };
        assert_eq!(
            l("eni-0c19436730cc350ae-all").stream_eni(),
            Some("eni-0c19436730cc350ae")
        );
        assert_eq!(l("log_0").stream_eni(), None);
    }
}
