//! The Bayeux 1.0 protocol engine behind `/genesys/cometd` (handshake, connect, subscribe, publish); no axum here.
//!
//! No maintained Rust crate implements a Bayeux server, so the protocol is written here, split by job:
//! - [`message`]: the wire message and batch parsing (serde);
//! - [`channel`]: channel names, kinds and wildcard matching;
//! - [`session`]: one client's subscriptions and queue;
//! - [`server`]: the operations, long-poll waiting, expiry, and server-side deliveries.
//!
//! Transports (`http::cometd`: long-polling POSTs and WebSocket frames) hand batches to [`Server::handle`].
//! GMS clients identify with the `gms_user` header on transport requests (or `ext.gms_user` at handshake);
//! [`Server::deliver_to_user`] reaches only that user's clients.

pub mod channel;
pub mod message;
pub mod server;
pub mod session;

pub use message::{Advice, Message};
pub use server::{GENESYS_CHANNEL, Server, SessionListener, Settings, Transport};
