//! `gms diagram`: writes the state diagram of a chart as SVG ([`crate::diagram`]), to standard output or a file.
//!
//! The chart is read as `gms validate` reads it (its own dialect unless `--dialect` forces one); a chart that does
//! not parse prints its `file:line:column: sentence` errors on standard error and exits 1.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::validate::{DialectArg, dialect_of};
use crate::diagram::{Marks, render};
use crate::scxml;

/// Arguments of `gms diagram`.
#[derive(Debug, clap::Args)]
pub struct DiagramArgs {
    /// The chart to draw.
    pub chart: PathBuf,
    /// Write the SVG to this file instead of standard output.
    #[arg(short, long, value_name = "FILE.svg")]
    pub output: Option<PathBuf>,
    /// Read the chart in this dialect (by default the one the server would read it in).
    #[arg(long, value_enum)]
    pub dialect: Option<DialectArg>,
}

/// Runs `gms diagram`: exit 0 with the SVG written, 1 when the chart does not parse.
pub fn run(args: DiagramArgs) -> anyhow::Result<ExitCode> {
    let model =
        match scxml::parse::parse_file_with(&args.chart, |text| dialect_of(args.dialect, text)) {
            Ok(model) => model,
            Err(errors) => {
                for error in &errors.0 {
                    eprintln!("{error}");
                }
                return Ok(ExitCode::FAILURE);
            }
        };
    let svg = render(&model, &Marks::default());
    match &args.output {
        Some(path) => {
            std::fs::write(path, svg).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout()
            .lock()
            .write_all(svg.as_bytes())
            .context("writing the diagram to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}
