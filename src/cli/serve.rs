//! `gms serve`: starts the server.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;

/// Arguments of `gms serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address of the listener.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
}

/// Starts the server and serves until interrupted.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    crate::log::init();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let router = axum::Router::new().route("/health", axum::routing::get(|| async { "ok" }));
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        tracing::info!(address = %listener.local_addr()?, "gms listening");
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .context("server failed")?;
        Ok(ExitCode::SUCCESS)
    })
}
