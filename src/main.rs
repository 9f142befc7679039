//! The `yidi` binary: parse the command line, call the library, map the result to an exit
//! status (SPEC §10), print the whole error chain.

use std::process::ExitCode;

use clap::Parser;
use yidi::cli::{Cli, Command};
use yidi::exit::ExitStatus;
use yidi::progress::Progress;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let arguments: Vec<String> = std::env::args().collect();
    let progress = Progress::new(cli.log_format, cli.quiet);
    let result = match &cli.command {
        Command::Run(args) => yidi::run::Options::from_args(args, arguments)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::run::run(&options, &progress))
            .map(|outcome| outcome.status),
        Command::Validate(args) => yidi::validate::Options::from_args(args, arguments)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::validate::validate(&options, &progress)),
        Command::Query(args) => yidi::query::Options::from_args(args)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::query::query(&options)),
        Command::Generate(args) => yidi::generate::Options::from_args(args)
            .map_err(anyhow::Error::from)
            .and_then(|options| yidi::generate::run(&options, &progress)),
        Command::Rules(args) => {
            yidi::rules::explain(args.code.as_deref(), &mut std::io::stdout().lock())
        }
    };
    let status = match result {
        Ok(status) => status,
        Err(error) => {
            eprintln!("yidi: error: {error:#}");
            ExitStatus::of_error(&error)
        }
    };
    ExitCode::from(status.code())
}
