//! Issue 17: the optional feedback route (`--feedback`), which logs and
//! counts the visitors' ratings of answers, and `--threads`, whose tokens
//! may keep conversations in Ringside threads.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

async fn rate(mint: &MintServer, origin: &str, body: &Value) -> reqwest::Response {
    mint.http
        .post(format!("{}/api/chat-feedback", mint.url))
        .header("origin", origin)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn ratings_from_allowed_pages_are_logged_and_counted_others_refused() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| options.feedback = true).await;
    let down = json!({
        "kind": "reason", "rating": "down", "reason": "The price is wrong <script>x</script>",
        "message": "How much?", "answer": "It costs $5.", "messageId": "ab.3", "conversationId": "c9"
    });
    let answer = rate(&mint, &mint.origin, &down).await;
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        mint.origin.as_str(),
        "the widget of an allowed page may read the answer"
    );
    // A rating alone (`kind` defaults to one), then a reason for another.
    let up = json!({ "rating": "up" });
    assert_eq!(
        rate(&mint, &mint.origin, &up).await.status(),
        StatusCode::NO_CONTENT
    );
    let rated = json!({ "kind": "rating", "rating": "down" });
    assert_eq!(
        rate(&mint, &mint.origin, &rated).await.status(),
        StatusCode::NO_CONTENT
    );

    let foreign = rate(&mint, "https://evil.example", &up).await;
    assert_eq!(
        foreign.status(),
        StatusCode::FORBIDDEN,
        "another site's page cannot post"
    );
    assert!(
        foreign
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    let bad = rate(&mint, &mint.origin, &json!({ "rating": "meh" })).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_request");

    let preflight = mint
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/chat-feedback", mint.url),
        )
        .header("origin", &mint.origin)
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    assert_eq!(preflight.headers()["access-control-allow-methods"], "POST");

    let (_, metrics) = mint.get("/metrics").await;
    for line in [
        "ringside_mint_feedback_total{rating=\"up\"} 1",
        "ringside_mint_feedback_total{rating=\"down\"} 1",
        "ringside_mint_feedback_reasons_total 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing `{line}`:\n{metrics}"
        );
    }
    let logs = log_text();
    // The conversation id as a field: a request id may contain "c9" too.
    let line = logs
        .lines()
        .find(|l| l.contains("chat feedback") && l.contains("conversation_id=c9"))
        .expect("the rating is logged");
    assert!(
        line.contains("rating=\"down\"") || line.contains("rating=down"),
        "{line}"
    );
    assert!(line.contains("The price is wrong"), "{line}");
}

#[tokio::test]
async fn an_address_posting_too_many_ratings_is_told_to_wait() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| options.feedback = true).await;
    let up = json!({ "rating": "up" });
    for _ in 0..10 {
        assert_eq!(
            rate(&mint, &mint.origin, &up).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    let limited = rate(&mint, &mint.origin, &up).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn without_the_flag_there_is_no_feedback_route() {
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    let answer = rate(&mint, &mint.origin, &json!({ "rating": "up" })).await;
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    let (_, metrics) = mint.get("/metrics").await;
    assert!(
        metrics.contains("ringside_mint_feedback_total{rating=\"up\"} 0"),
        "{metrics}"
    );
}

#[tokio::test]
async fn with_threads_tokens_may_also_keep_conversations_in_threads() {
    let mock = spawn_mock().await;
    let plain = spawn_mint(&mock.url).await;
    let answer = plain.token(None).await;
    assert_eq!(claims(answer.token())["scope"], json!(["chat"]));
    let threads = spawn_mint_with(&mock.url, &[], |options| options.threads = true).await;
    let answer = threads.token(None).await;
    assert_eq!(claims(answer.token())["scope"], json!(["chat", "threads"]));
}
