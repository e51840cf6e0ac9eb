//! `gms validate`: checks SCXML charts.

use std::process::ExitCode;

/// Arguments of `gms validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}

/// Not built yet.
pub fn run(_args: ValidateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`gms validate` is not built yet")
}
