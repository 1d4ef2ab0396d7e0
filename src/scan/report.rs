//! Writing findings from their spool: the output formats — table, CSV, JSON, NDJSON and
//! SARIF 2.1.0 as GitHub code scanning reads it.

use super::*;

/// Serialises the spooled findings (the first `limit`) as a JSON array, one element at a
/// time.
pub(super) struct Streamed<'a, F> {
    spool: std::cell::RefCell<&'a mut Spool>,
    map: F,
    limit: usize,
}

impl<F: Fn(Finding) -> Value> serde::Serialize for Streamed<'_, F> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut spool = self.spool.borrow_mut();
        let mut seq = s.serialize_seq(Some(spool.len().min(self.limit)))?;
        for f in spool.iter().map_err(S::Error::custom)?.take(self.limit) {
            seq.serialize_element(&(self.map)(f.map_err(S::Error::custom)?))?;
        }
        seq.end()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FindingFormat {
    Table,
    Json,
    Ndjson,
    Csv,
    Sarif,
    /// One self-contained HTML page with charts, as `sageflow report` writes it.
    Html,
}

/// Writes the spooled findings in `format`.
pub fn write(
    spool: &mut Spool,
    rules: &[Rule],
    format: FindingFormat,
    out: &mut dyn Write,
) -> Result<()> {
    let w = |e| Error::io("output", e);
    match format {
        // The page needs the run's aggregations too: `crate::html::write` makes it.
        FindingFormat::Html => {
            return Err(Error::Usage(
                "--format html is written by `sageflow report` (or `scan --format html`), from the whole run".into(),
            ));
        }
        // As serde_json prints the array of the findings' maps, written from the spool's
        // columns: making and freeing a map per finding took longer than the CSV.
        FindingFormat::Json => {
            out.write_all(b"[").map_err(w)?;
            let (mut any, mut text) = (false, Vec::with_capacity(4096));
            for f in spool.batches()? {
                let f = f?;
                for r in 0..f.len() {
                    text.clear();
                    text.extend_from_slice(if any { b",\n" } else { b"\n" });
                    f.write_json_pretty(r, &mut text);
                    out.write_all(&text).map_err(w)?;
                    any = true;
                }
            }
            out.write_all(if any { b"\n]\n" } else { b"]\n" })
                .map_err(w)?;
        }
        FindingFormat::Ndjson => spool.copy_to(out)?,
        FindingFormat::Csv => super::csv::write(spool, out)?,
        FindingFormat::Table => {
            if spool.is_empty() {
                writeln!(out, "No findings.").map_err(w)?;
            } else {
                write_tables(spool, rules, out)?;
            }
        }
        FindingFormat::Sarif => {
            if spool.len() > SARIF_MAX_RESULTS {
                tracing::warn!(
                    "{} findings, of which SARIF output holds the first {SARIF_MAX_RESULTS} (GitHub code scanning's limit per run): use --group-by connection or resource, or --format json for all of them",
                    spool.len()
                );
            }
            serde_json::to_writer_pretty(&mut *out, &sarif(spool, rules))
                .map_err(std::io::Error::from)
                .map_err(w)?;
            writeln!(out).map_err(w)?;
        }
    }
    out.flush().map_err(w)
}

/// The table format: one table per rule (its findings are contiguous in the spool), with
/// the key columns and every column the rule selects, less those empty in all of its
/// findings; times in ISO 8601 UTC and protocols by name, for people (CSV and JSON keep the
/// raw values).
pub(super) fn write_tables(spool: &mut Spool, rules: &[Rule], out: &mut dyn Write) -> Result<()> {
    let w = |e| Error::io("output", e);
    let blocks = spool.columns.clone();
    let columns: Vec<Vec<String>> = blocks
        .iter()
        .map(|(_, extra)| {
            KEY_COLUMNS[2..]
                .iter()
                .map(|c| c.to_string())
                .chain(extra.iter().cloned())
                .collect()
        })
        .collect();
    // The block (rule) of a finding; a rule's findings are contiguous in the spool.
    let mut last = 0;
    let mut block_of = |f: &Finding| -> usize {
        let rule = f.get("rule").and_then(Value::as_str).unwrap_or_default();
        if blocks[last].0 != rule {
            last = blocks.iter().position(|(r, _)| r == rule).unwrap_or(0);
        }
        last
    };
    // The findings' cells, as shown, go to a file next to the spool while their widths
    // (and which columns hold anything) are measured; the rows are then padded from it.
    // A cell shown has no NUL (it escapes control characters but for tab and newline):
    // NUL ends each cell, and a finding is as many cells as its rule's columns.
    let cells_path = spool.path.with_extension("table");
    let io = |e| Error::io(&cells_path, e);
    let mut cells_file = std::io::BufWriter::new(std::fs::File::create(&cells_path).map_err(io)?);
    let mut widths: Vec<Vec<usize>> = columns
        .iter()
        .map(|c| c.iter().map(|k| k.len()).collect())
        .collect();
    let mut used: Vec<Vec<bool>> = columns.iter().map(|c| vec![false; c.len()]).collect();
    let mut runs = Vec::new();
    for f in spool.iter()? {
        let f = f?;
        let b = block_of(&f);
        if runs.last().is_none_or(|&(last, _)| last != b) {
            runs.push((b, 0usize));
        }
        runs.last_mut().expect("pushed").1 += 1;
        for (i, k) in columns[b].iter().enumerate() {
            let cell = shown(k, f.get(k));
            used[b][i] |= !cell.is_empty();
            widths[b][i] = widths[b][i].max(cell.len());
            cells_file.write_all(cell.as_bytes()).map_err(io)?;
            cells_file.write_all(b"\0").map_err(io)?;
        }
    }
    cells_file.flush().map_err(io)?;
    drop(cells_file);
    let mut cells = std::io::BufReader::new(std::fs::File::open(&cells_path).map_err(io)?);
    let mut row = Vec::new();
    let mut text = String::new();
    for (n, &(b, count)) in runs.iter().enumerate() {
        let rule = &blocks[b].0;
        let severity = rules
            .iter()
            .find(|r| &r.name == rule)
            .map_or("", |r| r.severity.as_str());
        if n > 0 {
            writeln!(out).map_err(w)?;
        }
        writeln!(
            out,
            "{rule} ({severity}): {} findings",
            spool.count_of(rule)
        )
        .map_err(w)?;
        let line = |text: &mut String, cells: &mut dyn Iterator<Item = &str>| {
            text.clear();
            for ((c, width), _) in cells
                .zip(&widths[b])
                .zip(&used[b])
                .filter(|(_, used)| **used)
            {
                if !text.is_empty() {
                    text.push_str("  ");
                }
                text.push_str(c);
                // Padded by characters, as `format!("{c:<w$}")` pads.
                let chars = c.chars().count();
                text.extend(std::iter::repeat_n(' ', width.saturating_sub(chars)));
            }
            text.truncate(text.trim_end().len());
        };
        let header: Vec<String> = columns[b].iter().map(|s| s.to_uppercase()).collect();
        line(&mut text, &mut header.iter().map(String::as_str));
        writeln!(out, "{text}").map_err(w)?;
        for _ in 0..count {
            row.clear();
            for _ in &columns[b] {
                std::io::BufRead::read_until(&mut cells, 0, &mut row).map_err(io)?;
            }
            let row = String::from_utf8_lossy(&row);
            line(&mut text, &mut row.split_terminator('\0'));
            writeln!(out, "{text}").map_err(w)?;
        }
    }
    drop(cells);
    std::fs::remove_file(&cells_path).map_err(io)?;
    Ok(())
}

/// A cell of the table format: Unix-second times as ISO 8601 UTC, IANA protocol numbers
/// by name, control characters (in object names, say) escaped for the terminal.
pub(super) fn shown(column: &str, v: Option<&Value>) -> String {
    let cell = shown_raw(column, v);
    crate::terminal::printable(&cell).into_owned()
}

pub use crate::format::iso;

/// [`shown`] without the terminal escaping: for outputs that escape for themselves (the
/// HTML report).
pub fn shown_raw(column: &str, v: Option<&Value>) -> String {
    const TIMES: &[&str] = &[
        "start",
        "end",
        "first_start",
        "last_end",
        "first_seen",
        "last_seen",
    ];
    match (column, v) {
        (c, Some(Value::Number(n))) if TIMES.contains(&c) => {
            n.as_i64().map(iso).unwrap_or_else(|| n.to_string())
        }
        ("protocol", Some(Value::Number(n))) => match n.as_i64() {
            Some(1) => "icmp".into(),
            Some(6) => "tcp".into(),
            Some(17) => "udp".into(),
            Some(47) => "gre".into(),
            Some(50) => "esp".into(),
            Some(58) => "icmpv6".into(),
            Some(132) => "sctp".into(),
            _ => n.to_string(),
        },
        _ => plain(v),
    }
}

pub(super) fn plain(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
    }
}

/// SARIF 2.1.0 document; its fields are in key order, as `json!` objects print theirs.
#[derive(serde::Serialize)]
#[serde(bound = "F: Fn(Finding) -> Value")]
pub(super) struct Sarif<'a, F> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    runs: [SarifRun<'a, F>; 1],
    version: &'static str,
}

#[derive(serde::Serialize)]
#[serde(bound = "F: Fn(Finding) -> Value")]
pub(super) struct SarifRun<'a, F> {
    invocations: Value,
    results: Streamed<'a, F>,
    tool: Value,
}

/// Results GitHub code scanning accepts in one run; the rest are left out, and the run
/// says how many.
pub const SARIF_MAX_RESULTS: usize = 25_000;

/// GitHub's `security-severity` (0.0–10.0; over 9.0 critical, 7.0 high, 4.0 medium, else
/// low) of a rule severity.
pub(super) fn security_severity(sev: &str) -> &'static str {
    match sev {
        "critical" => "9.5",
        "high" => "8.0",
        "medium" => "5.5",
        "low" => "3.0",
        _ => "1.0",
    }
}

/// An object name as a SARIF `artifactLocation.uri`: URLs (`s3://`, `cwlogs://`) and
/// relative paths as URI references, absolute paths as `file://` URLs, with every byte a
/// URI path cannot hold percent-encoded.
pub(super) fn artifact_uri(name: &str) -> String {
    pub(super) fn encode(s: &str, colon: bool) -> String {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            let keep = b.is_ascii_alphanumeric()
                || b"-._~/!$&'()*+,;=@".contains(&b)
                || (colon && b == b':');
            if keep {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    }
    if let Some((scheme, rest)) = name.split_once("://")
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        return format!("{scheme}://{}", encode(rest, true));
    }
    if name.starts_with('/') {
        return format!("file://{}", encode(name, true));
    }
    // A relative reference: a colon in it would read as a scheme.
    encode(name, false)
}

pub(super) fn sarif_level(sev: &str) -> &'static str {
    match sev {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

/// SARIF 2.1.0 as GitHub code scanning takes it: one result per finding (at most
/// [`SARIF_MAX_RESULTS`]), located at the source object and line of its (first) record,
/// or at the inventory document of a finding about configuration; `finding_id` as the
/// partial fingerprint; rules with `security-severity`.
pub(super) fn sarif<'a>(
    spool: &'a mut Spool,
    rules: &[Rule],
) -> Sarif<'a, impl Fn(Finding) -> Value> {
    let used: Vec<&Rule> = rules.iter().filter(|r| !r.is_report).collect();
    let names: Vec<String> = used.iter().map(|r| r.name.clone()).collect();
    // A rule's file, for findings no data or inventory file locates (`built-in X` is the
    // bundled queries/X).
    let files: Vec<String> = used
        .iter()
        .map(|r| match r.origin.strip_prefix("built-in ") {
            Some(f) => format!("queries/{f}"),
            None => r.origin.clone(),
        })
        .collect();
    let result = move |f: Finding| {
        let rule = plain(f.get("rule"));
        let sev = plain(f.get("severity"));
        let what = [
            "sagemaker_resource_type",
            "sagemaker_resource",
            "sagemaker_candidates",
            "interface_id",
            "srcaddr",
            "dstaddr",
            "dstport",
            "remote_kind",
            "remote_service",
        ]
        .iter()
        .filter_map(|k| {
            let v = plain(f.get(*k));
            (!v.is_empty()).then(|| format!("{k}={v}"))
        })
        .collect::<Vec<_>>()
        .join(" ");
        let location = plain(f.get("interface_id"));
        let location = if location.is_empty() {
            plain(f.get("sagemaker_resource"))
        } else {
            location
        };
        let (artifact, line) = match (plain(f.get("source_object")), f.get("source_line")) {
            (o, l) if !o.is_empty() => (o, l.and_then(Value::as_u64).unwrap_or(1)),
            _ => match plain(f.get("attribution_document")) {
                d if !d.is_empty() => (d, 1),
                // Nothing names a file: the rule's own.
                _ => (
                    names
                        .iter()
                        .position(|n| *n == rule)
                        .map_or_else(|| format!("queries/{rule}.sql"), |i| files[i].clone()),
                    1,
                ),
            },
        };
        let mut physical = serde_json::json!({
            "artifactLocation": {"uri": artifact_uri(&artifact)},
            "region": {"startLine": line.max(1)},
        });
        if location.is_empty() {
            physical = serde_json::json!({"physicalLocation": physical});
        } else {
            physical = serde_json::json!({
                "physicalLocation": physical,
                "logicalLocations": [{"name": location, "kind": "resource"}],
            });
        }
        let id = plain(f.get("finding_id"));
        serde_json::json!({
            "ruleId": rule,
            "ruleIndex": names.iter().position(|n| *n == rule),
            "level": sarif_level(&sev),
            "message": {"text": format!("{rule}: {what}")},
            "locations": [physical],
            "partialFingerprints": {"sageflowFindingId/v1": id},
            "properties": f,
        })
    };
    let tool = serde_json::json!({"driver": {
        "name": "sageflow",
        "version": env!("CARGO_PKG_VERSION"),
        "rules": used.iter().map(|r| serde_json::json!({
            "id": r.name,
            "name": r.name,
            "shortDescription": {"text": r.name},
            "fullDescription": {"text": r.description},
            "help": {"text": r.description},
            "defaultConfiguration": {"level": sarif_level(&r.severity)},
            "properties": {
                "severity": r.severity,
                "security-severity": security_severity(&r.severity),
                "tags": ["security", "sagemaker", "vpc-flow-logs"],
            },
        })).collect::<Vec<_>>(),
    }});
    let left_out = spool.len().saturating_sub(SARIF_MAX_RESULTS);
    let notifications: Vec<Value> = (left_out > 0)
        .then(|| {
            serde_json::json!({
                "level": "warning",
                "message": {"text": format!(
                    "{left_out} of {} findings are not in this file: GitHub code scanning accepts {SARIF_MAX_RESULTS} results per run. Group them (scan --group-by connection or resource) or write them all with --format json",
                    spool.len()
                )},
            })
        })
        .into_iter()
        .collect();
    Sarif {
        schema: "https://json.schemastore.org/sarif-2.1.0.json",
        runs: [SarifRun {
            invocations: serde_json::json!([{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }]),
            results: Streamed {
                spool: std::cell::RefCell::new(spool),
                map: result,
                limit: SARIF_MAX_RESULTS,
            },
            tool,
        }],
        version: "2.1.0",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// One table per rule, in the order of the spool, with the columns some finding of
    /// the rule fills; a cell with a newline keeps it and the rows after it their place.
    #[test]
    fn tables_per_rule_with_the_columns_they_fill() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path()).unwrap();
        for f in [
            json!({"rule": "a", "interface_id": "eni-1", "srcaddr": "10.0.0.1", "protocol": 6, "start": 0}),
            json!({"rule": "a", "interface_id": "eni-22", "srcaddr": "a\nb", "protocol": 17, "start": null}),
            json!({"rule": "b", "interface_id": "eni-3", "note": "hi"}),
        ] {
            let Value::Object(m) = f else { unreachable!() };
            spool.push(&m).unwrap();
        }
        let rule = |name: &str, severity: &str| Rule {
            name: name.into(),
            is_report: false,
            severity: severity.into(),
            description: String::new(),
            sql: String::new(),
            origin: "test".into(),
        };
        let mut out = Vec::new();
        write_tables(&mut spool, &[rule("a", "high"), rule("b", "low")], &mut out).unwrap();
        let expected = "a (high): 2 findings\n\
            INTERFACE_ID  SRCADDR   PROTOCOL  START\n\
            eni-1         10.0.0.1  tcp       1970-01-01T00:00:00Z\n\
            eni-22        a\nb       udp\n\
            \n\
            b (low): 1 findings\n\
            INTERFACE_ID  NOTE\n\
            eni-3         hi\n";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}
