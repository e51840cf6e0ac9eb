//! The command line: `serve`, and the flow-author tools `run`, `validate` and `w3c`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod run;
pub mod run_ors;
pub mod serve;
pub mod validate;
pub mod w3c;

/// `gms`: Genesys Mobile Services and its SCXML flows in one binary.
#[derive(Debug, Parser)]
#[command(name = "gms", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the GMS server (embedded store, sample flows and options unless told otherwise).
    Serve(serve::ServeArgs),
    /// Run an SCXML chart locally, with no server.
    Run(run::RunArgs),
    /// Check SCXML charts and print positioned errors.
    Validate(validate::ValidateArgs),
    /// Run a W3C SCXML IRP test directory and print per-test verdicts and a summary.
    W3c(w3c::W3cArgs),
}

/// Runs one parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::run(args),
        Command::W3c(args) => w3c::run(args),
    }
}
