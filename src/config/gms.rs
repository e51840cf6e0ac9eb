//! The `gms` section: options used across services (HTTP client limits toward ORS and callbacks) and the
//! Storage API size limits. Changes take effect immediately.

use std::ops::RangeInclusive;
use std::time::Duration;

use super::raw::RawSection;
use super::value::{self, Diagnostic};

/// Typed `gms` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GmsSection {
    /// `http.connection_timeout` (seconds, default 2).
    pub http_connection_timeout: Duration,
    /// `http.socket_timeout` (seconds, default 2).
    pub http_socket_timeout: Duration,
    /// `http.max_connections_per_route` (default 20).
    pub http_max_connections_per_route: u32,
    /// `http.max_connections_total` (default 100).
    pub http_max_connections_total: u32,
    /// `http.client_port_range` (`52000-53000`; default: system assigned).
    pub http_client_port_range: Option<RangeInclusive<u16>>,
    /// `storage.max_size`: the largest Storage API request body, in bytes (default 1 MiB). Larger bodies get 413.
    pub storage_max_size: usize,
    /// `storage.max_keys`: the most keys one data set may hold (default 256). More get 413.
    pub storage_max_keys: usize,
}

impl Default for GmsSection {
    fn default() -> Self {
        GmsSection {
            http_connection_timeout: Duration::from_secs(2),
            http_socket_timeout: Duration::from_secs(2),
            http_max_connections_per_route: 20,
            http_max_connections_total: 100,
            http_client_port_range: None,
            storage_max_size: 1 << 20,
            storage_max_keys: 256,
        }
    }
}

impl GmsSection {
    /// Types the section (absent section: every default).
    pub fn from_raw(section: Option<&RawSection>, errors: &mut Vec<Diagnostic>) -> GmsSection {
        let mut gms = GmsSection::default();
        let Some(section) = section else {
            return gms;
        };
        let mut take = |result: Result<(), Diagnostic>| {
            if let Err(diagnostic) = result {
                errors.push(diagnostic);
            }
        };
        if let Some(option) = section.get("http.connection_timeout") {
            take(value::seconds(option, 0, 3600).map(|v| gms.http_connection_timeout = v));
        }
        if let Some(option) = section.get("http.socket_timeout") {
            take(value::seconds(option, 0, 3600).map(|v| gms.http_socket_timeout = v));
        }
        if let Some(option) = section.get("http.max_connections_per_route") {
            take(
                value::integer(option, 1, 100_000).map(|v| gms.http_max_connections_per_route = v),
            );
        }
        if let Some(option) = section.get("http.max_connections_total") {
            take(value::integer(option, 1, 100_000).map(|v| gms.http_max_connections_total = v));
        }
        if let Some(option) = section.get("http.client_port_range") {
            let range = option
                .value
                .split_once('-')
                .and_then(|(lo, hi)| {
                    Some((
                        lo.trim().parse::<u16>().ok()?,
                        hi.trim().parse::<u16>().ok()?,
                    ))
                })
                .filter(|(lo, hi)| lo <= hi);
            match range {
                Some((lo, hi)) => gms.http_client_port_range = Some(lo..=hi),
                None => take(Err(Diagnostic::at(
                    option,
                    format!(
                        "option `http.client_port_range` must be a port range such as 52000-53000, found `{}`",
                        option.value
                    ),
                ))),
            }
        }
        if let Some(option) = section.get("storage.max_size") {
            take(value::integer(option, 1, 1usize << 30).map(|v| gms.storage_max_size = v));
        }
        if let Some(option) = section.get("storage.max_keys") {
            take(value::integer(option, 1, 1_000_000).map(|v| gms.storage_max_keys = v));
        }
        gms
    }
}
