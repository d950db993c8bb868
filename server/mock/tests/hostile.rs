//! Hostile HTTP against the mock, over raw TCP on loopback (issue #7): slow
//! heads and bodies, oversized heads and bodies, bytes that are not UTF-8,
//! duplicate and conflicting headers, request-smuggling shapes. Each is
//! refused cleanly — with the contract's JSON error wherever the server gets
//! to answer at all — and the mock keeps serving everyone else, during and
//! after.

use std::time::{Duration, Instant};

use ringside_mock::serve::Timeouts;
use ringside_mock::{AppState, Options, Settings};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use ringside_raw_http::{Answer, read_all, send};

const KEY: &str = "sk_test_hostile";
const ORIGIN: &str = "http://127.0.0.1:9999";
/// The timeouts of these tests: short, so that they run quickly.
const TIMEOUTS: Timeouts = Timeouts {
    header: Duration::from_secs(1),
    body: Duration::from_secs(1),
};

struct Mock {
    addr: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn spawn_mock() -> Mock {
    let listener = ringside_mock::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let settings = Settings {
        api_key: KEY.into(),
        answer_tokens: 5,
        first_token_delay: Duration::ZERO,
        token_delay: Duration::ZERO,
    };
    let options = Options {
        timeouts: TIMEOUTS,
        ..Options::default()
    };
    let state = AppState::with_options(settings, options, "ringside-mock");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(ringside_mock::run(listener, state, async {
        let _ = stopped.await;
    }));
    Mock { addr, _stop: stop }
}

/// A well-behaved request by someone else succeeds, and fast.
async fn assert_serves_others(mock: &Mock) {
    let started = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/chat/completions", mock.addr))
        .bearer_auth(KEY)
        .json(&json!({"model": "fc:openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("the mock answers others");
    assert_eq!(response.status(), 200, "a normal request still succeeds");
    let completion: Value = response.json().await.unwrap();
    assert!(completion["choices"][0]["message"]["content"].is_string());
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "others are served promptly, not after the hostile client: {:?}",
        started.elapsed()
    );
}

fn post(path: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\n{headers}content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const CHAT: &str =
    r#"{"model":"fc:openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;

#[tokio::test]
async fn slowloris_heads_are_dropped_within_the_header_timeout_while_others_are_served() {
    let mock = spawn_mock().await;
    let mut slow = Vec::new();
    for _ in 0..100 {
        let mut stream = TcpStream::connect(&mock.addr).await.unwrap();
        stream
            .write_all(b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    let started = Instant::now();
    // They trickle one header line every 300 ms, forever.
    let trickle = tokio::spawn(async move {
        let mut answers = Vec::new();
        for mut stream in slow {
            answers.push(tokio::spawn(async move {
                let mut buffer = [0u8; 1024];
                loop {
                    tokio::select! {
                        read = stream.read(&mut buffer) => return read.map(|n| (n, buffer[..n].to_vec())),
                        () = tokio::time::sleep(Duration::from_millis(300)) => {
                            if stream.write_all(b"x-slow: 1\r\n").await.is_err() {
                                return Ok((0, Vec::new()));
                            }
                        }
                    }
                }
            }));
        }
        let mut results = Vec::new();
        for answer in answers {
            results.push(answer.await.unwrap());
        }
        results
    });
    assert_serves_others(&mock).await;
    let results = tokio::time::timeout(Duration::from_secs(6), trickle)
        .await
        .expect("every slow head is cut off within a few seconds")
        .unwrap();
    for (n, bytes) in results.into_iter().flatten() {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            n == 0 || text.starts_with("HTTP/1.1 408"),
            "a slow head gets nothing (or a 408), never an answer: {text}"
        );
    }
    assert!(
        started.elapsed() < TIMEOUTS.header + Duration::from_secs(3),
        "the slow heads were dropped in bounded time: {:?}",
        started.elapsed()
    );
    assert_serves_others(&mock).await;
}

#[tokio::test]
async fn an_idle_connection_is_closed_after_the_header_timeout() {
    let mock = spawn_mock().await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(&mock.addr).await.unwrap();
    let answer = read_all(&mut stream, started, Duration::from_secs(5)).await;
    assert!(
        answer.closed,
        "a connection that never sends a head is closed: {answer:?}"
    );
    assert!(
        answer.took < TIMEOUTS.header + Duration::from_secs(2),
        "{answer:?}"
    );
}

#[tokio::test]
async fn a_slow_body_is_a_408_in_the_contract_shape_while_others_are_served() {
    let mock = spawn_mock().await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(&mock.addr).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-length: {}\r\n\r\n{}",
                CHAT.len(),
                &CHAT[..10]
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    // One byte every 200 ms: it would take 14 s to finish.
    let body = CHAT.as_bytes()[10..].to_vec();
    let (mut read_half, mut write_half) = stream.into_split();
    let trickle = tokio::spawn(async move {
        for byte in body {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if write_half.write_all(&[byte]).await.is_err() {
                break;
            }
        }
    });
    assert_serves_others(&mock).await;
    let mut bytes = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), read_half.read_to_end(&mut bytes)).await;
    trickle.abort();
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.starts_with("HTTP/1.1 408"),
        "a slow body is refused with 408: {text}"
    );
    let answer = Answer {
        status: Some(408),
        text: text.into_owned(),
        took: started.elapsed(),
        closed: true,
    };
    assert_eq!(answer.code(), "request_timeout", "{answer:?}");
    assert!(
        answer.took < TIMEOUTS.body + Duration::from_secs(2),
        "the slow body was cut off in bounded time: {answer:?}"
    );
    assert_serves_others(&mock).await;
}

#[tokio::test]
async fn an_oversized_head_is_refused_and_the_mock_serves_on() {
    let mock = spawn_mock().await;
    let huge = "a".repeat(1 << 20);
    let answer = send(
        &mock.addr,
        format!("GET /v1/customers/x HTTP/1.1\r\nhost: x\r\nx-huge: {huge}\r\n\r\n").as_bytes(),
    )
    .await;
    assert!(
        matches!(answer.status, Some(431) | None),
        "a 1 MiB header is refused (hyper's 431) or the connection cut: {:?}",
        answer.status
    );
    let many: String = (0..200).map(|i| format!("x-h{i}: v\r\n")).collect();
    let answer = send(
        &mock.addr,
        format!("GET /v1/customers/x HTTP/1.1\r\nhost: x\r\n{many}\r\n").as_bytes(),
    )
    .await;
    assert!(
        matches!(answer.status, Some(431) | None),
        "200 headers are refused or the connection cut: {:?}",
        answer.status
    );
    assert_serves_others(&mock).await;
}

#[tokio::test]
async fn an_oversized_body_is_a_413_in_the_contract_shape_before_it_is_sent() {
    let mock = spawn_mock().await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(&mock.addr).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-length: {}\r\n\r\n{{",
                64 << 20
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let answer = read_all(&mut stream, started, Duration::from_secs(3)).await;
    assert_eq!(answer.status, Some(413), "{answer:?}");
    assert_eq!(answer.code(), "payload_too_large");
    assert!(
        answer.took < Duration::from_secs(1),
        "refused at once: {answer:?}"
    );

    // Chunked, with no length announced: refused once 1 MiB has arrived.
    let chunk = "a".repeat(64 * 1024);
    let mut request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    for _ in 0..20 {
        request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
    }
    let answer = send(&mock.addr, request.as_bytes()).await;
    assert_eq!(
        answer.status,
        Some(413),
        "{}",
        &answer.text[..200.min(answer.text.len())]
    );
    assert_eq!(answer.code(), "payload_too_large");
    assert_serves_others(&mock).await;
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_refused_with_the_contract_error() {
    let mock = spawn_mock().await;
    let mut request = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Client \xff\xfe.\xc0\xaf.x\r\norigin: http://127.0.0.1:9999\r\ncontent-length: 2\r\n\r\n{}".to_vec();
    let answer = send(&mock.addr, &request).await;
    assert_eq!(answer.status, Some(401), "{answer:?}");
    assert_eq!(answer.code(), "invalid_client_token");

    request = b"POST /v1/customers HTTP/1.1\r\nhost: x\r\nauthorization: Bearer \xff\r\ncontent-length: 2\r\n\r\n{}".to_vec();
    let answer = send(&mock.addr, &request).await;
    assert_eq!(answer.status, Some(401), "{answer:?}");
    assert_eq!(answer.code(), "invalid_api_key");

    let body = b"{\"model\":\"fc:openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"\xff\xfe\"}]}";
    let mut request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let answer = send(&mock.addr, &request).await;
    assert_eq!(answer.status, Some(400), "{answer:?}");
    assert_eq!(answer.code(), "invalid_request");

    let answer = send(
        &mock.addr,
        format!(
            "GET /v1/customers/%FF%FE HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(
        answer.status,
        Some(400),
        "a path that decodes to bad UTF-8: {answer:?}"
    );
    assert_eq!(answer.code(), "invalid_request");

    let answer = send(
        &mock.addr,
        b"GET /v1/customers/\xff HTTP/1.1\r\nhost: x\r\n\r\n",
    )
    .await;
    assert!(
        matches!(answer.status, Some(400) | None),
        "raw bytes in the request target are a 400 from hyper: {answer:?}"
    );
    assert_serves_others(&mock).await;
}

#[tokio::test]
async fn two_authorizations_or_two_origins_are_refused_never_guessed() {
    let mock = spawn_mock().await;
    // A server key and a Client Token at once: which one is meant is unclear.
    let answer = send(
        &mock.addr,
        &post(
            "/v1/chat/completions",
            &format!("authorization: Bearer {KEY}\r\nauthorization: Client a.b.c\r\n"),
            CHAT,
        ),
    )
    .await;
    assert_eq!(answer.status, Some(401), "{answer:?}");
    assert_eq!(answer.code(), "invalid_api_key");
    let answer = send(
        &mock.addr,
        &post(
            "/v1/chat/completions",
            &format!("authorization: Bearer {KEY}\r\nauthorization: Bearer {KEY}\r\n"),
            CHAT,
        ),
    )
    .await;
    assert_eq!(
        answer.status,
        Some(401),
        "even the same key twice: {answer:?}"
    );

    // A real Client Token, with its own origin and another one.
    let token = client_token(&mock).await;
    let answer = send(
        &mock.addr,
        &post(
            "/v1/chat/completions",
            &format!("authorization: Client {token}\r\norigin: {ORIGIN}\r\norigin: https://evil.example\r\n"),
            CHAT,
        ),
    )
    .await;
    assert_eq!(answer.status, Some(403), "{answer:?}");
    assert_eq!(answer.code(), "client_token_origin_mismatch");
    let answer = send(
        &mock.addr,
        &post(
            "/v1/chat/completions",
            &format!("authorization: Client {token}\r\norigin: {ORIGIN}\r\norigin: {ORIGIN}\r\n"),
            CHAT,
        ),
    )
    .await;
    assert_eq!(
        answer.status,
        Some(403),
        "even the right origin twice: {answer:?}"
    );
    let answer = send(
        &mock.addr,
        &post(
            "/v1/chat/completions",
            &format!("authorization: Client {token}\r\norigin: {ORIGIN}\r\n"),
            CHAT,
        ),
    )
    .await;
    assert_eq!(
        answer.status,
        Some(200),
        "the token itself works: {answer:?}"
    );
    assert_serves_others(&mock).await;
}

async fn client_token(mock: &Mock) -> String {
    let http = reqwest::Client::new();
    let base = format!("http://{}", mock.addr);
    let created = http
        .post(format!("{base}/v1/customers"))
        .bearer_auth(KEY)
        .json(&json!({"external_id": "ext:hostile"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let minted: Value = http
        .post(format!("{base}/v1/customers/ext:hostile/client_tokens"))
        .bearer_auth(KEY)
        .json(&json!({"scope": ["chat"], "origin_allowlist": [ORIGIN]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    minted["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn conflicting_content_lengths_are_refused_and_nothing_is_smuggled() {
    let mock = spawn_mock().await;
    let smuggled = "GET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n";
    let body = format!("{CHAT}{smuggled}");
    let answer = send(
        &mock.addr,
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-length: {}\r\ncontent-length: {}\r\n\r\n{body}",
            CHAT.len(),
            body.len()
        )
        .as_bytes(),
    )
    .await;
    assert!(
        matches!(answer.status, Some(400) | None),
        "two different Content-Lengths are refused by hyper: {answer:?}"
    );
    assert!(
        !answer.text.contains("/smuggled"),
        "no second request was read: {answer:?}"
    );
    assert!(
        answer.closed,
        "the connection is closed after a framing error"
    );
    assert_serves_others(&mock).await;
}

#[tokio::test]
async fn content_length_with_chunked_is_read_as_chunked_and_smuggles_nothing() {
    let mock = spawn_mock().await;
    // The classic CL.TE shape: a front end reading Content-Length would see
    // a second request hidden after the chunked body's end.
    let chunked = format!("{:x}\r\n{CHAT}\r\n0\r\n\r\n", CHAT.len());
    let smuggled = "GET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n";
    let answer = send(
        &mock.addr,
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ncontent-length: {}\r\ntransfer-encoding: chunked\r\n\r\n{chunked}{smuggled}",
            chunked.len() + smuggled.len()
        )
        .as_bytes(),
    )
    .await;
    assert!(
        answer.responses() <= 1,
        "at most one answer on the connection: {answer:?}"
    );
    assert!(
        !answer.text.contains("no route for /smuggled"),
        "the smuggled request was never served: {answer:?}"
    );
    assert!(
        answer.closed,
        "the connection does not live on after CL+TE: {answer:?}"
    );
    assert_serves_others(&mock).await;
}

#[tokio::test]
async fn a_bad_chunk_or_an_unknown_transfer_encoding_is_refused() {
    let mock = spawn_mock().await;
    for (what, encoding, body) in [
        (
            "a chunk size that is not hex",
            "chunked",
            "zz\r\n{}\r\n0\r\n\r\n".to_string(),
        ),
        (
            "a chunk longer than it said",
            "chunked",
            "2\r\n{}}}}\r\n0\r\n\r\n".to_string(),
        ),
        (
            "a chunk size that overflows",
            "chunked",
            "fffffffffffffffffff\r\n{}\r\n0\r\n\r\n".to_string(),
        ),
        (
            "an encoding the server does not know",
            "gzip",
            "{}".to_string(),
        ),
        (
            "chunked, but not last",
            "chunked, identity",
            "2\r\n{}\r\n0\r\n\r\n".to_string(),
        ),
    ] {
        let answer = send(
            &mock.addr,
            format!(
                "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {KEY}\r\ntransfer-encoding: {encoding}\r\n\r\n{body}"
            )
            .as_bytes(),
        )
        .await;
        match answer.status {
            // The server got to answer: the contract's error.
            Some(status @ 400..=499) if answer.text.contains("application/json") => {
                assert_eq!(
                    answer.json()["error"]["type"],
                    "invalid_request_error",
                    "{what}: {status}"
                );
            }
            // hyper refused the framing itself, with no body to speak of.
            Some(400 | 501) | None => {}
            other => panic!("{what}: refused cleanly, not {other:?}: {answer:?}"),
        }
        assert!(
            answer.closed,
            "{what}: the connection is closed: {answer:?}"
        );
    }
    assert_serves_others(&mock).await;
}

#[tokio::test]
async fn an_obs_folded_header_is_refused() {
    let mock = spawn_mock().await;
    let answer = send(
        &mock.addr,
        format!(
            "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer\r\n {KEY}\r\ncontent-length: {}\r\n\r\n{CHAT}",
            CHAT.len()
        )
        .as_bytes(),
    )
    .await;
    assert!(
        matches!(answer.status, Some(400) | None),
        "a folded header line is a 400 (RFC 9112 §5.2), never joined into a credential: {answer:?}"
    );
    assert_serves_others(&mock).await;
}

#[tokio::test]
async fn garbage_instead_of_http_is_refused_and_the_mock_serves_on() {
    let mock = spawn_mock().await;
    for garbage in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
        b"GET / HTTP/9.9\r\n\r\n",
        b"GET\r\n\r\n",
        b"\r\n\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: -1\r\n\r\n",
        b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 99999999999999999999999\r\n\r\n",
    ] {
        let answer = send(&mock.addr, garbage).await;
        assert!(
            !matches!(answer.status, Some(200..=299) | Some(500)),
            "{:?} is refused: {answer:?}",
            String::from_utf8_lossy(garbage)
        );
    }
    assert_serves_others(&mock).await;
}
