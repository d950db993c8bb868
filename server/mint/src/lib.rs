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
pub mod ceiling;
pub mod challenge;
pub mod client_ip;
pub mod clock;
pub mod config;
pub mod conn;
pub mod error;
pub mod feedback;
pub mod identity;
pub mod jwks;
pub mod jwt;
pub mod limit;
pub mod metrics;
pub mod observe;
pub mod ringside;
pub mod session;
pub mod store;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
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
use ceiling::{Ceilings, LocalCeilings};
use challenge::Challenges;
use client_ip::IpNet;
use clock::{Clock, SystemClock};
pub use config::Config;
use error::MintError;
use identity::{Caller, Identify, Identity, Visitors};
use limit::{Limiter, Rate, address_key, v6_block};
use metrics::{LimitKind, Metrics, Outcome};
use ringside::{Ringside, UpstreamOptions};
use store::Store;

/// The path the widget calls by default.
pub const ROUTE: &str = "/api/chat-token";

/// The request header in which a widget names the token Ringside just
/// refused (expired by Ringside's clock, or revoked), so a reusing mint never
/// hands that one out again: the whole token, or just its `jti`. Only an
/// exact match is dropped: a caller can only force a fresh mint of a token
/// it already holds (or whose id it read from one).
pub const STALE_TOKEN_HEADER: HeaderName = HeaderName::from_static("x-ringside-stale-token");

/// The request header carrying a new visitor's proof-of-work solution.
pub const CHALLENGE_HEADER: HeaderName = HeaderName::from_static(challenge::HEADER);

/// The route's own rate limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Token requests per browser address (IPv6: per /64).
    pub per_ip: Rate,
    /// Token requests per identity.
    pub per_identity: Rate,
    /// New identities (visitors without a cookie) per browser address (IPv6:
    /// per /64): each one creates a Ringside customer.
    pub new_visitors_per_ip: Rate,
    /// New visitors per IPv6 /56 (a site's allocation).
    pub new_visitors_per_56: Rate,
    /// New visitors per IPv6 /48 (a tunnel broker's or a provider's block).
    pub new_visitors_per_48: Rate,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_ip: Rate::new(120, 60),
            per_identity: Rate::new(30, 10),
            new_visitors_per_ip: Rate::new(20, 20),
            new_visitors_per_56: Rate::new(60, 60),
            new_visitors_per_48: Rate::new(200, 200),
        }
    }
}

impl Limits {
    /// No limits (benchmarks, or a host that limits in front of the mint).
    pub const OFF: Limits = Limits {
        per_ip: Rate::OFF,
        per_identity: Rate::OFF,
        new_visitors_per_ip: Rate::OFF,
        new_visitors_per_56: Rate::OFF,
        new_visitors_per_48: Rate::OFF,
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
    /// The global ceilings on new visitors.
    pub ceilings: Ceilings,
    /// The proof-of-work new visitors solve first, when on.
    pub challenge: Option<Arc<Challenges>>,
    /// The state replicas share (`--redis-url`), when there are several.
    pub store: Option<Arc<Store>>,
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
            ceilings: Ceilings::default(),
            challenge: None,
            store: None,
            threads: false,
            feedback: false,
        }
    }
}

/// `content-type, authorization, x-csrf-token, x-ringside-stale-token,
/// x-ringside-challenge`.
pub fn default_cors_headers() -> Vec<HeaderName> {
    vec![
        header::CONTENT_TYPE,
        header::AUTHORIZATION,
        HeaderName::from_static("x-csrf-token"),
        STALE_TOKEN_HEADER,
        CHALLENGE_HEADER,
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
    limits: Limits,
    threads: bool,
    feedback: bool,
    ip_limit: Limiter<IpAddr>,
    identity_limit: Limiter<String>,
    new_visitor_limit: Limiter<IpAddr>,
    new_visitor_56_limit: Limiter<IpAddr>,
    new_visitor_48_limit: Limiter<IpAddr>,
    ceilings: Ceilings,
    local_ceilings: LocalCeilings,
    challenge: Option<Arc<Challenges>>,
    solved: Mutex<lru::LruCache<String, i64>>,
    tokens: TokenCache,
    customers: KnownCustomers,
    store: Option<Arc<Store>>,
    upstream_deadline: Duration,
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
            options.upstream.clone(),
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
        let upstream = options.upstream.clone();
        // Long enough for a mint with every retry: the others wait that long
        // for the replica holding the lock.
        let upstream_deadline = upstream.timeout.saturating_mul(upstream.retries + 1)
            + upstream.backoff_max.saturating_mul(upstream.retries)
            + Duration::from_secs(1);
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
                limits: options.limits,
                threads: options.threads,
                feedback: options.feedback,
                ip_limit: Limiter::new(options.limits.per_ip, capacity, clock.clone()),
                identity_limit: Limiter::new(options.limits.per_identity, capacity, clock.clone()),
                new_visitor_limit: Limiter::new(
                    options.limits.new_visitors_per_ip,
                    capacity,
                    clock.clone(),
                ),
                new_visitor_56_limit: Limiter::new(
                    options.limits.new_visitors_per_56,
                    capacity,
                    clock.clone(),
                ),
                new_visitor_48_limit: Limiter::new(
                    options.limits.new_visitors_per_48,
                    capacity,
                    clock.clone(),
                ),
                ceilings: options.ceilings,
                local_ceilings: LocalCeilings::default(),
                challenge: options.challenge,
                solved: Mutex::new(lru::LruCache::new(
                    NonZeroUsize::new(capacity.max(16)).expect("at least 16"),
                )),
                tokens: TokenCache::new(options.reuse_fraction, capacity),
                customers: KnownCustomers::new(capacity),
                store: options.store,
                upstream_deadline,
                clock,
                metrics,
            }),
        }
    }

    /// Gets ready before taking requests: fetches what the identity needs
    /// (a JWK set), reaches Redis. Failures are logged; the mint serves anyway.
    pub async fn start(&self) {
        self.inner.identity.start().await;
        if let Some(store) = &self.inner.store {
            if store.ping().await {
                tracing::info!(
                    "redis reachable: limits, ceilings and caches are shared by the replicas"
                );
            } else {
                tracing::warn!(
                    "redis unreachable at start: serving with this replica's own limits until it is"
                );
            }
        }
    }

    /// Whether Redis answers (`None` without `--redis-url`).
    pub fn redis_up(&self) -> Option<bool> {
        self.inner
            .store
            .as_ref()
            .map(|store| store.health().is_up())
    }

    /// The counters behind `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// `/metrics` as text.
    pub fn render_metrics(&self) -> String {
        let redis = self
            .inner
            .store
            .as_ref()
            .map(|store| (store.health().is_up(), store.health().errors()));
        self.inner.metrics.render(self.inner.tokens.len(), redis)
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
        self.limit(&[(LimitKind::Ip, LimitKey::Addr(address))])
            .await
            .map_err(fail)?;
        let caller = Caller {
            parts,
            origin: &inner.allowed_origins[origin],
            ip,
        };
        let identity: Identity = inner.identity.identify(caller).await.map_err(fail)?;
        if identity.is_new {
            self.admit_new_visitor(parts, ip, &identity)
                .await
                .map_err(fail)?;
        }
        self.limit(&[(
            LimitKind::Identity,
            LimitKey::Name(identity.external_id.clone()),
        )])
        .await
        .map_err(fail)?;

        let key = TokenKey {
            external_id: identity.external_id.clone(),
            origin,
            ip: inner.bind_ip.then_some(ip),
        };
        let slot = Store::token_slot(&key.external_id, &inner.allowed_origins[origin], key.ip);
        let stale = parts
            .headers
            .get(STALE_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim);
        // With Redis, reusable tokens are the replicas' shared ones.
        let fraction = inner.tokens.reuse_fraction();
        if let Some(store) = &inner.store
            && fraction > 0.0
            && let Some(Some(shared)) = store.token_get(&slot, stale, fraction).await
        {
            return Ok(Issued {
                origin,
                token: self.cached(shared),
                set_cookie: identity.set_cookie,
                outcome: Outcome::Reused,
            });
        }
        let reuse_local = inner
            .store
            .as_ref()
            .is_none_or(|store| !store.health().is_up());
        let now = inner.clock.monotonic();
        let lookup = inner
            .tokens
            .get_or_start(&key, now, stale, reuse_local, |id| {
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
                    let result = mint.fetch(&key, &slot, customer, is_new).await;
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

    /// What a new visitor goes through before it becomes a customer: the
    /// proof-of-work (when on), the limits per /64, /56 and /48, then the
    /// global ceilings (last: only a visitor that passed everything else
    /// counts against them).
    async fn admit_new_visitor(
        &self,
        parts: &axum::http::request::Parts,
        ip: IpAddr,
        identity: &Identity,
    ) -> Result<(), MintError> {
        let inner = &self.inner;
        if let Some(challenges) = &inner.challenge {
            self.check_challenge(challenges, parts).await?;
        }
        let mut checks = vec![(LimitKind::NewVisitor, LimitKey::Addr(address_key(ip)))];
        if let Some(block) = v6_block(ip, 56) {
            checks.push((LimitKind::NewVisitor56, LimitKey::Addr(block)));
        }
        if let Some(block) = v6_block(ip, 48) {
            checks.push((LimitKind::NewVisitor48, LimitKey::Addr(block)));
        }
        self.limit(&checks).await?;
        if inner.ceilings.is_on() {
            let unix = inner.clock.unix();
            let budget = ceiling::micros(identity.budget_usd.unwrap_or(0.0));
            let counted = match &inner.store {
                Some(store) => {
                    store
                        .ceiling(
                            unix,
                            inner.ceilings.new_visitors_per_hour,
                            inner.ceilings.daily_micros(),
                            budget,
                        )
                        .await
                }
                None => None,
            };
            let counted = counted
                .unwrap_or_else(|| inner.local_ceilings.admit(&inner.ceilings, unix, budget));
            if let Err(reached) = counted {
                let label = ceiling::label(reached);
                inner.metrics.capacity_reached(label);
                tracing::warn!(
                    ceiling = label,
                    "visitor capacity reached: no new visitor customers until the ceiling's window ends (known visitors are served)"
                );
                return Err(MintError::CapacityReached {
                    ceiling: label,
                    retry_after: ceiling::retry_after(reached, unix),
                });
            }
        }
        Ok(())
    }

    /// A new visitor's proof-of-work: a valid, unexpired solution, used once.
    async fn check_challenge(
        &self,
        challenges: &Challenges,
        parts: &axum::http::request::Parts,
    ) -> Result<(), MintError> {
        let now = self.inner.clock.unix();
        let required = |why: &'static str| MintError::ChallengeRequired {
            challenge: Box::new(challenges.make(now)),
            why,
        };
        let mut values = parts.headers.get_all(CHALLENGE_HEADER).iter();
        let header = match (values.next(), values.next()) {
            (None, _) => return Err(required("none was sent")),
            (Some(value), None) => value
                .to_str()
                .map_err(|_| required("a malformed solution"))?,
            (Some(_), Some(_)) => return Err(required("two solutions were sent")),
        };
        let (solved, ttl) = challenges.check(header, now).map_err(|refused| {
            required(match refused {
                challenge::Refused::Malformed => "a malformed solution",
                challenge::Refused::Signature => "a challenge this mint did not make",
                challenge::Refused::Unsolved => "an unsolved challenge",
                challenge::Refused::Expired => "an expired challenge",
                challenge::Refused::Replayed => "a solution used already",
            })
        })?;
        let first = match &self.inner.store {
            Some(store) => store.claim_once("solved", &solved, ttl).await,
            None => None,
        };
        let first = first.unwrap_or_else(|| {
            let mut used = self.inner.solved.lock().unwrap_or_else(|e| e.into_inner());
            let fresh = used.get(&solved).is_none_or(|&until| until < now);
            if fresh {
                used.put(solved, now.saturating_add(ttl.as_secs() as i64));
            }
            fresh
        });
        if first {
            Ok(())
        } else {
            Err(required("a solution used already"))
        }
    }

    /// Counts a request against `checks` all at once, in Redis when there is
    /// one (shared by the replicas, atomic), else here.
    async fn limit(&self, checks: &[(LimitKind, LimitKey)]) -> Result<(), MintError> {
        let inner = &self.inner;
        let rate = |kind: LimitKind| match kind {
            LimitKind::Ip => inner.limits.per_ip,
            LimitKind::Identity => inner.limits.per_identity,
            LimitKind::NewVisitor => inner.limits.new_visitors_per_ip,
            LimitKind::NewVisitor56 => inner.limits.new_visitors_per_56,
            LimitKind::NewVisitor48 => inner.limits.new_visitors_per_48,
        };
        if let Some(store) = &inner.store {
            let named: Vec<(String, Rate)> = checks
                .iter()
                .map(|(kind, key)| (format!("{}:{key}", kind.as_str()), rate(*kind)))
                .collect();
            if let Some(result) = store.limit(&named).await {
                return result.map_err(|(index, wait)| self.limited(checks[index].0, wait));
            }
        }
        let peek = |kind: LimitKind, key: &LimitKey| match (kind, key) {
            (LimitKind::Identity, LimitKey::Name(name)) => inner.identity_limit.peek(name),
            (kind, LimitKey::Addr(ip)) => self.address_limiter(kind).peek(ip),
            _ => Ok(()),
        };
        // Peek at all, then count all: a refusal by one counts against none.
        for (kind, key) in checks {
            peek(*kind, key).map_err(|wait| self.limited(*kind, wait))?;
        }
        for (kind, key) in checks {
            match (kind, key) {
                (LimitKind::Identity, LimitKey::Name(name)) => inner.identity_limit.commit(name),
                (kind, LimitKey::Addr(ip)) => self.address_limiter(*kind).commit(ip),
                _ => {}
            }
        }
        Ok(())
    }

    fn address_limiter(&self, kind: LimitKind) -> &Limiter<IpAddr> {
        match kind {
            LimitKind::NewVisitor => &self.inner.new_visitor_limit,
            LimitKind::NewVisitor56 => &self.inner.new_visitor_56_limit,
            LimitKind::NewVisitor48 => &self.inner.new_visitor_48_limit,
            _ => &self.inner.ip_limit,
        }
    }

    fn limited(&self, kind: LimitKind, wait: Duration) -> MintError {
        self.inner.metrics.rate_limited(kind);
        MintError::RateLimited {
            scope: kind.as_str(),
            retry_after: wait,
        }
    }

    /// A token from Redis, as the response needs it.
    fn cached(&self, shared: store::SharedToken) -> CachedToken {
        let now = self.inner.clock.monotonic();
        CachedToken {
            token: shared.token.into(),
            jti: shared.jti.map(Into::into),
            expires_at: shared.expires_at,
            minted_at: now,
            received_at: now,
            lifetime: shared.expires_in,
        }
    }

    /// The token of `key`: with Redis, one replica at a time mints it (the
    /// others wait for its token, so N replicas make one upstream call), and
    /// it is kept there for all; without (or while Redis is down), here.
    async fn fetch(
        &self,
        key: &TokenKey,
        slot: &str,
        customer: CreateCustomer,
        is_new: bool,
    ) -> Result<CachedToken, MintError> {
        let inner = &self.inner;
        let Some(store) = &inner.store else {
            return self.fetch_upstream(key, customer, is_new).await;
        };
        let fraction = inner.tokens.reuse_fraction();
        let started = std::time::Instant::now();
        loop {
            match store.lock(slot, inner.upstream_deadline).await {
                Some(Some(lock)) => {
                    let result = self.fetch_upstream(key, customer, is_new).await;
                    if let Ok(token) = &result {
                        let window = token
                            .lifetime
                            .mul_f64(fraction)
                            .saturating_sub(token.received_at.saturating_sub(token.minted_at));
                        store
                            .token_put(
                                slot,
                                &token.token,
                                token.jti.as_deref(),
                                token.expires_at,
                                token.lifetime,
                                window,
                            )
                            .await;
                    }
                    store.unlock(lock).await;
                    return result;
                }
                // Another replica is minting this very token: wait for it.
                Some(None) if started.elapsed() < inner.upstream_deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if fraction > 0.0
                        && let Some(Some(shared)) = store.token_get(slot, None, fraction).await
                    {
                        return Ok(self.cached(shared));
                    }
                }
                // Redis down, or the other replica never finished.
                _ => return self.fetch_upstream(key, customer, is_new).await,
            }
        }
    }

    /// Whether the customer was upserted already (by any replica, with Redis).
    async fn customer_known(&self, external_id: &str) -> bool {
        if let Some(store) = &self.inner.store
            && let Some(known) = store.customer_known(external_id).await
        {
            return known;
        }
        self.inner.customers.contains(external_id)
    }

    async fn customer_upserted(&self, external_id: &str) {
        self.inner.customers.insert(external_id);
        if let Some(store) = &self.inner.store {
            store.customer_add(external_id).await;
        }
    }

    /// The upstream part: upsert the customer unless known, then mint. If
    /// Ringside answers the mint with 404 for a customer we thought known
    /// (it was removed upstream, or the mock was reset), that answer says no
    /// token was made: the customer is upserted and the mint sent once more.
    async fn fetch_upstream(
        &self,
        key: &TokenKey,
        customer: CreateCustomer,
        is_new: bool,
    ) -> Result<CachedToken, MintError> {
        let inner = &self.inner;
        let known = !is_new && self.customer_known(&customer.external_id).await;
        if known {
            inner.metrics.customer_cache_hit();
        } else {
            inner.ringside.upsert_customer(&customer).await?;
            self.customer_upserted(&customer.external_id).await;
        }
        match self.mint_once(key).await {
            Err(MintError::Upstream { status: 404, .. }) if known => {
                inner.customers.remove(&customer.external_id);
                if let Some(store) = &inner.store {
                    store.customer_forget(&customer.external_id).await;
                }
                inner.ringside.upsert_customer(&customer).await?;
                self.customer_upserted(&customer.external_id).await;
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
        let token = minted.token.unwrap_or_default();
        let jti = jti_of(&token).unwrap_or(minted.id);
        Ok(CachedToken {
            token: token.into(),
            jti: Some(jti.into()),
            expires_at: minted.expires_at,
            minted_at: started,
            received_at: inner.clock.monotonic(),
            lifetime: Duration::from_secs(minted.expires_in),
        })
    }
}

/// What a limit counts: an address (or an IPv6 block), or a name.
#[derive(Debug, Clone)]
enum LimitKey {
    Addr(IpAddr),
    Name(String),
}

impl std::fmt::Display for LimitKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LimitKey::Addr(ip) => write!(f, "{ip}"),
            LimitKey::Name(name) => f.write_str(name),
        }
    }
}

/// The `jti` claim of a Client Token (read, not verified: Ringside just
/// made it), which a widget may name as stale instead of the whole token.
fn jti_of(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims.get("jti")?.as_str().map(str::to_string)
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
/// Ringside, so an upstream outage does not take the mint out of rotation;
/// with `--redis-url`, it says when Redis is unreachable) and
/// `GET /metrics` (Prometheus text format).
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
    let mut app = router(mint.clone()).route("/healthz", get(healthz).with_state(mint.clone()));
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

/// `ok` while the process serves (it is up, whatever Redis does: a
/// replica without Redis still serves, with its own limits, and says so).
async fn healthz(State(mint): State<Mint>) -> Response {
    let text = match mint.redis_up() {
        Some(false) => "ok: redis unreachable, limits and caches are this replica's own\n",
        _ => "ok\n",
    };
    ([(header::CACHE_CONTROL, "no-store")], text).into_response()
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
        MintError::CapacityReached { .. } => Outcome::CapacityReached,
        MintError::ChallengeRequired { .. } => Outcome::ChallengeRequired,
    }
}
