//! A read's counters as DataFusion metrics: the form in which a distributed run's workers
//! send theirs back to the coordinator (datafusion-distributed collects every plan node's
//! metrics from the workers), so the summary's `records = rows + rejected` holds over
//! the whole run.

use std::borrow::Cow;
use std::sync::Arc;

use datafusion::physical_plan::metrics::{Count, Label, Metric, MetricValue, MetricsSet};

use crate::decode::{RejectSink, ScanStats, StatsSnapshot};
use crate::error::Reject;
use crate::source::ReadMark;
use crate::source::ledger::StreamState;

const OBJECTS: &str = "flow_objects_read";
const BYTES: &str = "flow_bytes_read";
const RECORDS: &str = "flow_records";
const ROWS: &str = "flow_rows";
const OUTSIDE: &str = "flow_outside_window";
const REJECTED: &str = "flow_rejected";
/// One of the first rejects, as JSON in a label: what the summary lists.
const SAMPLE: &str = "flow_reject_sample";
const SAMPLE_LABEL: &str = "reject";
/// How far a local file was read ([`ReadMark`]): what `--state` and the export's manifest
/// record, made where the file was read.
const MARK: &str = "flow_read_mark";
/// What was read of a CloudWatch stream ([`StreamState`]): what `--state` records of it.
const STREAM: &str = "flow_stream_read";
/// A record format rows were decoded in ([`ScanStats::formats`]), in a label.
const FORMAT: &str = "flow_format_read";
/// The labels of those: the file or stream, and the value as JSON.
const KEY_LABEL: &str = "key";
const VALUE_LABEL: &str = "value";

/// Counts of a read done elsewhere, with its first rejects.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counted {
    pub objects: u64,
    pub bytes: u64,
    pub records: u64,
    pub rows: u64,
    pub outside_window: u64,
    pub rejected: u64,
    pub samples: Vec<Reject>,
    /// How far each local file was read, by name.
    pub marks: Vec<(String, ReadMark)>,
    /// What was read of each CloudWatch stream, by stream.
    pub streams: Vec<(String, StreamState)>,
    /// The record formats rows were decoded in.
    pub formats: Vec<String>,
}

impl Counted {
    /// Adds these counts to a run's counters (and the rejects sent back to its
    /// `--rejects` file).
    pub fn add_to(&self, stats: &ScanStats, rejects: &RejectSink) -> crate::error::Result<()> {
        ScanStats::add(&stats.objects_done, self.objects);
        ScanStats::add(&stats.bytes, self.bytes);
        ScanStats::add(&stats.records, self.records);
        ScanStats::add(&stats.rows, self.rows);
        ScanStats::add(&stats.outside_window, self.outside_window);
        for f in &self.formats {
            stats.note_format(f.clone());
        }
        rejects.add_counted(self.rejected, &self.samples)
    }

    pub fn add(&mut self, other: &Counted) {
        self.objects += other.objects;
        self.bytes += other.bytes;
        self.records += other.records;
        self.rows += other.rows;
        self.outside_window += other.outside_window;
        self.rejected += other.rejected;
        self.samples.extend(other.samples.iter().cloned());
        self.marks.extend(other.marks.iter().cloned());
        self.streams.extend(other.streams.iter().cloned());
        self.formats.extend(other.formats.iter().cloned());
    }
}

/// The metrics of a read whose counters are `s` and which rejected `rejected` records,
/// the first of which are `samples`, and which read the local files of `marks` and the
/// CloudWatch streams of `streams` so far, in the record formats of `formats`.
pub fn metrics(
    s: &StatsSnapshot,
    rejected: u64,
    samples: &[Reject],
    marks: &[(String, ReadMark)],
    streams: &[(String, StreamState)],
    formats: &[String],
) -> MetricsSet {
    let mut set = MetricsSet::new();
    for (name, value) in [
        (OBJECTS, s.objects_done),
        (BYTES, s.bytes),
        (RECORDS, s.records),
        (ROWS, s.rows),
        (OUTSIDE, s.outside_window),
        (REJECTED, rejected),
    ] {
        let count = Count::new();
        count.add(value as usize);
        set.push(Arc::new(Metric::new(
            MetricValue::Count {
                name: Cow::Borrowed(name),
                count,
            },
            None,
        )));
    }
    for r in samples {
        let json = serde_json::to_string(r).expect("a reject serialises");
        set.push(labelled(SAMPLE, vec![Label::new(SAMPLE_LABEL, json)]));
    }
    for (object, mark) in marks {
        set.push(keyed(MARK, object, mark));
    }
    for (stream, read) in streams {
        set.push(keyed(STREAM, stream, read));
    }
    for f in formats {
        set.push(labelled(FORMAT, vec![Label::new(VALUE_LABEL, f.clone())]));
    }
    set
}

/// A metric of count 1 that says what it carries in `labels`.
fn labelled(name: &'static str, labels: Vec<Label>) -> Arc<Metric> {
    let count = Count::new();
    count.add(1);
    Arc::new(Metric::new_with_labels(
        MetricValue::Count {
            name: Cow::Borrowed(name),
            count,
        },
        None,
        labels,
    ))
}

/// A metric saying `value` (as JSON) of `key`: one per local file or stream read.
fn keyed<T: serde::Serialize>(name: &'static str, key: &str, value: &T) -> Arc<Metric> {
    let json = serde_json::to_string(value).expect("serialises");
    labelled(
        name,
        vec![
            Label::new(KEY_LABEL, key.to_string()),
            Label::new(VALUE_LABEL, json),
        ],
    )
}

/// The key and value of a [`keyed`] metric.
fn keyed_value<T: serde::de::DeserializeOwned>(m: &Metric) -> Option<(String, T)> {
    let label = |n: &str| m.labels().iter().find(|l| l.name() == n);
    let value = serde_json::from_str(label(VALUE_LABEL)?.value()).ok()?;
    Some((label(KEY_LABEL)?.value().to_string(), value))
}

/// The read counters among `set` (summed over tasks and partitions), if it has any.
pub fn counted(set: &MetricsSet) -> Option<Counted> {
    let mut c = Counted::default();
    let mut any = false;
    for m in set.iter() {
        let MetricValue::Count { name, count } = m.value() else {
            continue;
        };
        if name.as_ref() == SAMPLE {
            let label = m.labels().iter().find(|l| l.name() == SAMPLE_LABEL);
            if let Some(r) = label.and_then(|l| serde_json::from_str(l.value()).ok()) {
                c.samples.push(r);
            }
            continue;
        }
        if name.as_ref() == MARK {
            c.marks.extend(keyed_value(m));
            continue;
        }
        if name.as_ref() == STREAM {
            c.streams.extend(keyed_value(m));
            continue;
        }
        if name.as_ref() == FORMAT {
            let label = m.labels().iter().find(|l| l.name() == VALUE_LABEL);
            c.formats.extend(label.map(|l| l.value().to_string()));
            continue;
        }
        let slot = match name.as_ref() {
            OBJECTS => &mut c.objects,
            BYTES => &mut c.bytes,
            RECORDS => &mut c.records,
            ROWS => &mut c.rows,
            OUTSIDE => &mut c.outside_window,
            REJECTED => &mut c.rejected,
            _ => continue,
        };
        *slot += count.value() as u64;
        any = true;
    }
    any.then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_survive_the_metrics_form() {
        let s = StatsSnapshot {
            objects_done: 3,
            bytes: 1000,
            records: 50,
            rows: 45,
            outside_window: 2,
            ..StatsSnapshot::default()
        };
        let reject = Reject {
            object: "a.log".into(),
            line: 7,
            field: Some("dstaddr".into()),
            value: Some("10.0.2.999".into()),
            reason: "not an address".into(),
            record: "2 …".into(),
        };
        let mark = ReadMark {
            read_to: 4096,
            lines: 30,
            header: Some("version account-id".into()),
            ..ReadMark::default()
        };
        let stream = StreamState {
            until_ms: 1_795_169_100_000,
            seen: ["1795169100000:37".to_string()].into(),
        };
        let set = metrics(
            &s,
            3,
            std::slice::from_ref(&reject),
            &[("logs/a.log".into(), mark.clone())],
            &[("cwlogs://g/eni-1-all".into(), stream.clone())],
            &["${version} ${srcaddr}".to_string()],
        );
        assert_eq!(
            counted(&set),
            Some(Counted {
                objects: 3,
                bytes: 1000,
                records: 50,
                rows: 45,
                outside_window: 2,
                rejected: 3,
                samples: vec![reject],
                marks: vec![("logs/a.log".into(), mark)],
                streams: vec![("cwlogs://g/eni-1-all".into(), stream)],
                formats: vec!["${version} ${srcaddr}".to_string()],
            })
        );
        assert_eq!(counted(&MetricsSet::new()), None);
    }
}
