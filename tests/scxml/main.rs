//! The SCXML engine and the flow-author commands: data-driven charts (`tests/charts/`), the W3C SCXML IRP suite
//! (`tests/w3c/`), broken documents, many sessions in one ECMAScript runtime, state diagrams, and `gms validate`, `gms run`,
//! `gms w3c` and `gms diagram` as a user runs them, the README's flow-author commands among them.

mod bad_input;
mod charts;
mod cli;
mod diagram;
mod errors;
mod readme_commands;
mod sessions;
mod test_command;
mod w3c;
