//! The mock Ringside: an axum server that implements the Ringside API
//! contract (`../shared/ringside-api.md`) on loopback, with no key and no
//! network. It is the backend of every test and the demo's default.
//!
//! # Layout
//! - [`config`]: the command-line flags, and the [`Settings`] and
//!   [`Options`] they make.
//! - [`state`]: what the mock remembers, as plain data (it depends on no
//!   other module); [`AppState`] below holds it behind one lock, with the
//!   signing key, the clock and the request log.
//! - [`auth`]: API keys (and their scope) and Client Tokens, checked in the
//!   contract's order; [`jwt`] signs and verifies the tokens (RFC 8725).
//! - [`billing`]: the price table, the rate limit, the wallet and the budget;
//!   [`rate`]: the `x-ratelimit-*` headers.
//! - The routes: [`customers`] (and wallets), [`client_tokens`], [`chat`],
//!   [`embeddings`], [`moderations`], [`threads`]; [`answer`] makes the
//!   deterministic completions, [`demo`] the demo's answers and their tokens.
//! - [`controls`]: the test controls under `/__mock/…` (`--controls`) and
//!   what they set (scripted completions, pacing), and [`log`], the request
//!   log they read.
//! - [`cors`]: the contract's CORS; [`error`]: every refusal and its JSON;
//!   [`json`]: the extractors that name the field at fault.
//! - [`clock`]: real time plus an offset tests can move.
//! - [`serve`]: the accept loop, with header and body timeouts.

pub mod answer;
pub mod auth;
pub mod billing;
pub mod chat;
pub mod client_tokens;
pub mod clock;
pub mod config;
pub mod controls;
pub mod cors;
pub mod customers;
pub mod demo;
pub mod embeddings;
pub mod error;
pub mod json;
pub mod jwt;
pub mod log;
pub mod moderations;
pub mod rate;
pub mod serve;
pub mod state;
pub mod threads;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::{Json, Router, extract::State, http::Uri, middleware, routing::get};
use tokio::net::{TcpListener, TcpSocket};

use clock::Clock;
pub use config::{Config, Options};
use controls::Controls;
use error::ApiError;
use jwt::TokenSigner;
use log::RequestLog;
pub use state::Settings;
use state::Store;

/// Everything a handler needs; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The flags that set the defaults.
    pub settings: Arc<Settings>,
    /// Keys and switches.
    pub options: Arc<Options>,
    /// Signs and verifies Client Tokens.
    pub signer: Arc<TokenSigner>,
    /// The (movable) clock.
    pub clock: Arc<Clock>,
    /// Every `/v1` request, when the controls are on.
    pub log: Arc<RequestLog>,
    store: Arc<Mutex<Store>>,
    controls: Arc<Mutex<Controls>>,
}

impl AppState {
    /// Fresh state with a new signing key, no second key and no controls.
    pub fn new(settings: Settings, issuer: &str) -> Self {
        Self::with_options(settings, Options::default(), issuer)
    }

    /// Fresh state with a new signing key.
    pub fn with_options(settings: Settings, options: Options, issuer: &str) -> Self {
        let controls = Controls::new(&settings, &options);
        if options.answer_mode == answer::AnswerMode::Demo {
            demo::tokens::warm_up();
        }
        AppState {
            settings: Arc::new(settings),
            options: Arc::new(options),
            signer: Arc::new(TokenSigner::generate(issuer)),
            clock: Arc::new(Clock::default()),
            log: Arc::new(RequestLog::default()),
            store: Arc::new(Mutex::new(Store::default())),
            controls: Arc::new(Mutex::new(controls)),
        }
    }

    /// Locks the store. A panic while it was held (a bug) does not wedge the
    /// mock: the data is plain maps, still consistent enough to serve tests.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Locks what the test controls set. Never held with [`Self::store`].
    pub fn controls(&self) -> MutexGuard<'_, Controls> {
        self.controls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets everything but the signing key, and puts the clock back to
    /// real time (`POST /__mock/reset`).
    pub fn reset(&self) {
        *self.store() = Store::default();
        *self.controls() = Controls::new(&self.settings, &self.options);
        self.clock.reset();
        self.log.clear();
    }
}

/// How long open connections (a stalled stream, say) may run on after the
/// shutdown signal before the server stops anyway.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The connection backlog of [`bind`]: room for a burst of thousands of
/// connections (the benchmark opens 5000 at once).
pub const BACKLOG: u32 = 4096;

/// The whole API as a router over `state`; `/__mock/…` only if
/// `state.options.controls`.
pub fn app(state: AppState) -> Router {
    let v1 = Router::new()
        .merge(customers::router())
        .merge(client_tokens::router())
        .merge(chat::router())
        .merge(embeddings::router())
        .merge(moderations::router())
        .merge(threads::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.options.controls.then(|| state.log.clone()),
            log::record,
        ))
        .layer(middleware::from_fn(cors::cors));
    let mut root = Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .nest("/v1", v1);
    if state.options.controls {
        let controls = controls::router()
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .layer(middleware::from_fn(cors::cors));
        root = root.nest("/__mock", controls);
    }
    let body_timeout = state.options.timeouts.body;
    root.fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            body_timeout,
            serve::body_deadline,
        ))
        .with_state(state)
}

async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.signer.jwks())
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed(uri.path().to_string())
}

/// Binds `addr` with a backlog of [`BACKLOG`] connections.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

/// Serves the mock on `listener` until `shutdown` completes, then lets open
/// connections finish for at most [`SHUTDOWN_GRACE`]. Slow clients are cut
/// off by `state.options.timeouts` (see [`serve`]).
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let timeouts = state.options.timeouts;
    serve::serve(listener, app(state), timeouts, shutdown, SHUTDOWN_GRACE).await
}
