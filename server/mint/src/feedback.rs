//! `POST /api/chat-feedback`: where a widget with `feedbackEndpoint` sends
//! the visitor's rating of an answer (thumbs up or down, then perhaps a
//! short reason for it, with the question and the answer and their ids).
//! The route logs each, for the operator, and counts them in `/metrics`
//! (`ringside_mint_feedback_total{rating}`, `…_feedback_reasons_total`); a
//! host that wants to keep them reads its logs or nests its own route.
//!
//! It checks the page's `Origin` as the token route does (other sites'
//! pages cannot post), answers the CORS preflight, limits each address
//! (30 a minute, 10 at once), and refuses bodies over 64 KiB or not of the
//! shape below with the contract's 400. Everything in it is the visitor's
//! or the model's text: it is logged as data (escaped by the log format),
//! cut to a few hundred characters, and never answered back.
//!
//! The binary mounts it with `--feedback`; in your own app, merge
//! [`router`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use axum::{
    Json, Router,
    body::Bytes,
    extract::{ConnectInfo, DefaultBodyLimit, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Response},
    routing::post,
};
use ringside_wire::error::{ApiError, ErrorBody, code, kind};
use serde::Deserialize;

use crate::Mint;
use crate::error::MintError;
use crate::limit::{Limiter, Rate, address_key};

/// The path the binary serves it at.
pub const ROUTE: &str = "/api/chat-feedback";

/// The largest body accepted.
const MAX_BODY: usize = 64 * 1024;

/// How much of each text the log line keeps, in characters.
const LOGGED: usize = 300;

/// What the widget posts: a rating, or the reason for one given earlier.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rating {
    /// `rating` (a new rating) or `reason` (why, for the rating beside it).
    #[serde(default)]
    kind: Kind,
    /// `up` or `down`.
    rating: Thumb,
    /// Why, in the visitor's words (may be empty).
    #[serde(default)]
    reason: String,
    /// The question.
    #[serde(default)]
    message: String,
    /// The answer rated.
    #[serde(default)]
    answer: String,
    /// The answer's id in the widget.
    #[serde(default)]
    message_id: String,
    /// The conversation's id (its thread's, with `persist: "server"`).
    #[serde(default)]
    conversation_id: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    #[default]
    Rating,
    Reason,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Thumb {
    Up,
    Down,
}

/// The ratings and reasons received, for `/metrics`.
#[derive(Debug, Default)]
pub struct Counts {
    up: AtomicU64,
    down: AtomicU64,
    reasons: AtomicU64,
}

impl Counts {
    /// Appends the `ringside_mint_feedback_total` family to `out`.
    pub fn render(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = write!(
            out,
            "# HELP ringside_mint_feedback_total Ratings of answers received at the feedback route.\n\
             # TYPE ringside_mint_feedback_total counter\n\
             ringside_mint_feedback_total{{rating=\"up\"}} {}\n\
             ringside_mint_feedback_total{{rating=\"down\"}} {}\n\
             # HELP ringside_mint_feedback_reasons_total Reasons given for ratings, received at the feedback route.\n\
             # TYPE ringside_mint_feedback_reasons_total counter\n\
             ringside_mint_feedback_reasons_total {}\n",
            self.up.load(Relaxed),
            self.down.load(Relaxed),
            self.reasons.load(Relaxed)
        );
    }
}

#[derive(Debug, Clone)]
struct Feedback {
    mint: Mint,
    limit: Arc<Limiter<IpAddr>>,
}

/// The feedback route (`POST`, and its CORS preflight) for `mint`, with
/// request ids and logs, like [`crate::router`]. Serve it with
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router<S>(mint: Mint) -> Router<S> {
    let limit = Limiter::new(Rate::new(30, 10), 10_000, mint.inner.clock.clone());
    let state = Feedback {
        limit: Arc::new(limit),
        mint,
    };
    Router::new()
        .route(ROUTE, post(receive).options(preflight))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(crate::observe::observe))
        .with_state(state)
}

async fn preflight(State(feedback): State<Feedback>, headers: HeaderMap) -> Response {
    crate::preflight(State(feedback.mint), headers).await
}

fn invalid(message: String) -> Response {
    let body = ErrorBody {
        error: ApiError {
            kind: kind::INVALID_REQUEST.into(),
            code: code::INVALID_REQUEST.into(),
            message,
            param: None,
        },
    };
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

fn cut(text: &str) -> String {
    text.chars().take(LOGGED).collect()
}

async fn receive(
    State(feedback): State<Feedback>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mint = &feedback.mint;
    let origin = match mint.allowed_origin(&headers) {
        Ok(origin) => origin,
        Err(error) => return error.into_response(),
    };
    let mut response = accept(&feedback, peer.ip(), &headers, &body);
    let out = response.headers_mut();
    out.insert(header::VARY, HeaderValue::from_static("origin"));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    crate::grant_cors(out, &mint.inner.allowed_origins[origin]);
    response
}

/// Checks, logs and counts one rating: 204, or why not.
fn accept(feedback: &Feedback, peer: IpAddr, headers: &HeaderMap, body: &[u8]) -> Response {
    let mint = &feedback.mint;
    let ip = match crate::client_ip::client_ip(peer, headers, &mint.inner.trusted_proxies) {
        Ok(ip) => ip,
        Err(error) => return error.into_response(),
    };
    if let Err(wait) = feedback.limit.check(&address_key(ip)) {
        return MintError::RateLimited {
            scope: "feedback",
            retry_after: wait,
        }
        .into_response();
    }
    let rating: Rating = match serde_json::from_slice(body) {
        Ok(rating) => rating,
        Err(e) => return invalid(format!("the feedback is not what the widget sends: {e}")),
    };
    let counts = &mint.inner.metrics.feedback;
    let (thumb, counter) = match rating.rating {
        Thumb::Up => ("up", &counts.up),
        Thumb::Down => ("down", &counts.down),
    };
    let kind = match rating.kind {
        Kind::Rating => "rating",
        Kind::Reason => "reason",
    };
    match rating.kind {
        Kind::Rating => counter.fetch_add(1, Relaxed),
        Kind::Reason => counts.reasons.fetch_add(1, Relaxed),
    };
    tracing::info!(
        kind,
        rating = thumb,
        reason = %cut(&rating.reason),
        question = %cut(&rating.message),
        answer = %cut(&rating.answer),
        message_id = %cut(&rating.message_id),
        conversation_id = %cut(&rating.conversation_id),
        "chat feedback"
    );
    StatusCode::NO_CONTENT.into_response()
}
