//! Criterion benches of the hot path: text records → RecordBatch (decoder), and the
//! enrichment stage over decoded batches. Input: 100k generated v5 records.

use std::io::Read;
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sageflow::decode::{DecodeOptions, RejectSink, TextDecoder};
use sageflow::enrich::Enricher;
use sageflow::format::FlowSchema;

const RECORDS: u64 = 100_000;

fn corpus() -> (Vec<u8>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let spec = sageflow::generate::Spec {
        records: RECORDS,
        objects: 1,
        v5: true,
        enis: 200,
        seed: 7,
        start: 1795132800,
    };
    let paths = sageflow::generate::generate(dir.path(), &spec).unwrap();
    let mut text = Vec::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(&paths[0]).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    (text, dir)
}

fn options(columns: Option<&[&str]>) -> Arc<DecodeOptions> {
    let schema = FlowSchema::default();
    let projection = columns.map(|c| c.iter().map(|n| schema.index_of(n).unwrap()).collect());
    Arc::new(DecodeOptions::new(
        schema,
        projection,
        8192,
        None,
        None,
        Arc::new(RejectSink::new(false, None)),
    ))
}

fn decode_all(
    text: &[u8],
    opts: &Arc<DecodeOptions>,
) -> Vec<datafusion::arrow::array::RecordBatch> {
    let mut d = TextDecoder::new(opts.clone(), "bench");
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < text.len() {
        pos += d.decode(&text[pos..], true).unwrap();
        if let Some(b) = d.flush().unwrap() {
            out.push(b);
        }
    }
    out
}

fn benches(c: &mut Criterion) {
    let (text, dir) = corpus();
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(RECORDS));
    g.sample_size(10);
    let all = options(None);
    g.bench_function("all_columns", |b| b.iter(|| decode_all(&text, &all)));
    let q = options(Some(&[
        "interface_id",
        "bytes",
        "action",
        "flow_direction",
        "dstaddr",
    ]));
    g.bench_function("query_b_columns", |b| b.iter(|| decode_all(&text, &q)));
    let none = options(Some(&[]));
    g.bench_function("count_only", |b| b.iter(|| decode_all(&text, &none)));
    g.finish();

    let inv = sageflow::inventory::load::load(&dir.path().join("inventory"), None).unwrap();
    let enricher = Enricher::new(Arc::new(inv));
    let inputs: Vec<&str> = sageflow::enrich::INPUTS.to_vec();
    let batches = decode_all(&text, &options(Some(&inputs)));
    let mut g = c.benchmark_group("enrich");
    g.throughput(Throughput::Elements(RECORDS));
    g.sample_size(10);
    // Only the columns a query reads are made; `remote_evidence` is text made per record.
    let all: Vec<usize> = (0..sageflow::enrich::COLUMNS.len()).collect();
    let without_evidence: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&k| k != sageflow::enrich::REMOTE_EVIDENCE)
        .collect();
    let leaves_vpc = vec![
        sageflow::enrich::COLUMNS
            .iter()
            .position(|(n, _)| *n == "leaves_vpc")
            .unwrap(),
    ];
    for (name, wanted) in [
        ("all_enrichment_columns", &all),
        ("without_remote_evidence", &without_evidence),
        ("leaves_vpc_only", &leaves_vpc),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| {
                batches
                    .iter()
                    .map(|x| enricher.enrich(x, wanted).unwrap().len())
                    .sum::<usize>()
            })
        });
    }
    g.finish();
}

criterion_group!(decode, benches);
criterion_main!(decode);
