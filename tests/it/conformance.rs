//! Every public peer test vector in `tests/data/conformance` (copied from the shared
//! conformance set; see its SOURCES.md) must decode to the values the peers expect.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Int32Type, Int64Type};
use sageflow::decode::{DecodeOptions, RejectSink, ScanStats, TextDecoder};
use sageflow::format::{FlowSchema, Layout};
use sageflow::source::{SourceObject, parse_key};
use serde_json::Value;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance")
}

fn options(format: Option<&str>, sink: Arc<RejectSink>) -> Arc<DecodeOptions> {
    let layout = format.map(|f| Layout::parse(f).expect("case format parses"));
    Arc::new(DecodeOptions::new(
        FlowSchema::default(),
        None,
        1024,
        None,
        layout,
        sink,
    ))
}

/// Decodes lines with a fresh decoder; returns the rows and the reject count.
fn decode_lines(format: Option<&str>, lines: &[&str]) -> (Option<RecordBatch>, u64) {
    let sink = Arc::new(RejectSink::new(false, None));
    let mut dec = TextDecoder::new(options(format, sink.clone()), "case");
    for l in lines {
        dec.decode_line(l.as_bytes()).expect("not strict");
    }
    (dec.flush().unwrap(), sink.count())
}

fn read_file(path: &Path) -> (Vec<RecordBatch>, u64, Arc<ScanStats>) {
    let sink = Arc::new(RejectSink::new(false, None));
    let stats = Arc::new(ScanStats::default());
    let obj = SourceObject::local(
        path,
        std::fs::metadata(path).unwrap().len(),
        parse_key(&path.to_string_lossy()),
    );
    let mut batches = Vec::new();
    let mut emit = |b: RecordBatch| {
        batches.push(b);
        true
    };
    sageflow::source::read::read_object(
        &obj,
        &options(None, sink.clone()),
        &stats,
        None,
        &mut emit,
    )
    .expect("file reads");
    (batches, sink.count(), stats)
}

/// Asserts that row `row` of `batch` has the expected value in `column`.
fn check(case: &str, batch: &RecordBatch, row: usize, column: &str, expected: &Value) {
    let col = batch
        .column_by_name(column)
        .unwrap_or_else(|| panic!("{case}: no column {column}"));
    if expected.is_null() {
        assert!(col.is_null(row), "{case}: {column} should be NULL");
        return;
    }
    assert!(
        col.is_valid(row),
        "{case}: {column} is NULL, expected {expected}"
    );
    let got = match col.data_type() {
        DataType::Int32 => Value::from(col.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => Value::from(col.as_primitive::<Int64Type>().value(row)),
        DataType::Utf8View => Value::from(col.as_string_view().value(row)),
        other => panic!("{case}: unexpected type {other} for {column}"),
    };
    assert_eq!(&got, expected, "{case}: column {column}");
}

#[test]
fn peer_parser_cases() {
    let text = std::fs::read_to_string(data().join("peer-parser-cases.json")).unwrap();
    let cases: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(cases.len(), 51, "all 51 peer cases are present");
    let mut checked = 0;
    for case in &cases {
        let id = case["id"].as_str().unwrap();
        let format = case["format"].as_str();
        let assertion = case["assert"].as_str();
        if format == Some("parquet") {
            let path = data().join(case["input_file"].as_str().unwrap());
            let (batches, rejected, _) = read_file(&path);
            assert_eq!(rejected, 0, "{id}");
            let row = case["row"].as_u64().unwrap() as usize;
            let batch =
                datafusion::arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
            for (col, v) in case["expected"].as_object().unwrap() {
                check(id, &batch, row, col, v);
            }
            checked += 1;
            continue;
        }
        let line = case["line"].as_str().unwrap();
        let (batch, rejected) = decode_lines(format, &[line]);
        match assertion {
            Some("skipped") => {
                assert!(batch.is_none(), "{id}: must not produce a row");
                assert_eq!(rejected, 1, "{id}: must be counted as rejected");
            }
            Some("parses_ok") | None => {
                assert_eq!(rejected, 0, "{id}: rejected");
                let batch = batch.unwrap_or_else(|| panic!("{id}: no row"));
                assert_eq!(batch.num_rows(), 1, "{id}");
                if let Some(expected) = case["expected"].as_object() {
                    for (col, v) in expected {
                        check(id, &batch, 0, col, v);
                    }
                }
            }
            Some(other) => panic!("{id}: unknown assertion {other}"),
        }
        checked += 1;
    }
    assert_eq!(checked, 51);
}

/// Every record of the whole sample files, with their header lines, parses; the one
/// bogus line is rejected, not dropped.
#[test]
fn whole_flow_log_files() {
    let expect = [
        ("aws-docs/default-v2-examples.log", 7, 0),
        ("aws-docs/nat-gateway-custom-with-header.log", 6, 0),
        ("aws-docs/tcp-flag-sequence-v3-with-header.log", 8, 0),
        ("aws-docs/traffic-path-v5-with-header.log", 2, 0),
        ("aws-docs/transit-gateway-custom-with-header.log", 4, 0),
        ("flowlogs-reader/v2-millisecond-timestamps.log", 1, 0),
        ("flowlogs-reader/v2-records.log", 5, 0),
        ("flowlogs-reader/v3-alphabetical-header.log", 2, 0),
        ("flowlogs-reader/v4-alphabetical-header.log", 2, 0),
        (
            "flowlogs-reader/v5-alphabetical-header-with-bogus-line.log",
            2,
            1,
        ),
        ("flowlogs-reader/v6-transit-gateway-fields.log", 1, 0),
    ];
    for (file, rows, rejects) in expect {
        let (batches, rejected, stats) = read_file(&data().join("flowlogs").join(file));
        let got: usize = batches.iter().map(RecordBatch::num_rows).sum();
        assert_eq!(got, rows, "{file}: rows");
        assert_eq!(rejected, rejects, "{file}: rejects");
        let records = ScanStats::get(&stats.records);
        assert_eq!(
            records,
            rows as u64 + rejects,
            "{file}: records = rows + rejected"
        );
    }
}

#[test]
fn millisecond_file_is_normalised() {
    let (batches, _, _) =
        read_file(&data().join("flowlogs/flowlogs-reader/v2-millisecond-timestamps.log"));
    check("ms", &batches[0], 0, "start", &Value::from(1512564058));
    check("ms", &batches[0], 0, "end", &Value::from(1512564059));
}

/// CloudWatch FilterLogEvents pages: each event message is a record in the default
/// format; the `bogus!` message is rejected and counted.
#[test]
fn cloudwatch_pages() {
    let text = std::fs::read_to_string(
        data().join("cloudwatch/filter-log-events-pages-flowlogs-reader.json"),
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let messages: Vec<&str> = doc["pages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["events"].as_array().unwrap())
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    let (batch, rejected) = decode_lines(None, &messages);
    assert_eq!(batch.unwrap().num_rows(), 5);
    assert_eq!(rejected, 1);
}
