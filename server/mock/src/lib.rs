//! The mock Ringside: an axum server that implements the Ringside API
//! contract (`../shared/ringside-api.md`) on loopback, with no key and no
//! network. It is the backend of every test and the demo's default.
//!
//! # Layout
//! - [`config`]: the command-line flags.
//! - [`state`]: what the mock remembers, behind one lock.
//! - [`auth`]: Bearer keys and Client Tokens, checked in the contract's order;
//!   [`jwt`] signs and verifies the tokens (RFC 8725).
//! - [`customers`], [`client_tokens`], [`chat`]: the routes; [`answer`] makes
//!   the deterministic completions.
//! - [`cors`]: the contract's CORS; [`error`]: every refusal and its JSON;
//!   [`json`]: the body extractor that names the field at fault.
//! - [`clock`]: real time plus an offset tests can move.

pub mod answer;
pub mod auth;
pub mod chat;
pub mod client_tokens;
pub mod clock;
pub mod config;
pub mod cors;
pub mod customers;
pub mod error;
pub mod json;
pub mod jwt;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;

use axum::{
    Json, Router,
    extract::State,
    http::Uri,
    middleware,
    routing::{get, post},
};
use tokio::net::TcpListener;

pub use config::Config;
use error::ApiError;
pub use state::AppState;

/// The whole API as a router over `state`.
pub fn app(state: AppState) -> Router {
    let v1 = Router::new()
        .route("/customers", post(customers::create))
        .route("/customers/{id}", get(customers::get))
        .route("/customers/{id}/client_tokens", post(client_tokens::mint))
        .route("/chat/completions", post(chat::completions))
        .fallback(not_found)
        .layer(middleware::from_fn(cors::cors));
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .nest("/v1", v1)
        .fallback(not_found)
        .with_state(state)
}

async fn jwks(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(state.signer.jwks())
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route for {}", uri.path()))
}

/// Serves the mock on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
