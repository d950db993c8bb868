//! Every refusal of the mint route, as the same JSON error body Ringside uses,
//! so the widget reads one shape whoever answered. Upstream details go to the
//! operator's log (through [`ErrorDetail`], logged by the request middleware),
//! never to the browser.

use std::time::Duration;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ringside_wire::error::{ApiError, ErrorBody, code, kind};

use crate::challenge::Challenge;

/// The `error.code`s the mint itself answers with (besides the contract's
/// `rate_limit_exceeded` and `invalid_request`).
pub mod codes {
    /// 403: no Origin, or one this host does not serve.
    pub const ORIGIN_NOT_ALLOWED: &str = "origin_not_allowed";
    /// 401: no valid identity (no or a bad session token).
    pub const UNAUTHENTICATED: &str = "unauthenticated";
    /// 502: Ringside answered, but not with a token.
    pub const UPSTREAM_ERROR: &str = "upstream_error";
    /// 503: Ringside could not be reached in time.
    pub const UPSTREAM_UNAVAILABLE: &str = "upstream_unavailable";
    /// 500: the mint itself failed.
    pub const INTERNAL_ERROR: &str = "internal_error";
    /// 405: the token route called with another method than POST or OPTIONS.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// 503: a global ceiling on new visitors is reached (known visitors
    /// are still served).
    pub const VISITOR_CAPACITY_REACHED: &str = "visitor_capacity_reached";
    /// 401: a new visitor must solve the proof-of-work in `challenge` first.
    pub const CHALLENGE_REQUIRED: &str = "challenge_required";
}

/// Why a token was not minted.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MintError {
    /// 403 `origin_not_allowed`: the request's Origin is not one this host serves.
    #[error("the Origin `{0}` is not allowed to get chat tokens")]
    OriginNotAllowed(String),
    /// 403 `origin_not_allowed`: no (or more than one) Origin header.
    #[error("an Origin header is required")]
    OriginMissing,
    /// 401 `unauthenticated`: the caller has no valid identity. The reason is
    /// a fixed phrase, never text from the request.
    #[error("no valid identity: {0}")]
    Unauthenticated(&'static str),
    /// 400 `invalid_request`: a trusted proxy sent an `X-Forwarded-For` whose
    /// client hop is not an address.
    #[error("the X-Forwarded-For header of a trusted proxy is malformed")]
    BadForwardedFor,
    /// 429 `rate_limit_exceeded`, with `Retry-After`: too many token requests
    /// from this address (`scope` = `ip`, `new_visitor`) or identity (`identity`).
    #[error("too many token requests (per {scope}); retry in {} s", retry_after_secs(*.retry_after))]
    RateLimited {
        /// Which limit refused.
        scope: &'static str,
        /// How long until a request would be allowed.
        retry_after: Duration,
    },
    /// 502 `upstream_error`: Ringside answered, but not with what we asked for.
    #[error("Ringside refused the request ({status} {code})")]
    Upstream {
        /// Ringside's status.
        status: u16,
        /// Ringside's `error.code` (sanitised), or `unknown`.
        code: String,
    },
    /// 503 `upstream_unavailable`: Ringside could not be reached in time.
    #[error("Ringside is unreachable: {0}")]
    Unavailable(String),
    /// 500 `internal_error`: a bug or a crash in the mint.
    #[error("internal error: {0}")]
    Internal(String),
    /// 503 `visitor_capacity_reached`, with `Retry-After`: a global ceiling
    /// on new visitors (`hourly_visitors`, `daily_budget`) is reached.
    #[error("no new visitors for now ({ceiling} ceiling reached); retry in {} s", retry_after_secs(*.retry_after))]
    CapacityReached {
        /// Which ceiling.
        ceiling: &'static str,
        /// Until the ceiling's hour or day is over.
        retry_after: Duration,
    },
    /// 401 `challenge_required`: a new visitor must solve the proof-of-work
    /// challenge sent along (`why` says what was wrong with a solution sent).
    #[error("a new visitor must solve the challenge first ({why})")]
    ChallengeRequired {
        /// The challenge to solve.
        challenge: Box<Challenge>,
        /// Why: none sent, or what was wrong with it.
        why: &'static str,
    },
}

/// The operator-facing detail of an error response, as a response extension:
/// the request middleware logs it beside the request id.
#[derive(Debug, Clone)]
pub struct ErrorDetail(pub String);

fn retry_after_secs(after: Duration) -> u64 {
    after.as_secs() + u64::from(after.subsec_nanos() > 0)
}

impl MintError {
    /// The HTTP status of this refusal.
    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// The `error.code` of this refusal.
    pub fn code(&self) -> &'static str {
        self.parts().2
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            MintError::OriginNotAllowed(_) | MintError::OriginMissing => (
                StatusCode::FORBIDDEN,
                kind::PERMISSION,
                codes::ORIGIN_NOT_ALLOWED,
            ),
            MintError::Unauthenticated(_) => (
                StatusCode::UNAUTHORIZED,
                kind::AUTHENTICATION,
                codes::UNAUTHENTICATED,
            ),
            MintError::BadForwardedFor => (
                StatusCode::BAD_REQUEST,
                kind::INVALID_REQUEST,
                code::INVALID_REQUEST,
            ),
            MintError::RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                kind::RATE_LIMIT,
                code::RATE_LIMIT_EXCEEDED,
            ),
            MintError::Upstream { .. } => {
                (StatusCode::BAD_GATEWAY, kind::API, codes::UPSTREAM_ERROR)
            }
            MintError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                kind::API,
                codes::UPSTREAM_UNAVAILABLE,
            ),
            MintError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                kind::API,
                codes::INTERNAL_ERROR,
            ),
            MintError::CapacityReached { .. } => (
                StatusCode::SERVICE_UNAVAILABLE,
                kind::API,
                codes::VISITOR_CAPACITY_REACHED,
            ),
            MintError::ChallengeRequired { .. } => (
                StatusCode::UNAUTHORIZED,
                kind::AUTHENTICATION,
                codes::CHALLENGE_REQUIRED,
            ),
        }
    }
}

/// Any method but `POST` and `OPTIONS` on the token route: 405 in the same
/// JSON shape as every other refusal, with `Allow`. (Found by the
/// `mint_request` fuzz target: axum's default 405 has an empty body.)
pub fn method_not_allowed() -> Response {
    let body = ErrorBody {
        error: ApiError {
            kind: kind::INVALID_REQUEST.into(),
            code: codes::METHOD_NOT_ALLOWED.into(),
            message: "the chat-token route takes POST (and its CORS preflight, OPTIONS)".into(),
            param: None,
        },
    };
    let mut response = (StatusCode::METHOD_NOT_ALLOWED, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

impl IntoResponse for MintError {
    fn into_response(self) -> Response {
        let (status, kind, code) = self.parts();
        let message = match &self {
            MintError::Upstream { .. } | MintError::Unavailable(_) => {
                "the chat service is unavailable right now; try again shortly".to_string()
            }
            MintError::Internal(_) => "the token service failed; try again shortly".to_string(),
            _ => self.to_string(),
        };
        let body = ErrorBody {
            error: ApiError {
                kind: kind.into(),
                code: code.into(),
                message,
                param: match self {
                    MintError::BadForwardedFor => Some("x-forwarded-for".into()),
                    _ => None,
                },
            },
        };
        let mut response = match &self {
            // The contract's error body, and the challenge beside it.
            MintError::ChallengeRequired { challenge, .. } => {
                let mut value = serde_json::to_value(&body).expect("an error serialises");
                value["challenge"] =
                    serde_json::to_value(challenge).expect("a challenge serialises");
                (status, Json(value)).into_response()
            }
            _ => (status, Json(body)).into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match &self {
            MintError::RateLimited { retry_after, .. }
            | MintError::CapacityReached { retry_after, .. } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after_secs(*retry_after).max(1)),
                );
            }
            MintError::Unavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            }
            _ => {}
        }
        response
            .extensions_mut()
            .insert(ErrorDetail(self.to_string()));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds_and_is_at_least_one() {
        let response = MintError::RateLimited {
            scope: "ip",
            retry_after: Duration::from_millis(2_100),
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        let response = MintError::RateLimited {
            scope: "ip",
            retry_after: Duration::ZERO,
        }
        .into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[tokio::test]
    async fn another_method_on_the_route_is_a_405_in_the_contract_shape() {
        let response = method_not_allowed();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(response.headers()[header::ALLOW], "POST, OPTIONS");
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let body: ErrorBody = serde_json::from_slice(&body).expect("the contract's error body");
        assert_eq!(body.error.code, codes::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn upstream_failures_keep_their_details_out_of_the_body() {
        let error = MintError::Unavailable("connect to http://10.0.0.1:443 failed".into());
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let detail = response
            .extensions()
            .get::<ErrorDetail>()
            .unwrap()
            .0
            .clone();
        assert!(
            detail.contains("10.0.0.1"),
            "the operator's log gets the detail"
        );
    }
}
