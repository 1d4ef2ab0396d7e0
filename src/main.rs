//! The `sageflow` binary: parse arguments, set up logging, run, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use sageflow::cli::{self, Cli};
use tracing::Level;
use tracing_subscriber::filter::{FilterExt, filter_fn};
use tracing_subscriber::prelude::*;

fn main() -> ExitCode {
    let cli = Cli::parse();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if matches!(cli.command, cli::Command::Scan(_) | cli::Command::Report(_)) {
        return_freed_memory();
    }
    init_tracing(cli.verbose, colours(cli.color));
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if sageflow::decode::parquet::in_decoder_call() {
            tracing::debug!("caught in the Parquet decoder: {info}");
        } else {
            default_hook(info);
        }
    }));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(cli::EXIT_ERROR);
        }
    };
    // SIGINT and SIGTERM end the run without its destructors: the scratch folder (the
    // scan's copy, export staging, spill files) is removed here instead.
    #[cfg(unix)]
    runtime.spawn(async {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return;
        };
        let code = tokio::select! {
            _ = tokio::signal::ctrl_c() => 130,
            _ = term.recv() => 143,
        };
        sageflow::scratch::remove();
        eprintln!("sageflow: stopped by a signal; its temporary files are removed");
        std::process::exit(code);
    });
    let result = cli::run_on(&runtime, cli);
    sageflow::scratch::remove();
    match result {
        Ok(code) => ExitCode::from(code),
        // `| head` closed the pipe: the reader has what it wanted, as with other tools.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            report(&e);
            ExitCode::from(cli::EXIT_ERROR)
        }
    }
}

/// For a scan: glibc's malloc serves blocks from 128 KiB up from its heaps once the first
/// such block was freed (its threshold follows the largest block freed), and a heap keeps
/// what is freed in the middle of it. A scan's dozen plans allocate and free such blocks
/// for every batch (DataFusion's batch coalescers, sorts, joins), which left tens of MB of
/// freed memory resident. Fixed at 128 KiB, those blocks are mapped and unmapped instead;
/// the trim threshold is raised to 32 MiB, or the heaps shrink and grow again on every
/// batch (with the default 128 KiB, a query took 25 % longer). An export took 6 % longer
/// with these settings, for less gain, and keeps malloc's defaults, as do queries.
/// README (`sageflow scan`) has the figures. A user's own settings (`MALLOC_*_`,
/// `GLIBC_TUNABLES`) win.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_freed_memory() {
    let set = |name: &str| std::env::var_os(name).is_some();
    let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
    let options = [
        (
            libc::M_MMAP_THRESHOLD,
            128 << 10,
            "MALLOC_MMAP_THRESHOLD_",
            "glibc.malloc.mmap_threshold",
        ),
        (
            libc::M_TRIM_THRESHOLD,
            32 << 20,
            "MALLOC_TRIM_THRESHOLD_",
            "glibc.malloc.trim_threshold",
        ),
    ];
    for (option, value, env, tunable) in options {
        if !set(env) && !tunables.contains(tunable) {
            // SAFETY: mallopt only sets malloc's parameters, under malloc's own lock.
            #[allow(unsafe_code)]
            unsafe {
                libc::mallopt(option, value);
            }
        }
    }
}

/// Prints an error once: its message, each cause not already in it, and a hint.
fn report(e: &sageflow::Error) {
    use sageflow::terminal::printable;
    let message = e.to_string();
    eprintln!("error: {}", printable(&message));
    // DataFusion's own errors repeat their cause in their message.
    let mut cause = match e {
        sageflow::Error::DataFusion(_) => None,
        _ => std::error::Error::source(e),
    };
    while let Some(c) = cause {
        let text = c.to_string();
        if !message.contains(&text) {
            eprintln!("  caused by: {}", printable(&text));
        }
        cause = c.source();
    }
    if let Some(h) = e.hint() {
        eprintln!("hint: {h}");
    }
}

/// Whether stderr gets ANSI colours: `--color`, else `NO_COLOR` (any non-empty value
/// turns them off, as no-color.org asks), else whether stderr is a terminal.
fn colours(choice: cli::args::ColorChoice) -> bool {
    match choice {
        cli::args::ColorChoice::Always => true,
        cli::args::ColorChoice::Never => false,
        cli::args::ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::IsTerminal::is_terminal(&std::io::stderr())
        }
    }
}

fn init_tracing(verbose: u8, ansi: bool) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        // Off EC2, a missing region makes aws-config ask IMDS and log each refusal with
        // the raw response; sageflow says in one line how to set the region instead.
        let imds = if verbose == 0 {
            ",aws_config::imds=error"
        } else {
            ""
        };
        tracing_subscriber::EnvFilter::new(format!("sageflow={default},warn{imds}"))
    });
    let layer = tracing_subscriber::fmt::layer()
        // Object names in warnings come from the data: no escape sequence of theirs
        // reaches the terminal.
        .with_writer(move || sageflow::terminal::Printable::new(std::io::stderr(), ansi))
        .with_ansi(ansi)
        .event_format(cli::warnings::Warnings::default())
        .with_filter(filter.and(filter_fn(|meta| {
            !(*meta.level() == Level::TRACE && is_transport(meta.target()))
        })));
    tracing_subscriber::registry().with(layer).init();
}

/// The AWS SDK and HTTP crates, whose TRACE events print request and response bodies:
/// an AWS answer to a bad signature echoes the session token and the signature. Whatever
/// RUST_LOG asks for, they log at DEBUG at most.
fn is_transport(target: &str) -> bool {
    ["aws_", "hyper", "h2", "rustls"]
        .iter()
        .any(|p| target.starts_with(p))
}
