//! Every refusal the mock can give, each mapped to the contract's status and
//! JSON body. Handlers return `Result<_, ApiError>`; nothing else builds error
//! responses, so the shape cannot drift.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ringside_wire::error::{ErrorBody, code, kind};

/// Why a Client Token was refused, in the contract's check order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientTokenError {
    /// 401 `invalid_client_token`: missing, garbled, bad signature, wrong alg.
    #[error("the Client Token is invalid: {0}")]
    Invalid(&'static str),
    /// 401 `client_token_expired`.
    #[error("the Client Token has expired; mint a new one")]
    Expired,
    /// 401 `client_token_revoked`.
    #[error("the Client Token was revoked")]
    Revoked,
    /// 403 `client_token_endpoint_not_allowed`.
    #[error("Client Tokens may not call this endpoint")]
    EndpointNotAllowed,
    /// 403 `client_token_scope_denied`.
    #[error("the Client Token's scope does not include `{0}`")]
    ScopeDenied(&'static str),
    /// 403 `client_token_origin_mismatch`.
    #[error("the request's Origin is missing or not one the Client Token allows")]
    OriginMismatch,
    /// 403 `client_token_ip_mismatch`.
    #[error("the Client Token is bound to another IP address")]
    IpMismatch,
    /// 403 `client_token_customer_mismatch`.
    #[error("`user` must be the customer the Client Token is pinned to, or absent")]
    CustomerMismatch,
}

/// An error answer of the mock.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `invalid_request`, naming the field at fault.
    #[error("{message}")]
    InvalidRequest {
        /// The request field at fault.
        param: Option<String>,
        /// What is wrong with it.
        message: String,
    },
    /// 404 `not_found`.
    #[error("{0}")]
    NotFound(String),
    /// 413 `payload_too_large`.
    #[error("the request body is over 1 MiB")]
    PayloadTooLarge,
    /// 401 `invalid_api_key`.
    #[error("a valid API key is required: `Authorization: Bearer sk_…`")]
    InvalidApiKey,
    /// 401/403, one of the Client-Token checks.
    #[error(transparent)]
    ClientToken(#[from] ClientTokenError),
    /// 409 `customer_exists`.
    #[error(
        "a customer with external_id `{0}` exists; send an Idempotency-Key to make creation idempotent"
    )]
    CustomerExists(String),
    /// 422 `idempotency_key_reused`.
    #[error("this Idempotency-Key was used with a different request body")]
    IdempotencyKeyReused,
    /// 409 `idempotency_request_in_progress`.
    #[error("a request with this Idempotency-Key is still in progress")]
    IdempotencyInProgress,
    /// 500: the mock broke, or a test asked it to.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming `param`.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::InvalidRequest {
            param: Some(param.into()),
            message: message.into(),
        }
    }

    /// The status, `error.type` and `error.code` of this error.
    pub fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        use ClientTokenError as C;
        match self {
            ApiError::InvalidRequest { .. } => (
                StatusCode::BAD_REQUEST,
                kind::INVALID_REQUEST,
                code::INVALID_REQUEST,
            ),
            ApiError::NotFound(_) => (
                StatusCode::NOT_FOUND,
                kind::INVALID_REQUEST,
                code::NOT_FOUND,
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                kind::INVALID_REQUEST,
                code::PAYLOAD_TOO_LARGE,
            ),
            ApiError::InvalidApiKey => (
                StatusCode::UNAUTHORIZED,
                kind::AUTHENTICATION,
                code::INVALID_API_KEY,
            ),
            ApiError::ClientToken(e) => match e {
                C::Invalid(_) => (
                    StatusCode::UNAUTHORIZED,
                    kind::AUTHENTICATION,
                    code::INVALID_CLIENT_TOKEN,
                ),
                C::Expired => (
                    StatusCode::UNAUTHORIZED,
                    kind::AUTHENTICATION,
                    code::CLIENT_TOKEN_EXPIRED,
                ),
                C::Revoked => (
                    StatusCode::UNAUTHORIZED,
                    kind::AUTHENTICATION,
                    code::CLIENT_TOKEN_REVOKED,
                ),
                C::EndpointNotAllowed => (
                    StatusCode::FORBIDDEN,
                    kind::PERMISSION,
                    code::CLIENT_TOKEN_ENDPOINT_NOT_ALLOWED,
                ),
                C::ScopeDenied(_) => (
                    StatusCode::FORBIDDEN,
                    kind::PERMISSION,
                    code::CLIENT_TOKEN_SCOPE_DENIED,
                ),
                C::OriginMismatch => (
                    StatusCode::FORBIDDEN,
                    kind::PERMISSION,
                    code::CLIENT_TOKEN_ORIGIN_MISMATCH,
                ),
                C::IpMismatch => (
                    StatusCode::FORBIDDEN,
                    kind::PERMISSION,
                    code::CLIENT_TOKEN_IP_MISMATCH,
                ),
                C::CustomerMismatch => (
                    StatusCode::FORBIDDEN,
                    kind::PERMISSION,
                    code::CLIENT_TOKEN_CUSTOMER_MISMATCH,
                ),
            },
            ApiError::CustomerExists(_) => (
                StatusCode::CONFLICT,
                kind::INVALID_REQUEST,
                code::CUSTOMER_EXISTS,
            ),
            ApiError::IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                kind::INVALID_REQUEST,
                code::IDEMPOTENCY_KEY_REUSED,
            ),
            ApiError::IdempotencyInProgress => (
                StatusCode::CONFLICT,
                kind::INVALID_REQUEST,
                code::IDEMPOTENCY_REQUEST_IN_PROGRESS,
            ),
            ApiError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                kind::API,
                "internal_error",
            ),
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        let (_, kind, code) = self.parts();
        ErrorBody {
            error: ringside_wire::error::ApiError {
                kind: kind.into(),
                code: code.into(),
                message: self.to_string(),
                param: match self {
                    ApiError::InvalidRequest { param, .. } => param.clone(),
                    _ => None,
                },
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, _, _) = self.parts();
        let mut response = (status, Json(self.body())).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if matches!(self, ApiError::ClientToken(_)) {
                "Client realm=\"ringside\""
            } else {
                "Bearer realm=\"ringside\""
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}
