//! The axum edge: routers for `/genesys/1/...` and `/scxml/...`, extractors, and the mapping of errors to HTTP.
