//! The mint's session-JWT verifier (RFC 8725 rules) on arbitrary input.
//!
//! The first byte picks a mode:
//! - a raw token: verification never panics, and never accepts it (the
//!   fuzzer holds neither the HS256 secret nor the Ed25519 key);
//! - a header and claims the fuzzer writes (split at the first NUL), signed
//!   with the right HS256 secret: whatever is accepted has `alg: HS256`, no
//!   `crit`, a header without duplicate members, the configured issuer and
//!   audience, a subject, an `exp` that holds at `now`, and `nbf` and `iat`
//!   that hold when present (issue #13: they are optional); the same token
//!   with one character changed is refused; and the user handle made from
//!   its subject is a valid, bounded customer id.
#![no_main]

use std::sync::LazyLock;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::SigningKey;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use ringside_mint::jwt::{Key, Rules, Verifier};
use ringside_mint::session::user_external_id;
use sha2::Sha256;

const SECRET: &[u8] = b"a-session-secret-of-at-least-32-bytes";
const NOW: i64 = 1_800_000_000;

static RULES: LazyLock<Rules> = LazyLock::new(|| Rules {
    issuer: Some("app".into()),
    audience: Some("chat".into()),
    typ: None,
    ..Rules::default()
});
static HS256: LazyLock<Verifier> = LazyLock::new(|| {
    Verifier::new(
        Key::hs256(SECRET).expect("long enough"),
        RULES.clone(),
    )
});
static EDDSA: LazyLock<Verifier> = LazyLock::new(|| {
    let public = SigningKey::from_bytes(&[5; 32]).verifying_key();
    Verifier::new(
        Key::ed25519(&B64.encode(public.as_bytes())).expect("a key"),
        RULES.clone(),
    )
});

fn sign(header: &[u8], claims: &[u8]) -> String {
    let signed = format!("{}.{}", B64.encode(header), B64.encode(claims));
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET).expect("any key");
    mac.update(signed.as_bytes());
    format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
}

fn time(claims: &serde_json::Value, name: &str) -> Option<i64> {
    let value = claims.get(name)?;
    Some(
        value
            .as_i64()
            .or_else(|| value.as_f64().map(|f| f.floor() as i64))
            .unwrap_or_else(|| panic!("an accepted token has a numeric {name}: {claims}")),
    )
}

/// Whether a JSON object's text names one member twice (at its top level).
fn has_duplicate_member(json: &[u8]) -> bool {
    struct Seen(bool);
    impl<'de> serde::Deserialize<'de> for Seen {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Seen;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut a: A) -> Result<Seen, A::Error> {
                    let mut names = std::collections::HashSet::new();
                    let mut twice = false;
                    while let Some(name) = a.next_key::<String>()? {
                        twice |= !names.insert(name);
                        a.next_value::<serde::de::IgnoredAny>()?;
                    }
                    Ok(Seen(twice))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Seen>(json).is_ok_and(|seen| seen.0)
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let token = String::from_utf8_lossy(rest);
        for verifier in [&*HS256, &*EDDSA] {
            let result = verifier.verify(&token, NOW);
            assert!(
                result.is_err(),
                "an unsigned token was accepted: {token:?} -> {result:?}"
            );
        }
        return;
    }
    let (header, claims) = match rest.iter().position(|&b| b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (&br#"{"alg":"HS256","typ":"JWT"}"#[..], rest),
    };
    let token = sign(header, claims);
    assert!(
        EDDSA.verify(&token, NOW).is_err(),
        "an EdDSA verifier accepted an HS256 token"
    );
    let Ok(verified) = HS256.verify(&token, NOW) else {
        return;
    };
    let header_bytes = header;
    let header: serde_json::Value =
        serde_json::from_slice(header).expect("an accepted header is JSON");
    let claims: serde_json::Value =
        serde_json::from_slice(claims).expect("accepted claims are JSON");
    assert_eq!(header["alg"], "HS256", "another algorithm was accepted");
    assert!(
        !has_duplicate_member(header_bytes),
        "a header naming a member twice was accepted"
    );
    assert!(header.get("crit").is_none(), "a crit header was accepted");
    assert_eq!(claims["iss"], "app", "another issuer was accepted");
    let audience_ok = claims["aud"] == "chat"
        || claims["aud"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "chat"));
    assert!(audience_ok, "another audience was accepted: {claims}");
    assert_eq!(
        claims["sub"].as_str(),
        Some(verified.sub.as_str()),
        "the subject changed"
    );
    assert!(!verified.sub.is_empty(), "an empty subject was accepted");
    let leeway = RULES.leeway_secs;
    let exp = time(&claims, "exp").expect("an accepted token has an exp");
    assert!(
        NOW < exp.saturating_add(leeway),
        "an expired token was accepted"
    );
    assert!(
        time(&claims, "nbf").is_none_or(|nbf| nbf <= NOW + leeway),
        "a token before its nbf was accepted"
    );
    assert!(
        time(&claims, "iat").is_none_or(|iat| iat <= NOW + leeway),
        "a token issued in the future was accepted"
    );

    let handle = user_external_id(&verified.sub);
    assert!(
        (1..=255).contains(&handle.len())
            && handle.bytes().all(|b| b.is_ascii_graphic())
            && !handle.starts_with("cus_"),
        "a bad customer handle {handle:?} for the subject {:?}",
        verified.sub
    );

    let at = usize::from(mode) * token.len() / 256;
    let mut tampered = token.into_bytes();
    tampered[at] = if tampered[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    assert!(
        HS256.verify(&tampered, NOW).is_err(),
        "a token changed at byte {at} was accepted"
    );
});
