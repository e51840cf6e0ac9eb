//! The GMS REST API as `gms serve` serves it, and the option file it reads: access rules of the two listeners,
//! the Service, Storage and Notification APIs over real HTTP, schema-driven input, durability and logs of the real
//! binary, option files (loaded, fuzzed, reloaded while serving) and the built-in defaults.
//!
//! [`server`] starts the server under test (in-process, or the real binary).

#[path = "../support/sample_flows.rs"]
mod sample_flows;
#[path = "../support/server.rs"]
mod server;

mod access;
mod browser;
mod chat;
mod config_files;
mod config_fuzz;
mod config_reload;
mod console;
mod durability;
mod logs;
mod notification_wiring;
mod schemathesis;
mod security;
mod serve_defaults;
mod service;
mod storage;
