//! Local stand-ins for the push services on the internet, speaking their real wire protocols on 127.0.0.1:
//! [`fcm`] (OAuth2 token endpoint, FCM HTTP v1 send, legacy GCM send) and [`apns`] (HTTP/2 APNs).

#![allow(dead_code)]

pub mod apns;
pub mod fcm;

use std::path::PathBuf;

/// A file of `tests/notify/push_peers/keys`.
pub fn key_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/notify/push_peers/keys")
        .join(name)
}
