//! The test controls: off by default, reset, the clock, settings, the
//! customer-creation delay and the request log.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn without_the_controls_flag_every_mock_route_is_a_plain_404() {
    let app = spawn_app_with(settings(), ringside_mock::Options::default()).await;
    for path in [
        "/__mock/reset",
        "/__mock/clock",
        "/__mock/script",
        "/__mock/customer_delay",
        "/__mock/log",
        "/__mock/settings",
    ] {
        let post = app.post(path, None, &json!({})).await;
        assert_eq!(post.status(), StatusCode::NOT_FOUND, "POST {path}");
        assert_eq!(error_code(post).await, "not_found");
        let get = app.get(path, None).await;
        assert_eq!(get.status(), StatusCode::NOT_FOUND, "GET {path}");
    }
    app.create_customer("ext:still_here").await;
}

#[tokio::test]
async fn reset_forgets_customers_tokens_idempotency_threads_scripts_and_moves_the_clock_back() {
    let app = spawn_app().await;
    let token = app.token_with_scope("ext:old", &["chat", "threads"]).await;
    let thread: Value = app
        .client_post(&token, Some(ORIGIN), "/v1/threads", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let keyed = |app: &TestApp| {
        app.http
            .post(format!("{}/v1/customers", app.url))
            .bearer_auth(KEY)
            .header("idempotency-key", "k")
            .json(&json!({ "external_id": "ext:keyed" }))
            .send()
    };
    keyed(&app).await.unwrap();
    app.script(json!([{ "text": "Scripted." }])).await;
    app.control("customer_delay", json!({ "ms": 200 })).await;
    app.control("settings", json!({ "answer_tokens": 2 })).await;
    let moved = app.advance(86_400.0).await;

    let reset = app.post("/__mock/reset", None, &json!({})).await;
    assert_eq!(reset.status(), StatusCode::NO_CONTENT);
    assert!(
        app.log().await.is_empty(),
        "the log restarts with the reset"
    );
    let now = app.advance(0.0).await;
    assert!(moved - now >= 86_399, "the clock is back to real time");
    let unknown = app.get("/v1/customers/ext:old", Some(&bearer(KEY))).await;
    assert_eq!(
        unknown.status(),
        StatusCode::NOT_FOUND,
        "customers are forgotten"
    );
    let again = keyed(&app).await.unwrap();
    assert!(
        again.headers().get("idempotent-replayed").is_none(),
        "idempotency records are forgotten"
    );
    let expired = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(
        expired.status(),
        StatusCode::UNAUTHORIZED,
        "tokens are forgotten"
    );
    let stream = read_stream(app.server_post("/v1/chat/completions", &chat_body()).await).await;
    assert_eq!(
        stream.deltas.len(),
        ANSWER_TOKENS,
        "scripts are forgotten and settings are the flags' again"
    );
    let got = app
        .get(
            &format!("/v1/threads/{}", thread["id"].as_str().unwrap()),
            Some(&bearer(KEY)),
        )
        .await;
    assert_eq!(got.status(), StatusCode::NOT_FOUND, "threads are forgotten");
    let start = std::time::Instant::now();
    app.create_customer("ext:fast").await;
    assert!(
        start.elapsed() < Duration::from_millis(150),
        "the customer delay is gone"
    );
}

#[tokio::test]
async fn the_clock_moves_forward_back_or_to_a_set_time_and_answers_it() {
    let app = spawn_app().await;
    let now = app.advance(0.0).await;
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - real).abs() <= 1, "it starts at real time");
    assert_eq!(app.advance(3600.0).await - now, 3600);
    assert!(
        (app.advance(-7200.0).await - (now - 3600)).abs() <= 1,
        "negative values move it back"
    );
    let set: Value = app
        .control("clock", json!({ "set_unix": 2_000_000_000 }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(set["now"], 2_000_000_000);
    let customer = app.create_customer("ext:future").await;
    let created = customer["created"].as_i64().unwrap();
    assert!(
        (2_000_000_000..2_000_000_002).contains(&created),
        "the API uses the mock's clock: {created}"
    );
    let both = app
        .post(
            "/__mock/clock",
            None,
            &json!({ "advance_secs": 1, "set_unix": 5 }),
        )
        .await;
    assert_eq!(both.status(), StatusCode::BAD_REQUEST);
    let wrong = app
        .post("/__mock/clock", None, &json!({ "advance_secs": "soon" }))
        .await;
    assert_eq!(error_body(wrong).await["error"]["param"], "advance_secs");
    let huge = app
        .post("/__mock/clock", None, &json!({ "advance_secs": 1e300 }))
        .await;
    assert_eq!(
        huge.status(),
        StatusCode::BAD_REQUEST,
        "a clock out of any range is refused, not overflowed"
    );
}

#[tokio::test]
async fn settings_change_the_default_answer_size_and_pacing_at_run_time() {
    let app = spawn_app().await;
    let current: Value = app
        .get("/__mock/settings", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        current,
        json!({
            "answer_mode": "generated",
            "answer_tokens": ANSWER_TOKENS,
            "first_token_delay_ms": 5,
            "token_delay_ms": 1,
            "token_jitter_ms": 0,
        })
    );
    let changed: Value = app
        .control(
            "settings",
            json!({ "answer_tokens": 3, "first_token_delay_ms": 0 }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        changed,
        json!({
            "answer_mode": "generated",
            "answer_tokens": 3,
            "first_token_delay_ms": 0,
            "token_delay_ms": 1,
            "token_jitter_ms": 0,
        })
    );
    let stream = read_stream(app.server_post("/v1/chat/completions", &chat_body()).await).await;
    assert_eq!(stream.deltas.len(), 3);
    let bad = app
        .post(
            "/__mock/settings",
            None,
            &json!({ "answer_tokens": 10_000_000 }),
        )
        .await;
    assert_eq!(error_body(bad).await["error"]["param"], "answer_tokens");
}

#[tokio::test]
async fn the_customer_delay_is_validated() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({ "ms": -1 }),
        json!({ "ms": 600_001 }),
        json!({ "delay": 5 }),
    ] {
        let response = app.post("/__mock/customer_delay", None, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
    }
    let ok = app
        .post("/__mock/customer_delay", None, &json!({ "ms": 0 }))
        .await;
    assert_eq!(ok.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn the_log_records_every_v1_request_with_its_auth_customer_status_and_body() {
    let app = spawn_app().await;
    let customer = app.create_customer("ext:logged").await;
    let token = app.mint_token("ext:logged", &["chat"]).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    app.mint_token("ext:logged", &["chat"]).await;
    let body = json!({ "model": MODEL, "messages": [{ "role": "user", "content": "what was sent" }], "stream": true });
    read_stream(app.chat(&token, Some(ORIGIN), &body).await).await;
    app.chat(&token, Some("http://evil.example"), &body).await;
    app.get("/v1/nowhere", None).await;
    app.control("clock", json!({ "advance_secs": 0 })).await;

    let log = app.log().await;
    let summary: Vec<(String, String, u64, String)> = log
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["status"].as_u64().unwrap(),
                r["auth"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        ("POST", "/v1/customers", 201, "bearer"),
        (
            "POST",
            "/v1/customers/ext:logged/client_tokens",
            201,
            "bearer",
        ),
        (
            "POST",
            "/v1/customers/ext:logged/client_tokens",
            201,
            "bearer",
        ),
        ("POST", "/v1/chat/completions", 200, "client"),
        ("POST", "/v1/chat/completions", 403, "client"),
        ("GET", "/v1/nowhere", 404, "none"),
    ]
    .map(|(m, p, s, a)| (m.to_string(), p.to_string(), s, a.to_string()));
    assert_eq!(
        summary, expected,
        "every /v1 request in order, and nothing else (no controls)"
    );
    let mints = log
        .iter()
        .filter(|r| {
            r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/client_tokens")
        })
        .count();
    assert_eq!(mints, 2, "a test can count mints");
    for entry in &log[..5] {
        assert_eq!(
            entry["customer_id"], customer["id"],
            "each request is tied to its customer: {entry}"
        );
    }
    assert_eq!(log[5]["customer_id"], Value::Null);
    assert_eq!(log[3]["body"], body, "the exact body that was sent");
    assert_eq!(log[5]["body"], Value::Null, "no body, no JSON");
}
