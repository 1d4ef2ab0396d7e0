//! Incremental scans (`scan --state FILE|s3://…`): what earlier runs read (the source's
//! [`ReadLedger`]) and which findings not tied to a record they already reported.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::source::ledger::ReadLedger;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ScanState {
    #[serde(flatten)]
    pub read: ReadLedger,
    /// Findings not tied to a flow record (configuration, coverage) already reported: an
    /// incremental run reports them once, not on every run.
    #[serde(default)]
    pub reported: BTreeSet<String>,
}

const STATE_HINT: &str = "point --state at a new file to start over (every object is then read again), or restore the file sageflow wrote";

impl ScanState {
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let s: ScanState = serde_json::from_str(text).map_err(|e| {
            Error::document(
                origin,
                format!("not a sageflow scan state file: {e}"),
                STATE_HINT,
            )
        })?;
        if s.read.version > 1 {
            return Err(Error::document(
                origin,
                format!(
                    "scan state version {} is newer than this sageflow understands",
                    s.read.version
                ),
                "use the sageflow release that wrote the state, or a newer one",
            ));
        }
        Ok(s)
    }

    pub fn to_json(&self) -> String {
        let mut s = self.clone();
        s.read.version = 1;
        serde_json::to_string_pretty(&s).expect("state serialises")
    }

    /// Whether a finding belongs in this run's report: findings from flow records always
    /// (they come from new data); the others only the first time. A configuration finding
    /// is known by its key columns, its reason and when its resource came to be
    /// (`active_from`): a resource deleted and created again under the same name, or one
    /// whose fault changed, is a new finding.
    pub fn report(&mut self, f: &impl crate::scan::Lookup) -> bool {
        if f.value("start").is_some_and(|v| !v.is_null()) {
            return true;
        }
        let fingerprint = crate::scan::KEY_COLUMNS
            .iter()
            .filter(|k| **k != "severity")
            .chain(&["reason", "active_from"])
            .map(|k| f.value(k).map_or(String::new(), |v| v.to_string()))
            .collect::<Vec<_>>()
            .join("|");
        self.reported.insert(fingerprint)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::ReadMark;
    use crate::source::ledger::{LocalMark, StreamState};

    /// Every kind of entry survives the state file (serde cannot read an `i128` through the
    /// flattened ledger: times are `i64` nanoseconds).
    #[test]
    fn a_state_round_trips_with_every_kind_of_entry() {
        let mut st = ScanState::default();
        st.read.version = 1;
        st.read.listed_at = Some(1_795_172_400);
        st.read.s3.insert("s3://b/k".into(), "\"etag\"".into());
        st.read
            .files
            .insert("/old".into(), (10, 1_700_000_000_000_000_000));
        st.read.local.insert(
            "/x".into(),
            LocalMark {
                size: 5,
                mtime_ns: 1_795_000_000_123_456_789,
                read: ReadMark {
                    read_to: 5,
                    lines: 1,
                    header: Some("version".into()),
                    head: "a".into(),
                    tail: "b".into(),
                    open_from: Some(2),
                },
            },
        );
        st.read.cloudwatch.insert(
            "cwlogs://g/s".into(),
            StreamState {
                until_ms: 5,
                seen: BTreeSet::from(["5:x".to_string()]),
            },
        );
        st.reported.insert("f".into());
        assert_eq!(ScanState::parse(&st.to_json(), "test").unwrap(), st);
    }
}
