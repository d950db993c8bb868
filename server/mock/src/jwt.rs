//! Client Tokens as JWTs: signed with Ed25519 (`alg: EdDSA`), verified by
//! `ringside-jwt` (the one JWT verifier the mint uses too) by the rules of
//! RFC 8725 (JWT Best Current Practices):
//! - size (4 KiB) and charset (`[A-Za-z0-9_.-]`) limits before any parsing;
//! - one pinned algorithm, and `typ` must be `ringside-client+jwt`, so no
//!   other kind of JWT (or an API key) is ever accepted as a Client Token;
//! - `crit` is refused (we understand no extensions);
//! - `iss`, `aud`, `sub`, `exp` and `nbf` are required and checked, with at
//!   most [`LEEWAY_SECS`] of clock leeway.
//!
//! Revocation (`jti`) is checked by the caller, which owns the token store.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signer as _, SigningKey};
use ringside_jwt::{JwtError, Key, Times, Typ};
use serde::{Deserialize, Serialize};

use crate::error::ClientTokenError;

/// The only algorithm a Client Token may use.
pub const ALG: &str = "EdDSA";
/// The required `typ` header.
pub const TYP: &str = "ringside-client+jwt";
/// The required audience.
pub const AUDIENCE: &str = "ringside";
/// The longest token accepted, in bytes.
pub const MAX_LEN: usize = 4096;
/// Clock leeway for `exp` and `nbf`.
pub const LEEWAY_SECS: i64 = 30;

/// The JOSE header of a Client Token. Absent fields are left out, never
/// written as `null`: a `"crit": null` is a malformed header (RFC 7515
/// §4.1.11) that strict verifiers refuse.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
}

/// The claims of a Client Token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The issuer: this gateway.
    pub iss: String,
    /// Always [`AUDIENCE`].
    pub aud: String,
    /// The customer id (`cus_…`) the token is pinned to.
    pub sub: String,
    /// The client token id (`ct_…`), for revocation.
    pub jti: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Not before, Unix seconds.
    pub nbf: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// What the token may call (`chat`, `embeddings`, `moderations`, `threads`).
    pub scope: Vec<String>,
    /// The exact origins it may be used from.
    pub origins: Vec<String>,
    /// The caller address it is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// The gateway's signing key, its public half, and the identity it signs as.
#[derive(Debug)]
pub struct TokenSigner {
    key: SigningKey,
    public: Key,
    kid: String,
    issuer: String,
}

impl TokenSigner {
    /// A signer with a fresh random key.
    pub fn generate(issuer: impl Into<String>) -> Self {
        let key = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
        let kid = B64.encode(&key.verifying_key().as_bytes()[..8]);
        let public = Key::ed25519_bytes(key.verifying_key().as_bytes())
            .expect("an Ed25519 public key is a point of the curve")
            .with_kid(Some(kid.clone()));
        TokenSigner {
            key,
            public,
            kid,
            issuer: issuer.into(),
        }
    }

    /// The issuer (`iss`) of the tokens this signer makes.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The public key, as verifiers hold it.
    pub fn public_key(&self) -> &Key {
        &self.public
    }

    /// The public key, as the JWKS document publishes it.
    pub fn jwks(&self) -> serde_json::Value {
        serde_json::json!({
            "keys": [{
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": ALG,
                "use": "sig",
                "kid": self.kid,
                "x": B64.encode(self.key.verifying_key().as_bytes()),
            }]
        })
    }

    /// Signs `claims` into a compact JWT.
    pub fn sign(&self, claims: &Claims) -> String {
        let header = Header {
            alg: ALG.into(),
            typ: Some(TYP.into()),
            kid: Some(self.kid.clone()),
        };
        let mut token = B64.encode(serde_json::to_vec(&header).expect("a header serialises"));
        token.push('.');
        token.push_str(&B64.encode(serde_json::to_vec(claims).expect("claims serialise")));
        let signature = self.key.sign(token.as_bytes());
        token.push('.');
        token.push_str(&B64.encode(signature.to_bytes()));
        token
    }

    /// Verifies a token's form, signature, type and time claims at `now`.
    pub fn verify(&self, token: &str, now: i64) -> Result<Claims, ClientTokenError> {
        verify(&self.public, &self.issuer, token, now)
    }
}

/// Verifies `token` against `key` and `issuer` at Unix time `now`, by
/// `ringside-jwt` (the project's one JWT verifier), in the contract's terms:
/// every refusal is `invalid_client_token` with a fixed reason, except an
/// expired token (`client_token_expired`).
pub fn verify(key: &Key, issuer: &str, token: &str, now: i64) -> Result<Claims, ClientTokenError> {
    use ClientTokenError::Invalid;

    let claims: Claims = ringside_jwt::parse(token, MAX_LEN)
        .and_then(|token| token.verify(key, Typ::Exact(TYP)))
        .map_err(refusal)?;
    if claims.iss != issuer {
        return Err(Invalid("the issuer is not this gateway"));
    }
    if claims.aud != AUDIENCE {
        return Err(Invalid("the audience is not ringside"));
    }
    if claims.sub.is_empty() || claims.jti.is_empty() {
        return Err(Invalid("sub and jti are required"));
    }
    let times = Times {
        exp: Some(claims.exp),
        nbf: Some(claims.nbf),
        iat: None,
    };
    ringside_jwt::check_times(times, now, LEEWAY_SECS).map_err(refusal)?;
    Ok(claims)
}

/// The contract's refusal for each reason the verifier gives.
fn refusal(error: JwtError) -> ClientTokenError {
    use ClientTokenError::Invalid;
    match error {
        JwtError::Expired => ClientTokenError::Expired,
        JwtError::Empty => Invalid("the token is empty"),
        JwtError::TooLong => Invalid("the token is over 4 KiB"),
        JwtError::Charset => Invalid("the token has characters outside [A-Za-z0-9_.-]"),
        JwtError::Parts => Invalid("a JWT has three parts"),
        JwtError::EmptyPart => Invalid("a JWT has three non-empty parts"),
        JwtError::Header => Invalid("the header is not base64url JSON"),
        JwtError::Algorithm => Invalid("the algorithm must be EdDSA"),
        JwtError::Type => Invalid("the typ must be ringside-client+jwt"),
        JwtError::Critical => Invalid("crit extensions are not supported"),
        JwtError::UnknownKey => Invalid("the token was signed by another key"),
        JwtError::SignatureMalformed => Invalid("the signature is malformed"),
        JwtError::Signature => Invalid("the signature does not verify"),
        JwtError::Claims | JwtError::MissingClaim(_) | JwtError::ClaimType(_) => {
            Invalid("the claims are not valid JSON with iss, aud, sub, jti, iat, nbf, exp")
        }
        JwtError::NotYetValid => Invalid("the token is not valid yet"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(now: i64) -> Claims {
        Claims {
            iss: "ringside-mock".into(),
            aud: AUDIENCE.into(),
            sub: "cus_1".into(),
            jti: "ct_1".into(),
            iat: now,
            nbf: now,
            exp: now + 900,
            scope: vec!["chat".into()],
            origins: vec!["http://127.0.0.1:8080".into()],
            ip: None,
        }
    }

    fn forge(header: &str, claims: &Claims, signer: &SigningKey) -> String {
        let mut token = B64.encode(header);
        token.push('.');
        token.push_str(&B64.encode(serde_json::to_vec(claims).unwrap()));
        let signature = signer.sign(token.as_bytes());
        format!("{token}.{}", B64.encode(signature.to_bytes()))
    }

    #[test]
    fn a_signed_token_verifies_until_it_expires() {
        let signer = TokenSigner::generate("ringside-mock");
        let token = signer.sign(&claims(1000));
        assert_eq!(signer.verify(&token, 1000).unwrap(), claims(1000));
        assert_eq!(
            signer
                .verify(&token, 1000 + 900 + LEEWAY_SECS - 1)
                .map(|c| c.jti),
            Ok("ct_1".into())
        );
        assert_eq!(
            signer.verify(&token, 1000 + 900 + LEEWAY_SECS),
            Err(ClientTokenError::Expired)
        );
    }

    #[test]
    fn a_token_used_before_nbf_is_refused() {
        let signer = TokenSigner::generate("ringside-mock");
        let token = signer.sign(&claims(1000));
        assert!(signer.verify(&token, 1000 - LEEWAY_SECS).is_ok());
        assert!(matches!(
            signer.verify(&token, 1000 - LEEWAY_SECS - 1),
            Err(ClientTokenError::Invalid(_))
        ));
    }

    #[test]
    fn another_key_another_issuer_or_a_tampered_payload_is_invalid() {
        let signer = TokenSigner::generate("ringside-mock");
        let other = TokenSigner::generate("ringside-mock");
        let token = other.sign(&claims(1000));
        assert!(matches!(
            signer.verify(&token, 1000),
            Err(ClientTokenError::Invalid(_))
        ));

        let mut wrong_iss = claims(1000);
        wrong_iss.iss = "someone-else".into();
        let token = forge(
            &format!(r#"{{"alg":"EdDSA","typ":"{TYP}"}}"#),
            &wrong_iss,
            &signer.key,
        );
        assert_eq!(
            signer.verify(&token, 1000),
            Err(ClientTokenError::Invalid("the issuer is not this gateway"))
        );

        let token = signer.sign(&claims(1000));
        let mut parts: Vec<&str> = token.split('.').collect();
        let mut tampered = claims(1000);
        tampered.sub = "cus_2".into();
        let payload = B64.encode(serde_json::to_vec(&tampered).unwrap());
        parts[1] = &payload;
        assert_eq!(
            signer.verify(&parts.join("."), 1000),
            Err(ClientTokenError::Invalid("the signature does not verify"))
        );
    }

    #[test]
    fn alg_none_other_algs_and_wrong_typ_are_refused() {
        let signer = TokenSigner::generate("ringside-mock");
        let c = claims(1000);
        for header in [
            r#"{"alg":"none","typ":"ringside-client+jwt"}"#.to_string(),
            r#"{"alg":"HS256","typ":"ringside-client+jwt"}"#.to_string(),
            r#"{"alg":"EdDSA","typ":"JWT"}"#.to_string(),
            r#"{"alg":"EdDSA"}"#.to_string(),
            format!(r#"{{"alg":"EdDSA","typ":"{TYP}","crit":["exp"]}}"#),
            format!(r#"{{"alg":"EdDSA","typ":"{TYP}","crit":null}}"#),
            format!(r#"{{"alg":"EdDSA","alg":"none","typ":"{TYP}"}}"#),
            format!(r#"{{"alg":"none","alg":"EdDSA","typ":"{TYP}"}}"#),
        ] {
            let token = forge(&header, &c, &signer.key);
            assert!(
                matches!(
                    signer.verify(&token, 1000),
                    Err(ClientTokenError::Invalid(_))
                ),
                "{header}"
            );
        }
        let unsigned = format!(
            "{}.{}.",
            B64.encode(r#"{"alg":"none","typ":"ringside-client+jwt"}"#),
            B64.encode(serde_json::to_vec(&c).unwrap())
        );
        assert!(matches!(
            signer.verify(&unsigned, 1000),
            Err(ClientTokenError::Invalid(_))
        ));
    }

    #[test]
    fn minted_headers_name_no_crit_and_no_nulls() {
        // Found through the browser tests of issue #7: every token the mock
        // minted carried `"crit": null`, which a strict verifier refuses.
        let signer = TokenSigner::generate("ringside-mock");
        let token = signer.sign(&claims(1000));
        let header = B64.decode(token.split('.').next().unwrap()).unwrap();
        let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
        assert_eq!(
            header,
            serde_json::json!({"alg": ALG, "typ": TYP, "kid": signer.kid}),
            "exactly alg, typ and kid"
        );
    }

    #[test]
    fn times_at_the_ends_of_i64_are_judged_without_overflow() {
        let signer = TokenSigner::generate("ringside-mock");
        let mut far = claims(1000);
        far.nbf = i64::MIN;
        far.exp = i64::MAX;
        assert!(
            signer.verify(&signer.sign(&far), 1000).is_ok(),
            "valid from the dawn of time to its end"
        );
        let mut never = claims(1000);
        never.nbf = i64::MAX;
        assert!(matches!(
            signer.verify(&signer.sign(&never), 1000),
            Err(ClientTokenError::Invalid(_))
        ));
        let mut long_gone = claims(1000);
        long_gone.exp = i64::MIN;
        assert_eq!(
            signer.verify(&signer.sign(&long_gone), 1000),
            Err(ClientTokenError::Expired)
        );
    }

    #[test]
    fn size_and_charset_are_checked_before_parsing() {
        let signer = TokenSigner::generate("ringside-mock");
        assert_eq!(
            signer.verify(&"a".repeat(MAX_LEN + 1), 0),
            Err(ClientTokenError::Invalid("the token is over 4 KiB"))
        );
        assert_eq!(
            signer.verify("sk_test key", 0),
            Err(ClientTokenError::Invalid(
                "the token has characters outside [A-Za-z0-9_.-]"
            ))
        );
        assert_eq!(
            signer.verify("a.b", 0),
            Err(ClientTokenError::Invalid("a JWT has three parts"))
        );
        assert_eq!(
            signer.verify("a.b.c.d", 0),
            Err(ClientTokenError::Invalid("a JWT has three parts"))
        );
    }

    #[test]
    fn missing_required_claims_are_refused() {
        let signer = TokenSigner::generate("ringside-mock");
        let mut value = serde_json::to_value(claims(1000)).unwrap();
        value.as_object_mut().unwrap().remove("nbf");
        let mut token = B64.encode(format!(r#"{{"alg":"EdDSA","typ":"{TYP}"}}"#));
        token.push('.');
        token.push_str(&B64.encode(serde_json::to_vec(&value).unwrap()));
        let signature = signer.key.sign(token.as_bytes());
        let token = format!("{token}.{}", B64.encode(signature.to_bytes()));
        assert!(matches!(
            signer.verify(&token, 1000),
            Err(ClientTokenError::Invalid(_))
        ));
    }
}
