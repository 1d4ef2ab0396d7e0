//! Inventory snapshots over time: `inventory collect --dated` (or any folder named by its
//! UTC time, `2026-11-20`, `2026-11-20T1200Z`, `20261120T120000Z`, …) run on a schedule keeps
//! one `describe-network-interfaces` per run. An ENI the newest snapshot still lists is
//! described as it is now; one it no longer lists lived from its attach time (else from the
//! snapshot before the one it first appeared in) until the first snapshot that no longer
//! held it, or until another ENI attached with one of its addresses, whichever came first.
//! CloudTrail, where present, knows the exact times and wins.

use chrono::{NaiveDate, NaiveDateTime};

use crate::inventory::{EniLifetime, Inventory, LifetimeSource};

/// The time a snapshot folder is named by: the innermost folder of `file`'s path that
/// reads as a UTC date or time.
pub(super) fn time_of(file: &str) -> Option<i64> {
    let mut parts: Vec<&str> = file.split(['/', '\\']).collect();
    parts.pop(); // the file's own name
    parts.into_iter().rev().find_map(folder_time)
}

/// The series a dated snapshot belongs to: the path of the folder its dated folder is in.
/// Accounts and regions collected each into their own folder are separate histories: an
/// ENI of one is never listed by another's snapshots, whatever their times.
pub(super) fn series_of(file: &str) -> String {
    let mut parts: Vec<&str> = file.split(['/', '\\']).collect();
    parts.pop();
    while let Some(last) = parts.pop() {
        if folder_time(last).is_some() {
            break;
        }
    }
    parts.join("/")
}

fn folder_time(name: &str) -> Option<i64> {
    if let Ok(d) = NaiveDate::parse_from_str(name, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp());
    }
    let name = name.strip_suffix('Z').or_else(|| name.strip_suffix('z'))?;
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H%M%S",
        "%Y-%m-%dT%H%M",
        "%Y%m%dT%H%M%S",
        "%Y%m%dT%H%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(name, f).ok())
    .map(|t| t.and_utc().timestamp())
}

/// Turns the ENIs seen in dated snapshots into the inventory's ENIs (those the newest
/// snapshot lists) and lifetimes (those it does not). Call after CloudTrail's lifetimes.
pub(super) fn lifetimes(inv: &mut Inventory) {
    let mut sightings = std::mem::take(&mut inv.eni_sightings);
    inv.snapshots.sort_unstable();
    inv.snapshots.dedup();
    inv.snapshot_series.sort_unstable();
    inv.snapshot_series.dedup();
    if inv.snapshots.is_empty() {
        return;
    }
    // Each series' snapshot times, oldest first.
    let mut series: std::collections::HashMap<&str, Vec<i64>> = std::collections::HashMap::new();
    for (s, t) in &inv.snapshot_series {
        series.entry(s.as_str()).or_default().push(*t);
    }
    sightings.sort_by(|a, b| (&a.series, &a.eni.id, a.time).cmp(&(&b.series, &b.eni.id, b.time)));
    let from_trail: std::collections::HashSet<String> =
        inv.lifetimes.iter().map(|l| l.eni.id.clone()).collect();
    let mut made = Vec::new();
    // Undated documents that list an ENI their series' newest snapshot no longer does:
    // file -> (ENIs, first of them, that snapshot's series and time).
    let mut stale: std::collections::BTreeMap<String, (usize, String, String, i64)> =
        std::collections::BTreeMap::new();
    for same in sightings.chunk_by(|a, b| a.eni.id == b.eni.id && a.series == b.series) {
        let (first, last) = (&same[0], &same[same.len() - 1]);
        let id = &last.eni.id;
        let times = series
            .get(last.series.as_str())
            .map_or(&[][..], Vec::as_slice);
        if times.last() == Some(&last.time) {
            // Still there: the current description, unless an undated document (taken
            // now, by hand) already gave one.
            if !inv.enis.contains_key(id) {
                inv.documents
                    .insert(crate::inventory::Item::Eni(id).key(), last.file.clone());
                inv.enis.insert(id.clone(), last.eni.clone());
            }
            continue;
        }
        if inv.enis.contains_key(id) {
            // An undated document is taken as describing now, so it wins; but if it was
            // saved before the series' newest snapshot, the ENI is long gone and reads
            // as a live ENI without records.
            let key = crate::inventory::Item::Eni(id).key();
            if let (Some(file), Some(&newest)) = (inv.documents.get(&key), times.last())
                && !from_trail.contains(id)
                && time_of(file).is_none()
            {
                let e = stale
                    .entry(file.clone())
                    .or_insert_with(|| (0, id.clone(), last.series.clone(), newest));
                e.0 += 1;
            }
            continue;
        }
        if from_trail.contains(id) {
            continue;
        }
        let before_first = times.iter().rev().find(|&&t| t < first.time);
        let created = first.eni.attach_time.or(before_first.copied());
        let gone = times.iter().find(|&&t| t > last.time).copied();
        let mut eni = last.eni.clone();
        // VpcConfig correlation takes the workload running when the ENI came.
        eni.attach_time = eni.attach_time.or(created);
        made.push(EniLifetime {
            eni,
            created,
            deleted: gone,
            created_by: None,
            invoked_by: None,
            source: last.file.clone(),
            from: LifetimeSource::Snapshots,
        });
    }
    // Two ENIs of one VPC never hold one address at once: a later holder's attach time
    // ends the earlier one's life, however long before the next snapshot that was.
    let starts: Vec<(Option<&str>, std::net::IpAddr, i64)> = inv
        .enis
        .values()
        .filter_map(|e| Some((e, e.attach_time?)))
        .chain(made.iter().filter_map(|l| Some((&l.eni, l.created?))))
        .flat_map(|(e, t)| {
            let vpc = e.vpc_id.as_deref();
            e.addresses.iter().map(move |a| (vpc, *a, t))
        })
        .collect();
    let ends: Vec<Option<i64>> = made
        .iter()
        .map(|l| {
            let mut end = l.deleted;
            for &(vpc, addr, t) in &starts {
                let after = l.created.is_none_or(|c| t > c);
                let same_vpc =
                    vpc.is_none() || l.eni.vpc_id.is_none() || vpc == l.eni.vpc_id.as_deref();
                if after && same_vpc && l.eni.addresses.contains(&addr) && end.is_none_or(|d| t < d)
                {
                    end = Some(t);
                }
            }
            end
        })
        .collect();
    for (l, end) in made.iter_mut().zip(ends) {
        l.deleted = end;
    }
    inv.lifetimes.extend(made);
    for (file, (n, first, series, newest)) in stale {
        let when = chrono::DateTime::from_timestamp(newest, 0).map_or_else(
            || newest.to_string(),
            |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        let folder = if series.is_empty() {
            "."
        } else {
            series.as_str()
        };
        inv.warnings.push(format!(
            "{file}: lists {n} ENI(s) (first {first}) that the newest dated snapshot in {folder} ({when}) no longer lists; an undated document is taken as describing now, so they read as live ENIs. If it was saved before {when}, move it into a folder of {folder} named by the UTC time it was taken, like the snapshots, or remove it"
        ));
    }
    inv.lifetimes
        .sort_by(|a, b| a.eni.id.cmp(&b.eni.id).then(a.created.cmp(&b.created)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_named_by_a_utc_time_are_snapshots() {
        let t = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp();
        for (file, want) in [
            (
                "inv/2026-11-20/describe-network-interfaces.json",
                Some(t("2026-11-20T00:00:00Z")),
            ),
            (
                "inv/2026-11-20T1215Z/x.json",
                Some(t("2026-11-20T12:15:00Z")),
            ),
            (
                "s3://b/p/20261120T121530Z/sagemaker/x.json",
                Some(t("2026-11-20T12:15:30Z")),
            ),
            (
                "inv/2026-11-20T12:15:30Z/x.json",
                Some(t("2026-11-20T12:15:30Z")),
            ),
            // CloudTrail's date folders are not one name.
            ("AWSLogs/1/CloudTrail/us-east-1/2026/11/20/x.json.gz", None),
            ("inventory/describe-network-interfaces.json", None),
            ("inv/2026-11-20.json", None),
        ] {
            assert_eq!(time_of(file), want, "{file}");
        }
    }

    #[test]
    fn each_folder_of_dated_folders_is_a_series() {
        for (file, want) in [
            (
                "inv/111122223333/us-east-1/2026-11-20T1205Z/describe-network-interfaces.json",
                "inv/111122223333/us-east-1",
            ),
            ("s3://b/p/20261120T121530Z/sagemaker/x.json", "s3://b/p"),
            ("2026-11-20/x.json", ""),
        ] {
            assert_eq!(series_of(file), want, "{file}");
        }
    }
}
