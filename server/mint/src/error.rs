//! Every refusal of the mint route, as the same JSON error body Ringside uses,
//! so the widget reads one shape whoever answered.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use ringside_wire::error::{ApiError, ErrorBody, kind};

/// Why a token was not minted.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// 403 `origin_not_allowed`: the request's Origin is not one this host serves.
    #[error("the Origin `{0}` is not allowed to get chat tokens")]
    OriginNotAllowed(String),
    /// 403 `origin_not_allowed`: no (or more than one) Origin header.
    #[error("an Origin header is required")]
    OriginMissing,
    /// 502 `upstream_error`: Ringside answered, but not with what we asked for.
    #[error("Ringside refused the request ({status} {code})")]
    Upstream {
        /// Ringside's status.
        status: u16,
        /// Ringside's `error.code`, or `unknown`.
        code: String,
    },
    /// 503 `upstream_unavailable`: Ringside could not be reached in time.
    #[error("Ringside is unreachable: {0}")]
    Unavailable(String),
}

impl MintError {
    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            MintError::OriginNotAllowed(_) | MintError::OriginMissing => (
                StatusCode::FORBIDDEN,
                kind::PERMISSION,
                "origin_not_allowed",
            ),
            MintError::Upstream { .. } => (StatusCode::BAD_GATEWAY, kind::API, "upstream_error"),
            MintError::Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                kind::API,
                "upstream_unavailable",
            ),
        }
    }
}

impl IntoResponse for MintError {
    fn into_response(self) -> Response {
        let (status, kind, code) = self.parts();
        // Upstream details are for the operator's log, not for the browser.
        let message = match &self {
            MintError::Upstream { .. } | MintError::Unavailable(_) => {
                tracing::warn!(error = %self, "minting failed upstream");
                "the chat service is unavailable right now; try again shortly".to_string()
            }
            _ => self.to_string(),
        };
        let body = ErrorBody {
            error: ApiError {
                kind: kind.into(),
                code: code.into(),
                message,
                param: None,
            },
        };
        let mut response = (status, Json(body)).into_response();
        response.headers_mut().insert(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        response
    }
}
