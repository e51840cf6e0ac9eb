//! The ORS-compatible session runtime: drives SCXML sessions on worker threads, timers, forwarding to a real ORS.
