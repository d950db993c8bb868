//! CORS as the contract says: the preflight for any origin, the request's
//! `Origin` echoed (never `*`) with `Vary: Origin`, and the rate-limit
//! headers exposed, on successes and errors alike.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

const EXPOSED: [&str; 4] = [
    "retry-after",
    "x-ratelimit-limit-requests",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-reset-requests",
];

fn assert_cors(response: &reqwest::Response, origin: &str, why: &str) {
    let h = response.headers();
    assert_eq!(
        h["access-control-allow-origin"], origin,
        "{why}: the origin is echoed, never *"
    );
    let exposed = h["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in EXPOSED {
        assert!(
            exposed.split(", ").any(|e| e == name),
            "{why}: {name} is exposed ({exposed})"
        );
    }
    assert!(
        h.get_all("vary").iter().any(|v| v
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("origin")),
        "{why}: Vary: Origin"
    );
}

#[tokio::test]
async fn every_v1_route_answers_the_preflight_for_any_origin() {
    let app = spawn_app().await;
    for (path, method) in [
        ("/v1/chat/completions", "POST"),
        ("/v1/embeddings", "POST"),
        ("/v1/moderations", "POST"),
        ("/v1/threads", "POST"),
        ("/v1/threads/thread_x/messages", "GET"),
        ("/v1/customers/ext:x/client_tokens/ct_x", "DELETE"),
    ] {
        let response = app
            .request(Method::OPTIONS, path, None)
            .header("origin", "https://anywhere.example")
            .header("access-control-request-method", method)
            .header(
                "access-control-request-headers",
                "authorization, content-type",
            )
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}");
        let h = response.headers();
        assert_eq!(h["access-control-allow-origin"], "https://anywhere.example");
        assert_eq!(
            h["access-control-allow-headers"],
            "authorization, content-type"
        );
        assert_eq!(h["access-control-allow-methods"], "GET, POST, DELETE");
        let max_age: u32 = h["access-control-max-age"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(max_age > 0, "the preflight may be cached");
    }
}

#[tokio::test]
async fn successes_echo_the_origin_and_expose_the_rate_limit_headers() {
    let app = spawn_app().await;
    let token = app.client_token("ext:cors").await;
    let response = app.chat(&token, Some(ORIGIN), &whole(chat_body())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_cors(&response, ORIGIN, "a completion");
    let jwks = app
        .request(Method::GET, "/v1/customers/ext:cors", Some(&bearer(KEY)))
        .header("origin", "https://x.example")
        .send()
        .await
        .unwrap();
    assert_cors(&jwks, "https://x.example", "a server route");
}

#[tokio::test]
async fn errors_carry_cors_so_the_browser_can_read_them() {
    let app = spawn_app().await;
    let unauthenticated = app
        .request(Method::POST, "/v1/chat/completions", None)
        .header("origin", ORIGIN)
        .json(&chat_body())
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    assert_cors(&unauthenticated, ORIGIN, "a 401");
    let missing = app
        .request(Method::GET, "/v1/nothing", None)
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert_cors(&missing, ORIGIN, "a 404");

    app.create_customer_with(json!({ "external_id": "ext:limited", "rate_limit_rpm": 1 }))
        .await;
    let token = app.mint_token("ext:limited", &["chat"]).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.chat(&token, Some(ORIGIN), &whole(chat_body())).await;
    let limited = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_cors(&limited, ORIGIN, "a 429");
    assert!(limited.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn without_an_origin_no_cors_headers_are_sent() {
    let app = spawn_app().await;
    let response = app.get("/v1/customers/ext:none", Some(&bearer(KEY))).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

/// Two `Origin`s are ambiguous: neither is granted, on a preflight or an
/// answer (tower-http's `CorsLayer` would grant the first; `src/cors.rs`).
#[tokio::test]
async fn two_origins_are_granted_nothing() {
    let app = spawn_app().await;
    let preflight = app
        .request(Method::OPTIONS, "/v1/chat/completions", None)
        .header("origin", ORIGIN)
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let answer = app
        .request(Method::GET, "/v1/customers/ext:none", Some(&bearer(KEY)))
        .header("origin", ORIGIN)
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap();
    assert!(
        answer
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}
