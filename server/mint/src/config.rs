//! The mint server's flags (each also readable from the environment), and
//! how they become [`MintOptions`]. Secrets are read from the environment
//! only: a flag would show them in process lists.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderName;
use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum, parser::ValueSource};
use secrecy::{ExposeSecret, SecretString};

use crate::ceiling::Ceilings;
use crate::challenge::Challenges;
use crate::client_ip::IpNet;
use crate::clock::{Clock, SystemClock};
use crate::identity::Visitors;
use crate::jwks::Jwks;
use crate::jwt::{self, Key, SessionKeys, Verifier};
use crate::limit::Rate;
use crate::ringside::UpstreamOptions;
use crate::session::Sessions;
use crate::store::{BadRedisUrl, Store};
use crate::{Limits, MintOptions};

/// How the mint knows who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum IdentityMode {
    /// Anonymous visitors, known by a signed HttpOnly cookie the mint sets
    /// (`ext:visitor_<id>`): marketing sites and docs.
    Visitor,
    /// Signed-in users, known by the host app's session JWT from a cookie
    /// or `Authorization: Bearer` (`ext:user_<sub>`): in-app help.
    Session,
}

/// The host's `/api/chat-token` route: mints short-lived Ringside Client
/// Tokens for the browsers of this site, never exposing the FC API key.
/// Every flag can also be set through the environment variable shown.
#[derive(Debug, Clone, Parser)]
#[command(name = "ringside-mint", version)]
pub struct Config {
    /// Address to listen on; port 0 picks a free one.
    #[arg(long, env = "RINGSIDE_MINT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// A second address serving only `/healthz` and `/metrics` (keep it
    /// private). When set, `/metrics` leaves the public listener.
    #[arg(long, env = "RINGSIDE_MINT_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,

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

    /// An origin (`scheme://host[:port]`, exactly as browsers send it) whose
    /// pages may get tokens; repeat the flag, or separate them with commas in
    /// the environment.
    #[arg(
        long = "allowed-origin",
        env = "RINGSIDE_ALLOWED_ORIGINS",
        value_delimiter = ',',
        required = true,
        value_parser = parse_origin
    )]
    pub allowed_origins: Vec<String>,

    /// The FC API key (scope `api:client_tokens`). Environment only: refused
    /// on the command line, where process lists would show it.
    #[arg(long, env = "FC_API_KEY", hide_env_values = true)]
    pub fc_api_key: SecretString,

    /// How callers are identified: `visitor` (anonymous, signed cookie) or
    /// `session` (the host app's session JWT). Never from the request body.
    #[arg(long, env = "RINGSIDE_MINT_IDENTITY", value_enum, default_value_t = IdentityMode::Visitor)]
    pub identity: IdentityMode,

    /// Secret (32+ bytes) that signs visitor cookies. Without it a random one
    /// is made at start, and visitors become new ones after a restart.
    /// Environment only.
    #[arg(long, env = "RINGSIDE_MINT_COOKIE_SECRET", hide_env_values = true)]
    pub cookie_secret: Option<SecretString>,

    /// Spending cap, in US dollars, of each new visitor customer.
    #[arg(
        long,
        alias = "budget-usd",
        env = "RINGSIDE_MINT_VISITOR_BUDGET_USD",
        default_value_t = crate::identity::DEFAULT_VISITOR_BUDGET_USD
    )]
    pub visitor_budget_usd: f64,

    /// Requests per minute Ringside allows each new visitor customer.
    #[arg(
        long,
        alias = "rate-limit-rpm",
        env = "RINGSIDE_MINT_VISITOR_RATE_LIMIT_RPM",
        default_value_t = 20
    )]
    pub visitor_rate_limit_rpm: u32,

    /// Spending cap, in US dollars, of each new signed-in user customer.
    #[arg(long, env = "RINGSIDE_MINT_USER_BUDGET_USD", default_value_t = 5.0)]
    pub user_budget_usd: f64,

    /// Requests per minute Ringside allows each new signed-in user customer.
    #[arg(long, env = "RINGSIDE_MINT_USER_RATE_LIMIT_RPM", default_value_t = 30)]
    pub user_rate_limit_rpm: u32,

    /// Session mode: the cookie holding the host app's session JWT (without
    /// it, only `Authorization: Bearer` is read; the header wins when both).
    #[arg(long, env = "RINGSIDE_MINT_SESSION_COOKIE")]
    pub session_cookie: Option<String>,

    /// Session mode: the HS256 secret (32+ bytes) session JWTs are signed
    /// with. Pins the algorithm to HS256. Environment only.
    #[arg(
        long,
        env = "RINGSIDE_MINT_SESSION_HS256_SECRET",
        hide_env_values = true
    )]
    pub session_hs256_secret: Option<SecretString>,

    /// Session mode: the Ed25519 public key session JWTs are signed with
    /// (base64 of 32 bytes, or a PEM `PUBLIC KEY`). Pins the algorithm to EdDSA.
    #[arg(
        long,
        env = "RINGSIDE_MINT_SESSION_ED25519_PUBLIC_KEY",
        allow_hyphen_values = true
    )]
    pub session_ed25519_public_key: Option<String>,

    /// Session mode: a file holding the Ed25519 public key (same formats).
    #[arg(long, env = "RINGSIDE_MINT_SESSION_ED25519_PUBLIC_KEY_FILE")]
    pub session_ed25519_public_key_file: Option<PathBuf>,

    /// Session mode: the RSA public key session JWTs are signed with, as PEM
    /// (`-----BEGIN PUBLIC KEY-----`, 2048 bits or more) or the path of a
    /// file holding it. Pins the algorithm to RS256.
    #[arg(
        long,
        env = "RINGSIDE_MINT_SESSION_RS256_PUBLIC_KEY",
        allow_hyphen_values = true
    )]
    pub session_rs256_public_key: Option<String>,

    /// Session mode: the P-256 public key session JWTs are signed with, as
    /// PEM (`-----BEGIN PUBLIC KEY-----`) or the path of a file holding it.
    /// Pins the algorithm to ES256.
    #[arg(
        long,
        env = "RINGSIDE_MINT_SESSION_ES256_PUBLIC_KEY",
        allow_hyphen_values = true
    )]
    pub session_es256_public_key: Option<String>,

    /// Session mode: the identity provider's JWK set (e.g. Auth0's
    /// `https://TENANT/.well-known/jwks.json`): fetched at start, cached,
    /// fetched again for an unknown `kid` at most once a minute, and served
    /// from cache while the provider is down. RS256, ES256 and EdDSA keys;
    /// each key pins its algorithm. https only (http on loopback).
    #[arg(long, env = "RINGSIDE_MINT_SESSION_JWKS_URL")]
    pub session_jwks_url: Option<String>,

    /// Session mode: the required `iss` of session JWTs.
    #[arg(long, env = "RINGSIDE_MINT_SESSION_ISSUER")]
    pub session_issuer: Option<String>,

    /// Session mode: an `aud` session JWTs must carry.
    #[arg(long, env = "RINGSIDE_MINT_SESSION_AUDIENCE")]
    pub session_audience: Option<String>,

    /// Session mode: the required header `typ` of session JWTs (e.g. `JWT`).
    #[arg(long, env = "RINGSIDE_MINT_SESSION_TYP")]
    pub session_typ: Option<String>,

    /// Session mode: seconds of clock skew allowed on `exp`, `nbf`, `iat`.
    #[arg(long, env = "RINGSIDE_MINT_SESSION_LEEWAY_SECS", default_value_t = 30, value_parser = clap::value_parser!(u32).range(0..=300))]
    pub session_leeway_secs: u32,

    /// Session mode: longer session JWTs are refused before parsing (bytes).
    #[arg(long, env = "RINGSIDE_MINT_SESSION_MAX_LEN", default_value_t = jwt::DEFAULT_MAX_LEN)]
    pub session_max_len: usize,

    /// Lifetime of minted tokens, in seconds (60 to 3600).
    #[arg(long, env = "RINGSIDE_MINT_TTL_SECONDS", default_value_t = 900, value_parser = clap::value_parser!(u32).range(60..=3600))]
    pub ttl_seconds: u32,

    /// A token is handed out again, for the same customer, origin and
    /// address, until this share of its life is gone (0 to 0.95; 0 never
    /// reuses). A token the widget names in `x-ringside-stale-token`
    /// (Ringside refused it: expired or revoked) is never handed out again.
    #[arg(long, env = "RINGSIDE_MINT_REUSE_FRACTION", default_value_t = 0.5, value_parser = parse_fraction)]
    pub reuse_fraction: f64,

    /// Do not bind tokens to the browser's address: for hosts whose users'
    /// address changes between requests (NAT pools or proxies that rotate
    /// egress addresses, e.g. some mobile carriers and privacy relays).
    /// Tokens stay bound to the customer and the origin.
    #[arg(long, env = "RINGSIDE_MINT_NO_BIND_IP")]
    pub no_bind_ip: bool,

    /// A proxy (address or CIDR block) whose `X-Forwarded-For` is believed:
    /// the browser is then the right-most hop that is not a trusted proxy.
    /// Repeat the flag, or separate with commas in the environment.
    #[arg(
        long = "trusted-proxy",
        env = "RINGSIDE_MINT_TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpNet>,

    /// A request header the CORS preflight allows (e.g. the host's CSRF
    /// header). Repeat the flag, or separate with commas in the environment.
    #[arg(
        long = "cors-allow-header",
        env = "RINGSIDE_MINT_CORS_ALLOW_HEADERS",
        value_delimiter = ',',
        default_values_t = ["content-type".to_string(), "authorization".to_string(), "x-csrf-token".to_string(), "x-ringside-stale-token".to_string()],
        value_parser = parse_header_name
    )]
    pub cors_allow_headers: Vec<String>,

    /// Token requests per minute from one browser address (IPv6: one /64);
    /// 0 turns the limit off.
    #[arg(long, env = "RINGSIDE_MINT_IP_RATE_PER_MINUTE", default_value_t = 120)]
    pub ip_rate_per_minute: u32,

    /// Token requests one browser address may make at once.
    #[arg(long, env = "RINGSIDE_MINT_IP_BURST", default_value_t = 60)]
    pub ip_burst: u32,

    /// Token requests per minute for one identity; 0 turns the limit off.
    #[arg(
        long,
        env = "RINGSIDE_MINT_IDENTITY_RATE_PER_MINUTE",
        default_value_t = 30
    )]
    pub identity_rate_per_minute: u32,

    /// Token requests one identity may make at once.
    #[arg(long, env = "RINGSIDE_MINT_IDENTITY_BURST", default_value_t = 10)]
    pub identity_burst: u32,

    /// New visitors (each a new Ringside customer) per minute from one
    /// browser address; 0 turns the limit off.
    #[arg(
        long,
        env = "RINGSIDE_MINT_NEW_VISITOR_RATE_PER_MINUTE",
        default_value_t = 20
    )]
    pub new_visitor_rate_per_minute: u32,

    /// New visitors one browser address may make at once.
    #[arg(long, env = "RINGSIDE_MINT_NEW_VISITOR_BURST", default_value_t = 20)]
    pub new_visitor_burst: u32,

    /// New visitors per minute from one IPv6 /56 (the /64s of one site);
    /// 0 turns the limit off.
    #[arg(
        long,
        env = "RINGSIDE_MINT_NEW_VISITOR_56_RATE_PER_MINUTE",
        default_value_t = 60
    )]
    pub new_visitor_56_rate_per_minute: u32,

    /// New visitors one IPv6 /56 may make at once.
    #[arg(long, env = "RINGSIDE_MINT_NEW_VISITOR_56_BURST", default_value_t = 60)]
    pub new_visitor_56_burst: u32,

    /// New visitors per minute from one IPv6 /48 (a tunnel broker hands out
    /// thousands of /64s from one); 0 turns the limit off.
    #[arg(
        long,
        env = "RINGSIDE_MINT_NEW_VISITOR_48_RATE_PER_MINUTE",
        default_value_t = 200
    )]
    pub new_visitor_48_rate_per_minute: u32,

    /// New visitors one IPv6 /48 may make at once.
    #[arg(
        long,
        env = "RINGSIDE_MINT_NEW_VISITOR_48_BURST",
        default_value_t = 200
    )]
    pub new_visitor_48_burst: u32,

    /// New visitor customers per UTC hour, across every address; past it,
    /// new visitors get 503 `visitor_capacity_reached` with Retry-After
    /// (known visitors are still served). 0 turns the ceiling off.
    #[arg(
        long,
        env = "RINGSIDE_MINT_NEW_VISITORS_PER_HOUR",
        default_value_t = 500
    )]
    pub new_visitors_per_hour: u64,

    /// The most budget, in US dollars, handed to new visitor customers in a
    /// UTC day (each gets --visitor-budget-usd); past it, 503
    /// `visitor_capacity_reached`. 0 turns the ceiling off.
    #[arg(
        long,
        env = "RINGSIDE_MINT_VISITOR_BUDGET_PER_DAY_USD",
        default_value_t = 100.0
    )]
    pub visitor_budget_per_day_usd: f64,

    /// Make each new visitor solve a proof-of-work (ALTCHA's scheme) before
    /// it becomes a customer: the widget does it unseen, a script pays CPU
    /// for each customer it makes.
    #[arg(long, env = "RINGSIDE_MINT_VISITOR_CHALLENGE")]
    pub visitor_challenge: bool,

    /// The challenge's difficulty: the largest number to try (about half of
    /// it is tried on average).
    #[arg(
        long,
        env = "RINGSIDE_MINT_VISITOR_CHALLENGE_MAX_NUMBER",
        default_value_t = crate::challenge::DEFAULT_MAX_NUMBER,
        value_parser = clap::value_parser!(u64).range(1000..=10_000_000)
    )]
    pub visitor_challenge_max_number: u64,

    /// How long a visitor stays known by its cookie, in seconds (renewed
    /// when past half of it).
    #[arg(
        long,
        env = "RINGSIDE_MINT_VISITOR_COOKIE_MAX_AGE",
        default_value_t = crate::identity::DEFAULT_MAX_AGE_SECS,
        value_parser = clap::value_parser!(u32).range(3600..=400 * 24 * 3600)
    )]
    pub visitor_cookie_max_age: u32,

    /// Redis shared by the mint's replicas (`redis://[:password@]host:port[/db]`
    /// or `rediss://`): rate limits, ceilings, known customers, token reuse
    /// and a cross-replica lock live there. When it is unreachable, each
    /// replica serves with its own and says so in /healthz and /metrics.
    /// Environment only when it holds a password.
    #[arg(long, env = "RINGSIDE_MINT_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<SecretString>,

    /// The prefix of every Redis key the mint writes (several deployments
    /// may share one Redis).
    #[arg(
        long,
        env = "RINGSIDE_MINT_REDIS_KEY_PREFIX",
        default_value = "ringside-mint:"
    )]
    pub redis_key_prefix: String,

    /// Seconds one attempt at a Ringside call may take before answering 503.
    #[arg(long, env = "RINGSIDE_MINT_UPSTREAM_TIMEOUT", default_value_t = 10)]
    pub upstream_timeout_secs: u64,

    /// Milliseconds a connection to Ringside may take to open.
    #[arg(
        long,
        env = "RINGSIDE_MINT_UPSTREAM_CONNECT_TIMEOUT_MS",
        default_value_t = 3000
    )]
    pub upstream_connect_timeout_ms: u64,

    /// Extra attempts at a Ringside call where that is safe (the customer
    /// upsert; a token mint only when the connection failed).
    #[arg(long, env = "RINGSIDE_MINT_UPSTREAM_RETRIES", default_value_t = 2)]
    pub upstream_retries: u32,

    /// About how many tokens, customers and rate-limit keys to remember.
    #[arg(long, env = "RINGSIDE_MINT_CACHE_CAPACITY", default_value_t = 100_000)]
    pub cache_capacity: usize,

    /// Connections open at once from one client address (IPv6: one /64);
    /// more are closed at once. Trusted proxies are exempt.
    #[arg(long, env = "RINGSIDE_MINT_MAX_CONNECTIONS_PER_IP", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections_per_ip: u32,

    /// Connections open at once; more wait, unaccepted, until one closes.
    #[arg(long, env = "RINGSIDE_MINT_MAX_CONNECTIONS", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Tokens may also keep conversations in Ringside threads (scope
    /// `threads`): for widgets with `persist: "server"`, so signed-in users
    /// find their conversations on their other devices.
    #[arg(long, env = "RINGSIDE_MINT_THREADS")]
    pub threads: bool,

    /// Also serve `POST /api/chat-feedback`, which logs and counts the
    /// visitors' ratings of answers (the widget's `feedbackEndpoint`).
    #[arg(long, env = "RINGSIDE_MINT_FEEDBACK")]
    pub feedback: bool,

    /// Also serve the host's static pages from this directory (for demos and
    /// small sites; a real host usually nests the route in its own app).
    #[arg(long, env = "RINGSIDE_MINT_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,

    /// Seconds to let in-flight requests finish after SIGTERM or Ctrl-C.
    #[arg(long, env = "RINGSIDE_MINT_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
}

/// Why the flags do not make a mint.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A secret was given as a flag.
    #[error("pass {0} in the environment, not on the command line (process lists show flags)")]
    SecretOnCommandLine(&'static str),
    /// The cookie secret is too short.
    #[error("RINGSIDE_MINT_COOKIE_SECRET needs at least 32 bytes")]
    ShortCookieSecret,
    /// Session mode without a key.
    #[error(
        "--identity session needs the key your identity provider signs session JWTs with: one of --session-jwks-url, --session-rs256-public-key, --session-es256-public-key, --session-ed25519-public-key(-file), or RINGSIDE_MINT_SESSION_HS256_SECRET"
    )]
    NoSessionKey,
    /// Session mode with more than one key source.
    #[error("--identity session takes one key source, but {0} were given: {1}")]
    SessionKeyCount(usize, String),
    /// Session mode without `aud` nor `typ` to check.
    #[error(
        "--identity session needs --session-audience or --session-typ: your provider signs other JWTs with the same key (magic links, email confirmations, service tokens), and without one of these checks any of them would get chat tokens"
    )]
    SessionAudienceOrTyp,
    /// A JWK set URL that is not https (or http on loopback).
    #[error(
        "--session-jwks-url must be an https URL (http only on loopback): keys fetched in the clear could be swapped on the way"
    )]
    JwksUrl,
    /// A session key that does not load.
    #[error("the session key: {0}")]
    SessionKey(#[from] jwt::KeyError),
    /// `--redis-url` is not a Redis URL.
    #[error("{0}")]
    Redis(#[from] BadRedisUrl),
    /// The public key file could not be read.
    #[error("reading the session public key file {0}: {1}")]
    KeyFile(String, std::io::Error),
}

fn parse_origin(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or("an origin starts with http:// or https://")?;
    if rest.is_empty()
        || rest
            .bytes()
            .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@') || !b.is_ascii_graphic())
    {
        return Err(
            "an origin is scheme://host[:port], with no path, not even a trailing /".into(),
        );
    }
    Ok(text.to_string())
}

fn read_key_file(path: &std::path::Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError::KeyFile(path.display().to_string(), e))
}

/// A PEM given inline, or else the path of a file holding one.
fn pem_or_file(value: &str) -> Result<String, ConfigError> {
    if value.trim_start().starts_with("-----BEGIN") {
        Ok(value.to_string())
    } else {
        read_key_file(std::path::Path::new(value))
    }
}

fn check_jwks_url(url: &str) -> Result<(), ConfigError> {
    let parsed = reqwest::Url::parse(url).map_err(|_| ConfigError::JwksUrl)?;
    let host = parsed.host_str().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err(ConfigError::JwksUrl),
    }
}

fn parse_fraction(text: &str) -> Result<f64, String> {
    let value: f64 = text.parse().map_err(|_| "a number from 0 to 0.95")?;
    if (0.0..=0.95).contains(&value) {
        Ok(value)
    } else {
        Err("a number from 0 to 0.95".into())
    }
}

fn parse_header_name(text: &str) -> Result<String, String> {
    HeaderName::try_from(text.trim())
        .map(|name| name.as_str().to_string())
        .map_err(|_| format!("`{text}` is not a header name"))
}

impl Config {
    /// The flags of this process (exits with usage on errors), refusing
    /// secrets given on the command line.
    pub fn from_env_and_args() -> Result<Self, ConfigError> {
        Self::from_args(std::env::args_os())
    }

    /// The flags in `args` (the first is the program name) and the environment.
    pub fn from_args<I, T>(args: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Config::command().get_matches_from(args);
        for (id, name) in [
            ("fc_api_key", "FC_API_KEY"),
            ("cookie_secret", "RINGSIDE_MINT_COOKIE_SECRET"),
            ("session_hs256_secret", "RINGSIDE_MINT_SESSION_HS256_SECRET"),
        ] {
            if matches.value_source(id) == Some(ValueSource::CommandLine) {
                return Err(ConfigError::SecretOnCommandLine(name));
            }
        }
        // A Redis URL is only a secret when it carries a password.
        if matches.value_source("redis_url") == Some(ValueSource::CommandLine)
            && matches
                .get_one::<SecretString>("redis_url")
                .is_some_and(|url| url.expose_secret().contains('@'))
        {
            return Err(ConfigError::SecretOnCommandLine(
                "RINGSIDE_MINT_REDIS_URL (it holds a password)",
            ));
        }
        Ok(Config::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
    }

    /// What the accept loop allows a client, as these flags say.
    pub fn conn_settings(&self) -> crate::conn::Settings {
        crate::conn::Settings {
            max_connections: self.max_connections as usize,
            max_connections_per_ip: self.max_connections_per_ip as usize,
            ..crate::conn::Settings::default()
        }
    }

    /// The one key source session mode was given.
    fn session_keys(&self, clock: &Arc<dyn Clock>) -> Result<SessionKeys, ConfigError> {
        let given: Vec<&str> = [
            (
                self.session_hs256_secret.is_some(),
                "RINGSIDE_MINT_SESSION_HS256_SECRET",
            ),
            (
                self.session_ed25519_public_key.is_some(),
                "--session-ed25519-public-key",
            ),
            (
                self.session_ed25519_public_key_file.is_some(),
                "--session-ed25519-public-key-file",
            ),
            (
                self.session_rs256_public_key.is_some(),
                "--session-rs256-public-key",
            ),
            (
                self.session_es256_public_key.is_some(),
                "--session-es256-public-key",
            ),
            (self.session_jwks_url.is_some(), "--session-jwks-url"),
        ]
        .into_iter()
        .filter_map(|(set, name)| set.then_some(name))
        .collect();
        match given.len() {
            0 => return Err(ConfigError::NoSessionKey),
            1 => {}
            n => return Err(ConfigError::SessionKeyCount(n, given.join(", "))),
        }
        let key = if let Some(secret) = &self.session_hs256_secret {
            Key::hs256(secret.expose_secret().as_bytes())?
        } else if let Some(key) = &self.session_ed25519_public_key {
            Key::ed25519(key)?
        } else if let Some(path) = &self.session_ed25519_public_key_file {
            Key::ed25519(&read_key_file(path)?)?
        } else if let Some(pem) = &self.session_rs256_public_key {
            Key::rs256_pem(&pem_or_file(pem)?)?
        } else if let Some(pem) = &self.session_es256_public_key {
            Key::es256_pem(&pem_or_file(pem)?)?
        } else if let Some(url) = &self.session_jwks_url {
            check_jwks_url(url)?;
            return Ok(SessionKeys::Jwks(Arc::new(Jwks::new(url, clock.clone()))));
        } else {
            return Err(ConfigError::NoSessionKey);
        };
        Ok(SessionKeys::Key(key))
    }

    /// The mint these flags describe.
    pub fn mint_options(&self) -> Result<MintOptions, ConfigError> {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock::new());
        let mut options = MintOptions::new(
            &self.ringside_url,
            self.fc_api_key.clone(),
            self.allowed_origins.clone(),
        );
        options.public_ringside_url = self.public_ringside_url.clone();
        options.identity = match self.identity {
            IdentityMode::Visitor => {
                let visitors = match &self.cookie_secret {
                    Some(secret) if secret.expose_secret().len() < 32 => {
                        return Err(ConfigError::ShortCookieSecret);
                    }
                    Some(secret) => Visitors::new(secret.expose_secret().as_bytes().to_vec()),
                    None => Visitors::random(),
                };
                let visitors = visitors
                    .with_customer(
                        Some(self.visitor_budget_usd),
                        Some(self.visitor_rate_limit_rpm),
                    )
                    .with_max_age(self.visitor_cookie_max_age)
                    .with_clock(clock.clone());
                if self.visitor_challenge {
                    options.challenge = Some(Arc::new(Challenges::new(
                        &visitors.derived_key("ringside-mint visitor challenge"),
                        self.visitor_challenge_max_number,
                    )));
                }
                Arc::new(visitors)
            }
            IdentityMode::Session => {
                let keys = self.session_keys(&clock)?;
                if self.session_audience.is_none() && self.session_typ.is_none() {
                    return Err(ConfigError::SessionAudienceOrTyp);
                }
                let rules = jwt::Rules {
                    issuer: self.session_issuer.clone(),
                    audience: self.session_audience.clone(),
                    typ: self.session_typ.clone(),
                    leeway_secs: i64::from(self.session_leeway_secs),
                    max_len: self.session_max_len,
                };
                Arc::new(
                    Sessions::new(
                        Verifier::with_keys(keys, rules),
                        self.session_cookie.clone(),
                        clock.clone(),
                    )
                    .with_customer(Some(self.user_budget_usd), Some(self.user_rate_limit_rpm)),
                )
            }
        };
        options.ttl_seconds = self.ttl_seconds;
        options.threads = self.threads;
        options.feedback = self.feedback;
        options.reuse_fraction = self.reuse_fraction;
        options.bind_ip = !self.no_bind_ip;
        options.trusted_proxies = self.trusted_proxies.clone();
        options.cors_allow_headers = self
            .cors_allow_headers
            .iter()
            .filter_map(|name| HeaderName::try_from(name.as_str()).ok())
            .collect();
        options.limits = Limits {
            per_ip: Rate::new(self.ip_rate_per_minute, self.ip_burst.max(1)),
            per_identity: Rate::new(self.identity_rate_per_minute, self.identity_burst.max(1)),
            new_visitors_per_ip: Rate::new(
                self.new_visitor_rate_per_minute,
                self.new_visitor_burst.max(1),
            ),
            new_visitors_per_56: Rate::new(
                self.new_visitor_56_rate_per_minute,
                self.new_visitor_56_burst.max(1),
            ),
            new_visitors_per_48: Rate::new(
                self.new_visitor_48_rate_per_minute,
                self.new_visitor_48_burst.max(1),
            ),
        };
        options.ceilings = Ceilings {
            new_visitors_per_hour: self.new_visitors_per_hour,
            visitor_budget_per_day_usd: self.visitor_budget_per_day_usd,
        };
        if let Some(url) = &self.redis_url {
            options.store = Some(Arc::new(Store::new(
                url.expose_secret(),
                &self.redis_key_prefix,
            )?));
        }
        options.upstream = UpstreamOptions {
            timeout: Duration::from_secs(self.upstream_timeout_secs.max(1)),
            connect_timeout: Duration::from_millis(self.upstream_connect_timeout_ms.max(1)),
            retries: self.upstream_retries,
            ..UpstreamOptions::default()
        };
        options.clock = clock;
        options.cache_capacity = self.cache_capacity;
        Ok(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_exact_scheme_host_port() {
        for good in ["https://a.example", "http://127.0.0.1:8080"] {
            assert!(parse_origin(good).is_ok(), "{good}");
        }
        for bad in [
            "https://a.example/",
            "a.example",
            "https://a.example/x",
            "null",
            "https://",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    fn session(extra: &[&str]) -> Result<MintOptions, ConfigError> {
        let mut args = vec![
            "ringside-mint",
            "--allowed-origin",
            "https://a.example",
            "--fc-api-key",
            "sk_test_config",
            "--identity",
            "session",
        ];
        args.extend_from_slice(extra);
        Config::try_parse_from(args).unwrap().mint_options()
    }

    fn testdata(file: &str) -> String {
        format!("{}/../jwt/testdata/{file}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn session_mode_says_at_start_what_is_missing_or_wrong() {
        let error = |extra: &[&str]| session(extra).unwrap_err().to_string();
        let rsa = testdata("rsa-2048.pub.pem");
        assert!(
            error(&["--session-audience", "chat"]).contains("--session-jwks-url"),
            "no key: the message names every way to give one"
        );
        let two = error(&[
            "--session-audience",
            "chat",
            "--session-rs256-public-key",
            &rsa,
            "--session-jwks-url",
            "https://id.example/jwks.json",
        ]);
        assert!(
            two.contains("2 were given") && two.contains("--session-rs256-public-key"),
            "{two}"
        );
        assert!(
            error(&["--session-rs256-public-key", &rsa])
                .contains("--session-audience or --session-typ"),
            "neither aud nor typ checked"
        );
        for url in [
            "http://id.example/jwks.json",
            "ftp://id.example/jwks.json",
            "not a url",
        ] {
            assert!(
                error(&["--session-typ", "JWT", "--session-jwks-url", url]).contains("https"),
                "{url}"
            );
        }
        assert!(
            error(&[
                "--session-typ",
                "JWT",
                "--session-rs256-public-key",
                &testdata("rsa-1024.pub.pem"),
            ])
            .contains("1024 bits"),
            "a weak RSA key"
        );
        assert!(
            error(&[
                "--session-typ",
                "JWT",
                "--session-es256-public-key",
                &testdata("ec-p384.pub.pem"),
            ])
            .contains("P-256"),
        );
        assert!(
            error(&[
                "--session-typ",
                "JWT",
                "--session-rs256-public-key",
                "/no/such/key.pem"
            ])
            .contains("/no/such/key.pem"),
            "a missing file is named"
        );

        let pem = std::fs::read_to_string(testdata("ec-p256.pub.pem")).unwrap();
        for extra in [
            vec!["--session-rs256-public-key", rsa.as_str()],
            vec!["--session-es256-public-key", pem.as_str()],
            vec![
                "--session-jwks-url",
                "https://id.example/.well-known/jwks.json",
            ],
            vec!["--session-jwks-url", "http://127.0.0.1:9999/jwks.json"],
        ] {
            let mut args = vec!["--session-audience", "chat"];
            args.extend(extra.iter().copied());
            assert!(session(&args).is_ok(), "{extra:?}");
        }
    }

    #[test]
    fn the_help_documents_every_flag_and_its_environment_variable() {
        let mut command = Config::command();
        let help = command.render_long_help().to_string();
        for arg in command.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if long == "help" || long == "version" {
                continue;
            }
            assert!(help.contains(&format!("--{long}")), "--{long} is in --help");
            assert!(
                arg.get_env().is_some(),
                "--{long} also reads the environment"
            );
            assert!(
                arg.get_long_help().or(arg.get_help()).is_some(),
                "--{long} has a doc line"
            );
        }
    }
}
