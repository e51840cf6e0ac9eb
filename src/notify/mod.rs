//! The GMS Notification service: subscriptions, publish, and delivery to android, ios, httpcb, orscb and comet.
//!
//! # Layout
//! - [`config`]: the `push` sections typed (providers, debug channels, OS-formatting layers).
//! - [`subscription`]: the subscription record, tag filters, and the [`SubscriptionStore`] seam;
//!   [`stored`]: subscriptions in the shared `store::Store` (the production backend).
//! - [`service`]: subscribe / unsubscribe / publish ([`Service`]).
//! - [`deliver`]: one module per delivery type (httpcb, orscb, comet, FCM, APNs).
//! - [`retry`]: deliveries FCM or APNs could not take yet, kept in the subscription store, and their backoff.
//! - [`localization`]: the localized message file.
//!
//! Outbound HTTP (with the `gms` section's `http.*` options) is [`crate::outbound`], shared with the ORS layer.
//!
//! GMS 8.1 spoke C2DM, APNs binary and GCM; this module keeps GMS's option names and API and speaks Firebase
//! Cloud Messaging HTTP v1 and APNs over HTTP/2 (endpoints configurable, see [`config`]).

pub mod config;
pub mod deliver;
pub mod localization;
pub mod retry;
pub mod service;
pub mod stored;
pub mod subscription;

pub use config::{DeliveryType, PushConfig, SectionInput};
pub use service::{Error, PublishReport, Service};
pub use stored::StoreSubscriptions;
pub use subscription::{MemorySubscriptions, Subscription, SubscriptionStore};
