//! Property tests: the same records, written in every shape AWS delivers them (plain text
//! with a header line, gzip in one member and in several, Parquet as AWS types it,
//! CloudWatch `{"message": …}` lines, several to a line), read back to the same rows; and
//! damaged records among good ones are each rejected at their own line and field, with
//! `records = rows + rejected`.
//!
//! Formats are random subsets of every known field in random order, so every column type,
//! NULL (`-`) in every position, IPv6, millisecond epochs and out-of-the-ordinary but valid
//! integers meet every shape. A failure prints the case; proptest shrinks it first.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Int32Array, Int64Array, RecordBatch, StringArray,
};
use datafusion::arrow::datatypes::{
    DataType, Field, Int32Type, Int64Type, Schema, TimestampSecondType,
};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, GzipLevel};
use datafusion::parquet::file::properties::WriterProperties;
use proptest::prelude::*;
use proptest::sample::Index;
use sageflow::decode::{DecodeOptions, RejectSink, ScanStats, normalise_epoch};
use sageflow::format::{FIELDS, FlowSchema, Kind, Layout, lookup};
use sageflow::source::{SourceObject, parse_key, read::read_object};

/// One value as written: NULL (`-`), an integer, or text.
#[derive(Debug, Clone, PartialEq)]
enum V {
    Null,
    Int(i64),
    Text(String),
}

impl V {
    fn token(&self) -> String {
        match self {
            V::Null => "-".into(),
            V::Int(i) => i.to_string(),
            V::Text(s) => s.clone(),
        }
    }
}

/// A record format (indices into `FIELDS`) and records in it.
#[derive(Debug, Clone)]
struct Case {
    fields: Vec<usize>,
    rows: Vec<Vec<V>>,
}

impl Case {
    fn header(&self) -> String {
        self.fields
            .iter()
            .map(|&i| FIELDS[i].name)
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn layout(&self) -> Layout {
        Layout::parse(&self.header()).expect("known fields make a layout")
    }

    fn line(&self, row: &[V]) -> String {
        row.iter().map(V::token).collect::<Vec<_>>().join(" ")
    }
}

/// Text AWS could put in a string field: ids, enums, ARNs, percent-encoded and non-ASCII
/// tag values. Never a known field name (a record made only of those would read as a
/// header line) nor a Parquet NULL stand-in.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,4}-[0-9a-f]{1,17}",
        "[A-Za-z0-9%][A-Za-z0-9._:/%+=@-]{0,30}",
        "[a-zé日ü]{1,8}",
        Just("unknown".to_string()),
        Just("ACCEPT".to_string()),
    ]
    .prop_filter("a field name or NULL stand-in", |s| {
        lookup(s).is_none() && !matches!(s.as_str(), "None" | "nan" | "NaN" | "null" | "NULL")
    })
}

fn value(field: usize) -> BoxedStrategy<V> {
    let v = match FIELDS[field].kind {
        Kind::Int32 => prop_oneof![0..=65535i64, any::<i32>().prop_map(i64::from)]
            .prop_map(V::Int)
            .boxed(),
        Kind::Int64 => prop_oneof![0..=(1i64 << 40), any::<i64>()]
            .prop_map(V::Int)
            .boxed(),
        // Seconds, milliseconds (normalised to seconds on read) and anything else.
        Kind::Epoch => prop_oneof![
            1_400_000_000..=1_900_000_000i64,
            1_400_000_000_000..=1_900_000_000_000i64,
            any::<i64>()
        ]
        .prop_map(V::Int)
        .boxed(),
        Kind::Ip => prop_oneof![
            any::<[u8; 4]>().prop_map(|o| Ipv4Addr::from(o).to_string()),
            any::<[u16; 8]>().prop_map(|s| Ipv6Addr::from(s).to_string()),
        ]
        .prop_map(V::Text)
        .boxed(),
        Kind::Str => text().prop_map(V::Text).boxed(),
    };
    prop_oneof![1 => Just(V::Null), 5 => v].boxed()
}

fn case(max_rows: usize) -> impl Strategy<Value = Case> {
    let all: Vec<usize> = (0..FIELDS.len()).collect();
    proptest::sample::subsequence(all, 1..=FIELDS.len())
        .prop_shuffle()
        .prop_flat_map(move |fields| {
            let row: Vec<BoxedStrategy<V>> = fields.iter().map(|&f| value(f)).collect();
            let rows = proptest::collection::vec(row, 0..=max_rows);
            (Just(fields), rows)
        })
        .prop_map(|(fields, rows)| Case { fields, rows })
}

/// Ends each line with `\n` or `\r\n`; the last line may have no ending.
fn text_file(header: Option<&str>, lines: &[Vec<u8>], crlf: bool, final_newline: bool) -> Vec<u8> {
    let eol: &[u8] = if crlf { b"\r\n" } else { b"\n" };
    let mut out = Vec::new();
    let all = header
        .map(|h| h.as_bytes().to_vec())
        .into_iter()
        .chain(lines.iter().cloned());
    let all: Vec<Vec<u8>> = all.collect();
    for (i, l) in all.iter().enumerate() {
        out.extend_from_slice(l);
        if i + 1 < all.len() || final_newline {
            out.extend_from_slice(eol);
        }
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// Members cut anywhere, mid-line included; repeated cuts make empty members.
fn gzip_members(data: &[u8], cuts: &[Index]) -> Vec<u8> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(data.len() + 1)).collect();
    at.sort_unstable();
    let mut out = Vec::new();
    let mut from = 0;
    for c in at.into_iter().chain(std::iter::once(data.len())) {
        out.extend(gzip(&data[from..c]));
        from = c;
    }
    out
}

/// Parquet as AWS writes it: underscore names, INT_32/INT_64/STRING, gzip, `-` as NULL.
fn parquet(case: &Case, row_group: usize) -> Vec<u8> {
    let mut fields = Vec::new();
    let mut columns: Vec<ArrayRef> = Vec::new();
    for (pos, &f) in case.fields.iter().enumerate() {
        let def = &FIELDS[f];
        let values = case.rows.iter().map(|r| &r[pos]);
        let (dt, col): (DataType, ArrayRef) = match def.kind {
            Kind::Int32 => (
                DataType::Int32,
                Arc::new(Int32Array::from_iter(values.map(|v| match v {
                    V::Int(i) => Some(i32::try_from(*i).expect("generated in range")),
                    _ => None,
                }))),
            ),
            Kind::Int64 | Kind::Epoch => (
                DataType::Int64,
                Arc::new(Int64Array::from_iter(values.map(|v| match v {
                    V::Int(i) => Some(*i),
                    _ => None,
                }))),
            ),
            Kind::Str | Kind::Ip => (
                DataType::Utf8,
                Arc::new(StringArray::from_iter(values.map(|v| match v {
                    V::Text(s) => Some(s.clone()),
                    _ => None,
                }))),
            ),
        };
        fields.push(Field::new(def.column, dt, true));
        columns.push(col);
    }
    let schema = Arc::new(Schema::new(fields));
    let props = WriterProperties::builder()
        .set_compression(Compression::GZIP(GzipLevel::default()))
        .set_max_row_group_row_count(Some(row_group.max(1)))
        .build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema.clone(), Some(props)).unwrap();
    if !case.rows.is_empty() {
        w.write(&RecordBatch::try_new(schema, columns).unwrap())
            .unwrap();
    }
    w.close().unwrap();
    out
}

/// `{"message": …}` objects, `group`s of them to a line, without a header (as CloudWatch
/// exports and Firehose deliver them).
fn cloudwatch(case: &Case, group: usize) -> Vec<Vec<u8>> {
    case.rows
        .chunks(group.max(1))
        .enumerate()
        .map(|(i, rows)| {
            rows.iter()
                .map(|r| {
                    serde_json::json!({"timestamp": 1_763_632_800_000i64 + i as i64, "message": case.line(r)})
                        .to_string()
                })
                .collect::<String>()
                .into_bytes()
        })
        .collect()
}

/// Captures every reject as NDJSON.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Read {
    rows: Vec<Vec<V>>,
    records: u64,
    rows_counted: u64,
    /// (line, field) of every reject, in line order.
    rejects: Vec<(u64, Option<String>)>,
}

/// Reads one file through the library's object reader, every decoded column. A batch
/// may pass `batch_size` by `slack` rows: a line is decoded whole, and a CloudWatch line
/// can hold several records.
fn read(path: &Path, log_format: Option<Layout>, batch_size: usize, slack: usize) -> Read {
    let captured = Captured::default();
    let sink = Arc::new(RejectSink::new(false, Some(Box::new(captured.clone()))));
    let stats = Arc::new(ScanStats::default());
    let opts = Arc::new(DecodeOptions::new(
        FlowSchema::default(),
        None,
        batch_size,
        None,
        log_format,
        sink.clone(),
    ));
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
    let go_on = read_object(&obj, &opts, &stats, None, &mut emit)
        .unwrap_or_else(|e| panic!("{} fails: {e}", path.display()));
    assert!(go_on);
    sink.flush().unwrap();
    let mut rows = Vec::new();
    // Every row names its object, and its line numbers grow through the object (records
    // of one CloudWatch message share its line).
    let mut last_line = 0;
    for b in &batches {
        assert!(
            b.num_rows() <= batch_size + slack,
            "{}: batch of {} rows, over {batch_size} + {slack}",
            path.display(),
            b.num_rows()
        );
        let object = b.schema().index_of("source_object").unwrap();
        let line = b.schema().index_of("source_line").unwrap();
        for r in 0..b.num_rows() {
            assert_eq!(cell(b.column(object), r), V::Text(obj.name.clone()));
            let V::Int(l) = cell(b.column(line), r) else {
                panic!("{}: no source_line", path.display());
            };
            assert!(
                l >= last_line.max(1),
                "{}: line {l} after {last_line}",
                path.display()
            );
            last_line = l;
            rows.push(
                b.columns()
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| *i != object && *i != line)
                    .map(|(_, c)| cell(c, r))
                    .collect(),
            );
        }
    }
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let mut rejects: Vec<(u64, Option<String>)> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["object"], obj.name.as_str(), "reject names its file");
            (
                v["line"].as_u64().unwrap(),
                v["field"].as_str().map(str::to_string),
            )
        })
        .collect();
    rejects.sort();
    assert_eq!(rejects.len() as u64, sink.count());
    let snap = stats.snapshot();
    Read {
        rows,
        records: snap.records,
        rows_counted: snap.rows,
        rejects,
    }
}

fn cell(c: &ArrayRef, row: usize) -> V {
    if c.is_null(row) {
        return V::Null;
    }
    match c.data_type() {
        DataType::Int32 => V::Int(c.as_primitive::<Int32Type>().value(row).into()),
        DataType::Int64 => V::Int(c.as_primitive::<Int64Type>().value(row)),
        DataType::Timestamp(..) => V::Int(c.as_primitive::<TimestampSecondType>().value(row)),
        DataType::Utf8View => V::Text(c.as_string_view().value(row).to_string()),
        other => panic!("unexpected column type {other}"),
    }
}

/// The rows the table must hold for `rows` of `case`: every decoded column, NULL where
/// the format lacks the field, epochs in seconds, `start_time`/`end_time` from them.
fn expected(case: &Case, rows: &[Vec<V>]) -> Vec<Vec<V>> {
    let schema = FlowSchema::default();
    let opts = DecodeOptions::new(schema, None, 1, None, None, Arc::new(RejectSink::default()));
    let at = |name: &str| {
        let k = lookup(name).expect("known");
        case.fields.iter().position(|&f| f == k)
    };
    rows.iter()
        .map(|row| {
            opts.output_schema
                .fields()
                .iter()
                // Where the record was read is checked by `read`.
                .filter(|f| !matches!(f.name().as_str(), "source_object" | "source_line"))
                .map(|f| {
                    let pos = match f.name().as_str() {
                        "start_time" => at("start"),
                        "end_time" => at("end"),
                        name => at(name),
                    };
                    match pos.map(|p| &row[p]) {
                        None | Some(V::Null) => V::Null,
                        Some(V::Int(i))
                            if FIELDS[case.fields[pos.unwrap()]].kind == Kind::Epoch =>
                        {
                            V::Int(normalise_epoch(*i))
                        }
                        Some(v) => v.clone(),
                    }
                })
                .collect()
        })
        .collect()
}

/// `cases` per property, small enough for a debug build in CI; `PROPTEST_CASES=N` runs
/// more locally.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(cases),
        // Regressions are kept in the proptest output; the crate has no regressions dir.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn every_shape_reads_back_the_same_rows(
        case in case(30),
        crlf in any::<bool>(),
        final_newline in any::<bool>(),
        cuts in proptest::collection::vec(any::<Index>(), 0..6),
        row_group in 1usize..20,
        group in 1usize..5,
        batch_size in 1usize..40,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<Vec<u8>> = case.rows.iter().map(|r| case.line(r).into_bytes()).collect();
        let header = case.header();
        let plain = text_file(Some(&header), &lines, crlf, final_newline);
        let shapes = [
            (write(dir.path(), "plain.log", &plain), None, 0),
            (write(dir.path(), "one-member.log.gz", &gzip(&plain)), None, 0),
            (write(dir.path(), "members.log.gz", &gzip_members(&plain, &cuts)), None, 0),
            (write(dir.path(), "aws.log.parquet", &parquet(&case, row_group)), None, 0),
            (
                write(dir.path(), "cloudwatch.log", &text_file(None, &cloudwatch(&case, group), crlf, final_newline)),
                Some(case.layout()),
                group - 1,
            ),
        ];
        let want = expected(&case, &case.rows);
        for (path, log_format, slack) in shapes {
            let got = read(&path, log_format, batch_size, slack);
            let shape = path.file_name().unwrap().to_string_lossy().into_owned();
            prop_assert_eq!(&got.rejects, &Vec::new(), "{}: rejects", shape);
            prop_assert_eq!(got.records, case.rows.len() as u64, "{}: records", shape);
            prop_assert_eq!(got.rows_counted, case.rows.len() as u64, "{}: rows counted", shape);
            prop_assert_eq!(&got.rows, &want, "{}: rows", shape);
        }
    }
}

/// How one record is damaged.
#[derive(Debug, Clone)]
enum Damage {
    ExtraField,
    MissingField,
    NotANumber(Index, Index),
    BadIp(Index, Index),
    Overlong(Index, Index),
    NotUtf8(Index),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        Just(Damage::ExtraField),
        Just(Damage::MissingField),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::NotANumber(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::BadIp(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Damage::Overlong(a, b)),
        any::<Index>().prop_map(Damage::NotUtf8),
    ]
}

/// The damaged record's bytes and the field its reject must name (`None` for the whole
/// record: wrong field count, not UTF-8).
fn apply(case: &Case, row: &[V], d: &Damage) -> (Vec<u8>, Option<String>) {
    let mut tokens: Vec<String> = row.iter().map(V::token).collect();
    let positions = |want: &dyn Fn(Kind) -> bool| -> Vec<usize> {
        (0..case.fields.len())
            .filter(|&p| want(FIELDS[case.fields[p]].kind))
            .collect()
    };
    let is_int = |k: Kind| matches!(k, Kind::Int32 | Kind::Int64 | Kind::Epoch);
    let mut replace = |candidates: Vec<usize>,
                       pick: &Index,
                       values: &dyn Fn(Kind) -> Vec<&'static str>,
                       which: &Index| {
        if candidates.is_empty() {
            return None;
        }
        let p = candidates[pick.index(candidates.len())];
        let kind = FIELDS[case.fields[p]].kind;
        let vals = values(kind);
        tokens[p] = vals[which.index(vals.len())].to_string();
        Some(FIELDS[case.fields[p]].name.to_string())
    };
    let field = match d {
        Damage::ExtraField => None,
        Damage::MissingField => None,
        Damage::NotANumber(pick, which) => replace(
            positions(&is_int),
            pick,
            &|_| vec!["abc", "12a", "1.5", "0x10", "--1", "1e3", "٣"],
            which,
        ),
        Damage::BadIp(pick, which) => replace(
            positions(&|k| k == Kind::Ip),
            pick,
            &|_| {
                vec![
                    "10.0.0.256",
                    "1.2.3",
                    "1.2.3.4.5",
                    "01.2.3.4",
                    "2001:db8::g",
                    "not-an-ip",
                    "10.0.0.1/24",
                ]
            },
            which,
        ),
        Damage::Overlong(pick, which) => replace(
            positions(&is_int),
            pick,
            &|k| match k {
                Kind::Int32 => vec!["2147483648", "-2147483649", "99999999999"],
                _ => vec!["9223372036854775808", "123456789012345678901234567890"],
            },
            which,
        ),
        Damage::NotUtf8(_) => None,
    };
    let fallback_to_count = field.is_none()
        && matches!(
            d,
            Damage::NotANumber(..) | Damage::BadIp(..) | Damage::Overlong(..)
        );
    match d {
        Damage::MissingField if tokens.len() > 1 => {
            tokens.pop();
        }
        Damage::ExtraField | Damage::MissingField => tokens.push("x".into()),
        _ if fallback_to_count => tokens.push("x".into()),
        _ => {}
    }
    let mut bytes = tokens.join(" ").into_bytes();
    if let Damage::NotUtf8(at) = d {
        bytes.insert(at.index(bytes.len() + 1), 0xff);
    }
    (bytes, field)
}

proptest! {
    #![proptest_config(config(40))]

    #[test]
    fn damaged_records_are_rejected_at_their_line_and_field(
        case in case(25).prop_filter("needs records", |c| !c.rows.is_empty()),
        damages in proptest::collection::vec(proptest::option::weighted(0.4, damage()), 25),
        cuts in proptest::collection::vec(any::<Index>(), 0..4),
        batch_size in 1usize..40,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut lines = Vec::new();
        let mut good = Vec::new();
        // (0-based record index, field) of each damaged record.
        let mut damaged = Vec::new();
        for (i, row) in case.rows.iter().enumerate() {
            match &damages[i] {
                Some(d) => {
                    let (bytes, field) = apply(&case, row, d);
                    lines.push(bytes);
                    damaged.push((i as u64, field));
                }
                None => {
                    lines.push(case.line(row).into_bytes());
                    good.push(row.clone());
                }
            }
        }
        let header = case.header();
        let plain = text_file(Some(&header), &lines, false, true);
        let cw_lines: Vec<Vec<u8>> = lines
            .iter()
            .map(|l| {
                // Valid UTF-8 goes through JSON escaping; the rest is spliced in raw, as a
                // damaged export would hold it.
                match std::str::from_utf8(l) {
                    Ok(s) => serde_json::json!({"message": s}).to_string().into_bytes(),
                    Err(_) => [&b"{\"message\": \""[..], l, b"\"}"].concat(),
                }
            })
            .collect();
        let shapes = [
            (write(dir.path(), "plain.log", &plain), None, 1),
            (write(dir.path(), "members.log.gz", &gzip_members(&plain, &cuts)), None, 1),
            (write(dir.path(), "cloudwatch.log", &text_file(None, &cw_lines, false, true)), Some(case.layout()), 0),
        ];
        for (path, log_format, header_lines) in shapes {
            let shape = path.file_name().unwrap().to_string_lossy().into_owned();
            let got = read(&path, log_format, batch_size, 0);
            let want: Vec<(u64, Option<String>)> = damaged
                .iter()
                .map(|(i, f)| (i + 1 + header_lines, f.clone()))
                .collect();
            prop_assert_eq!(&got.rejects, &want, "{}: rejects (line, field)", shape);
            prop_assert_eq!(got.records, case.rows.len() as u64, "{}: records", shape);
            prop_assert_eq!(got.records, got.rows_counted + got.rejects.len() as u64, "{}: records = rows + rejected", shape);
            prop_assert_eq!(&got.rows, &expected(&case, &good), "{}: rows kept", shape);
        }

        // Parquet with every column as text, as a dataframe writer leaves it: the same
        // field checks apply (numbers parsed, addresses validated). Damage that only text
        // can carry (field count, bytes that are not UTF-8) has no Parquet form, so those
        // records are left out.
        let mut pq_rows: Vec<Vec<String>> = Vec::new();
        let mut pq_want = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            match damaged.iter().find(|(d, _)| *d == i as u64) {
                Some((_, None)) => continue,
                Some((_, field)) => pq_want.push((pq_rows.len() as u64 + 1, field.clone())),
                None => {}
            }
            let text = std::str::from_utf8(line).expect("field damage keeps UTF-8");
            pq_rows.push(text.split(' ').map(str::to_string).collect());
        }
        let path = write(dir.path(), "text-columns.parquet", &parquet_text(&case, &pq_rows));
        let got = read(&path, None, batch_size, 0);
        prop_assert_eq!(&got.rejects, &pq_want, "parquet: rejects (row, field)");
        prop_assert_eq!(got.records, pq_rows.len() as u64, "parquet: records");
        prop_assert_eq!(got.records, got.rows_counted + got.rejects.len() as u64, "parquet: records = rows + rejected");
        prop_assert_eq!(&got.rows, &expected(&case, &good), "parquet: rows kept");
    }
}

/// Parquet with every column as text (`-` kept as text), one row per token list.
fn parquet_text(case: &Case, rows: &[Vec<String>]) -> Vec<u8> {
    let fields: Vec<Field> = case
        .fields
        .iter()
        .map(|&f| Field::new(FIELDS[f].column, DataType::Utf8, true))
        .collect();
    let columns: Vec<ArrayRef> = (0..case.fields.len())
        .map(|p| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r[p].as_str()),
            )) as ArrayRef
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, schema.clone(), None).unwrap();
    if !rows.is_empty() {
        w.write(&RecordBatch::try_new(schema, columns).unwrap())
            .unwrap();
    }
    w.close().unwrap();
    out
}

/// The binary, through the DataFusion table, prints the same CSV for every shape of a
/// few generated cases (the properties above read through the library).
#[test]
fn binary_prints_the_same_table_for_every_shape() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    for _ in 0..3 {
        let case = case(20).new_tree(&mut runner).unwrap().current();
        let dir = tempfile::tempdir().unwrap();
        let lines: Vec<Vec<u8>> = case
            .rows
            .iter()
            .map(|r| case.line(r).into_bytes())
            .collect();
        let plain = text_file(Some(&case.header()), &lines, false, true);
        let cuts = proptest::collection::vec(any::<Index>(), 2)
            .new_tree(&mut runner)
            .unwrap()
            .current();
        let format = case.layout().to_aws_format();
        let shapes = [
            (write(dir.path(), "plain.log", &plain), false),
            (
                write(dir.path(), "members.log.gz", &gzip_members(&plain, &cuts)),
                false,
            ),
            (
                write(dir.path(), "aws.log.parquet", &parquet(&case, 7)),
                false,
            ),
            (
                write(
                    dir.path(),
                    "cloudwatch.log",
                    &text_file(None, &cloudwatch(&case, 3), false, true),
                ),
                true,
            ),
        ];
        let columns: Vec<String> = case
            .fields
            .iter()
            .map(|&f| format!("\"{}\"", FIELDS[f].column))
            .collect();
        let sql = format!("SELECT {} FROM flows", columns.join(", "));
        let mut first: Option<String> = None;
        for (path, needs_format) in shapes {
            let mut cmd = assert_cmd::Command::cargo_bin("sageflow").unwrap();
            cmd.env_remove("RUST_LOG")
                .arg("query")
                .arg(&path)
                .args(["--format", "csv", "--sql", &sql]);
            if needs_format {
                cmd.args(["--log-format", &format]);
            }
            let out = cmd.output().unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{}: {err}", path.display());
            let n = case.rows.len();
            assert!(
                err.contains(&format!("{n} records: {n} rows, 0 rejected")),
                "{}: {err}",
                path.display()
            );
            let csv = String::from_utf8(out.stdout).unwrap();
            assert_eq!(csv.lines().count(), n + 1, "{}: {csv}", path.display());
            match &first {
                None => first = Some(csv),
                Some(f) => assert_eq!(&csv, f, "{} differs from plain.log", path.display()),
            }
        }
    }
}

/// Found by the second property: an integer of 19 digits or more overflowed the fast
/// path's accumulator, a panic in debug builds; it must be a reject naming the field.
#[test]
fn integers_of_any_length_are_rejected_not_a_panic() {
    let sink = Arc::new(RejectSink::new(false, None));
    let opts = Arc::new(DecodeOptions::new(
        FlowSchema::default(),
        None,
        8,
        None,
        None,
        sink.clone(),
    ));
    let mut dec = sageflow::decode::TextDecoder::new(opts, "long-ints.log");
    for v in ["1234567890123456789", "123456789012345678901234567890"] {
        let line = format!(
            "2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 {v} 1763632800 1763632860 ACCEPT OK"
        );
        dec.decode_line(line.as_bytes()).unwrap();
    }
    let rows = dec.flush().unwrap().map_or(0, |b| b.num_rows());
    // 19 digits still fit an i64 (up to 9223372036854775807); 30 do not.
    assert_eq!((rows, sink.count()), (1, 1));
    let r = &sink.first()[0];
    assert_eq!(
        (r.line, r.field.as_deref(), r.reason.as_str()),
        (2, Some("bytes"), "not a 64-bit integer")
    );
}
