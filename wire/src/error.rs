//! The error body of every non-2xx Ringside answer, and the codes it carries.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ApiError,
}

/// What went wrong, for a program (`type`, `code`, `param`) and a person (`message`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ApiError {
    /// The family of the error, e.g. `invalid_request_error` (empty if a
    /// server left it out: the code says enough).
    #[cfg_attr(feature = "serde", serde(rename = "type", default))]
    pub kind: String,
    /// The precise reason, one of [`code`].
    pub code: String,
    /// A sentence for the developer (empty if a server left it out).
    #[cfg_attr(feature = "serde", serde(default))]
    pub message: String,
    /// The request field at fault, if one is.
    #[cfg_attr(feature = "serde", serde(default))]
    pub param: Option<String>,
}

impl ApiError {
    /// Reads the `error` object of a body or frame (without serde) as serde
    /// reads this type; `None` if it is not one. The tests hold the two equal.
    pub fn from_value(value: &crate::json::Value<'_>) -> Option<ApiError> {
        use crate::json::{Value, optional};
        let text = |v: &Value<'_>| v.as_str().map(str::to_string);
        let defaulted = |key| match value.get(key) {
            None => Some(String::new()),
            Some(v) => text(v),
        };
        Some(ApiError {
            kind: defaulted("type")?,
            code: text(value.get("code")?)?,
            message: defaulted("message")?,
            param: optional(value.get("param"), text)?,
        })
    }
}

impl ErrorBody {
    /// Reads an error body (without serde) as serde reads this type; `None`
    /// if it is not one.
    pub fn from_json(text: &str) -> Option<ErrorBody> {
        let value = crate::json::parse(text).ok()?;
        ApiError::from_value(value.get("error")?).map(|error| ErrorBody { error })
    }
}

/// The error families (`error.type`).
pub mod kind {
    /// The request was malformed or not allowed as sent (400, 404, 409, 413, 422).
    pub const INVALID_REQUEST: &str = "invalid_request_error";
    /// Missing or bad credentials (401).
    pub const AUTHENTICATION: &str = "authentication_error";
    /// Valid credentials that do not allow this (403).
    pub const PERMISSION: &str = "permission_error";
    /// Too many requests (429).
    pub const RATE_LIMIT: &str = "rate_limit_error";
    /// Out of money (402).
    pub const BILLING: &str = "billing_error";
    /// The server failed (5xx, or a stream that broke).
    pub const API: &str = "api_error";
}

/// The error codes (`error.code`) the contract names.
pub mod code {
    /// Malformed JSON, a wrong type or an out-of-range value.
    pub const INVALID_REQUEST: &str = "invalid_request";
    /// No route here.
    pub const NOT_FOUND: &str = "not_found";
    /// The body is over 1 MiB.
    pub const PAYLOAD_TOO_LARGE: &str = "payload_too_large";
    /// No, or a wrong, API key.
    pub const INVALID_API_KEY: &str = "invalid_api_key";
    /// The key lacks a scope the route needs.
    pub const INSUFFICIENT_SCOPE: &str = "insufficient_scope";
    /// Missing or garbled Client Token, bad signature, wrong algorithm.
    pub const INVALID_CLIENT_TOKEN: &str = "invalid_client_token";
    /// The Client Token's `exp` has passed.
    pub const CLIENT_TOKEN_EXPIRED: &str = "client_token_expired";
    /// The Client Token was revoked.
    pub const CLIENT_TOKEN_REVOKED: &str = "client_token_revoked";
    /// Client Tokens may not call this endpoint.
    pub const CLIENT_TOKEN_ENDPOINT_NOT_ALLOWED: &str = "client_token_endpoint_not_allowed";
    /// The endpoint's scope is not in the token's `scope`.
    pub const CLIENT_TOKEN_SCOPE_DENIED: &str = "client_token_scope_denied";
    /// `Origin` missing or not in the token's `origins`.
    pub const CLIENT_TOKEN_ORIGIN_MISMATCH: &str = "client_token_origin_mismatch";
    /// The caller's address is not the token's `ip`.
    pub const CLIENT_TOKEN_IP_MISMATCH: &str = "client_token_ip_mismatch";
    /// The body names a `user` other than the pinned customer.
    pub const CLIENT_TOKEN_CUSTOMER_MISMATCH: &str = "client_token_customer_mismatch";
    /// Over the customer's `rate_limit_rpm`.
    pub const RATE_LIMIT_EXCEEDED: &str = "rate_limit_exceeded";
    /// The customer's wallet is empty.
    pub const CUSTOMER_WALLET_EMPTY: &str = "customer_wallet_empty";
    /// The customer's `budget_usd` is spent.
    pub const CUSTOMER_BUDGET_EXCEEDED: &str = "customer_budget_exceeded";
    /// An `external_id` that already exists, created without an Idempotency-Key.
    pub const CUSTOMER_EXISTS: &str = "customer_exists";
    /// The Idempotency-Key was used with a different body.
    pub const IDEMPOTENCY_KEY_REUSED: &str = "idempotency_key_reused";
    /// The first request with this Idempotency-Key is still running.
    pub const IDEMPOTENCY_REQUEST_IN_PROGRESS: &str = "idempotency_request_in_progress";
}

#[cfg(test)]
pub(crate) mod tests {
    // proptest needs a native target (its RNG and its failure files).
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) use reads_as_serde_reads::api_error;

    #[cfg(not(target_arch = "wasm32"))]
    mod reads_as_serde_reads {
        use super::super::ErrorBody;
        use crate::shapes::{member, object, one_of, string, struct_member};
        use proptest::prelude::*;

        /// An `error` object, near the contract's.
        pub(crate) fn api_error() -> BoxedStrategy<String> {
            object(vec![
                ("type", member(one_of(&["api_error", "billing_error"]))),
                (
                    "code",
                    member(one_of(&["upstream_error", "rate_limit_exceeded"])),
                ),
                ("message", member(string())),
                ("param", member(string())),
            ])
        }

        proptest! {
            #[test]
            fn every_near_error_body(text in object(vec![("error", struct_member(api_error()))])) {
                prop_assert_eq!(
                    ErrorBody::from_json(&text),
                    serde_json::from_str::<ErrorBody>(&text).ok(),
                    "{}", text
                );
            }
        }
    }
}
