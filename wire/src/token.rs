//! What a mint endpoint (the host's `/api/chat-token`) returns to the widget.

use serde::{Deserialize, Serialize};

/// A Client Token for the browser, with its lifetime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The Client Token, sent as `Authorization: Client <token>`.
    pub token: String,
    /// When it expires, in Unix seconds (by the server's clock).
    pub expires_at: i64,
    /// Seconds it stays valid from now: what the widget schedules by, so a
    /// wrong clock in the browser does not matter. Older mints may omit it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The gateway this token was minted for, so a page need not configure it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_base: Option<String>,
}

impl TokenResponse {
    /// Reads a mint's answer (without serde); `None` if it lacks a token.
    pub fn from_json(text: &str) -> Option<TokenResponse> {
        use crate::json::{Value, parse};
        let value = parse(text).ok()?;
        Some(TokenResponse {
            token: value.get("token")?.as_str()?.to_string(),
            expires_at: value.get("expires_at").and_then(Value::as_i64).unwrap_or(0),
            expires_in: value.get("expires_in").and_then(Value::as_u64),
            api_base: value
                .get("api_base")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn a_token_response_reads_back_from_its_serde_form() {
        let token = TokenResponse {
            token: "a.b.c".into(),
            expires_at: 1_700_000_000,
            expires_in: Some(900),
            api_base: Some("http://127.0.0.1:8787".into()),
        };
        assert_eq!(
            TokenResponse::from_json(&serde_json::to_string(&token).unwrap()),
            Some(token.clone())
        );
        let old = r#"{"token":"a.b.c","expires_at":5}"#;
        let read = TokenResponse::from_json(old).unwrap();
        assert_eq!((read.expires_in, read.api_base), (None, None));
        assert_eq!(TokenResponse::from_json(r#"{"expires_at":5}"#), None);
    }
}
