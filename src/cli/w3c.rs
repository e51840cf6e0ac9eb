//! `gms w3c`: runs a W3C IRP test directory.

use std::process::ExitCode;

/// Arguments of `gms w3c`.
#[derive(Debug, clap::Args)]
pub struct W3cArgs {}

/// Not built yet.
pub fn run(_args: W3cArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gms w3c` is not built yet")
}
