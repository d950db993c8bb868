//! `ringside-mock`: parses flags, binds, prints `listening on http://ADDR`, serves until Ctrl-C.

use clap::Parser;
use ringside_mock::{AppState, Config};
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
    let listener = ringside_mock::bind(config.listen)?;
    let state = AppState::with_options(config.settings(), config.options(), &config.issuer);
    println!("listening on http://{}", listener.local_addr()?);
    ringside_mock::run(listener, state, ringside_serve::shutdown_signal()).await
}
