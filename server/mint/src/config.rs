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

use crate::client_ip::IpNet;
use crate::clock::{Clock, SystemClock};
use crate::identity::Visitors;
use crate::jwt::{self, SessionKey, Verifier};
use crate::limit::Rate;
use crate::ringside::UpstreamOptions;
use crate::session::Sessions;
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
        default_value_t = 1.0
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
    #[arg(long, env = "RINGSIDE_MINT_SESSION_ED25519_PUBLIC_KEY")]
    pub session_ed25519_public_key: Option<String>,

    /// Session mode: a file holding the Ed25519 public key (same formats).
    #[arg(long, env = "RINGSIDE_MINT_SESSION_ED25519_PUBLIC_KEY_FILE")]
    pub session_ed25519_public_key_file: Option<PathBuf>,

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
    /// Session mode without a key, or with two.
    #[error(
        "--identity session needs exactly one of RINGSIDE_MINT_SESSION_HS256_SECRET, --session-ed25519-public-key, --session-ed25519-public-key-file"
    )]
    SessionKeyCount,
    /// A session key that does not load.
    #[error("the session key: {0}")]
    SessionKey(#[from] jwt::KeyError),
    /// The public key file could not be read.
    #[error("reading the session public key file: {0}")]
    KeyFile(std::io::Error),
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
        Ok(Config::from_arg_matches(&matches).unwrap_or_else(|e| e.exit()))
    }

    /// What the accept loop allows a client, as these flags say.
    pub fn conn_settings(&self) -> crate::conn::Settings {
        crate::conn::Settings {
            max_connections: self.max_connections as usize,
            ..crate::conn::Settings::default()
        }
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
                Arc::new(visitors.with_customer(
                    Some(self.visitor_budget_usd),
                    Some(self.visitor_rate_limit_rpm),
                ))
            }
            IdentityMode::Session => {
                let key = match (
                    &self.session_hs256_secret,
                    &self.session_ed25519_public_key,
                    &self.session_ed25519_public_key_file,
                ) {
                    (Some(secret), None, None) => {
                        SessionKey::hs256(secret.expose_secret().as_bytes())?
                    }
                    (None, Some(key), None) => SessionKey::ed25519(key)?,
                    (None, None, Some(path)) => SessionKey::ed25519(
                        &std::fs::read_to_string(path).map_err(ConfigError::KeyFile)?,
                    )?,
                    _ => return Err(ConfigError::SessionKeyCount),
                };
                let rules = jwt::Rules {
                    issuer: self.session_issuer.clone(),
                    audience: self.session_audience.clone(),
                    typ: self.session_typ.clone(),
                    leeway_secs: i64::from(self.session_leeway_secs),
                    max_len: self.session_max_len,
                };
                Arc::new(
                    Sessions::new(
                        Verifier::new(key, rules),
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
        };
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
