//! The other client-allowed endpoints: embeddings and moderations (OpenAI
//! shapes, deterministic) and threads with their messages (private to their
//! customer).

use base64::{Engine, engine::general_purpose::STANDARD};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

const EMBEDDING_MODEL: &str = "fc:openai/text-embedding-3-small";

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn embeddings_are_deterministic_unit_vectors_in_openais_shape() {
    let app = spawn_app().await;
    let token = app.token_with_scope("ext:emb", &["embeddings"]).await;
    let body = json!({ "model": EMBEDDING_MODEL, "input": ["the cat", "the dog", "the cat"] });
    let response = app
        .client_post(&token, Some(ORIGIN), "/v1/embeddings", &body)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let list: Value = response.json().await.unwrap();
    assert_eq!(list["object"], "list");
    assert_eq!(list["model"], EMBEDDING_MODEL);
    assert!(list["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        list["usage"]["total_tokens"],
        list["usage"]["prompt_tokens"]
    );
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    for (i, item) in data.iter().enumerate() {
        assert_eq!(item["object"], "embedding");
        assert_eq!(item["index"], i);
        let v = floats(&item["embedding"]);
        assert_eq!(v.len(), 1536, "text-embedding-3-small has 1536 dimensions");
        let norm: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "a unit vector: {norm}");
    }
    assert_eq!(
        data[0]["embedding"], data[2]["embedding"],
        "the same text, the same vector"
    );
    assert_ne!(
        data[0]["embedding"], data[1]["embedding"],
        "another text, another vector"
    );

    let single: Value = app
        .client_post(
            &token,
            Some(ORIGIN),
            "/v1/embeddings",
            &json!({ "model": EMBEDDING_MODEL, "input": "the cat" }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        single["data"][0]["embedding"], data[0]["embedding"],
        "one input or a list: the same vector"
    );
    let large: Value = app
        .server_post(
            "/v1/embeddings",
            &json!({ "model": "fc:openai/text-embedding-3-large", "input": [[1, 2, 3]] }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        large["data"][0]["embedding"].as_array().unwrap().len(),
        3072,
        "token input, the large model"
    );
}

#[tokio::test]
async fn embeddings_honour_dimensions_and_the_base64_encoding() {
    let app = spawn_app().await;
    let short: Value = app
        .server_post(
            "/v1/embeddings",
            &json!({ "model": EMBEDDING_MODEL, "input": "x", "dimensions": 8 }),
        )
        .await
        .json()
        .await
        .unwrap();
    let floats = floats(&short["data"][0]["embedding"]);
    assert_eq!(floats.len(), 8);
    let encoded: Value = app
        .server_post(
            "/v1/embeddings",
            &json!({ "model": EMBEDDING_MODEL, "input": "x", "dimensions": 8, "encoding_format": "base64" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let bytes = STANDARD
        .decode(encoded["data"][0]["embedding"].as_str().unwrap())
        .unwrap();
    let decoded: Vec<f64> = bytes
        .chunks(4)
        .map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap())))
        .collect();
    assert_eq!(decoded.len(), 8);
    for (a, b) in decoded.iter().zip(&floats) {
        assert!(
            (a - b).abs() < 1e-6,
            "base64 holds the same little-endian f32s: {a} vs {b}"
        );
    }
}

#[tokio::test]
async fn bad_embedding_requests_are_400_naming_the_param() {
    let app = spawn_app().await;
    for (body, param) in [
        (json!({ "input": "x" }), "model"),
        (
            json!({ "model": "fc:openai/gpt-4o-mini", "input": "x" }),
            "model",
        ),
        (json!({ "model": EMBEDDING_MODEL }), "input"),
        (json!({ "model": EMBEDDING_MODEL, "input": "" }), "input"),
        (json!({ "model": EMBEDDING_MODEL, "input": [] }), "input"),
        (
            json!({ "model": EMBEDDING_MODEL, "input": ["a", ""] }),
            "input[1]",
        ),
        (json!({ "model": EMBEDDING_MODEL, "input": 5 }), "input"),
        (
            json!({ "model": EMBEDDING_MODEL, "input": "x", "dimensions": 0 }),
            "dimensions",
        ),
        (
            json!({ "model": EMBEDDING_MODEL, "input": "x", "dimensions": 1537 }),
            "dimensions",
        ),
        (
            json!({ "model": EMBEDDING_MODEL, "input": "x", "encoding_format": "hex" }),
            "encoding_format",
        ),
    ] {
        let response = app.server_post("/v1/embeddings", &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            error_body(response).await["error"]["param"],
            param,
            "{body}"
        );
    }
}

#[tokio::test]
async fn moderations_flag_trigger_words_and_markers_deterministically_in_openais_shape() {
    let app = spawn_app().await;
    let token = app.token_with_scope("ext:mod", &["moderations"]).await;
    let body = json!({ "input": ["Have a nice day", "I will kill the process", "[flag:self-harm/intent]", "skills"] });
    let response = app
        .client_post(&token, Some(ORIGIN), "/v1/moderations", &body)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().await.unwrap();
    assert!(answer["id"].as_str().unwrap().starts_with("modr-"));
    assert_eq!(
        answer["model"], "fc:openai/omni-moderation-latest",
        "the default model"
    );
    let results = answer["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    assert_eq!(results[0]["flagged"], false);
    assert_eq!(results[1]["flagged"], true);
    assert_eq!(results[1]["categories"]["violence"], true);
    assert!(results[1]["category_scores"]["violence"].as_f64().unwrap() >= 0.9);
    assert_eq!(results[2]["categories"]["self-harm/intent"], true);
    assert_eq!(
        results[3]["flagged"], false,
        "whole words only: skills is not kill"
    );
    for result in results {
        assert_eq!(
            result["categories"].as_object().unwrap().len(),
            13,
            "every OpenAI category"
        );
        for (category, score) in result["category_scores"].as_object().unwrap() {
            let score = score.as_f64().unwrap();
            assert!((0.0..=1.0).contains(&score), "{category}: {score}");
            assert_eq!(
                result["categories"][category],
                score >= 0.5,
                "flags follow scores"
            );
        }
    }
    let again: Value = app
        .client_post(&token, Some(ORIGIN), "/v1/moderations", &body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, answer, "the same input, the same verdict");
    let single: Value = app
        .server_post("/v1/moderations", &json!({ "input": "Have a nice day" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(single["results"][0], results[0]);
}

#[tokio::test]
async fn bad_moderation_requests_are_400_naming_the_param() {
    let app = spawn_app().await;
    for (body, param) in [
        (json!({}), "input"),
        (json!({ "input": 3 }), "input"),
        (json!({ "input": [] }), "input"),
        (
            json!({ "input": "x", "model": "fc:openai/gpt-4o" }),
            "model",
        ),
    ] {
        let response = app.server_post("/v1/moderations", &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            error_body(response).await["error"]["param"],
            param,
            "{body}"
        );
    }
}

#[tokio::test]
async fn a_thread_and_its_messages_belong_to_their_customer_and_are_404_to_others() {
    let app = spawn_app().await;
    let mine = app.token_with_scope("ext:mine", &["threads"]).await;
    let theirs = app.token_with_scope("ext:theirs", &["threads"]).await;
    let created = app
        .client_post(&mine, Some(ORIGIN), "/v1/threads", &json!({ "metadata": { "topic": "billing" }, "messages": [{ "role": "user", "content": "first" }] }))
        .await;
    assert_eq!(created.status(), StatusCode::OK);
    let thread: Value = created.json().await.unwrap();
    let id = thread["id"].as_str().unwrap();
    assert!(id.starts_with("thread_"));
    assert_eq!(thread["object"], "thread");
    assert_eq!(thread["metadata"]["topic"], "billing");
    assert!(thread["created_at"].is_i64());

    let got = app.client_get(&mine, &format!("/v1/threads/{id}")).await;
    assert_eq!(got.json::<Value>().await.unwrap(), thread);
    let message = app
        .client_post(&mine, Some(ORIGIN), &format!("/v1/threads/{id}/messages"), &json!({ "role": "assistant", "content": [{ "type": "text", "text": "sec" }, { "type": "text", "text": "ond" }] }))
        .await;
    assert_eq!(message.status(), StatusCode::OK);
    let message: Value = message.json().await.unwrap();
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(message["object"], "thread.message");
    assert_eq!(message["thread_id"], id);
    assert_eq!(message["role"], "assistant");
    assert_eq!(
        message["content"],
        json!([{ "type": "text", "text": { "value": "second", "annotations": [] } }])
    );

    for path in [
        format!("/v1/threads/{id}"),
        format!("/v1/threads/{id}/messages"),
    ] {
        let response = app.client_get(&theirs, &path).await;
        assert_eq!(
            response.status(),
            StatusCode::NOT_FOUND,
            "another customer's token: {path}"
        );
        assert_eq!(error_code(response).await, "not_found");
    }
    let post = app
        .client_post(
            &theirs,
            Some(ORIGIN),
            &format!("/v1/threads/{id}/messages"),
            &json!({ "role": "user", "content": "intrusion" }),
        )
        .await;
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    let by_server: Value = app
        .server_get_json(&format!("/v1/threads/{id}/messages?order=asc"))
        .await;
    let texts: Vec<&Value> = by_server["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| &m["content"][0]["text"]["value"])
        .collect();
    assert_eq!(
        texts,
        [&json!("first"), &json!("second")],
        "a server key sees every thread; the intrusion never landed"
    );
}

#[tokio::test]
async fn thread_messages_are_listed_newest_first_by_default_with_limit_and_after() {
    let app = spawn_app().await;
    let token = app.token_with_scope("ext:pages", &["threads"]).await;
    let thread: Value = app
        .client_post(&token, Some(ORIGIN), "/v1/threads", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/threads/{}/messages", thread["id"].as_str().unwrap());
    let mut ids = Vec::new();
    for i in 0..5 {
        let message: Value = app
            .client_post(
                &token,
                Some(ORIGIN),
                &path,
                &json!({ "role": "user", "content": format!("m{i}") }),
            )
            .await
            .json()
            .await
            .unwrap();
        ids.push(message["id"].as_str().unwrap().to_string());
    }
    let page = |query: &str| {
        let app = &app;
        let url = format!("{path}{query}");
        let token = token.clone();
        async move {
            let response = app.client_get(&token, &url).await;
            assert_eq!(response.status(), StatusCode::OK, "{url}");
            response.json::<Value>().await.unwrap()
        }
    };
    let ids_of = |list: &Value| -> Vec<String> {
        list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_string())
            .collect()
    };
    let default = page("").await;
    assert_eq!(default["object"], "list");
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(ids_of(&default), newest_first);
    assert_eq!(default["has_more"], false);
    let asc = page("?order=asc&limit=2").await;
    assert_eq!(ids_of(&asc), ids[..2]);
    assert_eq!(asc["has_more"], true);
    assert_eq!(asc["first_id"], ids[0].as_str());
    assert_eq!(asc["last_id"], ids[1].as_str());
    let next = page(&format!("?order=asc&limit=2&after={}", ids[1])).await;
    assert_eq!(ids_of(&next), ids[2..4]);
    for query in [
        "?order=sideways",
        "?limit=0",
        "?limit=101",
        "?limit=x",
        "?after=msg_nothing",
    ] {
        let response = app.client_get(&token, &format!("{path}{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
    }
}

/// Issue 17: a signed-in user's other device finds their conversations by
/// listing their threads (newest first); another customer's are never listed.
#[tokio::test]
async fn a_customer_lists_their_own_threads_newest_first_and_never_anothers() {
    let app = spawn_app().await;
    let mine = app.token_with_scope("ext:lister", &["threads"]).await;
    let theirs = app.token_with_scope("ext:other", &["threads"]).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let body = json!({ "metadata": { "title": format!("q{i}") } });
        let thread: Value = app
            .client_post(&mine, Some(ORIGIN), "/v1/threads", &body)
            .await
            .json()
            .await
            .unwrap();
        ids.push(thread["id"].as_str().unwrap().to_string());
    }
    app.client_post(&theirs, Some(ORIGIN), "/v1/threads", &json!({}))
        .await;
    let list = |token: String, query: &'static str| {
        let app = &app;
        async move {
            let response = app.client_get(&token, &format!("/v1/threads{query}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{query}");
            response.json::<Value>().await.unwrap()
        }
    };
    let all = list(mine.clone(), "").await;
    assert_eq!(all["object"], "list");
    let listed: Vec<&str> = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
    assert_eq!(listed, newest_first, "only mine, newest first");
    assert_eq!(all["data"][0]["metadata"]["title"], "q2");
    let first = list(mine.clone(), "?limit=1").await;
    assert_eq!(
        (first["has_more"].clone(), first["last_id"].clone()),
        (json!(true), json!(ids[2]))
    );
    let next = app
        .client_get(&mine, &format!("/v1/threads?limit=5&after={}", ids[2]))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(next["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        list(theirs.clone(), "").await["data"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let bad = app.client_get(&mine, "/v1/threads?order=asc").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let chat_only = app.token_with_scope("ext:chatonly", &["chat"]).await;
    let refused = app.client_get(&chat_only, "/v1/threads").await;
    assert_eq!(
        refused.status(),
        StatusCode::FORBIDDEN,
        "the threads scope is needed"
    );
}

#[tokio::test]
async fn bad_thread_requests_are_400_naming_the_param_and_unknown_threads_404() {
    let app = spawn_app().await;
    let created: Value = app
        .server_post("/v1/threads", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/v1/threads/{}/messages", created["id"].as_str().unwrap());
    for (body, param) in [
        (json!({ "content": "x" }), "role"),
        (json!({ "role": "system", "content": "x" }), "role"),
        (json!({ "role": "user" }), "content"),
        (json!({ "role": "user", "content": 5 }), "content"),
        (json!({ "role": "user", "content": [] }), "content"),
    ] {
        let response = app.server_post(&path, &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            error_body(response).await["error"]["param"],
            param,
            "{body}"
        );
    }
    let bad_thread = app
        .server_post("/v1/threads", &json!({ "messages": "x" }))
        .await;
    assert_eq!(error_body(bad_thread).await["error"]["param"], "messages");
    let empty = app
        .request(reqwest::Method::POST, "/v1/threads", Some(&bearer(KEY)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        empty.status(),
        StatusCode::OK,
        "an empty body is an empty thread"
    );
    let missing = app
        .get("/v1/threads/thread_nothing", Some(&bearer(KEY)))
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
