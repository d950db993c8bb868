//! The mint server's flags (each also readable from the environment).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;
use secrecy::SecretString;

/// The host's `/api/chat-token` route: mints short-lived Ringside Client
/// Tokens for the browsers of this site, never exposing the FC API key.
#[derive(Debug, Clone, Parser)]
#[command(name = "ringside-mint", version)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, env = "RINGSIDE_MINT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The Ringside gateway the mint calls.
    #[arg(
        long,
        env = "RINGSIDE_URL",
        default_value = "https://api.fightclub.pro"
    )]
    pub ringside_url: String,

    /// The gateway URL browsers use, if it differs from --ringside-url
    /// (returned to the widget as `api_base`).
    #[arg(long, env = "RINGSIDE_PUBLIC_URL")]
    pub public_ringside_url: Option<String>,

    /// An origin (`scheme://host[:port]`) whose pages may get tokens;
    /// repeat the flag, or separate them with commas in the environment.
    #[arg(
        long = "allowed-origin",
        env = "RINGSIDE_ALLOWED_ORIGINS",
        value_delimiter = ',',
        required = true
    )]
    pub allowed_origins: Vec<String>,

    /// The FC API key (scope `api:client_tokens`). Environment only, so it
    /// never shows in a process list.
    #[arg(long, env = "FC_API_KEY", hide = true, hide_env_values = true)]
    pub fc_api_key: SecretString,

    /// Secret (32+ bytes) that signs visitor cookies. Without it a random one
    /// is made at start, and visitors become new ones after a restart.
    #[arg(
        long,
        env = "RINGSIDE_MINT_COOKIE_SECRET",
        hide = true,
        hide_env_values = true
    )]
    pub cookie_secret: Option<SecretString>,

    /// Lifetime of minted tokens, in seconds (60 to 3600).
    #[arg(long, env = "RINGSIDE_MINT_TTL_SECONDS", default_value_t = 900, value_parser = clap::value_parser!(u32).range(60..=3600))]
    pub ttl_seconds: u32,

    /// Spending cap of each new visitor customer, in US dollars.
    #[arg(long, env = "RINGSIDE_MINT_BUDGET_USD", default_value_t = 1.0)]
    pub budget_usd: f64,

    /// Requests per minute allowed to each visitor customer.
    #[arg(long, env = "RINGSIDE_MINT_RATE_LIMIT_RPM", default_value_t = 20)]
    pub rate_limit_rpm: u32,

    /// Also serve the host's static pages from this directory (for demos and
    /// small sites; a real host usually nests the route in its own app).
    #[arg(long, env = "RINGSIDE_MINT_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,

    /// Seconds to wait for Ringside before answering 503.
    #[arg(long, env = "RINGSIDE_MINT_UPSTREAM_TIMEOUT", default_value_t = 10)]
    pub upstream_timeout_secs: u64,
}
