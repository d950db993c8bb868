//! Verifies the host app's session tokens (JWS compact JWTs) by the rules of
//! RFC 8725: one pinned algorithm (HS256 or EdDSA/Ed25519) chosen by the key
//! the operator configured, never by the token; size and charset checked
//! before any parsing; `alg: none`, unknown `crit` extensions and key-carrying
//! headers never honoured; `exp`, `nbf` and `iat` required, with a small
//! leeway; `iss`, `aud` and `typ` checked when configured.

use std::fmt::Debug;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64},
};
use ed25519_dalek::{Signature, VerifyingKey};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice};
use serde_json::{Map, Value};
use sha2::Sha256;

/// The longest session token accepted by default, in bytes.
pub const DEFAULT_MAX_LEN: usize = 8 * 1024;
/// The leeway on `exp`, `nbf` and `iat` by default, in seconds.
pub const DEFAULT_LEEWAY_SECS: i64 = 30;

/// The key session tokens are signed with; it also pins the algorithm.
pub enum SessionKey {
    /// `alg: HS256`, a shared secret of at least 32 bytes.
    Hs256(SecretSlice<u8>),
    /// `alg: EdDSA` over Ed25519, the host's public key.
    Ed25519(VerifyingKey),
}

impl Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionKey::Hs256(_) => f.write_str("Hs256([redacted])"),
            SessionKey::Ed25519(key) => write!(f, "Ed25519({})", B64.encode(key.as_bytes())),
        }
    }
}

/// Why a session key could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// An HS256 secret shorter than the hash (RFC 7518 §3.2).
    #[error("an HS256 secret needs at least 32 bytes")]
    ShortSecret,
    /// Not base64 of 32 bytes nor a PEM `PUBLIC KEY` of an Ed25519 key.
    #[error("the Ed25519 public key must be 32 bytes in base64, or a PEM SubjectPublicKeyInfo")]
    BadPublicKey,
}

impl SessionKey {
    /// An HS256 key from a secret of at least 32 bytes.
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError::ShortSecret);
        }
        Ok(SessionKey::Hs256(secret.to_vec().into()))
    }

    /// An Ed25519 public key: 32 raw bytes in base64 (standard or URL-safe,
    /// padded or not), or a PEM `-----BEGIN PUBLIC KEY-----` block.
    pub fn ed25519(text: &str) -> Result<Self, KeyError> {
        /// The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410).
        const SPKI_PREFIX: [u8; 12] = [
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        let body: String = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let body = body.trim_end_matches('=');
        let bytes = B64
            .decode(body)
            .or_else(|_| STANDARD.decode(pad(body)))
            .map_err(|_| KeyError::BadPublicKey)?;
        let raw: [u8; 32] = match bytes.len() {
            32 => bytes.try_into().map_err(|_| KeyError::BadPublicKey)?,
            44 if bytes[..12] == SPKI_PREFIX => {
                bytes[12..].try_into().map_err(|_| KeyError::BadPublicKey)?
            }
            _ => return Err(KeyError::BadPublicKey),
        };
        VerifyingKey::from_bytes(&raw)
            .map(SessionKey::Ed25519)
            .map_err(|_| KeyError::BadPublicKey)
    }

    fn alg(&self) -> &'static str {
        match self {
            SessionKey::Hs256(_) => "HS256",
            SessionKey::Ed25519(_) => "EdDSA",
        }
    }

    fn verify(&self, signed: &[u8], signature: &[u8]) -> bool {
        match self {
            SessionKey::Hs256(secret) => {
                let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret())
                    .expect("HMAC takes any key");
                mac.update(signed);
                mac.verify_slice(signature).is_ok()
            }
            SessionKey::Ed25519(key) => Signature::from_slice(signature)
                .map(|signature| key.verify_strict(signed, &signature).is_ok())
                .unwrap_or(false),
        }
    }
}

fn pad(text: &str) -> String {
    let mut padded = text.to_string();
    while !padded.len().is_multiple_of(4) {
        padded.push('=');
    }
    padded
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
    /// Characters outside `[A-Za-z0-9_.-]`, or not three parts.
    #[error("the session token is malformed")]
    Malformed,
    /// `alg` is not the one pinned by the configured key (or is `none`).
    #[error("the session token uses another algorithm")]
    Algorithm,
    /// `typ` is not the configured one.
    #[error("the session token has the wrong type")]
    Type,
    /// The header names a `crit` extension.
    #[error("the session token needs an unsupported extension")]
    Critical,
    /// The signature does not verify.
    #[error("the session token's signature is invalid")]
    Signature,
    /// A required claim is missing or of the wrong type.
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
            JwtError::Signature => "the session token's signature is invalid",
            JwtError::MissingClaim => "the session token lacks a required claim",
            JwtError::Expired => "the session token has expired",
            JwtError::NotYetValid => "the session token is not valid yet",
            JwtError::Issuer => "the session token has the wrong issuer",
            JwtError::Audience => "the session token is for another audience",
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

/// Verifies session tokens with one key and one set of rules.
#[derive(Debug)]
pub struct Verifier {
    key: SessionKey,
    rules: Rules,
}

impl Verifier {
    /// A verifier pinned to `key`'s algorithm.
    pub fn new(key: SessionKey, rules: Rules) -> Self {
        Verifier { key, rules }
    }

    /// The claims of `token` if it is valid at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: i64) -> Result<Verified, JwtError> {
        // Limits first: nothing is decoded before these hold.
        if token.len() > self.rules.max_len {
            return Err(JwtError::TooLong);
        }
        if !token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        {
            return Err(JwtError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(JwtError::Malformed);
        }

        let header: Map<String, Value> = decode_json(header)?;
        if header.get("alg").and_then(Value::as_str) != Some(self.key.alg()) {
            return Err(JwtError::Algorithm);
        }
        if header.contains_key("crit") {
            return Err(JwtError::Critical);
        }
        if let Some(expected) = &self.rules.typ {
            let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
            if !media_type_eq(typ, expected) {
                return Err(JwtError::Type);
            }
        }
        let signature = B64.decode(signature).map_err(|_| JwtError::Malformed)?;
        let signed_len = token.len() - token.rsplit('.').next().map_or(0, str::len) - 1;
        if !self.key.verify(&token.as_bytes()[..signed_len], &signature) {
            return Err(JwtError::Signature);
        }

        // Only a signed payload is read.
        let claims: Map<String, Value> = decode_json(payload)?;
        let time = |name: &str| -> Result<i64, JwtError> {
            let value = claims.get(name).ok_or(JwtError::MissingClaim)?;
            value
                .as_i64()
                .or_else(|| {
                    value
                        .as_f64()
                        .filter(|f| f.is_finite() && f.abs() < 1e15)
                        .map(|f| f.floor() as i64)
                })
                .ok_or(JwtError::MissingClaim)
        };
        let (exp, nbf, iat) = (time("exp")?, time("nbf")?, time("iat")?);
        let leeway = self.rules.leeway_secs;
        if now >= exp.saturating_add(leeway) {
            return Err(JwtError::Expired);
        }
        if nbf > now.saturating_add(leeway) || iat > now.saturating_add(leeway) {
            return Err(JwtError::NotYetValid);
        }
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
        if let Some(audience) = &self.rules.audience {
            let matches = match claims.get("aud") {
                Some(Value::String(aud)) => aud == audience,
                Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
                _ => false,
            };
            if !matches {
                return Err(JwtError::Audience);
            }
        }
        Ok(Verified { sub, exp, claims })
    }
}

fn decode_json(part: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = B64.decode(part).map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

/// `typ` comparison per RFC 7515 §4.1.9: case-insensitive, `application/` optional.
fn media_type_eq(a: &str, b: &str) -> bool {
    fn bare(t: &str) -> &str {
        if t.len() > 12 && t[..12].eq_ignore_ascii_case("application/") {
            &t[12..]
        } else {
            t
        }
    }
    bare(a).eq_ignore_ascii_case(bare(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use serde_json::json;

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
        Verifier::new(SessionKey::hs256(&[9; 32]).unwrap(), rules)
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
                    &json!({"sub": "42", "exp": NOW + 60, "nbf": NOW, "iss": "app", "aud": "chat"}),
                ),
                JwtError::MissingClaim,
                "no iat",
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

    #[test]
    fn an_ed25519_verifier_refuses_an_hs256_token_signed_with_its_public_key() {
        let signing = SigningKey::from_bytes(&[3; 32]);
        let public = signing.verifying_key();
        let verifier = Verifier::new(
            SessionKey::ed25519(&STANDARD.encode(public.as_bytes())).unwrap(),
            Rules::default(),
        );
        let header = json!({"alg": "EdDSA", "typ": "JWT"});
        let signed = encode(&header, &claims());
        let token = format!(
            "{signed}.{}",
            B64.encode(signing.sign(signed.as_bytes()).to_bytes())
        );
        assert_eq!(verifier.verify(&token, NOW).unwrap().sub, "42");
        // Algorithm confusion: an HMAC keyed with the public key.
        let confused = hs256(public.as_bytes(), &json!({"alg": "HS256"}), &claims());
        assert_eq!(verifier.verify(&confused, NOW), Err(JwtError::Algorithm));
    }

    #[test]
    fn ed25519_keys_load_from_raw_base64_or_pem() {
        let public = SigningKey::from_bytes(&[3; 32]).verifying_key();
        let mut der = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        der.extend_from_slice(public.as_bytes());
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(&der)
        );
        for text in [
            pem,
            STANDARD.encode(public.as_bytes()),
            B64.encode(public.as_bytes()),
        ] {
            let key = SessionKey::ed25519(&text).unwrap();
            assert!(
                matches!(key, SessionKey::Ed25519(k) if k == public),
                "{text}"
            );
        }
        assert!(SessionKey::ed25519("AAAA").is_err());
        assert!(SessionKey::hs256(b"short").is_err());
    }
}
