//! `gms validate`: checks SCXML charts and prints `file:line:column: sentence` for every problem.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::scxml;

/// Arguments of `gms validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The charts to check.
    #[arg(required = true)]
    pub charts: Vec<PathBuf>,
}

/// Runs `gms validate`: exit 0 when every chart is valid, 1 otherwise.
pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut all_valid = true;
    for chart in &args.charts {
        if let Err(errors) = scxml::parse_file(chart) {
            all_valid = false;
            for error in &errors.0 {
                println!("{error}");
            }
        }
    }
    Ok(if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
