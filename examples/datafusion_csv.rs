//! Baseline for `benches/compare.sh`: DataFusion's own CSV reader over the same gzip flow
//! logs (space delimiter, header line, `-` as NULL), with no flow-log knowledge.
//!
//! Columns are declared as text and numbers cast in SQL: with inferred types, DataFusion 55
//! fails on the `-` of NODATA records ("Error while parsing value '-' as type 'Int64'")
//! although `null_regex` is set.
//!
//! `cargo run --release --example datafusion_csv -- <dir-of-.log.gz> <a|b|c> [partitions]`
//!
//! With `parquet` first, it is the stock DataFusion a dashboard user would point at
//! sageflow's export instead: `register_parquet` with the Hive partition columns, and the
//! SQL given: `datafusion_csv parquet <export-dir> <sql> [partitions]`.

use datafusion::datasource::file_format::file_compression_type::FileCompressionType;
use datafusion::prelude::{CsvReadOptions, SessionConfig, SessionContext};

const QUERIES: [(&str, &str); 3] = [
    ("a", "SELECT count(*) FROM flows"),
    (
        "b",
        "SELECT \"interface-id\", sum(TRY_CAST(bytes AS BIGINT)) AS bytes FROM flows \
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
    if args.get(1).map(String::as_str) == Some("parquet") {
        return parquet(&args[2..]).await;
    }
    let dir = args
        .get(1)
        .expect("usage: datafusion_csv DIR a|b|c [partitions]");
    let which = args.get(2).map_or("b", String::as_str);
    let partitions: usize = args.get(3).and_then(|p| p.parse().ok()).unwrap_or(2);
    let ctx =
        SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    let header = first_header(std::path::Path::new(dir));
    let schema = datafusion::arrow::datatypes::Schema::new(
        header
            .split(' ')
            .map(|f| {
                datafusion::arrow::datatypes::Field::new(
                    f,
                    datafusion::arrow::datatypes::DataType::Utf8,
                    true,
                )
            })
            .collect::<Vec<_>>(),
    );
    let opts = CsvReadOptions::new()
        .schema(&schema)
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

fn first_header(dir: &std::path::Path) -> String {
    use std::io::BufRead;
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("readable dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.to_string_lossy().ends_with(".log.gz"))
        .collect();
    files.sort();
    let f = std::fs::File::open(files.first().expect("a .log.gz file")).expect("open");
    let mut line = String::new();
    std::io::BufReader::new(flate2::read::MultiGzDecoder::new(f))
        .read_line(&mut line)
        .expect("header");
    line.trim().to_string()
}

async fn parquet(args: &[String]) -> datafusion::error::Result<()> {
    use datafusion::arrow::datatypes::DataType;
    let dir = args
        .first()
        .expect("usage: datafusion_csv parquet DIR SQL [partitions]");
    let sql = args.get(1).expect("the SQL");
    let partitions: usize = args.get(2).and_then(|p| p.parse().ok()).unwrap_or(2);
    let ctx =
        SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    let opts = datafusion::prelude::ParquetReadOptions::default().table_partition_cols(vec![
        ("year".to_string(), DataType::Utf8),
        ("month".to_string(), DataType::Utf8),
        ("day".to_string(), DataType::Utf8),
    ]);
    ctx.register_parquet("flows", dir, opts).await?;
    let batches = ctx.sql(sql).await?.collect().await?;
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    println!("{rows} result rows");
    Ok(())
}
