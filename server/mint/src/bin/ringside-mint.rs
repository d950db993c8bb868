//! `ringside-mint`: parses flags, binds, prints `listening on http://ADDR`, serves until Ctrl-C.

use clap::Parser;
use ringside_mint::{Config, Mint, MintOptions};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let config = Config::parse();
    if config.cookie_secret.is_none() {
        tracing::warn!(
            "no RINGSIDE_MINT_COOKIE_SECRET: visitor cookies will not survive a restart"
        );
    }
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let mint = Mint::new(MintOptions::from(&config));
    println!("listening on http://{}", listener.local_addr()?);
    ringside_mint::run(listener, mint, config.static_dir.clone(), shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler installs");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
