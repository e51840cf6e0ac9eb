//! `gms`: Genesys Mobile Services 8.1 and the part of Genesys Orchestration Server it needs, in one crate.
//!
//! # Layout
//! - [`scxml`]: the SCXML 1.0 engine (parse → model → synchronous W3C interpreter). Knows nothing of HTTP,
//!   tokio or GMS.
//! - [`config`]: GMS option sections read from an INI option file, typed, reloadable.
//! - [`store`]: the one trait for shared state (key/value with TTL, booking, counters, pub/sub) and its embedded
//!   backend.
//! - [`storage`], [`services`], [`resources`], [`notify`], [`cometd`], [`chat`]: GMS domain logic.
//! - [`clock`]: the one source of time; [`sync`], [`media`]: small helpers every layer shares; [`xml`]: the
//!   positioned XML reader under SCXML charts, DFM files and localization files (a leaf, so the engine can use it).
//! - [`ors`]: ORS-compatible session runtime; the only place where tokio meets the engine.
//! - [`dfm`]: DFM files turned into custom actions for flows.
//! - [`http`]: axum routes; the only module that knows status codes.
//! - [`app`]: wires everything together from a configuration; [`cli`]: the command line.
//!
//! `ARCHITECTURE.md` at the repository root has the code map and the invariants.

#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod app;
pub mod chat;
pub mod cli;
pub mod clock;
pub mod cluster;
pub mod cometd;
pub mod config;
pub mod contact_center;
pub mod dfm;
pub mod diagram;
pub mod geo;
pub mod http;
pub mod log;
pub mod media;
pub mod notify;
pub mod ors;
pub mod outbound;
pub mod resources;
pub mod samples;
pub mod scxml;
pub mod services;
pub mod storage;
pub mod store;
pub mod sync;
pub mod xml;
