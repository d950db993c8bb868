//! Signed-in users: the host app's session JWT, from `Authorization: Bearer`
//! or a cookie, verified by RFC 8725 rules; anything else is 401.

use std::sync::Arc;

use base64::Engine;
use ed25519_dalek::SigningKey;
use reqwest::StatusCode;
use ringside_mint::MintOptions;
use ringside_mint::clock::Clock;
use ringside_mint::jwt::{Key, Rules, Verifier};
use ringside_mint::session::Sessions;
use serde_json::{Value, json};

use crate::support::*;

const SECRET: &[u8] = b"the-host-apps-session-secret-0123456789";
const COOKIE: &str = "app_session";

fn rules() -> Rules {
    Rules {
        issuer: Some("https://app.example".into()),
        audience: Some("ringside-chat".into()),
        typ: Some("JWT".into()),
        ..Rules::default()
    }
}

fn with_sessions(key: Key) -> impl FnOnce(&mut MintOptions) {
    move |options| {
        options.identity = Arc::new(Sessions::new(
            Verifier::new(key, rules()),
            Some(COOKIE.into()),
            options.clock.clone(),
        ));
    }
}

fn claims_for(sub: &str, now: i64) -> Value {
    json!({
        "sub": sub, "iss": "https://app.example", "aud": ["ringside-chat"],
        "iat": now, "nbf": now, "exp": now + 3600,
    })
}

fn header(alg: &str) -> Value {
    json!({ "alg": alg, "typ": "JWT" })
}

#[tokio::test]
async fn a_signed_in_user_gets_a_token_for_its_own_customer_by_bearer_or_cookie() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], with_sessions(Key::hs256(SECRET).unwrap())).await;
    let now = mint.clock.unix();
    let session = jwt(
        &header("HS256"),
        &claims_for("user 42/é", now),
        hs256(SECRET),
    );

    let by_bearer = mint
        .request(&[
            ("origin", &mint.origin),
            ("authorization", &format!("Bearer {session}")),
        ])
        .await;
    assert_eq!(by_bearer.status, StatusCode::OK, "{}", by_bearer.text);
    assert!(
        by_bearer.header("set-cookie").is_none(),
        "no visitor cookie in session mode"
    );
    assert_eq!(
        mock.external_id_of(by_bearer.token()).await,
        "ext:user_user~2042~2F~C3~A9",
        "sub is encoded into a valid, distinct external_id"
    );
    let by_cookie = mint
        .request(&[
            ("origin", &mint.origin),
            ("cookie", &format!("other=1; {COOKIE}={session}")),
        ])
        .await;
    assert_eq!(by_cookie.status, StatusCode::OK, "{}", by_cookie.text);
    assert_eq!(
        mock.external_id_of(by_cookie.token()).await,
        "ext:user_user~2042~2F~C3~A9",
        "the cookie names the same user"
    );
    assert_eq!(mock.upserts(), 1, "a known user is not upserted again");
}

#[tokio::test]
async fn forged_expired_wrong_alg_alg_none_and_missing_session_tokens_get_401_and_cost_nothing() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], with_sessions(Key::hs256(SECRET).unwrap())).await;
    let now = mint.clock.unix();
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let good = claims_for("42", now);
    let cases: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("no credentials at all", vec![]),
        (
            "a forged signature",
            vec![(
                "authorization",
                format!(
                    "Bearer {}",
                    jwt(
                        &header("HS256"),
                        &good,
                        hs256(b"another-secret-of-32-bytes-at-least!!")
                    )
                ),
            )],
        ),
        (
            "an expired token",
            vec![(
                "authorization",
                format!(
                    "Bearer {}",
                    jwt(
                        &header("HS256"),
                        &json!({"sub": "42", "iss": "https://app.example", "aud": "ringside-chat", "iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}),
                        hs256(SECRET)
                    )
                ),
            )],
        ),
        (
            "another algorithm (HS512)",
            vec![(
                "authorization",
                format!("Bearer {}", jwt(&header("HS512"), &good, hs256(SECRET))),
            )],
        ),
        (
            "alg none",
            vec![(
                "authorization",
                format!(
                    "Bearer {}.{}.",
                    b64(&json!({"alg": "none", "typ": "JWT"})),
                    b64(&good)
                ),
            )],
        ),
        (
            "alg none with a junk signature",
            vec![(
                "authorization",
                format!(
                    "Bearer {}.{}.AAAA",
                    b64(&json!({"alg": "none", "typ": "JWT"})),
                    b64(&good)
                ),
            )],
        ),
        (
            "a wrong issuer",
            vec![(
                "authorization",
                format!(
                    "Bearer {}",
                    jwt(
                        &header("HS256"),
                        &json!({"sub": "42", "iss": "https://evil.example", "aud": "ringside-chat", "iat": now, "nbf": now, "exp": now + 60}),
                        hs256(SECRET)
                    )
                ),
            )],
        ),
        (
            "a wrong audience",
            vec![(
                "authorization",
                format!(
                    "Bearer {}",
                    jwt(
                        &header("HS256"),
                        &json!({"sub": "42", "iss": "https://app.example", "aud": "billing", "iat": now, "nbf": now, "exp": now + 60}),
                        hs256(SECRET)
                    )
                ),
            )],
        ),
        (
            "a wrong typ",
            vec![(
                "authorization",
                format!(
                    "Bearer {}",
                    jwt(
                        &json!({"alg": "HS256", "typ": "at+jwt"}),
                        &good,
                        hs256(SECRET)
                    )
                ),
            )],
        ),
        (
            "no exp",
            vec![(
                "authorization",
                format!(
                    "Bearer {}",
                    jwt(
                        &header("HS256"),
                        &json!({"sub": "42", "iss": "https://app.example", "aud": "ringside-chat", "iat": now, "nbf": now}),
                        hs256(SECRET)
                    )
                ),
            )],
        ),
        (
            "an oversized token",
            vec![("authorization", format!("Bearer {}", "a".repeat(9_000)))],
        ),
        (
            "a forged cookie",
            vec![(
                "cookie",
                format!(
                    "{COOKIE}={}",
                    jwt(
                        &header("HS256"),
                        &good,
                        hs256(b"another-secret-of-32-bytes-at-least!!")
                    )
                ),
            )],
        ),
        (
            "a valid cookie under another name",
            vec![(
                "cookie",
                format!(
                    "not_the_session={}",
                    jwt(&header("HS256"), &good, hs256(SECRET))
                ),
            )],
        ),
        (
            "a Basic header",
            vec![("authorization", "Basic dXNlcjpwYXNz".to_string())],
        ),
    ];
    for (why, headers) in cases {
        let mut all: Vec<(&str, &str)> = vec![("origin", &mint.origin)];
        all.extend(headers.iter().map(|(n, v)| (*n, v.as_str())));
        let answer = mint.request(&all).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{why}: {}",
            answer.text
        );
        assert_eq!(answer.code(), "unauthenticated", "{why}");
        assert_eq!(
            answer.body["error"]["type"], "authentication_error",
            "{why}"
        );
        assert_eq!(
            answer.header("access-control-allow-origin"),
            Some(mint.origin.as_str()),
            "{why}: the page may read why it was refused"
        );
    }
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (0, 0),
        "a refused identity never reaches Ringside"
    );
}

#[tokio::test]
async fn an_ed25519_key_accepts_eddsa_tokens_and_refuses_hmac_tokens_keyed_with_the_public_key() {
    let mock = spawn_mock().await;
    let signing = SigningKey::from_bytes(&rand::random::<[u8; 32]>());
    let public = signing.verifying_key();
    let public_b64 = base64::engine::general_purpose::STANDARD.encode(public.as_bytes());
    let mint = spawn_mint_with(
        &mock.url,
        &[],
        with_sessions(Key::ed25519(&public_b64).unwrap()),
    )
    .await;
    let now = mint.clock.unix();
    let good = jwt(
        &header("EdDSA"),
        &claims_for("alice@example.com", now),
        ed25519(&signing),
    );
    let answer = mint
        .request(&[
            ("origin", &mint.origin),
            ("authorization", &format!("Bearer {good}")),
        ])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        mock.external_id_of(answer.token()).await,
        "ext:user_alice@example.com"
    );

    let confused = jwt(
        &header("HS256"),
        &claims_for("admin", now),
        hs256(public.as_bytes()),
    );
    let answer = mint
        .request(&[
            ("origin", &mint.origin),
            ("authorization", &format!("Bearer {confused}")),
        ])
        .await;
    assert_eq!(
        answer.status,
        StatusCode::UNAUTHORIZED,
        "algorithm confusion: HS256 keyed with the public key is refused"
    );
}

#[tokio::test]
async fn a_session_token_stops_working_once_it_expires_on_the_mints_clock() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], with_sessions(Key::hs256(SECRET).unwrap())).await;
    let now = mint.clock.unix();
    let claims = json!({"sub": "7", "iss": "https://app.example", "aud": "ringside-chat", "iat": now, "nbf": now, "exp": now + 120});
    let session = jwt(&header("HS256"), &claims, hs256(SECRET));
    let bearer = format!("Bearer {session}");
    let ok = mint
        .request(&[("origin", &mint.origin), ("authorization", &bearer)])
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    mint.clock.advance(std::time::Duration::from_secs(120 + 31));
    let late = mint
        .request(&[("origin", &mint.origin), ("authorization", &bearer)])
        .await;
    assert_eq!(
        late.status,
        StatusCode::UNAUTHORIZED,
        "past exp and the 30 s leeway, even with a cached token for this user"
    );
}
