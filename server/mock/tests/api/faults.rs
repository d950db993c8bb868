//! Scripted completions and injected faults, checked through the bytes a
//! client sees: read with the shared `SseParser` and `StreamFrame::parse`.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use ringside_wire::chat::StreamFrame;
use serde_json::{Value, json};

use crate::helpers::*;

async fn streamed(app: &TestApp) -> Streamed {
    let response = app.server_post("/v1/chat/completions", &chat_body()).await;
    assert_eq!(response.status(), StatusCode::OK);
    read_stream(response).await
}

#[tokio::test]
async fn a_scripted_text_streams_word_by_word_each_with_its_leading_whitespace() {
    let app = spawn_app().await;
    app.script(json!([{ "text": "Hello there,\n\nworld of  tests" }]))
        .await;
    let stream = streamed(&app).await;
    assert_eq!(
        stream.deltas,
        ["Hello", " there,", "\n\nworld", " of", "  tests"]
    );
    assert!(stream.ended_with_done());
}

#[tokio::test]
async fn scripted_tokens_are_the_exact_deltas_and_survive_any_characters() {
    let app = spawn_app().await;
    let tokens = json!(["<b>", "\"quoted\"", "\n", "data: [DONE]", "🎉é", "", "\r\n"]);
    app.script(json!([{ "tokens": tokens }])).await;
    let stream = streamed(&app).await;
    assert_eq!(
        json!(stream.deltas),
        tokens,
        "every delta arrives exactly as scripted"
    );
    assert!(stream.ended_with_done());
}

#[tokio::test]
async fn a_scripted_token_count_sets_the_generated_answers_length() {
    let app = spawn_app().await;
    app.script(json!([{ "token_count": 40 }, { "token_count": 0 }]))
        .await;
    assert_eq!(streamed(&app).await.deltas.len(), 40);
    let empty = streamed(&app).await;
    assert!(empty.deltas.is_empty(), "no content chunks");
    assert_eq!(empty.frames.len(), 3, "role, finish, [DONE]");
}

#[tokio::test]
async fn scripts_are_taken_first_in_first_out_by_streamed_and_whole_calls_then_defaults_return() {
    let app = spawn_app().await;
    let default = streamed(&app).await.text;
    app.script(json!([{ "text": "One." }])).await;
    app.script(json!([{ "text": "Two." }, { "text": "Three." }]))
        .await;
    assert_eq!(streamed(&app).await.text, "One.");
    let whole: Value = app
        .server_post("/v1/chat/completions", &whole(chat_body()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        whole["choices"][0]["message"]["content"], "Two.",
        "a non-streamed call takes a script too"
    );
    assert_eq!(whole["usage"]["completion_tokens"], 1);
    assert_eq!(streamed(&app).await.text, "Three.");
    assert_eq!(
        streamed(&app).await.text,
        default,
        "an empty queue means the default answer"
    );
}

#[tokio::test]
async fn a_refused_request_does_not_take_a_script() {
    let app = spawn_app().await;
    app.script(json!([{ "text": "Kept." }])).await;
    let refused = app
        .post(
            "/v1/chat/completions",
            Some("Bearer sk_wrong"),
            &chat_body(),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let invalid = app
        .server_post(
            "/v1/chat/completions",
            &json!({ "model": MODEL, "messages": [] }),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    assert_eq!(streamed(&app).await.text, "Kept.");
}

#[tokio::test]
async fn max_tokens_also_cuts_a_scripted_answer() {
    let app = spawn_app().await;
    app.script(json!([{ "text": "a b c d e" }])).await;
    let mut body = chat_body();
    body["max_tokens"] = json!(2);
    let stream = read_stream(app.server_post("/v1/chat/completions", &body).await).await;
    assert_eq!(stream.deltas, ["a", " b"]);
}

#[tokio::test]
async fn scripted_delays_pace_the_first_token_and_the_ones_after() {
    let app = spawn_app().await;
    app.script(json!([{ "token_count": 5, "first_token_delay_ms": 300, "token_delay_ms": 100 }]))
        .await;
    let start = Instant::now();
    let mut response = app.server_post("/v1/chat/completions", &chat_body()).await;
    let mut parser = ringside_wire::sse::SseParser::new();
    let mut arrivals = Vec::new();
    while let Some(bytes) = response.chunk().await.unwrap() {
        parser.feed(&bytes, &mut |event| {
            if let Ok(StreamFrame::Chunk(c)) = StreamFrame::parse(&event.data)
                && c.content().is_some()
            {
                arrivals.push(start.elapsed());
            }
        });
    }
    assert_eq!(arrivals.len(), 5);
    assert!(
        arrivals[0] >= Duration::from_millis(290),
        "the first token waits 300 ms: {arrivals:?}"
    );
    for pair in arrivals.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(90),
            "tokens are 100 ms apart: {arrivals:?}"
        );
    }
}

#[tokio::test]
async fn a_drop_fault_cuts_the_connection_after_n_content_chunks_without_done() {
    let app = spawn_app().await;
    app.script(
        json!([{ "text": "one two three four five", "fault": { "kind": "drop", "after": 2 } }]),
    )
    .await;
    let stream = streamed(&app).await;
    assert!(stream.broken, "the client sees the body fail, not end");
    assert_eq!(
        stream.deltas,
        ["one", " two"],
        "exactly the first 2 content chunks arrived"
    );
    assert_eq!(
        stream.frames.len(),
        3,
        "the role chunk and 2 content chunks, nothing after"
    );
    assert!(!stream.ended_with_done());
    assert_eq!(
        streamed(&app).await.frames.len(),
        1 + ANSWER_TOKENS + 2,
        "the next call is whole again"
    );
}

#[tokio::test]
async fn a_drop_fault_after_0_cuts_right_after_the_role_chunk() {
    let app = spawn_app().await;
    app.script(json!([{ "fault": { "kind": "drop", "after": 0 } }]))
        .await;
    let stream = streamed(&app).await;
    assert!(stream.broken);
    assert_eq!(stream.frames.len(), 1, "only the role chunk");
}

#[tokio::test]
async fn an_error_fault_sends_one_error_frame_and_ends_without_done() {
    let app = spawn_app().await;
    app.script(json!([{ "fault": { "kind": "error", "after": 3, "code": "upstream_overloaded", "message": "try later" } }])).await;
    let stream = streamed(&app).await;
    assert!(!stream.broken, "the body ends normally");
    assert_eq!(stream.deltas.len(), 3);
    assert_eq!(stream.frames.len(), 1 + 3 + 1);
    match stream.frames.last() {
        Some(Ok(StreamFrame::Error(error))) => {
            assert_eq!(error.code, "upstream_overloaded");
            assert_eq!(error.message, "try later");
            assert_eq!(error.kind, "api_error");
        }
        other => panic!("the last frame is the error, got {other:?}"),
    }
    let text = String::from_utf8(stream.bytes).unwrap();
    assert!(
        text.ends_with("\"param\":null}}\n\n"),
        "the error frame is the contract's error object: {text}"
    );
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn a_malformed_fault_sends_a_frame_that_is_not_json_and_ends_without_done() {
    let app = spawn_app().await;
    app.script(json!([{ "tokens": ["a", "b"], "fault": { "kind": "malformed", "after": 1 } }]))
        .await;
    let stream = streamed(&app).await;
    assert!(!stream.broken);
    assert_eq!(stream.deltas, ["a"]);
    assert_eq!(
        stream.frames.len(),
        3,
        "role, one chunk, the malformed frame"
    );
    assert!(
        stream.frames[2].is_err(),
        "the last frame does not parse: {:?}",
        stream.frames[2]
    );
    let text = String::from_utf8(stream.bytes).unwrap();
    assert!(text.ends_with("data: {\"choices\":[\n\n"), "{text}");
}

#[tokio::test]
async fn a_fault_past_the_end_of_the_answer_comes_after_the_last_content_chunk() {
    let app = spawn_app().await;
    app.script(json!([{ "tokens": ["x", "y"], "fault": { "kind": "error", "after": 99 } }]))
        .await;
    let stream = streamed(&app).await;
    assert_eq!(stream.deltas, ["x", "y"]);
    assert!(
        matches!(stream.frames.last(), Some(Ok(StreamFrame::Error(e))) if e.code == "upstream_error"),
        "{:?}",
        stream.frames
    );
    assert!(
        !stream
            .frames
            .iter()
            .any(|f| matches!(f, Ok(StreamFrame::Chunk(c)) if c.finish_reason().is_some())),
        "no finish chunk before the fault"
    );
}

#[tokio::test]
async fn a_status_fault_answers_before_streaming_with_the_error_body_cors_and_retry_after() {
    let app = spawn_app().await;
    let token = app.client_token("ext:status").await;
    app.script(json!([
        { "fault": { "kind": "status", "status": 503, "code": "overloaded", "message": "busy", "retry_after": 7 } },
        { "fault": { "kind": "status", "status": 500 } },
        { "fault": { "kind": "status", "status": 429, "code": "rate_limit_exceeded" } },
        { "fault": { "kind": "status", "status": 402, "code": "customer_wallet_empty" } },
        { "fault": { "kind": "status", "status": 403, "code": "client_token_origin_mismatch" } },
    ]))
    .await;
    let first = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first.headers()["retry-after"], "7");
    assert_eq!(
        first.headers()["access-control-allow-origin"],
        ORIGIN,
        "the browser can read it"
    );
    assert!(
        first.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body = error_body(first).await;
    assert_eq!(body["error"]["code"], "overloaded");
    assert_eq!(body["error"]["message"], "busy");
    assert_eq!(body["error"]["type"], "api_error");
    for (status, code, kind) in [
        (500, "internal_error", "api_error"),
        (429, "rate_limit_exceeded", "rate_limit_error"),
        (402, "customer_wallet_empty", "billing_error"),
        (403, "client_token_origin_mismatch", "permission_error"),
    ] {
        let response = app.chat(&token, Some(ORIGIN), &chat_body()).await;
        assert_eq!(response.status().as_u16(), status);
        assert!(
            response.headers().get("retry-after").is_none(),
            "no Retry-After unless scripted"
        );
        let body = error_body(response).await;
        assert_eq!(body["error"]["code"], code, "{status}");
        assert_eq!(body["error"]["type"], kind, "{status}");
    }
    assert_eq!(
        app.customer("ext:status").await["spent_usd"],
        0.0,
        "a call that failed before answering is free"
    );
}

#[tokio::test]
async fn a_stall_fault_sends_n_chunks_then_no_bytes_at_all() {
    let app = spawn_app().await;
    app.script(json!([{ "tokens": ["a", "b", "c"], "fault": { "kind": "stall", "after": 2 } }]))
        .await;
    let response = app.server_post("/v1/chat/completions", &chat_body()).await;
    let so_far = read_stream_for(response, Duration::from_millis(700))
        .await
        .expect_err("nothing arrives after the stall");
    assert_eq!(so_far.deltas, ["a", "b"]);
    assert!(!so_far.broken, "the connection is still open");
    let whole: Value = app
        .server_post("/v1/chat/completions", &whole(chat_body()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        whole["object"], "chat.completion",
        "a stalled stream does not wedge the mock"
    );
}

#[tokio::test]
async fn faults_of_a_non_streamed_call_take_its_form() {
    let app = spawn_app().await;
    app.script(json!([
        { "fault": { "kind": "error", "after": 0, "code": "upstream_error", "message": "boom" } },
        { "fault": { "kind": "malformed", "after": 0 } },
        { "fault": { "kind": "drop", "after": 0 } },
        { "fault": { "kind": "status", "status": 502 } },
    ]))
    .await;
    let body = whole(chat_body());
    let error = app.server_post("/v1/chat/completions", &body).await;
    assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error_code(error).await, "upstream_error");
    let malformed = app.server_post("/v1/chat/completions", &body).await;
    assert_eq!(malformed.status(), StatusCode::OK);
    assert!(
        malformed.json::<Value>().await.is_err(),
        "the body is not JSON"
    );
    let dropped = app.server_post("/v1/chat/completions", &body).await;
    assert!(dropped.bytes().await.is_err(), "the body fails");
    let status = app.server_post("/v1/chat/completions", &body).await;
    assert_eq!(status.status(), StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn a_bad_script_is_400_naming_the_param_and_queues_nothing() {
    let app = spawn_app().await;
    for (body, param) in [
        (json!({}), "completions"),
        (json!({ "completions": {} }), "completions"),
        (
            json!({ "completions": [{ "txt": "typo" }] }),
            "completions[0].txt",
        ),
        (
            json!({ "completions": [{ "token_count": -1 }] }),
            "completions[0].token_count",
        ),
        (
            json!({ "completions": [{ "token_count": 100_001 }] }),
            "completions[0].token_count",
        ),
        (
            json!({ "completions": [{ "token_delay_ms": 600_001 }] }),
            "completions[0].token_delay_ms",
        ),
        (
            json!({ "completions": [{ "fault": { "kind": "explode" } }] }),
            "completions[0].fault.kind",
        ),
        (
            json!({ "completions": [{ "fault": { "kind": "status" } }] }),
            "completions[0].fault.status",
        ),
        (
            json!({ "completions": [{ "fault": { "kind": "status", "status": 200 } }] }),
            "completions[0].fault.status",
        ),
        (
            json!({ "completions": [{ "text": "ok" }, { "fault": { "kind": "drop", "after": "2" } }] }),
            "completions[1].fault.after",
        ),
        (
            json!({ "completions": [{ "fault": { "kind": "drop", "status": 500 } }] }),
            "completions[0].fault",
        ),
        (
            json!({ "completions": [{ "fault": { "kind": "stall", "after": 1, "extra": 1 } }] }),
            "completions[0].fault.extra",
        ),
    ] {
        let response = app.post("/__mock/script", None, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            error_body(response).await["error"]["param"],
            param,
            "{body}"
        );
    }
    let stream = streamed(&app).await;
    assert_eq!(
        stream.deltas.len(),
        ANSWER_TOKENS,
        "nothing was queued by the refused scripts"
    );
}
