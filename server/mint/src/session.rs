//! Signed-in users: the host app's session token (a JWT, from a cookie or an
//! `Authorization: Bearer` header) verified by [`crate::jwt`], mapped to the
//! customer `ext:user_<sub>`.

use std::fmt::Debug;
use std::sync::Arc;

use axum::http::{HeaderMap, header};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use sha2::{Digest, Sha256};

use crate::clock::Clock;
use crate::error::MintError;
use crate::identity::{Caller, Identify, IdentifyFuture, Identity, cookies};
use crate::jwt::{JwtError, SessionKeys, Verifier};

/// The longest encoded `sub` kept readable in the handle; longer ones are hashed.
const MAX_READABLE_SUB: usize = 200;

/// Signed-in users, known by the host app's session JWT.
#[derive(Debug)]
pub struct Sessions {
    verifier: Verifier,
    cookie: Option<String>,
    clock: Arc<dyn Clock>,
    budget_usd: Option<f64>,
    rate_limit_rpm: Option<u32>,
}

impl Sessions {
    /// Reads the token from `Authorization: Bearer`, or else from the cookie
    /// named `cookie`; checks times against `clock`. New user customers get a
    /// budget of 5 USD and 30 requests a minute.
    pub fn new(verifier: Verifier, cookie: Option<String>, clock: Arc<dyn Clock>) -> Self {
        Sessions {
            verifier,
            cookie,
            clock,
            budget_usd: Some(5.0),
            rate_limit_rpm: Some(30),
        }
    }

    /// Sets what user customers are created with.
    pub fn with_customer(mut self, budget_usd: Option<f64>, rate_limit_rpm: Option<u32>) -> Self {
        self.budget_usd = budget_usd;
        self.rate_limit_rpm = rate_limit_rpm;
        self
    }

    /// The user of these headers. With a JWK set, a token signed by a key
    /// the mint does not hold yet makes it fetch the set again (at most once
    /// a minute).
    pub async fn user(&self, headers: &HeaderMap) -> Result<Identity, MintError> {
        let now = self.clock.unix();
        let refuse = |e: JwtError| match e {
            JwtError::KeysUnavailable => MintError::Unavailable(e.reason().into()),
            e => MintError::Unauthenticated(e.reason()),
        };
        let mut authorization = headers.get_all(header::AUTHORIZATION).iter();
        let verified = match (authorization.next(), authorization.next()) {
            (Some(_), Some(_)) => {
                return Err(MintError::Unauthenticated(
                    "more than one Authorization header",
                ));
            }
            // An Authorization header is the credential: no falling back to cookies.
            (Some(value), None) => {
                let token = value
                    .to_str()
                    .ok()
                    .and_then(|v| v.split_once(' '))
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, token)| token.trim())
                    .ok_or(MintError::Unauthenticated(
                        "the Authorization header is not a Bearer token",
                    ))?;
                self.verifier
                    .verify_fresh(token, now)
                    .await
                    .map_err(refuse)?
            }
            (None, _) => {
                let name = self
                    .cookie
                    .as_deref()
                    .ok_or(MintError::Unauthenticated("no session token"))?;
                let mut first_error = None;
                let mut found = None;
                for value in cookies(headers, name) {
                    match self.verifier.verify_fresh(value, now).await {
                        Ok(verified) => {
                            found = Some(verified);
                            break;
                        }
                        Err(e) => {
                            first_error.get_or_insert(e);
                        }
                    }
                }
                match (found, first_error) {
                    (Some(verified), _) => verified,
                    (None, Some(e)) => return Err(refuse(e)),
                    (None, None) => return Err(MintError::Unauthenticated("no session token")),
                }
            }
        };
        Ok(Identity {
            external_id: user_external_id(&verified.sub),
            budget_usd: self.budget_usd,
            rate_limit_rpm: self.rate_limit_rpm,
            is_new: false,
            set_cookie: None,
        })
    }
}

impl Identify for Sessions {
    fn identify<'a>(&'a self, caller: Caller<'a>) -> IdentifyFuture<'a> {
        Box::pin(self.user(&caller.parts.headers))
    }

    fn start(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if let SessionKeys::Jwks(jwks) = self.verifier.keys()
                && let Err(error) = jwks.load().await
            {
                tracing::error!(
                    %error,
                    "session keys: the JWK set could not be fetched at start; signed-in users get 503 until it can (tried again at most once a minute)"
                );
            }
        })
    }
}

/// The customer handle of the user `sub`: `ext:user_<sub>` with every byte
/// outside `[A-Za-z0-9._@-]` written `~XX`, so distinct subjects never share
/// a handle; subjects whose encoding is over 200 characters become
/// `ext:user_~sha256~<base64url digest>` (a form no encoding produces).
/// Always 1 to 255 printable ASCII characters.
pub fn user_external_id(sub: &str) -> String {
    let mut encoded = String::with_capacity(sub.len());
    for byte in sub.bytes() {
        if byte.is_ascii_alphanumeric() || b"._@-".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("~{byte:02X}"));
        }
        if encoded.len() > MAX_READABLE_SUB {
            return format!("ext:user_~sha256~{}", B64.encode(Sha256::digest(sub)));
        }
    }
    format!("ext:user_{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_handles_are_printable_bounded_and_distinct() {
        assert_eq!(user_external_id("42"), "ext:user_42");
        assert_eq!(user_external_id("a@b.co"), "ext:user_a@b.co");
        assert_eq!(user_external_id("a b/é"), "ext:user_a~20b~2F~C3~A9");
        assert_ne!(
            user_external_id("~20"),
            user_external_id(" "),
            "a literal ~ is escaped too"
        );
        let long = user_external_id(&"x".repeat(10_000));
        assert!(
            long.starts_with("ext:user_~sha256~") && long.len() <= 255,
            "{long}"
        );
        assert_ne!(long, user_external_id(&"x".repeat(10_001)));
        for sub in ["\u{0}", "\n", &"é".repeat(100)] {
            let handle = user_external_id(sub);
            assert!(
                handle.len() <= 255 && handle.bytes().all(|b| b.is_ascii_graphic()),
                "{handle}"
            );
        }
    }
}
