//! CREATE TABLE statements that read an export exactly as it is written: the `flows`
//! columns with their Parquet types, and the Hive partition columns.

use datafusion::arrow::datatypes::{DataType, Schema};

use super::PartitionBy;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    Athena,
    Duckdb,
    Trino,
}

fn sql_type(dt: &DataType, d: Dialect) -> &'static str {
    match (dt, d) {
        (DataType::Int32, Dialect::Athena) => "int",
        (DataType::Int32, _) => "INTEGER",
        (DataType::Int64, Dialect::Athena) => "bigint",
        (DataType::Int64, _) => "BIGINT",
        (DataType::Boolean, Dialect::Athena) => "boolean",
        (DataType::Boolean, _) => "BOOLEAN",
        // Written as microseconds, UTC-adjusted (`export::written_time_type`).
        (DataType::Timestamp(..), Dialect::Athena) => "timestamp",
        (DataType::Timestamp(..), Dialect::Duckdb) => "TIMESTAMP WITH TIME ZONE",
        (DataType::Timestamp(..), Dialect::Trino) => "TIMESTAMP(6)",
        (_, Dialect::Athena) => "string",
        (_, _) => "VARCHAR",
    }
}

fn quote(name: &str, d: Dialect) -> String {
    match d {
        Dialect::Athena => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// `s` inside a single-quoted SQL string literal.
fn literal(s: &str) -> String {
    s.replace('\'', "''")
}

/// The statements for the inventory tables an export holds (`_sageflow/tables/`) and the
/// `scan_context` rules read (a full scan: not incremental), so that every bundled rule
/// runs unchanged over the export.
pub fn inventory_tables(location: &str, d: Dialect) -> crate::error::Result<String> {
    let empty =
        crate::enrich::Enricher::new(std::sync::Arc::new(crate::inventory::Inventory::default()));
    let location = literal(location.trim_end_matches('/'));
    let mut out = String::new();
    for (name, batch) in crate::engine::tables::batches(&empty)? {
        let dir = format!("{location}/{}{name}", super::TABLES);
        let cols: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| format!("  {} {}", quote(f.name(), d), sql_type(f.data_type(), d)))
            .collect();
        out += &match d {
            Dialect::Athena => format!(
                "CREATE EXTERNAL TABLE IF NOT EXISTS {name} (\n{}\n)\nSTORED AS PARQUET\nLOCATION '{dir}/';\n",
                cols.join(",\n")
            ),
            Dialect::Duckdb => {
                format!("CREATE VIEW {name} AS\nSELECT * FROM read_parquet('{dir}/*.parquet');\n")
            }
            Dialect::Trino => format!(
                "CREATE TABLE hive.default.{name} (\n{}\n)\nWITH (\n  format = 'PARQUET',\n  external_location = '{dir}/'\n);\n",
                cols.join(",\n")
            ),
        };
    }
    // No `--since`/`--until`: rules read the whole export, whose records have all arrived.
    let context = "SELECT false AS incremental, CAST(NULL AS BIGINT) AS window_start, \
                   CAST(NULL AS BIGINT) AS window_end, CAST(NULL AS BIGINT) AS delivered_until;\n";
    out += &match d {
        Dialect::Trino => format!("CREATE OR REPLACE VIEW hive.default.scan_context AS {context}"),
        Dialect::Athena => format!("CREATE OR REPLACE VIEW scan_context AS {context}"),
        Dialect::Duckdb => format!("CREATE VIEW scan_context AS {context}"),
    };
    Ok(out)
}

/// The statement for `dialect`, reading `location` (a directory or `s3://…/` prefix).
pub fn create_table(
    schema: &Schema,
    location: &str,
    partition_by: PartitionBy,
    table: &str,
    d: Dialect,
) -> String {
    let cols: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| format!("  {} {}", quote(f.name(), d), sql_type(f.data_type(), d)))
        .collect();
    let parts = partition_by.columns();
    // Paths and names go into string literals and identifiers quoted for the dialect: an
    // output named `it's` must not end the literal.
    let location = literal(location.trim_end_matches('/'));
    let table_literal = literal(table);
    let table = &quote(table, d);
    match d {
        Dialect::Athena => {
            let mut s = format!(
                "CREATE EXTERNAL TABLE IF NOT EXISTS {table} (\n{}\n)\nPARTITIONED BY ({})\nSTORED AS PARQUET\nLOCATION '{location}/'\nTBLPROPERTIES (\n  'parquet.compression' = 'ZSTD',\n  'projection.enabled' = 'true',\n  'projection.year.type' = 'integer',\n  'projection.year.range' = '2015,2100',\n  'projection.month.type' = 'integer',\n  'projection.month.range' = '1,12',\n  'projection.month.digits' = '2',\n  'projection.day.type' = 'integer',\n  'projection.day.range' = '1,31',\n  'projection.day.digits' = '2',\n",
                cols.join(",\n"),
                parts
                    .iter()
                    .map(|p| format!("`{p}` int"))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            if partition_by == PartitionBy::Hour {
                s += "  'projection.hour.type' = 'integer',\n  'projection.hour.range' = '0,23',\n  'projection.hour.digits' = '2',\n";
            }
            let template = parts
                .iter()
                .map(|p| format!("{p}=${{{p}}}"))
                .collect::<Vec<_>>()
                .join("/");
            s += &format!("  'storage.location.template' = '{location}/{template}/'\n);\n");
            s
        }
        Dialect::Duckdb => {
            // Partition folders only: `_sageflow/tables/` holds the inventory tables.
            let glob = format!(
                "{location}/{}/*.parquet",
                parts
                    .iter()
                    .map(|p| format!("{p}=*"))
                    .collect::<Vec<_>>()
                    .join("/")
            );
            let types = parts
                .iter()
                .map(|p| format!("{p}: INTEGER"))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "-- Columns as written: {}\nCREATE VIEW {table} AS\nSELECT * FROM read_parquet('{glob}', hive_partitioning = true, hive_types = {{{types}}});\n",
                schema
                    .fields()
                    .iter()
                    .map(|f| format!("{} {}", f.name(), sql_type(f.data_type(), d)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        Dialect::Trino => {
            let mut all = cols.clone();
            all.extend(parts.iter().map(|p| format!("  \"{p}\" INTEGER")));
            format!(
                "CREATE TABLE hive.default.{table} (\n{}\n)\nWITH (\n  format = 'PARQUET',\n  external_location = '{location}/',\n  partitioned_by = ARRAY[{}]\n);\n-- then: CALL hive.system.sync_partition_metadata('default', '{table_literal}', 'ADD');\n",
                all.join(",\n"),
                parts
                    .iter()
                    .map(|p| format!("'{p}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}
