//! The demo's answer mode (issue #18): answers about the demo's company in a
//! real tokenizer's tokens, chosen by the question, switched on by the
//! settings or one script, on the same contract; and the `revoke` control
//! the demo's states page uses.

use reqwest::StatusCode;
use ringside_mock::Options;
use ringside_mock::answer::AnswerMode;
use serde_json::{Value, json};

use crate::helpers::*;

/// The non-streamed answer to `question`, asked with the server key.
async fn whole_answer(app: &TestApp, question: &str) -> Value {
    let response = app
        .server_post("/v1/chat/completions", &whole(chat_body_for(question)))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

fn content(completion: &Value) -> &str {
    completion["choices"][0]["message"]["content"]
        .as_str()
        .unwrap()
}

#[tokio::test]
async fn the_demo_mode_answers_the_question_in_sub_word_tokens_on_the_same_contract() {
    let app = spawn_app().await;
    app.control("settings", json!({ "answer_mode": "demo" }))
        .await;
    let question = "Compare your plans in a table, then give me install steps";
    let mut body = chat_body_for(question);
    body["stream_options"] = json!({ "include_usage": true });
    let streamed = read_stream(app.server_post("/v1/chat/completions", &body).await).await;
    assert!(streamed.ended_with_done() && !streamed.broken);
    assert!(
        streamed.text.contains("| **Pro** | ~~$59~~ $49 / month |"),
        "the pricing table: {}",
        streamed.text
    );
    assert!(
        streamed.text.find("| Plan |") < streamed.text.find("1. **Install the CLI.**"),
        "the plans first, then the steps, as asked"
    );
    // Streamed in a tokenizer's pieces: words split inside, Markdown's marks
    // arriving on their own.
    assert!(
        streamed.deltas.len() > 400,
        "{} deltas",
        streamed.deltas.len()
    );
    assert!(
        streamed
            .deltas
            .windows(2)
            .any(|w| w[0].ends_with(char::is_alphabetic) && w[1].starts_with(char::is_alphabetic)),
        "some word arrives in pieces: {:?}",
        &streamed.deltas[..60]
    );
    assert!(streamed.deltas.iter().any(|d| d.contains("```")));
    let usage = streamed.frames.iter().rev().find_map(|f| match f {
        Ok(ringside_wire::chat::StreamFrame::Chunk(c)) => c.usage,
        _ => None,
    });
    assert_eq!(
        usage.map(|u| u.completion_tokens as usize),
        Some(streamed.deltas.len()),
        "usage counts the tokens sent"
    );
    // Deterministic, streamed or whole.
    assert_eq!(content(&whole_answer(&app, question).await), streamed.text);
    assert_ne!(
        content(&whole_answer(&app, "Tell me everything").await),
        streamed.text
    );
}

#[tokio::test]
async fn one_script_asks_for_a_demo_answer_and_the_next_answer_is_generated_again() {
    let app = spawn_app().await;
    let generated = content(&whole_answer(&app, "What can I fly?").await).to_string();
    app.script(json!([{ "answer_mode": "demo" }])).await;
    let demo = whole_answer(&app, "What can I fly?").await;
    assert!(content(&demo).contains("- [x] Booking confirmed"), "{demo}");
    assert_eq!(
        content(&whole_answer(&app, "What can I fly?").await),
        generated
    );
    // A script's text still wins over the mode.
    app.control("settings", json!({ "answer_mode": "demo" }))
        .await;
    app.script(json!([{ "text": "Scripted." }, { "answer_mode": "generated" }]))
        .await;
    assert_eq!(
        content(&whole_answer(&app, "What can I fly?").await),
        "Scripted."
    );
    assert_eq!(
        content(&whole_answer(&app, "What can I fly?").await),
        generated
    );
}

#[tokio::test]
async fn links_to_the_demos_pages_point_at_the_asking_pages_origin() {
    let app = spawn_app_with(
        settings(),
        Options {
            controls: true,
            answer_mode: AnswerMode::Demo,
            ..Options::default()
        },
    )
    .await;
    let token = app.client_token("ext:visitor").await;
    let body = whole(chat_body_for("How does this chat work?"));
    let response = app.chat(&token, Some(ORIGIN), &body).await;
    assert_eq!(response.status(), StatusCode::OK);
    let completion: Value = response.json().await.unwrap();
    assert!(
        content(&completion).contains(&format!("]({ORIGIN}/states.html)")),
        "{completion}"
    );
}

#[tokio::test]
async fn max_tokens_cuts_a_demo_answer_and_says_so() {
    let app = spawn_app().await;
    app.script(json!([{ "answer_mode": "demo" }])).await;
    let mut body = whole(chat_body_for("Tell me everything"));
    body["max_tokens"] = json!(25);
    let completion: Value = app
        .server_post("/v1/chat/completions", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(completion["choices"][0]["finish_reason"], "length");
    assert_eq!(completion["usage"]["completion_tokens"], 25);
    assert!(content(&completion).starts_with("Everything, then."));
}

#[tokio::test]
async fn the_mode_and_the_jitter_are_settings_and_are_validated() {
    let app = spawn_app().await;
    let changed: Value = app
        .control(
            "settings",
            json!({ "answer_mode": "demo", "token_jitter_ms": 10 }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["answer_mode"], "demo");
    assert_eq!(changed["token_jitter_ms"], 10);
    for (body, param) in [
        (json!({ "answer_mode": "poetry" }), "answer_mode"),
        (json!({ "token_jitter_ms": 600_001 }), "token_jitter_ms"),
    ] {
        let response = app.post("/__mock/settings", None, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            error_body(response).await["error"]["param"],
            param,
            "{body}"
        );
    }
    for (script, param) in [
        (
            json!({ "answer_mode": "demo", "token_count": 5 }),
            "completions[0].token_count",
        ),
        (
            json!({ "token_jitter_ms": 600_001 }),
            "completions[0].token_jitter_ms",
        ),
    ] {
        let response = app
            .post("/__mock/script", None, &json!({ "completions": [script] }))
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{script}");
        assert_eq!(error_body(response).await["error"]["param"], param);
    }
    // A reset puts the flags' mode back.
    app.control("reset", json!({})).await;
    let now: Value = app
        .get("/__mock/settings", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(now["answer_mode"], "generated");
    assert_eq!(now["token_jitter_ms"], 0);
}

#[tokio::test]
async fn revoke_refuses_every_live_token_of_a_customer_or_of_all() {
    let app = spawn_app().await;
    let first = app.client_token("ext:first").await;
    let second = app.mint_token("ext:first", &["chat"]).await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app.client_token("ext:other").await;

    let revoked: Value = app
        .control("revoke", json!({ "customer_id": "ext:first" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(revoked, json!({ "revoked": 2 }));
    for token in [&first, &second] {
        let response = app.chat(token, Some(ORIGIN), &chat_body()).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error_code(response).await, "client_token_revoked");
    }
    let response = app.chat(&other, Some(ORIGIN), &chat_body()).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "another customer's token lives on"
    );
    drop(read_stream(response).await);

    let all: Value = app.control("revoke", json!({})).await.json().await.unwrap();
    assert_eq!(
        all,
        json!({ "revoked": 1 }),
        "revoked ones are not counted again"
    );
    let unknown = app
        .post(
            "/__mock/revoke",
            None,
            &json!({ "customer_id": "ext:nobody" }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
