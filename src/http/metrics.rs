//! Prometheus metrics: requests by route and status, store latency, resources in use, alarms; served as text at
//! `/metrics` on the internal listener.
//!
//! The text exposition format is written by hand: it is a few lines, and the figures come from counters that other
//! modules already keep (store latency buckets, alarm counters, bookings), which a registry crate would make us copy.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};

use crate::store::timed::{BUCKETS, Latency};

/// Request counts by route, then method, then status: nested so that counting a request looks keys up by
/// reference and allocates nothing once the route has been seen.
type RequestCounts =
    HashMap<String, HashMap<String, HashMap<u16, u64, FastHash>, FastHash>, FastHash>;

/// Route templates and methods are the server's own names: a fast non-keyed hash is enough.
type FastHash = foldhash::fast::RandomState;

/// Counters kept by the HTTP edge.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<RequestCounts>,
    /// Latency of store operations.
    pub store_latency: Arc<Latency>,
}

impl Metrics {
    /// Metrics reading store latency from `store_latency`.
    pub fn new(store_latency: Arc<Latency>) -> Metrics {
        Metrics {
            requests: Mutex::new(HashMap::default()),
            store_latency,
        }
    }

    /// Counts one answered request.
    pub fn count_request(&self, method: &str, route: &str, status: u16) {
        let Ok(mut requests) = self.requests.lock() else {
            return;
        };
        if !requests.contains_key(route) {
            requests.insert(route.to_string(), HashMap::default());
        }
        let Some(methods) = requests.get_mut(route) else {
            return;
        };
        if !methods.contains_key(method) {
            methods.insert(method.to_string(), HashMap::default());
        }
        if let Some(statuses) = methods.get_mut(method) {
            *statuses.entry(status).or_insert(0) += 1;
        }
    }

    /// Renders every metric; `in_use` is (group, booked) and `alarms` is (alarm id, count).
    pub fn render(&self, in_use: &[(String, usize)], alarms: &[(u32, u64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP gms_http_requests_total HTTP requests answered, by route and status."
        );
        let _ = writeln!(out, "# TYPE gms_http_requests_total counter");
        if let Ok(requests) = self.requests.lock() {
            let mut rows: Vec<_> = requests
                .iter()
                .flat_map(|(route, methods)| {
                    methods.iter().flat_map(move |(method, statuses)| {
                        statuses
                            .iter()
                            .map(move |(status, count)| ((method, route, status), count))
                    })
                })
                .collect();
            rows.sort();
            for ((method, route, status), count) in rows {
                let _ = writeln!(
                    out,
                    "gms_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                    escape(route)
                );
            }
        }
        let latency = self.store_latency.snapshot();
        let _ = writeln!(
            out,
            "# HELP gms_store_operation_seconds Latency of store operations."
        );
        let _ = writeln!(out, "# TYPE gms_store_operation_seconds histogram");
        for (bound, count) in BUCKETS.iter().zip(&latency.cumulative) {
            let _ = writeln!(
                out,
                "gms_store_operation_seconds_bucket{{le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            out,
            "gms_store_operation_seconds_bucket{{le=\"+Inf\"}} {}",
            latency.count
        );
        let _ = writeln!(
            out,
            "gms_store_operation_seconds_sum {}",
            latency.sum_seconds
        );
        let _ = writeln!(out, "gms_store_operation_seconds_count {}", latency.count);
        let _ = writeln!(
            out,
            "# HELP gms_resources_in_use Booked resources, by group (LOCAL and CLUSTER groups)."
        );
        let _ = writeln!(out, "# TYPE gms_resources_in_use gauge");
        for (group, count) in in_use {
            let _ = writeln!(
                out,
                "gms_resources_in_use{{group=\"{}\"}} {count}",
                escape(group)
            );
        }
        let _ = writeln!(
            out,
            "# HELP gms_alarms_total Alarms raised (2000 duplicated resource, 2001 no more resources)."
        );
        let _ = writeln!(out, "# TYPE gms_alarms_total counter");
        for (alarm, count) in alarms {
            let _ = writeln!(out, "gms_alarms_total{{alarm=\"{alarm}\"}} {count}");
        }
        out
    }
}

fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
