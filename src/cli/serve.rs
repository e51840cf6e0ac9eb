//! `gms serve`: starts the server: the embedded store, the option file (default `samples/gms.ini`), the public
//! listener (`server/web_port`), the internal one (`server/http_settings_port`) and, when `ors/port` or
//! `--ors-port` names one, ORS's own port for the `/scxml/...` routes; all on loopback unless told otherwise.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use crate::app::{App, AppOptions, Bound};
use crate::clock::SystemClock;
use crate::config::{GmsConfig, RawConfig};

/// Where `gms serve` (and `gms run` for ORS flows) looks for its option file by default.
const DEFAULT_OPTIONS_PATH: &str = "samples/gms.ini";

/// `--store-sync`: the embedded store's [`crate::store::embedded::SyncPolicy`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StoreSync {
    /// The log is written before the ack and synced at each checkpoint (every second).
    Periodic,
    /// The log is also synced before the ack.
    Commit,
}

impl From<StoreSync> for crate::store::embedded::SyncPolicy {
    fn from(sync: StoreSync) -> Self {
        match sync {
            StoreSync::Periodic => crate::store::embedded::SyncPolicy::Periodic,
            StoreSync::Commit => crate::store::embedded::SyncPolicy::Commit,
        }
    }
}

/// Arguments of `gms serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Option file (INI, as Configuration Manager exports it). Default: samples/gms.ini.
    #[arg(long, short = 'c')]
    pub config: Option<PathBuf>,
    /// Directory of the embedded store.
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// The store: `embedded` (the default, in --data-dir), `redis://HOST:PORT[/DB]` (one Redis server shared by
    /// the nodes) or `redis+cluster://HOST:PORT,HOST:PORT,...` (a Redis Cluster, by seed nodes). Overrides
    /// store/url in the option file.
    #[arg(long)]
    pub store: Option<String>,
    /// Address both listeners bind to.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub bind: IpAddr,
    /// Port of the public listener (overrides server/web_port; 0 picks a free port).
    #[arg(long)]
    pub public_port: Option<u16>,
    /// Port of the internal listener (overrides server/http_settings_port; 0 picks a free port).
    #[arg(long)]
    pub internal_port: Option<u16>,
    /// Port serving the ORS HTTP interface (`/scxml/...`) as ORS does on 7210 (overrides ors/port; 0 picks a
    /// free port). The internal listener serves those routes too.
    #[arg(long)]
    pub ors_port: Option<u16>,
    /// Port of the HTTPS public listener (overrides server/https_port, which with the `tls_*` options turns
    /// HTTPS on; 0 picks a free port).
    #[arg(long)]
    pub https_port: Option<u16>,
    /// When the embedded store syncs to the disk: `periodic` (an acknowledged write survives `kill -9`; power
    /// loss may lose the last second) or `commit` (every acknowledged write survives power loss).
    #[arg(long, value_enum, default_value_t = StoreSync::Periodic)]
    pub store_sync: StoreSync,
    /// This node's two-digit id (overrides server/node_id): embedded in access codes, and unique among the
    /// live nodes of one store.
    #[arg(long, value_parser = clap::value_parser!(u8).range(0..=99))]
    pub node_id: Option<u8>,
    /// Runs every `type=ors` service of this node on the ORS (or other `gms` node) at this URL
    /// (`http://host:port`, overrides ors/url): with several nodes, one node can run the flows and the contact
    /// center for all of them.
    #[arg(long)]
    pub ors_url: Option<String>,
    /// Write logs as JSON lines.
    #[arg(long)]
    pub log_json: bool,
}

/// Starts the server and serves until interrupted.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::log::init_with(if args.log_json {
        crate::log::Format::Json
    } else {
        crate::log::Format::Text
    });
    let (config, path) = load_config(args.config.as_ref())?;
    let public_addr = SocketAddr::new(
        args.bind,
        args.public_port.unwrap_or(config.server.web_port),
    );
    let internal_addr = SocketAddr::new(
        args.bind,
        args.internal_port
            .unwrap_or(config.server.http_settings_port),
    );
    let store_url = args
        .store
        .clone()
        .or_else(|| config.store_url.clone())
        .filter(|url| !url.trim().is_empty() && url.trim() != "embedded");
    if let Some(url) = &store_url
        && !crate::store::redis::is_redis_url(url)
    {
        anyhow::bail!(
            "--store `{}`: expected `embedded`, `redis://HOST:PORT[/DB]` or `redis+cluster://HOST:PORT,...`",
            crate::store::redis::shown(url)
        );
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let clock: Arc<dyn crate::clock::Clock> = Arc::new(SystemClock);
        let redis = match &store_url {
            Some(url) => Some(
                crate::store::redis::Redis::open(url, clock.clone(), Default::default())
                    .await
                    .with_context(|| {
                        format!("cannot open the store {}", crate::store::redis::shown(url))
                    })?,
            ),
            None => None,
        };
        let store_name = store_url
            .as_deref()
            .map(crate::store::redis::shown)
            .unwrap_or_else(|| format!("embedded in {}", args.data_dir.display()));
        let app = App::build(AppOptions {
            store: crate::store::embedded::Options {
                sync: args.store_sync.into(),
                ..Default::default()
            },
            config,
            config_path: path.clone(),
            data_dir: args.data_dir.clone(),
            clock,
            overrides: crate::config::Overrides {
                node_id: args.node_id,
                ors_url: args.ors_url.clone(),
                ..Default::default()
            },
            redis,
        })
        .map_err(|error| match error {
            crate::app::Error::Store(_) => {
                anyhow::Error::new(error).context(format!("cannot open the store {store_name}"))
            }
            other => anyhow::Error::new(other).context("gms cannot start"),
        })?;
        let public = tokio::net::TcpListener::bind(public_addr)
            .await
            .with_context(|| format!("cannot listen on {public_addr} (public listener)"))?;
        let internal = tokio::net::TcpListener::bind(internal_addr)
            .await
            .with_context(|| format!("cannot listen on {internal_addr} (internal listener)"))?;
        let ors = match args.ors_port.or(app.ors.node.section.port) {
            Some(port) => {
                let ors_addr = SocketAddr::new(args.bind, port);
                Some(
                    tokio::net::TcpListener::bind(ors_addr)
                        .await
                        .with_context(|| format!("cannot listen on {ors_addr} (ORS port)"))?,
                )
            }
            None => None,
        };
        let https = match config_tls_port(&app, args.https_port) {
            Some(port) => {
                let https_addr = SocketAddr::new(args.bind, port);
                Some(
                    tokio::net::TcpListener::bind(https_addr)
                        .await
                        .with_context(|| format!("cannot listen on {https_addr} (HTTPS listener)"))?,
                )
            }
            None => None,
        };
        let ors_addr = match &ors {
            Some(listener) => listener.local_addr()?.to_string(),
            None => "none".to_string(),
        };
        let https_addr = match &https {
            Some(listener) => listener.local_addr()?.to_string(),
            None => "none".to_string(),
        };
        tracing::info!(
            public = %public.local_addr()?,
            internal = %internal.local_addr()?,
            ors = %ors_addr,
            https = %https_addr,
            config = %path.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "built-in sample".into()),
            store = %store_name,
            "gms listening"
        );
        app.serve_all(
            Bound {
                public,
                internal,
                ors,
                https,
            },
            shutdown_signal(),
        )
            .await
            .context("gms stopped")?;
        Ok(ExitCode::SUCCESS)
    })
}

/// The port of the HTTPS listener: `--https-port` over `https_port`, when the options configure TLS.
fn config_tls_port(app: &App, flag: Option<u16>) -> Option<u16> {
    let config = app.state.config.get();
    let tls = config.server.security.tls.as_ref()?;
    Some(flag.unwrap_or(tls.https_port))
}

pub(crate) fn load_config(path: Option<&PathBuf>) -> anyhow::Result<(GmsConfig, Option<PathBuf>)> {
    if let Some(path) = path {
        let config = GmsConfig::load(path).map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok((config, Some(path.clone())));
    }
    let default = PathBuf::from(DEFAULT_OPTIONS_PATH);
    if default.is_file() {
        let config = GmsConfig::load(&default).map_err(|e| anyhow::anyhow!("{e}"))?;
        return Ok((config, Some(default)));
    }
    let raw =
        RawConfig::parse(&default, crate::samples::OPTIONS).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((
        GmsConfig::from_raw(raw).map_err(|e| anyhow::anyhow!("{e}"))?,
        None,
    ))
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
