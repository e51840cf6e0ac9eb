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
    /// The SCXML dialect the charts are written in.
    #[arg(long, value_enum, default_value_t = DialectArg::W3c)]
    pub dialect: DialectArg,
}

/// `--dialect` of `gms validate` and `gms run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DialectArg {
    /// W3C SCXML 1.0.
    W3c,
    /// Genesys ORS (`<send>` attributes are expressions).
    Ors,
}

impl From<DialectArg> for scxml::parse::Dialect {
    fn from(arg: DialectArg) -> Self {
        match arg {
            DialectArg::W3c => scxml::parse::Dialect::W3c,
            DialectArg::Ors => scxml::parse::Dialect::Ors,
        }
    }
}

/// Runs `gms validate`: exit 0 when every chart is valid, 1 otherwise.
pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut all_valid = true;
    for chart in &args.charts {
        if let Err(errors) = scxml::parse::parse_file_as(chart, args.dialect.into()) {
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
