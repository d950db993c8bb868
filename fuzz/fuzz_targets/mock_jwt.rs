//! The mock's Client-Token verification (RFC 8725 rules, by `ringside-jwt`,
//! the verifier the mint shares) on arbitrary input.
//!
//! The first byte picks a mode:
//! - a raw token: verification never panics and never accepts it (nothing
//!   but the gateway's key can sign, and the fuzzer does not hold it);
//! - a header and claims the fuzzer writes, signed with the gateway's key:
//!   whatever it accepts has the issuer, the audience, a subject, a token id,
//!   and times that hold at `now`; and the same token with any one character
//!   changed is refused.
#![no_main]

use std::sync::LazyLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signer, SigningKey};
use libfuzzer_sys::fuzz_target;
use ringside_jwt::Key;
use ringside_mock::jwt::{AUDIENCE, LEEWAY_SECS, MAX_LEN, verify};

const ISSUER: &str = "ringside-mock";
const NOW: i64 = 1_800_000_000;

static KEY: LazyLock<SigningKey> = LazyLock::new(|| SigningKey::from_bytes(&[7; 32]));
static PUBLIC: LazyLock<Key> = LazyLock::new(|| {
    Key::ed25519_bytes(KEY.verifying_key().as_bytes()).expect("a point of the curve")
});

fn sign(header: &[u8], claims: &[u8]) -> String {
    let mut token = B64.encode(header);
    token.push('.');
    token.push_str(&B64.encode(claims));
    let signature = KEY.sign(token.as_bytes());
    token.push('.');
    token.push_str(&B64.encode(signature.to_bytes()));
    token
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    let key = &*PUBLIC;
    if mode % 2 == 0 {
        let token = String::from_utf8_lossy(rest);
        let result = verify(key, ISSUER, &token, NOW);
        assert!(
            result.is_err(),
            "an unsigned token was accepted: {token:?} -> {result:?}"
        );
        return;
    }
    // The header and the claims, split at the first NUL (or a fixed header).
    let (header, claims) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (&br#"{"alg":"EdDSA","typ":"ringside-client+jwt"}"#[..], rest),
    };
    let token = sign(header, claims);
    match verify(key, ISSUER, &token, NOW) {
        Ok(claims) => {
            assert!(
                token.len() <= MAX_LEN,
                "a token over the size limit was accepted"
            );
            assert_eq!(claims.iss, ISSUER, "another issuer was accepted");
            assert_eq!(claims.aud, AUDIENCE, "another audience was accepted");
            assert!(
                !claims.sub.is_empty() && !claims.jti.is_empty(),
                "sub and jti are required"
            );
            assert!(
                NOW >= claims.nbf.saturating_sub(LEEWAY_SECS),
                "a token before its nbf was accepted"
            );
            assert!(
                NOW < claims.exp.saturating_add(LEEWAY_SECS),
                "an expired token was accepted"
            );
            let header: serde_json::Value =
                serde_json::from_slice(header).expect("an accepted header is JSON");
            assert_eq!(header["alg"], "EdDSA", "another algorithm was accepted");
            assert_eq!(
                header["typ"], "ringside-client+jwt",
                "another typ was accepted"
            );
            assert!(header.get("crit").is_none(), "a crit header was accepted");
            // Change one character anywhere: the token must be refused.
            let at = usize::from(mode) * token.len() / 256;
            let mut tampered = token.clone().into_bytes();
            tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(tampered).expect("base64url and dots are ASCII");
            assert!(
                verify(key, ISSUER, &tampered, NOW).is_err(),
                "a token changed at byte {at} was still accepted"
            );
        }
        Err(_) => {}
    }
});
