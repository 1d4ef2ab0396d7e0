//! Outputs people and tools read (issue 16, B10 and C13–C14): a table that stays bounded,
//! a closed pipe that is not an error, colours on request only, several statements as
//! several JSON documents, bundled reports by name, and `--output` that means a file.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use serde_json::Value;
use support::sageflow;

const V2: &str = "sample-logs/v2-default";

fn run(args: &[&str]) -> (i32, String, String) {
    let out = sageflow().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_table_shows_at_most_maxrows_rows() {
    let sql = "SELECT interface_id, srcaddr, start FROM flows";
    let data_rows = |out: &str| out.lines().filter(|l| l.starts_with("| eni-")).count();
    let (code, out, err) = run(&["query", V2, "--quiet", "--sql", sql]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(data_rows(&out), 40, "the default, as datafusion-cli's");
    assert!(out.contains("2196 more rows not shown"), "{out}");
    let (_, out, _) = run(&["query", V2, "--quiet", "--maxrows", "5", "--sql", sql]);
    assert_eq!(data_rows(&out), 5);
    assert!(out.contains("2231 more rows not shown"), "{out}");
    let (_, out, _) = run(&["query", V2, "--quiet", "--maxrows", "inf", "--sql", sql]);
    assert_eq!(data_rows(&out), 2236);
    assert!(!out.contains("more rows"), "{out}");
    // The machine formats are never cut.
    let (_, out, _) = run(&["query", V2, "--quiet", "--format", "csv", "--sql", sql]);
    assert_eq!(out.lines().count(), 2237);
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_0() {
    for format in ["table", "csv", "json", "ndjson"] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sageflow"))
            .current_dir(support::root())
            .args([
                "query",
                V2,
                "--quiet",
                "--maxrows",
                "inf",
                "--format",
                format,
            ])
            .args(["--sql", "SELECT * FROM flows"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        // The reader goes away, as `| head -1` does.
        let out = child.wait_with_output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {err}");
        assert!(!err.contains("error"), "{format}: {err}");
    }
}

#[test]
fn colours_only_when_asked_or_on_a_terminal_without_no_color() {
    // A warning to print: a file in the inventory directory that is not JSON.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "x").unwrap();
    let inv = dir.path().to_str().unwrap();
    let args = ["inventory", "show", "--inventory", inv];
    let stderr = |extra: &[&str], no_color: Option<&str>| {
        let mut c = sageflow();
        c.args(args).args(extra);
        match no_color {
            Some(v) => c.env("NO_COLOR", v),
            None => c.env_remove("NO_COLOR"),
        };
        String::from_utf8(c.output().unwrap().stderr).unwrap()
    };
    assert!(stderr(&["--color", "always"], None).contains("\u{1b}["));
    assert!(!stderr(&["--color", "never"], None).contains("\u{1b}["));
    assert!(!stderr(&[], None).contains("\u{1b}["), "not a terminal");
    // On a terminal (script(1) gives the command one), NO_COLOR turns them off.
    let on_tty = |no_color: &str| {
        let cmd = format!(
            "NO_COLOR={no_color} {} inventory show --inventory {inv} >/dev/null",
            env!("CARGO_BIN_EXE_sageflow")
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    assert!(on_tty("").contains("\u{1b}["), "colours on a terminal");
    assert!(!on_tty("1").contains("\u{1b}["), "NO_COLOR=1");
}

#[test]
fn several_statements_print_one_json_document_each() {
    let (code, out, err) = run(&[
        "query",
        V2,
        "--quiet",
        "--format",
        "json",
        "--sql",
        "SELECT count(*) AS n FROM flows; SELECT action, count(*) AS n FROM flows GROUP BY action ORDER BY action",
    ]);
    assert_eq!(code, 0, "{err}");
    let docs: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(docs.len(), 2, "{out}");
    assert_eq!(docs[0][0]["n"], 2236);
    assert_eq!(docs[1].as_array().unwrap().len(), 3);
}

#[test]
fn reports_run_by_name() {
    let (code, out, err) = run(&[
        "query",
        V2,
        "--inventory",
        "sample-logs/inventory",
        "--quiet",
        "--format",
        "json",
        "--report",
        "bytes-per-resource",
    ]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(
        rows.iter().any(|r| r["sagemaker_resource"] == "train-a"),
        "{out}"
    );
    let (code, _, err) = run(&["query", V2, "--report", "bytes-per-resorce"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("(did you mean `bytes-per-resource`?)"),
        "{err}"
    );
    let (_, listing, _) = run(&["rules"]);
    assert!(listing.contains("unknown-enis"), "{listing}");
}

#[test]
fn output_names_a_file_and_never_a_format() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("counts.json");
    let (code, out, err) = run(&[
        "query",
        V2,
        "--quiet",
        "--format",
        "json",
        "--output",
        file.to_str().unwrap(),
        "--sql",
        "SELECT count(*) AS n FROM flows",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.is_empty());
    let rows: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(rows[0]["n"], 2236);
    for command in ["query", "scan"] {
        let (code, _, err) = run(&[
            command,
            V2,
            "--inventory",
            "sample-logs/inventory",
            "--output",
            "json",
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("--format json"), "{err}");
        assert!(!std::path::Path::new("json").exists());
    }
}

/// The interactive shell, on a terminal that script(1) provides; each command is typed
/// after the previous one is answered (a terminal discards input typed ahead while the
/// line editor switches modes).
#[test]
fn the_shell_lists_tables_describes_them_and_helps() {
    let commands = [
        "\\dt",
        "\\d enis",
        "SELECT srcadr FROM flows;",
        "\\?",
        "\\q",
    ];
    let feed = commands
        .iter()
        .map(|c| format!("sleep 2; printf '%s\\n' '{c}';"))
        .collect::<String>();
    let cmd = format!(
        "({feed}) | script -qec '{} query {V2} --inventory sample-logs/inventory --quiet' /dev/null",
        env!("CARGO_BIN_EXE_sageflow")
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &cmd])
        .current_dir(support::root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    for want in [
        "| sagemaker_resources |",
        "| scan_context        |",
        "| accepted_logged         | Boolean   | NO          |",
        "no column `srcadr` (did you mean `srcaddr`?)",
        "\\d TABLE    columns of TABLE",
    ] {
        assert!(text.contains(want), "{want} not in\n{text}");
    }
    assert!(!text.contains("information_schema"), "{text}");
}

#[test]
fn misspelt_tables_and_columns_get_the_closest_names() {
    let (code, _, err) = run(&["query", V2, "--sql", "SELECT srcadr FROM flows"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no column `srcadr` (did you mean `srcaddr`?)"),
        "{err}"
    );
    assert!(
        !err.contains("tgw_src_vpc_id"),
        "not the whole catalogue: {err}"
    );
    let (code, _, err) = run(&["query", V2, "--sql", "SELECT * FROM flow"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("no table `flow` (did you mean `flows`?)"),
        "{err}"
    );
}

#[test]
fn completions_and_a_man_page() {
    let (code, out, _) = run(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(out.contains("_sageflow()"), "{out}");
    assert!(out.contains("--allow-empty"), "{out}");
    let (code, out, _) = run(&["completions", "zsh"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("#compdef sageflow"), "{out}");
    let (code, out, _) = run(&["man"]);
    assert_eq!(code, 0);
    assert!(out.contains(".TH sageflow 1"), "{out}");
    assert!(out.contains("Exit codes"), "{out}");
}

/// `--until` with a bare date is the end of that day: the whole day is read.
#[test]
fn until_a_date_means_the_end_of_that_day() {
    let (code, _, err) = run(&[
        "query",
        V2,
        "--since",
        "2026-11-20",
        "--until",
        "2026-11-20",
        "--sql",
        "SELECT count(*) FROM flows",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2236 records: 2236 rows"), "{err}");
}

/// The summary warns when the ip-ranges in use are more than 90 days old.
#[test]
fn stale_ip_ranges_are_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, date: &str| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                r#"{{"syncToken":"1","createDate":"{date}","prefixes":[{{"ip_prefix":"3.5.0.0/19","region":"us-east-1","service":"S3","network_border_group":"us-east-1"}}],"ipv6_prefixes":[]}}"#
            ),
        )
        .unwrap();
        p
    };
    let today = chrono::Utc::now().format("%Y-%m-%d-00-00-00").to_string();
    let fresh = write("fresh.json", &today);
    let old = write("old.json", "2020-01-01-00-00-00");
    let sql = ["--sql", "SELECT count(*) FROM flows"];
    let (_, _, err) = run(&[
        "query",
        V2,
        "--ip-ranges",
        fresh.to_str().unwrap(),
        sql[0],
        sql[1],
    ]);
    assert!(!err.contains("warning"), "{err}");
    let (_, _, err) = run(&[
        "query",
        V2,
        "--ip-ranges",
        old.to_str().unwrap(),
        sql[0],
        sql[1],
    ]);
    assert!(
        err.contains("warning: the ip-ranges.json in use (")
            && err.contains(") is from 2020-01-01"),
        "{err}"
    );
}

/// Several statements read the sources several times; the summary and the rejects file
/// count each object, record and reject once (the first statement's read).
#[test]
fn the_summary_counts_each_source_once_over_several_statements() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("a.log");
    std::fs::write(
        &log,
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
         2 111122223333 eni-0a1 10.0.0.1 10.0.0.2 1000 443 6 1 100 1795169100 1795169130 ACCEPT OK\n\
         2 111122223333 eni-0a1 10.0.0.1 10.0.0.2 1001 443 6 1 100 1795169100 1795169130 ACCEPT OK\n\
         2 111122223333 eni-0a1 10.0.0.1 10.0.0.2 1002 443 6 1 100 1795169100 1795169130 REJECT OK\n\
         2 111122223333 eni-0a1 10.0.0.1 not-an-address 1003 443 6 1 100 1795169100 1795169130 ACCEPT OK\n",
    )
    .unwrap();
    let rejects = dir.path().join("rejects.ndjson");
    let out = sageflow()
        .args(["query", log.to_str().unwrap(), "--format", "csv", "--rejects"])
        .arg(&rejects)
        .args([
            "--sql",
            "SELECT count(*) AS n FROM flows; SELECT count(*) AS n FROM flows WHERE action = 'ACCEPT'; SELECT 1 AS one",
        ])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "n\n3\nn\n2\none\n1\n", "{stderr}");
    assert!(
        stderr.contains("1 objects read (") && stderr.contains("4 records: 3 rows, 1 rejected"),
        "{stderr}"
    );
    let written = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(written.lines().count(), 1, "{written}");
}
