//! The axum edge: routers for `/genesys/1/...` and `/scxml/...`, extractors, and the mapping of errors to HTTP.
pub mod cometd;
pub mod notification;
