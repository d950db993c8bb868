//! The host app's session tokens, verified by `ringside-jwt` (the project's
//! one JWT verifier) with what the operator configured: an HS256 secret, an
//! Ed25519, RS256 or ES256 public key, or the identity provider's JWK set
//! ([`crate::jwks`]). The key pins the one algorithm (RFC 8725), never the
//! token; size, charset, `crit` and a header of unique members are checked
//! before anything else. `exp` is required; `nbf` and `iat` are checked when
//! present (RFC 7519 makes them optional, and Supabase, Auth0 and Firebase
//! send no `nbf`), with a small leeway; `iss`, `aud` and `typ` when
//! configured.

use std::sync::Arc;

use ringside_jwt::{JwtError as Refused, Times, Typ};
use serde_json::{Map, Value};

use crate::jwks::Jwks;

pub use ringside_jwt::{Alg, Key, KeyError};

/// The longest session token accepted by default, in bytes.
pub const DEFAULT_MAX_LEN: usize = 8 * 1024;
/// The leeway on `exp`, `nbf` and `iat` by default, in seconds.
pub const DEFAULT_LEEWAY_SECS: i64 = 30;

/// Where the keys that verify session tokens come from.
#[derive(Debug, Clone)]
pub enum SessionKeys {
    /// One key, given by the operator; it pins its algorithm.
    Key(Key),
    /// The identity provider's JWK set, fetched and cached; each key pins
    /// its algorithm, and a token picks its key by `kid`.
    Jwks(Arc<Jwks>),
}

/// What a session token must say besides its signature.
#[derive(Debug, Clone)]
pub struct Rules {
    /// `iss` must be exactly this, when set.
    pub issuer: Option<String>,
    /// `aud` (a string or a list) must hold this, when set.
    pub audience: Option<String>,
    /// The header's `typ` must be this (case-insensitive, with or without
    /// `application/`), when set.
    pub typ: Option<String>,
    /// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
    pub leeway_secs: i64,
    /// Longer tokens are refused before parsing.
    pub max_len: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            issuer: None,
            audience: None,
            typ: None,
            leeway_secs: DEFAULT_LEEWAY_SECS,
            max_len: DEFAULT_MAX_LEN,
        }
    }
}

/// Why a session token was refused. Each reason is a fixed phrase: nothing
/// from the token is echoed back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Over [`Rules::max_len`].
    #[error("the session token is too long")]
    TooLong,
    /// Empty, characters outside `[A-Za-z0-9_.-]`, not three parts, or a
    /// header that is not one JSON object.
    #[error("the session token is malformed")]
    Malformed,
    /// `alg` is not the one pinned by the key (or is `none`).
    #[error("the session token uses another algorithm")]
    Algorithm,
    /// `typ` is not the configured one.
    #[error("the session token has the wrong type")]
    Type,
    /// The header names a `crit` extension.
    #[error("the session token needs an unsupported extension")]
    Critical,
    /// The token's `kid` is in no key the mint holds (after a refresh of
    /// the JWK set, at most once a minute).
    #[error("the session token was signed by an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the session token's signature is invalid")]
    Signature,
    /// A required claim (`exp`, `sub`) is missing, or a claim has the wrong type.
    #[error("the session token lacks a required claim")]
    MissingClaim,
    /// `exp` has passed.
    #[error("the session token has expired")]
    Expired,
    /// `nbf` or `iat` is in the future.
    #[error("the session token is not valid yet")]
    NotYetValid,
    /// `iss` differs from the configured issuer.
    #[error("the session token has the wrong issuer")]
    Issuer,
    /// `aud` lacks the configured audience.
    #[error("the session token is for another audience")]
    Audience,
    /// The JWK set was never fetched and cannot be now: the mint has no key
    /// at all (a 503, not the user's fault).
    #[error("the identity provider's keys cannot be fetched")]
    KeysUnavailable,
}

impl JwtError {
    /// The reason as a static phrase (for [`crate::error::MintError::Unauthenticated`]).
    pub fn reason(self) -> &'static str {
        match self {
            JwtError::TooLong => "the session token is too long",
            JwtError::Malformed => "the session token is malformed",
            JwtError::Algorithm => "the session token uses another algorithm",
            JwtError::Type => "the session token has the wrong type",
            JwtError::Critical => "the session token needs an unsupported extension",
            JwtError::UnknownKey => "the session token was signed by an unknown key",
            JwtError::Signature => "the session token's signature is invalid",
            JwtError::MissingClaim => "the session token lacks a required claim",
            JwtError::Expired => "the session token has expired",
            JwtError::NotYetValid => "the session token is not valid yet",
            JwtError::Issuer => "the session token has the wrong issuer",
            JwtError::Audience => "the session token is for another audience",
            JwtError::KeysUnavailable => "the identity provider's keys cannot be fetched",
        }
    }
}

impl From<Refused> for JwtError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::TooLong => JwtError::TooLong,
            Refused::Empty
            | Refused::Charset
            | Refused::Parts
            | Refused::EmptyPart
            | Refused::Header
            | Refused::SignatureMalformed
            | Refused::Claims => JwtError::Malformed,
            Refused::Algorithm => JwtError::Algorithm,
            Refused::Type => JwtError::Type,
            Refused::Critical => JwtError::Critical,
            Refused::UnknownKey => JwtError::UnknownKey,
            Refused::Signature => JwtError::Signature,
            Refused::MissingClaim(_) | Refused::ClaimType(_) => JwtError::MissingClaim,
            Refused::Expired => JwtError::Expired,
            Refused::NotYetValid => JwtError::NotYetValid,
        }
    }
}

/// A verified session token's claims.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The user, as the host app names it.
    pub sub: String,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// All the claims, for hosts that want more than `sub`.
    pub claims: Map<String, Value>,
}

/// Verifies session tokens with one key (or one JWK set) and one set of rules.
#[derive(Debug)]
pub struct Verifier {
    keys: SessionKeys,
    rules: Rules,
}

impl Verifier {
    /// A verifier of tokens signed with `key`, pinned to its algorithm.
    pub fn new(key: Key, rules: Rules) -> Self {
        Verifier {
            keys: SessionKeys::Key(key),
            rules,
        }
    }

    /// A verifier of tokens signed with `keys`.
    pub fn with_keys(keys: SessionKeys, rules: Rules) -> Self {
        Verifier { keys, rules }
    }

    /// Where the keys come from.
    pub fn keys(&self) -> &SessionKeys {
        &self.keys
    }

    /// The claims of `token` if it is valid at `now` (Unix seconds), with the
    /// keys held now (a JWK set is not fetched: see [`Verifier::verify_fresh`]).
    pub fn verify(&self, token: &str, now: i64) -> Result<Verified, JwtError> {
        let parsed = ringside_jwt::parse(token, self.rules.max_len)?;
        match &self.keys {
            SessionKeys::Key(key) => self.check(&parsed, key, now),
            SessionKeys::Jwks(jwks) => {
                let keys = jwks.keys().ok_or(JwtError::KeysUnavailable)?;
                let key = keys
                    .find(parsed.header().kid.as_deref())
                    .ok_or(JwtError::UnknownKey)?;
                self.check(&parsed, key, now)
            }
        }
    }

    /// Like [`Verifier::verify`], but a token whose `kid` is not in the JWK
    /// set makes the mint fetch the set again (at most once a minute, so
    /// made-up `kid`s cannot make it hammer the provider) before refusing.
    pub async fn verify_fresh(&self, token: &str, now: i64) -> Result<Verified, JwtError> {
        match (self.verify(token, now), &self.keys) {
            (Err(JwtError::UnknownKey | JwtError::KeysUnavailable), SessionKeys::Jwks(jwks)) => {
                jwks.refresh_for_unknown_kid().await;
                self.verify(token, now)
            }
            (result, SessionKeys::Jwks(jwks)) => {
                jwks.refresh_if_old();
                result
            }
            (result, _) => result,
        }
    }

    fn check(
        &self,
        parsed: &ringside_jwt::Token<'_>,
        key: &Key,
        now: i64,
    ) -> Result<Verified, JwtError> {
        let typ = match &self.rules.typ {
            Some(typ) => Typ::MediaType(typ),
            None => Typ::Any,
        };
        let claims: Map<String, Value> = parsed.verify(key, typ)?;
        let exp = ringside_jwt::numeric_date(&claims, "exp")?.ok_or(JwtError::MissingClaim)?;
        let times = Times {
            exp: Some(exp),
            nbf: ringside_jwt::numeric_date(&claims, "nbf")?,
            iat: ringside_jwt::numeric_date(&claims, "iat")?,
        };
        ringside_jwt::check_times(times, now, self.rules.leeway_secs)?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .filter(|sub| !sub.is_empty())
            .ok_or(JwtError::MissingClaim)?
            .to_string();
        if let Some(issuer) = &self.rules.issuer
            && claims.get("iss").and_then(Value::as_str) != Some(issuer.as_str())
        {
            return Err(JwtError::Issuer);
        }
        if let Some(audience) = &self.rules.audience
            && !ringside_jwt::audience_contains(claims.get("aud"), audience)
        {
            return Err(JwtError::Audience);
        }
        Ok(Verified { sub, exp, claims })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
    use hmac::{Hmac, Mac};
    use serde_json::json;
    use sha2::Sha256;

    const NOW: i64 = 1_800_000_000;

    fn encode(header: &Value, claims: &Value) -> String {
        format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        )
    }

    fn hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
        let signed = encode(header, claims);
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(signed.as_bytes());
        format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    fn claims() -> Value {
        json!({ "sub": "42", "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 600, "iss": "app", "aud": ["chat", "x"] })
    }

    fn hs_verifier(rules: Rules) -> Verifier {
        Verifier::new(Key::hs256(&[9; 32]).unwrap(), rules)
    }

    #[test]
    fn a_well_signed_hs256_token_yields_its_subject() {
        let token = hs256(&[9; 32], &json!({"alg": "HS256", "typ": "JWT"}), &claims());
        let rules = Rules {
            issuer: Some("app".into()),
            audience: Some("chat".into()),
            typ: Some("jwt".into()),
            ..Rules::default()
        };
        assert_eq!(hs_verifier(rules).verify(&token, NOW).unwrap().sub, "42");
    }

    #[test]
    fn nbf_and_iat_are_optional_but_checked_when_present_and_exp_is_required() {
        // Issue #13: Supabase, Auth0 and Firebase send no `nbf`; every
        // signed-in user was refused with "lacks a required claim".
        let v = hs_verifier(Rules::default());
        let header = json!({"alg": "HS256", "typ": "JWT"});
        let no_nbf = json!({"sub": "42", "iat": NOW, "exp": NOW + 60});
        assert_eq!(
            v.verify(&hs256(&[9; 32], &header, &no_nbf), NOW)
                .unwrap()
                .sub,
            "42"
        );
        let bare = json!({"sub": "42", "exp": NOW + 60});
        assert!(v.verify(&hs256(&[9; 32], &header, &bare), NOW).is_ok());
        let no_exp = json!({"sub": "42", "iat": NOW});
        assert_eq!(
            v.verify(&hs256(&[9; 32], &header, &no_exp), NOW),
            Err(JwtError::MissingClaim)
        );
        let future_iat = json!({"sub": "42", "iat": NOW + 31, "exp": NOW + 600});
        assert_eq!(
            v.verify(&hs256(&[9; 32], &header, &future_iat), NOW),
            Err(JwtError::NotYetValid)
        );
        let text_nbf = json!({"sub": "42", "nbf": "soon", "exp": NOW + 600});
        assert_eq!(
            v.verify(&hs256(&[9; 32], &header, &text_nbf), NOW),
            Err(JwtError::MissingClaim),
            "a time that is not a number is refused, not ignored"
        );
    }

    #[test]
    fn every_rfc_8725_rule_refuses_its_token() {
        let v = hs_verifier(Rules {
            issuer: Some("app".into()),
            audience: Some("chat".into()),
            typ: Some("JWT".into()),
            ..Rules::default()
        });
        let good_header = json!({"alg": "HS256", "typ": "JWT"});
        let cases: Vec<(String, JwtError, &str)> = vec![
            (
                "x".repeat(DEFAULT_MAX_LEN + 1),
                JwtError::TooLong,
                "too long",
            ),
            ("a.b.c d".into(), JwtError::Malformed, "bad charset"),
            ("a.b".into(), JwtError::Malformed, "two parts"),
            (
                format!("{}.", encode(&json!({"alg": "none"}), &claims())),
                JwtError::Malformed,
                "alg none with an empty signature",
            ),
            (
                format!("{}.AAAA", encode(&json!({"alg": "none"}), &claims())),
                JwtError::Algorithm,
                "alg none",
            ),
            (
                hs256(&[9; 32], &json!({"alg": "HS512", "typ": "JWT"}), &claims()),
                JwtError::Algorithm,
                "another HMAC",
            ),
            (
                hs256(
                    &[9; 32],
                    &json!({"alg": "HS256", "typ": "JWT", "crit": ["exp"]}),
                    &claims(),
                ),
                JwtError::Critical,
                "crit",
            ),
            (
                hs256(
                    &[9; 32],
                    &json!({"alg": "HS256", "typ": "at+jwt"}),
                    &claims(),
                ),
                JwtError::Type,
                "typ",
            ),
            (
                hs256(&[8; 32], &good_header, &claims()),
                JwtError::Signature,
                "forged",
            ),
            (
                hs256(
                    &[9; 32],
                    &good_header,
                    &json!({"sub": "42", "iat": NOW, "nbf": NOW, "iss": "app", "aud": "chat"}),
                ),
                JwtError::MissingClaim,
                "no exp",
            ),
            (
                hs256(
                    &[9; 32],
                    &good_header,
                    &json!({"sub": "42", "exp": NOW - 31, "iat": NOW - 100, "nbf": NOW - 100, "iss": "app", "aud": "chat"}),
                ),
                JwtError::Expired,
                "expired beyond the leeway",
            ),
            (
                hs256(
                    &[9; 32],
                    &good_header,
                    &json!({"sub": "42", "exp": NOW + 600, "iat": NOW, "nbf": NOW + 31, "iss": "app", "aud": "chat"}),
                ),
                JwtError::NotYetValid,
                "nbf ahead",
            ),
            (
                hs256(
                    &[9; 32],
                    &good_header,
                    &json!({"sub": "42", "exp": NOW + 600, "iat": NOW, "nbf": NOW, "iss": "other", "aud": "chat"}),
                ),
                JwtError::Issuer,
                "iss",
            ),
            (
                hs256(
                    &[9; 32],
                    &good_header,
                    &json!({"sub": "42", "exp": NOW + 600, "iat": NOW, "nbf": NOW, "iss": "app", "aud": "billing"}),
                ),
                JwtError::Audience,
                "aud",
            ),
            (
                hs256(
                    &[9; 32],
                    &good_header,
                    &json!({"sub": "", "exp": NOW + 600, "iat": NOW, "nbf": NOW, "iss": "app", "aud": "chat"}),
                ),
                JwtError::MissingClaim,
                "empty sub",
            ),
        ];
        for (token, expected, why) in cases {
            assert_eq!(v.verify(&token, NOW), Err(expected), "{why}");
        }
        let within_leeway = hs256(
            &[9; 32],
            &good_header,
            &json!({"sub": "42", "exp": NOW - 5, "iat": NOW - 100, "nbf": NOW - 100, "iss": "app", "aud": "chat"}),
        );
        assert!(v.verify(&within_leeway, NOW).is_ok(), "30 s of leeway");
    }
}
