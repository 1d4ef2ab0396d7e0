//! The run's scratch folder: `sageflow-<pid>-<random>` in the temporary directory (TMPDIR),
//! holding every temporary file of the run — the scan's spilled batches, the local copies of
//! an S3 export's files, DataFusion's spill files — so that one removal cleans up after
//! the run, whether it ends, fails or is stopped by SIGINT or SIGTERM. A run killed harder
//! (SIGKILL, power loss) leaves its folder behind; the next run removes the folders of
//! processes that are gone.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Error, Result};

const PREFIX: &str = "sageflow-";

static DIR: OnceLock<PathBuf> = OnceLock::new();

/// The run's scratch folder, made (and stale ones swept) on first use.
pub fn dir() -> Result<&'static Path> {
    if let Some(d) = DIR.get() {
        return Ok(d);
    }
    let tmp = std::env::temp_dir();
    sweep(&tmp);
    let made = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .tempdir_in(&tmp)
        .map_err(|e| Error::io(&tmp, e))?
        .keep();
    // Another thread may have made one first: keep theirs.
    if DIR.set(made.clone()).is_err() {
        let _ = std::fs::remove_dir_all(&made);
    }
    Ok(DIR.get().expect("set above"))
}

/// A temporary folder for one job inside the scratch folder, removed when dropped.
pub fn subdir(prefix: &str) -> Result<tempfile::TempDir> {
    let parent = dir()?;
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, e))
}

/// Removes the scratch folder, if one was made: at the end of the run, and on a signal.
pub fn remove() {
    if let Some(d) = DIR.get() {
        let _ = std::fs::remove_dir_all(d);
    }
}

/// Removes the scratch folders of processes that no longer run. Only where `/proc` tells
/// (Linux); elsewhere they stay for the system's own temporary-file cleanup.
fn sweep(tmp: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
        if is_dir && pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            tracing::info!(folder = %e.path().display(), "removing the scratch folder of a run that was killed");
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}
