//! Route 53 Resolver query logs (`--dns`): which name a client in a VPC asked for and which
//! addresses the answer held, so that a flow's remote address can be named.
//!
//! One JSON object per line (NDJSON, gzip or plain), as Resolver query logging delivers to
//! S3 (`AWSLogs/<account>/vpcdnsquerylogs/<vpc-id>/YYYY/MM/DD/…`) or local copies of it,
//! or one per event in a CloudWatch Logs group (`cwlogs://group`). The
//! fields follow the Amazon Route 53 Developer Guide, "Values that appear in VPC Resolver
//! query logs": `version` (`1.100000`), `vpc_id`, `query_timestamp` (ISO 8601 UTC),
//! `query_name` (with its trailing dot), `query_type`, `rcode`, `answers` (`Rdata`, `Type`,
//! `Class`; a CNAME chain, then the A/AAAA records; none for NXDOMAIN), `srcaddr`,
//! `srcport` (a string), and firewall fields when a DNS Firewall rule matched (a `BLOCK`ed
//! query's answer is the firewall's, not the name's: it names nothing). Unknown keys
//! are ignored. A line that is not such an object is rejected and counted, naming its file
//! and line, as flow records are.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use crate::decode::TimeWindow;
use crate::error::{Error, Result};

/// One address an answer gave: `name` (the name the client asked for, without the trailing
/// dot) resolved to `addr` for `client` in `vpc` at `time` (Unix seconds).
#[derive(Debug, Clone)]
pub struct DnsAnswer {
    pub vpc: Arc<str>,
    pub client: IpAddr,
    pub name: Arc<str>,
    pub addr: IpAddr,
    pub time: i64,
    /// Where the query was logged: the file, object or stream (shared by its answers),
    /// and the line or event number in it.
    pub source: Arc<str>,
    pub line: u32,
}

/// What the DNS sources held.
#[derive(Debug, Default)]
pub struct DnsLog {
    pub answers: Vec<DnsAnswer>,
    pub files: usize,
    pub lines: u64,
    /// Queries with no address in their answer (NXDOMAIN, or only a CNAME).
    pub unanswered: u64,
    /// Queries a DNS Firewall rule blocked (`firewall_rule_action` BLOCK).
    pub blocked: u64,
    /// Queries outside the time window (and its margin): not kept.
    pub outside_window: u64,
    pub rejected: u64,
    /// The first rejects, as `file:line: reason`.
    pub reject_samples: Vec<String>,
    /// Each VPC id once, shared by its answers.
    vpcs: std::collections::HashMap<String, Arc<str>>,
}

/// Answers this long before `--since` are kept: a workload resolves a name once and uses
/// the address for as long as its connections and caches last.
pub const MARGIN_SECS: i64 = 3600;
const SAMPLES: usize = 5;

/// Reads every `--dns` source (a local file or folder, `s3://bucket/prefix`,
/// `cwlogs://group`) over `window` and its margin: on the coordinator, and on each worker
/// of a distributed run.
pub async fn read_all(
    paths: &[String],
    window: &TimeWindow,
    aws: &crate::aws::AwsOptions,
) -> Result<DnsLog> {
    let mut log = DnsLog::default();
    let sdk = crate::aws::OnDemand::new(aws);
    for p in paths {
        if p.starts_with("cwlogs://") {
            let client = aws_sdk_cloudwatchlogs::Client::new(sdk.get().await?);
            log.add_cwlogs(&client, p, window).await?;
        } else if p.starts_with("s3://") {
            let client = crate::aws::s3_client(sdk.get().await?, aws);
            log.add_s3(&client, p, window).await?;
        } else {
            log.add_path(Path::new(p), window)?;
        }
    }
    Ok(log)
}

impl DnsLog {
    /// Reads one file's bytes (gzip or plain), named `name`.
    pub fn add_file(&mut self, name: &str, bytes: &[u8], window: &TimeWindow) -> Result<()> {
        let bytes = super::compression::inflated(bytes)
            .map_err(|e| Error::source(name, format!("not a whole gzip file: {e}")))?;
        self.files += 1;
        let source: Arc<str> = Arc::from(name);
        for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
            self.add_line(&source, i + 1, line, window);
        }
        Ok(())
    }

    /// One query-log line (`line_no` is its number in `name`, or the event's in a stream).
    fn add_line(&mut self, name: &Arc<str>, line_no: usize, line: &[u8], window: &TimeWindow) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        self.lines += 1;
        let at = (name, u32::try_from(line_no).unwrap_or(u32::MAX));
        match parse(line, window, &mut self.vpcs, at) {
            Ok(Parsed::Answers(a)) if a.is_empty() => self.unanswered += 1,
            Ok(Parsed::Answers(a)) => self.answers.extend(a),
            Ok(Parsed::Outside) => self.outside_window += 1,
            Ok(Parsed::Blocked) => self.blocked += 1,
            Err(why) => {
                self.rejected += 1;
                if self.reject_samples.len() < SAMPLES {
                    self.reject_samples.push(format!("{name}:{line_no}: {why}"));
                }
            }
        }
    }

    /// Reads every stream of `cwlogs://group[?stream-prefix=…]` (Resolver query logging to
    /// CloudWatch Logs: one event per query), the events of the window and its margin.
    pub async fn add_cwlogs(
        &mut self,
        client: &aws_sdk_cloudwatchlogs::Client,
        url: &str,
        window: &TimeWindow,
    ) -> Result<()> {
        let wide = TimeWindow {
            since: window.since.map(|s| s - MARGIN_SECS),
            until: window.until,
        };
        let streams = super::cloudwatch::each_message(client, url, &wide, |name, n, message| {
            self.add_line(name, n as usize, message.as_bytes(), window);
            Ok(())
        })
        .await?;
        self.files += streams;
        Ok(())
    }

    /// Reads a local file or directory (recursively; every file).
    pub fn add_path(&mut self, path: &Path, window: &TimeWindow) -> Result<()> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            for p in crate::store::sorted_entries(path)? {
                let hidden = p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'));
                if !hidden {
                    self.add_path(&p, window)?;
                }
            }
            return Ok(());
        }
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        self.add_file(&path.display().to_string(), &bytes, window)
    }

    /// Reads every object under `s3://bucket/prefix`.
    pub async fn add_s3(
        &mut self,
        client: &aws_sdk_s3::Client,
        url: &str,
        window: &TimeWindow,
    ) -> Result<()> {
        let (bucket, keys) = super::s3::list_keys(client, url).await?;
        for key in keys {
            let body = super::s3::get_whole(client, &bucket, &key).await?;
            self.add_file(&format!("s3://{bucket}/{key}"), &body, window)?;
        }
        Ok(())
    }
}

enum Parsed {
    Answers(Vec<DnsAnswer>),
    Outside,
    Blocked,
}

/// The answers of one line, logged at `at` (source, line number).
fn parse(
    line: &[u8],
    window: &TimeWindow,
    vpcs: &mut std::collections::HashMap<String, Arc<str>>,
    at: (&Arc<str>, u32),
) -> std::result::Result<Parsed, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("not JSON: {e}"))?;
    let o = v.as_object().ok_or("not a JSON object")?;
    let text = |k: &str| -> std::result::Result<&str, String> {
        match o.get(k) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::String(_)) | None | Some(Value::Null) => Err(format!("no {k}")),
            Some(_) => Err(format!("{k} is not a string")),
        }
    };
    let vpc = text("vpc_id")?;
    let ts = text("query_timestamp")?;
    let time = chrono::DateTime::parse_from_rfc3339(ts)
        .map_err(|e| format!("query_timestamp {ts:?}: {e}"))?
        .timestamp();
    let name = text("query_name")?;
    let client: IpAddr = text("srcaddr")?
        .parse()
        .map_err(|_| format!("srcaddr {:?} is not an IP address", o["srcaddr"]))?;
    let answers = match o.get("answers") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err("answers is not a list".into()),
    };
    if window.since.is_some_and(|s| time < s - MARGIN_SECS)
        || window.until.is_some_and(|u| time > u)
    {
        return Ok(Parsed::Outside);
    }
    if o.get("firewall_rule_action").and_then(Value::as_str) == Some("BLOCK") {
        return Ok(Parsed::Blocked);
    }
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    let vpc = match vpcs.get(vpc) {
        Some(v) => v.clone(),
        None => {
            let v: Arc<str> = Arc::from(vpc);
            vpcs.insert(vpc.to_string(), v.clone());
            v
        }
    };
    let name: Arc<str> = Arc::from(name);
    let mut out = Vec::new();
    for a in answers {
        let a = a.as_object().ok_or("an answer is not an object")?;
        let kind = a.get("Type").and_then(Value::as_str).unwrap_or("");
        if kind != "A" && kind != "AAAA" {
            continue;
        }
        let data = a
            .get("Rdata")
            .and_then(Value::as_str)
            .ok_or("an A/AAAA answer has no Rdata")?;
        let addr: IpAddr = data
            .parse()
            .map_err(|_| format!("answer Rdata {data:?} is not an IP address"))?;
        out.push(DnsAnswer {
            vpc: vpc.clone(),
            client,
            name: name.clone(),
            addr,
            time,
            source: at.0.clone(),
            line: at.1,
        });
    }
    Ok(Parsed::Answers(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of the Route 53 Developer Guide's example entry ("Values that appear in
    /// VPC Resolver query logs"), with this test's names and addresses.
    const LINES: &str = r#"{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a","query_timestamp":"2026-11-20T10:00:00Z","query_name":"api.sagemaker.us-east-1.amazonaws.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"api.sagemaker.us-east-1.amazonaws.com.cell-1.","Type":"CNAME","Class":"IN"},{"Rdata":"52.94.1.1","Type":"A","Class":"IN"}],"srcaddr":"10.20.1.10","srcport":"53210","transport":"UDP","srcids":{"instance":"i-0d15cd0d3EXAMPLE"},"some_future_key":1}
{"version":"1.100000","vpc_id":"vpc-0a","query_timestamp":"2026-11-20T10:00:01Z","query_name":"nothere.example.com.","query_type":"A","query_class":"IN","rcode":"NXDOMAIN","answers":[],"srcaddr":"10.20.1.10","srcport":"53211","transport":"UDP"}
not json

{"version":"1.100000","vpc_id":"vpc-0a","query_timestamp":"yesterday","query_name":"x.","srcaddr":"10.20.1.10","answers":[]}
"#;

    #[test]
    fn answers_nxdomain_and_rejects() {
        let mut log = DnsLog::default();
        log.add_file("q.log", LINES.as_bytes(), &TimeWindow::default())
            .unwrap();
        assert_eq!(log.lines, 4);
        assert_eq!(log.unanswered, 1);
        assert_eq!(log.rejected, 2);
        assert!(
            log.reject_samples[0].starts_with("q.log:3: not JSON"),
            "{:?}",
            log.reject_samples
        );
        assert!(
            log.reject_samples[1].starts_with("q.log:5: query_timestamp"),
            "{:?}",
            log.reject_samples
        );
        let [a] = log.answers.as_slice() else {
            panic!("{:?}", log.answers)
        };
        assert_eq!(&*a.name, "api.sagemaker.us-east-1.amazonaws.com");
        assert_eq!(a.addr, "52.94.1.1".parse::<IpAddr>().unwrap());
        assert_eq!(a.time, 1_795_168_800);
        assert_eq!((&*a.source, a.line), ("q.log", 1));
    }

    /// DNS Firewall's fields: an ALERT is an ordinary answer; a BLOCK that overrode the
    /// answer with its own CNAME names nothing (the address is the firewall's choice).
    #[test]
    fn firewall_alerts_name_and_blocks_do_not() {
        let lines = r#"{"version":"1.100000","vpc_id":"vpc-0a","query_timestamp":"2026-11-20T10:00:00Z","query_name":"pypi.org.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"151.101.0.223","Type":"A","Class":"IN"}],"srcaddr":"10.20.1.10","srcport":"53210","transport":"UDP","firewall_rule_action":"ALERT","firewall_rule_group_id":"rslvr-frg-0a1b2c3d4e5f6789","firewall_domain_list_id":"rslvr-fdl-0a1b2c3d4e5f6789"}
{"version":"1.100000","vpc_id":"vpc-0a","query_timestamp":"2026-11-20T10:00:01Z","query_name":"exfil.example.com.","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"blocked.internal.","Type":"CNAME","Class":"IN"},{"Rdata":"10.20.9.9","Type":"A","Class":"IN"}],"srcaddr":"10.20.1.10","srcport":"53211","transport":"UDP","firewall_rule_action":"BLOCK","firewall_rule_group_id":"rslvr-frg-0a1b2c3d4e5f6789","firewall_domain_list_id":"rslvr-fdl-0b1b2c3d4e5f6789"}
"#;
        let mut log = DnsLog::default();
        log.add_file("fw.log", lines.as_bytes(), &TimeWindow::default())
            .unwrap();
        assert_eq!((log.lines, log.rejected, log.blocked), (2, 0, 1));
        let names: Vec<&str> = log.answers.iter().map(|a| &*a.name).collect();
        assert_eq!(names, ["pypi.org"]);
    }
}
