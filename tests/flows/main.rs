//! The sample flows of `samples/`: each played end to end through the public Service API as the mobile app plays it
//! (in-process, and forwarded to another `gms` standing in for ORS), the access numbers they book given back however
//! they end, the contact-center controls they steer, the client scripts of `samples/` against the real binary,
//! `gms run` on them offline, and their well-formedness against the shipped DFM files.
//!
//! [`server`] starts the server under test; [`sample_flows`] holds what the flow tests share.

#[path = "../support/sample_flows.rs"]
mod sample_flows;
#[path = "../support/server.rs"]
mod server;

mod chat;
mod controls;
mod delay;
mod forwarded;
mod gms_run;
mod inbound;
mod location;
mod outbound;
mod poll;
mod release;
mod samples;
mod scripts;
