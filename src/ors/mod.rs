//! The ORS-compatible session runtime: the only place where tokio meets the SCXML engine.
//!
//! Flows written for Genesys Orchestration Server run here: sessions are started, fed and queried through the
//! operations of ORS's HTTP interface ([`Ors`]), run the ORS dialect ([`dialect`]) and call the ORS modules and
//! DFM actions ([`modules`]).
//!
//! # Layout
//! - [`runtime`]: [`Ors`], the registry of live sessions (cap, TTL, pending requests) and the inbox enums.
//! - [`worker`]: worker threads; each owns its sessions and one ECMAScript runtime, fires timers, and is the
//!   [`crate::scxml::Host`] of its sessions.
//! - [`documents`]: `src` → shared `Arc<Model>` (http(s), `file:`, paths), parsed once.
//! - [`dialect`]: which documents are ORS documents (parsed with `scxml::Dialect::Ors`), and the host globals.
//! - [`modules`]: `ws:response`, `session:*`, `queue`/`interaction`/`dialog`/`statistic` over
//!   [`crate::contact_center::ContactCenter`], DFM actions through [`crate::dfm::Executor`].
//! - [`ioproc`]: sends to other sessions.
//!
//! # Threads
//! boa contexts are not `Send`, so a session stays on the worker thread that started it and is reached only
//! through that worker's inbox ([`runtime::Command`] / [`runtime::SessionInput`]). Module work that waits
//! (HTTP calls of DFM actions, `session:fetch`) runs as tokio tasks and comes back as an event in the inbox.

pub mod config;
pub mod dialect;
pub mod documents;
pub mod forward;
pub mod ioproc;
pub mod modules;
pub mod node;
pub mod runtime;
pub mod worker;

pub use documents::{DocumentError, Documents};
pub use forward::{OrsClient, Remote};
pub use modules::Modules;
pub use runtime::{Answer, Ors, OrsError, OrsOptions, SessionEndListener};
