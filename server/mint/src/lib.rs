//! The mint: the host's `/api/chat-token` route. It knows who the browser's
//! user is (never from the request body), checks the page's Origin, makes
//! sure the Ringside customer exists and mints a short-lived Client Token
//! bound to that customer, that origin and the browser's address — reusing a
//! fresh token, and sharing one upstream call among concurrent requests,
//! whenever it can.
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
//! let app = axum::Router::new()
//!     .merge(ringside_mint::router(mint.clone()))
//!     .nest("/internal", ringside_mint::admin_router(mint)); // /healthz, /metrics
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await
//! # }
//! ```
//!
//! Who the caller is comes from an [`identity::Identify`] implementation:
//! [`identity::Visitors`] (the default: anonymous visitors, signed cookie),
//! [`session::Sessions`] (the host app's session JWT), or your own — see
//! [`identity::Identify`] for one that reads the host's auth middleware.
//!
//! # Layout
//! - [`config`]: the binary's flags, and how they become [`MintOptions`].
//! - [`identity`]: the [`identity::Identify`] trait and anonymous visitors;
//!   [`session`]: signed-in users; [`jwt`]: the RFC 8725 verifier they use.
//! - [`client_ip`]: the browser's address, behind trusted proxies.
//! - [`limit`]: the route's own rate limits; [`cache`]: known customers,
//!   reusable tokens and single-flight; [`ringside`]: the upstream calls,
//!   holding the FC key, with timeouts and safe retries.
//! - [`error`]: every refusal, as Ringside's JSON error body.
//! - [`feedback`]: the optional route that logs and counts the visitor's
//!   ratings of answers.
//! - [`conn`]: the accept loop, with a header timeout for slow clients and
//!   a cap on open connections.
//! - [`observe`]: request ids and logs; [`metrics`]: `/metrics`;
//!   [`clock`]: time, as an input tests can move.

pub mod cache;
pub mod client_ip;
pub mod clock;
pub mod config;
pub mod conn;
pub mod error;
pub mod feedback;
pub mod identity;
pub mod jwt;
pub mod limit;
pub mod metrics;
pub mod observe;
pub mod ringside;
pub mod session;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::{
    Router,
    extract::{ConnectInfo, Request, State},
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use futures_util::FutureExt;
use ringside_wire::{
    customer::{CreateCustomer, Scope},
    token::TokenResponse,
};
use secrecy::SecretString;
use tokio::net::TcpListener;

use cache::{CachedToken, KnownCustomers, Lookup, TokenCache, TokenKey};
use client_ip::IpNet;
use clock::{Clock, SystemClock};
pub use config::Config;
use error::MintError;
use identity::{Caller, Identify, Identity, Visitors};
use limit::{Limiter, Rate, address_key};
use metrics::{LimitKind, Metrics, Outcome};
use ringside::{Ringside, UpstreamOptions};

/// The path the widget calls by default.
pub const ROUTE: &str = "/api/chat-token";

/// The request header in which a widget names the token Ringside just
/// refused (expired by Ringside's clock, or revoked), so a reusing mint never
/// hands that one out again. Only an exact match is dropped: a caller can
/// only force a fresh mint of a token it already holds.
pub const STALE_TOKEN_HEADER: HeaderName = HeaderName::from_static("x-ringside-stale-token");

/// The route's own rate limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Token requests per browser address (IPv6: per /64).
    pub per_ip: Rate,
    /// Token requests per identity.
    pub per_identity: Rate,
    /// New identities (visitors without a cookie) per browser address: each
    /// one creates a Ringside customer.
    pub new_visitors_per_ip: Rate,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_ip: Rate::new(120, 60),
            per_identity: Rate::new(30, 10),
            new_visitors_per_ip: Rate::new(20, 20),
        }
    }
}

impl Limits {
    /// No limits (benchmarks, or a host that limits in front of the mint).
    pub const OFF: Limits = Limits {
        per_ip: Rate::OFF,
        per_identity: Rate::OFF,
        new_visitors_per_ip: Rate::OFF,
    };
}

/// What a mint needs to know, with the defaults of the binary's flags.
#[derive(Debug, Clone)]
pub struct MintOptions {
    /// The gateway the mint calls.
    pub ringside_url: String,
    /// The gateway browsers call, when it differs.
    pub public_ringside_url: Option<String>,
    /// The FC API key.
    pub api_key: SecretString,
    /// Origins whose pages may get tokens, exactly as browsers send them.
    pub allowed_origins: Vec<String>,
    /// Who the caller is; anonymous visitors with a random cookie key by default.
    pub identity: Arc<dyn Identify>,
    /// Token lifetime, seconds (60 to 3600).
    pub ttl_seconds: u32,
    /// A token is handed out again, for the same customer, origin and
    /// address, until this share of its life is gone (0.5 by default; 0
    /// never reuses). A token named in [`STALE_TOKEN_HEADER`] (Ringside
    /// refused it) is never handed out again: the widget names the one it
    /// was refused when it asks for another.
    pub reuse_fraction: f64,
    /// Bind tokens to the browser's address (off for hosts whose users'
    /// addresses change between requests, e.g. behind rotating NAT).
    pub bind_ip: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Request headers the CORS preflight allows.
    pub cors_allow_headers: Vec<HeaderName>,
    /// The route's own rate limits.
    pub limits: Limits,
    /// Upstream timeouts and retries.
    pub upstream: UpstreamOptions,
    /// Where time comes from.
    pub clock: Arc<dyn Clock>,
    /// About how many tokens, customers and limiter keys to remember.
    pub cache_capacity: usize,
    /// Tokens may also use Ringside threads (scope `threads`), for widgets
    /// that keep conversations on the server (`persist: "server"`).
    pub threads: bool,
    /// [`app`] also serves [`feedback::ROUTE`].
    pub feedback: bool,
}

impl MintOptions {
    /// Options with the defaults for everything but the essentials.
    pub fn new(ringside_url: &str, api_key: SecretString, allowed_origins: Vec<String>) -> Self {
        MintOptions {
            ringside_url: ringside_url.to_string(),
            public_ringside_url: None,
            api_key,
            allowed_origins,
            identity: Arc::new(Visitors::random()),
            ttl_seconds: 900,
            reuse_fraction: 0.5,
            bind_ip: true,
            trusted_proxies: Vec::new(),
            cors_allow_headers: default_cors_headers(),
            limits: Limits::default(),
            upstream: UpstreamOptions::default(),
            clock: Arc::new(SystemClock::new()),
            cache_capacity: 100_000,
            threads: false,
            feedback: false,
        }
    }
}

/// `content-type, authorization, x-csrf-token, x-ringside-stale-token`.
pub fn default_cors_headers() -> Vec<HeaderName> {
    vec![
        header::CONTENT_TYPE,
        header::AUTHORIZATION,
        HeaderName::from_static("x-csrf-token"),
        STALE_TOKEN_HEADER,
    ]
}

/// The mint's shared state; cheap to clone.
#[derive(Debug, Clone)]
pub struct Mint {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    ringside: Ringside,
    identity: Arc<dyn Identify>,
    allowed_origins: Vec<String>,
    api_base: String,
    ttl_seconds: u32,
    bind_ip: bool,
    trusted_proxies: Vec<IpNet>,
    cors_allow_headers: HeaderValue,
    threads: bool,
    feedback: bool,
    ip_limit: Limiter<IpAddr>,
    identity_limit: Limiter<String>,
    new_visitor_limit: Limiter<IpAddr>,
    tokens: TokenCache,
    customers: KnownCustomers,
    clock: Arc<dyn Clock>,
    metrics: Arc<Metrics>,
}

impl Mint {
    /// A mint with these options.
    pub fn new(options: MintOptions) -> Self {
        let metrics = Arc::new(Metrics::default());
        let ringside = Ringside::new(
            &options.ringside_url,
            options.api_key,
            options.upstream,
            metrics.clone(),
        );
        let api_base = options
            .public_ringside_url
            .unwrap_or_else(|| ringside.base().to_string())
            .trim_end_matches('/')
            .to_string();
        let cors_allow_headers = options
            .cors_allow_headers
            .iter()
            .map(HeaderName::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let capacity = options.cache_capacity;
        let clock = options.clock;
        Mint {
            inner: Arc::new(Inner {
                ringside,
                identity: options.identity,
                allowed_origins: options.allowed_origins,
                api_base,
                ttl_seconds: options.ttl_seconds,
                bind_ip: options.bind_ip,
                trusted_proxies: options.trusted_proxies,
                cors_allow_headers: HeaderValue::from_str(&cors_allow_headers)
                    .expect("header names make a valid header value"),
                threads: options.threads,
                feedback: options.feedback,
                ip_limit: Limiter::new(options.limits.per_ip, capacity, clock.clone()),
                identity_limit: Limiter::new(options.limits.per_identity, capacity, clock.clone()),
                new_visitor_limit: Limiter::new(
                    options.limits.new_visitors_per_ip,
                    capacity,
                    clock.clone(),
                ),
                tokens: TokenCache::new(options.reuse_fraction, capacity),
                customers: KnownCustomers::new(capacity),
                clock,
                metrics,
            }),
        }
    }

    /// The counters behind `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// `/metrics` as text.
    pub fn render_metrics(&self) -> String {
        self.inner.metrics.render(self.inner.tokens.len())
    }

    /// The index of this request's Origin in the allowlist.
    fn allowed_origin(&self, headers: &HeaderMap) -> Result<usize, MintError> {
        let mut values = headers.get_all(header::ORIGIN).iter();
        let (Some(origin), None) = (values.next(), values.next()) else {
            return Err(MintError::OriginMissing);
        };
        let origin = origin.to_str().map_err(|_| MintError::OriginMissing)?;
        self.inner
            .allowed_origins
            .iter()
            .position(|allowed| allowed == origin)
            .ok_or_else(|| MintError::OriginNotAllowed(truncate(origin, 100)))
    }
}

fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A token for the browser and how it was obtained.
struct Issued {
    origin: usize,
    token: CachedToken,
    set_cookie: Option<HeaderValue>,
    outcome: Outcome,
}

impl Mint {
    /// Runs the whole check-identify-limit-mint sequence for one request.
    async fn issue(
        &self,
        parts: &axum::http::request::Parts,
        peer: IpAddr,
    ) -> Result<Issued, (Option<usize>, MintError)> {
        let inner = &self.inner;
        let origin = self.allowed_origin(&parts.headers).map_err(|e| (None, e))?;
        let fail = |e| (Some(origin), e);
        let ip =
            client_ip::client_ip(peer, &parts.headers, &inner.trusted_proxies).map_err(fail)?;
        let address = address_key(ip);
        inner
            .ip_limit
            .check(&address)
            .map_err(|wait| fail(self.limited(LimitKind::Ip, wait)))?;
        let caller = Caller {
            parts,
            origin: &inner.allowed_origins[origin],
            ip,
        };
        let identity: Identity = inner.identity.identify(caller).await.map_err(fail)?;
        if identity.is_new {
            inner
                .new_visitor_limit
                .check(&address)
                .map_err(|wait| fail(self.limited(LimitKind::NewVisitor, wait)))?;
        }
        inner
            .identity_limit
            .check(&identity.external_id)
            .map_err(|wait| fail(self.limited(LimitKind::Identity, wait)))?;

        let key = TokenKey {
            external_id: identity.external_id.clone(),
            origin,
            ip: inner.bind_ip.then_some(ip),
        };
        let now = inner.clock.monotonic();
        let stale = parts
            .headers
            .get(STALE_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok());
        let lookup = inner.tokens.get_or_start(&key, now, stale, |id| {
            let mint = self.clone();
            let key = key.clone();
            let customer = CreateCustomer {
                external_id: identity.external_id.clone(),
                budget_usd: identity.budget_usd,
                rate_limit_rpm: identity.rate_limit_rpm,
                metadata: None,
            };
            let is_new = identity.is_new;
            let task = tokio::spawn(async move {
                let result = mint.fetch(&key, customer, is_new).await;
                mint.inner.tokens.finish(&key, id, &result);
                result
            });
            async move {
                task.await.unwrap_or_else(|e| {
                    Err(MintError::Internal(format!("the mint task failed: {e}")))
                })
            }
            .boxed()
        });
        let (token, outcome) = match lookup {
            Lookup::Reuse(token) => (token, Outcome::Reused),
            Lookup::Join(flight) => (flight.await.map_err(fail)?, Outcome::Shared),
            Lookup::Started(flight) => (flight.await.map_err(fail)?, Outcome::Minted),
        };
        Ok(Issued {
            origin,
            token,
            set_cookie: identity.set_cookie,
            outcome,
        })
    }

    fn limited(&self, kind: LimitKind, wait: Duration) -> MintError {
        self.inner.metrics.rate_limited(kind);
        MintError::RateLimited {
            scope: kind.as_str(),
            retry_after: wait,
        }
    }

    /// The upstream part: upsert the customer unless known, then mint. If
    /// Ringside answers the mint with 404 for a customer we thought known
    /// (it was removed upstream, or the mock was reset), that answer says no
    /// token was made: the customer is upserted and the mint sent once more.
    async fn fetch(
        &self,
        key: &TokenKey,
        customer: CreateCustomer,
        is_new: bool,
    ) -> Result<CachedToken, MintError> {
        let inner = &self.inner;
        let known = !is_new && inner.customers.contains(&customer.external_id);
        if known {
            inner.metrics.customer_cache_hit();
        } else {
            inner.ringside.upsert_customer(&customer).await?;
            inner.customers.insert(&customer.external_id);
        }
        match self.mint_once(key).await {
            Err(MintError::Upstream { status: 404, .. }) if known => {
                inner.customers.remove(&customer.external_id);
                inner.ringside.upsert_customer(&customer).await?;
                inner.customers.insert(&customer.external_id);
                self.mint_once(key).await
            }
            result => result,
        }
    }

    async fn mint_once(&self, key: &TokenKey) -> Result<CachedToken, MintError> {
        let inner = &self.inner;
        let started = inner.clock.monotonic();
        let minted = inner
            .ringside
            .mint_scoped(
                &key.external_id,
                &inner.allowed_origins[key.origin],
                key.ip,
                inner.ttl_seconds,
                match inner.threads {
                    true => vec![Scope::Chat, Scope::Threads],
                    false => vec![Scope::Chat],
                },
            )
            .await?;
        Ok(CachedToken {
            token: minted.token.unwrap_or_default().into(),
            expires_at: minted.expires_at,
            minted_at: started,
            received_at: inner.clock.monotonic(),
            lifetime: Duration::from_secs(minted.expires_in),
        })
    }
}

/// The mint route (`POST /api/chat-token`, and its CORS preflight) for
/// `mint`, with request ids and logs. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()`: the browser's
/// address is what the token gets bound to.
pub fn router<S>(mint: Mint) -> Router<S> {
    Router::new()
        .route(
            ROUTE,
            post(chat_token)
                .options(preflight)
                .fallback(|| async { error::method_not_allowed() }),
        )
        .layer(middleware::from_fn(observe::observe))
        .with_state(mint)
}

/// `GET /healthz` (liveness: `ok` while the process serves; it does not call
/// Ringside, so an upstream outage does not take the mint out of rotation)
/// and `GET /metrics` (Prometheus text format).
pub fn admin_router<S>(mint: Mint) -> Router<S> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(mint)
}

/// The app the binary serves on its public listener: the mint route,
/// `/healthz`, `/metrics` when `with_metrics`, and `static_dir` as the
/// fallback when given.
pub fn app(mint: Mint, static_dir: Option<PathBuf>, with_metrics: bool) -> Router {
    let mut app = router(mint.clone()).route("/healthz", get(healthz));
    if mint.inner.feedback {
        app = app.merge(feedback::router(mint.clone()));
    }
    if with_metrics {
        app = app.route("/metrics", get(metrics_text).with_state(mint));
    }
    if let Some(dir) = static_dir {
        app = app.fallback_service(tower_http::services::ServeDir::new(dir));
    }
    app
}

/// Serves the mint with `/healthz` and `/metrics` (and `static_dir`, if
/// given) on `listener` until `shutdown`, then lets in-flight requests finish.
pub async fn run(
    listener: TcpListener,
    mint: Mint,
    static_dir: Option<PathBuf>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve(listener, app(mint, static_dir, true), shutdown).await
}

/// Serves `app` on `listener` (with the peer address each handler needs)
/// until `shutdown`, then lets in-flight requests finish, with the default
/// [`conn::Settings`]: clients slower than 15 s to send a request head are
/// cut off, and at most 10,000 connections are open at once.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    conn::serve(listener, app, conn::Settings::default(), shutdown).await
}

async fn healthz() -> Response {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n").into_response()
}

async fn metrics_text(State(mint): State<Mint>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        mint.render_metrics(),
    )
        .into_response()
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
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after, x-request-id"),
        );
    }
}

async fn preflight(State(mint): State<Mint>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let out = response.headers_mut();
    out.insert(header::VARY, HeaderValue::from_static("origin"));
    if let Ok(origin) = mint.allowed_origin(&headers) {
        grant_cors(out, &mint.inner.allowed_origins[origin]);
        out.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("POST"),
        );
        out.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            mint.inner.cors_allow_headers.clone(),
        );
        out.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
    response
}

async fn chat_token(State(mint): State<Mint>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>().copied() else {
        let error = MintError::Internal(
            "no peer address: serve with into_make_service_with_connect_info::<SocketAddr>()"
                .into(),
        );
        mint.inner.metrics.outcome(Outcome::Internal);
        return error.into_response();
    };
    let inner = &mint.inner;
    match mint.issue(&parts, peer.ip()).await {
        Ok(issued) => {
            let now = inner.clock.monotonic();
            let body = TokenResponse {
                token: issued.token.token.to_string(),
                expires_at: issued.token.expires_at,
                expires_in: Some(issued.token.expires_in(now)),
                api_base: Some(inner.api_base.clone()),
            };
            let body = serde_json::to_vec(&body).expect("a token response serialises");
            let mut response = body.into_response();
            let out = response.headers_mut();
            out.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            out.insert(header::VARY, HeaderValue::from_static("origin"));
            if let Some(cookie) = issued.set_cookie {
                out.insert(header::SET_COOKIE, cookie);
            }
            grant_cors(out, &inner.allowed_origins[issued.origin]);
            inner.metrics.outcome(issued.outcome);
            tracing::debug!(outcome = issued.outcome.as_str(), "chat token issued");
            response
        }
        Err((origin, error)) => {
            inner.metrics.outcome(outcome_of(&error));
            let mut response = error.into_response();
            let out = response.headers_mut();
            out.insert(header::VARY, HeaderValue::from_static("origin"));
            // The widget of an allowed page may read why it was refused.
            if let Some(origin) = origin {
                grant_cors(out, &inner.allowed_origins[origin]);
            }
            response
        }
    }
}

fn outcome_of(error: &MintError) -> Outcome {
    match error {
        MintError::OriginNotAllowed(_) | MintError::OriginMissing => Outcome::OriginDenied,
        MintError::Unauthenticated(_) => Outcome::Unauthenticated,
        MintError::BadForwardedFor => Outcome::BadRequest,
        MintError::RateLimited { .. } => Outcome::RateLimited,
        MintError::Upstream { .. } => Outcome::UpstreamError,
        MintError::Unavailable(_) => Outcome::UpstreamUnavailable,
        MintError::Internal(_) => Outcome::Internal,
    }
}
