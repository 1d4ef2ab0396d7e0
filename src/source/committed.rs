//! A sageflow export read as a source: only the data files its manifest lists are read.
//! An export run places its files one rename (or S3 copy) at a time and lists them in the
//! manifest last, so files present but not listed belong to a run still committing, or
//! to one that stopped mid-commit and that the next export finishes; reading them would
//! show part of a run.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::SourceObject;
use crate::error::{Error, Result};
use crate::store::Store;

/// The export's control folder; engines skip `_` folders under a table's location.
pub const CONTROL: &str = "_sageflow/";
/// The list of committed files (and what source data they hold), relative to the root.
pub const MANIFEST: &str = "_sageflow/manifest.json";
/// How an export's files name their writer; readers skip the checks its rows passed.
pub const CREATED_BY_PREFIX: &str = "sageflow ";

/// The part of the manifest readers need.
#[derive(Deserialize)]
struct Listed {
    #[serde(default)]
    files: Vec<String>,
}

/// The hint for an export control document (manifest, run record) that cannot be read.
pub const MANIFEST_HINT: &str = "the export's control files under _sageflow/ are damaged or were edited by hand: restore them from a backup, or rebuild the export with export --full";

/// Parses a manifest's list of committed files.
pub fn committed_files(manifest: &[u8], origin: &str) -> Result<HashSet<String>> {
    let listed: Listed = serde_json::from_slice(manifest).map_err(|e| {
        Error::document(
            origin,
            format!("not a sageflow manifest: {e}"),
            MANIFEST_HINT,
        )
    })?;
    Ok(listed.files.into_iter().collect())
}

/// The root of the export a data file at `path` would belong to: above its `name=value`
/// partition folders (`out/year=2026/month=11/day=20/part-….parquet` → `out`).
pub fn export_root(path: &str) -> &str {
    let mut root = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    loop {
        match root.rsplit_once('/') {
            Some((up, last)) if last.contains('=') => root = up,
            None if root.contains('=') => return "",
            _ => return root,
        }
    }
}

/// What the committed-files filter left out.
#[derive(Debug, Default)]
pub struct Withheld {
    /// Export root → data files present there but not (yet) in its manifest.
    pub by_root: Vec<(String, u64)>,
}

/// Keeps, of the local Parquet objects inside a sageflow export (a folder with
/// `_sageflow/`), only the files its manifest lists.
pub fn filter_local(objects: &mut Vec<SourceObject>) -> Result<Withheld> {
    let mut roots: HashMap<PathBuf, Option<HashSet<String>>> = HashMap::new();
    let mut withheld: HashMap<PathBuf, u64> = HashMap::new();
    let mut keep = Vec::with_capacity(objects.len());
    for o in objects.drain(..) {
        // AWS deliveries (their keys name the account) are never exports.
        if o.s3.is_some()
            || o.cw.is_some()
            || !o.name.ends_with(".parquet")
            || o.key.account.is_some()
        {
            keep.push(o);
            continue;
        }
        let path = o.path.to_string_lossy().replace('\\', "/");
        let root = export_root(&path);
        let root_dir = PathBuf::from(match root {
            "" if path.starts_with('/') => "/",
            "" => ".",
            r => r,
        });
        let listed = match roots.get(&root_dir) {
            Some(l) => l,
            None => {
                let l = local_manifest(&root_dir)?;
                roots.entry(root_dir.clone()).or_insert(l)
            }
        };
        let rel = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .trim_start_matches('/');
        match listed {
            Some(files) if !files.contains(rel) => *withheld.entry(root_dir).or_default() += 1,
            _ => keep.push(o),
        }
    }
    *objects = keep;
    let mut by_root: Vec<(String, u64)> = withheld
        .into_iter()
        .map(|(r, n)| (r.display().to_string(), n))
        .collect();
    by_root.sort();
    Ok(Withheld { by_root })
}

/// The committed files of the export at `root`, `None` when `root` is not an export. An
/// export whose first run has not committed yet has a control folder and no manifest:
/// nothing of it is committed.
fn local_manifest(root: &Path) -> Result<Option<HashSet<String>>> {
    let manifest = root.join(MANIFEST);
    match std::fs::read(&manifest) {
        Ok(b) => committed_files(&b, &manifest.display().to_string()).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok(root.join(CONTROL).is_dir().then(HashSet::new))
        }
        Err(e) => Err(Error::io(&manifest, e)),
    }
}

/// The S3 counterpart of [`filter_local`], for objects listed under `bucket`.
pub async fn filter_s3(
    client: &aws_sdk_s3::Client,
    objects: &mut Vec<SourceObject>,
) -> Result<Withheld> {
    let mut roots: HashMap<(String, String), Option<HashSet<String>>> = HashMap::new();
    let mut withheld: HashMap<String, u64> = HashMap::new();
    let mut keep = Vec::with_capacity(objects.len());
    for o in objects.drain(..) {
        let Some(loc) =
            o.s3.as_ref()
                .filter(|_| o.name.ends_with(".parquet") && o.key.account.is_none())
        else {
            keep.push(o);
            continue;
        };
        let root = export_root(&loc.key);
        let prefix = if root.is_empty() {
            String::new()
        } else {
            format!("{root}/")
        };
        let id = (loc.bucket.clone(), prefix.clone());
        if !roots.contains_key(&id) {
            let store = Store::S3 {
                client: client.clone(),
                bucket: loc.bucket.clone(),
                prefix: prefix.clone(),
            };
            roots.insert(id.clone(), stored_manifest(&store).await?);
        }
        let rel = &loc.key[prefix.len()..];
        match &roots[&id] {
            Some(files) if !files.contains(rel) => {
                *withheld
                    .entry(format!("s3://{}/{prefix}", loc.bucket))
                    .or_default() += 1
            }
            _ => keep.push(o),
        }
    }
    *objects = keep;
    let mut by_root: Vec<(String, u64)> = withheld.into_iter().collect();
    by_root.sort();
    Ok(Withheld { by_root })
}

/// The committed files of the export in `store`, `None` when nothing there is an export
/// (as [`local_manifest`], through the store's own reads).
async fn stored_manifest(store: &Store) -> Result<Option<HashSet<String>>> {
    match store.read(MANIFEST).await? {
        Some(b) => committed_files(&b, &store.describe(MANIFEST)).map(Some),
        None => Ok(store.holds_any(CONTROL).await?.then(HashSet::new)),
    }
}

impl Withheld {
    pub fn warn(&self) {
        for (root, n) in &self.by_root {
            tracing::warn!(
                export = %crate::terminal::printable(root),
                files = n,
                "data files of the export are not in its manifest (an export run is committing, or stopped mid-commit and the next export finishes it); they are not read"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_are_above_partition_folders() {
        assert_eq!(
            export_root("out/year=2026/month=11/day=20/part-1.parquet"),
            "out"
        );
        assert_eq!(export_root("/a/b/x.parquet"), "/a/b");
        assert_eq!(export_root("year=2026/day=01/p.parquet"), "");
        assert_eq!(export_root("p.parquet"), "");
    }
}
