//! Money and limits: prices debited from the wallet and counted against the
//! budget (402s after the call that crosses the line), and `rate_limit_rpm`
//! as a sliding 60-second window with `Retry-After` and `x-ratelimit-*`.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("the answer has {name}"))
        .to_str()
        .unwrap()
        .to_string()
}

/// The price of a gpt-4o-mini call, from the table in `billing.rs`.
fn mini_price(usage: &Value) -> f64 {
    (usage["prompt_tokens"].as_f64().unwrap() * 0.15
        + usage["completion_tokens"].as_f64().unwrap() * 0.60)
        / 1e6
}

#[tokio::test]
async fn a_call_is_priced_per_token_debited_from_the_wallet_and_counted_as_spent() {
    let app = spawn_app().await;
    let token = app.client_token("ext:pay").await;
    app.topup("ext:pay", 1.0).await;
    let mut body = whole(chat_body());
    body["model"] = json!(MODEL);
    let completion: Value = app
        .chat(&token, Some(ORIGIN), &body)
        .await
        .json()
        .await
        .unwrap();
    let price = mini_price(&completion["usage"]);
    let customer = app.customer("ext:pay").await;
    let spent = customer["spent_usd"].as_f64().unwrap();
    let wallet = customer["wallet_balance_usd"].as_f64().unwrap();
    assert!(
        (spent - price).abs() < 1e-9,
        "spent {spent}, priced {price}"
    );
    assert!((wallet - (1.0 - price)).abs() < 1e-9, "wallet {wallet}");

    let mut pricier = whole(chat_body());
    pricier["model"] = json!("fc:openai/gpt-4o");
    let completion: Value = app
        .chat(&token, Some(ORIGIN), &pricier)
        .await
        .json()
        .await
        .unwrap();
    let usage = &completion["usage"];
    let gpt4o = (usage["prompt_tokens"].as_f64().unwrap() * 2.5
        + usage["completion_tokens"].as_f64().unwrap() * 10.0)
        / 1e6;
    let after = app.customer("ext:pay").await["spent_usd"].as_f64().unwrap();
    assert!(
        (after - spent - gpt4o).abs() < 1e-9,
        "gpt-4o is priced by its own row"
    );
}

#[tokio::test]
async fn streams_and_server_calls_naming_a_user_are_charged_too() {
    let app = spawn_app().await;
    let token = app.client_token("ext:s").await;
    let mut body = chat_body();
    body["stream_options"] = json!({ "include_usage": true });
    read_stream(app.chat(&token, Some(ORIGIN), &body).await).await;
    let streamed = app.customer("ext:s").await["spent_usd"].as_f64().unwrap();
    assert!(streamed > 0.0, "a stream is charged");

    let mut as_server = whole(chat_body());
    as_server["user"] = json!("ext:s");
    let response = app.server_post("/v1/chat/completions", &as_server).await;
    assert_eq!(response.status(), StatusCode::OK);
    let after = app.customer("ext:s").await["spent_usd"].as_f64().unwrap();
    assert!(
        after > streamed,
        "a server call for a user counts against that customer"
    );
    let embeddings = app.token_with_scope("ext:e", &["embeddings"]).await;
    app.client_post(
        &embeddings,
        Some(ORIGIN),
        "/v1/embeddings",
        &json!({ "model": "fc:openai/text-embedding-3-small", "input": "x".repeat(400) }),
    )
    .await;
    let spent = app.customer("ext:e").await["spent_usd"].as_f64().unwrap();
    assert!(
        (spent - 100.0 * 0.02 / 1e6).abs() < 1e-12,
        "100 tokens of embeddings: {spent}"
    );
}

#[tokio::test]
async fn an_empty_wallet_is_402_customer_wallet_empty_from_the_call_after_it_emptied() {
    let app = spawn_app().await;
    let token = app.client_token("ext:wallet").await;
    app.topup("ext:wallet", 0.000_001).await;
    let first = app.chat(&token, Some(ORIGIN), &whole(chat_body())).await;
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "the balance was positive when the call was admitted"
    );
    let customer = app.customer("ext:wallet").await;
    assert_eq!(
        customer["wallet_balance_usd"], 0.0,
        "the wallet never goes below 0"
    );
    assert!(
        customer["spent_usd"].as_f64().unwrap() > 0.000_001,
        "the whole call is counted as spent"
    );

    let second = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(second.status(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(
        second.headers()["access-control-allow-origin"],
        ORIGIN,
        "the browser can read the 402"
    );
    let body = error_body(second).await;
    assert_eq!(body["error"]["code"], "customer_wallet_empty");
    assert_eq!(body["error"]["type"], "billing_error");

    app.topup("ext:wallet", 1.0).await;
    let topped = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(
        topped.status(),
        StatusCode::OK,
        "a top-up reopens the wallet"
    );
}

#[tokio::test]
async fn a_spent_budget_is_402_customer_budget_exceeded_from_the_call_after_it_crossed() {
    let app = spawn_app().await;
    app.create_customer_with(json!({ "external_id": "ext:budget", "budget_usd": 0.000_001 }))
        .await;
    let token = app.mint_token("ext:budget", &["chat"]).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let first = app.chat(&token, Some(ORIGIN), &whole(chat_body())).await;
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "under budget when admitted, so it completes"
    );
    let customer = app.customer("ext:budget").await;
    assert!(
        customer["spent_usd"].as_f64().unwrap() >= 0.000_001,
        "{customer}"
    );
    assert_eq!(
        customer["wallet_balance_usd"],
        Value::Null,
        "no wallet: only the budget applies"
    );
    let second = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(second.status(), StatusCode::PAYMENT_REQUIRED);
    assert_eq!(error_code(second).await, "customer_budget_exceeded");

    app.create_customer_with(json!({ "external_id": "ext:zero", "budget_usd": 0 }))
        .await;
    let zero = app.mint_token("ext:zero", &["chat"]).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let refused = app.chat(&zero, Some(ORIGIN), &chat_body()).await;
    assert_eq!(
        error_code(refused).await,
        "customer_budget_exceeded",
        "a budget of 0 allows nothing"
    );
}

#[tokio::test]
async fn the_rate_limit_is_a_sliding_60_second_window_with_retry_after_and_headers() {
    let app = spawn_app().await;
    app.create_customer_with(json!({ "external_id": "ext:rpm", "rate_limit_rpm": 2 }))
        .await;
    let token = app.mint_token("ext:rpm", &["chat"]).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let body = whole(chat_body());

    let first = app.chat(&token, Some(ORIGIN), &body).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header(&first, "x-ratelimit-limit-requests"), "2");
    assert_eq!(header(&first, "x-ratelimit-remaining-requests"), "1");
    assert_eq!(
        header(&first, "x-ratelimit-reset-requests"),
        "1m0s",
        "the first request leaves the window in 60 s"
    );

    app.advance(30.0).await;
    let second = app.chat(&token, Some(ORIGIN), &body).await;
    assert_eq!(second.status(), StatusCode::OK);
    assert_eq!(header(&second, "x-ratelimit-remaining-requests"), "0");
    let reset = header(&second, "x-ratelimit-reset-requests");
    assert!(
        reset == "30s" || reset == "31s",
        "the oldest request leaves in about 30 s: {reset}"
    );

    let third = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = header(&third, "retry-after").parse().unwrap();
    assert!(
        (29..=31).contains(&retry),
        "Retry-After is when the oldest request leaves: {retry}"
    );
    assert_eq!(header(&third, "x-ratelimit-limit-requests"), "2");
    assert_eq!(header(&third, "x-ratelimit-remaining-requests"), "0");
    assert_eq!(third.headers()["access-control-allow-origin"], ORIGIN);
    let body429 = error_body(third).await;
    assert_eq!(body429["error"]["code"], "rate_limit_exceeded");
    assert_eq!(body429["error"]["type"], "rate_limit_error");

    app.advance(31.0).await;
    let fourth = app.chat(&token, Some(ORIGIN), &body).await;
    assert_eq!(
        fourth.status(),
        StatusCode::OK,
        "the first request left the window: one slot is free"
    );
    let fifth = app.chat(&token, Some(ORIGIN), &body).await;
    assert_eq!(
        fifth.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the second is still in the window: the window slides, it does not reset"
    );
}

#[tokio::test]
async fn refused_requests_do_not_count_against_the_rate_limit() {
    let app = spawn_app().await;
    app.create_customer_with(json!({ "external_id": "ext:r", "rate_limit_rpm": 1 }))
        .await;
    let token = app.mint_token("ext:r", &["chat"]).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..3 {
        let refused = app
            .chat(&token, Some("http://evil.example"), &chat_body())
            .await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let invalid = app
            .chat(
                &token,
                Some(ORIGIN),
                &json!({ "model": "nope", "messages": [] }),
            )
            .await;
        assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    }
    let ok = app.chat(&token, Some(ORIGIN), &whole(chat_body())).await;
    assert_eq!(ok.status(), StatusCode::OK, "refusals took no slot");
    let limited = app.chat(&token, Some(ORIGIN), &whole(chat_body())).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let again = app.chat(&token, Some(ORIGIN), &whole(chat_body())).await;
    assert_eq!(
        again.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "429s took no slot either, but the window is still full"
    );
}

#[tokio::test]
async fn the_rate_limit_counts_every_client_allowed_endpoint_of_the_customer() {
    let app = spawn_app().await;
    app.create_customer_with(json!({ "external_id": "ext:all", "rate_limit_rpm": 3 }))
        .await;
    let minted = app
        .mint_token("ext:all", &["chat", "moderations", "threads"])
        .await;
    let token = minted["token"].as_str().unwrap();
    let thread = app
        .client_post(token, Some(ORIGIN), "/v1/threads", &json!({}))
        .await;
    assert_eq!(header(&thread, "x-ratelimit-remaining-requests"), "2");
    let moderation = app
        .client_post(
            token,
            Some(ORIGIN),
            "/v1/moderations",
            &json!({ "input": "hi" }),
        )
        .await;
    assert_eq!(header(&moderation, "x-ratelimit-remaining-requests"), "1");
    let chat = app.chat(token, Some(ORIGIN), &whole(chat_body())).await;
    assert_eq!(header(&chat, "x-ratelimit-remaining-requests"), "0");
    let limited = app
        .client_post(
            token,
            Some(ORIGIN),
            "/v1/moderations",
            &json!({ "input": "hi" }),
        )
        .await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
}
