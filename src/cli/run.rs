//! `gms run`: runs an SCXML chart locally.

use std::process::ExitCode;

/// Arguments of `gms run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {}

/// Not built yet.
pub fn run(_args: RunArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gms run` is not built yet")
}
