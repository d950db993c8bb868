//! `ringside-mint`: parses flags, binds, prints `listening on http://ADDR`,
//! serves until SIGTERM or Ctrl-C, then drains in-flight requests.

use std::process::ExitCode;
use std::time::Duration;

use ringside_mint::{Config, Mint};
use tokio::sync::watch;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match serve().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("ringside-mint: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::from_env_and_args()?;
    if config.cookie_secret.is_none()
        && config.identity == ringside_mint::config::IdentityMode::Visitor
    {
        tracing::warn!(
            "no RINGSIDE_MINT_COOKIE_SECRET: visitor cookies will not survive a restart"
        );
    }
    let mint = Mint::new(config.mint_options()?);
    mint.start().await;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let admin = match config.admin_listen {
        Some(address) => Some(tokio::net::TcpListener::bind(address).await?),
        None => None,
    };

    // One signal, seen by every listener.
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    };
    let mut servers = tokio::task::JoinSet::new();
    if let Some(admin) = admin {
        tracing::info!(address = %admin.local_addr()?, "admin endpoints (/healthz, /metrics)");
        servers.spawn(ringside_mint::serve(
            admin,
            ringside_mint::admin_router(mint.clone()),
            stopped(),
        ));
    }
    println!("listening on http://{}", listener.local_addr()?);
    let app = ringside_mint::app(
        mint,
        config.static_dir.clone(),
        config.admin_listen.is_none(),
    );
    let trusted = config.trusted_proxies.clone();
    servers.spawn(ringside_mint::conn::serve_with(
        listener,
        app,
        config.conn_settings(),
        move |ip| trusted.iter().any(|net| net.contains(ip)),
        stopped(),
    ));

    tokio::select! {
        () = ringside_mint::conn::shutdown_signal() => {}
        Some(ended) = servers.join_next() => {
            ended??;
            return Err("a listener stopped unexpectedly".into());
        }
    }
    tracing::info!(
        grace_secs = config.shutdown_grace_secs,
        "shutting down: draining in-flight requests"
    );
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(Duration::from_secs(config.shutdown_grace_secs), async {
        while let Some(ended) = servers.join_next().await {
            if let Ok(Err(error)) = ended {
                tracing::warn!(%error, "a listener failed while draining");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("grace period over: dropping the requests still running");
    }
    Ok(())
}
