//! Shared helpers: a real mock Ringside on loopback behind a counting,
//! fault-injecting layer (so tests know exactly how many upstream calls a
//! request made), a mint in front of it, session-token signers, a log
//! capture, and readers for what the mint answers.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::{
    body::Body,
    extract::{Request, State},
    http::StatusCode,
    middleware::{self, Next},
    response::{IntoResponse, Response},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signer, SigningKey};
use hmac::{Hmac, Mac};
use reqwest::Client;
use ringside_mint::clock::ManualClock;
use ringside_mint::{Limits, Mint, MintOptions};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::oneshot;

/// The FC key every test uses: grepped for in logs and answers.
pub(crate) const KEY: &str = "sk_test_SUPER_SECRET_mint_key_7f3a";
/// The visitor cookie secret of the tests: never printed either.
pub(crate) const COOKIE_SECRET: &str = "cookie-secret-that-never-prints-0123456789";

/// Which upstream call a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    /// `POST /v1/customers`.
    Upsert,
    /// `POST /v1/customers/{id}/client_tokens`.
    Mint,
}

/// What to do to the next matching upstream calls.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Fault {
    /// Answer with this status and a contract error body.
    Status(u16),
    /// Wait this long before passing the request on.
    Delay(Duration),
}

#[derive(Default)]
struct Upstream {
    upserts: AtomicUsize,
    mints: AtomicUsize,
    faults: Mutex<Vec<(Call, Fault, usize)>>,
}

/// The mock Ringside, counting the calls it receives.
pub(crate) struct Mock {
    pub(crate) url: String,
    upstream: Arc<Upstream>,
    _stop: oneshot::Sender<()>,
}

impl Mock {
    /// Upserts received so far.
    pub(crate) fn upserts(&self) -> usize {
        self.upstream.upserts.load(Ordering::SeqCst)
    }

    /// Token mints received so far.
    pub(crate) fn mints(&self) -> usize {
        self.upstream.mints.load(Ordering::SeqCst)
    }

    /// Applies `fault` to the next `times` calls of `call`.
    pub(crate) fn fault(&self, call: Call, fault: Fault, times: usize) {
        self.upstream
            .faults
            .lock()
            .unwrap()
            .push((call, fault, times));
    }

    /// The customer's `external_id` behind a Client Token (by its `sub`).
    pub(crate) async fn external_id_of(&self, token: &str) -> String {
        let sub = claims(token)["sub"].as_str().unwrap().to_string();
        let customer: Value = Client::new()
            .get(format!("{}/v1/customers/{sub}", self.url))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        customer["external_id"].as_str().unwrap().to_string()
    }

    /// Calls the mock's chat completions with `token` from `origin`.
    pub(crate) async fn chat(&self, token: &str, origin: &str) -> StatusCode {
        Client::new()
            .post(format!("{}/v1/chat/completions", self.url))
            .header("authorization", format!("Client {token}"))
            .header("origin", origin)
            .json(&json!({ "model": "fc:openai/gpt-4o-mini", "messages": [{ "role": "user", "content": "hi" }] }))
            .send()
            .await
            .unwrap()
            .status()
    }
}

async fn count_and_fault(
    State(upstream): State<Arc<Upstream>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let call = match (request.method().as_str(), path.as_str()) {
        ("POST", "/v1/customers") => Some(Call::Upsert),
        ("POST", p) if p.ends_with("/client_tokens") => Some(Call::Mint),
        _ => None,
    };
    let Some(call) = call else {
        return next.run(request).await;
    };
    match call {
        Call::Upsert => upstream.upserts.fetch_add(1, Ordering::SeqCst),
        Call::Mint => upstream.mints.fetch_add(1, Ordering::SeqCst),
    };
    let fault = {
        let mut faults = upstream.faults.lock().unwrap();
        faults
            .iter_mut()
            .find(|(c, _, times)| *c == call && *times > 0)
            .map(|(_, fault, times)| {
                *times -= 1;
                *fault
            })
    };
    match fault {
        Some(Fault::Status(status)) => (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            Body::from(
                json!({"error": {"type": "api_error", "code": "server_error", "message": "injected", "param": null}})
                    .to_string(),
            ),
        )
            .into_response(),
        Some(Fault::Delay(delay)) => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        None => next.run(request).await,
    }
}

/// A fresh mock on a free loopback port.
pub(crate) async fn spawn_mock() -> Mock {
    logs();
    let settings = ringside_mock::state::Settings {
        api_key: KEY.into(),
        answer_tokens: 5,
        first_token_delay: Duration::ZERO,
        token_delay: Duration::ZERO,
    };
    let upstream = Arc::new(Upstream::default());
    let app = ringside_mock::app(ringside_mock::AppState::new(settings, "ringside-mock")).layer(
        middleware::from_fn_with_state(upstream.clone(), count_and_fault),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
    });
    Mock {
        url,
        upstream,
        _stop: stop,
    }
}

/// A running mint.
pub(crate) struct MintServer {
    /// Its base URL, also its own page origin.
    pub(crate) url: String,
    /// The allowed origin tests send by default (the mint's own).
    pub(crate) origin: String,
    /// The mint, for its metrics.
    pub(crate) mint: Mint,
    /// The clock it reads.
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) http: Client,
    _stop: oneshot::Sender<()>,
}

/// Options for a mint in front of `ringside_url`, allowing `origin`, with a
/// manual clock, no route limits and short upstream timeouts.
pub(crate) fn options(
    ringside_url: &str,
    origins: Vec<String>,
    clock: Arc<ManualClock>,
) -> MintOptions {
    let mut options = MintOptions::new(ringside_url, KEY.to_string().into(), origins);
    options.identity = Arc::new(ringside_mint::identity::Visitors::new(
        COOKIE_SECRET.as_bytes().to_vec(),
    ));
    options.clock = clock;
    options.limits = Limits::OFF;
    options.upstream.timeout = Duration::from_secs(2);
    options.upstream.backoff_base = Duration::from_millis(5);
    options.upstream.backoff_max = Duration::from_millis(20);
    options
}

/// A mint on a free loopback port whose own origin (and `extra_origins`)
/// are allowed; `configure` adjusts the options first.
pub(crate) async fn spawn_mint_with(
    ringside_url: &str,
    extra_origins: &[&str],
    configure: impl FnOnce(&mut MintOptions),
) -> MintServer {
    logs();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let mut origins = vec![url.clone()];
    origins.extend(extra_origins.iter().map(|o| o.to_string()));
    let clock = Arc::new(ManualClock::new());
    let mut options = options(ringside_url, origins, clock.clone());
    configure(&mut options);
    let mint = Mint::new(options);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(ringside_mint::run(listener, mint.clone(), None, async {
        let _ = stopped.await;
    }));
    MintServer {
        origin: url.clone(),
        url,
        mint,
        clock,
        http: Client::new(),
        _stop: stop,
    }
}

/// A mint with the default test options in front of `ringside_url`.
pub(crate) async fn spawn_mint(ringside_url: &str) -> MintServer {
    spawn_mint_with(ringside_url, &[], |_| {}).await
}

/// A token request's answer, read.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) body: Value,
    pub(crate) text: String,
}

impl Answer {
    /// The `name=value` of the `Set-Cookie` header.
    pub(crate) fn cookie(&self) -> String {
        let set_cookie = self.headers["set-cookie"].to_str().unwrap();
        set_cookie.split(';').next().unwrap().to_string()
    }

    /// The token.
    pub(crate) fn token(&self) -> &str {
        self.body["token"]
            .as_str()
            .unwrap_or_else(|| panic!("expected a token, got {} {}", self.status, self.text))
    }

    /// `error.code`.
    pub(crate) fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// A header as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

impl MintServer {
    /// `POST /api/chat-token` with these headers.
    pub(crate) async fn request(&self, headers: &[(&str, &str)]) -> Answer {
        let mut request = self
            .http
            .post(format!("{}/api/chat-token", self.url))
            .body("{}");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    /// A token request from the mint's own origin, with `cookie` if given.
    pub(crate) async fn token(&self, cookie: Option<&str>) -> Answer {
        match cookie {
            Some(cookie) => {
                self.request(&[("origin", &self.origin), ("cookie", cookie)])
                    .await
            }
            None => self.request(&[("origin", &self.origin)]).await,
        }
    }

    /// `GET` a path of the mint, as text.
    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

/// The claims of a JWT (read without verifying; the mock verifies).
pub(crate) fn claims(token: &str) -> Value {
    let claims = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&B64.decode(claims).unwrap()).unwrap()
}

/// A compact JWT with this header and these claims, signed by `sign`.
pub(crate) fn jwt(header: &Value, claims: &Value, sign: impl FnOnce(&[u8]) -> Vec<u8>) -> String {
    let signed = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    let signature = sign(signed.as_bytes());
    format!("{signed}.{}", B64.encode(signature))
}

/// An HS256 signer.
pub(crate) fn hs256(secret: &[u8]) -> impl FnOnce(&[u8]) -> Vec<u8> + '_ {
    move |data| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }
}

/// An Ed25519 signer.
pub(crate) fn ed25519(key: &SigningKey) -> impl FnOnce(&[u8]) -> Vec<u8> + '_ {
    move |data| key.sign(data).to_bytes().to_vec()
}

/// Everything every test's code logged (at debug and above; trace for the
/// mint), captured once for the whole test binary.
pub(crate) fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = Capture(buffer.clone());
        let subscriber = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                "debug,ringside_mint=trace",
            ))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one global subscriber");
        buffer
    })
}

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The captured logs as text.
pub(crate) fn log_text() -> String {
    String::from_utf8_lossy(&logs().lock().unwrap()).into_owned()
}

/// An identity provider's key endpoint on loopback: serves a JWK set that
/// tests change (key rotation), counts its fetches and can be taken down.
pub(crate) struct Provider {
    /// The JWK set's URL.
    pub(crate) url: String,
    state: Arc<ProviderState>,
    _stop: oneshot::Sender<()>,
}

#[derive(Default)]
struct ProviderState {
    document: Mutex<Value>,
    fetches: AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

impl Provider {
    /// Serves `jwks` from now on.
    pub(crate) fn publish(&self, jwks: Value) {
        *self.state.document.lock().unwrap() = jwks;
    }

    /// Fetches of the JWK set so far.
    pub(crate) fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// Answers 503 (or the set again).
    pub(crate) fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }
}

/// A provider publishing `jwks` at `/.well-known/jwks.json`.
pub(crate) async fn spawn_provider(jwks: Value) -> Provider {
    let state = Arc::new(ProviderState::default());
    *state.document.lock().unwrap() = jwks;
    let app = axum::Router::new()
        .route(
            "/.well-known/jwks.json",
            axum::routing::get(|State(state): State<Arc<ProviderState>>| async move {
                state.fetches.fetch_add(1, Ordering::SeqCst);
                if state.down.load(Ordering::SeqCst) {
                    return StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                axum::Json(state.document.lock().unwrap().clone()).into_response()
            }),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://{}/.well-known/jwks.json",
        listener.local_addr().unwrap()
    );
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    Provider {
        url,
        state,
        _stop: stop,
    }
}

/// The test keys of `server/jwt/testdata` (made for tests only).
#[macro_export]
macro_rules! testkey {
    ($file:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../jwt/testdata/",
            $file
        ))
    };
}

/// A Redis server of its own on a free loopback port (Debian's
/// `redis-server`, which `cargo xtask setup` installs), with nothing saved
/// to disk; stopped when dropped.
pub(crate) struct RedisServer {
    /// `redis://127.0.0.1:PORT`.
    pub(crate) url: String,
    port: u16,
    child: Option<std::process::Child>,
}

impl RedisServer {
    /// Starts one and waits until it answers.
    pub(crate) async fn start() -> RedisServer {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let mut server = RedisServer {
            url: format!("redis://127.0.0.1:{port}"),
            port,
            child: None,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("redis-server did not start ({e}): `cargo xtask setup` installs Debian's redis-server")
            });
        self.child = Some(child);
        let started = std::time::Instant::now();
        loop {
            if let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut reply = [0u8; 7];
                if stream.write_all(b"PING\r\n").await.is_ok()
                    && stream.read_exact(&mut reply).await.is_ok()
                    && &reply == b"+PONG\r\n"
                {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not answer on port {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops it (its data is gone: nothing is saved).
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port.
    pub(crate) async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Options that make a mint a replica sharing `redis` (under a key prefix
/// of the test's own).
pub(crate) fn replica_of(redis: &RedisServer, prefix: &str) -> Arc<ringside_mint::store::Store> {
    Arc::new(ringside_mint::store::Store::new(&redis.url, prefix).unwrap())
}
