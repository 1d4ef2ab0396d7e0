//! `sageflow query`: SQL over the flows, and the statement runner the shell shares.

use super::*;

pub(super) async fn query(a: QueryArgs) -> Result<u8> {
    if let Some(out) = &a.output {
        refuse_format_as_output(out)?;
    }
    let sql = match (&a.sql, &a.file, &a.report) {
        (Some(s), ..) => Some(s.clone()),
        (None, Some(f), _) => Some(std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?),
        (None, None, Some(name)) => Some(report_sql(name)?),
        (None, None, None) if !std::io::stdin().is_terminal() => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io("standard input", e))?;
            Some(s)
        }
        (None, None, None) => None,
    };
    let run = prepare(&a.input, None).await?;
    let printing = Printing {
        format: a.format,
        max_rows: a.maxrows,
    };
    match sql {
        Some(sql) => {
            let mut out: Box<dyn Write + Send> = match &a.output {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p).map_err(|e| Error::io(p, e))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout())),
            };
            let mut progress = run.progress();
            let result = run_sql(
                run.query_ctx(),
                &sql,
                printing,
                Some((&run.stats, &run.rejects)),
                &mut out,
                &mut || progress.clear(),
            )
            .await;
            drop(out);
            drop(progress);
            run.summary()?;
            result?;
            damage(&run.stats)?;
            run.read_something(run.stats.snapshot(), true)?;
        }
        None => shell::repl(run.query_ctx(), &run.stats, printing).await?,
    }
    Ok(EXIT_OK)
}

/// `--output json` is an AWS CLI habit: the file would be named `json` and hold a table.
pub(super) fn refuse_format_as_output(out: &std::path::Path) -> Result<()> {
    let name = out.to_string_lossy();
    if ["table", "csv", "json", "ndjson", "sarif", "text"].contains(&name.as_ref()) {
        return Err(Error::Usage(format!(
            "--output {name} names a file called `{name}`; the output format is chosen with --format {}, and --output FILE writes it to FILE",
            if name == "text" { "table" } else { &name }
        )));
    }
    Ok(())
}

/// A bundled report's SQL, by name (`sageflow rules` lists them).
pub(super) fn report_sql(name: &str) -> Result<String> {
    let rules = crate::scan::rules::load(None)?;
    let reports: Vec<&crate::scan::Rule> = rules.iter().filter(|r| r.is_report).collect();
    match reports.iter().find(|r| r.name == name) {
        Some(r) => Ok(r.sql.clone()),
        None => Err(Error::Usage(format!(
            "no report named `{name}`{}; the reports are: {}",
            crate::suggest::did_you_mean(name, reports.iter().map(|r| r.name.as_str())),
            reports
                .iter()
                .map(|r| r.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// How results are printed: the format, and how many rows a table shows.
#[derive(Debug, Clone, Copy)]
pub struct Printing {
    pub format: OutputFormat,
    pub max_rows: usize,
}

/// Runs every statement in `sql`, printing each result; `before_output` runs before a
/// result is printed (it clears the progress line). With `counters`, the run's counters are
/// those of the first statement that read the sources, so that a summary after several
/// statements counts each source once (a distributed statement's workers' counts included).
pub async fn run_sql(
    ctx: &SessionContext,
    sql: &str,
    printing: Printing,
    counters: Option<(&ScanStats, &RejectSink)>,
    out: &mut (dyn Write + Send),
    before_output: &mut (dyn FnMut() + Send),
) -> Result<()> {
    let statements = DFParser::parse_sql(sql).map_err(Error::DataFusion)?;
    if statements.is_empty() {
        return Err(Error::Usage("no SQL statement given".into()));
    }
    for stmt in statements {
        let counted = run_statement(ctx, stmt, printing, out, before_output).await?;
        if let Some((stats, rejects)) = counters {
            if let Some(c) = counted
                && !stats.is_settled()
            {
                c.add_to(stats, rejects)?;
            }
            stats.settle();
        }
    }
    Ok(())
}

pub(super) async fn run_statement(
    ctx: &SessionContext,
    stmt: Statement,
    printing: Printing,
    out: &mut (dyn Write + Send),
    before_output: &mut (dyn FnMut() + Send),
) -> Result<Option<crate::engine::counters::Counted>> {
    let state = ctx.state();
    let plan = state
        .statement_to_plan(stmt)
        .await
        .map_err(|e| planning_error(ctx, e))?;
    crate::engine::policy::verify(&plan)?;
    #[cfg(feature = "distributed")]
    if let datafusion::logical_expr::LogicalPlan::Explain(e) = &plan
        && crate::engine::distributed::enabled(&state)
    {
        // DataFusion's EXPLAIN plans in-process; the stages come from the distributed plan.
        let physical = state
            .create_physical_plan(&e.plan)
            .await
            .map_err(Error::from_datafusion)?;
        let stages = crate::engine::distributed::explain(&physical);
        let logical = state.optimize(&e.plan).map_err(Error::from_datafusion)?;
        let batch = datafusion::arrow::array::RecordBatch::try_from_iter([
            (
                "plan_type",
                Arc::new(datafusion::arrow::array::StringArray::from(vec![
                    "logical_plan",
                    "distributed_plan",
                ])) as datafusion::arrow::array::ArrayRef,
            ),
            (
                "plan",
                Arc::new(datafusion::arrow::array::StringArray::from(vec![
                    logical.display_indent().to_string(),
                    stages,
                ])),
            ),
        ])?;
        let stream = datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(
            batch.schema(),
            futures::stream::iter([Ok(batch)]),
        );
        output::write_stream(
            Box::pin(stream),
            printing.format,
            printing.max_rows,
            out,
            before_output,
        )
        .await?;
        return Ok(None);
    }
    let df = ctx
        .execute_logical_plan(plan)
        .await
        .map_err(Error::from_datafusion)?;
    let plan = df
        .create_physical_plan()
        .await
        .map_err(Error::from_datafusion)?;
    let stream = datafusion::physical_plan::execute_stream(plan.clone(), ctx.task_ctx())
        .map_err(Error::from_datafusion)?;
    let written = output::write_stream(
        stream,
        printing.format,
        printing.max_rows,
        out,
        before_output,
    )
    .await;
    #[cfg(feature = "distributed")]
    {
        use crate::engine::distributed;
        if let Err(e) = written {
            return Err(distributed::failure(&plan, state.config(), e).await);
        }
        return distributed::gather(&plan).await;
    }
    #[cfg(not(feature = "distributed"))]
    written.map(|_| None)
}

/// The tables of the session (`flows` and the inventory tables).
pub(super) fn table_names(ctx: &SessionContext) -> Vec<String> {
    let mut names = ctx
        .catalog("datafusion")
        .and_then(|c| c.schema("public"))
        .map(|s| s.table_names())
        .unwrap_or_default();
    names.sort();
    names
}

/// A planning error in the user's terms: an unknown column with the closest names (not
/// the whole catalogue), an unknown table with the tables there are.
pub(super) fn planning_error(ctx: &SessionContext, e: datafusion::error::DataFusionError) -> Error {
    use crate::suggest;
    use datafusion::common::SchemaError;
    use datafusion::error::DataFusionError;
    let root = e.find_root();
    if let DataFusionError::SchemaError(boxed, _) = root
        && let SchemaError::FieldNotFound {
            field,
            valid_fields,
        } = boxed.as_ref()
    {
        let hint =
            suggest::did_you_mean_any(&field.name, valid_fields.iter().map(|c| c.name.as_str()), 5);
        return Error::Usage(format!(
            "no column `{}`{hint}; `sageflow schema` lists the columns of flows (quote names that are SQL words: \"end\")",
            field.name
        ));
    }
    if let DataFusionError::Plan(m) = root
        && let Some(full) = m
            .strip_prefix("table '")
            .and_then(|m| m.strip_suffix("' not found"))
    {
        let name = full.rsplit('.').next().unwrap_or(full);
        let tables = table_names(ctx);
        return Error::Usage(format!(
            "no table `{name}`{}; the tables are {}",
            suggest::did_you_mean(name, tables.iter().map(String::as_str)),
            tables.join(", ")
        ));
    }
    Error::from_datafusion(e)
}
