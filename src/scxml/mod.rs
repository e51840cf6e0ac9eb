//! The SCXML 1.0 engine: parsing into an immutable model and the synchronous W3C interpreter.
//!
//! This module never imports tokio, axum, reqwest or the store; the outside world reaches it through a host trait.
