//! The S3 key layouts AWS delivers flow logs in, and the time span a key can hold.
//!
//! ```text
//! …/AWSLogs/<acct>/vpcflowlogs/<region>/YYYY/MM/DD[/HH]/<file>
//! …/AWSLogs/aws-account-id=<acct>/aws-service=vpcflowlogs/aws-region=<r>/year=YYYY/month=MM/day=DD[/hour=HH]/<file>
//! <acct>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHMMZ>_<hash>.log.gz
//! ```
//! A file named for time T holds records whose `end` lies in [T, T+5 min); `start` may be
//! up to one aggregation interval (≤ 10 min) earlier. Ranges below are widened by a
//! margin so that pruning can never drop a record that belongs to the window.

use std::collections::BTreeSet;

use chrono::{NaiveDate, NaiveDateTime};

/// Widening for file-name times: one 10-minute aggregation interval, the 5-minute file
/// window, and delivery skew.
const FILE_MARGIN: i64 = 20 * 60;
/// Widening for partition directories (a late file may land in the next hour or day).
const DIR_MARGIN: i64 = 60 * 60;
/// How long after a window its records may still arrive: S3 delivers a window's objects,
/// and CloudWatch Logs its events, minutes after it ends. Records of the last half hour
/// before a run may therefore be on their way, and their absence is no gap yet.
pub const DELIVERED_WITHIN_SECS: i64 = 30 * 60;

/// What a key (or a directory prefix) says about its objects.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    pub account: Option<String>,
    pub region: Option<String>,
    pub flow_log_id: Option<String>,
    /// Unix-second span, already widened, that records under this key can have.
    pub range: Option<(i64, i64)>,
    /// The time an AWS object name gives (the start of its five-minute delivery window).
    pub named_at: Option<i64>,
}

/// The accounts, regions and flow logs that keys named: what `--account`, `--log-region`
/// and `--flow-log` could have selected, so that a value naming none of them is an error
/// instead of a run over nothing (or over everything else).
#[derive(Debug, Default, Clone)]
pub struct KeysSeen {
    pub accounts: BTreeSet<String>,
    pub regions: BTreeSet<String>,
    pub flow_logs: BTreeSet<String>,
}

impl KeysSeen {
    pub fn note(&mut self, key: &KeyInfo) {
        for (set, v) in [
            (&mut self.accounts, &key.account),
            (&mut self.regions, &key.region),
            (&mut self.flow_logs, &key.flow_log_id),
        ] {
            if let Some(v) = v {
                set.insert(v.clone());
            }
        }
    }

    pub fn extend(&mut self, other: KeysSeen) {
        self.accounts.extend(other.accounts);
        self.regions.extend(other.regions);
        self.flow_logs.extend(other.flow_logs);
    }
}

/// Parses a key or path (components separated by `/`).
pub fn parse_key(key: &str) -> KeyInfo {
    let parts: Vec<&str> = key.split('/').filter(|p| !p.is_empty()).collect();
    let mut info = KeyInfo::default();
    if let Some(pos) = parts.iter().rposition(|p| *p == "AWSLogs") {
        let rest = &parts[pos + 1..];
        let (date_parts, acct, region) = if rest
            .first()
            .is_some_and(|p| p.starts_with("aws-account-id="))
        {
            let val = |i: usize, k: &str| rest.get(i).and_then(|p| p.strip_prefix(k));
            let acct = val(0, "aws-account-id=").map(str::to_string);
            let region = val(2, "aws-region=").map(str::to_string);
            let mut d = Vec::new();
            for (i, k) in [(3, "year="), (4, "month="), (5, "day="), (6, "hour=")] {
                match val(i, k) {
                    Some(v) => d.push(v),
                    None => break,
                }
            }
            (d, acct, region)
        } else {
            let acct = rest.first().map(|s| s.to_string());
            let region = rest.get(2).map(|s| s.to_string());
            let d: Vec<&str> = rest.iter().skip(3).take(4).copied().collect();
            (d, acct, region)
        };
        info.account = acct;
        info.region = region;
        info.range = partition_range(&date_parts);
    }
    if info.range.is_none() {
        // sageflow's own exports (and other Hive-partitioned copies): year=/month=/day=/hour=.
        let mut d = Vec::new();
        for key in ["year=", "month=", "day=", "hour="] {
            match parts.iter().find_map(|p| p.strip_prefix(key)) {
                Some(v) => d.push(v),
                None => break,
            }
        }
        if !d.is_empty() {
            info.range = partition_range(&d);
        }
    }
    if let Some(name) = parts.last()
        && let Some(o) = parse_object_name(name)
    {
        // A file copied out of its tree still names its account and region.
        info.account.get_or_insert_with(|| o.account.to_string());
        info.region.get_or_insert_with(|| o.region.to_string());
        info.flow_log_id = Some(o.flow_log_id.to_string());
        info.range = Some((o.time - FILE_MARGIN, o.time + 5 * 60 + FILE_MARGIN));
        info.named_at = Some(o.time);
    }
    info
}

/// `[year, month, day, hour]` prefixes of a partition path → the span they cover.
fn partition_range(parts: &[&str]) -> Option<(i64, i64)> {
    let nums: Vec<u32> = parts
        .iter()
        .map_while(|p| {
            (p.len() <= 4 && !p.is_empty())
                .then(|| p.parse::<u32>().ok())
                .flatten()
        })
        .collect();
    let (start, end) = match nums.as_slice() {
        [] => return None,
        [y] => (ymd(*y, 1, 1)?, ymd(*y + 1, 1, 1)?),
        [y, m] => {
            let next = if *m == 12 { (*y + 1, 1) } else { (*y, *m + 1) };
            (ymd(*y, *m, 1)?, ymd(next.0, next.1, 1)?)
        }
        [y, m, d] => {
            let s = ymd(*y, *m, *d)?;
            (s, s + 86_400)
        }
        [y, m, d, h, ..] => {
            if *h > 23 {
                return None;
            }
            let s = ymd(*y, *m, *d)? + i64::from(*h) * 3600;
            (s, s + 3600)
        }
    };
    Some((start - DIR_MARGIN, end + DIR_MARGIN))
}

fn ymd(y: u32, m: u32, d: u32) -> Option<i64> {
    let date = NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

/// What a flow-log object's file name says.
struct ObjectName<'a> {
    account: &'a str,
    region: &'a str,
    flow_log_id: &'a str,
    time: i64,
}

/// `<acct>_vpcflowlogs_<region>_<flow-log-id>_<YYYYMMDDTHHMMZ>_<hash>.<ext>`.
fn parse_object_name(name: &str) -> Option<ObjectName<'_>> {
    let parts: Vec<&str> = name.split('_').collect();
    if parts.len() < 6 || parts[1] != "vpcflowlogs" {
        return None;
    }
    let t = NaiveDateTime::parse_from_str(parts[4], "%Y%m%dT%H%MZ").ok()?;
    Some(ObjectName {
        account: parts[0],
        region: parts[2],
        flow_log_id: parts[3],
        time: t.and_utc().timestamp(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn plain_layout_day_and_hour() {
        let k = parse_key("bucket/pre/fix/AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/20");
        assert_eq!(k.account.as_deref(), Some("123456789012"));
        assert_eq!(k.region.as_deref(), Some("us-east-1"));
        let (lo, hi) = k.range.unwrap();
        assert_eq!(lo, ts("2026-11-20T00:00:00Z") - DIR_MARGIN);
        assert_eq!(hi, ts("2026-11-21T00:00:00Z") + DIR_MARGIN);
        let k = parse_key("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/20/07");
        assert_eq!(k.range.unwrap().0, ts("2026-11-20T07:00:00Z") - DIR_MARGIN);
        let k = parse_key("AWSLogs/123456789012/vpcflowlogs/us-east-1/2026");
        assert_eq!(k.range.unwrap().1, ts("2027-01-01T00:00:00Z") + DIR_MARGIN);
    }

    #[test]
    fn hive_layout() {
        let k = parse_key(
            "x/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2026/month=02/day=28/hour=23",
        );
        assert_eq!(k.account.as_deref(), Some("123456789012"));
        assert_eq!(k.region.as_deref(), Some("eu-west-1"));
        assert_eq!(k.range.unwrap().0, ts("2026-02-28T23:00:00Z") - DIR_MARGIN);
        let k = parse_key(
            "AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/aws-region=r/year=2026/month=12",
        );
        assert_eq!(k.range.unwrap().1, ts("2027-01-01T00:00:00Z") + DIR_MARGIN);
    }

    #[test]
    fn object_name_gives_the_narrowest_range() {
        let k = parse_key(
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
        );
        assert_eq!(k.flow_log_id.as_deref(), Some("fl-1234abcd"));
        let t = ts("2018-06-20T16:20:00Z");
        assert_eq!(k.range, Some((t - FILE_MARGIN, t + 300 + FILE_MARGIN)));
        // Out of its tree, the name alone gives account and region.
        let k = parse_key(
            "copy/123456789012_vpcflowlogs_eu-west-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz",
        );
        assert_eq!(k.account.as_deref(), Some("123456789012"));
        assert_eq!(k.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn export_partitions() {
        let k = parse_key("out/year=2026/month=11/day=20/part-1.parquet");
        assert_eq!(k.range.unwrap().0, ts("2026-11-20T00:00:00Z") - DIR_MARGIN);
        let k = parse_key("out/year=2026/month=11/day=20/hour=07/part-1.parquet");
        assert_eq!(k.range.unwrap().1, ts("2026-11-20T08:00:00Z") + DIR_MARGIN);
    }

    #[test]
    fn unrelated_paths_have_no_range() {
        assert_eq!(parse_key("logs/today/flows.log").range, None);
        assert_eq!(
            parse_key("AWSLogs/123/vpcflowlogs/us-east-1/notadate").range,
            None
        );
    }
}
