//! Compliance rules and reports: one SQL file each, with a header of `-- key: value`
//! lines (`rule:` or `report:`, `severity:`, `description:`). The bundled ones in
//! `queries/` are compiled into the binary; `--rules DIR` adds files or overrides by name.

use std::path::Path;

use crate::error::{Error, Result};

/// A rule (produces findings) or a report (a canned query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub is_report: bool,
    pub severity: String,
    pub description: String,
    pub sql: String,
    /// `built-in` or the file it came from.
    pub origin: String,
}

macro_rules! bundled {
    ($($file:literal),* $(,)?) => {
        const BUNDLED: &[(&str, &str)] = &[
            $(($file, include_str!(concat!("../../queries/", $file))),)*
        ];
    };
}

bundled!(
    "leaves-vpc.sql",
    "endpoint-bypass.sql",
    "private-dns-bypass.sql",
    "internet-ingress.sql",
    "rejected-sagemaker-egress.sql",
    "log-gaps.sql",
    "unattributed-aws-managed-enis.sql",
    "blind-spots.sql",
    "report-bytes-per-resource.sql",
    "report-top-external-destinations.sql",
    "report-unknown-enis.sql",
    "report-destinations-by-name.sql",
);

/// The hint for a rule file that cannot be used.
pub const RULE_HINT: &str = "a rule file is SQL after `-- rule: NAME` (or `-- report: NAME`) and `-- severity:` comment lines; see queries/README.md";

/// Parses one rule file.
pub fn parse(text: &str, origin: &str) -> Result<Rule> {
    let mut name = None;
    let mut is_report = false;
    let mut severity = None;
    let mut description = None;
    for line in text.lines() {
        let Some(comment) = line.trim().strip_prefix("--") else {
            if line.trim().is_empty() {
                continue;
            }
            break;
        };
        let Some((key, value)) = comment.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        match key.trim() {
            "rule" => name = Some(value),
            "report" => {
                name = Some(value);
                is_report = true;
            }
            "severity" => severity = Some(value),
            "description" => description = Some(value),
            _ => {}
        }
    }
    let bad = |what: &str| Error::document(origin, what, RULE_HINT);
    let name = name.ok_or_else(|| bad("no `-- rule: NAME` or `-- report: NAME` header line"))?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(bad(
            "the rule name may hold only letters, digits, `-` and `_`",
        ));
    }
    let severity = severity.unwrap_or_else(|| {
        if is_report {
            "info".into()
        } else {
            "medium".into()
        }
    });
    if !matches!(
        severity.as_str(),
        "critical" | "high" | "medium" | "low" | "info"
    ) {
        return Err(bad("severity must be critical, high, medium, low or info"));
    }
    Ok(Rule {
        name,
        is_report,
        severity,
        description: description.unwrap_or_default(),
        sql: text.to_string(),
        origin: origin.to_string(),
    })
}

/// A bundled rule or report by name (the scan's own summary uses `unknown-enis`, whatever
/// `--rules` replaces).
pub fn bundled(name: &str) -> Result<Rule> {
    for (file, text) in BUNDLED {
        let rule = parse(text, &format!("built-in {file}"))?;
        if rule.name == name {
            return Ok(rule);
        }
    }
    Err(Error::Usage(format!(
        "no built-in rule or report named {name}"
    )))
}

/// The bundled rules, then those of `dir` (a rule of the same name replaces the bundled one).
pub fn load(dir: Option<&Path>) -> Result<Vec<Rule>> {
    let mut rules: Vec<Rule> = BUNDLED
        .iter()
        .map(|(file, text)| parse(text, &format!("built-in {file}")))
        .collect::<Result<_>>()?;
    if let Some(dir) = dir {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| Error::io(&f, e))?;
            let rule = parse(&text, &f.display().to_string())?;
            match rules.iter_mut().find(|r| r.name == rule.name) {
                Some(existing) => {
                    if existing.is_report != rule.is_report {
                        let (was, now) = if rule.is_report {
                            ("rule", "report: scan no longer runs it")
                        } else {
                            ("report", "rule: scan now runs it")
                        };
                        tracing::warn!(
                            "{}: replaces the bundled {was} {} with a {now}",
                            rule.origin,
                            rule.name
                        );
                    }
                    *existing = rule;
                }
                None => rules.push(rule),
            }
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_rules_parse() {
        let rules = load(None).unwrap();
        let names: Vec<&str> = rules
            .iter()
            .filter(|r| !r.is_report)
            .map(|r| r.name.as_str())
            .collect();
        for want in [
            "leaves-vpc",
            "endpoint-bypass",
            "internet-ingress",
            "rejected-sagemaker-egress",
            "log-gaps",
            "unattributed-aws-managed-enis",
            "blind-spots",
        ] {
            assert!(names.contains(&want), "{want}");
        }
        assert!(rules.iter().filter(|r| r.is_report).count() >= 2);
    }

    #[test]
    fn header_errors() {
        assert!(parse("SELECT 1", "x.sql").is_err());
        assert!(parse("-- rule: a b\nSELECT 1", "x.sql").is_err());
        assert!(parse("-- rule: a\n-- severity: urgent\nSELECT 1", "x.sql").is_err());
    }
}
