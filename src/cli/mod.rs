//! The command line: `serve`, `hash-password` (a users-file line), and the flow-author tools `run`, `validate`, `w3c`,
//! `test` and `diagram`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod diagram;
pub mod hash_password;
pub mod run;
pub mod run_ors;
pub mod serve;
pub mod test;
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
    /// Write a chart's state diagram as SVG.
    Diagram(diagram::DiagramArgs),
    /// Print a users-file line (`NAME:argon2-hash`) for the password read from standard input.
    HashPassword(hash_password::HashPasswordArgs),
    /// Run every chart that has a script beside it; print one line per test and a summary.
    Test(test::TestArgs),
}

/// Runs one parsed command line and returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Run(args) => run_chart(args),
        Command::Validate(args) => validate::run(args),
        Command::W3c(args) => w3c::run(args),
        Command::HashPassword(args) => hash_password::run(args),
        Command::Test(args) => test::run(args),
        Command::Diagram(args) => diagram::run(args),
    }
}

/// `gms run`: a document the server would run as ORS runs on the ORS runtime with GMS in-process
/// ([`run_ors`]), any other on the engine alone ([`run`]). `--dialect w3c` keeps even an ORS document on the
/// engine alone; `run_ors` picks the dialect from the text again, so `--dialect ors` on any other chart stays on
/// the engine alone too.
fn run_chart(args: run::RunArgs) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    let text = std::fs::read_to_string(&args.chart)
        .with_context(|| format!("reading {}", args.chart.display()))?;
    if args.dialect != Some(validate::DialectArg::W3c)
        && crate::ors::dialect::is_ors_document(&text)
    {
        let script = args.script.as_deref().map(run::read_script).transpose()?;
        return run_ors::run(args, script);
    }
    run::run(args, text)
}
