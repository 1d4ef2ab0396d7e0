//! The README's five-minute tour, run as written: every command of its `sh` blocks, in
//! order, in one directory, with `sageflow` on the PATH and a `duckdb` that reads SQL on
//! standard input (the test venv's DuckDB behind a small script). What the README says
//! about the first finding is checked against the findings the tour wrote.

use crate::support;

use std::path::Path;
use std::process::Command;

/// The commands of the tour's `sh` blocks, comment and blank lines left out.
fn tour_commands(readme: &str) -> Vec<String> {
    let start = readme
        .find("### A five-minute tour")
        .expect("the README has the tour");
    let mut commands = Vec::new();
    let mut in_block = false;
    for line in readme[start..].lines().skip(1) {
        if line.starts_with("```") {
            in_block = line == "```sh";
            continue;
        }
        if !in_block && line.starts_with('#') {
            break; // the next section
        }
        let line = line.trim();
        if in_block && !line.is_empty() && !line.starts_with('#') {
            commands.push(line.to_string());
        }
    }
    commands
}

#[test]
fn the_readme_tour_runs_as_written() {
    let root = support::root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let commands = tour_commands(&readme);
    assert!(commands.len() >= 6, "{commands:?}");

    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let duckdb = bin.join("duckdb");
    std::fs::write(
        &duckdb,
        format!(
            "#!{}\nimport sys, duckdb\ncon = duckdb.connect()\nres = con.execute(sys.stdin.read())\nfor row in res.fetchall():\n    print('|'.join('' if v is None else str(v) for v in row))\n",
            support::python().display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&duckdb, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    // The sample is referred to relatively, as from a checkout.
    let work = dir.path().join("checkout");
    std::fs::create_dir(&work).unwrap();
    std::os::unix::fs::symlink(root.join("sample-logs"), work.join("sample-logs")).unwrap();
    let sageflow_dir = Path::new(env!("CARGO_BIN_EXE_sageflow")).parent().unwrap();
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        sageflow_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );

    let mut outputs = Vec::new();
    for c in &commands {
        let out = Command::new("bash")
            .args(["-c", c])
            .current_dir(&work)
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        // A scan (or its report) with findings exits 1; everything else succeeds.
        let expected = if c.starts_with("sageflow scan") || c.starts_with("sageflow report") {
            1
        } else {
            0
        };
        assert_eq!(out.status.code(), Some(expected), "{c}\n{stdout}\n{stderr}");
        outputs.push((c.clone(), stdout));
    }

    let findings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.join("findings.json")).unwrap()).unwrap();
    let first = &findings[0];
    for (k, v) in [
        ("rule", "leaves-vpc"),
        ("interface_id", "eni-05aec870f7b234ef9"),
        ("attribution", "eni"),
        ("sagemaker_resource", "nb-analyst"),
        ("sagemaker_resource_type", "notebook_instance"),
        ("remote_addr", "54.240.217.13"),
        ("remote_kind", "aws_service"),
        ("remote_service", "AMAZON"),
        ("attribution_rule", "notebook_network_interface_id"),
        (
            "attribution_document",
            "sample-logs/inventory/sagemaker/describe-notebook-instance-nb-analyst.json",
        ),
        ("remote_evidence", "pkt-*-aws-service AMAZON"),
        ("remote_name", "api.sagemaker.us-east-1.amazonaws.com"),
        ("remote_name_source", "dns_same_client"),
    ] {
        assert_eq!(first[k], v, "{k} in {first}");
    }
    // One connection: the request and its reply, read from the line the finding names.
    assert_eq!(first["records"], 2, "{first}");
    let object = first["source_object"].as_str().unwrap();
    assert!(object.starts_with("sample-logs/v5-custom/"), "{object}");
    assert!(first["source_line"].as_u64().unwrap() >= 1, "{first}");
    assert_eq!(first["finding_id"].as_str().unwrap().len(), 32, "{first}");
    assert!(
        readme.contains("`nb-analyst`") && readme.contains("`eni-05aec870f7b234ef9`"),
        "the README names the finding it describes"
    );
    let shown = |prefix: &str| {
        outputs
            .iter()
            .find(|(c, _)| c.starts_with(prefix))
            .map(|(_, o)| o.clone())
            .unwrap_or_else(|| panic!("no `{prefix}` command in the tour"))
    };
    assert!(shown("python3 -m json.tool").contains("\"leaves-vpc\""));
    assert!(shown("sageflow rules").contains("bytes-per-resource"));
    assert!(shown("sageflow query").contains("nb-analyst"));
    let page = std::fs::read_to_string(work.join("report.html")).unwrap();
    assert!(page.contains("id=\"verdict\"") && page.contains("nb-analyst"));
    let duck = shown("{ cat flows.sql");
    assert!(duck.contains("train-b|gateway_endpoint|"), "{duck}");
}
