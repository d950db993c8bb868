//! Bad input: malformed JSON, wrong types, huge bodies, unknown routes and
//! methods, hostile headers: always the contract's JSON error, never a crash.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
async fn unknown_routes_are_json_404s_and_wrong_methods_json_405s() {
    let app = spawn_app().await;
    for path in [
        "/v1/nothing",
        "/elsewhere",
        "/v1",
        "/",
        "/v1/customers/a/b/c",
        "/__mock/nothing",
    ] {
        let response = app.get(path, None).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(response).await, "not_found");
    }
    for (method, path) in [
        (Method::GET, "/v1/chat/completions"),
        (Method::DELETE, "/v1/customers"),
        (Method::PUT, "/v1/customers/ext:x"),
        (Method::POST, "/.well-known/jwks.json"),
        (Method::GET, "/__mock/reset"),
    ] {
        let response = app
            .request(method.clone(), path, Some(&bearer(KEY)))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        assert_eq!(
            error_code(response).await,
            "method_not_allowed",
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_without_a_param_on_every_route_that_reads_a_body() {
    let app = spawn_app().await;
    app.create_customer("ext:j").await;
    let thread: Value = app
        .server_post("/v1/threads", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let messages = format!("/v1/threads/{}/messages", thread["id"].as_str().unwrap());
    for path in [
        "/v1/customers",
        "/v1/customers/ext:j/wallet/topup",
        "/v1/customers/ext:j/client_tokens",
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/moderations",
        "/v1/threads",
        &messages,
        "/__mock/script",
        "/__mock/clock",
    ] {
        for body in [
            "{\"a\":",
            "not json",
            "{\"model\": \"x\"} trailing",
            "[",
            "\u{feff}{}",
        ] {
            let response = app
                .request(Method::POST, path, Some(&bearer(KEY)))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::BAD_REQUEST,
                "{path} {body:?}"
            );
            let error = error_body(response).await;
            assert_eq!(error["error"]["code"], "invalid_request");
            assert_eq!(
                error["error"]["param"],
                Value::Null,
                "{path} {body:?}: {error}"
            );
        }
    }
}

#[tokio::test]
async fn bodies_over_one_mebibyte_are_413_on_every_route() {
    for controls in [true, false] {
        let app = spawn_app_with(
            settings(),
            ringside_mock::Options {
                controls,
                ..Default::default()
            },
        )
        .await;
        let big = json!({ "external_id": "x".repeat(1 << 20) });
        for path in [
            "/v1/customers",
            "/v1/chat/completions",
            "/v1/embeddings",
            "/v1/nothing",
        ] {
            let response = app.post(path, Some(&bearer(KEY)), &big).await;
            assert_eq!(
                response.status(),
                StatusCode::PAYLOAD_TOO_LARGE,
                "{path}, controls {controls}"
            );
            assert_eq!(error_code(response).await, "payload_too_large");
        }
        let just_under =
            json!({ "external_id": "ext:ok", "metadata": { "pad": "x".repeat((1 << 20) - 100) } });
        let response = app
            .post("/v1/customers", Some(&bearer(KEY)), &just_under)
            .await;
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "a body under 1 MiB is read"
        );
    }
}

#[tokio::test]
async fn hostile_input_never_crashes_or_wedges_the_mock() {
    let app = spawn_app().await;
    let token = app
        .token_with_scope("ext:h", &["chat", "embeddings", "moderations", "threads"])
        .await;
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let bodies: Vec<Vec<u8>> = vec![
        deep.clone().into_bytes(),
        format!("{{\"model\":{deep}}}").into_bytes(),
        b"\xff\xfe\x00garbage".to_vec(),
        b"{\"model\":\"fc:openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"\\ud800\"}]}".to_vec(),
        br#"{"model":"fc:openai/gpt-4o-mini","messages":[{"role":"user","content":"x"}],"max_tokens":4294967295,"stream":true}"#.to_vec(),
        br#"{"model":"fc:openai/gpt-4o-mini","messages":[{"role":"user","content":"x"}],"temperature":1e400}"#.to_vec(),
        br#"{"input":"x","model":null,"external_id":null,"amount_usd":1e308}"#.to_vec(),
        b"null".to_vec(),
        b"".to_vec(),
    ];
    let paths = [
        "/v1/customers",
        "/v1/customers/ext:h/wallet/topup",
        "/v1/customers/ext:h/client_tokens",
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/moderations",
        "/v1/threads",
        "/__mock/script",
        "/__mock/clock",
        "/__mock/settings",
        "/__mock/customer_delay",
    ];
    let mut tasks = Vec::new();
    for path in paths {
        for body in &bodies {
            for auth in [bearer(KEY), format!("Client {token}")] {
                let request = app
                    .request(Method::POST, path, Some(&auth))
                    .header("origin", ORIGIN)
                    .header("content-type", "application/json")
                    .body(body.clone());
                tasks.push(tokio::spawn(async move {
                    let response = request.send().await.unwrap();
                    let status = response.status();
                    let bytes = response.bytes().await.unwrap_or_default();
                    (path, status, bytes)
                }));
            }
        }
    }
    for task in tasks {
        let (path, status, bytes) = task.await.unwrap();
        assert!(!status.is_server_error(), "{path} answered {status}");
        if !status.is_success() {
            let body: Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("{path} {status}: JSON error"));
            assert!(body["error"]["code"].is_string(), "{path}: {body}");
        }
    }
    for header in [
        "Client a\"b",
        "Client <script>",
        "Client",
        "Client  ",
        "Bearer \t",
        "ClientX abc",
    ] {
        let response = app
            .request(Method::POST, "/v1/chat/completions", None)
            .header(
                "authorization",
                reqwest::header::HeaderValue::from_str(header).unwrap(),
            )
            .json(&chat_body())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header:?}");
    }
    let non_ascii = app
        .request(Method::POST, "/v1/chat/completions", None)
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Client \xe9t\xe9").unwrap(),
        )
        .json(&chat_body())
        .send()
        .await
        .unwrap();
    assert_eq!(non_ascii.status(), StatusCode::UNAUTHORIZED);
    app.create_customer("ext:still_alive").await;
    let stream = read_stream(app.chat(&token, Some(ORIGIN), &chat_body()).await).await;
    assert!(
        stream.ended_with_done(),
        "the mock still streams after all that"
    );
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_stream_leaves_the_mock_healthy() {
    let app = spawn_app().await;
    app.control(
        "settings",
        json!({ "token_delay_ms": 20, "answer_tokens": 200 }),
    )
    .await;
    for _ in 0..20 {
        let mut response = app.server_post("/v1/chat/completions", &chat_body()).await;
        response.chunk().await.unwrap();
        drop(response);
    }
    app.control(
        "settings",
        json!({ "token_delay_ms": 0, "answer_tokens": 3 }),
    )
    .await;
    let stream = read_stream(app.server_post("/v1/chat/completions", &chat_body()).await).await;
    assert_eq!(stream.deltas.len(), 3);
}
