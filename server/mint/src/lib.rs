//! The mint: the host's `/api/chat-token` route. It knows who the browser's
//! user is (never from the request body), checks the page's Origin, makes
//! sure the Ringside customer exists and mints a short-lived Client Token
//! bound to that customer, that origin and the browser's address.
//!
//! Use it as a binary (`ringside-mint`) or nest [`router`] in your own axum app:
//!
//! ```no_run
//! # async fn example() -> std::io::Result<()> {
//! use ringside_mint::{Mint, MintOptions};
//!
//! let mint = Mint::new(MintOptions::new(
//!     "https://api.fightclub.pro",
//!     std::env::var("FC_API_KEY").unwrap().into(),
//!     vec!["https://www.example.com".into()],
//! ));
//! let app = axum::Router::new().merge(ringside_mint::router(mint));
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
//! # }
//! ```
//!
//! # Layout
//! - [`config`]: the binary's flags.
//! - [`identity`]: who is asking (a signed visitor cookie).
//! - [`ringside`]: the upstream calls, holding the FC key.
//! - [`error`]: every refusal, as Ringside's JSON error body.

pub mod config;
pub mod error;
pub mod identity;
pub mod ringside;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::{
    Json, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::post,
};
use ringside_wire::{customer::CreateCustomer, token::TokenResponse};
use secrecy::SecretString;
use tokio::net::TcpListener;

pub use config::Config;
use error::MintError;
use identity::Visitors;
use ringside::Ringside;

/// The path the widget calls by default.
pub const ROUTE: &str = "/api/chat-token";

/// What a mint needs to know, with the defaults of the binary's flags.
#[derive(Debug, Clone)]
pub struct MintOptions {
    /// The gateway the mint calls.
    pub ringside_url: String,
    /// The gateway browsers call, when it differs.
    pub public_ringside_url: Option<String>,
    /// The FC API key.
    pub api_key: SecretString,
    /// Origins whose pages may get tokens.
    pub allowed_origins: Vec<String>,
    /// Signs visitor cookies; random when `None`.
    pub cookie_secret: Option<Vec<u8>>,
    /// Token lifetime, seconds.
    pub ttl_seconds: u32,
    /// Budget of each new visitor customer.
    pub budget_usd: f64,
    /// Rate limit of each new visitor customer.
    pub rate_limit_rpm: u32,
    /// How long to wait for Ringside.
    pub upstream_timeout: Duration,
}

impl MintOptions {
    /// Options with the defaults for everything but the essentials.
    pub fn new(ringside_url: &str, api_key: SecretString, allowed_origins: Vec<String>) -> Self {
        MintOptions {
            ringside_url: ringside_url.to_string(),
            public_ringside_url: None,
            api_key,
            allowed_origins,
            cookie_secret: None,
            ttl_seconds: 900,
            budget_usd: 1.0,
            rate_limit_rpm: 20,
            upstream_timeout: Duration::from_secs(10),
        }
    }
}

impl From<&Config> for MintOptions {
    fn from(config: &Config) -> Self {
        use secrecy::ExposeSecret;
        MintOptions {
            ringside_url: config.ringside_url.clone(),
            public_ringside_url: config.public_ringside_url.clone(),
            api_key: config.fc_api_key.clone(),
            allowed_origins: config.allowed_origins.clone(),
            cookie_secret: config
                .cookie_secret
                .as_ref()
                .map(|s| s.expose_secret().as_bytes().to_vec()),
            ttl_seconds: config.ttl_seconds,
            budget_usd: config.budget_usd,
            rate_limit_rpm: config.rate_limit_rpm,
            upstream_timeout: Duration::from_secs(config.upstream_timeout_secs),
        }
    }
}

/// The mint's shared state; cheap to clone.
#[derive(Debug, Clone)]
pub struct Mint {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ringside: Ringside,
    visitors: Visitors,
    allowed_origins: Vec<String>,
    api_base: String,
    ttl_seconds: u32,
    budget_usd: f64,
    rate_limit_rpm: u32,
}

impl Mint {
    /// A mint with these options.
    pub fn new(options: MintOptions) -> Self {
        let ringside = Ringside::new(
            &options.ringside_url,
            options.api_key,
            options.upstream_timeout,
        );
        let api_base = options
            .public_ringside_url
            .unwrap_or_else(|| ringside.base().to_string())
            .trim_end_matches('/')
            .to_string();
        let cookie_key = options
            .cookie_secret
            .unwrap_or_else(|| rand::random::<[u8; 32]>().to_vec());
        Mint {
            inner: Arc::new(Inner {
                ringside,
                visitors: Visitors::new(cookie_key),
                allowed_origins: options.allowed_origins,
                api_base,
                ttl_seconds: options.ttl_seconds,
                budget_usd: options.budget_usd,
                rate_limit_rpm: options.rate_limit_rpm,
            }),
        }
    }
}

/// The mint route (`POST /api/chat-token`, and its CORS preflight) for `mint`.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()`: the
/// browser's address is what the token gets bound to.
pub fn router<S>(mint: Mint) -> Router<S> {
    Router::new()
        .route(ROUTE, post(chat_token).options(preflight))
        .with_state(mint)
}

/// The origin of this request, if it is one the mint serves.
fn allowed_origin<'a>(mint: &'a Mint, headers: &HeaderMap) -> Result<&'a str, MintError> {
    let mut values = headers.get_all(header::ORIGIN).iter();
    let (Some(origin), None) = (values.next(), values.next()) else {
        return Err(MintError::OriginMissing);
    };
    let origin = origin.to_str().map_err(|_| MintError::OriginMissing)?;
    mint.inner
        .allowed_origins
        .iter()
        .find(|allowed| *allowed == origin)
        .map(String::as_str)
        .ok_or_else(|| MintError::OriginNotAllowed(origin.to_string()))
}

/// CORS for an allowed origin: hosts may serve the token route from another
/// origin than their pages (with the visitor cookie, hence credentials).
fn grant_cors(headers: &mut HeaderMap, origin: &str) {
    if let Ok(origin) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
    }
    headers.append(header::VARY, HeaderValue::from_static("origin"));
}

async fn preflight(State(mint): State<Mint>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(origin) = allowed_origin(&mint, &headers) {
        let out = response.headers_mut();
        grant_cors(out, origin);
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        out.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, x-csrf-token"),
        );
        out.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    response
}

async fn chat_token(
    State(mint): State<Mint>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, MintError> {
    let inner = &mint.inner;
    let origin = allowed_origin(&mint, &headers)?;
    let identity = inner
        .visitors
        .identify(&headers, origin.starts_with("https://"));
    inner
        .ringside
        .upsert_customer(&CreateCustomer {
            external_id: identity.external_id.clone(),
            budget_usd: Some(inner.budget_usd),
            rate_limit_rpm: Some(inner.rate_limit_rpm),
            metadata: None,
        })
        .await?;
    let minted = inner
        .ringside
        .mint(
            &identity.external_id,
            origin,
            Some(peer.ip().to_canonical()),
            inner.ttl_seconds,
        )
        .await?;
    let body = TokenResponse {
        token: minted.token.unwrap_or_default(),
        expires_at: minted.expires_at,
        expires_in: Some(minted.expires_in),
        api_base: Some(inner.api_base.clone()),
    };
    let mut response = Json(body).into_response();
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = identity.set_cookie {
        out.insert(header::SET_COOKIE, cookie);
    }
    grant_cors(out, origin);
    tracing::info!(customer = %identity.external_id, %origin, "minted a chat token");
    Ok(response)
}

/// Serves the mint (and `static_dir`, if given) on `listener` until `shutdown`.
pub async fn run(
    listener: TcpListener,
    mint: Mint,
    static_dir: Option<std::path::PathBuf>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut app = router(mint);
    if let Some(dir) = static_dir {
        app = app.fallback_service(tower_http::services::ServeDir::new(dir));
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
