//! The interactive SQL shell of `sageflow query` when no SQL is given. Statements end
//! with `;`; `\q` quits, `\d` lists the columns of `flows`.

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::args::OutputFormat;
use crate::error::{Error, Result};

pub async fn repl(
    ctx: &datafusion::prelude::SessionContext,
    stats: &crate::decode::ScanStats,
    format: OutputFormat,
) -> Result<()> {
    let mut editor = DefaultEditor::new()
        .map_err(|e| Error::Usage(format!("cannot start the interactive shell: {e}")))?;
    eprintln!(
        "sageflow SQL shell: the table is `flows`. End statements with `;`, \\d for columns, \\q to quit."
    );
    let mut pending = String::new();
    loop {
        let prompt = if pending.is_empty() {
            "sageflow> "
        } else {
            "      ..> "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                let trimmed = line.trim();
                if pending.is_empty() {
                    match trimmed {
                        "\\q" | "quit" | "exit" => break,
                        "\\d" => {
                            run_and_report(ctx, stats, "DESCRIBE flows", format).await;
                            continue;
                        }
                        "" => continue,
                        _ => {}
                    }
                }
                pending.push_str(&line);
                pending.push('\n');
                if trimmed.ends_with(';') {
                    let _ = editor.add_history_entry(pending.trim());
                    let sql = std::mem::take(&mut pending);
                    run_and_report(ctx, stats, &sql, format).await;
                }
            }
            Err(ReadlineError::Interrupted) => pending.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(Error::Usage(format!("interactive shell: {e}"))),
        }
    }
    Ok(())
}

/// In the shell an error ends the statement, not the session.
/// A damaged object is reported after the result that holds its rows before the damage.
async fn run_and_report(
    ctx: &datafusion::prelude::SessionContext,
    stats: &crate::decode::ScanStats,
    sql: &str,
    format: OutputFormat,
) {
    let began = std::time::Instant::now();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let result = super::run_sql(ctx, sql, format, &mut out).await;
    drop(out);
    match result.and_then(|()| stats.damage()) {
        Ok(()) => eprintln!("({:.3}s)", began.elapsed().as_secs_f64()),
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(h) = e.hint() {
                eprintln!("hint: {h}");
            }
        }
    }
}
