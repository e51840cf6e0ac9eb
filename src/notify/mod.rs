//! The GMS Notification service: subscriptions, publish, and delivery to android, ios, httpcb, orscb and comet.

pub mod client;
pub mod config;
pub mod localization;
pub mod subscription;
pub mod deliver;
