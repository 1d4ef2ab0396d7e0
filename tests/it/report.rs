//! `sageflow report`: the HTML page of a scan, opened in a real headless Chromium
//! (Debian's, installed here when missing, never skipped) and checked against the scan's
//! own findings and independent queries, and drawn by Firefox; its data section is a
//! snapshot.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::support::{self, debian_tool, root, sageflow, snapshot};

const SAMPLE: &[&str] = &[
    "sample-logs/v5-custom",
    "--inventory",
    "sample-logs/inventory",
    "--dns",
    "sample-logs/dns",
];

/// Runs `sageflow report` on the sample; returns the page.
fn report(dir: &Path, extra: &[&str]) -> (PathBuf, String) {
    let out = dir.join("report.html");
    let o = sageflow()
        .arg("report")
        .args(SAMPLE)
        .args(extra)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    // Exit codes as scan's: the sample has findings.
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("report written to"), "{stderr}");
    let html = std::fs::read_to_string(&out).unwrap();
    (out, html)
}

/// The page's data section.
fn data_of(html: &str) -> Value {
    let start = html
        .find(r#"<script type="application/json" id="sageflow-data">"#)
        .expect("data section");
    let rest = &html[start..];
    let body = &rest[rest.find('>').unwrap() + 1..rest.find("</script>").unwrap()];
    serde_json::from_str(&body.replace("<\\/", "</")).unwrap()
}

fn query_json(sql: &str) -> Vec<serde_json::Map<String, Value>> {
    let o = sageflow()
        .arg("query")
        .args(SAMPLE)
        .args(["--format", "json", "--quiet", "--sql", sql])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn browser_python() -> PathBuf {
    support::venv_setup("browser_setup.sh", "browser-venv")
        .trim()
        .into()
}

/// What the page must show, from the scan's findings and queries of the flows.
fn expectations() -> Value {
    let o = sageflow()
        .arg("scan")
        .args(SAMPLE)
        .args(["--format", "json", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let findings: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
    let s = |f: &Value, k: &str| f[k].as_str().unwrap_or_default().to_string();
    let rows: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!([
                s(f, "rule"),
                s(f, "interface_id"),
                s(f, "srcaddr"),
                s(f, "dstaddr")
            ])
        })
        .collect();
    let mut timed: Vec<String> = findings
        .iter()
        .filter(|f| f["start"].is_i64())
        .map(|f| s(f, "rule"))
        .collect();
    timed.sort();
    timed.dedup();
    let traffic: serde_json::Map<String, Value> = query_json(
        "SELECT coalesce(sagemaker_resource, '(unresolved)') AS r, \
         count(DISTINCT coalesce(remote_kind, 'none')) AS kinds FROM flows \
         WHERE eni_owner_kind = 'sagemaker' AND action = 'ACCEPT' GROUP BY 1",
    )
    .into_iter()
    .map(|r| (r["r"].as_str().unwrap().to_string(), r["kinds"].clone()))
    .collect();
    let destinations = query_json(
        "SELECT DISTINCT remote_addr, remote_kind, remote_service FROM flows \
         WHERE eni_owner_kind = 'sagemaker' AND action = 'ACCEPT' AND direction = 'egress' \
         AND remote_kind IN ('internet', 'aws_service', 'private_other', 'nat_gateway')",
    )
    .len()
    .min(20);
    let enis = query_json(
        "SELECT count(DISTINCT interface_id) AS n FROM flows WHERE eni_owner_kind = 'sagemaker'",
    )[0]["n"]
        .clone();
    json!({
        "findings": rows,
        "rules_timed": timed.len(),
        "traffic": traffic,
        "destinations": destinations,
        "coverage_enis": enis,
        "headline_yes": findings.iter().any(|f| ["leaves-vpc", "endpoint-bypass", "private-dns-bypass"].contains(&s(f, "rule").as_str())),
    })
}

/// The sample's report in Chromium, offline: no request, no console error, every chart
/// with the series the flows have, the table with exactly the scan's findings, filters and
/// sorting working, a screenshot that is not blank, dark mode and print readable.
#[test]
fn the_sample_report_renders_offline_in_chromium() {
    let chromium = debian_tool("chromium", "chromium");
    let python = browser_python();
    let dir = tempfile::tempdir().unwrap();
    let (page, html) = report(dir.path(), &[]);
    // Self-contained: nothing is fetched, whatever the browser.
    for needle in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(!html.contains(needle), "the page refers to {needle}");
    }
    let expect = dir.path().join("expect.json");
    std::fs::write(&expect, expectations().to_string()).unwrap();
    let shot = dir.path().join("report.png");
    let o = std::process::Command::new(python)
        .arg(root().join("tests/it/support/report_check.py"))
        .arg(&page)
        .arg(&expect)
        .arg(&shot)
        .arg(&chromium)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    println!("{text}");
    assert!(o.status.success(), "{text}");
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    // The README's picture is this run's screenshot.
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::copy(&shot, root().join("docs/report-sample.png")).unwrap();
    }
}

/// Firefox (Debian's firefox-esr, headless) draws the same page: its screenshot is not
/// blank. The page uses nothing Chromium-only: SVG, CSS variables and a plain script.
#[test]
fn the_sample_report_renders_in_firefox() {
    let firefox = debian_tool("firefox-esr", "firefox-esr");
    let python = browser_python();
    let dir = tempfile::tempdir().unwrap();
    let (page, _) = report(dir.path(), &[]);
    let shot = dir.path().join("firefox.png");
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let o = std::process::Command::new(&firefox)
        .args(["--headless", "--window-size=1280,2400", "--screenshot"])
        .arg(&shot)
        .arg(format!("file://{}", page.display()))
        .env("HOME", &home)
        .output()
        .unwrap();
    assert!(
        o.status.success() && shot.exists(),
        "firefox: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = std::process::Command::new(python)
        .arg(root().join("tests/it/support/report_check.py"))
        .arg("--screenshot-only")
        .arg(&shot)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    println!("{text}");
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The data the charts are drawn from, for the sample: a snapshot.
#[test]
fn the_sample_report_data_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = report(dir.path(), &[]);
    let data = data_of(&html);
    snapshot(
        "report-data.json",
        &(serde_json::to_string_pretty(&data).unwrap() + "\n"),
    );
    // Records = rows + rejected, and the coverage share, as the summary counts them.
    let s = &data["sources"];
    assert_eq!(s["records"], 2236);
    assert_eq!(
        s["records"].as_u64().unwrap(),
        s["rows"].as_u64().unwrap() + s["rejected"].as_u64().unwrap()
    );
    assert_eq!(data["findings"]["total"], 20);
    assert_eq!(data["verdict"]["left_vpc_or_bypassed"], true);
}

/// `scan --format html` writes the same page data as `report`; a window given with
/// --since/--until sets the time buckets (a day: 48 half hours); suppressions are listed
/// with what they removed.
#[test]
fn scan_format_html_windows_and_suppressions() {
    let dir = tempfile::tempdir().unwrap();
    let (_, html) = report(dir.path(), &[]);
    let via_scan = dir.path().join("scan.html");
    let o = sageflow()
        .arg("scan")
        .args(SAMPLE)
        .args(["--format", "html", "--quiet", "--output"])
        .arg(&via_scan)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        data_of(&std::fs::read_to_string(&via_scan).unwrap()),
        data_of(&html)
    );

    let day = dir.path().join("day");
    std::fs::create_dir(&day).unwrap();
    let suppress = dir.path().join("accepted.toml");
    std::fs::write(
        &suppress,
        "[[suppress]]\nrule = \"leaves-vpc\"\nmatch = { sagemaker_resource = \"proc-1\" }\nreason = \"partner database, SEC-1\"\n\n\
         [[suppress]]\nrule = \"internet-ingress\"\nmatch = { sagemaker_resource = \"ep-x\" }\nreason = \"old exception\"\nexpires = \"2026-01-31\"\n",
    )
    .unwrap();
    let (_, html) = report(
        &day,
        &[
            "--since",
            "2026-11-20",
            "--until",
            "2026-11-20",
            "--suppress",
            suppress.to_str().unwrap(),
        ],
    );
    let d = data_of(&html);
    assert_eq!(d["window"]["bucket_seconds"], 1800);
    assert_eq!(d["window"]["buckets"], 48);
    assert_eq!(d["window"]["since"], "2026-11-20T00:00:00Z");
    for s in d["traffic"]["resources"][0]["series"].as_array().unwrap() {
        assert_eq!(s["values"].as_array().unwrap().len(), 48);
    }
    let sup = d["suppressions"].as_array().unwrap();
    assert_eq!(sup[0]["removed"], 1, "{sup:?}");
    assert_eq!(sup[1]["expired"], true, "{sup:?}");
    assert!(html.contains("partner database, SEC-1"));
    assert!(html.contains("expired on 2026-01-31"));
    assert_eq!(d["findings"]["total"], 19);

    // A page stays small whatever the findings: each rule lists at most N in the table,
    // and says how many it has.
    let capped = dir.path().join("capped");
    std::fs::create_dir(&capped).unwrap();
    let (_, html) = report(&capped, &["--findings-per-rule", "2"]);
    let d = data_of(&html);
    let want: u64 = d["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["findings"].as_u64().unwrap().min(2))
        .sum();
    assert_eq!(d["findings"]["in_table"], want);
    assert_eq!(html.matches("\" data-severity=\"").count() as u64, want);
    assert!(html.contains("2 of 7 leaves-vpc"), "the cap is stated");
}
