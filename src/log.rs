//! Logging set-up with tracing, including the masking of `XXX_*` and `MMM_*` request parameters.

/// Installs the process-wide tracing subscriber, reading the filter from `RUST_LOG` (default `info`).
pub fn init() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (tests that start several servers) is harmless, so the error is ignored.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).try_init();
}
