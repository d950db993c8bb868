//! Origins and addresses: only allowed origins get tokens (bound to exactly
//! that origin), and tokens are bound to the browser's address — behind a
//! trusted proxy, the right-most untrusted `X-Forwarded-For` hop.

use axum::http::HeaderName;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn other_or_missing_origins_get_403_no_cors_grant_and_no_upstream_call() {
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    let trailing_slash = format!("{}/", mint.origin);
    for origin in [
        None,
        Some("https://evil.example"),
        Some("null"),
        Some(trailing_slash.as_str()),
    ] {
        let answer = match origin {
            Some(origin) => mint.request(&[("origin", origin)]).await,
            None => mint.request(&[]).await,
        };
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{origin:?}");
        assert!(
            answer.header("access-control-allow-origin").is_none(),
            "{origin:?}: no CORS grant"
        );
        assert!(
            answer.header("set-cookie").is_none(),
            "{origin:?}: no visitor is made"
        );
        assert_eq!(answer.code(), "origin_not_allowed");
        assert_eq!(answer.header("cache-control"), Some("no-store"));
    }
    let two = mint
        .http
        .post(format!("{}/api/chat-token", mint.url))
        .header("origin", &mint.origin)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        two.status(),
        StatusCode::FORBIDDEN,
        "two Origin headers are refused"
    );
    assert_eq!((mock.upserts(), mock.mints()), (0, 0));
}

#[tokio::test]
async fn the_preflight_grants_only_allowed_origins_and_the_configured_headers() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.cors_allow_headers = vec![
            HeaderName::from_static("content-type"),
            HeaderName::from_static("x-host-csrf"),
        ];
    })
    .await;
    let preflight = |origin: &str| {
        mint.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/chat-token", mint.url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "x-host-csrf")
            .send()
    };
    let allowed = preflight(&mint.origin).await.unwrap();
    assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        mint.origin.as_str()
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-headers"],
        "content-type, x-host-csrf",
        "the host's CSRF header is allowed"
    );
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(
        denied
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn each_allowed_origin_gets_a_token_for_itself_alone() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &["https://docs.example"], |_| {}).await;
    let own = mint.token(None).await;
    let cookie = own.cookie();
    let docs = mint
        .request(&[("origin", "https://docs.example"), ("cookie", &cookie)])
        .await;
    assert_eq!(docs.status, StatusCode::OK, "{}", docs.text);
    assert_eq!(
        claims(docs.token())["origins"],
        json!(["https://docs.example"])
    );
    assert_eq!(claims(own.token())["origins"], json!([mint.origin]));
    assert_ne!(docs.token(), own.token(), "one token per origin");
    assert_eq!(
        mock.chat(docs.token(), &mint.origin).await,
        StatusCode::FORBIDDEN
    );
}

fn bound_ip(answer: &Answer) -> Value {
    claims(answer.token())["ip"].clone()
}

#[tokio::test]
async fn forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let mock = spawn_mock().await;
    let direct = spawn_mint(&mock.url).await;
    let spoofed = direct
        .request(&[
            ("origin", &direct.origin),
            ("x-forwarded-for", "203.0.113.9"),
        ])
        .await;
    assert_eq!(
        bound_ip(&spoofed),
        "127.0.0.1",
        "a browser cannot choose its own address"
    );
    assert_eq!(
        mock.chat(spoofed.token(), &direct.origin).await,
        StatusCode::OK,
        "bound to the socket's address, which is the caller's here"
    );
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_token_is_bound_to_the_right_most_untrusted_hop() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.trusted_proxies = vec![
            "127.0.0.0/8".parse().unwrap(),
            "10.0.0.0/8".parse().unwrap(),
        ];
    })
    .await;
    let answer = mint
        .request(&[
            ("origin", &mint.origin),
            ("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.2.3"),
        ])
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        bound_ip(&answer),
        "203.0.113.9",
        "left of the trusted hops, the client-written 6.6.6.6 is not believed"
    );
    assert_eq!(
        mock.chat(answer.token(), &mint.origin).await,
        StatusCode::FORBIDDEN,
        "used from another address (here, loopback), the token is refused"
    );
    let garbled = mint
        .request(&[
            ("origin", &mint.origin),
            ("x-forwarded-for", "6.6.6.6, not-an-ip"),
        ])
        .await;
    assert_eq!(garbled.status, StatusCode::BAD_REQUEST, "{}", garbled.text);
    assert_eq!(garbled.code(), "invalid_request");
}

#[tokio::test]
async fn without_ip_binding_the_token_carries_no_address() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| options.bind_ip = false).await;
    let answer = mint.token(None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        bound_ip(&answer).is_null(),
        "--no-bind-ip: {}",
        claims(answer.token())
    );
}
