//! Resilience: timeouts, retries only where they are safe, and clear 502/503
//! answers that never leak the upstream address or the key.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::*;

fn assert_no_internals(answer: &Answer, upstream: &str) {
    assert!(
        !answer.text.contains(upstream)
            && !answer.text.contains(KEY)
            && !answer.text.contains("127.0.0.1"),
        "no upstream address or key in the answer: {}",
        answer.text
    );
}

#[tokio::test]
async fn ringside_down_is_a_clear_503_after_retrying_the_idempotent_upsert() {
    // A port that refuses connections: bind, note it, close.
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let mint = spawn_mint(&dead).await;
    let answer = mint.token(None).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text
    );
    assert_eq!(answer.code(), "upstream_unavailable");
    assert_eq!(answer.body["error"]["type"], "api_error");
    assert!(
        answer.header("retry-after").is_some(),
        "503 says when to come back"
    );
    assert!(
        answer.header("x-request-id").is_some(),
        "errors carry the request id"
    );
    assert!(
        answer.header("set-cookie").is_none(),
        "no visitor cookie without a token"
    );
    assert_no_internals(&answer, &dead);
    let metrics = mint.mint.render_metrics();
    assert!(
        metrics.contains("ringside_mint_upstream_retries_total{call=\"upsert\"} 2")
            && metrics.contains(
                "ringside_mint_upstream_requests_total{call=\"upsert\",result=\"connect_error\"} 3"
            )
            && metrics.contains("ringside_mint_requests_total{outcome=\"upstream_unavailable\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_ringside_5xx_on_the_mint_is_a_502_and_the_mint_is_not_retried() {
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    mock.fault(Call::Mint, Fault::Status(500), 5);
    let answer = mint.token(None).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.text);
    assert_eq!(answer.code(), "upstream_error");
    assert_no_internals(&answer, &mock.url);
    assert_eq!(
        mock.mints(),
        1,
        "a mint that got an answer may have minted: never sent twice"
    );
}

#[tokio::test]
async fn a_transient_upsert_failure_is_retried_with_the_same_idempotency_key() {
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    mock.fault(Call::Upsert, Fault::Status(503), 2);
    let answer = mint.token(None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (3, 1),
        "two failures, then success"
    );
}

#[tokio::test]
async fn a_persistent_upsert_failure_is_a_502_after_the_retries() {
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    mock.fault(Call::Upsert, Fault::Status(500), 10);
    let answer = mint.token(None).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.text);
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (3, 0),
        "1 try + 2 retries, no mint"
    );
}

#[tokio::test]
async fn a_refusal_by_ringside_is_not_retried() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.api_key = "sk_test_wrong".to_string().into();
    })
    .await;
    let answer = mint.token(None).await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.text);
    assert_eq!(mock.upserts(), 1, "a 401 will not change on retry");
}

#[tokio::test]
async fn a_mint_that_times_out_is_a_503_and_is_not_retried_but_the_next_request_tries_again() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.upstream.timeout = Duration::from_millis(300);
    })
    .await;
    mock.fault(Call::Mint, Fault::Delay(Duration::from_secs(2)), 1);
    let started = std::time::Instant::now();
    let answer = mint.token(None).await;
    assert_eq!(
        answer.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        answer.text
    );
    assert!(
        started.elapsed() < Duration::from_millis(1_500),
        "the timeout holds"
    );
    assert_eq!(
        mock.mints(),
        1,
        "a mint that may have reached Ringside is not sent again"
    );
    let next = mint.token(None).await;
    assert_eq!(
        next.status,
        StatusCode::OK,
        "a failure is not cached: {}",
        next.text
    );
}
