//! `sageflow export`: Parquet layout and properties, the export as a source (same
//! findings as the logs), DuckDB reading it with the printed DDL, incremental re-runs,
//! interrupted runs, export to S3 (moto), and values spelled like NULL stand-ins kept as text.

use crate::support::{self, ok, root, sageflow};

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::Value;

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    support::files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .collect()
}

/// Data files other engines would see (not under `_…` folders).
fn visible(dir: &Path) -> Vec<PathBuf> {
    parquet_files(dir)
        .into_iter()
        .filter(|p| {
            !p.strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .starts_with('_')
        })
        .collect()
}

fn export(out: &Path, sources: &[&str], extra: &[&str]) -> Command {
    let mut c = sageflow();
    c.arg("export")
        .args(sources)
        .args(["--inventory", "sample-logs/inventory", "--out"])
        .arg(out)
        .args(extra);
    c
}

/// The CSV output of `sql` over `source`.
fn query_csv(source: &Path, sql: &str) -> String {
    ok(sageflow()
        .arg("query")
        .arg(source)
        .args(["--quiet", "--format", "csv", "--sql", sql]))
    .0
}

fn count(source: &Path) -> u64 {
    let out = query_csv(source, "SELECT count(*) AS n FROM flows");
    out.lines().nth(1).unwrap().parse().unwrap()
}

/// Fails unless the rows of an exported file are in time order.
fn assert_time_sorted(f: &Path) {
    use datafusion::arrow::array::AsArray;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(f).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let starts: Vec<i64> = reader
        .flat_map(|batch| {
            let batch = batch.unwrap();
            let i = batch.schema().index_of("start").unwrap();
            batch
                .column(i)
                .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
                .values()
                .to_vec()
        })
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] <= w[1]),
        "{}: not sorted",
        f.display()
    );
}

fn scan_json(sources: &[&str]) -> Vec<Value> {
    let out = sageflow()
        .arg("scan")
        .args(sources)
        .args([
            "--inventory",
            "sample-logs/inventory",
            "--format",
            "json",
            "--quiet",
        ])
        .output()
        .unwrap();
    let mut v: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    v.sort_by_key(|f| f.to_string());
    v
}

#[test]
fn export_layout_properties_and_same_findings() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let (_, err) = ok(&mut export(
        &out,
        &["sample-logs/v2-default", "sample-logs/parquet-hive"],
        &[],
    ));
    assert!(err.contains("exported 2453 rows"), "{err}");
    let files = visible(&out);
    let names: Vec<String> = files
        .iter()
        .map(|p| p.strip_prefix(&out).unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("year=2026/month=11/day=20/part-")),
        "{names:?}"
    );
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("year=2026/month=11/day=21/part-")),
        "{names:?}"
    );
    for f in &files {
        let reader = SerializedFileReader::new(std::fs::File::open(f).unwrap()).unwrap();
        let meta = reader.metadata();
        let rg = meta.row_group(0);
        let schema = meta.file_metadata().schema_descr();
        let col = |name: &str| {
            (0..schema.num_columns())
                .find(|&i| schema.column(i).name() == name)
                .unwrap()
        };
        for c in [
            "start_time",
            "interface_id",
            "sagemaker_resource",
            "leaves_vpc",
            "bytes",
        ] {
            let cc = rg.column(col(c));
            assert!(cc.statistics().is_some(), "{c}: statistics");
            assert_eq!(
                format!("{:?}", cc.compression()).split('(').next().unwrap(),
                "ZSTD"
            );
            assert!(cc.column_index_offset().is_some(), "{c}: page index");
        }
        let sorting = rg.sorting_columns().expect("sorting columns recorded");
        assert_eq!(sorting[0].column_idx as usize, col("start_time"));
        // Rows are in time order inside each file.
        assert_time_sorted(f);
    }
    assert_eq!(count(&out), 2453);
    // The export is itself a source: scanning it flags what scanning the logs flags.
    let from_logs = scan_json(&["sample-logs/v2-default", "sample-logs/parquet-hive"]);
    let from_export = scan_json(&[out.to_str().unwrap()]);
    assert_eq!(from_export, from_logs);
    // A time filter prunes partitions: the 21st is not even opened…
    let (_, err) = ok(sageflow().arg("query").arg(&out).args([
        "--sql",
        "SELECT count(*) FROM flows WHERE start_time <= '2026-11-20T12:00:00Z'",
    ]));
    assert!(
        err.contains("1 objects read") && err.contains("2236 records"),
        "{err}"
    );
    // …and row-group statistics skip the 20th's rows for a filter near the day boundary.
    let (_, err) = ok(sageflow().arg("query").arg(&out).args([
        "--sql",
        "SELECT count(*) FROM flows WHERE start_time >= '2026-11-21T00:00:00Z'",
    ]));
    assert!(err.contains("217 records"), "{err}");
}

#[test]
fn duckdb_reads_the_export_with_the_printed_ddl() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    ok(&mut export(
        &out,
        &["sample-logs/v5-custom"],
        &["--partition-by", "hour"],
    ));
    let (ddl, _) = ok(sageflow()
        .args([
            "export",
            "--ddl",
            "duckdb",
            "--partition-by",
            "hour",
            "--out",
        ])
        .arg(&out));
    let py = support::python();
    let script = format!(
        "import duckdb\ncon = duckdb.connect()\ncon.execute({ddl:?})\nprint(con.execute('SELECT count(*), count(DISTINCT hour), sum(bytes), count(*) FILTER (WHERE leaves_vpc) FROM flows').fetchone())\n"
    );
    let o = std::process::Command::new(py)
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (ours, _) = ok(sageflow().arg("query").arg(&out).args([
        "--quiet",
        "--inventory",
        "sample-logs/inventory",
        "--format",
        "csv",
        "--sql",
        "SELECT count(*), sum(bytes), count(*) FILTER (WHERE leaves_vpc) FROM flows",
    ]));
    let ours: Vec<&str> = ours.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(
        String::from_utf8(o.stdout).unwrap().trim(),
        format!("({}, 2, {}, {})", ours[0], ours[1], ours[2])
    );
    assert_eq!(ours[0], "2236");
    // Athena and Trino statements name every column and the partitions.
    for d in ["athena", "trino"] {
        let (s, _) = ok(sageflow().args(["export", "--ddl", d, "--out", "s3://bucket/flows"]));
        assert!(
            s.contains("sagemaker_resource")
                && s.contains("s3://bucket/flows/")
                && s.contains("year"),
            "{s}"
        );
    }
}

#[test]
fn re_runs_export_only_new_objects_and_interrupted_runs_complete() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("logs");
    let files = support::files_under(&root().join("sample-logs/v2-default"));
    let copy = |pred: &dyn Fn(&str) -> bool| {
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if pred(&name) {
                let rel = f
                    .strip_prefix(root().join("sample-logs/v2-default"))
                    .unwrap();
                let dest = src.join(rel);
                std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
                std::fs::copy(f, dest).unwrap();
            }
        }
    };
    let out = dir.path().join("export");
    let src_s = src.to_str().unwrap().to_string();
    copy(&|n| n.contains("20261120T10"));
    let (_, err) = ok(&mut export(&out, &[&src_s], &["--partition-by", "hour"]));
    assert!(err.contains("12 objects read"), "{err}");
    let first = visible(&out).len();
    assert_eq!(count(&out), count(&src));

    // New objects arrive: only they are exported.
    copy(&|n| n.contains("20261120T11"));
    let (_, err) = ok(&mut export(&out, &[&src_s], &["--partition-by", "hour"]));
    assert!(
        err.contains("12 objects read") && err.contains("12 objects already done"),
        "{err}"
    );
    assert!(visible(&out).len() > first);
    assert_eq!(count(&out), 2236, "no duplicates, no gaps");

    // A run killed while writing leaves nothing visible; the next run does the work.
    let out2 = dir.path().join("export2");
    let o = export(&out2, &[&src_s], &["--partition-by", "hour"])
        .env("SAGEFLOW_FAULT", "staging:1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(visible(&out2).is_empty(), "{:?}", visible(&out2));
    ok(&mut export(&out2, &[&src_s], &["--partition-by", "hour"]));
    assert_eq!(count(&out2), 2236);

    // A run killed while committing is finished by the next one, without duplicates.
    let out3 = dir.path().join("export3");
    let o = export(&out3, &[&src_s], &["--partition-by", "hour"])
        .env("SAGEFLOW_FAULT", "commit:1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let (_, err) = ok(&mut export(&out3, &[&src_s], &["--partition-by", "hour"]));
    assert!(err.contains("finished 1 interrupted run"), "{err}");
    assert!(err.contains("exported 0 rows"), "{err}");
    assert_eq!(count(&out3), 2236);

    // --full rebuilds; a different layout without --full is refused.
    let (_, err) = ok(&mut export(
        &out3,
        &[&src_s],
        &["--partition-by", "hour", "--full"],
    ));
    assert!(err.contains("exported 2236 rows"), "{err}");
    let o = export(&out3, &[&src_s], &["--partition-by", "day"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn export_to_s3_and_scan_it() {
    let moto = support::moto();
    let _guard = moto.lock();
    moto.run_python(
        r#"
import os, boto3
boto3.client("s3", endpoint_url=os.environ["ENDPOINT"]).create_bucket(Bucket="exports")
"#,
    );
    let run = |args: &[&str]| moto.run(args);
    let (code, _, err) = run(&[
        "export",
        "sample-logs/v5-custom",
        "--inventory",
        "sample-logs/inventory",
        "--out",
        "s3://exports/flows",
    ]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("exported 2236 rows"), "{err}");
    let (code, out, err) = run(&[
        "scan",
        "s3://exports/flows/",
        "--inventory",
        "sample-logs/inventory",
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(code, Some(1), "{err}");
    let mut from_s3: Vec<Value> = serde_json::from_str(&out).unwrap();
    from_s3.sort_by_key(|f| f.to_string());
    assert_eq!(from_s3, scan_json(&["sample-logs/v5-custom"]));
    // Nothing was left in staging, and a re-run exports nothing.
    let listing = bucket_keys(moto, "exports");
    assert!(!listing.contains("staging"), "{listing}");
    assert!(
        listing.contains("flows/_sageflow/manifest.json"),
        "{listing}"
    );
    let (_, _, err) = run(&[
        "export",
        "sample-logs/v5-custom",
        "--inventory",
        "sample-logs/inventory",
        "--out",
        "s3://exports/flows",
    ]);
    assert!(err.contains("exported 0 rows"), "{err}");
}

/// Text that Parquet writers from dataframes use for missing values (`None`, `nan`) is a
/// NULL in other tools' files, but in an export it is a value the flow log carried.
#[test]
fn values_spelled_like_null_stand_ins_survive_the_export() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(
        logs.join("flows.log"),
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
         2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1763630000 1763630060 ACCEPT None\n\
         2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1763630000 1763630060 ACCEPT nan\n\
         2 123456789010 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1763630000 1763630060 ACCEPT -\n",
    )
    .unwrap();
    let out = tmp.path().join("export");
    ok(&mut export(&out, &[logs.to_str().unwrap()], &["--quiet"]));
    let sql = "SELECT coalesce(log_status, 'NULL') AS s FROM flows ORDER BY s";
    assert_eq!(query_csv(&logs, sql), "s\nNULL\nNone\nnan\n");
    assert_eq!(query_csv(&out, sql), query_csv(&logs, sql));
}

#[test]
fn export_and_query_sorts_stay_within_a_small_memory_limit() {
    // The export sorts in runs sized from --memory-limit (8 MiB at 64M): the 400,000 rows
    // of one day are written as several runs, every file sorted on its own. A query's
    // `ORDER BY` spills past the limit instead.
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    ok(sageflow()
        .arg("generate")
        .arg("--out")
        .arg(&logs)
        .args(["--records", "400000", "--objects", "4", "--format", "v5"])
        .args(["--seed", "3"]));
    let out = dir.path().join("export");
    let mut cmd = sageflow();
    cmd.arg("export")
        .arg(&logs)
        .arg("--inventory")
        .arg(logs.join("inventory"))
        .arg("--out")
        .arg(&out)
        .args(["--memory-limit", "64M", "--quiet"]);
    ok(&mut cmd);
    assert_eq!(count(&out), 400_000);
    let files = visible(&out);
    assert!(files.len() > 2, "one run per file: {files:?}");
    for f in files {
        assert_time_sorted(&f);
    }
    // The same holds for a query's `ORDER BY`, which shares the session's sort settings.
    let (sorted, _) = ok(sageflow()
        .arg("query")
        .arg(&logs)
        .arg("--inventory")
        .arg(logs.join("inventory"))
        .args([
            "--memory-limit",
            "64M",
            "--quiet",
            "--format",
            "csv",
            "--sql",
        ])
        .arg("SELECT * FROM flows ORDER BY start_time, interface_id"));
    assert_eq!(sorted.lines().count(), 400_001);
}

/// The export's types are the ones its DDL declares (issue 16, B6): DuckDB, reading through
/// the printed DDL, sees every column with the declared type; timestamps are Parquet
/// microseconds adjusted to UTC (not nanoseconds, which older Spark cannot read); and a
/// time window on `start_time` selects what sageflow's own does.
#[test]
fn the_export_types_are_the_ones_its_ddl_declares() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    ok(&mut export(&out, &["sample-logs/v5-custom"], &[]));
    let (ddl, _) = ok(sageflow()
        .args(["export", "--ddl", "duckdb", "--out"])
        .arg(&out));
    let declared: Vec<(String, String)> = ddl
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("-- Columns as written: "))
        .expect("the DDL lists the columns")
        .split(", ")
        .map(|c| {
            let (name, ty) = c.split_once(' ').unwrap();
            (name.to_string(), ty.to_string())
        })
        .collect();
    assert!(declared.len() > 80, "{declared:?}");
    let file = visible(&out).into_iter().next().unwrap();
    let script = format!(
        "import duckdb, json\ncon = duckdb.connect()\ncon.execute({ddl:?})\n\
         described = [[r[0], r[1]] for r in con.execute('DESCRIBE flows').fetchall()]\n\
         lt = con.execute(\"SELECT logical_type FROM parquet_schema('{}') WHERE name = 'start_time'\").fetchone()[0]\n\
         window = con.execute(\"SELECT count(*) FROM flows WHERE start_time >= TIMESTAMPTZ '2026-11-20 10:30:00+00' AND start_time < TIMESTAMPTZ '2026-11-20 11:00:00+00'\").fetchone()[0]\n\
         print(json.dumps({{'described': described, 'logical_type': str(lt), 'window': window}}))\n",
        file.display()
    );
    let o = std::process::Command::new(support::python())
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let described: Vec<(String, String)> = got["described"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0].as_str().unwrap().into(), r[1].as_str().unwrap().into()))
        .collect();
    for (name, ty) in &declared {
        let seen = described
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("DuckDB has no {name}: {described:?}"));
        assert_eq!(&seen.1, ty, "{name}");
    }
    let lt = got["logical_type"].as_str().unwrap();
    assert!(lt.contains("MICROS=MicroSeconds()"), "{lt}");
    assert!(
        lt.contains("isAdjustedToUTC=1") || lt.contains("isAdjustedToUTC=True"),
        "{lt}"
    );
    let ours = query_csv(
        &out,
        "SELECT count(*) AS n FROM flows WHERE start_time >= '2026-11-20T10:30:00Z' AND start_time < '2026-11-20T11:00:00Z'",
    );
    let ours: u64 = ours.lines().nth(1).unwrap().parse().unwrap();
    assert!(ours > 0);
    assert_eq!(got["window"].as_u64(), Some(ours));
}

/// Issue 16, A5: an export queried without `--inventory` returns the enrichment it was
/// written with (filters on it included), not columns recomputed from no inventory; with
/// `--inventory` they are recomputed from it.
#[test]
fn an_export_without_inventory_keeps_its_enrichment() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flows");
    ok(&mut export(&out, &["sample-logs/v5-custom"], &["--quiet"]));
    let sql = "SELECT sagemaker_resource_type, sagemaker_resource, attribution, remote_kind, remote_service, \
               count(*) AS n, count(*) FILTER (WHERE leaves_vpc) AS leaves, count(*) FILTER (WHERE endpoint_bypass) AS bypass \
               FROM flows GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5";
    // The logs the export was made from, with the inventory it was made with.
    let over_logs = |sql: &str| {
        ok(sageflow()
            .args([
                "query",
                "sample-logs/v5-custom",
                "--quiet",
                "--format",
                "csv",
            ])
            .args(["--inventory", "sample-logs/inventory", "--sql", sql]))
        .0
    };
    let logs = over_logs(sql);
    assert!(logs.contains("notebook_instance,nb-analyst,eni,"), "{logs}");
    assert_eq!(query_csv(&out, sql), logs);
    // A filter on an enrichment column, and a column never enriched alongside.
    let filtered = query_csv(
        &out,
        "SELECT count(*) AS n, count(DISTINCT interface_id) AS enis FROM flows WHERE sagemaker_resource = 'nb-analyst'",
    );
    let expected = over_logs(
        "SELECT count(*) AS n, count(DISTINCT interface_id) AS enis FROM flows WHERE sagemaker_resource = 'nb-analyst'",
    );
    assert_eq!(filtered, expected);
    assert_ne!(filtered, "n,enis\n0,0\n");
    // The reader tests the export's column itself (a column only the filter reads is not
    // handed to DataFusion to test again).
    let plan = query_csv(
        &out,
        "EXPLAIN SELECT count(*) FROM flows WHERE sagemaker_resource = 'nb-analyst'",
    );
    let read = plan.lines().find(|l| l.contains("FlowsExec")).unwrap();
    assert!(read.contains("filters=[sagemaker_resource = "), "{plan}");
    assert!(!plan.contains("FilterExec"), "{plan}");
    // With the logs it came from alongside: their records are enriched from no inventory
    // (no workload, so the filter keeps none of them), the export's are taken as written.
    // Every projected column here is one the enrichment reads, so the logs' decoded
    // batches have the very columns the export's reader hands out.
    let inputs = "interface_id, resource_id, srcaddr, dstaddr, pkt_srcaddr, pkt_dstaddr, \
                  flow_direction, vpc_id, subnet_id, start, \"end\", action, protocol, tcp_flags, \
                  traffic_path, pkt_src_aws_service, pkt_dst_aws_service";
    let mixed = |sql: &str| {
        ok(sageflow().arg("query").arg(&out).args([
            "sample-logs/v5-custom",
            "--quiet",
            "--format",
            "csv",
            "--sql",
            sql,
        ]))
        .0
    };
    let rows = format!(
        "SELECT {inputs} FROM flows WHERE sagemaker_resource = 'nb-analyst' ORDER BY {inputs}"
    );
    let export_rows = query_csv(&out, &rows);
    assert_eq!(mixed(&rows), export_rows);
    assert_eq!(
        export_rows.lines().count() as u64 - 1,
        filtered
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    );
    // A negated test keeps no NULL: neither the logs' records nor the export's unnamed ones.
    let others = "SELECT count(*) AS n FROM flows WHERE sagemaker_resource <> 'nb-analyst'";
    let expected = over_logs(others);
    assert_eq!(mixed(others), expected);
    assert_eq!(query_csv(&out, others), expected);
    // With --inventory the export's enrichment is recomputed: an empty inventory names
    // no workload.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(
        empty.path().join("describe-network-interfaces.json"),
        r#"{"NetworkInterfaces": []}"#,
    )
    .unwrap();
    let recomputed = ok(sageflow()
        .arg("query")
        .arg(&out)
        .args(["--quiet", "--format", "csv", "--inventory"])
        .arg(empty.path())
        .args([
            "--sql",
            "SELECT count(sagemaker_resource) AS named FROM flows",
        ]))
    .0;
    assert_eq!(recomputed, "named\n0\n");
}

/// The keys in an S3 bucket of the moto server, one a line.
fn bucket_keys(moto: &support::Moto, bucket: &str) -> String {
    moto.run_python(&format!(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
print("\n".join(o["Key"] for o in s3.list_objects_v2(Bucket="{bucket}").get("Contents", [])))
"#
    ))
}

/// Copies the v2 sample objects whose names contain `hours` (e.g. `20261120T10`) to `src`.
fn copy_sample_hours(src: &Path, hours: &str) {
    let base = root().join("sample-logs/v2-default");
    for f in support::files_under(&base) {
        if f.file_name().unwrap().to_string_lossy().contains(hours) {
            let dest = src.join(f.strip_prefix(&base).unwrap());
            std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
            std::fs::copy(&f, dest).unwrap();
        }
    }
}

/// The export at `out` holds `want` rows, each a different record (source object and
/// line): nothing exported twice.
fn assert_each_record_once(out: &Path, want: u64) {
    let csv = query_csv(
        out,
        "SELECT count(*) AS n, count(DISTINCT source_object || ':' || CAST(source_line AS VARCHAR)) AS d FROM flows",
    );
    assert_eq!(csv.lines().nth(1).unwrap(), format!("{want},{want}"));
}

/// Issue 17, 1: a run that dies between writing its run record (`runs/<run>.tmp`) and
/// renaming it never committed: the next export discards it and exports its sources
/// again, and no later export replays it (which put back its old manifest and exported
/// again everything since). A stray file in `runs/` is warned about and left alone.
#[test]
fn an_uncommitted_run_record_is_discarded_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("logs");
    let copy = |hours: &str| copy_sample_hours(&src, hours);
    let out = dir.path().join("export");
    let src_s = src.to_str().unwrap().to_string();
    let runs = out.join("_sageflow/runs");
    let listed = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .map(|r| {
                r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    // Every record exported once: as many rows as distinct (object, line) pairs.
    let exact = |want: u64| assert_each_record_once(&out, want);

    copy("20261120T10");
    let o = export(&out, &[&src_s], &[])
        .env("SAGEFLOW_FAULT", "publish:0")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let left = listed(&runs);
    assert!(
        left.len() == 1 && left[0].ends_with(".tmp"),
        "the crash left the record unrenamed: {left:?}"
    );
    assert!(visible(&out).is_empty());

    copy("20261120T11");
    let (_, err) = ok(&mut export(&out, &[&src_s], &[]));
    assert!(err.contains("stopped before committing"), "{err}");
    assert_eq!(listed(&runs), Vec::<String>::new());
    exact(2236);
    for _ in 0..2 {
        ok(&mut export(&out, &[&src_s], &[]));
        exact(2236);
    }

    std::fs::write(runs.join(".DS_Store"), b"\0\0\0\x01Bud1").unwrap();
    let (_, err) = ok(&mut export(&out, &[&src_s], &[]));
    assert!(
        err.contains(".DS_Store") && err.contains("ignored"),
        "{err}"
    );
    assert!(runs.join(".DS_Store").exists());
    exact(2236);
}

/// Issue 17, 12: the DDL quotes paths and names, so an output named `it's` (and a table
/// named with a space) still gives statements that run.
#[test]
fn ddl_quotes_paths_and_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("it's out");
    ok(&mut export(&out, &["sample-logs/v5-custom"], &[]));
    let (ddl, _) = ok(sageflow()
        .args(["export", "--ddl", "duckdb", "--table", "my flows", "--out"])
        .arg(&out));
    let script = format!(
        "import duckdb\ncon = duckdb.connect()\ncon.execute({ddl:?})\nprint(con.execute('SELECT count(*) FROM \"my flows\"').fetchone()[0], con.execute('SELECT count(*) FROM enis').fetchone()[0] > 0)\n"
    );
    let o = std::process::Command::new(support::python())
        .arg("-c")
        .arg(&script)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "2236 True");
    for (d, table) in [("athena", "`my flows`"), ("trino", "\"my flows\"")] {
        let (s, _) = ok(sageflow()
            .args(["export", "--ddl", d, "--table", "my flows", "--out"])
            .arg("s3://bucket/it's/"));
        assert!(s.contains("s3://bucket/it''s/"), "{s}");
        assert!(!s.contains("it's"), "{s}");
        assert!(s.contains(table), "{s}");
    }
}

/// Issue 17, 4: `export --full` builds the new export beside the old one and removes the
/// old files only once the new manifest is written: a run that fails or is killed leaves
/// the previous export whole, one killed after its commit is finished by the next run,
/// and a full run with no source touches nothing.
#[test]
fn a_failed_full_export_leaves_the_previous_one_whole() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("logs");
    let copy = |hours: &str| copy_sample_hours(&src, hours);
    let out = dir.path().join("export");
    let src_s = src.to_str().unwrap().to_string();
    let exact = |want: u64| assert_each_record_once(&out, want);
    copy("20261120T1");
    ok(&mut export(&out, &[&src_s], &[]));
    exact(2236);

    // Killed while writing the new export: the old one is untouched.
    let o = export(&out, &[&src_s], &["--full"])
        .env("SAGEFLOW_FAULT", "staging:0")
        .output()
        .unwrap();
    assert!(!o.status.success());
    exact(2236);
    assert!(out.join("_sageflow/manifest.json").exists());

    // Nothing to rebuild from: an error, and the old export stays.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = export(&out, &[empty.to_str().unwrap()], &["--full"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    exact(2236);

    // A full run over fewer sources replaces the export: their rows only, once.
    std::fs::remove_dir_all(&src).unwrap();
    copy("20261120T10");
    let (_, err) = ok(&mut export(&out, &[&src_s], &["--full"]));
    assert!(err.contains("12 objects read"), "{err}");
    let t10 = count(&src);
    assert!(t10 > 0 && t10 < 2236);
    exact(t10);

    // Killed after the commit, before the old files were deleted: the next run finishes.
    copy("20261120T11");
    let o = export(&out, &[&src_s], &["--full"])
        .env("SAGEFLOW_FAULT", "obsolete:0")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let (_, err) = ok(&mut export(&out, &[&src_s], &[]));
    assert!(err.contains("finished 1 interrupted run"), "{err}");
    exact(2236);
}

/// Issue 17, 3: symbolic links inside `--out` never lead outside it. A link under
/// `_sageflow/staging/` is removed, not followed (its target's files used to be deleted);
/// a linked `_sageflow/`, `staging/` or partition folder is refused with an error; a
/// linked `manifest.tmp` is replaced, its target untouched.
#[test]
fn symbolic_links_inside_the_output_are_never_followed() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim");
    std::fs::create_dir_all(victim.join("staging")).unwrap();
    std::fs::write(victim.join("keep.txt"), "precious").unwrap();
    std::fs::write(victim.join("staging/keep.txt"), "precious").unwrap();
    let intact = || {
        assert_eq!(
            std::fs::read_to_string(victim.join("keep.txt")).unwrap(),
            "precious"
        );
        assert_eq!(
            std::fs::read_to_string(victim.join("staging/keep.txt")).unwrap(),
            "precious"
        );
        let files = support::files_under(&victim);
        assert_eq!(files.len(), 2, "{files:?}");
    };
    let src = ["sample-logs/v5-custom"];
    let refused = |out: &Path, what: &str| {
        let o = export(out, &src, &[]).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(
            err.contains("is a symbolic link inside the export"),
            "{what}: {err}"
        );
        intact();
    };

    // A link in staging: removed with the staging, its target untouched.
    let out = dir.path().join("a");
    ok(&mut export(&out, &src, &[]));
    std::fs::create_dir_all(out.join("_sageflow/staging")).unwrap();
    symlink(&victim, out.join("_sageflow/staging/evil")).unwrap();
    ok(&mut export(&out, &src, &[]));
    intact();
    assert!(std::fs::symlink_metadata(out.join("_sageflow/staging/evil")).is_err());

    // A linked manifest.tmp: the manifest is written, the link's target is not.
    symlink(victim.join("keep.txt"), out.join("_sageflow/manifest.tmp")).unwrap();
    ok(&mut export(&out, &src, &["--full"]));
    intact();
    let manifest = std::fs::symlink_metadata(out.join("_sageflow/manifest.json")).unwrap();
    assert!(manifest.file_type().is_file());

    // Linked control folders and partition folders are refused.
    let b = dir.path().join("b");
    std::fs::create_dir_all(&b).unwrap();
    symlink(&victim, b.join("_sageflow")).unwrap();
    refused(&b, "_sageflow");
    let c = dir.path().join("c");
    std::fs::create_dir_all(c.join("_sageflow")).unwrap();
    symlink(victim.join("staging"), c.join("_sageflow/staging")).unwrap();
    refused(&c, "staging");
    let d = dir.path().join("d");
    std::fs::create_dir_all(&d).unwrap();
    symlink(&victim, d.join("year=2026")).unwrap();
    refused(&d, "partition");
}

/// Issue 17, 2: one export at a time per output. Locally an OS lock on `_sageflow/lock`
/// (here held by the test, as a running export would); on S3 a lock object created only
/// if absent, which a killed run leaves behind until `--break-lock`. The second run fails
/// with exit 2 naming the holder, and exports nothing.
#[test]
fn a_second_export_to_the_same_output_fails_naming_the_holder() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    std::fs::create_dir_all(out.join("_sageflow")).unwrap();
    let mut held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(out.join("_sageflow/lock"))
        .unwrap();
    held.try_lock().unwrap();
    held.write_all(
        br#"{"user": "ci", "host": "runner-7", "pid": 4242, "started": "2026-12-02T09:00:00Z"}"#,
    )
    .unwrap();
    let o = export(&out, &["sample-logs/v5-custom"], &[])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("another export to this output is running: process 4242 of ci on runner-7"),
        "{err}"
    );
    assert!(visible(&out).is_empty());
    drop(held);
    ok(&mut export(&out, &["sample-logs/v5-custom"], &[]));
    assert_eq!(count(&out), 2236);

    let moto = support::moto();
    let _guard = moto.lock();
    moto.run_python(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.create_bucket(Bucket="locked")
s3.put_object(Bucket="locked", Key="flows/_sageflow/lock.json",
              Body=b'{"user": "cron", "host": "etl-1", "pid": 99, "started": "2026-12-01T03:00:00Z"}')
"#,
    );
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "export",
            "sample-logs/v5-custom",
            "--inventory",
            "sample-logs/inventory",
            "--out",
            "s3://locked/flows",
        ];
        a.extend_from_slice(extra);
        a
    };
    let (code, _, err) = moto.run(&args(&[]));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("process 99 of cron on etl-1"), "{err}");
    assert!(err.contains("--break-lock"), "{err}");
    let (code, _, err) = moto.run(&args(&["--break-lock"]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("exported 2236 rows"), "{err}");
    let keys = bucket_keys(moto, "locked");
    assert!(!keys.contains("lock.json"), "the lock is released: {keys}");
    // With no lock left, the next run takes and releases it again.
    let (code, _, err) = moto.run(&args(&[]));
    assert_eq!(code, Some(0), "{err}");

    // A lock left on this host by a process that no longer runs (pid 4194304 is above
    // Linux's highest) is taken over without --break-lock.
    let host = sageflow::export::lock::this_host();
    moto.run_python(&format!(
        r#"
import os, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["ENDPOINT"])
s3.put_object(Bucket="locked", Key="flows/_sageflow/lock.json",
              Body=b'{{"user": "me", "host": "{host}", "pid": 4194304, "started": "2026-12-01T03:00:00Z"}}')
"#
    ));
    let (code, _, err) = moto.run(&args(&[]));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("is no longer running"), "{err}");
}

/// Issue 17, 5: a run killed before each rename of its commit: sageflow's readers see the
/// earlier run whole and nothing of this one (its files are not in the manifest yet), and
/// the next export finishes it with every record once.
#[test]
fn a_run_killed_at_each_rename_shows_none_of_it_and_recovers_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("logs");
    let first = dir.path().join("first");
    let src_s = src.to_str().unwrap().to_string();
    copy_sample_hours(&src, "20261120T100");
    ok(&mut export(&first, &[&src_s], &["--partition-by", "hour"]));
    let before = count(&first);
    assert!(before > 0);
    copy_sample_hours(&src, "20261120T1");
    // With the Parquet sample (another day), the run places three files or more.
    let parquet = root().join("sample-logs/parquet-hive");
    let sources = [src_s.as_str(), parquet.to_str().unwrap()];
    let mut crashed = 0;
    for k in 0.. {
        let out = dir.path().join(format!("out{k}"));
        let copied = std::process::Command::new("cp")
            .arg("-a")
            .arg(&first)
            .arg(&out)
            .status()
            .unwrap();
        assert!(copied.success());
        let fault = format!("commit:{k}");
        let o = export(&out, &sources, &["--partition-by", "hour"])
            .env("SAGEFLOW_FAULT", &fault)
            .output()
            .unwrap();
        if o.status.success() {
            break; // k is past the last rename
        }
        crashed += 1;
        let (stdout, err) = ok(sageflow().arg("query").arg(&out).args([
            "--format",
            "csv",
            "--sql",
            "SELECT count(*) AS n FROM flows",
        ]));
        assert_eq!(stdout, format!("n\n{before}\n"), "{fault}: {err}");
        if k > 0 {
            assert!(err.contains("not in its manifest"), "{fault}: {err}");
        }
        let (_, err) = ok(&mut export(&out, &sources, &["--partition-by", "hour"]));
        assert!(err.contains("finished 1 interrupted run"), "{fault}: {err}");
        assert!(err.contains("exported 0 rows"), "{fault}: {err}");
        assert_each_record_once(&out, 2236 + 217);
    }
    assert!(crashed >= 3, "only {crashed} renames were tried");
}

/// Issue 17, 6: local sources are known by content, not by spelling or modification
/// time: the same directory named three ways, or a touched file, exports nothing again;
/// an appended file exports only its new records; a rewritten one is refused, naming it,
/// and the export stays as it was until `--full` rebuilds it.
#[test]
fn local_sources_are_exported_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("src");
    let d = logs.join("AWSLogs/111122223333/vpcflowlogs/us-east-1/2026/11/20");
    std::fs::create_dir_all(&d).unwrap();
    let file = d.join(
        "111122223333_vpcflowlogs_us-east-1_fl-0aaa1111bbbb22220_20261120T1100Z_1a7e0002.log",
    );
    let header = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n";
    let rec = |port: u32| {
        format!(
            "2 111122223333 eni-05aec870f7b234ef9 10.20.1.10 203.0.113.77 {port} 443 6 5 500 1795172400 1795172430 ACCEPT OK\n"
        )
    };
    let first: String = std::iter::once(header.to_string())
        .chain((0..5).map(|i| rec(40000 + i)))
        .collect();
    std::fs::write(&file, &first).unwrap();
    let out = dir.path().join("export");
    let run = |source: &str| {
        let mut c = sageflow();
        c.current_dir(dir.path())
            .arg("export")
            .arg(source)
            .args(["--inventory"])
            .arg(root().join("sample-logs/inventory"))
            .arg("--out")
            .arg(&out);
        c
    };
    let (_, err) = ok(&mut run("src"));
    assert!(err.contains("exported 5 rows"), "{err}");
    let absolute = logs.to_str().unwrap().to_string();
    for spelling in ["./src", "src/", absolute.as_str()] {
        let (_, err) = ok(&mut run(spelling));
        assert!(err.contains("exported 0 rows"), "{spelling}: {err}");
    }
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&file, &first).unwrap(); // touched
    let (_, err) = ok(&mut run("src"));
    assert!(err.contains("exported 0 rows"), "{err}");
    assert_each_record_once(&out, 5);

    let grown = format!("{first}{}{}", rec(40005), rec(40006));
    std::fs::write(&file, &grown).unwrap();
    let (_, err) = ok(&mut run("src"));
    assert!(err.contains("exported 2 rows"), "{err}");
    assert_each_record_once(&out, 7);
    let lines = query_csv(
        &out,
        "SELECT min(source_line) AS lo, max(source_line) AS hi FROM flows",
    );
    assert_eq!(lines, "lo,hi\n2,8\n", "the file's own line numbers");

    let rewritten = format!("{header}{}", rec(49999));
    std::fs::write(&file, &rewritten).unwrap();
    let o = run("src").output().unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("1a7e0002.log") && err.contains("shorter than when it was read"),
        "{err}"
    );
    assert!(err.contains("--full"), "{err}");
    assert_each_record_once(&out, 7);
    let (_, err) = ok(run("src").arg("--full"));
    assert!(err.contains("exported 1 rows"), "{err}");
    assert_each_record_once(&out, 1);
}

/// Issue 17, 5: what a rename publishes is on disk first, so that a power loss cannot
/// leave a run record or manifest naming files that are gone: each staged file and its
/// folders are flushed (`fsync`) before the run record that names them, every document
/// before its rename, and the folders of the placed files before the manifest. Checked on
/// the system calls themselves (strace).
#[test]
fn files_reach_the_disk_before_the_renames_that_publish_them() {
    let strace = support::debian_tool("strace", "strace");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let trace = dir.path().join("trace.txt");
    let status = std::process::Command::new(&strace)
        .args([
            "-f",
            "-qq",
            "-y",
            "-e",
            "trace=fsync,fdatasync,rename,renameat,renameat2",
            "-o",
        ])
        .arg(&trace)
        .arg(assert_cmd::cargo::cargo_bin("sageflow"))
        .current_dir(root())
        .args([
            "export",
            "sample-logs/v2-default",
            "sample-logs/parquet-hive",
            "--partition-by",
            "hour",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .env_remove("SAGEFLOW_FAULT")
        .status()
        .unwrap();
    assert!(status.success());
    enum Call {
        Sync(String),
        Rename(String, String),
    }
    let calls: Vec<Call> = std::fs::read_to_string(&trace)
        .unwrap()
        .lines()
        .filter_map(|l| {
            if l.contains("sync(") {
                let path = l.split_once('<')?.1.split_once('>')?.0;
                Some(Call::Sync(path.to_string()))
            } else if l.contains("rename") {
                let quoted: Vec<&str> = l.split('"').skip(1).step_by(2).collect();
                Some(Call::Rename(quoted[0].to_string(), quoted[1].to_string()))
            } else {
                None
            }
        })
        .collect();
    let synced_between = |path: &str, from: usize, to: usize| {
        calls[from..to]
            .iter()
            .any(|c| matches!(c, Call::Sync(p) if p == path))
    };
    let parent = |p: &str| p.rsplit_once('/').unwrap().0.to_string();
    let renames: Vec<(usize, &str, &str)> = calls
        .iter()
        .enumerate()
        .filter_map(|(i, c)| match c {
            Call::Rename(a, b) => Some((i, a.as_str(), b.as_str())),
            _ => None,
        })
        .collect();
    let record = renames
        .iter()
        .find(|(_, _, to)| to.contains("/_sageflow/runs/"))
        .expect("the run record is renamed into place")
        .0;
    let manifest = renames
        .iter()
        .find(|(_, _, to)| to.ends_with("/_sageflow/manifest.json"))
        .expect("the manifest is renamed into place")
        .0;
    let placed: Vec<_> = renames
        .iter()
        .filter(|(_, from, _)| from.contains("/_sageflow/staging/"))
        .collect();
    assert!(placed.len() >= 3, "{} files placed", placed.len());
    for (i, from, _) in &renames {
        assert!(
            synced_between(from, 0, *i),
            "{from} renamed before it was flushed"
        );
    }
    for (i, from, to) in &placed {
        assert!(
            synced_between(from, 0, record),
            "{from}: not on disk before the run record"
        );
        assert!(
            synced_between(&parent(from), 0, record),
            "the folder of {from}: not on disk before the run record"
        );
        assert!(record < *i && *i < manifest);
        assert!(
            synced_between(&parent(to), *i, manifest),
            "the rename to {to}: not on disk before the manifest"
        );
    }
    assert!(
        synced_between(
            &format!("{}/_sageflow", out.display()),
            manifest,
            calls.len()
        ),
        "the manifest's rename is flushed"
    );
}
