//! The `gms` binary: parses the command line and hands it to [`gms::cli`].
//!
//! `anyhow` lives here and in `cli/`; library modules return their own `thiserror` errors.

use std::process::ExitCode;

use clap::Parser;

/// mimalloc rather than the system allocator: a request allocates many small, short-lived buffers (headers,
/// form fields, JSON), which mimalloc's per-thread free lists serve faster than glibc's malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = gms::cli::Cli::parse();
    match gms::cli::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("gms: {error:#}");
            ExitCode::FAILURE
        }
    }
}
