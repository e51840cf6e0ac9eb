//! The ORS-compatible session runtime: the only place where tokio meets the SCXML engine.
//!
//! Flows written for Genesys Orchestration Server run here: sessions are started, fed and queried through the
//! operations of ORS's HTTP interface ([`Ors`]), run the ORS dialect ([`dialect`]) and call the ORS modules and
//! DFM actions ([`modules`]).
//!
//! # Layout
//! - [`exchange`]: what sessions exchange (inputs, answers, the error type, completions) and the [`Runtime`]
//!   trait through which modules and I/O processors reach the runtime. A leaf: it imports no other file here.
//! - [`runtime`]: [`Ors`], the registry of live sessions (cap, pending requests, `idealtime` starts).
//! - [`trace`]: watchers of sessions' macrosteps ([`trace::TraceHub`]), for `gms run --trace` and the console.
//! - [`worker`]: worker threads; each owns its sessions and one ECMAScript runtime, fires timers and TTLs on the
//!   injected clock, and is the [`crate::scxml::Host`] of its sessions.
//! - [`modules`]: one file per module namespace (`ws`, `session`, `queue`, `interaction`, `dialog`,
//!   `statistic`), the contact center's events, and DFM actions.
//! - [`ioproc`]: sends to other sessions, and the BasicHTTP processor.
//! - [`documents`]: `src` → shared `Arc<Model>` (http(s), `file:`, paths), parsed once.
//! - [`dialect`]: which documents are ORS documents (parsed with `scxml::Dialect::Ors`), and the host globals.
//! - [`client`]: [`OrsClient`], what a `type=ors` service needs from an ORS: this runtime, or [`Remote`] over HTTP.
//! - [`wire`]: the statuses and bodies of ORS's HTTP interface, shared by [`Remote`] and `http::scxml`.
//! - [`config`]: the `[ors]` and `[dfm]` sections; [`node`]: builds it all for `app.rs`.
//!
//! Files here import each other without a circle (`tests/tidy.rs` checks it), and by module path rather than
//! through the re-exports below.
//!
//! # Threads
//! boa contexts are not `Send`, so a session stays on the worker thread that started it and is reached only
//! through that worker's inbox ([`worker::Command`] / [`SessionInput`]). Module work that waits (HTTP calls of DFM
//! actions, `session:fetch`) runs as tokio tasks and comes back as an event in the inbox.

pub mod client;
pub mod config;
pub mod dialect;
pub mod documents;
pub mod exchange;
pub mod ioproc;
pub mod modules;
pub mod node;
pub mod runtime;
pub mod trace;
pub mod wire;
pub mod worker;

pub use client::{OrsClient, Remote};
pub use config::OrsOptions;
pub use documents::{DocumentError, Documents};
pub use exchange::{Answer, OrsError, Runtime, SessionInput};
pub use modules::Modules;
pub use runtime::{Ors, SessionEndListener, WeakOrs};
