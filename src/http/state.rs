//! `AppState`: the handles every handler gets, built once in `app.rs` and cloned per request (all `Arc`s).

use std::sync::Arc;

use super::metrics::Metrics;
use crate::config::ConfigHandle;
use crate::resources::Resources;
use crate::services::ServiceRegistry;
use crate::storage::Storage;
use crate::store::{Clock, Store};

/// Shared handles of the running node.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The configuration in force (take one `Arc<GmsConfig>` per request with `config.get()`).
    pub config: Arc<ConfigHandle>,
    /// The store.
    pub store: Arc<dyn Store>,
    /// Storage API semantics.
    pub storage: Arc<Storage>,
    /// Service kinds and the Service API operations.
    pub services: Arc<ServiceRegistry>,
    /// Resource groups.
    pub resources: Arc<Resources>,
    /// The clock.
    pub clock: Arc<dyn Clock>,
    /// Request and store metrics.
    pub metrics: Arc<Metrics>,
}
