//! Stretches of a scan's time that the sources hold no object for. S3 delivery writes each
//! flow log's records in five-minute windows (an idle ENI's NODATA records included) and
//! names every object after its window, so a run of windows without an object, between
//! objects that were read or at either end of `--since`/`--until`, is time whose records
//! are not in the sources: delivery stopped, or the copy scanned is incomplete. The names
//! tell it without reading a record; the scan says so in notes. Only where an object was
//! due: from a flow log of all traffic (one of rejected or accepted traffic only has
//! nothing to write while there is none), while something it covers was there (a subnet's
//! flow log has nothing to write while no ENI is in it): an ENI the inventory lists, one
//! of its history (CloudTrail, dated snapshots), or a workload that ran in its subnets.

use std::collections::BTreeMap;

use crate::decode::TimeWindow;
use crate::format::iso;
use crate::inventory::{FlowLogConfig, Inventory};
use crate::source::SourceObject;
// A later `--until` is not judged: its objects may still arrive.
use crate::source::layout::DELIVERED_WITHIN_SECS;

/// Shorter stretches without an object are delivery's own jitter, not missing records.
pub const MISSING_AFTER_SECS: i64 = 30 * 60;
/// The time one object's name stands for.
const WINDOW_SECS: i64 = 5 * 60;
/// Stretches told per flow log; the rest are counted.
const TOLD: usize = 3;

/// The notes for `objects` (a full scan's: an incremental run reads only what is new, so
/// its objects have gaps by design) over `window`, at `now` (Unix seconds). A flow log
/// created inside the window (the inventory's `CreationTime`) owes nothing before then,
/// and one the inventory does not describe is not judged.
pub fn delivery_notes(
    objects: &[SourceObject],
    window: &TimeWindow,
    inv: &Inventory,
    now: i64,
) -> Vec<String> {
    let mut named: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for o in objects {
        if let (Some(id), Some(t)) = (o.key.flow_log_id.as_deref(), o.key.named_at) {
            named.entry(id).or_default().push(t);
        }
    }
    let span = |secs: i64| humantime::format_duration(std::time::Duration::from_secs(secs as u64));
    let mut notes = Vec::new();
    for (id, mut times) in named {
        times.sort_unstable();
        times.dedup();
        let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
            continue;
        };
        let Some(log) = inv
            .flow_logs
            .iter()
            .find(|f| f.id == id && f.logs_accepted() && f.logs_rejected())
        else {
            continue;
        };
        let mut missing: Vec<(i64, i64)> = Vec::new();
        if let Some(since) = window.since {
            let due = log.created.map_or(since, |c| c.max(since));
            if first - due >= MISSING_AFTER_SECS {
                missing.push((due, first));
            }
        }
        for w in times.windows(2) {
            if w[1] - (w[0] + WINDOW_SECS) >= MISSING_AFTER_SECS {
                missing.push((w[0] + WINDOW_SECS, w[1]));
            }
        }
        if let Some(until) = window.until.filter(|&u| u <= now - DELIVERED_WITHIN_SECS)
            && until - (last + WINDOW_SECS) >= MISSING_AFTER_SECS
        {
            missing.push((last + WINDOW_SECS, until));
        }
        // Only while something it covers was there: it had at least NODATA to deliver.
        let present = present(log, inv);
        let missing: Vec<(i64, i64)> = missing
            .into_iter()
            .flat_map(|(from, to)| {
                present
                    .iter()
                    .map(move |&(a, b)| (a.max(from), b.min(to)))
                    .filter(|&(a, b)| b - a >= MISSING_AFTER_SECS)
            })
            .collect();
        if missing.is_empty() {
            continue;
        }
        let mut told: Vec<String> = missing
            .iter()
            .take(TOLD)
            .map(|&(from, to)| format!("{} to {} ({})", iso(from), iso(to), span(to - from)))
            .collect();
        if missing.len() > TOLD {
            told.push(format!("and {} more", missing.len() - TOLD));
        }
        notes.push(format!(
            "the sources hold no object of flow log {id} for {}: it delivers an object for every five minutes in which its ENIs were logged (idle ones too, as NODATA), so their records of that time are not in this scan (delivery stopped, or the objects are missing from the sources); no rule could see what the workloads did then",
            told.join(", ")
        ));
    }
    notes
}

/// When something `log` covers was there to be logged, as disjoint intervals in time
/// order: the ENIs the inventory lists (from their attachment; an in-use one without an
/// attachment all along), the ENIs of its history (from creation to deletion), and the
/// workloads that ran in its subnets.
fn present(log: &FlowLogConfig, inv: &Inventory) -> Vec<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = Vec::new();
    for e in inv.enis.values() {
        if log.covers(e) && e.status.as_deref() != Some("available") {
            spans.push((e.attach_time.unwrap_or(i64::MIN), i64::MAX));
        }
    }
    for l in inv.lifetimes.iter().filter(|l| log.covers(&l.eni)) {
        spans.push((l.created.unwrap_or(i64::MIN), l.deleted.unwrap_or(i64::MAX)));
    }
    let subnet_vpc = inv.subnet_vpcs();
    for p in inv.placements() {
        let covered = p.subnets.iter().any(|s| {
            log.resource_id == *s || subnet_vpc.get(s.as_str()) == Some(&log.resource_id.as_str())
        });
        if let (Some(false), true, Some(w)) = (p.outside_vpc, covered, p.window) {
            spans.push((w.from, w.to.unwrap_or(i64::MAX)));
        }
    }
    spans.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::new();
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(name: &str) -> SourceObject {
        SourceObject::local(
            std::path::Path::new(name),
            1,
            crate::source::parse_key(name),
        )
    }

    fn at(hhmm: &str) -> String {
        format!(
            "111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261120T{hhmm}Z_1a7e0001.log.gz"
        )
    }

    const TEN: i64 = 1795168800; // 2026-11-20T10:00:00Z

    /// A flow log of all traffic of a VPC with one ENI attached since 09:00.
    fn logged() -> Inventory {
        let mut inv = Inventory::default();
        inv.flow_logs.push(crate::inventory::FlowLogConfig {
            id: "fl-0aaa1111bbbb22220".into(),
            resource_id: "vpc-1".into(),
            traffic_type: Some("ALL".into()),
            ..Default::default()
        });
        inv.enis.insert(
            "eni-1".into(),
            crate::inventory::Eni {
                id: "eni-1".into(),
                vpc_id: Some("vpc-1".into()),
                status: Some("in-use".into()),
                attach_time: Some(TEN - 3600),
                ..Default::default()
            },
        );
        inv
    }

    #[test]
    fn stretches_without_objects_are_told_by_the_names() {
        let inv = logged();
        let every_five = |from: u32, to: u32| {
            (from..to)
                .step_by(5)
                .map(|m| object(&at(&format!("{:02}{:02}", 10 + m / 60, m % 60))))
                .collect::<Vec<_>>()
        };
        let whole = TimeWindow {
            since: Some(TEN),
            until: Some(TEN + 7200),
        };
        let now = TEN + 86400;
        assert!(delivery_notes(&every_five(0, 120), &whole, &inv, now).is_empty());
        // 10:30 to 11:00 missing; and the last hour.
        let mut objects = every_five(0, 30);
        objects.extend(every_five(60, 60 + 5));
        let notes = delivery_notes(&objects, &whole, &inv, now);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains(
                "flow log fl-0aaa1111bbbb22220 for 2026-11-20T10:30:00Z to 2026-11-20T11:00:00Z (30m), 2026-11-20T11:05:00Z to 2026-11-20T12:00:00Z (55m)"
            ),
            "{notes:?}"
        );
        // A window that ends too recently for its objects to have arrived is not judged;
        // a stretch of less than half an hour is delivery's jitter.
        let recent = delivery_notes(&every_five(0, 90), &whole, &inv, TEN + 7200);
        assert!(recent.is_empty(), "{recent:?}");
        let mut jitter = every_five(0, 30);
        jitter.extend(every_five(55, 120));
        assert!(delivery_notes(&jitter, &whole, &inv, now).is_empty());
        // A flow log created at 11:00 owes nothing before.
        let mut created = logged();
        created.flow_logs[0].created = Some(TEN + 3600);
        assert!(delivery_notes(&every_five(60, 120), &whole, &created, now).is_empty());
        assert_eq!(
            delivery_notes(&every_five(60, 120), &whole, &inv, now).len(),
            1
        );
        // Nothing was due: from a flow log of rejected traffic only, one the inventory
        // does not describe, or while no ENI it covers was attached.
        let half = every_five(0, 30);
        let mut rejects = logged();
        rejects.flow_logs[0].traffic_type = Some("REJECT".into());
        let mut late_eni = logged();
        late_eni.enis.get_mut("eni-1").unwrap().attach_time = Some(TEN + 7200);
        for inv in [rejects, Inventory::default(), late_eni] {
            assert!(delivery_notes(&half, &whole, &inv, now).is_empty());
        }
        // Only while a training job ran in its subnet (its ENI deleted since): 10:30 to
        // 11:30 of the stretch from 10:30 on.
        let mut job = logged();
        job.enis.clear();
        job.flow_logs[0].resource_id = "subnet-1".into();
        job.jobs.push(crate::inventory::Job {
            name: "train-d".into(),
            start: Some(TEN),
            end: Some(TEN + 5400),
            subnets: vec!["subnet-1".into()],
            ..Default::default()
        });
        let notes = delivery_notes(&half, &whole, &job, now);
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("2026-11-20T10:30:00Z to 2026-11-20T11:30:00Z (1h)"),
            "{notes:?}"
        );
    }
}
