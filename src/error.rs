//! What can go wrong while chatting, in plain words for the user and in
//! detail for the developer's console.

use ringside_wire::error::{ErrorBody, code};

/// A failed token fetch or chat request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    /// The request never got an answer (offline, DNS, CORS, server down).
    #[error("network error calling {url}: {detail}")]
    Network {
        /// What was called.
        url: String,
        /// What the browser said.
        detail: String,
    },
    /// The server answered with an error: a status before streaming (with
    /// its body), or an error frame mid-stream (`status` 200).
    #[error("{status} {code}: {message}")]
    Api {
        /// HTTP status; 200 for an error frame inside a stream.
        status: u16,
        /// `error.code`, or `http_<status>` when the body had none.
        code: String,
        /// `error.message`.
        message: String,
        /// `Retry-After`, in seconds.
        retry_after: Option<u32>,
    },
    /// The stream ended, or failed, before `[DONE]`.
    #[error("the answer broke off before it was complete")]
    Interrupted,
    /// A frame of the stream was not what the contract says.
    #[error("the answer stream held a malformed frame: {0}")]
    Malformed(String),
}

/// How the gateway refused a question before answering it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 402: the wallet is empty or the budget spent.
    OutOfCredit,
    /// 403: this page, address or token may not chat.
    Forbidden,
    /// 429: too many requests; seconds to wait.
    RateLimited(u32),
    /// Anything else before an answer: a 4xx/5xx, the network, the token endpoint.
    Other,
}

impl ChatError {
    /// An error from a non-2xx answer and its body.
    pub fn from_response(status: u16, body: &str, retry_after: Option<u32>) -> ChatError {
        match ErrorBody::from_json(body) {
            Some(ErrorBody { error }) => ChatError::Api {
                status,
                code: error.code,
                message: error.message,
                retry_after,
            },
            None => ChatError::Api {
                status,
                code: format!("http_{status}"),
                message: body.chars().take(200).collect(),
                retry_after,
            },
        }
    }

    /// The Ringside error code, if this is an API error.
    pub fn code(&self) -> Option<&str> {
        match self {
            ChatError::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// How the question was refused, if it was refused before any answer
    /// (as opposed to an answer that broke off).
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            ChatError::Network { .. } => Some(Refusal::Other),
            ChatError::Api { status: 402, .. } => Some(Refusal::OutOfCredit),
            ChatError::Api { status: 403, .. } => Some(Refusal::Forbidden),
            ChatError::Api {
                status: 429,
                retry_after,
                ..
            } => Some(Refusal::RateLimited(retry_after.unwrap_or(10))),
            ChatError::Api {
                status: 400..=599, ..
            } => Some(Refusal::Other),
            _ => None,
        }
    }

    /// Whether trying again soon may work (the server or network hiccuped).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ChatError::Network { .. }
                | ChatError::Api {
                    status: 429 | 500..=599,
                    ..
                }
        )
    }

    /// What to tell the person chatting: a key of [`crate::strings`].
    pub fn user_message(&self) -> &'static str {
        match self {
            ChatError::Network { .. } => "network",
            ChatError::Interrupted
            | ChatError::Malformed(_)
            | ChatError::Api { status: 200, .. } => "interrupted",
            ChatError::Api { status, .. } => match status {
                402 => "outOfCredit",
                429 => "rateLimited",
                401 | 403 => "unavailable",
                500.. => "serverError",
                _ => "failed",
            },
        }
    }

    /// What to tell the page's developer, in the console: what happened and
    /// what to change.
    pub fn developer_message(&self) -> String {
        let hint = match self.code() {
            Some(code::CLIENT_TOKEN_ORIGIN_MISMATCH) => {
                " (the Client Token does not allow this page's origin: add the page's exact origin, scheme://host[:port], to the mint's --allowed-origin)"
            }
            Some(code::CLIENT_TOKEN_IP_MISMATCH) => {
                " (the Client Token is bound to another IP address: behind a proxy, give the mint --trusted-proxy, or turn IP binding off)"
            }
            Some(code::CLIENT_TOKEN_SCOPE_DENIED) => {
                " (the Client Token was minted without the `chat` scope)"
            }
            Some(code::CLIENT_TOKEN_ENDPOINT_NOT_ALLOWED) => {
                " (Client Tokens may not call this endpoint)"
            }
            Some("origin_not_allowed") => {
                " (the token endpoint refused this page's Origin: add it to the mint's --allowed-origin)"
            }
            Some(code::CUSTOMER_WALLET_EMPTY) => " (top up the customer's wallet)",
            Some(code::CUSTOMER_BUDGET_EXCEEDED) => " (the customer's budget_usd is spent)",
            _ => "",
        };
        format!("{self}{hint}")
    }
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn error_bodies_are_read_and_mapped_to_plain_words() {
        let body = r#"{"error":{"type":"billing_error","code":"customer_wallet_empty","message":"empty","param":null}}"#;
        let error = ChatError::from_response(402, body, None);
        assert_eq!(error.code(), Some("customer_wallet_empty"));
        assert_eq!(error.user_message(), "outOfCredit");
        assert_eq!(error.refusal(), Some(Refusal::OutOfCredit));
        let error = ChatError::from_response(403, "{}", None);
        assert_eq!(error.code(), Some("http_403"));
        assert_eq!(error.user_message(), "unavailable");
    }

    #[test]
    fn refusals_come_before_an_answer_and_interruptions_during_one() {
        assert_eq!(
            ChatError::from_response(429, "", Some(7)).refusal(),
            Some(Refusal::RateLimited(7))
        );
        assert_eq!(
            ChatError::from_response(503, "", None).refusal(),
            Some(Refusal::Other)
        );
        let mid_stream = ChatError::Api {
            status: 200,
            code: "x".into(),
            message: "y".into(),
            retry_after: None,
        };
        assert_eq!(mid_stream.refusal(), None);
        assert_eq!(mid_stream.user_message(), "interrupted");
        assert_eq!(ChatError::Interrupted.refusal(), None);
    }

    #[test]
    fn the_developer_learns_what_to_change() {
        let body = r#"{"error":{"type":"permission_error","code":"client_token_origin_mismatch","message":"no"}}"#;
        let message = ChatError::from_response(403, body, None).developer_message();
        assert!(message.contains("--allowed-origin"), "{message}");
    }

    #[test]
    fn only_network_trouble_and_server_errors_are_worth_retrying() {
        assert!(ChatError::from_response(502, "", None).is_transient());
        assert!(!ChatError::from_response(403, "", None).is_transient());
    }
}
