//! Where flow logs come from. A source argument is a file, a directory (read
//! recursively) or a glob. Objects whose key layout puts them outside the time window are
//! skipped without being opened.

pub mod layout;
pub mod local;

use std::path::{Path, PathBuf};

use crate::decode::TimeWindow;
use crate::error::{Error, Result};

pub use layout::{KeyInfo, parse_key};

/// One object (file) to read.
#[derive(Debug, Clone)]
pub struct SourceObject {
    pub path: PathBuf,
    /// How errors and rejects name it.
    pub name: String,
    pub size: u64,
    pub key: KeyInfo,
}

/// What discovery found.
#[derive(Debug, Default)]
pub struct Discovery {
    pub objects: Vec<SourceObject>,
    /// Files and directories skipped because their key lies outside the window.
    pub pruned: u64,
    /// Files in walked directories that are not flow logs by name (README, JSON, …).
    pub ignored: Vec<PathBuf>,
}

/// Expands source arguments into objects, pruning by `window`.
pub fn discover(args: &[String], window: &TimeWindow) -> Result<Discovery> {
    let mut d = Discovery::default();
    for arg in args {
        if arg.starts_with("s3://") || arg.starts_with("cwlogs://") {
            return Err(Error::source(
                arg,
                "S3 and CloudWatch Logs sources are not available in this build yet",
            ));
        }
        if arg.contains(['*', '?', '[']) {
            let paths = glob::glob(arg)
                .map_err(|e| Error::source(arg, format!("bad glob pattern: {e}")))?;
            let mut any = false;
            for p in paths {
                let p = p.map_err(|e| Error::source(arg, e.to_string()))?;
                any = true;
                add_path(&p, true, window, &mut d)?;
            }
            if !any {
                return Err(Error::source(arg, "the glob matches no file"));
            }
        } else {
            let p = Path::new(arg);
            if !p.exists() {
                return Err(Error::source(arg, "no such file or directory"));
            }
            add_path(p, true, window, &mut d)?;
        }
    }
    d.objects.sort_by(|a, b| a.path.cmp(&b.path));
    d.objects.dedup_by(|a, b| a.path == b.path);
    Ok(d)
}

fn add_path(p: &Path, explicit: bool, window: &TimeWindow, d: &mut Discovery) -> Result<()> {
    let meta = std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
    let key = parse_key(&p.to_string_lossy());
    if let Some((lo, hi)) = key.range
        && !window.overlaps_range(lo, hi)
    {
        d.pruned += 1;
        return Ok(());
    }
    if meta.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| Error::io(p, e))?
            .map(|e| e.map(|e| e.path()).map_err(|e| Error::io(p, e)))
            .collect::<Result<_>>()?;
        entries.sort();
        for e in entries {
            add_path(&e, false, window, d)?;
        }
    } else if meta.is_file() {
        if !explicit && !looks_like_flow_log(p) {
            d.ignored.push(p.to_path_buf());
            return Ok(());
        }
        d.objects.push(SourceObject {
            path: p.to_path_buf(),
            name: p.display().to_string(),
            size: meta.len(),
            key,
        });
    }
    Ok(())
}

/// In a directory walk, which files are read. Files named on the command line are always
/// read; inside directories, documentation, scripts and inventory JSON are passed over.
fn looks_like_flow_log(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.starts_with('.') {
        return false;
    }
    name.contains("vpcflowlogs")
        || [".log", ".log.gz", ".gz", ".parquet", ".txt", ".log.parquet"]
            .iter()
            .any(|ext| name.ends_with(ext))
}
