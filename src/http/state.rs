//! `AppState`: the handles every handler gets, built once in `app.rs`, and the node's ONLINE/OFFLINE switch
//! ([`NodeStatus`]), which the Node API and the drain share. Axum clones a handler's state for every
//! request, so the handles sit behind one `Arc`: a clone is one reference count, not one per handle (seven
//! atomic increments and decrements per request showed up in profiles of the storage GET path).

use std::ops::Deref;
use std::sync::Arc;

use tokio::sync::watch;

use super::metrics::Metrics;
use crate::clock::Clock;
use crate::config::ConfigHandle;
use crate::resources::Resources;
use crate::services::ServiceRegistry;
use crate::storage::Storage;
use crate::store::Store;

/// Shared handles of the running node (reached through [`AppState`]).
#[derive(Debug)]
pub struct Handles {
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
    /// ONLINE, or OFFLINE once the node is stopping.
    pub status: Arc<NodeStatus>,
}

/// The state of the API routes: the node's [`Handles`], cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Handles>);

impl AppState {
    /// Wraps the handles.
    pub fn new(handles: Handles) -> AppState {
        AppState(Arc::new(handles))
    }
}

impl Deref for AppState {
    type Target = Handles;

    fn deref(&self) -> &Handles {
        &self.0
    }
}

/// Whether this node takes traffic: ONLINE until it starts stopping, then OFFLINE for good.
#[derive(Debug)]
pub struct NodeStatus {
    offline: watch::Sender<bool>,
}

impl Default for NodeStatus {
    fn default() -> Self {
        NodeStatus {
            offline: watch::Sender::new(false),
        }
    }
}

impl NodeStatus {
    /// Marks the node OFFLINE (the drain starts). Returns whether it was ONLINE.
    pub fn go_offline(&self) -> bool {
        !self.offline.send_replace(true)
    }

    /// Whether the node is OFFLINE.
    pub fn is_offline(&self) -> bool {
        *self.offline.borrow()
    }

    /// Resolves once the node is OFFLINE.
    pub async fn offline(&self) {
        let mut changes = self.offline.subscribe();
        let _ = changes.wait_for(|offline| *offline).await;
    }
}
