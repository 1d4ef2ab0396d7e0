//! The interactive SQL shell of `sageflow query` when no SQL is given. Statements end
//! with `;`; `\q` quits, `\d [TABLE]` lists columns, `\dt` tables, `\?` helps.

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use super::Printing;
use crate::error::{Error, Result};

const HELP: &str = "\
Statements end with `;` and may span lines. The table is `flows`; with --inventory,
`enis` and `sagemaker_resources` describe the inventory, and with --dns `dns_answers`
the names the workloads resolved.
  \\d          columns of flows
  \\d TABLE    columns of TABLE
  \\dt         the tables
  \\? help     this text
  \\q          quit (also Ctrl-D)";

pub async fn repl(
    ctx: &datafusion::prelude::SessionContext,
    stats: &crate::decode::ScanStats,
    printing: Printing,
) -> Result<()> {
    let mut editor = DefaultEditor::new()
        .map_err(|e| Error::Usage(format!("cannot start the interactive shell: {e}")))?;
    eprintln!(
        "sageflow SQL shell: the table is `flows`. End statements with `;`; \\? for help, \\q to quit."
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
                    match trimmed.split_whitespace().collect::<Vec<_>>().as_slice() {
                        ["\\q"] | ["quit"] | ["exit"] => break,
                        ["\\?"] | ["help"] | ["\\h"] => {
                            eprintln!("{HELP}");
                            continue;
                        }
                        ["\\dt"] => {
                            let sql = "SELECT table_name FROM information_schema.tables \
                                       WHERE table_schema = 'public' ORDER BY table_name";
                            run_and_report(ctx, stats, sql, printing).await;
                            continue;
                        }
                        ["\\d"] => {
                            run_and_report(ctx, stats, "DESCRIBE flows", printing).await;
                            continue;
                        }
                        ["\\d", table] => {
                            let sql = format!("DESCRIBE \"{}\"", table.replace('"', "\"\""));
                            run_and_report(ctx, stats, &sql, printing).await;
                            continue;
                        }
                        [] => continue,
                        _ => {}
                    }
                }
                pending.push_str(&line);
                pending.push('\n');
                if trimmed.ends_with(';') {
                    let _ = editor.add_history_entry(pending.trim());
                    let sql = std::mem::take(&mut pending);
                    run_and_report(ctx, stats, &sql, printing).await;
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
    printing: Printing,
) {
    let began = std::time::Instant::now();
    let mut out = std::io::BufWriter::new(std::io::stdout());
    let result = super::run_sql(ctx, sql, printing, None, &mut out, &mut || {}).await;
    drop(out);
    match result.and_then(|()| super::damage(stats)) {
        Ok(()) => eprintln!("({:.3}s)", began.elapsed().as_secs_f64()),
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(h) = e.hint() {
                eprintln!("hint: {h}");
            }
        }
    }
}
