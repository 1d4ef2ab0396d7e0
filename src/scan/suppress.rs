//! `--suppress FILE`: accepted findings, matched by rule and column values, with a reason
//! and an optional expiry; one that cannot match (an unknown rule or column) is an error.

use super::*;

/// One accepted finding pattern from the `--suppress` file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    pub rule: String,
    /// Column → value that must match exactly (`*` at the end matches a prefix).
    #[serde(default, rename = "match")]
    pub matches: Map<String, Value>,
    pub reason: String,
    /// `YYYY-MM-DD`: the suppression stops applying after this day.
    pub expires: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SuppressionFile {
    #[serde(default)]
    suppress: Vec<Suppression>,
}

impl Suppression {
    pub fn expired(&self, today: chrono::NaiveDate) -> bool {
        self.expires
            .as_deref()
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .is_some_and(|d| today > d)
    }

    pub fn matches(&self, f: &impl super::Lookup) -> bool {
        if f.value("rule").as_deref().and_then(Value::as_str) != Some(self.rule.as_str()) {
            return false;
        }
        self.matches.iter().all(|(k, want)| {
            let got = f.value(k);
            match (want, got.as_deref().unwrap_or(&Value::Null)) {
                (Value::String(w), Value::String(g)) => match w.strip_suffix('*') {
                    Some(prefix) => g.starts_with(prefix),
                    None => w == g,
                },
                (Value::String(w), Value::Number(n)) => w == &n.to_string(),
                (w, g) => w == g,
            }
        })
    }
}

const SUPPRESS_HINT: &str = "a suppression file holds [[suppress]] tables with rule, match = { column = \"value\" }, reason and an optional expires = \"YYYY-MM-DD\"; see the README";

/// Reads a suppression file (TOML, `[[suppress]]` tables).
pub fn load_suppressions(path: &std::path::Path) -> Result<Vec<Suppression>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let file: SuppressionFile = toml::from_str(&text)
        .map_err(|e| Error::document(path.display().to_string(), e.to_string(), SUPPRESS_HINT))?;
    for s in &file.suppress {
        if let Some(d) = &s.expires
            && chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err()
        {
            return Err(Error::document(
                path.display().to_string(),
                format!("expires `{d}` is not a date (YYYY-MM-DD)"),
                SUPPRESS_HINT,
            ));
        }
    }
    Ok(file.suppress)
}

/// Refuses suppressions that cannot do what they say: a rule that does not exist, no
/// `match` (it would accept every finding of the rule), or a column the rule's findings
/// do not have (it would never match). `file` names the suppression file in errors.
pub async fn check_suppressions(
    ctx: &SessionContext,
    rules: &[Rule],
    suppressions: &[Suppression],
    file: &str,
    by: GroupBy,
) -> Result<()> {
    const HINT: &str = "`sageflow rules` lists the rules; a finding's columns are the ones `scan --format json` prints for it";
    for (i, s) in suppressions.iter().enumerate() {
        let at = format!("{file}: suppression {} (rule {})", i + 1, s.rule);
        let Some(rule) = rules.iter().find(|r| !r.is_report && r.name == s.rule) else {
            return Err(Error::config(
                format!(
                    "{at}: no such rule{}",
                    crate::suggest::did_you_mean(
                        &s.rule,
                        rules
                            .iter()
                            .filter(|r| !r.is_report)
                            .map(|r| r.name.as_str())
                    )
                ),
                HINT,
            ));
        };
        if s.matches.is_empty() {
            return Err(Error::config(
                format!(
                    "{at}: no `match`, so it would accept every finding of the rule; name what to accept, e.g. match = {{ sagemaker_resource = \"train-*\" }}"
                ),
                HINT,
            ));
        }
        // `*` alone is a prefix of everything: a match of only those accepts every finding.
        if s.matches.values().all(|v| v.as_str() == Some("*")) {
            return Err(Error::config(
                format!(
                    "{at}: its `match` is only `*`, which matches any value, so it would accept every finding of the rule; name what to accept, e.g. match = {{ sagemaker_resource = \"train-*\" }}"
                ),
                HINT,
            ));
        }
        let (columns, grouped) = finding_columns(ctx, rule, by).await?;
        for key in s.matches.keys() {
            if !columns.iter().any(|c| c == key) {
                return Err(Error::config(
                    format!(
                        "{at}: `{key}` is not a column of its findings, so it would never match{}",
                        crate::suggest::did_you_mean(key, columns.iter().map(String::as_str))
                    ),
                    HINT,
                ));
            }
            // A finding per workload stands for all its records of that kind of remote;
            // its other columns are only its first record's, so a match on them would
            // accept the workload's other traffic with it.
            if grouped && by == GroupBy::Resource && !group::OF_A_RESOURCE.contains(&key.as_str()) {
                return Err(Error::config(
                    format!(
                        "{at}: with --group-by resource a finding stands for every record of a workload and remote kind, and `{key}` is only its first record's: matching it would accept the workload's other traffic too. Match on {} only, or scan with --group-by connection (the default) or flow",
                        group::OF_A_RESOURCE.join(", ")
                    ),
                    HINT,
                ));
            }
        }
    }
    Ok(())
}

/// The columns a rule's findings carry: the key columns, `finding_id` and what its SQL
/// selects, grouped `by`; and whether they are grouped (rows of flow records).
pub(super) async fn finding_columns(
    ctx: &SessionContext,
    rule: &Rule,
    by: GroupBy,
) -> Result<(Vec<String>, bool)> {
    let mut columns: Vec<String> = KEY_COLUMNS.iter().map(|c| c.to_string()).collect();
    columns.push("finding_id".into());
    let mut any_grouped = false;
    for stmt in statements(rule)? {
        let plan = plan(ctx, rule, stmt).await?;
        let schema = match group::grouped(ctx, plan.clone(), by).await? {
            Some(df) => {
                any_grouped = true;
                df.schema().as_arrow().clone()
            }
            None => plan.schema().as_arrow().clone(),
        };
        columns.extend(schema.fields().iter().map(|f| f.name().clone()));
    }
    Ok((columns, any_grouped))
}
