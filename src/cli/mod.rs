//! The commands. `main.rs` parses arguments and maps errors to exit codes; everything
//! else happens here.

pub mod args;
mod export;
mod generate;
mod inventory;
mod output;
mod progress;
mod query;
mod run;
mod scan;
mod schema;
mod shell;
pub mod warnings;

use std::io::{IsTerminal, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::{DFParser, Statement};

pub use args::{Cli, Command};
use args::{
    InputArgs, InventoryCommand, InventorySource, OutputFormat, QueryArgs, RulesArgs, ScanArgs,
    SchemaArgs, SchemaFormat,
};

use crate::decode::{RejectSink, ScanStats, StatsSnapshot, TimeWindow};
use crate::engine::{self, BATCH_SIZE, ScanConfig};
use crate::enrich::Enricher;
use crate::error::{Error, Result};
use crate::format::{FIELDS, FlowSchema, Layout, kind_name};
use crate::inventory::{Inventory, IpRanges};
use crate::scan::state::ScanState;
use crate::source;
use crate::source::ledger::{OnRewrite, ReadLedger};

use export::*;
use generate::*;
use inventory::*;
use query::*;
pub use query::{Printing, run_sql};
use run::*;
pub use run::{parse_time, parse_until};
use scan::*;
use schema::*;

/// Exit code for success.
pub const EXIT_OK: u8 = 0;
/// Exit code when a scan found something (used by `scan`).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code for usage and input errors.
pub const EXIT_ERROR: u8 = 2;

/// [`run`] on `runtime`, to its end: the binary's whole work. `block_on` is generic over
/// the future, so called from `main.rs` it compiled every async function of the library
/// again in the binary (a release build does not share generic instances between crates):
/// called here, they are compiled once.
pub fn run_on(runtime: &tokio::runtime::Runtime, cli: Cli) -> Result<u8> {
    runtime.block_on(run(cli))
}

/// Runs a parsed command line; returns the exit code.
pub async fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Query(a) => query(a).await,
        Command::Scan(a) => scan(a).await,
        Command::Report(a) => scan(a.into()).await,
        Command::Export(a) => export(a).await,
        Command::Rules(a) => list_rules(a),
        Command::Inventory(InventoryCommand::Show(a)) => inventory_show(&a.inventory, &a.aws).await,
        Command::Inventory(InventoryCommand::Collect(a)) => inventory_collect(a).await,
        Command::Schema(a) => schema(a),
        Command::Generate(a) => generate(a),
        Command::Completions(a) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(a.shell, &mut cmd, "sageflow", &mut std::io::stdout());
            Ok(EXIT_OK)
        }
        #[cfg(feature = "distributed")]
        Command::Worker(a) => worker(a).await,
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd)
                .render(&mut std::io::stdout())
                .map_err(|e| Error::io("standard output", e))?;
            Ok(EXIT_OK)
        }
    }
}

/// The session `query` runs in over `input` (its tables, inventory and sources, on the
/// workers of `--workers` if given), with the run's counters and rejects: for tests and
/// for programs that embed sageflow.
pub async fn session(
    input: &InputArgs,
) -> Result<(SessionContext, Arc<ScanStats>, Arc<RejectSink>)> {
    let run = prepare(input, None).await?;
    Ok((run.query_ctx().clone(), run.stats, run.rejects))
}

/// `sageflow worker`: serves until interrupted.
#[cfg(feature = "distributed")]
async fn worker(a: args::WorkerArgs) -> Result<u8> {
    let worker = engine::distributed::worker(a.memory_limit, a.aws);
    eprintln!(
        "sageflow worker listening on {} (give it to query as --workers {})",
        a.listen, a.listen
    );
    engine::distributed::serve(a.listen, worker).await?;
    Ok(EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let now = DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(parse_time("24h", now).unwrap(), now.timestamp() - 86_400);
        assert_eq!(
            parse_time("2026-11-20", now).unwrap(),
            parse_time("2026-11-20T00:00:00Z", now).unwrap()
        );
        assert!(parse_time("yesterday-ish", now).is_err());
        for huge in ["99999999999999d", "600000000000000000s", "60y"] {
            let e = parse_time(huge, now).unwrap_err().to_string();
            assert!(e.contains("before 1970"), "{huge}: {e}");
        }
        // A bare date for --until is that whole day.
        assert_eq!(
            parse_until("2026-11-20", now).unwrap(),
            parse_time("2026-11-20T23:59:59Z", now).unwrap()
        );
        assert_eq!(
            parse_until("2026-11-20T10:00:00Z", now).unwrap(),
            parse_time("2026-11-20T10:00:00Z", now).unwrap()
        );
    }
}
