//! Where flow logs come from. A source argument is a file, a directory (read
//! recursively) or a glob. Objects whose key layout puts them outside the time window are
//! skipped without being opened.

pub mod cloudwatch;
pub mod committed;
pub mod compression;
pub mod dns;
pub mod layout;
pub mod ledger;
pub mod parquet;
pub mod read;
pub mod s3;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::error::{Error, Result};

pub use layout::{KeyInfo, KeysSeen, parse_key};

/// One object (file) to read.
#[derive(Debug, Clone)]
pub struct SourceObject {
    pub path: PathBuf,
    /// How errors and rejects name it.
    pub name: String,
    pub size: u64,
    pub key: KeyInfo,
    /// Set for objects in S3; `path` then holds the `s3://` URL.
    pub s3: Option<s3::S3Location>,
    /// Set for CloudWatch Logs streams; `path` then holds `cwlogs://group/stream`.
    pub cw: Option<cloudwatch::CwLocation>,
    /// A local file's modification time when it was listed (nanoseconds since 1970): with
    /// `size`, the stamp `--state` and the export manifest record. A file is read no
    /// further than the `size` it was listed with, so records appended while it is read
    /// are left for the next run, which sees a new stamp.
    pub mtime_ns: Option<i64>,
    /// A local text file that grew since an earlier run read it: only what follows is read.
    pub resume: Option<Resume>,
    /// A local file of an incremental run (`--state`, export): a last line without a line
    /// end in a file changed within [`OPEN_LINE_SECS`] is still being written, and is left
    /// to the next run, which reads it whole (or as it is, once the file stopped changing).
    pub hold_open_line: bool,
    /// How much of a local file the read took, set by the reader (clones share it): what
    /// `--state` and the export manifest record to tell an appended file from a rewritten one.
    pub read: Arc<OnceLock<ReadMark>>,
}

/// Where to take up a local text file an earlier run read part of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    /// Byte offset of the first line not read.
    pub from: u64,
    /// Lines before it, so that `source_line` and errors still give the file's line numbers.
    pub lines: u64,
    /// The header line in force at `from` (the file's columns), if any.
    pub header: Option<String>,
}

/// What reading a local file covered, and samples of its content to recognise it by.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReadMark {
    /// Bytes read from the start (whole lines of a file that was growing).
    pub read_to: u64,
    /// Lines in those bytes (text files; 0 otherwise).
    pub lines: u64,
    /// The last header line among them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// SHA-256 of the first and of the last 4 KiB of those bytes.
    pub head: String,
    pub tail: String,
    /// Where its last line began, when that line had no line end and was read as it was
    /// (a file that had stopped changing): if the file then grows, the line was cut short,
    /// and is read again whole from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_from: Option<u64>,
}

/// How recently a local text file must have changed for a last line without a line end to
/// be taken as one being written ([`SourceObject::hold_open_line`]). A writer ends the line
/// within moments; a file that stopped without one is read as it is by a later run.
pub const OPEN_LINE_SECS: i64 = 300;

/// How many bytes at each end of what was read identify a local file's content.
pub const SAMPLE_BYTES: u64 = 4096;

/// The SHA-256 samples of `file`'s bytes `[0, end)`: (first 4 KiB, last 4 KiB).
pub fn content_samples(file: &std::fs::File, end: u64) -> std::io::Result<(String, String)> {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::FileExt;
    let hash = |from: u64, to: u64| -> std::io::Result<String> {
        let mut buf = vec![0u8; (to - from) as usize];
        file.read_exact_at(&mut buf, from)?;
        Ok(format!("{:x}", Sha256::digest(&buf)))
    };
    Ok((
        hash(0, end.min(SAMPLE_BYTES))?,
        hash(end.saturating_sub(SAMPLE_BYTES), end)?,
    ))
}

impl SourceObject {
    /// What makes two objects the same: the canonical path of a local file (so `logs/x` and
    /// `/home/me/logs/x` are one file), else the URL.
    pub fn identity(&self) -> String {
        if self.s3.is_none()
            && self.cw.is_none()
            && let Ok(p) = std::fs::canonicalize(&self.path)
        {
            return p.display().to_string();
        }
        self.path.display().to_string()
    }

    /// A file on local disk (or bytes standing for one), named by its path.
    pub fn local(path: &Path, size: u64, key: KeyInfo) -> Self {
        SourceObject {
            path: path.to_path_buf(),
            name: path.display().to_string(),
            size,
            key,
            s3: None,
            cw: None,
            mtime_ns: None,
            resume: None,
            hold_open_line: false,
            read: Default::default(),
        }
    }

    /// With the modification time of `meta`, taken with its size when the file was listed.
    pub fn listed_at(mut self, meta: &std::fs::Metadata) -> Self {
        self.mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_nanos()).ok());
        self
    }
}

/// Clients and runtime for remote sources, shared by every partition of a scan.
#[derive(Debug, Clone)]
pub struct Remote {
    pub s3: Option<aws_sdk_s3::Client>,
    pub logs: Option<aws_sdk_cloudwatchlogs::Client>,
    pub handle: tokio::runtime::Handle,
    /// What was read from CloudWatch streams, for `scan --state`.
    pub ledger: ledger::CwLedger,
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub objects: Vec<SourceObject>,
    /// Files and directories skipped because their key lies outside the window.
    pub pruned: u64,
    /// Files in walked directories that are not flow logs by name (README, JSON, …).
    pub ignored: Vec<PathBuf>,
    /// What the keys named, for [`Discovery::check_selection`].
    pub seen: KeysSeen,
    /// Objects not read because they are copies of another by their AWS file name, with
    /// the one read.
    pub copies: Vec<(String, String)>,
}

impl Discovery {
    /// An `--account`, `--log-region` or `--flow-log` value that names nothing the sources
    /// hold is a mistake (a typo, another bucket): an error listing what they do hold, not
    /// a run that reads nothing of it.
    pub fn check_selection(&self, filter: &s3::ListFilter) -> Result<()> {
        let checks = [
            (
                "--account",
                &filter.accounts,
                &self.seen.accounts,
                "account",
            ),
            (
                "--log-region",
                &filter.regions,
                &self.seen.regions,
                "region",
            ),
            (
                "--flow-log",
                &filter.flow_logs,
                &self.seen.flow_logs,
                "flow log",
            ),
        ];
        for (flag, wanted, seen, what) in checks {
            let missing: Vec<&str> = wanted
                .iter()
                .filter(|v| !seen.contains(*v))
                .map(String::as_str)
                .collect();
            if missing.is_empty() {
                continue;
            }
            let held = if seen.is_empty() {
                format!(
                    "no source object's key names a {what}: {flag} selects by the S3 layout AWS delivers flow logs in (AWSLogs/<account>/vpcflowlogs/<region>/… and file names <account>_vpcflowlogs_<region>_<flow-log-id>_…), which CloudWatch Logs streams and renamed files do not have"
                )
            } else {
                let list: Vec<&str> = seen.iter().map(String::as_str).collect();
                let shown = list.len().min(10);
                format!(
                    "the sources{} hold {}{}",
                    if filter.window.since.is_some() || filter.window.until.is_some() {
                        " (in the --since/--until window)"
                    } else {
                        ""
                    },
                    list[..shown].join(", "),
                    if list.len() > shown {
                        format!(" and {} more", list.len() - shown)
                    } else {
                        String::new()
                    }
                )
            };
            return Err(Error::Usage(format!(
                "{flag} {}: no flow-log object of that {what} is in the sources; {held}",
                missing.join(", ")
            )));
        }
        Ok(())
    }
}

/// Expands source arguments into objects, pruning by the filter's window. `s3://` sources
/// are listed with `s3`, which the caller must provide when there are any.
pub async fn discover(
    args: &[String],
    filter: &s3::ListFilter,
    remote: Option<&Remote>,
) -> Result<Discovery> {
    let s3 = remote.and_then(|r| r.s3.as_ref());
    let logs = remote.and_then(|r| r.logs.as_ref());
    let window = &filter.window;
    let mut d = Discovery::default();
    for arg in args {
        if arg.starts_with("s3://") {
            let client = s3.ok_or_else(|| Error::source(arg, "no S3 client was configured"))?;
            let listing = s3::list(client, arg, filter).await?;
            for p in &listing.prefixes {
                tracing::debug!(prefix = %p, "listed");
            }
            d.pruned += listing.pruned;
            d.seen.extend(listing.seen);
            d.objects.extend(listing.objects);
            continue;
        }
        if arg.starts_with("cwlogs://") {
            let client =
                logs.ok_or_else(|| Error::source(arg, "no CloudWatch Logs client was configured"))?;
            let (streams, pruned) =
                cloudwatch::list(client, arg, window, filter.delivered_since).await?;
            if streams.is_empty() && pruned == 0 {
                return Err(Error::source(arg, "the log group has no log stream"));
            }
            d.pruned += pruned;
            d.objects.extend(streams);
            continue;
        }
        if arg.contains(['*', '?', '[']) {
            let paths = glob::glob(arg)
                .map_err(|e| Error::source(arg, format!("bad glob pattern: {e}")))?;
            let mut any = false;
            for p in paths {
                let p = p.map_err(|e| Error::source(arg, e.to_string()))?;
                any = true;
                add_path(&p, true, filter, &mut d)?;
            }
            if !any {
                return Err(Error::source(arg, "the glob matches no file"));
            }
        } else {
            let p = Path::new(arg);
            if !p.exists() {
                return Err(Error::source(arg, "no such file or directory"));
            }
            add_path(p, true, filter, &mut d)?;
        }
    }
    // Inside a sageflow export, only what its manifest commits is read.
    committed::filter_local(&mut d.objects)?.warn();
    if let Some(client) = s3 {
        committed::filter_s3(client, &mut d.objects).await?.warn();
    }
    d.objects.sort_by(|a, b| a.path.cmp(&b.path));
    // The same file named twice (relative and absolute, or through a link) is read once.
    let mut seen = std::collections::HashSet::new();
    d.objects.retain(|o| seen.insert(o.identity()));
    // So is one AWS delivery found in two places (a bucket and a local copy of it, or two
    // copies): its file name is unique to it (flow log, time and a random suffix).
    // (A CloudWatch stream is named for its ENI in every group: never a copy.)
    let mut names = std::collections::HashMap::new();
    d.objects.retain(|o| {
        let aws_name = o.cw.is_none() && o.key.flow_log_id.is_some();
        let Some(name) = o.path.file_name().filter(|_| aws_name) else {
            return true;
        };
        match names.entry(name.to_os_string()) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(o.name.clone());
                true
            }
            std::collections::hash_map::Entry::Occupied(first) => {
                d.copies.push((o.name.clone(), first.get().clone()));
                false
            }
        }
    });
    Ok(d)
}

/// `url` without its `scheme` (`(article, scheme)`, for the error), split at the first
/// `sep` into what it names and the rest; an error naming the URL when it is of another
/// scheme or names nothing (`names_nothing` says so).
fn url_parts<'u>(
    url: &'u str,
    (article, scheme): (&str, &str),
    sep: char,
    names_nothing: &str,
) -> Result<(&'u str, &'u str)> {
    let rest = url
        .strip_prefix(scheme)
        .ok_or_else(|| Error::source(url, format!("not {article} {scheme} URL")))?;
    let (name, rest) = rest.split_once(sep).unwrap_or((rest, ""));
    if name.is_empty() {
        return Err(Error::source(url, names_nothing));
    }
    Ok((name, rest))
}

fn add_path(p: &Path, explicit: bool, filter: &s3::ListFilter, d: &mut Discovery) -> Result<()> {
    let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
    let key = parse_key(&p.to_string_lossy());
    d.seen.note(&key);
    let wanted = |(lo, hi): (i64, i64)| {
        if meta.is_dir() {
            // A day's or hour's folder can receive a late delivery for a day after (as
            // S3 listings allow, `s3::days`): an incremental run walks those of the days
            // since its deliveries are new, and their files' times then say.
            let from = filter.delivered_since.map(|t| t - 24 * 3600);
            filter.window.overlaps_range(lo, hi)
                || from
                    .is_some_and(|from| hi >= from && filter.window.until.is_none_or(|u| lo <= u))
        } else {
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_secs() as i64);
            filter.wants((lo, hi), mtime)
        }
    };
    if let Some(range) = key.range
        && !wanted(range)
    {
        d.pruned += 1;
        return Ok(());
    }
    // A local copy of the S3 layout (`aws s3 sync`) selects like the bucket does.
    if !filter.selects(&key) {
        return Ok(());
    }
    if meta.is_dir() {
        // `_…` and `.…` folders hold metadata and staging (sageflow's `_sageflow`, Spark's
        // `_temporary`), never data.
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with(['_', '.']));
        if !explicit && hidden {
            return Ok(());
        }
        for e in crate::store::sorted_entries(p)? {
            add_path(&e, false, filter, d)?;
        }
    } else if meta.is_file() {
        if !explicit && !looks_like_flow_log(p) {
            d.ignored.push(p.to_path_buf());
            return Ok(());
        }
        d.objects
            .push(SourceObject::local(p, meta.len(), key).listed_at(&meta));
    }
    Ok(())
}

/// In a directory walk, which files are read. Files named on the command line are always
/// read; inside directories, documentation, scripts, inventory JSON, and the logs other AWS
/// services deliver next to flow logs (Resolver query logs, CloudTrail: `--dns` and
/// `--inventory` read those) are passed over.
pub(crate) fn looks_like_flow_log(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.starts_with('.') {
        return false;
    }
    if name.contains("vpcflowlogs") {
        return true;
    }
    let other_service = ["_vpcdnsquerylogs_", "_cloudtrail_", "_cloudtrail-digest_"]
        .iter()
        .any(|s| name.contains(s));
    if other_service || name.ends_with(".json") || name.ends_with(".json.gz") {
        return false;
    }
    [".log", ".log.gz", ".gz", ".parquet", ".txt", ".log.parquet"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::looks_like_flow_log;
    use std::path::Path;

    #[test]
    fn a_directory_walk_reads_flow_logs_and_passes_over_other_services_logs() {
        for read in [
            "AWSLogs/1/vpcflowlogs/us-east-1/2026/11/20/1_vpcflowlogs_us-east-1_fl-1_20261120T1000Z_ab.log.gz",
            "x/flows.log",
            "x/part-0.parquet",
        ] {
            assert!(looks_like_flow_log(Path::new(read)), "{read}");
        }
        for skipped in [
            "AWSLogs/1/vpcdnsquerylogs/vpc-1/2026/11/20/1_vpcdnsquerylogs_us-east-1_20261120T1000Z_ab.log.gz",
            "AWSLogs/1/CloudTrail/us-east-1/2026/11/20/1_CloudTrail_us-east-1_20261120T1145Z_ab.json.gz",
            "AWSLogs/1/CloudTrail-Digest/us-east-1/2026/11/20/1_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T120000Z.json.gz",
            "inventory/describe-network-interfaces.json",
            "README.md",
            ".hidden.log",
        ] {
            assert!(!looks_like_flow_log(Path::new(skipped)), "{skipped}");
        }
    }
}
