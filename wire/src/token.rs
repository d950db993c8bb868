//! What a mint endpoint (the host's `/api/chat-token`) returns to the widget.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

/// A Client Token for the browser, with its lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct TokenResponse {
    /// The Client Token, sent as `Authorization: Client <token>`.
    pub token: String,
    /// When it expires, in Unix seconds (by the server's clock).
    pub expires_at: i64,
    /// Seconds it stays valid from now: what the widget schedules by, so a
    /// wrong clock in the browser does not matter. Older mints may omit it.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub expires_in: Option<u64>,
    /// The gateway this token was minted for, so a page need not configure it.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub api_base: Option<String>,
}

impl TokenResponse {
    /// Reads a mint's answer (without serde) as serde reads this type; `None`
    /// if it is not one. The tests hold the two equal.
    pub fn from_json(text: &str) -> Option<TokenResponse> {
        use crate::json::{Value, optional, parse};
        let value = parse(text).ok()?;
        Some(TokenResponse {
            token: value.get("token")?.as_str()?.to_string(),
            expires_at: value.get("expires_at")?.as_i64()?,
            expires_in: optional(value.get("expires_in"), Value::as_u64)?,
            api_base: optional(value.get("api_base"), |v| v.as_str().map(str::to_string))?,
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

    // proptest needs a native target (its RNG and its failure files).
    #[cfg(not(target_arch = "wasm32"))]
    mod reads_as_serde_reads {
        use super::super::TokenResponse;
        use crate::shapes::{integer, member, object, string};
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn every_near_token_response(text in object(vec![
                ("token", member(string())),
                ("expires_at", member(integer())),
                ("expires_in", member(integer())),
                ("api_base", member(string())),
            ])) {
                prop_assert_eq!(
                    TokenResponse::from_json(&text),
                    serde_json::from_str::<TokenResponse>(&text).ok(),
                    "{}", text
                );
            }
        }
    }
}
