//! This node among the nodes that share one store: its registration (id, internal URL, route, heartbeat), the
//! live nodes, and which node runs which in-process ORS session.
//!
//! Every node writes `node:live:{id}` with a short TTL and renews it on each heartbeat; a node is live while that
//! key exists. A node that starts with the id of a live node is refused ([`Error::DuplicateNode`]), unless that
//! node's internal listener no longer answers (it was killed and its key has not expired yet): then the new
//! process takes the id over. `node:known:{id}` (no TTL) remembers every node that ever joined, so a live node can
//! tell which nodes have died and clean up after them ([`Cluster::dead_nodes`]).
//!
//! An in-process ORS session lives and dies with its node, so the node that starts one for a service instance
//! indexes it under `node:sessions:{id}:{service}` ([`Cluster::track`]); when a node dies, another node ends those
//! instances (the services layer does the ending; this module only says which).
//!
//! With the embedded store there is one node and nothing to share, but the same code runs: registering and
//! heartbeating cost one small write a second.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::outbound::HttpClient;
use crate::store::{self, Store};

/// Errors of node registration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Another live node has this id.
    #[error(
        "node id {id} is already taken by a live node (internal URL {url}, heartbeat {age_ms} ms ago); \
         give this node another id with --node-id or server/node_id"
    )]
    DuplicateNode {
        /// The id.
        id: String,
        /// The other node's internal URL.
        url: String,
        /// How long ago it last renewed its registration.
        age_ms: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// How often a node renews its registration, and how long a registration lives without renewal.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Between two renewals.
    pub heartbeat: Duration,
    /// A node that has not renewed for this long is dead.
    pub ttl: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            heartbeat: Duration::from_secs(1),
            ttl: Duration::from_secs(5),
        }
    }
}

/// One node's registration, as kept in `node:live:{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The two-digit node id (`server/node_id`, or `--node-id`).
    pub id: String,
    /// This process (random), so a node tells its own registration from another process's.
    pub instance: String,
    /// Where other nodes reach its internal listener (`http://host:port`), which serves `/scxml/...` too.
    pub internal_url: String,
    /// The route a load balancer's sticky sessions use for it (`server/route`).
    pub route: String,
    /// When it started (ms since the epoch).
    pub started_ms: u64,
    /// Its last heartbeat (ms since the epoch).
    pub heartbeat_ms: u64,
}

fn live_key(id: &str) -> String {
    format!("node:live:{id}")
}

fn known_key(id: &str) -> String {
    format!("node:known:{id}")
}

fn sessions_prefix(node: &str) -> String {
    format!("node:sessions:{node}:")
}

/// The most sessions of one dead node ended per sweep (the next sweep takes the rest).
const SWEEP_LIMIT: usize = 1000;

/// This node's membership of the cluster.
#[derive(Debug)]
pub struct Cluster {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    me: std::sync::RwLock<NodeInfo>,
}

impl Cluster {
    /// Node `id`, routed as `route`, in `store`; it is registered by [`Cluster::join`] once its listeners are
    /// bound. Until then (and in a node that never joins) it still knows its own id.
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: Settings,
        id: &str,
        route: &str,
    ) -> Arc<Cluster> {
        let bytes: [u8; 8] = rand::random();
        let now = clock.now_ms();
        let me = NodeInfo {
            id: id.to_string(),
            instance: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            internal_url: String::new(),
            route: route.to_string(),
            started_ms: now,
            heartbeat_ms: now,
        };
        Arc::new(Cluster {
            store,
            clock,
            settings,
            me: std::sync::RwLock::new(me),
        })
    }

    /// Registers this node, reached at `internal_url`. Refused when a live node already has the id; `probe`
    /// checks whether that node still answers before refusing.
    pub async fn join(&self, internal_url: &str, probe: &HttpClient) -> Result<(), Error> {
        crate::sync::write(&self.me).internal_url = internal_url.to_string();
        let id = self.id();
        if !self
            .store
            .set_if_absent(&live_key(&id), self.record()?, Some(self.settings.ttl))
            .await?
        {
            match self.node(&id).await? {
                // A registration with this node's own address is a killed predecessor's: the port is ours now.
                Some(other)
                    if other.internal_url != internal_url
                        && answers(probe, &other.internal_url).await =>
                {
                    return Err(Error::DuplicateNode {
                        id,
                        url: other.internal_url,
                        age_ms: self.clock.now_ms().saturating_sub(other.heartbeat_ms),
                    });
                }
                Some(other) => tracing::warn!(
                    node = %id,
                    url = %other.internal_url,
                    "a node with this id is registered but does not answer; taking its id over"
                ),
                None => {}
            }
            self.renew().await?;
        }
        self.store
            .set(&known_key(&id), Bytes::from(id.clone()), None)
            .await?;
        Ok(())
    }

    /// This node.
    pub fn me(&self) -> NodeInfo {
        crate::sync::read(&self.me).clone()
    }

    /// How often this node renews its registration, and how long a registration lives.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// This node's id.
    pub fn id(&self) -> String {
        crate::sync::read(&self.me).id.clone()
    }

    fn record(&self) -> Result<Bytes, Error> {
        let mut me = self.me();
        me.heartbeat_ms = self.clock.now_ms();
        serde_json::to_vec(&me)
            .map(Bytes::from)
            .map_err(|error| Error::Store(store::Error::Corrupt(error.to_string())))
    }

    /// Renews this node's registration (written whole, so a registration that expired while the store was down
    /// comes back).
    pub async fn renew(&self) -> Result<(), Error> {
        self.store
            .set(
                &live_key(&self.id()),
                self.record()?,
                Some(self.settings.ttl),
            )
            .await?;
        Ok(())
    }

    /// Renews the registration every heartbeat until `stop` resolves, then removes it, so the other nodes see
    /// at once that this node is gone.
    pub async fn heartbeat(self: Arc<Self>, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut ticks = tokio::time::interval(self.settings.heartbeat);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                _ = ticks.tick() => {
                    if let Err(error) = self.renew().await {
                        tracing::warn!(%error, "node registration not renewed");
                    }
                }
            }
        }
        self.leave().await;
    }

    /// Removes this node's registration (when it is still this process's).
    pub async fn leave(&self) {
        let me = self.me();
        if let Ok(Some(node)) = self.node(&me.id).await
            && node.instance == me.instance
            && let Err(error) = self.store.delete(&live_key(&me.id)).await
        {
            tracing::warn!(%error, "node registration not removed");
        }
    }

    /// The live node `id`.
    pub async fn node(&self, id: &str) -> Result<Option<NodeInfo>, Error> {
        let Some(bytes) = self.store.get(&live_key(id)).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|error| Error::Store(store::Error::Corrupt(format!("node `{id}`: {error}"))))
    }

    /// Every live node, this one included, by id.
    pub async fn live_nodes(&self) -> Result<Vec<NodeInfo>, Error> {
        let mut nodes = Vec::new();
        for (_, id) in self.store.scan_prefix("node:known:", 100).await? {
            let id = String::from_utf8_lossy(&id).into_owned();
            if let Some(node) = self.node(&id).await? {
                nodes.push(node);
            }
        }
        Ok(nodes)
    }

    /// Nodes that joined once and are not live now (this one never counts).
    pub async fn dead_nodes(&self) -> Result<Vec<String>, Error> {
        let mut dead = Vec::new();
        for (_, id) in self.store.scan_prefix("node:known:", 100).await? {
            let id = String::from_utf8_lossy(&id).into_owned();
            if id != self.id() && self.node(&id).await?.is_none() {
                dead.push(id);
            }
        }
        Ok(dead)
    }

    /// Notes that this node runs the in-process session of service instance `service` for `ttl`.
    pub async fn track(&self, service: &str, ttl: Duration) -> Result<(), Error> {
        let key = format!("{}{service}", sessions_prefix(&self.id()));
        self.store
            .set(&key, Bytes::from(service.to_string()), Some(ttl))
            .await?;
        Ok(())
    }

    /// Forgets that node `node` runs the session of `service`.
    pub async fn untrack(&self, node: &str, service: &str) -> Result<(), Error> {
        self.store
            .delete(&format!("{}{service}", sessions_prefix(node)))
            .await?;
        Ok(())
    }

    /// The service instances whose sessions ran on `node`.
    pub async fn sessions_of(&self, node: &str) -> Result<Vec<String>, Error> {
        Ok(self
            .store
            .scan_prefix(&sessions_prefix(node), SWEEP_LIMIT)
            .await?
            .into_iter()
            .map(|(_, id)| String::from_utf8_lossy(&id).into_owned())
            .collect())
    }
}

/// Whether a node's internal listener answers its Node API (any answer counts: a draining node is there).
pub async fn answers(client: &HttpClient, internal_url: &str) -> bool {
    let Ok(request) = hyper::Request::get(format!("{internal_url}/genesys/1/node"))
        .body(http_body_util::Full::new(Bytes::new()))
    else {
        return false;
    };
    client.send(request).await.is_ok()
}
