//! What a finding carries and how findings are grouped (issue 16, B7, B8, C11, C12):
//! provenance (the record's source object and line, the inventory file and rule that
//! attributed its ENI, what classified the remote), a stable `finding_id`, `--group-by`,
//! SARIF that the SARIF 2.1.0 schema and GitHub's code-scanning rules accept, and the
//! bundled rules run by DuckDB over an export giving the scan's findings.

use crate::support;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use serde_json::Value;
use support::{root, sageflow};

fn ok(cmd: &mut assert_cmd::Command) -> (String, String) {
    let o = cmd.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    // 1: findings; anything else is a failure.
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "exit {:?}\n{err}",
        o.status.code()
    );
    (out, err)
}

fn scan_json(sources: &[&str], extra: &[&str]) -> Vec<serde_json::Map<String, Value>> {
    let (out, _) = ok(sageflow()
        .arg("scan")
        .args(sources)
        .args(["--inventory", "sample-logs/inventory", "--format", "json"])
        .args(extra));
    serde_json::from_str::<Vec<Value>>(&out)
        .unwrap()
        .into_iter()
        .map(|v| match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        })
        .collect()
}

fn s<'a>(f: &'a serde_json::Map<String, Value>, k: &str) -> &'a str {
    f.get(k).and_then(Value::as_str).unwrap_or("")
}

fn n(f: &serde_json::Map<String, Value>, k: &str) -> i64 {
    f.get(k).and_then(Value::as_i64).unwrap_or(-1)
}

/// Line `line` (1-based) of a gzip flow-log object.
fn line_of(object: &str, line: i64) -> String {
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(root().join(object)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .nth(line as usize - 1)
        .unwrap_or_else(|| panic!("{object} has no line {line}"))
        .to_string()
}

/// 12. Every flow finding names the object and line of its record (the line holds the
///     record's fields), the rule and inventory file that attributed the ENI, and what
///     classified the remote; ids are stable across runs and distinct.
#[test]
fn findings_carry_their_provenance_and_a_stable_id() {
    let sources = ["sample-logs/v2-default", "sample-logs/v5-custom"];
    let findings = scan_json(&sources, &["--group-by", "flow"]);
    let flows: Vec<_> = findings
        .iter()
        .filter(|f| s(f, "rule") == "leaves-vpc" || s(f, "rule") == "endpoint-bypass")
        .collect();
    assert!(flows.len() >= 20, "{}", flows.len());
    for f in &flows {
        let line = line_of(s(f, "source_object"), n(f, "source_line"));
        let tokens: Vec<&str> = line.split(' ').collect();
        for k in ["interface_id", "srcaddr", "dstaddr"] {
            assert!(tokens.contains(&s(f, k)), "{k} of {f:?} not on {line}");
        }
        for k in ["srcport", "dstport", "start"] {
            assert!(
                tokens.contains(&n(f, k).to_string().as_str()),
                "{k} of {f:?} not on {line}"
            );
        }
        assert!(!s(f, "remote_evidence").is_empty(), "{f:?}");
        assert!(root().join(s(f, "attribution_document")).is_file(), "{f:?}");
    }
    let by = |resource: &str| {
        flows
            .iter()
            .find(|f| s(f, "sagemaker_resource") == resource)
            .unwrap_or_else(|| panic!("no finding of {resource}"))
    };
    let nb = by("nb-analyst");
    assert_eq!(s(nb, "attribution_rule"), "notebook_network_interface_id");
    assert_eq!(
        s(nb, "attribution_document"),
        "sample-logs/inventory/sagemaker/describe-notebook-instance-nb-analyst.json"
    );
    // Workloads sharing a VpcConfig: the job that ran at the record's time, and its file.
    for job in ["train-a", "train-b"] {
        let f = by(job);
        assert_eq!(s(f, "attribution_rule"), "vpc_config");
        assert_eq!(
            s(f, "attribution_document"),
            format!("sample-logs/inventory/sagemaker/describe-training-job-{job}.json")
        );
    }
    let studio = by("d-sample12345");
    assert_eq!(s(studio, "attribution_rule"), "sagemaker_resource_tag");
    assert!(flows.iter().any(|f| s(f, "remote_kind") == "aws_service"
        && s(f, "remote_evidence").starts_with("ip-ranges.json ")));
    assert!(
        flows.iter().any(|f| s(f, "remote_kind") == "internet"
            && s(f, "remote_evidence").starts_with("in no VPC"))
    );

    // The two samples hold the same records in two formats: the same findings, so the same
    // ids; within one, every finding has its own.
    let ids = |v: &[serde_json::Map<String, Value>]| {
        let mut ids: Vec<String> = v
            .iter()
            .filter(|f| !s(f, "source_object").is_empty())
            .map(|f| s(f, "finding_id").to_string())
            .collect();
        ids.sort();
        ids
    };
    let v2 = scan_json(&sources[..1], &["--group-by", "flow"]);
    let v5 = scan_json(&sources[1..], &["--group-by", "flow"]);
    assert!(ids(&v2).iter().all(|i| i.len() == 32));
    let mut both = ids(&v2);
    both.extend(ids(&v5));
    both.sort();
    assert_eq!(ids(&findings), both);
    for v in [&v2, &v5] {
        let all: Vec<&str> = v.iter().map(|f| s(f, "finding_id")).collect();
        let distinct: std::collections::BTreeSet<_> = all.iter().collect();
        assert_eq!(distinct.len(), all.len(), "ids repeat");
    }
    let v5_ids: std::collections::BTreeSet<_> = ids(&v5).into_iter().collect();
    // Every record v2 flags, v5 flags with the same id (v5 flags two more, which only its
    // extra fields show).
    assert!(ids(&v2).len() >= 15);
    assert!(ids(&v2).iter().all(|i| v5_ids.contains(i)));
    let again = scan_json(&sources, &["--group-by", "flow"]);
    assert_eq!(ids(&findings), ids(&again), "stable across runs");
}

/// 11. `connection` (the default) makes a request, its reply and their repeats one finding
///     with first/last seen, records and summed bytes; `resource` one per workload and remote
///     kind/service; `flow` one per record.
#[test]
fn group_by_connection_resource_and_flow() {
    let sources = ["sample-logs/v2-default"];
    let flow = scan_json(&sources, &["--group-by", "flow"]);
    let conn = scan_json(&sources, &[]);
    let explicit = scan_json(&sources, &["--group-by", "connection"]);
    assert_eq!(conn, explicit, "connection is the default");
    let resource = scan_json(&sources, &["--group-by", "resource"]);

    // Per rule, the records of each connection (ENI, protocol, the two ends in either order).
    let conn_key = |f: &serde_json::Map<String, Value>| {
        let mut ends = [
            format!("{}|{}", s(f, "srcaddr"), n(f, "srcport")),
            format!("{}|{}", s(f, "dstaddr"), n(f, "dstport")),
        ];
        ends.sort();
        (
            s(f, "rule").to_string(),
            s(f, "interface_id").to_string(),
            n(f, "protocol"),
            ends,
        )
    };
    let mut expected: BTreeMap<_, (i64, i64, i64, i64)> = BTreeMap::new();
    for f in flow.iter().filter(|f| s(f, "rule") == "leaves-vpc") {
        let e = expected
            .entry(conn_key(f))
            .or_insert((0, 0, i64::MAX, i64::MIN));
        e.0 += 1;
        e.1 += n(f, "bytes");
        e.2 = e.2.min(n(f, "start"));
        e.3 = e.3.max(n(f, "end"));
    }
    let grouped: Vec<_> = conn
        .iter()
        .filter(|f| s(f, "rule") == "leaves-vpc")
        .collect();
    assert_eq!(grouped.len(), expected.len());
    assert!(
        expected.values().any(|e| e.0 > 1),
        "the sample has connections of several records"
    );
    for f in &grouped {
        let e = expected[&conn_key(f)];
        assert_eq!(
            (
                n(f, "records"),
                n(f, "bytes"),
                n(f, "first_seen"),
                n(f, "last_seen")
            ),
            e,
            "{f:?}"
        );
        assert_eq!(n(f, "start"), e.2);
    }
    // A connection whose records go both ways is one finding, oriented as the request
    // (from the workload's ephemeral port).
    let both_ways = flow
        .iter()
        .filter(|f| s(f, "rule") == "leaves-vpc")
        .any(|f| s(f, "direction") == "ingress");
    if both_ways {
        assert!(
            grouped
                .iter()
                .all(|f| n(f, "srcport") > n(f, "dstport") || s(f, "direction") == "ingress")
        );
    }

    // resource: one finding per workload and remote kind and service.
    let mut kinds = std::collections::BTreeSet::new();
    for f in flow.iter().filter(|f| s(f, "rule") == "leaves-vpc") {
        kinds.insert((
            s(f, "sagemaker_resource").to_string(),
            s(f, "remote_kind").to_string(),
            s(f, "remote_service").to_string(),
        ));
    }
    let per_resource: Vec<_> = resource
        .iter()
        .filter(|f| s(f, "rule") == "leaves-vpc")
        .collect();
    assert_eq!(per_resource.len(), kinds.len());
    let records: i64 = per_resource.iter().map(|f| n(f, "records")).sum();
    assert_eq!(
        records as usize,
        flow.iter().filter(|f| s(f, "rule") == "leaves-vpc").count()
    );
    assert!(
        per_resource
            .iter()
            .all(|f| n(f, "interfaces") >= 1 && n(f, "remotes") >= 1)
    );

    // Rules whose rows are not flow records are the same whatever the grouping.
    for rule in ["blind-spots", "unattributed-aws-managed-enis"] {
        let of = |v: &[serde_json::Map<String, Value>]| {
            v.iter()
                .filter(|f| s(f, "rule") == rule)
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(of(&flow), of(&conn), "{rule}");
        assert!(!of(&flow).is_empty(), "{rule}");
    }
}

/// Where the SARIF checker's venv is (its own: the schema package is not moto's).
fn sarif_checker() -> (std::path::PathBuf, std::path::PathBuf) {
    let out = crate::support::venv_setup("sarif_setup.sh", "sarif-venv");
    let mut lines = out.lines();
    (lines.next().unwrap().into(), lines.next().unwrap().into())
}

fn check_sarif(path: &Path) -> String {
    let (python, schema) = sarif_checker();
    let o = std::process::Command::new(python)
        .arg(root().join("tests/it/support/sarif_check.py"))
        .arg(path)
        .arg(schema)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{}: {text}", path.display());
    text
}

/// 8. SARIF: valid against the SARIF 2.1.0 schema and GitHub's rules (physical locations,
///    partial fingerprints, security-severity), in every grouping; fingerprints stable.
#[test]
fn sarif_is_valid_for_github_code_scanning() {
    let dir = tempfile::tempdir().unwrap();
    let mut fingerprints = Vec::new();
    for (i, group) in ["connection", "flow", "flow", "resource"]
        .iter()
        .enumerate()
    {
        let path = dir.path().join(format!("{i}.sarif"));
        ok(sageflow()
            .args([
                "scan",
                "sample-logs",
                "--inventory",
                "sample-logs/inventory",
            ])
            .args(["--format", "sarif", "--group-by", group, "--output"])
            .arg(&path));
        check_sarif(&path);
        let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let results = doc["runs"][0]["results"].as_array().unwrap();
        assert!(!results.is_empty());
        for r in results {
            let loc = &r["locations"][0]["physicalLocation"];
            let uri = loc["artifactLocation"]["uri"].as_str().unwrap();
            assert!(
                uri.starts_with("sample-logs/") || uri.starts_with("queries/"),
                "{uri}"
            );
            assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        }
        let flow = results
            .iter()
            .find(|r| r["properties"]["source_object"].is_string())
            .expect("a flow finding");
        assert_eq!(
            flow["locations"][0]["physicalLocation"]["region"]["startLine"],
            flow["properties"]["source_line"]
        );
        let rules = doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        let sev = |name: &str| {
            rules.iter().find(|r| r["id"] == name).unwrap()["properties"]["security-severity"]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(sev("leaves-vpc"), "8.0");
        assert_eq!(sev("log-gaps"), "5.5");
        fingerprints.push(
            results
                .iter()
                .map(|r| r["partialFingerprints"]["sageflowFindingId/v1"].clone())
                .collect::<Vec<_>>(),
        );
    }
    assert_eq!(fingerprints[1], fingerprints[2], "stable across runs");
    assert_ne!(fingerprints[0], fingerprints[1]);
}

/// 8. Past GitHub's 25,000 results per run the SARIF file holds the first 25,000 and says
///    how many are left out (and how to group them), and stays valid.
#[test]
fn sarif_stops_at_githubs_result_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("gen");
    ok(sageflow()
        .args(["generate", "--records", "400000", "--objects", "4", "--out"])
        .arg(&data));
    let path = dir.path().join("big.sarif");
    let (_, err) = ok(sageflow()
        .arg("scan")
        .arg(data.join("AWSLogs"))
        .arg("--inventory")
        .arg(data.join("inventory"))
        .args(["--group-by", "flow", "--format", "sarif", "--output"])
        .arg(&path));
    let doc: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["results"].as_array().unwrap().len(), 25_000, "{err}");
    let note = run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(
        note.contains("GitHub code scanning accepts 25000"),
        "{note}"
    );
    assert!(note.contains("--group-by"), "{note}");
    assert!(err.contains("25000"), "{err}");
    check_sarif(&path);
}

/// 7. An export with --inventory holds the inventory tables, and `export --ddl duckdb`
///    declares them: every bundled rule, run by DuckDB over the export, finds what
///    `sageflow scan` finds (per record). With `--dns`, so that private-dns-bypass has
///    findings of both kinds (flows, and a resolution no flow followed).
#[test]
fn bundled_rules_on_duckdb_over_the_export_equal_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("export");
    let src = "sample-logs/v5-custom";
    ok(sageflow()
        .args([
            "export",
            src,
            "--inventory",
            "sample-logs/inventory",
            "--dns",
            "sample-logs/dns",
            "--out",
        ])
        .arg(&out));
    for t in ["enis", "sagemaker_resources", "dns_answers"] {
        assert!(
            out.join(format!("_sageflow/tables/{t}/{t}.parquet"))
                .is_file(),
            "{t}"
        );
    }
    let (ddl, _) = ok(sageflow()
        .args(["export", "--ddl", "duckdb", "--out"])
        .arg(&out));
    let findings = scan_json(&[src], &["--group-by", "flow", "--dns", "sample-logs/dns"]);
    let dns_rule: Vec<_> = findings
        .iter()
        .filter(|f| f["rule"] == "private-dns-bypass")
        .collect();
    assert_eq!(dns_rule.len(), 2, "{dns_rule:#?}");
    let scan_file = dir.path().join("scan.json");
    std::fs::write(&scan_file, serde_json::to_vec(&findings).unwrap()).unwrap();
    let rules: Vec<(String, String)> = std::fs::read_dir(root().join("queries"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "sql"))
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("report-")
        })
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let name = text
                .lines()
                .find_map(|l| l.strip_prefix("-- rule: "))
                .unwrap()
                .trim()
                .to_string();
            (name, text)
        })
        .collect();
    assert!(rules.len() >= 7, "{rules:?}");
    let rules_file = dir.path().join("rules.json");
    std::fs::write(&rules_file, serde_json::to_vec(&rules).unwrap()).unwrap();
    let script = r#"
import duckdb, json, sys
ddl, rules_file, scan_file = sys.argv[1:4]
con = duckdb.connect()
con.execute(ddl)
rules = json.load(open(rules_file))
scan = json.load(open(scan_file))
def norm(v):
    return "<NULL>" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
bad = []
for name, sql in rules:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    ours = sorted(tuple(norm(r[c]) for c in cols) for r in scan if r["rule"] == name)
    theirs = sorted(tuple(norm(v) for v in row) for row in cur.fetchall())
    if ours != theirs:
        bad.append(f"{name}: duckdb {len(theirs)} rows, sageflow {len(ours)}; first differences: {[r for r in theirs if r not in ours][:2]} vs {[r for r in ours if r not in theirs][:2]}")
    print(name, len(theirs))
if bad:
    sys.exit("\n".join(bad))
"#;
    let o = std::process::Command::new(support::python())
        .arg("-c")
        .arg(script)
        .arg(&ddl)
        .arg(&rules_file)
        .arg(&scan_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The comparison compared something: rules with findings on this sample.
    for rule in ["leaves-vpc", "endpoint-bypass", "blind-spots"] {
        let count: usize = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{rule} ")))
            .and_then(|c| c.trim().parse().ok())
            .unwrap();
        assert!(count > 0, "{rule}: {stdout}");
    }
}
