//! What user SQL (queries, the shell, `--rules` files) may do: read, explain, show and
//! set session options — never write or create anything, nor change the run's resource
//! limits or where it puts files, which sageflow's own options decide.

use datafusion::execution::context::SQLOptions;
use datafusion::logical_expr::{LogicalPlan, ResetVariable, SetVariable, Statement};

use crate::error::{Error, Result};

/// Setting prefixes user SQL may not `SET` or `RESET`: the runtime (memory limit,
/// temporary directory, metadata caches) and the catalog's location.
const FIXED: &[&str] = &["datafusion.runtime.", "datafusion.catalog."];

/// Statements users may run: queries, `EXPLAIN`, `SHOW`, `SET`; nothing that writes.
pub fn sql_options() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(true)
}

/// Refuses a plan user SQL may not run (see the module documentation).
pub fn verify(plan: &LogicalPlan) -> Result<()> {
    sql_options()
        .verify_plan(plan)
        .map_err(Error::from_datafusion)?;
    let variable = match plan {
        LogicalPlan::Statement(Statement::SetVariable(SetVariable { variable, .. }))
        | LogicalPlan::Statement(Statement::ResetVariable(ResetVariable { variable })) => variable,
        _ => return Ok(()),
    };
    let name = variable.trim().to_ascii_lowercase();
    if FIXED.iter().any(|p| name.starts_with(p)) {
        return Err(Error::config(
            format!(
                "`{variable}` cannot be changed from SQL: it sets the run's resource limits or file locations"
            ),
            "use sageflow's options instead: --memory-limit for the memory pool, TMPDIR for temporary and spill files",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runtime_settings_are_fixed() {
        let ctx = datafusion::prelude::SessionContext::new();
        let plan = |sql: &str| {
            let ctx = ctx.clone();
            let sql = sql.to_string();
            async move { ctx.state().create_logical_plan(&sql).await.unwrap() }
        };
        for sql in [
            "SET datafusion.runtime.memory_limit = '10G'",
            "SET DataFusion.Runtime.temp_directory = '/etc'",
            "RESET datafusion.runtime.memory_limit",
        ] {
            let e = verify(&plan(sql).await).unwrap_err().to_string();
            assert!(e.contains("cannot be changed from SQL"), "{sql}: {e}");
        }
        verify(&plan("SET datafusion.execution.batch_size = 1024").await).unwrap();
        verify(&plan("SELECT 1").await).unwrap();
        assert!(verify(&plan("CREATE TABLE t AS SELECT 1").await).is_err());
    }
}
