//! Session JWTs as real identity providers issue them (issue #13): the
//! claims and headers of Supabase, Auth0, Firebase, Clerk, Cognito and Okta
//! tokens, signed in the test with RS256, ES256, EdDSA or HS256 keys, given
//! to the mint as a JWK set (fetched from a provider on loopback) or as PEM;
//! and the JWK set's cache: refreshed for an unknown `kid` at most once a
//! minute, served from cache while the provider is down.

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, jwk::Jwk};
use reqwest::StatusCode;
use ringside_mint::clock::Clock;
use ringside_mint::jwks::Jwks;
use ringside_mint::jwt::{Key, Rules, SessionKeys, Verifier};
use ringside_mint::session::Sessions;
use serde_json::{Value, json};

use crate::support::*;
use crate::testkey;

fn rsa() -> EncodingKey {
    EncodingKey::from_rsa_pem(testkey!("rsa-2048.key.pem").as_bytes()).unwrap()
}

fn ec() -> EncodingKey {
    EncodingKey::from_ec_pem(testkey!("ec-p256.key.pem").as_bytes()).unwrap()
}

fn ed() -> EncodingKey {
    EncodingKey::from_ed_pem(testkey!("ed25519.key.pem").as_bytes()).unwrap()
}

/// The public JWK of `key`, as a provider publishes it.
fn jwk(key: &EncodingKey, alg: Algorithm, kid: &str) -> Value {
    let mut jwk = serde_json::to_value(Jwk::from_encoding_key(key, alg).unwrap()).unwrap();
    jwk["kid"] = json!(kid);
    jwk["use"] = json!("sig");
    jwk
}

/// A compact JWS of exactly this header and these claims.
fn sign(header: &Value, claims: &Value, key: &EncodingKey, alg: Algorithm) -> String {
    let signed = format!(
        "{}.{}",
        base64_url(&header.to_string()),
        base64_url(&claims.to_string())
    );
    let signature = jsonwebtoken::crypto::sign(signed.as_bytes(), key, alg).unwrap();
    format!("{signed}.{signature}")
}

fn base64_url(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

fn sessions(keys: SessionKeys, rules: Rules) -> impl FnOnce(&mut ringside_mint::MintOptions) {
    move |options| {
        options.identity = Arc::new(Sessions::new(
            Verifier::with_keys(keys, rules),
            Some("session".into()),
            options.clock.clone(),
        ));
    }
}

/// A mint whose sessions are verified against `provider`'s JWK set, on the
/// mint's own (manual) clock.
async fn mint_with_jwks(mock: &Mock, provider: &Provider, rules: Rules) -> MintServer {
    let url = provider.url.clone();
    spawn_mint_with(&mock.url, &[], move |options| {
        let keys = SessionKeys::Jwks(Arc::new(Jwks::new(&url, options.clock.clone())));
        sessions(keys, rules)(options);
    })
    .await
}

async fn bearer(mint: &MintServer, token: &str) -> Answer {
    mint.request(&[
        ("origin", &mint.origin),
        ("authorization", &format!("Bearer {token}")),
    ])
    .await
}

fn rules(issuer: &str, audience: Option<&str>, typ: Option<&str>) -> Rules {
    Rules {
        issuer: Some(issuer.into()),
        audience: audience.map(Into::into),
        typ: typ.map(Into::into),
        ..Rules::default()
    }
}

#[tokio::test]
async fn tokens_shaped_like_each_providers_sessions_get_a_token_for_their_user() {
    let mock = spawn_mock().await;
    let provider = spawn_provider(json!({ "keys": [
        jwk(&rsa(), Algorithm::RS256, "rsa-2024-06"),
        jwk(&ec(), Algorithm::ES256, "ec-2025-01"),
        jwk(&ed(), Algorithm::EdDSA, "ed-1"),
    ]}))
    .await;
    let now = ringside_mint::clock::SystemClock::new().unix();
    let rs = |kid: &str| json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    // (provider, rules, header, claims, key, expected customer)
    let cases: Vec<(&str, Rules, Value, Value, EncodingKey, Algorithm, &str)> = vec![
        (
            "Auth0 (RS256, JWKS, two audiences, no nbf)",
            rules(
                "https://acme.eu.auth0.com/",
                Some("https://api.acme.example"),
                None,
            ),
            rs("rsa-2024-06"),
            json!({
                "iss": "https://acme.eu.auth0.com/", "sub": "auth0|65f2a9c1e4b0",
                "aud": ["https://api.acme.example", "https://acme.eu.auth0.com/userinfo"],
                "iat": now, "exp": now + 86_400, "scope": "openid profile email",
                "azp": "Xy7kP0aB3cD9",
            }),
            rsa(),
            Algorithm::RS256,
            "ext:user_auth0~7C65f2a9c1e4b0",
        ),
        (
            "Firebase (RS256, JWKS, aud = project id)",
            rules(
                "https://securetoken.google.com/acme-app",
                Some("acme-app"),
                None,
            ),
            rs("rsa-2024-06"),
            json!({
                "iss": "https://securetoken.google.com/acme-app", "aud": "acme-app",
                "auth_time": now - 600, "user_id": "kYq3bZ1", "sub": "kYq3bZ1",
                "iat": now, "exp": now + 3600, "email": "ada@acme.example",
                "email_verified": true,
                "firebase": {"identities": {"email": ["ada@acme.example"]}, "sign_in_provider": "password"},
            }),
            rsa(),
            Algorithm::RS256,
            "ext:user_kYq3bZ1",
        ),
        (
            "Clerk (RS256, JWKS, no aud: typ checked instead, nbf present)",
            rules("https://clerk.acme.example", None, Some("JWT")),
            rs("rsa-2024-06"),
            json!({
                "azp": "https://app.acme.example", "exp": now + 60, "iat": now,
                "iss": "https://clerk.acme.example", "nbf": now - 10,
                "sid": "sess_2abcXYZ", "sub": "user_2abcXYZ",
            }),
            rsa(),
            Algorithm::RS256,
            "ext:user_user_2abcXYZ",
        ),
        (
            "Cognito ID token (RS256, JWKS, aud = app client id)",
            rules(
                "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
                Some("5r0lsq2oa1fcd7bd5v0ab5n6pe"),
                None,
            ),
            json!({"alg": "RS256", "kid": "rsa-2024-06"}),
            json!({
                "sub": "9a7b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d",
                "aud": "5r0lsq2oa1fcd7bd5v0ab5n6pe", "email_verified": true,
                "token_use": "id", "auth_time": now,
                "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123",
                "cognito:username": "ada", "exp": now + 3600, "iat": now,
                "jti": "5b1c", "origin_jti": "7d2e",
            }),
            rsa(),
            Algorithm::RS256,
            "ext:user_9a7b1c2d-3e4f-5a6b-7c8d-9e0f1a2b3c4d",
        ),
        (
            "Okta (RS256, JWKS, api://default)",
            rules(
                "https://acme.okta.com/oauth2/default",
                Some("api://default"),
                None,
            ),
            rs("rsa-2024-06"),
            json!({
                "ver": 1, "jti": "AT.Xq", "iss": "https://acme.okta.com/oauth2/default",
                "aud": "api://default", "iat": now, "exp": now + 3600,
                "cid": "0oa1b2c3", "uid": "00u1b2c3", "scp": ["openid", "email"],
                "sub": "ada@acme.example",
            }),
            rsa(),
            Algorithm::RS256,
            "ext:user_ada@acme.example",
        ),
        (
            "Supabase with asymmetric keys (ES256, JWKS)",
            rules(
                "https://abcdefgh.supabase.co/auth/v1",
                Some("authenticated"),
                None,
            ),
            json!({"alg": "ES256", "typ": "JWT", "kid": "ec-2025-01"}),
            json!({
                "iss": "https://abcdefgh.supabase.co/auth/v1",
                "sub": "0b6f3c1e-2d4a-4b8e-9f7a-1c2d3e4f5a6b", "aud": "authenticated",
                "exp": now + 3600, "iat": now, "email": "ada@acme.example", "phone": "",
                "app_metadata": {"provider": "email", "providers": ["email"]},
                "user_metadata": {}, "role": "authenticated", "aal": "aal1",
                "amr": [{"method": "password", "timestamp": now}],
                "session_id": "2c1b", "is_anonymous": false,
            }),
            ec(),
            Algorithm::ES256,
            "ext:user_0b6f3c1e-2d4a-4b8e-9f7a-1c2d3e4f5a6b",
        ),
        (
            "a self-hosted provider (EdDSA, JWKS)",
            rules("https://id.acme.example", Some("chat"), Some("JWT")),
            json!({"alg": "EdDSA", "typ": "JWT", "kid": "ed-1"}),
            json!({"iss": "https://id.acme.example", "aud": "chat", "sub": "7", "iat": now, "exp": now + 900}),
            ed(),
            Algorithm::EdDSA,
            "ext:user_7",
        ),
    ];
    for (name, rules, header, claims, key, alg, customer) in cases {
        let mint = mint_with_jwks(&mock, &provider, rules).await;
        let answer = bearer(&mint, &sign(&header, &claims, &key, alg)).await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.text);
        assert_eq!(
            mock.external_id_of(answer.token()).await,
            customer,
            "{name}"
        );
    }

    // Supabase's legacy HS256 secret and PEM-configured keys.
    let supabase = json!({
        "iss": "https://abcdefgh.supabase.co/auth/v1", "sub": "0b6f3c1e", "aud": "authenticated",
        "exp": now + 3600, "iat": now, "role": "authenticated", "session_id": "2c1b",
    });
    let secret = b"super-secret-jwt-token-with-at-least-32-characters-long";
    let cases: Vec<(&str, Key, Value, EncodingKey, Algorithm)> = vec![
        (
            "Supabase (HS256 secret)",
            Key::hs256(secret).unwrap(),
            json!({"alg": "HS256", "typ": "JWT"}),
            EncodingKey::from_secret(secret).unwrap(),
            Algorithm::HS256,
        ),
        (
            "an RS256 PEM",
            Key::rs256_pem(testkey!("rsa-2048.pub.pem")).unwrap(),
            json!({"alg": "RS256", "typ": "JWT"}),
            rsa(),
            Algorithm::RS256,
        ),
        (
            "an ES256 PEM",
            Key::es256_pem(testkey!("ec-p256.pub.pem")).unwrap(),
            json!({"alg": "ES256", "typ": "JWT"}),
            ec(),
            Algorithm::ES256,
        ),
        (
            "an Ed25519 PEM",
            Key::ed25519(testkey!("ed25519.pub.pem")).unwrap(),
            json!({"alg": "EdDSA", "typ": "JWT"}),
            ed(),
            Algorithm::EdDSA,
        ),
    ];
    for (name, key, header, signing, alg) in cases {
        let mint = spawn_mint_with(
            &mock.url,
            &[],
            sessions(
                SessionKeys::Key(key),
                rules(
                    "https://abcdefgh.supabase.co/auth/v1",
                    Some("authenticated"),
                    None,
                ),
            ),
        )
        .await;
        let answer = bearer(&mint, &sign(&header, &supabase, &signing, alg)).await;
        assert_eq!(answer.status, StatusCode::OK, "{name}: {}", answer.text);
        assert_eq!(
            mock.external_id_of(answer.token()).await,
            "ext:user_0b6f3c1e"
        );
    }
}

#[tokio::test]
async fn a_jwks_key_pins_its_algorithm_and_tokens_for_another_audience_are_refused() {
    let mock = spawn_mock().await;
    let provider = spawn_provider(json!({ "keys": [
        jwk(&rsa(), Algorithm::RS256, "rsa"),
        jwk(&ec(), Algorithm::ES256, "ec"),
    ]}))
    .await;
    let mint = mint_with_jwks(
        &mock,
        &provider,
        rules("https://id.example", Some("chat"), None),
    )
    .await;
    let now = mint.clock.unix();
    let claims = json!({"iss": "https://id.example", "aud": "chat", "sub": "7", "iat": now, "exp": now + 600});
    let cases: Vec<(&str, String)> = vec![
        (
            "HS256 keyed with the RSA key's published modulus",
            sign(
                &json!({"alg": "HS256", "kid": "rsa"}),
                &claims,
                &EncodingKey::from_secret(
                    jwk(&rsa(), Algorithm::RS256, "rsa")["n"]
                        .as_str()
                        .unwrap()
                        .as_bytes(),
                )
                .unwrap(),
                Algorithm::HS256,
            ),
        ),
        (
            "the EC key's kid on an RS256 token",
            sign(
                &json!({"alg": "RS256", "kid": "ec"}),
                &claims,
                &rsa(),
                Algorithm::RS256,
            ),
        ),
        (
            "PS256 with the RS256 key",
            sign(
                &json!({"alg": "PS256", "kid": "rsa"}),
                &claims,
                &rsa(),
                Algorithm::PS256,
            ),
        ),
        (
            "no kid among two keys",
            sign(&json!({"alg": "RS256"}), &claims, &rsa(), Algorithm::RS256),
        ),
        (
            "alg none",
            format!(
                "{}.{}.AAAA",
                base64_url(r#"{"alg":"none","kid":"rsa"}"#),
                base64_url(&claims.to_string())
            ),
        ),
        (
            "a magic link: same key, another audience",
            sign(
                &json!({"alg": "RS256", "kid": "rsa"}),
                &json!({"iss": "https://id.example", "aud": "magic-link", "sub": "7", "iat": now, "exp": now + 600}),
                &rsa(),
                Algorithm::RS256,
            ),
        ),
    ];
    for (why, token) in cases {
        let answer = bearer(&mint, &token).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{why}: {}",
            answer.text
        );
        assert_eq!(answer.code(), "unauthenticated", "{why}");
    }
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (0, 0),
        "nothing reached Ringside"
    );
}

#[tokio::test]
async fn the_jwks_is_fetched_again_for_unknown_kids_at_most_once_a_minute_and_served_while_the_provider_is_down()
 {
    let mock = spawn_mock().await;
    let provider = spawn_provider(json!({ "keys": [jwk(&rsa(), Algorithm::RS256, "k1")] })).await;
    let mint = mint_with_jwks(
        &mock,
        &provider,
        rules("https://id.example", Some("chat"), None),
    )
    .await;
    mint.mint.start().await;
    assert_eq!(provider.fetches(), 1, "fetched once at start");
    let token = |kid: &str, key: &EncodingKey, alg: Algorithm| {
        let now = mint.clock.unix();
        sign(
            &json!({"alg": format!("{alg:?}"), "kid": kid}),
            &json!({"iss": "https://id.example", "aud": "chat", "sub": "7", "iat": now, "exp": now + 3 * 3600}),
            key,
            alg,
        )
    };
    let k1 = token("k1", &rsa(), Algorithm::RS256);
    assert_eq!(bearer(&mint, &k1).await.status, StatusCode::OK);
    assert_eq!(
        provider.fetches(),
        1,
        "a known kid is served from the cache"
    );

    // A flood of made-up kids: one fetch a minute at most.
    mint.clock.advance(Duration::from_secs(61));
    for i in 0..20 {
        let forged = token(&format!("made-up-{i}"), &rsa(), Algorithm::RS256);
        let answer = bearer(&mint, &forged).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
        assert!(answer.text.contains("unknown key"), "{}", answer.text);
    }
    assert_eq!(
        provider.fetches(),
        2,
        "20 unknown kids in a minute: one fetch"
    );

    // The provider rotates in a new key: within that minute its tokens wait,
    // then one fetch brings it in.
    provider.publish(json!({ "keys": [
        jwk(&rsa(), Algorithm::RS256, "k1"),
        jwk(&ec(), Algorithm::ES256, "k2"),
    ]}));
    let k2 = token("k2", &ec(), Algorithm::ES256);
    assert_eq!(bearer(&mint, &k2).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(provider.fetches(), 2);
    mint.clock.advance(Duration::from_secs(60));
    let k2 = token("k2", &ec(), Algorithm::ES256);
    assert_eq!(
        bearer(&mint, &k2).await.status,
        StatusCode::OK,
        "the rotated-in key"
    );
    assert_eq!(provider.fetches(), 3);

    // The provider goes down: cached keys keep working; unknown kids cost
    // one failed fetch a minute.
    provider.set_down(true);
    mint.clock.advance(Duration::from_secs(61));
    let unknown = token("k3", &rsa(), Algorithm::RS256);
    assert_eq!(
        bearer(&mint, &unknown).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        bearer(&mint, &unknown).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(provider.fetches(), 4, "one failed attempt");
    let k1 = token("k1", &rsa(), Algorithm::RS256);
    assert_eq!(
        bearer(&mint, &k1).await.status,
        StatusCode::OK,
        "served from cache while down"
    );
    let k2 = token("k2", &ec(), Algorithm::ES256);
    assert_eq!(bearer(&mint, &k2).await.status, StatusCode::OK);

    // An hour on, the keys are fetched again in the background: a key the
    // provider removed stops being accepted.
    provider.set_down(false);
    provider.publish(json!({ "keys": [jwk(&ec(), Algorithm::ES256, "k2")] }));
    mint.clock.advance(Duration::from_secs(3600));
    let k1 = token("k1", &rsa(), Algorithm::RS256);
    assert_eq!(
        bearer(&mint, &k1).await.status,
        StatusCode::OK,
        "still cached"
    );
    let waited = std::time::Instant::now();
    while provider.fetches() < 5 {
        assert!(
            waited.elapsed() < Duration::from_secs(5),
            "no background refresh"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        bearer(&mint, &k1).await.status,
        StatusCode::UNAUTHORIZED,
        "a key removed by the provider is dropped once the set is fetched again"
    );
}

#[tokio::test]
async fn a_provider_down_at_start_is_a_503_until_its_keys_can_be_fetched() {
    let mock = spawn_mock().await;
    let provider = spawn_provider(json!({ "keys": [jwk(&rsa(), Algorithm::RS256, "k1")] })).await;
    provider.set_down(true);
    let mint = mint_with_jwks(
        &mock,
        &provider,
        rules("https://id.example", Some("chat"), None),
    )
    .await;
    mint.mint.start().await;
    let now = mint.clock.unix();
    let session = sign(
        &json!({"alg": "RS256", "kid": "k1"}),
        &json!({"iss": "https://id.example", "aud": "chat", "sub": "7", "iat": now, "exp": now + 3600}),
        &rsa(),
        Algorithm::RS256,
    );
    let answer = bearer(&mint, &session).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "no key at all is the mint's trouble, not the user's: {}",
        answer.text
    );
    assert!(answer.header("retry-after").is_some());
    provider.set_down(false);
    assert_eq!(
        bearer(&mint, &session).await.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "within the minute, no new fetch"
    );
    assert_eq!(provider.fetches(), 1);
    mint.clock.advance(Duration::from_secs(60));
    let answer = bearer(&mint, &session).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(provider.fetches(), 2);
}
