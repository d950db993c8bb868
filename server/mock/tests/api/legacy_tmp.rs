//! The mock over real HTTP on loopback: every test starts its own server on
//! a free port and talks to it with reqwest, as the mint and the widget do.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use ringside_mock::{AppState, state::Settings};
use ringside_wire::chat::StreamFrame;
use ringside_wire::sse::SseParser;
use serde_json::{Value, json};

const KEY: &str = "sk_test_api";
const ORIGIN: &str = "http://127.0.0.1:9999";

struct TestApp {
    url: String,
    http: Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

async fn spawn_app() -> TestApp {
    let settings = Settings {
        api_key: KEY.into(),
        answer_tokens: 12,
        first_token_delay: Duration::from_millis(5),
        token_delay: Duration::from_millis(1),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::new(settings, "ringside-mock");
    tokio::spawn(ringside_mock::run(listener, state, async {
        let _ = rx.await;
    }));
    TestApp {
        url,
        http: Client::new(),
        _shutdown: tx,
    }
}

impl TestApp {
    async fn post(&self, path: &str, auth: Option<&str>, body: &Value) -> Response {
        let mut request = self.http.post(format!("{}{path}", self.url)).json(body);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send().await.unwrap()
    }

    async fn create_customer(&self, external_id: &str) -> Value {
        let response = self
            .post(
                "/v1/customers",
                Some(&format!("Bearer {KEY}")),
                &json!({ "external_id": external_id }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    async fn mint(&self, customer: &str, body: Value) -> Response {
        self.post(
            &format!("/v1/customers/{customer}/client_tokens"),
            Some(&format!("Bearer {KEY}")),
            &body,
        )
        .await
    }

    async fn client_token(&self, external_id: &str) -> String {
        self.create_customer(external_id).await;
        let response = self
            .mint(
                external_id,
                json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    async fn chat(&self, token: &str, origin: Option<&str>, body: &Value) -> Response {
        let mut request = self
            .http
            .post(format!("{}/v1/chat/completions", self.url))
            .header("authorization", format!("Client {token}"))
            .json(body);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().await.unwrap()
    }
}

async fn error_code(response: Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn chat_body() -> Value {
    json!({
        "model": "fc:openai/gpt-4o-mini",
        "messages": [{ "role": "user", "content": "hello" }],
        "stream": true,
    })
}

/// Reads a completion stream the way the widget does, through the shared parser.
async fn read_stream(mut response: Response) -> (String, Vec<StreamFrame>) {
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    while let Some(bytes) = response.chunk().await.unwrap() {
        parser.feed(&bytes, &mut |event| {
            frames.push(StreamFrame::parse(&event.data).unwrap())
        });
    }
    let text = frames
        .iter()
        .filter_map(|f| match f {
            StreamFrame::Chunk(c) => c.content().map(str::to_string),
            _ => None,
        })
        .collect();
    (text, frames)
}

#[tokio::test]
async fn a_customer_is_created_and_an_idempotent_repeat_replays_the_first_answer() {
    let app = spawn_app().await;
    let body = json!({ "external_id": "ext:user_42", "budget_usd": 5.0, "rate_limit_rpm": 30 });
    let send = |body: Value| {
        let app = &app;
        async move {
            app.http
                .post(format!("{}/v1/customers", app.url))
                .bearer_auth(KEY)
                .header("idempotency-key", "upsert-42")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let first = send(body.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert!(first["id"].as_str().unwrap().starts_with("cus_"));
    assert_eq!(first["wallet_balance_usd"], Value::Null);

    let again = send(body.clone()).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the replay is the first answer, byte for byte"
    );

    let changed = send(json!({ "external_id": "ext:user_42", "budget_usd": 6.0 })).await;
    assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(changed).await, "idempotency_key_reused");
}

#[tokio::test]
async fn creating_an_existing_customer_without_a_key_is_a_conflict() {
    let app = spawn_app().await;
    app.create_customer("ext:user_1").await;
    let again = app
        .post(
            "/v1/customers",
            Some(&format!("Bearer {KEY}")),
            &json!({ "external_id": "ext:user_1" }),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(again).await, "customer_exists");
}

#[tokio::test]
async fn a_bad_body_is_a_400_naming_the_param_and_is_not_stored_under_its_key() {
    let app = spawn_app().await;
    let send = |body: Value| {
        let app = &app;
        async move {
            app.http
                .post(format!("{}/v1/customers", app.url))
                .bearer_auth(KEY)
                .header("idempotency-key", "k1")
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let bad = send(json!({ "external_id": 42 })).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_request");
    assert_eq!(body["error"]["param"], "external_id");
    // The refusal was not stored: the same key now works with a fixed body.
    assert_eq!(
        send(json!({ "external_id": "ext:fixed" })).await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn server_routes_need_the_api_key() {
    let app = spawn_app().await;
    let body = json!({ "external_id": "ext:x" });
    for auth in [None, Some("Bearer sk_wrong"), Some("Basic abc")] {
        let response = app.post("/v1/customers", auth, &body).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(error_code(response).await, "invalid_api_key");
    }
}

#[tokio::test]
async fn a_client_token_cannot_call_server_routes_and_a_key_is_not_a_client_token() {
    let app = spawn_app().await;
    let token = app.client_token("ext:user_7").await;
    let response = app
        .post(
            "/v1/customers",
            Some(&format!("Client {token}")),
            &json!({ "external_id": "ext:y" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        error_code(response).await,
        "client_token_endpoint_not_allowed"
    );

    let as_bearer = app
        .post(
            "/v1/chat/completions",
            Some(&format!("Bearer {token}")),
            &chat_body(),
        )
        .await;
    assert_eq!(as_bearer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(as_bearer).await, "invalid_api_key");

    let key_as_client = app.chat(KEY, Some(ORIGIN), &chat_body()).await;
    assert_eq!(key_as_client.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(key_as_client).await, "invalid_client_token");
}

#[tokio::test]
async fn minting_validates_ttl_scope_and_origins() {
    let app = spawn_app().await;
    app.create_customer("ext:u").await;
    for (body, param) in [
        (
            json!({ "ttl_seconds": 59, "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
            "ttl_seconds",
        ),
        (
            json!({ "ttl_seconds": 3601, "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
            "ttl_seconds",
        ),
        (
            json!({ "scope": [], "origin_allowlist": [ORIGIN] }),
            "scope",
        ),
        (
            json!({ "scope": ["chat"], "origin_allowlist": ["https://a.com/"] }),
            "origin_allowlist[0]",
        ),
        (
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN], "bind_ip": "not-an-ip" }),
            "bind_ip",
        ),
    ] {
        let response = app.mint("ext:u", body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["param"], param, "{body}");
    }
    let ok = app.mint("ext:u", json!({ "ttl_seconds": 60, "scope": ["chat"], "origin_allowlist": [ORIGIN], "bind_ip": true })).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let token: Value = ok.json().await.unwrap();
    assert_eq!(token["expires_in"], 60);
    assert_eq!(
        token["bind_ip"], "127.0.0.1",
        "bind_ip: true binds to the minting caller"
    );
    assert!(token["id"].as_str().unwrap().starts_with("ct_"));

    let unknown = app
        .mint(
            "ext:nobody",
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_jwks_publishes_the_ed25519_key() {
    let app = spawn_app().await;
    let jwks: Value = app
        .http
        .get(format!("{}/.well-known/jwks.json", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(
        key["x"].as_str().unwrap().len(),
        43,
        "32 bytes, base64url without padding"
    );
}

#[tokio::test]
async fn a_client_token_streams_a_deterministic_answer_in_openai_chunks() {
    let app = spawn_app().await;
    let token = app.client_token("ext:streamer").await;
    let response = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    let (text, frames) = read_stream(response).await;

    match &frames[0] {
        StreamFrame::Chunk(c) => {
            assert_eq!(
                c.choices[0].delta.role,
                Some(ringside_wire::chat::Role::Assistant)
            );
        }
        other => panic!("the first frame carries the role, got {other:?}"),
    }
    assert_eq!(frames.last(), Some(&StreamFrame::Done));
    let finish = frames.iter().rev().find_map(|f| match f {
        StreamFrame::Chunk(c) => c.finish_reason(),
        _ => None,
    });
    assert_eq!(finish, Some(ringside_wire::chat::FinishReason::Stop));
    assert_eq!(
        frames.len(),
        1 + 12 + 1 + 1,
        "role, 12 tokens, finish, [DONE]"
    );

    let again = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(
        read_stream(again).await.0,
        text,
        "the same request gets the same answer"
    );

    let whole: Value = app
        .post(
            "/v1/chat/completions",
            Some(&format!("Bearer {KEY}")),
            &json!({ "model": "fc:openai/gpt-4o-mini", "messages": [{ "role": "user", "content": "hello" }] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        whole["choices"][0]["message"]["content"],
        text.as_str(),
        "streamed and whole answers agree"
    );
}

#[tokio::test]
async fn include_usage_adds_a_usage_chunk_before_done() {
    let app = spawn_app().await;
    let token = app.client_token("ext:usage").await;
    let mut body = chat_body();
    body["stream_options"] = json!({ "include_usage": true });
    let (_, frames) = read_stream(app.chat(&token, Some(ORIGIN), &body).await).await;
    match &frames[frames.len() - 2] {
        StreamFrame::Chunk(c) => {
            let usage = c.usage.expect("the usage chunk");
            assert_eq!(usage.completion_tokens, 12);
            assert!(c.choices.is_empty());
        }
        other => panic!("expected the usage chunk, got {other:?}"),
    }
}

#[tokio::test]
async fn a_client_token_works_only_from_its_origin() {
    let app = spawn_app().await;
    let token = app.client_token("ext:o").await;
    for origin in [
        None,
        Some("http://evil.example"),
        Some("http://127.0.0.1:9999/"),
    ] {
        let response = app.chat(&token, origin, &chat_body()).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin:?}");
        assert_eq!(
            error_code(response).await,
            "client_token_origin_mismatch",
            "{origin:?}"
        );
    }
}

#[tokio::test]
async fn a_token_bound_to_another_ip_is_refused() {
    let app = spawn_app().await;
    app.create_customer("ext:ip").await;
    let minted: Value = app
        .mint(
            "ext:ip",
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN], "bind_ip": "10.1.2.3" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .chat(
            minted["token"].as_str().unwrap(),
            Some(ORIGIN),
            &chat_body(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "client_token_ip_mismatch");
}

#[tokio::test]
async fn naming_another_user_in_the_body_is_refused() {
    let app = spawn_app().await;
    let token = app.client_token("ext:me").await;
    app.create_customer("ext:someone_else").await;
    let mut body = chat_body();
    body["user"] = json!("ext:someone_else");
    let response = app.chat(&token, Some(ORIGIN), &body).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(response).await, "client_token_customer_mismatch");
    body["user"] = json!("ext:me");
    assert_eq!(
        app.chat(&token, Some(ORIGIN), &body).await.status(),
        StatusCode::OK,
        "naming yourself is fine"
    );
}

#[tokio::test]
async fn garbled_tokens_are_401_invalid_client_token() {
    let app = spawn_app().await;
    for token in ["", "abc", "a.b.c", "a b", &"x".repeat(5000)] {
        let response = app.chat(token, Some(ORIGIN), &chat_body()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token:.20}");
        assert_eq!(error_code(response).await, "invalid_client_token");
    }
}

#[tokio::test]
async fn the_preflight_allows_any_origin_to_send_authorization() {
    let app = spawn_app().await;
    let response = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/chat/completions", app.url),
        )
        .header("origin", "https://anywhere.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
    let h = response.headers();
    assert_eq!(h["access-control-allow-origin"], "https://anywhere.example");
    assert_eq!(
        h["access-control-allow-headers"],
        "authorization, content-type"
    );
    assert_eq!(h["access-control-allow-methods"], "GET, POST, DELETE");
    assert!(h.contains_key("access-control-max-age"));
}

#[tokio::test]
async fn errors_carry_cors_so_the_browser_can_read_them() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(format!("{}/v1/chat/completions", app.url))
        .header("origin", ORIGIN)
        .json(&chat_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let h = response.headers();
    assert_eq!(h["access-control-allow-origin"], ORIGIN, "never *");
    assert!(
        h["access-control-expose-headers"]
            .to_str()
            .unwrap()
            .contains("retry-after")
    );
    assert!(
        h.get_all("vary")
            .iter()
            .any(|v| v.to_str().unwrap().contains("origin"))
    );
}

#[tokio::test]
async fn unknown_routes_are_json_404s() {
    let app = spawn_app().await;
    for path in ["/v1/nothing", "/elsewhere"] {
        let response = app
            .http
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(error_code(response).await, "not_found");
    }
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413() {
    let app = spawn_app().await;
    let big = json!({ "external_id": "x".repeat(1 << 20) });
    let response = app
        .post("/v1/customers", Some(&format!("Bearer {KEY}")), &big)
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "payload_too_large");
}
