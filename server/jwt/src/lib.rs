//! The one place in the project that verifies JWTs (JWS compact
//! serialisation): the mint's host session tokens and the mock's Client
//! Tokens both go through [`parse`] and [`Token::verify`].
//!
//! The signature itself, the key formats (PEM, JWK) and the algorithms are
//! the `jsonwebtoken` crate's. Around it, the rules of RFC 8725 (JWT Best
//! Current Practices) that a general library leaves to its caller:
//! - size and charset limits before anything is decoded ([`parse`]);
//! - a header that is one JSON object with unique members;
//! - one algorithm, pinned by the [`Key`] (never chosen by the token: a token
//!   naming another algorithm than its key's is refused, so `alg: none` and
//!   HS256-keyed-with-the-public-key never get near a signature check);
//! - `crit` refused (we understand no extension), `typ` checked when asked;
//! - keys checked when loaded: HS256 secrets of at least 32 bytes, RSA
//!   moduli of at least 2048 bits, points on their curve; symmetric keys are
//!   never taken from a JWK set.
//!
//! Time claims are judged against a `now` the caller passes (the mint and
//! the mock both run on clocks their tests move), with [`check_times`].
//!
//! # Layout
//! - [`Alg`], [`Key`], [`KeySet`], [`KeyError`]: what verifies.
//! - [`parse`], [`Token`], [`Header`], [`Typ`]: what is verified.
//! - [`JwtError`]: every refusal, a fixed phrase (nothing from the token).
//! - [`numeric_date`], [`check_times`], [`audience_contains`]: claim rules
//!   both callers share.

use std::fmt;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64},
};
use jsonwebtoken::{DecodingKey, jwk};
use serde::de::{DeserializeOwned, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

/// The algorithms a [`Key`] can pin: the ones identity providers sign
/// session tokens with (HS256 for hand-shared secrets; RS256, ES256 and
/// EdDSA for published keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Alg {
    /// HMAC with SHA-256 (a shared secret).
    Hs256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// EdDSA on Ed25519.
    EdDsa,
}

impl Alg {
    /// The header's `alg` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Alg::Hs256 => "HS256",
            Alg::Rs256 => "RS256",
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
        }
    }

    fn jose(self) -> jsonwebtoken::Algorithm {
        match self {
            Alg::Hs256 => jsonwebtoken::Algorithm::HS256,
            Alg::Rs256 => jsonwebtoken::Algorithm::RS256,
            Alg::Es256 => jsonwebtoken::Algorithm::ES256,
            Alg::EdDsa => jsonwebtoken::Algorithm::EdDSA,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a key could not be loaded. Each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// An HS256 secret shorter than the hash (RFC 7518 §3.2).
    #[error("an HS256 secret needs at least 32 bytes")]
    ShortSecret,
    /// Not an Ed25519 public key.
    #[error(
        "the Ed25519 public key must be 32 bytes in base64, or a PEM `PUBLIC KEY` of an Ed25519 key"
    )]
    Ed25519,
    /// Not an RSA public key in PEM.
    #[error(
        "the RS256 key must be a PEM RSA public key (`-----BEGIN PUBLIC KEY-----` or `-----BEGIN RSA PUBLIC KEY-----`)"
    )]
    RsaPem,
    /// An RSA modulus under 2048 bits (RFC 7518 §3.3).
    #[error("the RSA key has {0} bits; RS256 needs at least 2048")]
    RsaTooSmall(usize),
    /// Not a P-256 public key in PEM.
    #[error("the ES256 key must be a PEM `PUBLIC KEY` of a P-256 (prime256v1) key")]
    EcPem,
    /// A JWK set that is not JSON with a `keys` list.
    #[error("the JWK set is not JSON with a `keys` list")]
    JwkSet,
    /// A JWK set with no key this crate verifies with.
    #[error(
        "the JWK set has no usable signing key (RS256 with 2048+ bits, ES256 on P-256, EdDSA on Ed25519){0}"
    )]
    NoUsableKey(String),
}

/// A verification key and the one algorithm it pins.
#[derive(Clone)]
pub struct Key {
    alg: Alg,
    kid: Option<String>,
    key: DecodingKey,
    /// The exact length of a valid signature, in bytes.
    signature_len: usize,
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// An HS256 key from a secret of at least 32 bytes.
    pub fn hs256(secret: &[u8]) -> Result<Key, KeyError> {
        if secret.len() < 32 {
            return Err(KeyError::ShortSecret);
        }
        let key = DecodingKey::from_secret(secret).map_err(|_| KeyError::ShortSecret)?;
        Ok(Key::new(Alg::Hs256, key, 32))
    }

    /// An Ed25519 public key: 32 raw bytes in base64 (standard or URL-safe,
    /// padded or not), or a PEM `-----BEGIN PUBLIC KEY-----` block.
    pub fn ed25519(text: &str) -> Result<Key, KeyError> {
        let text = text.trim();
        if text.starts_with("-----BEGIN") {
            let key = DecodingKey::from_ed_pem(text.as_bytes()).map_err(|_| KeyError::Ed25519)?;
            let raw: [u8; 32] = key
                .try_get_as_bytes()
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(KeyError::Ed25519)?;
            return Key::ed25519_bytes(&raw);
        }
        let body = text.trim_end_matches('=');
        let bytes = B64
            .decode(body)
            .or_else(|_| STANDARD.decode(pad(body)))
            .map_err(|_| KeyError::Ed25519)?;
        let raw: [u8; 32] = bytes.try_into().map_err(|_| KeyError::Ed25519)?;
        Key::ed25519_bytes(&raw)
    }

    /// An Ed25519 public key from its 32 bytes (refused when they are not a
    /// point of the curve).
    pub fn ed25519_bytes(raw: &[u8; 32]) -> Result<Key, KeyError> {
        Key::new(Alg::EdDsa, DecodingKey::from_ed_der(raw), 64)
            .probed()
            .ok_or(KeyError::Ed25519)
    }

    /// An RS256 key from a PEM RSA public key (SPKI `PUBLIC KEY` or PKCS#1
    /// `RSA PUBLIC KEY`) of at least 2048 bits.
    pub fn rs256_pem(pem: &str) -> Result<Key, KeyError> {
        let key = DecodingKey::from_rsa_pem(pem.trim().as_bytes()).map_err(|_| KeyError::RsaPem)?;
        let der = key.try_get_as_bytes().map_err(|_| KeyError::RsaPem)?;
        let utils = &jsonwebtoken::crypto::CryptoProvider::try_get_default()
            .ok_or(KeyError::RsaPem)?
            .key_utils;
        let (n, e) =
            (utils.rsa_pub_components_from_public_key)(der).map_err(|_| KeyError::RsaPem)?;
        let bytes = rsa_modulus_bytes(&n, &e).map_err(|bits| match bits {
            Some(bits) => KeyError::RsaTooSmall(bits),
            None => KeyError::RsaPem,
        })?;
        Ok(Key::new(Alg::Rs256, key, bytes))
    }

    /// An ES256 key from a PEM `PUBLIC KEY` of a P-256 key.
    pub fn es256_pem(pem: &str) -> Result<Key, KeyError> {
        let key = DecodingKey::from_ec_pem(pem.trim().as_bytes()).map_err(|_| KeyError::EcPem)?;
        // An uncompressed P-256 point: 0x04, x, y (P-384's is 97 bytes).
        if key.try_get_as_bytes().map(<[u8]>::len) != Ok(65) {
            return Err(KeyError::EcPem);
        }
        Key::new(Alg::Es256, key, 64)
            .probed()
            .ok_or(KeyError::EcPem)
    }

    /// The key of one JWK, pinned to RS256 (`kty: RSA`), ES256 (`kty: EC`,
    /// `crv: P-256`) or EdDSA (`kty: OKP`, `crv: Ed25519`). A JWK naming
    /// another `alg` than that, not meant for signatures (`use` other than
    /// `sig`), or symmetric (`kty: oct`: a published key must never be an
    /// HMAC secret) is refused, with the reason.
    pub fn from_jwk(jwk: &jwk::Jwk) -> Result<Key, &'static str> {
        if let Some(usage) = &jwk.common.public_key_use
            && *usage != jwk::PublicKeyUse::Signature
        {
            return Err("not a signing key (`use` is not `sig`)");
        }
        let alg = match &jwk.algorithm {
            jwk::AlgorithmParameters::RSA(_) => Alg::Rs256,
            jwk::AlgorithmParameters::EllipticCurve(ec) if ec.curve == jwk::EllipticCurve::P256 => {
                Alg::Es256
            }
            jwk::AlgorithmParameters::OctetKeyPair(okp)
                if okp.curve == jwk::EllipticCurve::Ed25519 =>
            {
                Alg::EdDsa
            }
            jwk::AlgorithmParameters::OctetKey(_) => {
                return Err("a symmetric key (`kty: oct`) is never taken from a JWK set");
            }
            _ => return Err("not an RSA, P-256 or Ed25519 key"),
        };
        if let Some(named) = jwk.common.key_algorithm
            && jwk::KeyAlgorithm::from(alg.jose()) != named
        {
            return Err("its `alg` is not the one its key type pins (RS256, ES256, EdDSA)");
        }
        let key = match &jwk.algorithm {
            jwk::AlgorithmParameters::RSA(rsa) => {
                let (n, e) = (
                    B64.decode(&rsa.n).map_err(|_| "`n` is not base64url")?,
                    B64.decode(&rsa.e).map_err(|_| "`e` is not base64url")?,
                );
                let bytes = rsa_modulus_bytes(&n, &e).map_err(|bits| match bits {
                    Some(_) => "an RSA key under 2048 bits",
                    None => "not a valid RSA public key",
                })?;
                Key::new(alg, DecodingKey::from_rsa_raw_components(&n, &e), bytes)
            }
            jwk::AlgorithmParameters::EllipticCurve(ec) => {
                let (x, y) = (
                    B64.decode(&ec.x).map_err(|_| "`x` is not base64url")?,
                    B64.decode(&ec.y).map_err(|_| "`y` is not base64url")?,
                );
                if x.len() != 32 || y.len() != 32 {
                    return Err("a P-256 point has 32-byte coordinates");
                }
                let mut point = vec![0x04];
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                Key::new(alg, DecodingKey::from_ec_der(&point), 64)
                    .probed()
                    .ok_or("not a point of P-256")?
            }
            jwk::AlgorithmParameters::OctetKeyPair(okp) => {
                let raw: [u8; 32] = B64
                    .decode(&okp.x)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or("an Ed25519 key is 32 bytes of base64url")?;
                Key::ed25519_bytes(&raw).map_err(|_| "not an Ed25519 public key")?
            }
            _ => return Err("not an RSA, P-256 or Ed25519 key"),
        };
        Ok(key.with_kid(jwk.common.key_id.clone()))
    }

    fn new(alg: Alg, key: DecodingKey, signature_len: usize) -> Key {
        Key {
            alg,
            kid: None,
            key,
            signature_len,
        }
    }

    /// The key, if `jsonwebtoken` can build a verifier from it (a point on
    /// its curve, for the elliptic ones): checked once, at load, instead of
    /// failing every token later.
    fn probed(self) -> Option<Key> {
        jsonwebtoken::crypto::verify("AAAA", b"", &self.key, self.alg.jose())
            .ok()
            .map(|_| self)
    }

    /// The one algorithm this key verifies.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The key id (`kid`), if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The same key with this key id.
    pub fn with_kid(mut self, kid: Option<String>) -> Key {
        self.kid = kid;
        self
    }
}

fn pad(text: &str) -> String {
    let mut padded = text.to_string();
    while !padded.len().is_multiple_of(4) {
        padded.push('=');
    }
    padded
}

/// The modulus length in bytes of an RSA key that is big enough, or
/// `Err(Some(bits))` when it is too small, `Err(None)` when it is no key.
fn rsa_modulus_bytes(n: &[u8], e: &[u8]) -> Result<usize, Option<usize>> {
    let n = strip_zeros(n);
    let e = strip_zeros(e);
    // An odd public exponent of at most 33 bits (what RSA libraries accept).
    let exponent_ok = !e.is_empty()
        && e.len() <= 5
        && e[e.len() - 1] & 1 == 1
        && e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)) > 1
        && e.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)) < 1 << 33;
    if n.is_empty() || !exponent_ok || n[n.len() - 1] & 1 == 0 {
        return Err(None);
    }
    let bits = n.len() * 8 - n[0].leading_zeros() as usize;
    if bits < 2048 {
        return Err(Some(bits));
    }
    if bits > 8192 {
        return Err(None);
    }
    Ok(n.len())
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// The keys of a JWK set (RFC 7517), as an identity provider publishes them.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    /// The usable keys of a JWKS document, and a line for each key left out
    /// (`kid: reason`), for the operator's log. A document with no usable
    /// key is an error.
    pub fn from_jwks(json: &[u8]) -> Result<(KeySet, Vec<String>), KeyError> {
        let document: Value = serde_json::from_slice(json).map_err(|_| KeyError::JwkSet)?;
        let entries = document
            .get("keys")
            .and_then(Value::as_array)
            .ok_or(KeyError::JwkSet)?;
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for entry in entries {
            let kid = entry
                .get("kid")
                .and_then(Value::as_str)
                .unwrap_or("(no kid)")
                .chars()
                .take(64)
                .collect::<String>();
            match serde_json::from_value::<jwk::Jwk>(entry.clone()) {
                Ok(jwk) => match Key::from_jwk(&jwk) {
                    Ok(key) => keys.push(key),
                    Err(reason) => skipped.push(format!("{kid}: {reason}")),
                },
                Err(_) => skipped.push(format!("{kid}: not a JWK")),
            }
        }
        if keys.is_empty() {
            let detail = if skipped.is_empty() {
                String::new()
            } else {
                format!(" (left out: {})", skipped.join("; "))
            };
            return Err(KeyError::NoUsableKey(detail));
        }
        Ok((KeySet { keys }, skipped))
    }

    /// A set of these keys.
    pub fn new(keys: Vec<Key>) -> KeySet {
        KeySet { keys }
    }

    /// The key a token names by `kid`; a token without a `kid` only gets the
    /// key of a set holding exactly one.
    pub fn find(&self, kid: Option<&str>) -> Option<&Key> {
        match kid {
            Some(kid) => self.keys.iter().find(|key| key.kid() == Some(kid)),
            None if self.keys.len() == 1 => self.keys.first(),
            None => None,
        }
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Why a token was refused. Each is a fixed phrase: nothing from the token
/// is ever echoed back. Callers map them to their own words and codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// An empty string.
    #[error("the token is empty")]
    Empty,
    /// Longer than the caller's limit.
    #[error("the token is too long")]
    TooLong,
    /// Bytes outside `[A-Za-z0-9_.-]`.
    #[error("the token has characters outside [A-Za-z0-9_.-]")]
    Charset,
    /// Not three dot-separated parts.
    #[error("a JWT has three parts")]
    Parts,
    /// One of the three parts is empty (an unsigned `alg: none` token, say).
    #[error("a part of the token is empty")]
    EmptyPart,
    /// The header is not base64url of one JSON object with unique members.
    #[error("the header is not base64url JSON")]
    Header,
    /// `alg` is not the algorithm the key pins (or is missing, or `none`).
    #[error("the token names another algorithm than its key's")]
    Algorithm,
    /// `typ` is not the one required.
    #[error("the token has the wrong typ")]
    Type,
    /// The header has a `crit` member: an extension we do not understand.
    #[error("the token needs an unsupported extension (crit)")]
    Critical,
    /// The token's `kid` names no key the verifier holds.
    #[error("the token was signed by an unknown key")]
    UnknownKey,
    /// The signature is not base64url of the key's signature length.
    #[error("the signature is malformed")]
    SignatureMalformed,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    Signature,
    /// The payload is not base64url of the JSON claims expected.
    #[error("the claims are not the JSON expected")]
    Claims,
    /// A required claim is missing.
    #[error("the token lacks a required claim")]
    MissingClaim(&'static str),
    /// A claim has the wrong type (a time that is not a number, say).
    #[error("a claim of the token has the wrong type")]
    ClaimType(&'static str),
    /// `exp` has passed, beyond the leeway.
    #[error("the token has expired")]
    Expired,
    /// `nbf` or `iat` is in the future, beyond the leeway.
    #[error("the token is not valid yet")]
    NotYetValid,
}

/// What the header's `typ` must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typ<'a> {
    /// Anything, or nothing.
    Any,
    /// Exactly this string.
    Exact(&'a str),
    /// This media type: compared case-insensitively, with or without
    /// `application/` (RFC 7515 §4.1.9).
    MediaType(&'a str),
}

impl Typ<'_> {
    fn accepts(self, typ: Option<&str>) -> bool {
        match self {
            Typ::Any => true,
            Typ::Exact(expected) => typ == Some(expected),
            Typ::MediaType(expected) => typ.is_some_and(|typ| media_type_eq(typ, expected)),
        }
    }
}

fn media_type_eq(a: &str, b: &str) -> bool {
    fn bare(t: &str) -> &str {
        match t.get(..12) {
            Some(prefix) if t.len() > 12 && prefix.eq_ignore_ascii_case("application/") => &t[12..],
            _ => t,
        }
    }
    bare(a).eq_ignore_ascii_case(bare(b))
}

/// The JOSE header of a parsed token.
#[derive(Debug, Clone)]
pub struct Header {
    /// `alg`, when it is a string.
    pub alg: Option<String>,
    /// `typ`, when present.
    pub typ: Option<String>,
    /// `kid`, when present.
    pub kid: Option<String>,
    crit: bool,
}

/// One JSON object whose members are unique (RFC 7515 §4: a header with a
/// duplicate member, such as two `alg`s, is refused rather than read one of
/// two ways).
struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> Visitor<'de> for Members {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<UniqueObject, A::Error> {
                let mut members = Map::new();
                while let Some(name) = access.next_key::<String>()? {
                    if members.contains_key(&name) {
                        return Err(A::Error::custom("a duplicate member"));
                    }
                    let value: Value = access.next_value()?;
                    members.insert(name, value);
                }
                Ok(UniqueObject(members))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// A token that passed the checks made before any key is chosen: size,
/// charset, three non-empty parts, and a header that is one JSON object.
#[derive(Debug, Clone)]
pub struct Token<'a> {
    header: Header,
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

/// Reads `token`'s structure and header, refusing before any decoding what
/// is empty, longer than `max_len` bytes, or outside `[A-Za-z0-9_.-]`.
pub fn parse(token: &str, max_len: usize) -> Result<Token<'_>, JwtError> {
    if token.is_empty() {
        return Err(JwtError::Empty);
    }
    if token.len() > max_len {
        return Err(JwtError::TooLong);
    }
    if !token
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err(JwtError::Charset);
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Parts);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(JwtError::EmptyPart);
    }
    let signed_len = header.len() + 1 + payload.len();
    let bytes = B64.decode(header).map_err(|_| JwtError::Header)?;
    let UniqueObject(members) = serde_json::from_slice(&bytes).map_err(|_| JwtError::Header)?;
    let text = |name: &str| -> Result<Option<String>, JwtError> {
        match members.get(name) {
            None => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(JwtError::Header),
        }
    };
    let header = Header {
        alg: members
            .get("alg")
            .and_then(Value::as_str)
            .map(str::to_string),
        typ: text("typ")?,
        kid: text("kid")?,
        // Present at all, even as `null`, is refused (RFC 7515 §4.1.11).
        crit: members.contains_key("crit"),
    };
    Ok(Token {
        header,
        signing_input: &token[..signed_len],
        payload,
        signature,
    })
}

impl Token<'_> {
    /// The header (to choose a key by its `kid`).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The claims, if the header names exactly `key`'s algorithm, has the
    /// `typ` asked for and no `crit`, and the signature verifies with `key`.
    /// Only then is the payload decoded.
    pub fn verify<T: DeserializeOwned>(&self, key: &Key, typ: Typ<'_>) -> Result<T, JwtError> {
        if self.header.alg.as_deref() != Some(key.alg.as_str()) {
            return Err(JwtError::Algorithm);
        }
        if !typ.accepts(self.header.typ.as_deref()) {
            return Err(JwtError::Type);
        }
        if self.header.crit {
            return Err(JwtError::Critical);
        }
        let signature = B64
            .decode(self.signature)
            .map_err(|_| JwtError::SignatureMalformed)?;
        if signature.len() != key.signature_len {
            return Err(JwtError::SignatureMalformed);
        }
        let verified = jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            &key.key,
            key.alg.jose(),
        );
        if verified != Ok(true) {
            return Err(JwtError::Signature);
        }
        let payload = B64.decode(self.payload).map_err(|_| JwtError::Claims)?;
        serde_json::from_slice(&payload).map_err(|_| JwtError::Claims)
    }
}

/// A NumericDate claim (RFC 7519 §2) of `claims` as whole seconds: an
/// integer, or a finite number with a fraction (rounded down). Absent is
/// `Ok(None)`; any other type is [`JwtError::ClaimType`].
pub fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, JwtError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    value
        .as_i64()
        .or_else(|| {
            value
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e15)
                .map(|f| f.floor() as i64)
        })
        .map(Some)
        .ok_or(JwtError::ClaimType(name))
}

/// A token's time claims, each checked when present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Times {
    /// Expires at (`exp`).
    pub exp: Option<i64>,
    /// Not before (`nbf`).
    pub nbf: Option<i64>,
    /// Issued at (`iat`): a token from the future is not valid yet.
    pub iat: Option<i64>,
}

/// Whether `times` hold at `now`, with `leeway` seconds of clock skew either
/// way: expired from `exp + leeway` on, not valid before `nbf - leeway` (nor
/// before `iat - leeway`). Saturating: a signed time at the ends of `i64`
/// is judged, never overflowed.
pub fn check_times(times: Times, now: i64, leeway: i64) -> Result<(), JwtError> {
    if let Some(exp) = times.exp
        && now >= exp.saturating_add(leeway)
    {
        return Err(JwtError::Expired);
    }
    for start in [times.nbf, times.iat].into_iter().flatten() {
        if now < start.saturating_sub(leeway) {
            return Err(JwtError::NotYetValid);
        }
    }
    Ok(())
}

/// Whether an `aud` claim (a string, or a list of strings) holds `expected`.
pub fn audience_contains(aud: Option<&Value>, expected: &str) -> bool {
    match aud {
        Some(Value::String(aud)) => aud == expected,
        Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected)),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
