//! The mint over real HTTP on loopback, in front of a real mock Ringside.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use ringside_mint::{Mint, MintOptions};
use ringside_wire::token::TokenResponse;
use serde_json::{Value, json};

const KEY: &str = "sk_test_mint";

struct Servers {
    mock_url: String,
    mint_url: String,
    origin: String,
    http: Client,
    _stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

async fn spawn_mock() -> (String, tokio::sync::oneshot::Sender<()>) {
    let settings = ringside_mock::state::Settings {
        api_key: KEY.into(),
        answer_tokens: 5,
        first_token_delay: Duration::ZERO,
        token_delay: Duration::ZERO,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(ringside_mock::run(
        listener,
        ringside_mock::AppState::new(settings, "ringside-mock"),
        async {
            let _ = rx.await;
        },
    ));
    (url, tx)
}

async fn spawn_mint(ringside_url: &str) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut options = MintOptions::new(ringside_url, KEY.to_string().into(), vec![url.clone()]);
    options.upstream.timeout = Duration::from_secs(2);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(ringside_mint::run(
        listener,
        Mint::new(options),
        None,
        async {
            let _ = rx.await;
        },
    ));
    (url, tx)
}

async fn spawn_servers() -> Servers {
    let (mock_url, stop_mock) = spawn_mock().await;
    let (mint_url, stop_mint) = spawn_mint(&mock_url).await;
    Servers {
        origin: mint_url.clone(),
        mock_url,
        mint_url,
        http: Client::new(),
        _stops: vec![stop_mock, stop_mint],
    }
}

impl Servers {
    async fn token(&self, origin: Option<&str>, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self
            .http
            .post(format!("{}/api/chat-token", self.mint_url))
            .body("{}");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.unwrap()
    }
}

fn cookie_pair(response: &reqwest::Response) -> String {
    let set_cookie = response.headers()["set-cookie"].to_str().unwrap();
    set_cookie.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn a_page_of_an_allowed_origin_gets_a_token_that_works_from_that_origin() {
    let s = spawn_servers().await;
    let response = s.token(Some(&s.origin), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"),
        "{set_cookie}"
    );
    let token: TokenResponse = response.json().await.unwrap();
    assert_eq!(token.expires_in, Some(900));
    assert_eq!(token.api_base.as_deref(), Some(s.mock_url.as_str()));

    let chat = s
        .http
        .post(format!("{}/v1/chat/completions", s.mock_url))
        .header("authorization", format!("Client {}", token.token))
        .header("origin", &s.origin)
        .json(&json!({ "model": "fc:openai/gpt-4o-mini", "messages": [{ "role": "user", "content": "hi" }], "stream": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        chat.status(),
        StatusCode::OK,
        "the minted token streams from the page's origin"
    );

    let elsewhere = s
        .http
        .post(format!("{}/v1/chat/completions", s.mock_url))
        .header("authorization", format!("Client {}", token.token))
        .header("origin", "https://evil.example")
        .json(&json!({ "model": "fc:openai/gpt-4o-mini", "messages": [{ "role": "user", "content": "hi" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        elsewhere.status(),
        StatusCode::FORBIDDEN,
        "and from nowhere else"
    );
}

#[tokio::test]
async fn the_visitor_cookie_keeps_the_same_customer_and_the_body_cannot_choose_one() {
    let s = spawn_servers().await;
    let first = s.token(Some(&s.origin), None).await;
    let cookie = cookie_pair(&first);
    let first: TokenResponse = first.json().await.unwrap();

    let again = s
        .http
        .post(format!("{}/api/chat-token", s.mint_url))
        .header("origin", &s.origin)
        .header("cookie", &cookie)
        .json(&json!({ "userId": "admin", "external_id": "ext:user_1" }))
        .send()
        .await
        .unwrap();
    assert!(
        again.headers().get("set-cookie").is_none(),
        "a known visitor keeps its cookie"
    );
    let again: TokenResponse = again.json().await.unwrap();
    assert_eq!(
        subject(&again.token),
        subject(&first.token),
        "same visitor, same customer, whatever the body says"
    );

    let stranger: TokenResponse = s.token(Some(&s.origin), None).await.json().await.unwrap();
    assert_ne!(
        subject(&stranger.token),
        subject(&first.token),
        "another visitor is another customer"
    );
}

/// The `sub` claim of a Client Token (read without verifying; the mock verifies).
fn subject(token: &str) -> String {
    use base64::Engine;
    let claims = token.split('.').nth(1).unwrap();
    let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .unwrap();
    let claims: Value = serde_json::from_slice(&claims).unwrap();
    claims["sub"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn other_or_missing_origins_get_403_and_no_cors_grant() {
    let s = spawn_servers().await;
    for origin in [None, Some("https://evil.example"), Some("null")] {
        let response = s.token(origin, None).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin:?}");
        assert!(
            response
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
        assert!(response.headers().get("set-cookie").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "origin_not_allowed");
    }
}

#[tokio::test]
async fn ringside_down_is_a_clear_503_without_internals() {
    // A port that refuses connections: bind, note it, close.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let (mint_url, _stop) = spawn_mint(&dead).await;
    let response = Client::new()
        .post(format!("{mint_url}/api/chat-token"))
        .header("origin", &mint_url)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let text = response.text().await.unwrap();
    assert!(text.contains("upstream_unavailable"), "{text}");
    assert!(
        !text.contains(&dead) && !text.contains(KEY),
        "no upstream address or key in the answer: {text}"
    );
}

#[tokio::test]
async fn the_fc_key_never_shows_in_debug_output() {
    let mint = Mint::new(MintOptions::new(
        "http://127.0.0.1:1",
        KEY.to_string().into(),
        vec![],
    ));
    let debug = format!("{mint:?}");
    assert!(!debug.contains(KEY), "{debug}");
    let options = MintOptions::new("http://127.0.0.1:1", KEY.to_string().into(), vec![]);
    assert!(!format!("{options:?}").contains(KEY));
}
