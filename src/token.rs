//! The Client Token: fetched from the host's mint route when first needed,
//! kept until shortly before it expires. Lifetimes are measured on the
//! page's own clock from `expires_in`, so a wrong clock in the browser does
//! not matter.

use ringside_wire::token::TokenResponse;

/// A token refreshes once this share of its life has passed.
const REFRESH_AT: f64 = 0.8;

/// A Client Token the widget may use, with where to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The JWT.
    pub token: String,
    /// The gateway the mint names, if it names one.
    pub api_base: Option<String>,
}

/// The current token and when to replace it.
#[derive(Debug, Default)]
pub struct TokenCache {
    current: Option<(Token, f64)>,
}

impl TokenCache {
    /// The token, if it is still fresh at `now_ms` (the page's clock).
    pub fn fresh(&self, now_ms: f64) -> Option<&Token> {
        self.current
            .as_ref()
            .filter(|(_, refresh_at)| now_ms < *refresh_at)
            .map(|(token, _)| token)
    }

    /// Keeps a token fetched at `now_ms`. `wall_now_s` (the page's Unix time)
    /// is used only with a mint that does not send `expires_in`.
    pub fn store(&mut self, response: TokenResponse, now_ms: f64, wall_now_s: f64) -> Token {
        let lifetime_s = match response.expires_in {
            Some(seconds) => seconds as f64,
            None => (response.expires_at as f64 - wall_now_s).clamp(0.0, 3600.0),
        };
        let token = Token {
            token: response.token,
            api_base: response.api_base,
        };
        self.current = Some((token.clone(), now_ms + lifetime_s * 1000.0 * REFRESH_AT));
        token
    }

    /// The token and when it stops being fresh (the page's clock, ms): the
    /// next page of this tab goes on with an answer only while it is.
    pub fn current(&self) -> Option<(&Token, f64)> {
        self.current.as_ref().map(|(token, until)| (token, *until))
    }

    /// Forgets the token (Ringside refused it).
    pub fn clear(&mut self) {
        self.current = None;
    }
}

/// A claim of a Client Token, read without verifying: only Ringside
/// verifies tokens. The widget reads `sub` (the customer, to keep one
/// customer's transcript from another) and `jti` (to name a refused token).
pub fn claim(jwt: &str, name: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64url_decode(payload)?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let claims = ringside_wire::json::parse(text).ok()?;
    Some(claims.get(name)?.as_str()?.to_string())
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut buffer, mut bits) = (0u32, 0);
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod claim_tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::claim;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn claims_are_read_from_the_payload() {
        // {"alg":"EdDSA"} . {"sub":"cus_42","x":"é"} . sig
        let jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJjdXNfNDIiLCJ4Ijoiw6kifQ.c2ln";
        assert_eq!(claim(jwt, "sub").as_deref(), Some("cus_42"));
        assert_eq!(claim(jwt, "jti"), None);
        assert_eq!(claim("garbage", "sub"), None);
        assert_eq!(claim("a.!!!.c", "sub"), None);
    }

    use super::*;

    fn response(expires_in: Option<u64>, expires_at: i64) -> TokenResponse {
        TokenResponse {
            token: "t".into(),
            expires_at,
            expires_in,
            api_base: None,
        }
    }

    #[test]
    fn a_token_is_fresh_until_most_of_its_life_is_gone() {
        let mut cache = TokenCache::default();
        assert!(cache.fresh(0.0).is_none());
        cache.store(response(Some(900), 0), 1_000.0, 0.0);
        assert!(cache.fresh(1_000.0 + 0.79 * 900_000.0).is_some());
        assert!(cache.fresh(1_000.0 + 0.81 * 900_000.0).is_none());
    }

    #[test]
    fn expires_in_wins_over_a_skewed_page_clock() {
        let mut cache = TokenCache::default();
        // The page's clock is an hour behind the server's: expires_at looks far
        // away, but expires_in says 900 s.
        cache.store(response(Some(900), 10_000 + 900), 0.0, 10_000.0 - 3600.0);
        assert!(cache.fresh(800_000.0).is_none());
    }

    #[test]
    fn without_expires_in_the_wall_clock_is_used_and_bounded() {
        let mut cache = TokenCache::default();
        cache.store(response(None, 1_900), 0.0, 1_000.0);
        assert!(cache.fresh(700_000.0).is_some());
        assert!(cache.fresh(730_000.0).is_none());
        cache.store(response(None, 1_000_000), 0.0, 0.0);
        assert!(
            cache.fresh(3600.0 * 1000.0).is_none(),
            "never trusted beyond an hour"
        );
    }
}
