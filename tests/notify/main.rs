//! Notifications: the Notification API over real HTTP, the `push` options of the deployment guide, android and ios
//! deliveries against local FCM and APNs peers, subscriptions in the embedded store, and CometD over real HTTP and
//! with real clients.
//!
//! [`node`] starts a notification node and a recording HTTP peer standing in for callbacks and ORS; [`push_peers`]
//! holds the local FCM and APNs servers and their test keys.

mod node;
mod push_peers;

mod api;
mod cometd_http;
mod cometd_interop;
mod config;
mod push;
mod push_errors;
mod store;
