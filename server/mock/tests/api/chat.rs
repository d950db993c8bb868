//! Chat completions: OpenAI chunks over SSE or a whole `chat.completion`,
//! deterministic answers, `max_tokens`, `include_usage`, and validation.

use reqwest::StatusCode;
use ringside_wire::chat::{FinishReason, Role, StreamFrame};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn a_client_token_streams_a_deterministic_answer_in_openai_chunks() {
    let app = spawn_app().await;
    let token = app.client_token("ext:streamer").await;
    let response = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert_eq!(response.headers()["access-control-allow-origin"], ORIGIN);
    let streamed = read_stream(response).await;
    assert!(!streamed.broken, "the body ended cleanly");
    let frames: Vec<StreamFrame> = streamed
        .frames
        .iter()
        .cloned()
        .map(Result::unwrap)
        .collect();

    match &frames[0] {
        StreamFrame::Chunk(c) => {
            assert_eq!(c.choices[0].delta.role, Some(Role::Assistant));
            assert_eq!(c.content(), None, "the role chunk has no content");
        }
        other => panic!("the first frame carries the role, got {other:?}"),
    }
    assert_eq!(frames.last(), Some(&StreamFrame::Done));
    let finish = frames.iter().rev().find_map(|f| match f {
        StreamFrame::Chunk(c) => c.finish_reason(),
        _ => None,
    });
    assert_eq!(finish, Some(FinishReason::Stop));
    assert_eq!(
        frames.len(),
        1 + ANSWER_TOKENS + 1 + 1,
        "role, 12 tokens, finish, [DONE]"
    );
    assert_eq!(streamed.deltas.len(), ANSWER_TOKENS);
    let text = String::from_utf8(streamed.bytes.clone()).unwrap();
    assert!(
        text.ends_with("data: [DONE]\n\n"),
        "the last bytes are [DONE]"
    );
    for frame in text.split_terminator("\n\n") {
        assert!(
            frame.starts_with("data: "),
            "every frame is one data line: {frame:?}"
        );
        if frame != "data: [DONE]" {
            let chunk: Value = serde_json::from_str(&frame[6..]).unwrap();
            assert_eq!(chunk["object"], "chat.completion.chunk");
            assert_eq!(chunk["model"], MODEL);
            assert!(chunk["id"].as_str().unwrap().starts_with("chatcmpl-"));
        }
    }

    let again = read_stream(app.chat(&token, Some(ORIGIN), &chat_body()).await).await;
    assert_eq!(
        again.deltas, streamed.deltas,
        "the same request gets the same answer, token for token"
    );
    let other = read_stream(
        app.chat(&token, Some(ORIGIN), &chat_body_for("something else"))
            .await,
    )
    .await;
    assert_ne!(
        other.text, streamed.text,
        "another request gets another answer"
    );
}

#[tokio::test]
async fn a_non_streamed_call_answers_an_openai_chat_completion_equal_to_the_stream() {
    let app = spawn_app().await;
    let token = app.client_token("ext:whole").await;
    let streamed = read_stream(app.chat(&token, Some(ORIGIN), &chat_body()).await).await;
    let response = app.chat(&token, Some(ORIGIN), &whole(chat_body())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let completion: Value = response.json().await.unwrap();
    assert_eq!(completion["object"], "chat.completion");
    assert!(completion["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(completion["model"], MODEL);
    assert_eq!(completion["choices"][0]["index"], 0);
    assert_eq!(completion["choices"][0]["message"]["role"], "assistant");
    assert_eq!(
        completion["choices"][0]["message"]["content"],
        streamed.text.as_str(),
        "streamed and whole answers agree"
    );
    assert_eq!(completion["choices"][0]["finish_reason"], "stop");
    let usage = &completion["usage"];
    assert_eq!(usage["completion_tokens"], ANSWER_TOKENS);
    assert_eq!(
        usage["total_tokens"].as_u64().unwrap(),
        usage["prompt_tokens"].as_u64().unwrap() + usage["completion_tokens"].as_u64().unwrap()
    );
    let by_server: Value = app
        .server_post("/v1/chat/completions", &whole(chat_body()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_server["choices"], completion["choices"],
        "the caller does not change the answer"
    );
}

/// Issue 17: an answer cut off by a page change is finished by sending
/// what arrived as the last, assistant, message: the stream carries exactly
/// the rest, so the widget joins the two without a seam.
#[tokio::test]
async fn a_trailing_assistant_message_is_continued_with_the_rest_of_its_answer() {
    let app = spawn_app().await;
    let token = app.client_token("ext:continue").await;
    let full = read_stream(app.chat(&token, Some(ORIGIN), &chat_body()).await)
        .await
        .text;
    let cut = full.char_indices().nth(full.chars().count() / 2).unwrap().0;
    let mut body = chat_body();
    body["messages"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "role": "assistant", "content": &full[..cut] }));
    let rest = read_stream(app.chat(&token, Some(ORIGIN), &body).await).await;
    assert_eq!(format!("{}{}", &full[..cut], rest.text), full);
    body["messages"][1]["content"] = json!("Words this answer never said.");
    let other = read_stream(app.chat(&token, Some(ORIGIN), &body).await).await;
    assert_eq!(
        other.text, full,
        "a prefix it did not write: the whole answer"
    );
}

#[tokio::test]
async fn include_usage_adds_a_usage_chunk_between_the_finish_and_done() {
    let app = spawn_app().await;
    let token = app.client_token("ext:usage").await;
    let mut body = chat_body();
    body["stream_options"] = json!({ "include_usage": true });
    let streamed = read_stream(app.chat(&token, Some(ORIGIN), &body).await).await;
    let frames: Vec<StreamFrame> = streamed.frames.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        frames.len(),
        1 + ANSWER_TOKENS + 1 + 1 + 1,
        "role, tokens, finish, usage, [DONE]"
    );
    match &frames[frames.len() - 2] {
        StreamFrame::Chunk(c) => {
            let usage = c.usage.expect("the usage chunk");
            assert_eq!(usage.completion_tokens as usize, ANSWER_TOKENS);
            assert_eq!(
                usage.total_tokens,
                usage.prompt_tokens + usage.completion_tokens
            );
            assert!(c.choices.is_empty(), "the usage chunk has no choices");
        }
        other => panic!("expected the usage chunk, got {other:?}"),
    }
    body["stream_options"] = json!({ "include_usage": false });
    let without = read_stream(app.chat(&token, Some(ORIGIN), &body).await).await;
    assert_eq!(
        without.frames.len(),
        1 + ANSWER_TOKENS + 1 + 1,
        "no usage chunk unless asked"
    );
}

#[tokio::test]
async fn max_tokens_cuts_the_answer_with_finish_reason_length() {
    let app = spawn_app().await;
    let token = app.client_token("ext:max").await;
    let full = read_stream(app.chat(&token, Some(ORIGIN), &chat_body()).await).await;
    let mut body = chat_body();
    body["max_tokens"] = json!(5);
    let cut = read_stream(app.chat(&token, Some(ORIGIN), &body).await).await;
    assert_eq!(
        cut.deltas,
        full.deltas[..5],
        "the first 5 tokens of the same answer"
    );
    let finish = cut.frames.iter().rev().find_map(|f| match f {
        Ok(StreamFrame::Chunk(c)) => c.finish_reason(),
        _ => None,
    });
    assert_eq!(finish, Some(FinishReason::Length));
    let whole_cut: Value = app
        .chat(&token, Some(ORIGIN), &whole(body.clone()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(whole_cut["choices"][0]["finish_reason"], "length");
    assert_eq!(whole_cut["usage"]["completion_tokens"], 5);
    body["max_tokens"] = json!(1000);
    let roomy: Value = app
        .chat(&token, Some(ORIGIN), &whole(body))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        roomy["choices"][0]["finish_reason"], "stop",
        "a max_tokens above the answer changes nothing"
    );
}

#[tokio::test]
async fn every_model_of_the_price_table_answers() {
    let app = spawn_app().await;
    for model in [
        "fc:openai/gpt-4o-mini",
        "fc:openai/gpt-4o",
        "fc:anthropic/claude-3-5-haiku",
        "fc:meta/llama-3.1-8b",
    ] {
        let mut body = whole(chat_body());
        body["model"] = json!(model);
        let response = app.server_post("/v1/chat/completions", &body).await;
        assert_eq!(response.status(), StatusCode::OK, "{model}");
        assert_eq!(response.json::<Value>().await.unwrap()["model"], model);
    }
}

#[tokio::test]
async fn chat_requests_with_bad_fields_are_400_naming_the_param() {
    let app = spawn_app().await;
    let token = app.client_token("ext:bad").await;
    let message = json!([{ "role": "user", "content": "hi" }]);
    for (body, param) in [
        (json!({ "messages": message }), json!("model")),
        (
            json!({ "model": "gpt-4o", "messages": message }),
            json!("model"),
        ),
        (json!({ "model": MODEL }), json!("messages")),
        (json!({ "model": MODEL, "messages": [] }), json!("messages")),
        (
            json!({ "model": MODEL, "messages": "hi" }),
            json!("messages"),
        ),
        (
            json!({ "model": MODEL, "messages": [{ "role": "robot", "content": "hi" }] }),
            json!("messages[0].role"),
        ),
        (
            json!({ "model": MODEL, "messages": [{ "role": "user", "content": 7 }] }),
            json!("messages[0].content"),
        ),
        (
            json!({ "model": MODEL, "messages": [{ "role": "user" }] }),
            json!("messages[0].content"),
        ),
        (
            json!({ "model": MODEL, "messages": message, "stream": "yes" }),
            json!("stream"),
        ),
        (
            json!({ "model": MODEL, "messages": message, "max_tokens": 0 }),
            json!("max_tokens"),
        ),
        (
            json!({ "model": MODEL, "messages": message, "max_tokens": -1 }),
            json!("max_tokens"),
        ),
        (
            json!({ "model": MODEL, "messages": message, "max_tokens": 1e20 }),
            json!("max_tokens"),
        ),
        (
            json!({ "model": MODEL, "messages": message, "temperature": 2.5 }),
            json!("temperature"),
        ),
        (
            json!({ "model": MODEL, "messages": message, "temperature": "hot" }),
            json!("temperature"),
        ),
        (
            json!({ "model": MODEL, "messages": message, "user": 42 }),
            json!("user"),
        ),
        (
            json!({ "model": MODEL, "messages": message, "stream_options": { "include_usage": "yes" } }),
            json!("stream_options.include_usage"),
        ),
    ] {
        let response = app.chat(&token, Some(ORIGIN), &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let error = error_body(response).await;
        assert_eq!(error["error"]["code"], "invalid_request", "{body}");
        assert_eq!(error["error"]["param"], param, "{body}");
    }
}
