//! Baseline for `benches/compare.sh`: DataFusion's own CSV reader over the same gzip flow
//! logs (space delimiter, header line, `-` as NULL), with no flow-log knowledge.
//!
//! `cargo run --release --example datafusion_csv -- <dir-of-.log.gz> <a|b|c> [partitions]`

use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::prelude::{CsvReadOptions, SessionConfig, SessionContext};

const QUERIES: [(&str, &str); 3] = [
    ("a", "SELECT count(*) FROM flows"),
    (
        "b",
        "SELECT \"interface-id\", sum(bytes) AS bytes FROM flows \
         WHERE action = 'ACCEPT' AND \"flow-direction\" = 'egress' AND dstaddr NOT LIKE '10.%' \
         GROUP BY 1",
    ),
    // leaves-vpc without enrichment: accepted traffic of the job ENIs (requester-managed,
    // every fourth generated ENI) whose remote address is outside 10.0.0.0/8.
    (
        "c",
        "SELECT count(*) FROM flows WHERE action = 'ACCEPT' \
         AND (CAST(substr(\"interface-id\", 5) AS VARCHAR) LIKE '0a0000000000000%') \
         AND ((\"flow-direction\" = 'egress' AND dstaddr NOT LIKE '10.%') \
           OR (\"flow-direction\" = 'ingress' AND srcaddr NOT LIKE '10.%'))",
    ),
];

#[tokio::main]
async fn main() -> datafusion::error::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = args
        .get(1)
        .expect("usage: datafusion_csv DIR a|b|c [partitions]");
    let which = args.get(2).map_or("b", String::as_str);
    let partitions: usize = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(2);
    let ctx =
        SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    let opts = CsvReadOptions::new()
        .delimiter(b' ')
        .has_header(true)
        .null_regex(Some("^-$".to_string()))
        .file_extension(".log.gz")
        .file_compression_type(FileCompressionType::GZIP);
    ctx.register_csv("flows", dir, opts).await?;
    let sql = QUERIES
        .iter()
        .find(|(k, _)| *k == which)
        .expect("a, b or c")
        .1;
    let batches = ctx.sql(sql).await?.collect().await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    println!("{rows} result rows");
    Ok(())
}
