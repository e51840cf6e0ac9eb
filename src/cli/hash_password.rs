//! `gms hash-password NAME`: reads a password from standard input and prints the line of a Basic
//! authentication users file (`auth_users_file`) for it: `NAME:` and an Argon2id PHC string.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::Context;

/// Arguments of `gms hash-password`.
#[derive(Debug, clap::Args)]
pub struct HashPasswordArgs {
    /// The user's name (letters, digits, `.`, `_`, `-` or `@`).
    pub name: String,
}

/// Prints `NAME:HASH` for the password on the first line of standard input.
pub fn run(args: HashPasswordArgs) -> anyhow::Result<ExitCode> {
    let valid = !args.name.is_empty()
        && args
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !valid {
        anyhow::bail!(
            "user name `{}`: use letters, digits, `.`, `_`, `-` or `@`",
            args.name
        );
    }
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        anyhow::bail!("no password on standard input");
    }
    let hash = crate::http::auth::hash_password(password)
        .map_err(|error| anyhow::anyhow!("cannot hash the password: {error}"))?;
    writeln!(std::io::stdout(), "{}:{hash}", args.name)?;
    Ok(ExitCode::SUCCESS)
}
