//! `sageflow schema`: the columns of the flows table.

use super::*;

pub(super) fn schema(a: SchemaArgs) -> Result<u8> {
    let schema = FlowSchema::default();
    let mut out = std::io::stdout().lock();
    let w = |e| Error::io("standard output", e);
    match a.format {
        SchemaFormat::Json => {
            let columns: Vec<serde_json::Value> = schema
                .arrow()
                .fields()
                .iter()
                .map(|f| serde_json::json!({"column": f.name(), "type": f.data_type().to_string()}))
                .collect();
            let fields: Vec<serde_json::Value> = FIELDS
                .iter()
                .map(|f| {
                    serde_json::json!({"field": f.name, "column": f.column, "version": f.version,
                        "type": kind_name(f.kind), "meaning": f.meaning})
                })
                .collect();
            let enrichment: Vec<serde_json::Value> = crate::enrich::COLUMNS
                .iter()
                .map(|(c, m)| serde_json::json!({"column": c, "meaning": m}))
                .collect();
            let doc = serde_json::json!({"table": "flows", "columns": columns, "fields": fields,
                "enrichment": enrichment});
            writeln!(out, "{}", serde_json::to_string_pretty(&doc).expect("json")).map_err(w)?;
        }
        SchemaFormat::Table => {
            writeln!(
                out,
                "Table `flows` ({} columns)\n",
                schema.arrow().fields().len()
            )
            .map_err(w)?;
            writeln!(out, "{:<28} TYPE", "COLUMN").map_err(w)?;
            for f in schema.arrow().fields() {
                writeln!(out, "{:<28} {}", f.name(), f.data_type()).map_err(w)?;
            }
            writeln!(
                out,
                "\nField catalogue (VPC flow-log versions 2-11; version 6 = Transit Gateway fields)\n"
            )
            .map_err(w)?;
            writeln!(out, "{:<28} {:>3}  {:<20} MEANING", "FIELD", "VER", "TYPE").map_err(w)?;
            for f in FIELDS {
                writeln!(
                    out,
                    "{:<28} {:>3}  {:<20} {}",
                    f.name,
                    f.version,
                    kind_name(f.kind),
                    f.meaning
                )
                .map_err(w)?;
            }
            writeln!(
                out,
                "\nEnrichment columns (computed at ingest from --inventory and ip-ranges)\n"
            )
            .map_err(w)?;
            for (name, meaning) in crate::enrich::COLUMNS {
                writeln!(out, "{name:<28} {meaning}").map_err(w)?;
            }
            writeln!(
                out,
                "\n`-` is NULL in every column. start_time/end_time are start/end as UTC timestamps;\n\
                 start/end written in milliseconds are normalised to seconds. A field name the\n\
                 catalogue does not know, in a header line or --log-format, is an error (a typo,\n\
                 most often); --allow-unknown-fields keeps it as a text column. source_object and\n\
                 source_line name where each record was read: the file, S3 URL or cwlogs://group/stream\n\
                 and its line (a Parquet object's row, a log stream's event number as read); an\n\
                 export keeps those of the objects it was made from."
            )
            .map_err(w)?;
        }
    }
    Ok(EXIT_OK)
}
