//! The verifier against tokens signed by `jsonwebtoken` with the test keys
//! of `testdata/` (RS256, ES256, EdDSA, HS256), and against every shape
//! RFC 8725 says to refuse.

use jsonwebtoken::{Algorithm, EncodingKey, jwk::Jwk};
use serde_json::json;

use super::*;

const NOW: i64 = 1_800_000_000;
const SECRET: &[u8] = b"a-shared-secret-of-at-least-32-bytes!";

macro_rules! testdata {
    ($file:literal) => {
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/", $file))
    };
}

/// A signing key of each algorithm, and its public half as a [`Key`].
fn pairs() -> Vec<(Algorithm, EncodingKey, Key)> {
    vec![
        (Algorithm::HS256, hmac_key(), Key::hs256(SECRET).unwrap()),
        (
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(testdata!("rsa-2048.key.pem").as_bytes()).unwrap(),
            Key::rs256_pem(testdata!("rsa-2048.pub.pem")).unwrap(),
        ),
        (
            Algorithm::ES256,
            EncodingKey::from_ec_pem(testdata!("ec-p256.key.pem").as_bytes()).unwrap(),
            Key::es256_pem(testdata!("ec-p256.pub.pem")).unwrap(),
        ),
        (
            Algorithm::EdDSA,
            EncodingKey::from_ed_pem(testdata!("ed25519.key.pem").as_bytes()).unwrap(),
            Key::ed25519(testdata!("ed25519.pub.pem")).unwrap(),
        ),
    ]
}

/// A compact JWS of these exact header and claims texts.
fn sign(header: &str, claims: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let signed = format!("{}.{}", B64.encode(header), B64.encode(claims));
    let signature = jsonwebtoken::crypto::sign(signed.as_bytes(), key, alg).unwrap();
    format!("{signed}.{signature}")
}

fn claims() -> String {
    json!({ "sub": "42", "iat": NOW, "exp": NOW + 600 }).to_string()
}

fn verify(token: &str, key: &Key) -> Result<Map<String, Value>, JwtError> {
    parse(token, 8192)?.verify(key, Typ::Any)
}

#[test]
fn each_algorithm_verifies_its_own_tokens_and_only_with_its_own_key() {
    let pairs = pairs();
    for (alg, signing, key) in &pairs {
        let header = format!(r#"{{"alg":"{}","typ":"JWT"}}"#, key.alg());
        let token = sign(&header, &claims(), signing, *alg);
        assert_eq!(
            verify(&token, key).unwrap()["sub"],
            "42",
            "{alg:?} verifies"
        );
        for (_, _, other) in pairs.iter().filter(|(a, _, _)| a != alg) {
            assert_eq!(
                verify(&token, other).unwrap_err(),
                JwtError::Algorithm,
                "{alg:?} token, {:?} key: the key pins its algorithm",
                other.alg()
            );
        }
    }
}

#[test]
fn one_changed_character_anywhere_is_refused() {
    for (alg, signing, key) in pairs() {
        let header = format!(r#"{{"alg":"{}"}}"#, key.alg());
        let token = sign(&header, &claims(), &signing, alg);
        for at in (0..token.len()).step_by(7) {
            let mut bytes = token.clone().into_bytes();
            if bytes[at] == b'.' {
                continue;
            }
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            assert!(
                verify(&tampered, &key).is_err(),
                "{alg:?}: a change at byte {at} was accepted"
            );
        }
    }
}

#[test]
fn algorithm_confusion_and_unsigned_tokens_are_refused_before_any_signature_check() {
    let rsa = Key::rs256_pem(testdata!("rsa-2048.pub.pem")).unwrap();
    // HS256 keyed with the RSA public key's PEM text: the classic confusion.
    let confused = sign(
        r#"{"alg":"HS256"}"#,
        &claims(),
        &EncodingKey::from_secret(testdata!("rsa-2048.pub.pem").as_bytes()).unwrap(),
        Algorithm::HS256,
    );
    assert_eq!(verify(&confused, &rsa).unwrap_err(), JwtError::Algorithm);
    let none = format!(
        "{}.{}.",
        B64.encode(r#"{"alg":"none"}"#),
        B64.encode(claims())
    );
    assert_eq!(verify(&none, &rsa).unwrap_err(), JwtError::EmptyPart);
    let none_signed = format!("{}AAAA", none);
    assert_eq!(verify(&none_signed, &rsa).unwrap_err(), JwtError::Algorithm);
    let no_alg = format!(
        "{}.{}.AAAA",
        B64.encode(r#"{"typ":"JWT"}"#),
        B64.encode(claims())
    );
    assert_eq!(verify(&no_alg, &rsa).unwrap_err(), JwtError::Algorithm);
}

#[test]
fn structure_is_checked_before_anything_is_decoded() {
    let key = Key::hs256(SECRET).unwrap();
    let hs = |header: &str| sign(header, &claims(), &hmac_key(), Algorithm::HS256);
    let cases: Vec<(String, JwtError)> = vec![
        (String::new(), JwtError::Empty),
        ("a".repeat(8193), JwtError::TooLong),
        ("a.b.c d".into(), JwtError::Charset),
        ("é.é.é".into(), JwtError::Charset),
        ("a.b".into(), JwtError::Parts),
        ("a.b.c.d".into(), JwtError::Parts),
        ("a..c".into(), JwtError::EmptyPart),
        ("!!!".replace('!', "a") + ".b.c", JwtError::Header),
        (hs(r#"[1,2]"#), JwtError::Header),
        (hs(r#"{"alg":"HS256","alg":"none"}"#), JwtError::Header),
        (hs(r#"{"alg":"none","alg":"HS256"}"#), JwtError::Header),
        (hs(r#"{"alg":"HS256","typ":7}"#), JwtError::Header),
        (hs(r#"{"alg":"HS256","crit":["exp"]}"#), JwtError::Critical),
        (hs(r#"{"alg":"HS256","crit":null}"#), JwtError::Critical),
    ];
    for (token, expected) in cases {
        assert_eq!(verify(&token, &key).unwrap_err(), expected, "{token:.60}");
    }
    // The payload is only read once the signature holds.
    let garbage = sign(
        r#"{"alg":"HS256"}"#,
        "not json",
        &hmac_key(),
        Algorithm::HS256,
    );
    assert_eq!(verify(&garbage, &key).unwrap_err(), JwtError::Claims);
    let short = format!("{}.AAAA", garbage.rsplit_once('.').unwrap().0);
    assert_eq!(
        verify(&short, &key).unwrap_err(),
        JwtError::SignatureMalformed
    );
}

#[test]
fn typ_rules_compare_exactly_or_as_media_types() {
    let key = Key::hs256(SECRET).unwrap();
    let token = |typ: &str| {
        sign(
            &format!(r#"{{"alg":"HS256","typ":"{typ}"}}"#),
            &claims(),
            &hmac_key(),
            Algorithm::HS256,
        )
    };
    let check = |token: &str, typ: Typ<'_>| parse(token, 8192).unwrap().verify::<Value>(&key, typ);
    assert!(check(&token("at+jwt"), Typ::MediaType("application/AT+JWT")).is_ok());
    assert!(check(&token("JWT"), Typ::MediaType("jwt")).is_ok());
    assert_eq!(
        check(&token("JWT"), Typ::MediaType("at+jwt")).unwrap_err(),
        JwtError::Type
    );
    assert!(
        check(
            &token("ringside-client+jwt"),
            Typ::Exact("ringside-client+jwt")
        )
        .is_ok()
    );
    assert_eq!(
        check(
            &token("Ringside-Client+JWT"),
            Typ::Exact("ringside-client+jwt")
        )
        .unwrap_err(),
        JwtError::Type
    );
    let untyped = sign(
        r#"{"alg":"HS256"}"#,
        &claims(),
        &hmac_key(),
        Algorithm::HS256,
    );
    assert_eq!(
        check(&untyped, Typ::MediaType("JWT")).unwrap_err(),
        JwtError::Type,
        "a required typ must be present"
    );
}

#[test]
fn keys_too_weak_or_of_another_kind_are_refused_when_loaded() {
    assert_eq!(Key::hs256(b"short").unwrap_err(), KeyError::ShortSecret);
    assert_eq!(
        Key::rs256_pem(testdata!("rsa-1024.pub.pem")).unwrap_err(),
        KeyError::RsaTooSmall(1024)
    );
    assert_eq!(
        Key::rs256_pem(testdata!("rsa-2048.key.pem")).unwrap_err(),
        KeyError::RsaPem,
        "a private key is not a public key"
    );
    assert_eq!(
        Key::rs256_pem(testdata!("ec-p256.pub.pem")).unwrap_err(),
        KeyError::RsaPem
    );
    assert_eq!(
        Key::es256_pem(testdata!("ec-p384.pub.pem")).unwrap_err(),
        KeyError::EcPem,
        "ES256 is P-256 only"
    );
    assert_eq!(
        Key::es256_pem(testdata!("rsa-2048.pub.pem")).unwrap_err(),
        KeyError::EcPem
    );
    assert_eq!(Key::ed25519("AAAA").unwrap_err(), KeyError::Ed25519);
    assert_eq!(
        Key::ed25519(testdata!("ec-p256.pub.pem")).unwrap_err(),
        KeyError::Ed25519
    );
    let raw = Key::ed25519(testdata!("ed25519.pub.pem")).unwrap();
    assert_eq!(raw.alg(), Alg::EdDsa);
}

fn jwk(signing: &EncodingKey, alg: Algorithm, kid: &str) -> Value {
    let mut jwk = serde_json::to_value(Jwk::from_encoding_key(signing, alg).unwrap()).unwrap();
    jwk["kid"] = json!(kid);
    jwk
}

#[test]
fn a_jwk_set_yields_its_signing_keys_and_says_why_it_left_others_out() {
    let pairs = pairs();
    let mut keys: Vec<Value> = pairs[1..]
        .iter()
        .map(|(alg, signing, _)| jwk(signing, *alg, &format!("{alg:?}")))
        .collect();
    keys.push(json!({"kty": "oct", "kid": "hmac", "k": B64.encode(SECRET)}));
    keys.push(json!({"kty": "OKP", "crv": "Ed25519", "kid": "short", "x": "AAAA"}));
    let mut enc = jwk(&pairs[1].1, Algorithm::RS256, "enc");
    enc["use"] = json!("enc");
    keys.push(enc);
    let mut lying = jwk(&pairs[2].1, Algorithm::ES256, "lying");
    lying["alg"] = json!("RS256");
    keys.push(lying);
    keys.push(json!({"kty": "EC", "crv": "P-256", "kid": "off-curve", "x": B64.encode([1u8; 32]), "y": B64.encode([2u8; 32])}));
    keys.push(json!({"kid": "junk"}));
    let document = json!({ "keys": keys }).to_string();

    let (set, skipped) = KeySet::from_jwks(document.as_bytes()).unwrap();
    assert_eq!(set.len(), 3, "RS256, ES256 and EdDSA: {skipped:?}");
    for kid in ["hmac", "short", "enc", "lying", "off-curve", "junk"] {
        assert!(
            skipped
                .iter()
                .any(|line| line.starts_with(&format!("{kid}: "))),
            "{kid} is left out with a reason: {skipped:?}"
        );
    }
    for (alg, signing, _) in &pairs[1..] {
        let kid = format!("{alg:?}");
        let key = set.find(Some(&kid)).unwrap();
        let header = format!(r#"{{"alg":"{}","kid":"{kid}"}}"#, key.alg());
        let token = sign(&header, &claims(), signing, *alg);
        let parsed = parse(&token, 8192).unwrap();
        let key = set.find(parsed.header().kid.as_deref()).unwrap();
        assert!(parsed.verify::<Value>(key, Typ::Any).is_ok(), "{alg:?}");
    }
    assert!(
        set.find(None).is_none(),
        "no kid: no key chosen among several"
    );
    assert!(set.find(Some("hmac")).is_none());

    let one = json!({ "keys": [jwk(&pairs[3].1, Algorithm::EdDSA, "only")] }).to_string();
    let (one, _) = KeySet::from_jwks(one.as_bytes()).unwrap();
    assert_eq!(
        one.find(None).map(Key::alg),
        Some(Alg::EdDsa),
        "the only key"
    );

    for bad in [
        "{}",
        "[]",
        "not json",
        r#"{"keys": [{"kty": "oct", "k": "AAAA"}]}"#,
    ] {
        assert!(KeySet::from_jwks(bad.as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn times_hold_with_leeway_and_never_overflow() {
    let times = Times {
        exp: Some(NOW + 10),
        nbf: Some(NOW - 10),
        iat: Some(NOW - 10),
    };
    assert_eq!(check_times(times, NOW, 30), Ok(()));
    assert_eq!(check_times(times, NOW + 39, 30), Ok(()));
    assert_eq!(check_times(times, NOW + 40, 30), Err(JwtError::Expired));
    assert_eq!(check_times(times, NOW - 40, 30), Ok(()));
    assert_eq!(check_times(times, NOW - 41, 30), Err(JwtError::NotYetValid));
    let future_iat = Times {
        iat: Some(NOW + 31),
        ..Times::default()
    };
    assert_eq!(check_times(future_iat, NOW, 30), Err(JwtError::NotYetValid));
    assert_eq!(check_times(Times::default(), NOW, 30), Ok(()));
    let extremes = Times {
        exp: Some(i64::MAX),
        nbf: Some(i64::MIN),
        iat: None,
    };
    assert_eq!(check_times(extremes, NOW, 30), Ok(()));
    let never = Times {
        nbf: Some(i64::MAX),
        ..Times::default()
    };
    assert_eq!(check_times(never, NOW, 30), Err(JwtError::NotYetValid));
    let gone = Times {
        exp: Some(i64::MIN),
        ..Times::default()
    };
    assert_eq!(check_times(gone, NOW, 30), Err(JwtError::Expired));

    let claims = json!({"a": 12, "b": 12.9, "c": "12", "d": 1e300})
        .as_object()
        .unwrap()
        .clone();
    assert_eq!(numeric_date(&claims, "a"), Ok(Some(12)));
    assert_eq!(numeric_date(&claims, "b"), Ok(Some(12)));
    assert_eq!(numeric_date(&claims, "c"), Err(JwtError::ClaimType("c")));
    assert_eq!(numeric_date(&claims, "d"), Err(JwtError::ClaimType("d")));
    assert_eq!(numeric_date(&claims, "e"), Ok(None));
    assert!(audience_contains(Some(&json!(["x", "chat"])), "chat"));
    assert!(audience_contains(Some(&json!("chat")), "chat"));
    assert!(!audience_contains(Some(&json!(["chatty"])), "chat"));
    assert!(!audience_contains(None, "chat"));
}

fn hmac_key() -> EncodingKey {
    EncodingKey::from_secret(SECRET).unwrap()
}
