//! Who is asking for a token. Never the request body: an anonymous visitor is
//! known by a random id in a signed, HttpOnly, first-party cookie that the
//! mint sets on the first request.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use sha2::Sha256;

/// The cookie's name.
pub const COOKIE: &str = "ringside_visitor";
/// A year: the visitor keeps its conversation's customer across visits.
const MAX_AGE_SECS: u32 = 365 * 24 * 60 * 60;

/// A caller's stable identity, and the cookie to set if it is new.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The Ringside customer handle for this caller, e.g. `ext:visitor_…`.
    pub external_id: String,
    /// `Set-Cookie` to send back, for a visitor seen for the first time.
    pub set_cookie: Option<HeaderValue>,
}

/// Issues and verifies visitor cookies, `v1.<id>.<HMAC-SHA256(id)>`.
pub struct Visitors {
    key: SecretSlice<u8>,
}

impl std::fmt::Debug for Visitors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Visitors { key: [redacted] }")
    }
}

impl Visitors {
    /// Signs cookies with `key` (at least 32 bytes of secret).
    pub fn new(key: Vec<u8>) -> Self {
        Visitors { key: key.into() }
    }

    fn mac(&self, id: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.key.expose_secret()).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    }

    /// The visitor of this request, or a new one (with its cookie) when the
    /// request has no valid cookie. `secure` marks the cookie `Secure`.
    pub fn identify(&self, headers: &HeaderMap, secure: bool) -> Identity {
        if let Some(id) = self.read(headers) {
            return Identity {
                external_id: external_id(&id),
                set_cookie: None,
            };
        }
        let id = B64.encode(rand::random::<[u8; 16]>());
        let mut cookie = format!(
            "{COOKIE}=v1.{id}.{}; Path=/; Max-Age={MAX_AGE_SECS}; HttpOnly; SameSite=Lax",
            self.mac(&id)
        );
        if secure {
            cookie.push_str("; Secure");
        }
        Identity {
            external_id: external_id(&id),
            set_cookie: Some(HeaderValue::from_str(&cookie).expect("the cookie is ASCII")),
        }
    }

    /// The visitor id in a valid cookie of `headers`.
    fn read(&self, headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().strip_prefix(COOKIE)?.strip_prefix('='))
            .find_map(|value| {
                let (id, mac) = value.strip_prefix("v1.")?.split_once('.')?;
                let valid =
                    id.len() == 22 && constant_time_eq(self.mac(id).as_bytes(), mac.as_bytes());
                valid.then(|| id.to_string())
            })
    }
}

fn external_id(visitor: &str) -> String {
    format!("ext:visitor_{visitor}")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn a_new_visitor_gets_a_signed_cookie_that_identifies_it_next_time() {
        let visitors = Visitors::new(vec![7; 32]);
        let first = visitors.identify(&HeaderMap::new(), false);
        let cookie = first.set_cookie.expect("a new visitor gets a cookie");
        let cookie = cookie.to_str().unwrap();
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=Lax")
                && !cookie.contains("Secure")
        );
        let pair = cookie.split(';').next().unwrap();
        let again = visitors.identify(&with_cookie(&format!("other=1; {pair}")), true);
        assert_eq!(again.external_id, first.external_id);
        assert!(again.set_cookie.is_none());
    }

    #[test]
    fn a_forged_or_foreign_cookie_is_a_new_visitor() {
        let visitors = Visitors::new(vec![7; 32]);
        let elsewhere = Visitors::new(vec![8; 32]);
        let cookie = elsewhere
            .identify(&HeaderMap::new(), false)
            .set_cookie
            .unwrap();
        let pair = cookie
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let identity = visitors.identify(&with_cookie(&pair), false);
        assert!(
            identity.set_cookie.is_some(),
            "a cookie signed with another key is not trusted"
        );
        let forged = format!("{COOKIE}=v1.AAAAAAAAAAAAAAAAAAAAAA.forged");
        assert!(
            visitors
                .identify(&with_cookie(&forged), false)
                .set_cookie
                .is_some()
        );
        assert!(
            visitors
                .identify(&HeaderMap::new(), true)
                .set_cookie
                .unwrap()
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
