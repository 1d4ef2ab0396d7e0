//! One export at a time per output. Two runs to the same `--out` would both export
//! everything (rows twice), or one would delete the other's staging.
//!
//! Locally the lock is an OS file lock on `_sageflow/lock`: it ends with the process, so a
//! killed run leaves no stale lock. On S3 it is the object `_sageflow/lock.json`, created
//! only if absent (`PutObject` with `If-None-Match: *`) and deleted when the run ends; it
//! names its holder (user, host, process, start time). A run killed on S3 leaves it behind:
//! the next run on the same host takes it over when that process no longer runs; from
//! another host the run fails naming the holder, and `--break-lock`, once the holder is
//! known to be gone, takes it over.

use std::io::{Read, Seek, Write};

use serde::{Deserialize, Serialize};

use super::Store;
use crate::error::{Error, Result};

const LOCAL: &str = "_sageflow/lock";
const REMOTE: &str = "_sageflow/lock.json";

/// Who holds a lock.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Holder {
    pub user: String,
    pub host: String,
    pub pid: u32,
    /// RFC 3339, UTC.
    pub started: String,
}

/// This machine's name as a lock names its holder's: `HOSTNAME`, else `/etc/hostname`.
pub fn this_host() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "an unknown host".into())
}

impl Holder {
    fn me() -> Holder {
        Holder {
            user: std::env::var("USER").unwrap_or_else(|_| "?".into()),
            host: this_host(),
            pid: std::process::id(),
            started: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }

    /// Whether its process still runs on this host (unknown, so yes, without `/proc`).
    fn running_here(&self) -> bool {
        !std::path::Path::new("/proc/self").exists()
            || std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
    }

    fn describe(&self) -> String {
        format!(
            "process {} of {} on {}, started {}",
            self.pid, self.user, self.host, self.started
        )
    }
}

/// Held until dropped (locally) or [`Lock::release`]d (S3).
pub struct Lock {
    _file: Option<std::fs::File>,
    remote: bool,
}

impl Lock {
    /// Takes the output's lock, or fails (exit 2) naming its holder. `break_lock` takes
    /// over an S3 lock left by a run that is gone.
    pub async fn take(store: &Store, break_lock: bool) -> Result<Lock> {
        let me = Holder::me();
        let text = serde_json::to_vec_pretty(&me).expect("holder serialises");
        match store {
            Store::Local(root) => {
                let path = crate::store::local_path(root, LOCAL)?;
                if let Some(d) = path.parent() {
                    std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
                }
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                }
                let mut file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(|e| Error::io(&path, e))?;
                match file.try_lock() {
                    Ok(()) => {}
                    Err(std::fs::TryLockError::WouldBlock) => {
                        let mut held = String::new();
                        let _ = file.read_to_string(&mut held);
                        return Err(locked(&store.describe(LOCAL), &held, false));
                    }
                    Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
                }
                let io = |e| Error::io(&path, e);
                file.set_len(0).map_err(io)?;
                file.rewind().map_err(io)?;
                file.write_all(&text).map_err(io)?;
                file.flush().map_err(io)?;
                Ok(Lock {
                    _file: Some(file),
                    remote: false,
                })
            }
            Store::S3 {
                client,
                bucket,
                prefix,
            } => {
                // Created only if absent, so that of two runs exactly one wins: 412 says
                // it exists, 409 that a concurrent conditional write won.
                let created = match client
                    .put_object()
                    .bucket(bucket)
                    .key(format!("{prefix}{REMOTE}"))
                    .if_none_match("*")
                    .body(text.clone().into())
                    .send()
                    .await
                {
                    Ok(_) => true,
                    Err(e)
                        if e.raw_response()
                            .is_some_and(|r| matches!(r.status().as_u16(), 409 | 412)) =>
                    {
                        false
                    }
                    Err(e) => return Err(store.s3_err("PutObject", REMOTE, e)),
                };
                if !created {
                    let held = store.read(REMOTE).await?.unwrap_or_default();
                    let held = String::from_utf8_lossy(&held).into_owned();
                    let gone = serde_json::from_str::<Holder>(&held)
                        .is_ok_and(|h| h.host == me.host && !h.running_here());
                    if !break_lock && !gone {
                        return Err(locked(&store.describe(REMOTE), &held, true));
                    }
                    let why = if gone {
                        "its holder, on this host, is no longer running"
                    } else {
                        "--break-lock"
                    };
                    tracing::warn!(lock = %store.describe(REMOTE), holder = %held.trim(), "taking over the export lock: {why}");
                    store.write(REMOTE, &text).await?;
                }
                Ok(Lock {
                    _file: None,
                    remote: true,
                })
            }
        }
    }

    /// Gives the lock up (the local one also ends with the process).
    pub async fn release(self, store: &Store) -> Result<()> {
        if self.remote {
            store.delete(REMOTE).await?;
        }
        Ok(())
    }
}

fn locked(what: &str, held: &str, remote: bool) -> Error {
    let holder = serde_json::from_str::<Holder>(held)
        .map(|h| h.describe())
        .unwrap_or_else(|_| "another export".into());
    Error::config(
        format!("another export to this output is running: {holder} holds {what}"),
        if remote {
            "wait for it to finish; if it was killed (the lock outlives a killed run on S3), run again with --break-lock"
        } else {
            "wait for it to finish: the lock ends with that process"
        },
    )
}
