//! `gms validate`: checks SCXML charts and prints `file:line:column: sentence` for every problem.
//!
//! Each chart is read in its own dialect, picked the way the server picks it ([`dialect_of`]), so the sample flows
//! written for ORS and W3C charts check side by side; `--dialect` forces one dialect on every chart.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::scxml;

/// Arguments of `gms validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The charts to check.
    #[arg(required = true)]
    pub charts: Vec<PathBuf>,
    /// Read every chart in this dialect. Without it each chart is read in its own, as the server reads it: `ors`
    /// when its root declares a Genesys module namespace (`http://www.genesyslab.com/modules/...`), else `w3c`.
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
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

/// The dialect a chart of `text` is read in: the one `--dialect` forces, else the one the server gives such a
/// document ([`crate::ors::dialect::is_ors_document`]: ORS when its root declares a Genesys module namespace).
pub fn dialect_of(forced: Option<DialectArg>, text: &str) -> scxml::parse::Dialect {
    match forced {
        Some(dialect) => dialect.into(),
        None if crate::ors::dialect::is_ors_document(text) => scxml::parse::Dialect::Ors,
        None => scxml::parse::Dialect::W3c,
    }
}

/// Runs `gms validate`: exit 0 when every chart is valid, 1 otherwise.
pub fn run(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let mut all_valid = true;
    for chart in &args.charts {
        if let Err(errors) =
            scxml::parse::parse_file_with(chart, |text| dialect_of(args.dialect, text))
        {
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
