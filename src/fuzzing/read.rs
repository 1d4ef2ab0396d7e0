//! The local reader's targets: `gzip` and `parquet`, through the same decoding path as a
//! file of that encoding.

use std::io::Read;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;

use super::{Counts, OBJECT, Setup, check_batch};
use crate::decode::{ScanStats, TimeWindow};
use crate::error::{Error, Result};
use crate::source::read::{Encoding, read_bytes};
use crate::source::{KeyInfo, SourceObject};

pub(super) fn object(name: &str, size: usize) -> SourceObject {
    SourceObject::local(std::path::Path::new(name), size as u64, KeyInfo::default())
}

/// Runs one object through the local reader's decoding path, checking every batch.
fn read_object_bytes(enc: Encoding, data: &[u8], setup: &Setup) -> (Result<bool>, Counts) {
    let obj = object(OBJECT, data.len());
    let (opts, sink) = setup.build();
    let stats = Arc::new(ScanStats::default());
    let mut rows = 0u64;
    let parquet = enc == Encoding::Parquet;
    // Compressed bytes say nothing of the text, so the batch bound is checked on plain
    // text and Parquet only.
    let wrappers = enc == Encoding::Gzip || data.contains(&b'{');
    let mut emit = |b: RecordBatch| {
        check_batch(&b, &opts, !parquet, wrappers);
        rows += b.num_rows() as u64;
        true
    };
    let result = read_bytes(&obj, enc, data, &opts, &stats, &mut emit);
    // A damaged gzip member keeps the rows before it and ends the run with its error.
    let result = result.and_then(|go_on| stats.take_damage().pop().map_or(Ok(go_on), Err));
    let snap = stats.snapshot();
    assert_eq!(snap.rows, rows, "rows counted differ from rows emitted");
    let counts = Counts {
        records: snap.records,
        rows,
        rejected: sink.count(),
        outside: snap.outside_window,
    };
    (result, counts)
}

/// Target `gzip`: arbitrary bytes (and mutated gzip) through the local reader's gzip text
/// path. What it accepts must be what the same bytes, decompressed separately, give as
/// plain text; what it refuses must be an IO error naming the object.
pub fn gzip(data: &[u8]) {
    let setup = Setup {
        batch_size: 512,
        ..Setup::new()
    };
    let (result, got) = read_object_bytes(Encoding::Gzip, data, &setup);
    // Bounded: a small input can decompress to a great deal.
    const LIMIT: u64 = 64 << 20;
    let mut plain = Vec::new();
    let decompressed = flate2::bufread::MultiGzDecoder::new(data)
        .take(LIMIT)
        .read_to_end(&mut plain);
    let complete = decompressed.is_ok() && (plain.len() as u64) < LIMIT;
    match result {
        Ok(go_on) => {
            assert!(go_on, "reader stopped although every batch was taken");
            got.check("gzip");
            if (plain.len() as u64) < LIMIT {
                assert!(
                    decompressed.is_ok(),
                    "the reader took gzip that does not decompress"
                );
            }
            if complete {
                let (plain_result, want) = read_object_bytes(Encoding::Plain, &plain, &setup);
                assert!(
                    plain_result.is_ok(),
                    "the decompressed text fails as plain text"
                );
                assert_eq!(got, want, "gzip and plain text decode differently");
            }
        }
        Err(Error::Io { path, source }) => {
            assert_eq!(
                path,
                std::path::Path::new(OBJECT),
                "error names another object"
            );
            let message = source.to_string();
            assert!(!message.is_empty());
            assert!(
                !complete,
                "the reader failed ({message}) on gzip that decompresses"
            );
        }
        Err(other) => panic!("gzip reading failed with something else than an IO error: {other}"),
    }
}

/// Target `parquet`: arbitrary bytes (and mutated Parquet files) through the local
/// reader's Parquet set-up, with every column and with none (the same rows must be kept),
/// and with a time window that prunes row groups by their statistics.
pub fn parquet(data: &[u8]) {
    let check_err = |e: &Error| match e {
        Error::Parquet { object, message } => {
            assert_eq!(object, OBJECT, "error names another object");
            assert!(!message.is_empty());
        }
        other => panic!("Parquet reading failed with something else than a Parquet error: {other}"),
    };
    let all = Setup {
        batch_size: 64,
        ..Setup::new()
    };
    let (result, got) = read_object_bytes(Encoding::Parquet, data, &all);
    match &result {
        Ok(go_on) => {
            assert!(go_on, "reader stopped although every batch was taken");
            got.check("parquet");
        }
        Err(e) => check_err(e),
    }
    let none = Setup {
        columns: Some(Vec::new()),
        ..all
    };
    let (none_result, none_got) = read_object_bytes(Encoding::Parquet, data, &none);
    match (&result, &none_result) {
        (Ok(_), Ok(_)) => assert_eq!(
            got, none_got,
            "the rows kept depend on the columns projected"
        ),
        (Ok(_), Err(e)) => panic!("fails with no column projected, not with all: {e}"),
        (Err(_), Err(e)) => check_err(e),
        (Err(_), Ok(_)) => {}
    }
    let windowed = Setup {
        columns: Some(vec!["srcaddr", "start_time", "bytes"]),
        window: Some(TimeWindow {
            since: Some(1_700_000_000),
            until: Some(1_800_000_000),
        }),
        prune: true,
        ..Setup::new()
    };
    let (windowed_result, w) = read_object_bytes(Encoding::Parquet, data, &windowed);
    match windowed_result {
        Ok(_) => w.check("parquet with a window"),
        Err(e) => check_err(&e),
    }
}
