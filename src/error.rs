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
    /// The server answered with an error body (or at least a status).
    #[error("{status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// `error.code`, or `http_<status>` when the body had none.
        code: String,
        /// `error.message`.
        message: String,
        /// `Retry-After`, in seconds.
        retry_after: Option<u32>,
    },
    /// The stream ended before `[DONE]`.
    #[error("the answer broke off before it was complete")]
    Interrupted,
    /// A frame of the stream was not what the contract says.
    #[error("the answer stream held a malformed frame: {0}")]
    Malformed(String),
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

    /// What to tell the person chatting.
    pub fn user_message(&self) -> String {
        match self {
            ChatError::Network { .. } => {
                "Can't reach the chat service. Check your connection and try again.".into()
            }
            ChatError::Interrupted | ChatError::Malformed(_) => {
                "The answer was interrupted.".into()
            }
            ChatError::Api {
                status, code: c, ..
            } => match (*status, c.as_str()) {
                (402, _) => "This chat is out of credit for now.".into(),
                (429, _) => "Too many messages at once. Please wait a moment.".into(),
                (
                    _,
                    code::CLIENT_TOKEN_ORIGIN_MISMATCH
                    | code::CLIENT_TOKEN_IP_MISMATCH
                    | code::CLIENT_TOKEN_SCOPE_DENIED,
                )
                | (403, _) => "Chat is unavailable on this page.".into(),
                (500.., _) => "The chat service is having trouble. Please try again.".into(),
                _ => "Something went wrong. Please try again.".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_read_and_mapped_to_plain_words() {
        let body = r#"{"error":{"type":"billing_error","code":"customer_wallet_empty","message":"empty","param":null}}"#;
        let error = ChatError::from_response(402, body, None);
        assert_eq!(error.code(), Some("customer_wallet_empty"));
        assert_eq!(error.user_message(), "This chat is out of credit for now.");
        let error = ChatError::from_response(403, "{}", None);
        assert_eq!(error.code(), Some("http_403"));
        assert_eq!(error.user_message(), "Chat is unavailable on this page.");
    }
}
