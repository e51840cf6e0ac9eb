//! Run-time reload: a [`ConfigHandle`] holds the current [`GmsConfig`] behind an atomically swapped `Arc`, and
//! [`ConfigHandle::watch`] rebuilds it when the option file changes (polled modification time and length) or the
//! process gets SIGHUP.
//!
//! A request takes one `Arc<GmsConfig>` at its start and keeps it to the end, so a swap never changes a request
//! half-way and no request is lost. A file that fails to type keeps the old configuration and logs each problem
//! with `file:line`. The `push` section needs a restart, as in GMS: a change there is logged, not applied.
//! Polling is used rather than a file-notification crate because editors replace files in many different ways
//! (rename, truncate, write in place) and a one-second poll sees all of them the same way.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use tokio::sync::watch;

use super::{Error, GmsConfig};

/// The current configuration, shared by every request and replaced whole on reload.
#[derive(Debug)]
pub struct ConfigHandle {
    current: ArcSwap<GmsConfig>,
    path: Option<PathBuf>,
    changes: watch::Sender<Arc<GmsConfig>>,
    overrides: Overrides,
}

/// Options given on the command line, which win over the option file at every reload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--node-id`: replaces `server/node_id`.
    pub node_id: Option<u8>,
    /// `--ors-url`: replaces `ors/url` (the ORS that runs every `type=ors` service of this node).
    pub ors_url: Option<String>,
    /// Directories added to `ors/document_roots` (`gms run` and `gms test` add the chart's own directory: the
    /// author named that file).
    pub document_roots: Vec<std::path::PathBuf>,
}

impl Overrides {
    fn apply(&self, mut config: GmsConfig) -> GmsConfig {
        if let Some(node_id) = self.node_id {
            config.server.node_id = node_id;
        }
        config
    }
}

impl ConfigHandle {
    /// Wraps `config`, read from `path` (`None`: nothing to reload from).
    pub fn new(config: GmsConfig, path: Option<PathBuf>) -> ConfigHandle {
        ConfigHandle::with_overrides(config, path, Overrides::default())
    }

    /// The command-line options applied over the option file.
    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// Wraps `config` as [`ConfigHandle::new`] does, with `overrides` applied to it and to every reload.
    pub fn with_overrides(
        config: GmsConfig,
        path: Option<PathBuf>,
        overrides: Overrides,
    ) -> ConfigHandle {
        let config = Arc::new(overrides.apply(config));
        let (changes, _) = watch::channel(config.clone());
        ConfigHandle {
            current: ArcSwap::new(config),
            path,
            changes,
            overrides,
        }
    }

    /// The configuration in force now. Keep the `Arc` for the whole request.
    pub fn get(&self) -> Arc<GmsConfig> {
        self.current.load_full()
    }

    /// The option file, when there is one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// A receiver that sees every configuration swapped in (for modules that react to a reload).
    pub fn subscribe(&self) -> watch::Receiver<Arc<GmsConfig>> {
        self.changes.subscribe()
    }

    /// Swaps in `config` (used by reload, and by tests that build a configuration in memory).
    pub fn replace(&self, config: GmsConfig) {
        let config = Arc::new(self.overrides.apply(config));
        self.current.store(config.clone());
        self.changes.send_replace(config);
    }

    /// Rereads the option file and swaps the new configuration in. On error the old one stays.
    pub fn reload(&self) -> Result<Arc<GmsConfig>, Error> {
        let Some(path) = &self.path else {
            return Ok(self.get());
        };
        let config = GmsConfig::load(path)?;
        let old = self.get();
        let push_sections = |config: &GmsConfig| {
            config
                .raw()
                .sections
                .iter()
                .filter(|section| section.name == "push" || section.name.starts_with("push."))
                .map(|section| {
                    let options: Vec<_> = section
                        .options
                        .iter()
                        .map(|o| (&o.name, &o.value))
                        .collect();
                    format!("{}{options:?}", section.name)
                })
                .collect::<Vec<_>>()
        };
        if push_sections(&old) != push_sections(&config) {
            tracing::warn!(
                file = %path.display(),
                "the push section changed; it takes effect after a restart"
            );
        }
        for warning in &config.warnings {
            tracing::warn!("{warning}");
        }
        self.replace(config);
        tracing::info!(file = %path.display(), "configuration reloaded");
        Ok(self.get())
    }

    /// Reloads whenever the file changes (checked every `poll`) or on SIGHUP, until `shutdown` resolves.
    pub async fn watch(
        self: Arc<Self>,
        poll: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        let Some(path) = self.path.clone() else {
            return;
        };
        tokio::pin!(shutdown);
        let mut stamp = file_stamp(&path);
        let mut ticker = tokio::time::interval(poll);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        #[cfg(unix)]
        let mut hangup =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        loop {
            #[cfg(unix)]
            let sighup = async {
                match hangup.as_mut() {
                    Some(signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            #[cfg(not(unix))]
            let sighup = std::future::pending::<()>();
            let forced = tokio::select! {
                _ = &mut shutdown => return,
                _ = ticker.tick() => false,
                _ = sighup => true,
            };
            let now = file_stamp(&path);
            if !forced && now == stamp {
                continue;
            }
            stamp = now;
            if let Err(error) = self.reload() {
                tracing::error!(file = %path.display(), "configuration not reloaded, the previous one stays in force:\n{error}");
            }
        }
    }
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}
