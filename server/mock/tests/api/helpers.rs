//! `spawn_app()` and the typed helpers every test uses.

use std::time::Duration;

use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use ringside_mock::{AppState, Options, Settings};
use ringside_wire::chat::StreamFrame;
use ringside_wire::sse::SseParser;
use serde_json::{Value, json};

/// The full API key (every scope).
pub(crate) const KEY: &str = "sk_test_api";
/// The key without `api:client_tokens`.
pub(crate) const RESTRICTED_KEY: &str = "sk_test_restricted";
/// The page origin the tokens of these tests allow.
pub(crate) const ORIGIN: &str = "http://127.0.0.1:9999";
/// Tokens in a default answer.
pub(crate) const ANSWER_TOKENS: usize = 12;
/// The chat model the tests use.
pub(crate) const MODEL: &str = "fc:openai/gpt-4o-mini";

/// A running mock and a client for it; the mock stops when this is dropped.
pub(crate) struct TestApp {
    pub(crate) url: String,
    pub(crate) http: Client,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

/// The settings of most tests: 12-token answers, quickly paced.
pub(crate) fn settings() -> Settings {
    Settings {
        api_key: KEY.into(),
        answer_tokens: ANSWER_TOKENS,
        first_token_delay: Duration::from_millis(5),
        token_delay: Duration::from_millis(1),
    }
}

/// A mock with the controls on and a restricted second key.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(
        settings(),
        Options {
            restricted_api_key: Some(RESTRICTED_KEY.into()),
            controls: true,
            ..Options::default()
        },
    )
    .await
}

/// A mock with these settings and options.
pub(crate) async fn spawn_app_with(settings: Settings, options: Options) -> TestApp {
    let listener = ringside_mock::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let state = AppState::with_options(settings, options, "ringside-mock");
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
    pub(crate) fn request(&self, method: Method, path: &str, auth: Option<&str>) -> RequestBuilder {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request
    }

    pub(crate) async fn post(&self, path: &str, auth: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, auth)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn get(&self, path: &str, auth: Option<&str>) -> Response {
        self.request(Method::GET, path, auth).send().await.unwrap()
    }

    pub(crate) async fn delete(&self, path: &str, auth: Option<&str>) -> Response {
        self.request(Method::DELETE, path, auth)
            .send()
            .await
            .unwrap()
    }

    /// `POST` with the full key.
    pub(crate) async fn server_post(&self, path: &str, body: &Value) -> Response {
        self.post(path, Some(&bearer(KEY)), body).await
    }

    /// `GET` with the full key, as JSON, asserting success.
    pub(crate) async fn server_get_json(&self, path: &str) -> Value {
        let response = self.get(path, Some(&bearer(KEY))).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    pub(crate) async fn create_customer_with(&self, body: Value) -> Value {
        let response = self.server_post("/v1/customers", &body).await;
        assert_eq!(response.status(), StatusCode::CREATED, "creating {body}");
        response.json().await.unwrap()
    }

    pub(crate) async fn create_customer(&self, external_id: &str) -> Value {
        self.create_customer_with(json!({ "external_id": external_id }))
            .await
    }

    pub(crate) async fn customer(&self, handle: &str) -> Value {
        self.server_get_json(&format!("/v1/customers/{handle}"))
            .await
    }

    pub(crate) async fn topup(&self, handle: &str, amount: f64) -> Response {
        self.server_post(
            &format!("/v1/customers/{handle}/wallet/topup"),
            &json!({ "amount_usd": amount }),
        )
        .await
    }

    pub(crate) async fn mint(&self, customer: &str, body: Value) -> Response {
        self.server_post(&format!("/v1/customers/{customer}/client_tokens"), &body)
            .await
    }

    /// Mints a token for an existing customer, asserting success.
    pub(crate) async fn mint_token(&self, customer: &str, scope: &[&str]) -> Value {
        let response = self
            .mint(
                customer,
                json!({ "scope": scope, "origin_allowlist": [ORIGIN] }),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "minting for {customer}"
        );
        response.json().await.unwrap()
    }

    /// Creates `external_id` and mints it a chat token.
    pub(crate) async fn client_token(&self, external_id: &str) -> String {
        self.token_with_scope(external_id, &["chat"]).await
    }

    /// Creates `external_id` and mints it a token with `scope`.
    pub(crate) async fn token_with_scope(&self, external_id: &str, scope: &[&str]) -> String {
        self.create_customer(external_id).await;
        self.mint_token(external_id, scope).await["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `POST` with a Client Token from `origin`.
    pub(crate) async fn client_post(
        &self,
        token: &str,
        origin: Option<&str>,
        path: &str,
        body: &Value,
    ) -> Response {
        let mut request = self
            .request(Method::POST, path, Some(&format!("Client {token}")))
            .json(body);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send().await.unwrap()
    }

    /// `GET` with a Client Token from [`ORIGIN`].
    pub(crate) async fn client_get(&self, token: &str, path: &str) -> Response {
        self.request(Method::GET, path, Some(&format!("Client {token}")))
            .header("origin", ORIGIN)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn chat(&self, token: &str, origin: Option<&str>, body: &Value) -> Response {
        self.client_post(token, origin, "/v1/chat/completions", body)
            .await
    }

    /// A test control; asserts it was accepted.
    pub(crate) async fn control(&self, path: &str, body: Value) -> Response {
        let response = self.post(&format!("/__mock/{path}"), None, &body).await;
        assert!(
            response.status().is_success(),
            "the control {path} accepts {body}: {}",
            response.status()
        );
        response
    }

    pub(crate) async fn script(&self, completions: Value) {
        let response = self
            .control("script", json!({ "completions": completions }))
            .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }

    /// Moves the clock; returns the mock's new time.
    pub(crate) async fn advance(&self, secs: f64) -> i64 {
        let now: Value = self
            .control("clock", json!({ "advance_secs": secs }))
            .await
            .json()
            .await
            .unwrap();
        now["now"].as_i64().expect("the clock answers its time")
    }

    /// The request log.
    pub(crate) async fn log(&self) -> Vec<Value> {
        let log: Value = self.get("/__mock/log", None).await.json().await.unwrap();
        log["requests"].as_array().unwrap().clone()
    }
}

pub(crate) fn bearer(key: &str) -> String {
    format!("Bearer {key}")
}

/// A streaming chat body asking `content`.
pub(crate) fn chat_body() -> Value {
    chat_body_for("hello")
}

pub(crate) fn chat_body_for(content: &str) -> Value {
    json!({
        "model": MODEL,
        "messages": [{ "role": "user", "content": content }],
        "stream": true,
    })
}

/// The whole (non-streamed) body of the same request.
pub(crate) fn whole(mut body: Value) -> Value {
    body["stream"] = json!(false);
    body
}

pub(crate) async fn error_body(response: Response) -> Value {
    let body: Value = response.json().await.expect("every error answer is JSON");
    let error = &body["error"];
    for field in ["type", "code", "message"] {
        assert!(
            error[field].is_string(),
            "the error has a string `{field}`: {body}"
        );
    }
    assert!(
        error.get("param").is_some(),
        "the error has `param` (maybe null): {body}"
    );
    body
}

pub(crate) async fn error_code(response: Response) -> String {
    error_body(response).await["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// What a client read from a completion stream.
#[derive(Debug)]
pub(crate) struct Streamed {
    /// The raw bytes, as received.
    pub(crate) bytes: Vec<u8>,
    /// Each event's data, decoded (or why it could not be).
    pub(crate) frames: Vec<Result<StreamFrame, String>>,
    /// The concatenated content deltas.
    pub(crate) text: String,
    /// The content deltas, one per chunk.
    pub(crate) deltas: Vec<String>,
    /// Whether the body failed (the connection was cut) rather than ended.
    pub(crate) broken: bool,
}

impl Streamed {
    pub(crate) fn ended_with_done(&self) -> bool {
        matches!(self.frames.last(), Some(Ok(StreamFrame::Done)))
    }
}

/// Reads a completion stream the way the widget does, through the shared parser.
pub(crate) async fn read_stream(response: Response) -> Streamed {
    read_stream_for(response, Duration::from_secs(30))
        .await
        .expect("the stream ended in time")
}

/// Like [`read_stream`], but gives up (`Err` with what was read) when no byte
/// arrives for `idle`.
pub(crate) async fn read_stream_for(
    mut response: Response,
    idle: Duration,
) -> Result<Streamed, Streamed> {
    let mut parser = SseParser::new();
    let mut streamed = Streamed {
        bytes: Vec::new(),
        frames: Vec::new(),
        text: String::new(),
        deltas: Vec::new(),
        broken: false,
    };
    loop {
        let chunk = match tokio::time::timeout(idle, response.chunk()).await {
            Err(_) => return Err(streamed),
            Ok(Err(_)) => {
                streamed.broken = true;
                break;
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(bytes))) => bytes,
        };
        streamed.bytes.extend_from_slice(&chunk);
        parser.feed(&chunk, &mut |event| {
            let frame = StreamFrame::parse(&event.data).map_err(|e| e.to_string());
            if let Ok(StreamFrame::Chunk(c)) = &frame
                && let Some(content) = c.content()
            {
                streamed.text.push_str(content);
                streamed.deltas.push(content.to_string());
            }
            streamed.frames.push(frame);
        });
    }
    Ok(streamed)
}
