//! Where sageflow keeps what it writes (an export, a `--state` file): a local directory or
//! an S3 prefix, behind the few operations the export's commit protocol needs (put a
//! finished file, move it, read and write small JSON documents, list and delete). Local
//! writes never follow a symbolic link and reach the disk before they are published.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::aws::error_text;
use crate::error::{Error, Result};

/// Local documents written by this process, for the `publish` failpoint (a crash between
/// a document's temporary file and its rename).
static WRITES: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Clone)]
pub enum Store {
    Local(PathBuf),
    S3 {
        client: aws_sdk_s3::Client,
        bucket: String,
        /// Key prefix, empty or ending in `/`.
        prefix: String,
    },
}

impl Store {
    pub fn describe(&self, rel: &str) -> String {
        match self {
            Store::Local(root) => root.join(rel).display().to_string(),
            Store::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}{rel}"),
        }
    }

    /// The S3 key of `rel` (under the store's prefix).
    fn key(&self, rel: &str) -> String {
        match self {
            Store::Local(_) => rel.to_string(),
            Store::S3 { prefix, .. } => format!("{prefix}{rel}"),
        }
    }

    /// The location other engines read (`LOCATION` in DDL).
    pub fn root(&self) -> String {
        match self {
            Store::Local(root) => {
                let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.clone());
                abs.display().to_string()
            }
            Store::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        }
    }

    pub(crate) fn s3_err<E>(&self, op: &str, rel: &str, e: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        Error::source(
            self.describe(rel),
            format!("S3 {op} failed: {}", error_text(&e)),
        )
    }

    /// Refuses an output whose control folders (`_sageflow/`, its `staging/`, `runs/`,
    /// `tables/`) are symbolic links, before anything is read, written or deleted there.
    pub fn check_links(&self) -> Result<()> {
        if let Store::Local(root) = self {
            for probe in [
                "_sageflow/staging/x",
                "_sageflow/runs/x",
                "_sageflow/tables/x/x",
            ] {
                local_path(root, probe)?;
            }
        }
        Ok(())
    }

    /// Makes the local files `rels` and the folders that lead to them durable (`fsync`),
    /// before a rename or a document publishes them: after a power loss, what a run record
    /// or manifest names must still be there. On S3 a completed request already is.
    pub fn sync<'a>(&self, rels: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let Store::Local(root) = self else {
            return Ok(());
        };
        let mut dirs = std::collections::BTreeSet::new();
        for rel in rels {
            let path = local_path(root, rel)?;
            sync_path(&path)?;
            let mut dir = path.parent();
            while let Some(d) = dir.filter(|d| d.starts_with(root)) {
                if !dirs.insert(d.to_path_buf()) {
                    break;
                }
                dir = d.parent();
            }
        }
        dirs.iter().try_for_each(|d| sync_path(d))
    }

    /// Stores a complete local file under `rel` (a single PUT: visible only once whole).
    pub async fn put_file(&self, local: &Path, rel: &str) -> Result<()> {
        match self {
            Store::Local(root) => {
                let dest = local_path(root, rel)?;
                if let Some(d) = dest.parent() {
                    std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
                }
                std::fs::rename(local, &dest)
                    .or_else(|_| std::fs::copy(local, &dest).map(|_| ()))
                    .map_err(|e| Error::io(&dest, e))
            }
            Store::S3 { client, bucket, .. } => {
                let body = aws_sdk_s3::primitives::ByteStream::from_path(local)
                    .await
                    .map_err(|e| Error::source(local.display().to_string(), e.to_string()))?;
                client
                    .put_object()
                    .bucket(bucket)
                    .key(self.key(rel))
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| self.s3_err("PutObject", rel, e))?;
                Ok(())
            }
        }
    }

    /// Puts the staged file `from` at `to`: a rename locally; on S3, which cannot rename, a
    /// copy, the staged original staying until it is deleted. Returns `false` when an
    /// earlier, interrupted commit already moved it (`from` gone, `to` present), so that a
    /// commit can be replayed.
    pub async fn place(&self, from: &str, to: &str) -> Result<bool> {
        match self {
            Store::Local(root) => {
                let (src, dest) = (local_path(root, from)?, local_path(root, to)?);
                if !src.exists() && dest.exists() {
                    return Ok(false);
                }
                if let Some(d) = dest.parent() {
                    std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
                }
                std::fs::rename(&src, &dest).map_err(|e| Error::io(&src, e))?;
                Ok(true)
            }
            Store::S3 { client, bucket, .. } => {
                if !self.exists(from).await? && self.exists(to).await? {
                    return Ok(false);
                }
                client
                    .copy_object()
                    .bucket(bucket)
                    .copy_source(format!("{bucket}/{}", self.key(from)))
                    .key(self.key(to))
                    .send()
                    .await
                    .map_err(|e| self.s3_err("CopyObject", from, e))?;
                Ok(true)
            }
        }
    }

    /// Undoes [`Store::place`]: the file goes back to `from` (locally) or its copy at `to`
    /// is deleted (S3, where `from` is still there).
    pub async fn unplace(&self, from: &str, to: &str) -> Result<()> {
        match self {
            Store::Local(root) => {
                let (src, dest) = (local_path(root, from)?, local_path(root, to)?);
                std::fs::rename(&dest, &src).map_err(|e| Error::io(&dest, e))
            }
            Store::S3 { .. } => self.delete(to).await,
        }
    }

    pub async fn exists(&self, rel: &str) -> Result<bool> {
        match self {
            Store::Local(root) => Ok(root.join(rel).exists()),
            Store::S3 { client, bucket, .. } => {
                match client
                    .head_object()
                    .bucket(bucket)
                    .key(self.key(rel))
                    .send()
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
                    Err(e) => Err(self.s3_err("HeadObject", rel, e)),
                }
            }
        }
    }

    /// Whether anything is stored under the folder `rel_prefix` (one listed key on S3).
    pub async fn holds_any(&self, rel_prefix: &str) -> Result<bool> {
        match self {
            Store::Local(root) => Ok(root.join(rel_prefix).is_dir()),
            Store::S3 { client, bucket, .. } => {
                let page = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(self.key(rel_prefix))
                    .max_keys(1)
                    .send()
                    .await
                    .map_err(|e| self.s3_err("ListObjectsV2", rel_prefix, e))?;
                Ok(!page.contents().is_empty())
            }
        }
    }

    pub async fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        match self {
            Store::Local(root) => match std::fs::read(local_path(root, rel)?) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(Error::io(root.join(rel), e)),
            },
            Store::S3 { client, bucket, .. } => {
                match client
                    .get_object()
                    .bucket(bucket)
                    .key(self.key(rel))
                    .send()
                    .await
                {
                    Ok(r) => {
                        let b = r.body.collect().await.map_err(|e| {
                            Error::source(self.describe(rel), format!("reading failed: {e}"))
                        })?;
                        Ok(Some(b.into_bytes().to_vec()))
                    }
                    Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
                    Err(e) => Err(self.s3_err("GetObject", rel, e)),
                }
            }
        }
    }

    /// Writes a small document atomically (temp file + rename locally; one PUT on S3).
    pub async fn write(&self, rel: &str, data: &[u8]) -> Result<()> {
        match self {
            Store::Local(root) => {
                let dest = local_path(root, rel)?;
                if let Some(d) = dest.parent() {
                    std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
                }
                let tmp = dest.with_extension("tmp");
                {
                    use std::io::Write as _;
                    let mut f = create_new(&tmp)?;
                    f.write_all(data).map_err(|e| Error::io(&tmp, e))?;
                    // Whole on disk before the rename publishes it (power loss).
                    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
                }
                fault("publish", WRITES.fetch_add(1, Ordering::Relaxed));
                std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))?;
                match dest.parent() {
                    Some(d) => sync_path(d),
                    None => Ok(()),
                }
            }
            Store::S3 { client, bucket, .. } => {
                client
                    .put_object()
                    .bucket(bucket)
                    .key(self.key(rel))
                    .body(data.to_vec().into())
                    .send()
                    .await
                    .map_err(|e| self.s3_err("PutObject", rel, e))?;
                Ok(())
            }
        }
    }

    pub async fn delete(&self, rel: &str) -> Result<()> {
        match self {
            Store::Local(root) => match std::fs::remove_file(local_path(root, rel)?) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(Error::io(root.join(rel), e)),
            },
            Store::S3 { client, bucket, .. } => {
                client
                    .delete_object()
                    .bucket(bucket)
                    .key(self.key(rel))
                    .send()
                    .await
                    .map_err(|e| self.s3_err("DeleteObject", rel, e))?;
                Ok(())
            }
        }
    }

    /// Relative names of every object under `rel_prefix` (recursive).
    pub async fn list(&self, rel_prefix: &str) -> Result<Vec<String>> {
        match self {
            Store::Local(root) => {
                let mut out = Vec::new();
                let base = root.join(rel_prefix);
                if base.is_dir() {
                    walk(&base, &mut |p| {
                        if let Ok(r) = p.strip_prefix(root) {
                            out.push(r.to_string_lossy().replace('\\', "/"));
                        }
                    })?;
                }
                out.sort();
                Ok(out)
            }
            Store::S3 {
                client,
                bucket,
                prefix,
            } => {
                let mut out = Vec::new();
                let mut pages = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(format!("{prefix}{rel_prefix}"))
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| self.s3_err("ListObjectsV2", rel_prefix, e))?;
                    for o in page.contents() {
                        if let Some(k) = o.key().and_then(|k| k.strip_prefix(prefix.as_str())) {
                            out.push(k.to_string());
                        }
                    }
                }
                out.sort();
                Ok(out)
            }
        }
    }
}

/// Every file below `dir`, symbolic links included as entries of their own: a link is
/// never followed, so deleting what is listed never reaches outside the output.
fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) -> Result<()> {
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let p = e.path();
        if e.file_type().map_err(|err| Error::io(&p, err))?.is_dir() {
            walk(&p, f)?;
        } else {
            f(&p);
        }
    }
    Ok(())
}

/// `root/rel`, refusing a symbolic link in any folder of `rel` below `root`: a link in
/// the output (`_sageflow/`, a staging or partition folder) would send its writes and
/// deletes elsewhere. The last component may be a link: renames, deletes and the
/// no-follow create replace or remove the link itself.
pub fn local_path(root: &Path, rel: &str) -> Result<PathBuf> {
    let mut at = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    for part in parts.iter().take(parts.len().saturating_sub(1)) {
        at.push(part);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(Error::config(
                format!(
                    "{} is a symbolic link inside the export; sageflow never follows links there, since its writes and deletes would land outside the output",
                    at.display()
                ),
                "remove the link (or export to the directory it points to)",
            ));
        }
    }
    Ok(root.join(rel))
}

/// `fsync` of a file or folder (opened read-only: Linux flushes the inode either way).
fn sync_path(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// Creates `path` anew for writing, never through a link or file already there.
fn create_new(path: &Path) -> Result<std::fs::File> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io(path, e)),
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io(path, e))
}

/// The entries of a local directory, sorted by path: every walk of a folder (sources,
/// inventory) goes in the same order on every run and machine.
pub fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| Error::io(dir, e)))
        .collect::<Result<_>>()?;
    entries.sort();
    Ok(entries)
}

/// Test hook: `SAGEFLOW_HOLD=<phase>:<path>` stops at each step of a phase until `path`
/// exists (`read`: after each object read), so that a test sees a run in its middle (its
/// progress line) without racing it. Called on blocking threads only.
pub fn hold(phase: &str) {
    if let Some(path) = hook("SAGEFLOW_HOLD", phase) {
        while !Path::new(&path).exists() {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// The argument of a test hook `var=<phase>:<arg>` set for `phase`.
fn hook(var: &str, phase: &str) -> Option<String> {
    let spec = std::env::var(var).ok()?;
    let (p, arg) = spec.split_once(':')?;
    (p == phase).then(|| arg.to_string())
}

/// Test hook: `SAGEFLOW_FAULT=<phase>:<n>` aborts the process at the n-th step of a phase
/// (`staging` files written, `commit` files moved, `publish` local documents written but
/// not yet renamed: 0 is the run record, `obsolete` files of a replaced export deleted),
/// to prove interrupted runs are safe.
pub fn fault(phase: &str, step: usize) {
    if let Some(n) = hook("SAGEFLOW_FAULT", phase)
        && n.parse::<usize>().ok() == Some(step)
    {
        tracing::error!("SAGEFLOW_FAULT={phase}:{n}: aborting");
        std::process::abort();
    }
}
