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

/// Codes the mock uses beyond the contract's.
pub mod mock_code {
    /// A route that exists, called with a method it does not take.
    pub const METHOD_NOT_ALLOWED: &str = "method_not_allowed";
    /// The mock failed, or a test asked it to.
    pub const INTERNAL_ERROR: &str = "internal_error";
    /// A scripted stall that nobody ended: the mock gave up waiting.
    pub const UPSTREAM_TIMEOUT: &str = "upstream_timeout";
    /// The request body did not arrive in time.
    pub const REQUEST_TIMEOUT: &str = "request_timeout";
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
    /// 405 `method_not_allowed`.
    #[error("{0} does not take this method")]
    MethodNotAllowed(String),
    /// 413 `payload_too_large`.
    #[error("the request body is over 1 MiB")]
    PayloadTooLarge,
    /// 408 `request_timeout`: the body did not arrive in time.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// 401 `invalid_api_key`.
    #[error("a valid API key is required: `Authorization: Bearer sk_…`")]
    InvalidApiKey,
    /// 403 `insufficient_scope`: the API key lacks the scope the route needs.
    #[error("this API key lacks the scope `{0}`")]
    InsufficientScope(&'static str),
    /// 401/403, one of the Client-Token checks.
    #[error(transparent)]
    ClientToken(#[from] ClientTokenError),
    /// 429 `rate_limit_exceeded`, with `Retry-After` and the `x-ratelimit-*` headers.
    #[error(
        "the customer is over its rate limit of {limit} requests per minute; retry in {retry_after_secs} s"
    )]
    RateLimited {
        /// The customer's `rate_limit_rpm`.
        limit: u32,
        /// Whole seconds until a request would pass.
        retry_after_secs: u64,
        /// Milliseconds until the window frees a slot.
        reset_ms: i64,
    },
    /// 402 `customer_wallet_empty`.
    #[error("the customer's wallet is empty; top it up to continue")]
    WalletEmpty,
    /// 402 `customer_budget_exceeded`.
    #[error("the customer has spent its budget_usd")]
    BudgetExceeded,
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
    /// Any status a test scripted (`POST /__mock/script`, fault `status`).
    #[error("{message}")]
    Scripted {
        /// The status to answer.
        status: StatusCode,
        /// Its `error.code`.
        code: String,
        /// Its `error.message`.
        message: String,
        /// `Retry-After`, in seconds.
        retry_after: Option<u64>,
    },
    /// 504 `upstream_timeout`: a scripted stall of a non-streamed call ran out.
    #[error("the upstream model did not answer in time")]
    UpstreamTimeout,
    /// 500 `internal_error`: the mock broke.
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

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        use ClientTokenError as C;
        match self {
            ApiError::InvalidRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::InvalidApiKey => StatusCode::UNAUTHORIZED,
            ApiError::InsufficientScope(_) => StatusCode::FORBIDDEN,
            ApiError::ClientToken(C::Invalid(_) | C::Expired | C::Revoked) => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::ClientToken(_) => StatusCode::FORBIDDEN,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::WalletEmpty | ApiError::BudgetExceeded => StatusCode::PAYMENT_REQUIRED,
            ApiError::CustomerExists(_) | ApiError::IdempotencyInProgress => StatusCode::CONFLICT,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Scripted { status, .. } => *status,
            ApiError::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `error.type` of this error: its family, from its status.
    pub fn kind(&self) -> &'static str {
        kind_of(self.status())
    }

    /// The `error.code` of this error.
    pub fn code(&self) -> &str {
        use ClientTokenError as C;
        match self {
            ApiError::InvalidRequest { .. } => code::INVALID_REQUEST,
            ApiError::NotFound(_) => code::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => mock_code::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => code::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => mock_code::REQUEST_TIMEOUT,
            ApiError::InvalidApiKey => code::INVALID_API_KEY,
            ApiError::InsufficientScope(_) => code::INSUFFICIENT_SCOPE,
            ApiError::ClientToken(e) => match e {
                C::Invalid(_) => code::INVALID_CLIENT_TOKEN,
                C::Expired => code::CLIENT_TOKEN_EXPIRED,
                C::Revoked => code::CLIENT_TOKEN_REVOKED,
                C::EndpointNotAllowed => code::CLIENT_TOKEN_ENDPOINT_NOT_ALLOWED,
                C::ScopeDenied(_) => code::CLIENT_TOKEN_SCOPE_DENIED,
                C::OriginMismatch => code::CLIENT_TOKEN_ORIGIN_MISMATCH,
                C::IpMismatch => code::CLIENT_TOKEN_IP_MISMATCH,
                C::CustomerMismatch => code::CLIENT_TOKEN_CUSTOMER_MISMATCH,
            },
            ApiError::RateLimited { .. } => code::RATE_LIMIT_EXCEEDED,
            ApiError::WalletEmpty => code::CUSTOMER_WALLET_EMPTY,
            ApiError::BudgetExceeded => code::CUSTOMER_BUDGET_EXCEEDED,
            ApiError::CustomerExists(_) => code::CUSTOMER_EXISTS,
            ApiError::IdempotencyKeyReused => code::IDEMPOTENCY_KEY_REUSED,
            ApiError::IdempotencyInProgress => code::IDEMPOTENCY_REQUEST_IN_PROGRESS,
            ApiError::Scripted { code, .. } => code,
            ApiError::UpstreamTimeout => mock_code::UPSTREAM_TIMEOUT,
            ApiError::Internal(_) => mock_code::INTERNAL_ERROR,
        }
    }

    /// The status, `error.type` and `error.code` of this error.
    pub fn parts(&self) -> (StatusCode, &'static str, &str) {
        (self.status(), self.kind(), self.code())
    }

    /// The JSON body of this error.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: ringside_wire::error::ApiError {
                kind: self.kind().into(),
                code: self.code().into(),
                message: self.to_string(),
                param: match self {
                    ApiError::InvalidRequest { param, .. } => param.clone(),
                    _ => None,
                },
            },
        }
    }
}

/// The `error.type` that goes with a status.
pub fn kind_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => kind::AUTHENTICATION,
        402 => kind::BILLING,
        403 => kind::PERMISSION,
        429 => kind::RATE_LIMIT,
        400..=499 => kind::INVALID_REQUEST,
        _ => kind::API,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut response = (status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            let challenge = if matches!(self, ApiError::ClientToken(_)) {
                "Client realm=\"ringside\""
            } else {
                "Bearer realm=\"ringside\""
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        match self {
            ApiError::RateLimited {
                limit,
                retry_after_secs,
                reset_ms,
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
                crate::rate::RateInfo {
                    limit,
                    remaining: 0,
                    reset_ms,
                }
                .apply(headers);
            }
            ApiError::Scripted {
                retry_after: Some(secs),
                ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            _ => {}
        }
        response
    }
}
