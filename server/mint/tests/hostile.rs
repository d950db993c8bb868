//! Hostile HTTP against the mint, over raw TCP on loopback (issue #7): slow
//! heads and bodies, oversized heads and bodies, bytes that are not UTF-8,
//! duplicate and conflicting headers, request-smuggling shapes. Each is
//! refused cleanly — with the contract's JSON error wherever the mint gets to
//! answer at all — and the mint keeps minting for everyone else.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use ringside_mint::clock::SystemClock;
use ringside_mint::conn::Settings;
use ringside_mint::jwt::{Key, Rules, Verifier};
use ringside_mint::session::Sessions;
use ringside_mint::{Limits, Mint, MintOptions};
use serde_json::Value;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use ringside_raw_http::{read_all, send};

const KEY: &str = "sk_test_hostile_mint_key";
const ORIGIN: &str = "http://127.0.0.1:9999";
const SESSION_SECRET: &[u8] = b"a-session-secret-of-at-least-32-bytes!";
/// The header timeout of these tests: short, so that they run quickly.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);

struct Stack {
    addr: String,
    _stops: Vec<tokio::sync::oneshot::Sender<()>>,
}

/// A mock Ringside and a mint in front of it (anonymous visitors, or signed-in
/// users with `sessions`), no rate limits, a short header timeout.
async fn spawn_stack(sessions: bool) -> Stack {
    let settings = Settings {
        header_timeout: HEADER_TIMEOUT,
        ..Settings::default()
    };
    spawn_stack_with(sessions, settings).await
}

async fn spawn_stack_with(sessions: bool, settings: Settings) -> Stack {
    let listener = ringside_mock::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let mock_url = format!("http://{}", listener.local_addr().unwrap());
    let state = ringside_mock::AppState::new(
        ringside_mock::Settings {
            api_key: KEY.into(),
            answer_tokens: 5,
            first_token_delay: Duration::ZERO,
            token_delay: Duration::ZERO,
        },
        "ringside-mock",
    );
    let (mock_stop, mock_stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(ringside_mock::run(listener, state, async {
        let _ = mock_stopped.await;
    }));

    let mut options = MintOptions::new(&mock_url, KEY.to_string().into(), vec![ORIGIN.into()]);
    options.limits = Limits::OFF;
    if sessions {
        let verifier = Verifier::new(Key::hs256(SESSION_SECRET).unwrap(), Rules::default());
        options.identity = Arc::new(Sessions::new(verifier, None, Arc::new(SystemClock::new())));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let app = ringside_mint::app(Mint::new(options), None, true);
    let (mint_stop, mint_stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(ringside_mint::conn::serve(listener, app, settings, async {
        let _ = mint_stopped.await;
    }));
    Stack {
        addr,
        _stops: vec![mock_stop, mint_stop],
    }
}

fn session_token() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = B64.encode(format!(
        r#"{{"sub":"42","iat":{now},"nbf":{now},"exp":{}}}"#,
        now + 600
    ));
    let signed = format!("{header}.{claims}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SESSION_SECRET).unwrap();
    mac.update(signed.as_bytes());
    format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
}

/// A token request, `Connection: close`, with these extra header lines.
fn token_request(headers: impl AsRef<[u8]>) -> Vec<u8> {
    let mut request = b"POST /api/chat-token HTTP/1.1\r\nhost: x\r\nconnection: close\r\n".to_vec();
    request.extend_from_slice(headers.as_ref());
    request.extend_from_slice(b"content-length: 0\r\n\r\n");
    request
}

/// A well-behaved browser gets a token, and fast.
async fn assert_serves_others(stack: &Stack) {
    let started = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/chat-token", stack.addr))
        .header("origin", ORIGIN)
        .send()
        .await
        .expect("the mint answers others");
    assert_eq!(
        response.status(),
        200,
        "a normal token request still succeeds"
    );
    let body: Value = response.json().await.unwrap();
    assert!(body["token"].is_string(), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "others are served promptly: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn slowloris_heads_are_dropped_within_the_header_timeout_while_tokens_are_minted() {
    let stack = spawn_stack(false).await;
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(&stack.addr).await.unwrap();
        stream
            .write_all(
                format!("POST /api/chat-token HTTP/1.1\r\nhost: x\r\norigin: {ORIGIN}\r\n")
                    .as_bytes(),
            )
            .await
            .unwrap();
        slow.push(stream);
    }
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        let mut tasks = Vec::new();
        for mut stream in slow {
            tasks.push(tokio::spawn(async move {
                let mut buffer = [0u8; 1024];
                loop {
                    tokio::select! {
                        read = stream.read(&mut buffer) => return read.map(|n| buffer[..n].to_vec()).unwrap_or_default(),
                        () = tokio::time::sleep(Duration::from_millis(300)) => {
                            if stream.write_all(b"x-slow: 1\r\n").await.is_err() {
                                return Vec::new();
                            }
                        }
                    }
                }
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap());
        }
        answers
    });
    assert_serves_others(&stack).await;
    let answers = tokio::time::timeout(Duration::from_secs(6), trickle)
        .await
        .expect("every slow head is cut off within a few seconds")
        .unwrap();
    for answer in answers {
        let text = String::from_utf8_lossy(&answer);
        assert!(
            text.is_empty() || text.starts_with("HTTP/1.1 408"),
            "a slow head never gets a token: {text}"
        );
    }
    assert!(started.elapsed() < HEADER_TIMEOUT + Duration::from_secs(3));
    assert_serves_others(&stack).await;
}

#[tokio::test]
async fn past_the_connection_cap_a_new_connection_waits_until_one_closes() {
    // A long header timeout: only a closed connection can free a slot here.
    let stack = spawn_stack_with(
        false,
        Settings {
            header_timeout: Duration::from_secs(30),
            max_connections: 2,
            ..Settings::default()
        },
    )
    .await;
    let first = TcpStream::connect(&stack.addr).await.unwrap();
    let _second = TcpStream::connect(&stack.addr).await.unwrap();
    // The kernel completes the third handshake; the mint does not take it.
    let mut third = TcpStream::connect(&stack.addr).await.unwrap();
    third
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), third.read(&mut buffer)).await;
    assert!(
        early.is_err(),
        "two connections are open: the third waits, unanswered"
    );

    drop(first);
    let answer = read_all(&mut third, Instant::now(), Duration::from_secs(5)).await;
    assert_eq!(
        answer.status,
        Some(200),
        "a slot freed: the waiting connection is served: {}",
        answer.text
    );
}

#[tokio::test]
async fn a_slow_or_huge_body_is_never_waited_for() {
    let stack = spawn_stack(false).await;
    // The mint reads no body: it answers at once and closes the connection,
    // so the rest of a slow (or 1 GiB) body holds nothing.
    for length in [100, 1 << 30] {
        let started = Instant::now();
        let mut stream = TcpStream::connect(&stack.addr).await.unwrap();
        stream
            .write_all(
                format!("POST /api/chat-token HTTP/1.1\r\nhost: x\r\norigin: {ORIGIN}\r\ncontent-length: {length}\r\n\r\n{{\"a\"")
                    .as_bytes(),
            )
            .await
            .unwrap();
        let answer = read_all(&mut stream, started, Duration::from_secs(5)).await;
        assert_eq!(
            answer.status,
            Some(200),
            "the body is ignored, as the contract says: {answer:?}"
        );
        assert!(
            answer.closed,
            "the connection is closed rather than drained: {answer:?}"
        );
        assert!(
            answer.took < Duration::from_secs(2),
            "answered at once: {answer:?}"
        );
    }
    assert_serves_others(&stack).await;
}

#[tokio::test]
async fn an_oversized_head_is_refused_and_the_mint_serves_on() {
    let stack = spawn_stack(false).await;
    let huge = "a".repeat(1 << 20);
    let answer = send(
        &stack.addr,
        &token_request(format!("origin: {ORIGIN}\r\ncookie: x={huge}\r\n")),
    )
    .await;
    assert!(
        matches!(answer.status, Some(431) | None),
        "a 1 MiB cookie is refused (hyper's 431) or the connection cut: {:?}",
        answer.status
    );
    let many: String = (0..200).map(|i| format!("cookie: c{i}=v\r\n")).collect();
    let answer = send(
        &stack.addr,
        &token_request(format!("origin: {ORIGIN}\r\n{many}")),
    )
    .await;
    assert!(
        matches!(answer.status, Some(431) | None),
        "{:?}",
        answer.status
    );
    assert_serves_others(&stack).await;
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_refused_with_the_contract_error() {
    let stack = spawn_stack(false).await;
    let answer = send(
        &stack.addr,
        &token_request(b"origin: http://127.0.0.1:9999\xff\r\n"),
    )
    .await;
    assert_eq!(answer.status, Some(403), "{answer:?}");
    assert_eq!(answer.code(), "origin_not_allowed");

    // A visitor keeps its identity beside another cookie of the site that is
    // not ASCII (the bug the `mint_identity` fuzz target found).
    let first = send(&stack.addr, &token_request(format!("origin: {ORIGIN}\r\n"))).await;
    assert_eq!(first.status, Some(200), "{first:?}");
    let cookie = first
        .header("set-cookie")
        .expect("a new visitor gets a cookie");
    let pair = cookie.split(';').next().unwrap();
    let mut request = format!("POST /api/chat-token HTTP/1.1\r\nhost: x\r\nconnection: close\r\norigin: {ORIGIN}\r\ncookie: prefs=caf").into_bytes();
    request.extend_from_slice(b"\xc3\xa9; ");
    request.extend_from_slice(format!("{pair}\r\ncontent-length: 0\r\n\r\n").as_bytes());
    let again = send(&stack.addr, &request).await;
    assert_eq!(again.status, Some(200), "{again:?}");
    assert_eq!(
        again.header("set-cookie"),
        None,
        "the same visitor, not a new one: {again:?}"
    );

    let sessions = spawn_stack(true).await;
    let answer = send(
        &sessions.addr,
        &token_request(b"origin: http://127.0.0.1:9999\r\nauthorization: Bearer \xff\xfe\r\n"),
    )
    .await;
    assert_eq!(answer.status, Some(401), "{answer:?}");
    assert_eq!(answer.code(), "unauthenticated");
    assert_serves_others(&stack).await;
}

#[tokio::test]
async fn two_origins_or_two_authorizations_are_refused_never_guessed() {
    let stack = spawn_stack(false).await;
    for origins in [
        format!("origin: {ORIGIN}\r\norigin: https://evil.example\r\n"),
        format!("origin: https://evil.example\r\norigin: {ORIGIN}\r\n"),
        format!("origin: {ORIGIN}\r\norigin: {ORIGIN}\r\n"),
    ] {
        let answer = send(&stack.addr, &token_request(origins.as_bytes())).await;
        assert_eq!(answer.status, Some(403), "{origins:?}: {answer:?}");
        assert_eq!(answer.code(), "origin_not_allowed");
        assert_eq!(
            answer.header("access-control-allow-origin"),
            None,
            "no CORS grant: {answer:?}"
        );
    }

    let sessions = spawn_stack(true).await;
    let token = session_token();
    let answer = send(
        &sessions.addr,
        &token_request(format!(
            "origin: {ORIGIN}\r\nauthorization: Bearer {token}\r\n"
        )),
    )
    .await;
    assert_eq!(
        answer.status,
        Some(200),
        "one valid session token works: {answer:?}"
    );
    let answer = send(
        &sessions.addr,
        &token_request(format!(
            "origin: {ORIGIN}\r\nauthorization: Bearer {token}\r\nauthorization: Bearer {token}\r\n"
        )),
    )
    .await;
    assert_eq!(
        answer.status,
        Some(401),
        "two Authorizations, even equal ones: {answer:?}"
    );
    assert_eq!(answer.code(), "unauthenticated");
    assert_serves_others(&stack).await;
}

#[tokio::test]
async fn conflicting_lengths_chunked_tricks_and_folded_headers_smuggle_nothing() {
    let stack = spawn_stack(false).await;
    let smuggled = "GET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n";
    for (what, request) in [
        (
            "two different Content-Lengths",
            format!(
                "POST /api/chat-token HTTP/1.1\r\nhost: x\r\norigin: {ORIGIN}\r\ncontent-length: 0\r\ncontent-length: {}\r\n\r\n{smuggled}",
                smuggled.len()
            ),
        ),
        (
            "Content-Length with chunked",
            format!(
                "POST /api/chat-token HTTP/1.1\r\nhost: x\r\norigin: {ORIGIN}\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n{smuggled}"
            ),
        ),
        (
            "a bad chunk",
            format!(
                "POST /api/chat-token HTTP/1.1\r\nhost: x\r\norigin: {ORIGIN}\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n{smuggled}"
            ),
        ),
        (
            "an obs-folded Origin",
            format!(
                "POST /api/chat-token HTTP/1.1\r\nhost: x\r\norigin: http://evil.example\r\n {ORIGIN}\r\ncontent-length: 0\r\n\r\n{smuggled}"
            ),
        ),
    ] {
        let answer = send(&stack.addr, request.as_bytes()).await;
        assert!(
            answer.text.matches("HTTP/1.1 ").count() <= 1,
            "{what}: one answer at most: {answer:?}"
        );
        assert!(
            !answer.text.contains("HTTP/1.1 404"),
            "{what}: the smuggled request was never served: {answer:?}"
        );
        assert!(
            answer.closed,
            "{what}: the connection does not live on: {answer:?}"
        );
        if what == "an obs-folded Origin" || what == "two different Content-Lengths" {
            assert!(
                matches!(answer.status, Some(400) | None),
                "{what}: refused by hyper: {answer:?}"
            );
        }
    }
    assert_serves_others(&stack).await;
}

#[tokio::test]
async fn another_method_on_the_route_is_a_405_in_the_contract_shape() {
    let stack = spawn_stack(false).await;
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        let answer = send(
            &stack.addr,
            format!("{method} /api/chat-token HTTP/1.1\r\nhost: x\r\nconnection: close\r\norigin: {ORIGIN}\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(answer.status, Some(405), "{method}: {answer:?}");
        assert_eq!(answer.code(), "method_not_allowed", "{method}");
        assert_eq!(answer.header("allow").as_deref(), Some("POST, OPTIONS"));
    }
    assert_serves_others(&stack).await;
}
