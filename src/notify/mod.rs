//! The GMS Notification service: subscriptions, publish, and delivery to android, ios, httpcb, orscb and comet.

pub mod client;
pub mod config;
