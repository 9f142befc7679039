//! The `yidi` binary: parse the command line, call the library, map the result to an exit
//! status (SPEC §10), print the whole error chain.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use yidi::cli::{Cli, Command};
use yidi::exit::ExitStatus;
use yidi::progress::Progress;

/// mimalloc rather than the system's allocator: ingestion makes and frees tens of millions
/// of small values and a few thousand column buffers a month, and glibc's allocator hands
/// the large ones back to the system each time, to be faulted in and zeroed again.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What a shell reports for a program ended by SIGPIPE (128 + 13).
const CLOSED_PIPE: u8 = 141;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let arguments: Vec<String> = std::env::args().collect();
    let progress = Progress::new(cli.log_format, cli.quiet);
    let result = match &cli.command {
        Command::Run(args) => args
            .options(arguments)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::run::run(&options, &progress))
            .map(|outcome| outcome.status),
        Command::Validate(args) => args
            .options(arguments)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::validate::validate(&options, &progress)),
        Command::Query(args) => args
            .options()
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::query::query(&options)),
        Command::Split(args) => args
            .options()
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::steps::split::split(&options, &progress))
            .map(|_| ExitStatus::Success),
        Command::Check(args) => args
            .options()
            .map_err(anyhow::Error::from)
            .and_then(|options| match args.plan {
                Some(groups) => yidi::steps::check::plan(&options.stage, groups).and_then(|plan| {
                    let mut out = std::io::stdout().lock();
                    for group in plan {
                        writeln!(out, "{}", group.join(","))?;
                    }
                    Ok(ExitStatus::Success)
                }),
                None => yidi::steps::check::check(&options, &progress).map(|_| ExitStatus::Success),
            }),
        Command::Merge(args) => args
            .options(arguments)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::steps::merge::merge(&options, &progress))
            .map(|outcome| outcome.status),
        Command::Generate(args) => args
            .options()
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::generate::run(&options, &progress)),
        Command::Rules(args) => {
            yidi::rules::explain(args.code.as_deref(), &mut std::io::stdout().lock())
                .map(|()| ExitStatus::Success)
        }
    };
    let status = match result {
        Ok(status) => status,
        // The reader of the output went away (`yidi rules | head`): nothing to report.
        Err(error) if ExitStatus::is_closed_pipe(&error) => return ExitCode::from(CLOSED_PIPE),
        Err(error) => {
            // Not `eprintln!`, which panics when stderr is closed.
            let _ = writeln!(std::io::stderr(), "yidi: error: {error:#}");
            ExitStatus::of_error(&error)
        }
    };
    ExitCode::from(status.code())
}
