//! Every row of the contract's Client-Token table, with its status and code,
//! and the order in which the checks run (RFC 8725 verification included).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signer, SigningKey};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

/// A token signed by a key that is not the mock's, with any header.
fn forge(header: &Value, claims: &Value) -> String {
    let key = SigningKey::from_bytes(&[7u8; 32]);
    let mut token = B64.encode(header.to_string());
    token.push('.');
    token.push_str(&B64.encode(claims.to_string()));
    let signature = key.sign(token.as_bytes());
    format!("{token}.{}", B64.encode(signature.to_bytes()))
}

/// The claims part of a real token, re-encoded with its header and
/// signature but one claim changed: the signature no longer matches.
fn tamper(token: &str, claim: &str, value: Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    claims[claim] = value;
    format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(claims.to_string()),
        parts[2]
    )
}

async fn assert_refused(response: reqwest::Response, status: StatusCode, code: &str, why: &str) {
    assert_eq!(response.status(), status, "{why}");
    let body = error_body(response).await;
    assert_eq!(body["error"]["code"], code, "{why}: {body}");
}

#[tokio::test]
async fn missing_garbled_and_oversized_tokens_are_401_invalid_client_token() {
    let app = spawn_app().await;
    let none = app.post("/v1/chat/completions", None, &chat_body()).await;
    assert_refused(
        none,
        StatusCode::UNAUTHORIZED,
        "invalid_client_token",
        "no Authorization",
    )
    .await;
    for token in [
        "",
        "abc",
        "a.b.c",
        "a b",
        "a.b.c.d",
        &"x".repeat(5000),
        "é.é.é",
    ] {
        let response = app.chat(token, Some(ORIGIN), &chat_body()).await;
        assert_eq!(
            response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap()),
            Some("Client realm=\"ringside\""),
            "a 401 names the scheme"
        );
        assert_refused(
            response,
            StatusCode::UNAUTHORIZED,
            "invalid_client_token",
            &format!("{token:.20}"),
        )
        .await;
    }
}

#[tokio::test]
async fn bad_signatures_wrong_algorithms_and_wrong_types_are_401_invalid_client_token() {
    let app = spawn_app().await;
    let token = app.client_token("ext:sig").await;
    let parts: Vec<&str> = token.split('.').collect();
    let claims: Value = serde_json::from_slice(&B64.decode(parts[1]).unwrap()).unwrap();
    let header: Value = serde_json::from_slice(&B64.decode(parts[0]).unwrap()).unwrap();
    let mut forged = vec![
        ("signed by another key", forge(&header, &claims)),
        (
            "alg none",
            forge(
                &json!({ "alg": "none", "typ": "ringside-client+jwt" }),
                &claims,
            ),
        ),
        (
            "alg HS256",
            forge(
                &json!({ "alg": "HS256", "typ": "ringside-client+jwt" }),
                &claims,
            ),
        ),
        (
            "typ JWT",
            forge(&json!({ "alg": "EdDSA", "typ": "JWT" }), &claims),
        ),
        (
            "a tampered sub",
            tamper(&token, "sub", json!("cus_someone_else")),
        ),
        (
            "a tampered exp",
            tamper(&token, "exp", json!(4_000_000_000i64)),
        ),
        ("no signature", format!("{}.{}.", parts[0], parts[1])),
    ];
    let unsigned = format!(
        "{}.{}",
        B64.encode(r#"{"alg":"none","typ":"ringside-client+jwt"}"#),
        parts[1]
    );
    forged.push(("alg none, unsigned", format!("{unsigned}.")));
    for (why, token) in forged {
        let response = app.chat(&token, Some(ORIGIN), &chat_body()).await;
        assert_refused(
            response,
            StatusCode::UNAUTHORIZED,
            "invalid_client_token",
            why,
        )
        .await;
    }
}

#[tokio::test]
async fn an_expired_token_is_401_client_token_expired_after_at_most_30_seconds_of_leeway() {
    let app = spawn_app().await;
    app.create_customer("ext:exp").await;
    let minted: Value = app
        .mint(
            "ext:exp",
            json!({ "ttl_seconds": 60, "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let token = minted["token"].as_str().unwrap();
    app.advance(60.0 + 20.0).await;
    let within = app.chat(token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(
        within.status(),
        StatusCode::OK,
        "20 s past exp is within the leeway"
    );
    app.advance(11.0).await;
    let response = app.chat(token, Some(ORIGIN), &chat_body()).await;
    assert_refused(
        response,
        StatusCode::UNAUTHORIZED,
        "client_token_expired",
        "31 s past exp",
    )
    .await;
}

#[tokio::test]
async fn a_token_used_before_its_nbf_beyond_the_leeway_is_401_invalid_client_token() {
    let app = spawn_app().await;
    let token = app.client_token("ext:nbf").await;
    app.advance(-45.0).await;
    let response = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_refused(
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_client_token",
        "45 s before nbf",
    )
    .await;
}

#[tokio::test]
async fn a_token_from_before_a_reset_is_401_invalid_client_token() {
    let app = spawn_app().await;
    let token = app.client_token("ext:gone").await;
    app.control("reset", json!({})).await;
    let response = app.chat(&token, Some(ORIGIN), &chat_body()).await;
    assert_refused(
        response,
        StatusCode::UNAUTHORIZED,
        "invalid_client_token",
        "the mock forgot the token",
    )
    .await;
}

#[tokio::test]
async fn every_client_allowed_endpoint_needs_its_scope_403_client_token_scope_denied() {
    let app = spawn_app().await;
    let chat_only = app.token_with_scope("ext:chat", &["chat"]).await;
    let everything = app
        .token_with_scope("ext:all", &["chat", "embeddings", "moderations", "threads"])
        .await;
    let embeddings = json!({ "model": "fc:openai/text-embedding-3-small", "input": "hi" });
    let moderations = json!({ "input": "hi" });
    for (path, body) in [
        ("/v1/embeddings", &embeddings),
        ("/v1/moderations", &moderations),
        ("/v1/threads", &json!({})),
    ] {
        let refused = app.client_post(&chat_only, Some(ORIGIN), path, body).await;
        assert_refused(
            refused,
            StatusCode::FORBIDDEN,
            "client_token_scope_denied",
            path,
        )
        .await;
        let allowed = app.client_post(&everything, Some(ORIGIN), path, body).await;
        assert_eq!(allowed.status(), StatusCode::OK, "{path} with its scope");
    }
    for path in ["/v1/threads/thread_x", "/v1/threads/thread_x/messages"] {
        let refused = app.client_get(&chat_only, path).await;
        assert_refused(
            refused,
            StatusCode::FORBIDDEN,
            "client_token_scope_denied",
            path,
        )
        .await;
    }
    let threads_only = app.token_with_scope("ext:threads", &["threads"]).await;
    let refused = app.chat(&threads_only, Some(ORIGIN), &chat_body()).await;
    assert_refused(
        refused,
        StatusCode::FORBIDDEN,
        "client_token_scope_denied",
        "chat without chat",
    )
    .await;
}

#[tokio::test]
async fn a_missing_or_foreign_origin_is_403_client_token_origin_mismatch() {
    let app = spawn_app().await;
    let token = app.client_token("ext:o").await;
    for origin in [
        None,
        Some("http://evil.example"),
        Some("http://127.0.0.1:9999/"),
        Some("HTTP://127.0.0.1:9999"),
        Some("null"),
    ] {
        let response = app.chat(&token, origin, &chat_body()).await;
        assert_refused(
            response,
            StatusCode::FORBIDDEN,
            "client_token_origin_mismatch",
            &format!("{origin:?}"),
        )
        .await;
    }
    let two = app
        .request(
            reqwest::Method::POST,
            "/v1/chat/completions",
            Some(&format!("Client {token}")),
        )
        .header("origin", ORIGIN)
        .header("origin", ORIGIN)
        .json(&chat_body())
        .send()
        .await
        .unwrap();
    assert_refused(
        two,
        StatusCode::FORBIDDEN,
        "client_token_origin_mismatch",
        "two Origin headers",
    )
    .await;
}

#[tokio::test]
async fn a_token_bound_to_another_address_is_403_client_token_ip_mismatch() {
    let app = spawn_app().await;
    app.create_customer("ext:ip").await;
    let minted: Value = app
        .mint(
            "ext:ip",
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN], "bind_ip": "10.1.2.3" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let response = app
        .chat(
            minted["token"].as_str().unwrap(),
            Some(ORIGIN),
            &chat_body(),
        )
        .await;
    assert_refused(
        response,
        StatusCode::FORBIDDEN,
        "client_token_ip_mismatch",
        "bound to 10.1.2.3",
    )
    .await;
}

#[tokio::test]
async fn a_body_naming_another_user_is_403_client_token_customer_mismatch() {
    let app = spawn_app().await;
    let token = app.client_token("ext:me").await;
    let me = app.customer("ext:me").await;
    app.create_customer("ext:someone_else").await;
    let mut body = chat_body();
    for other in ["ext:someone_else", "cus_x", "ext:nobody"] {
        body["user"] = json!(other);
        let response = app.chat(&token, Some(ORIGIN), &body).await;
        assert_refused(
            response,
            StatusCode::FORBIDDEN,
            "client_token_customer_mismatch",
            other,
        )
        .await;
    }
    let embeddings = json!({ "model": "fc:openai/text-embedding-3-small", "input": "x", "user": "ext:someone_else" });
    let all = app
        .token_with_scope("ext:all", &["chat", "embeddings"])
        .await;
    let response = app
        .client_post(&all, Some(ORIGIN), "/v1/embeddings", &embeddings)
        .await;
    assert_refused(
        response,
        StatusCode::FORBIDDEN,
        "client_token_customer_mismatch",
        "embeddings",
    )
    .await;
    for same in ["ext:me", me["id"].as_str().unwrap()] {
        body["user"] = json!(same);
        let response = app.chat(&token, Some(ORIGIN), &body).await;
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "naming yourself ({same}) is fine"
        );
    }
}

#[tokio::test]
async fn the_checks_run_in_the_order_of_the_contracts_table() {
    let app = spawn_app().await;
    app.create_customer_with(
        json!({ "external_id": "ext:order", "rate_limit_rpm": 1, "budget_usd": 0 }),
    )
    .await;
    app.create_customer("ext:other").await;
    let mint = |scope: Value, ip: Value| {
        let app = &app;
        async move {
            let minted: Value = app
                .mint(
                    "ext:order",
                    json!({ "scope": scope, "origin_allowlist": [ORIGIN], "bind_ip": ip }),
                )
                .await
                .json()
                .await
                .unwrap();
            (
                minted["id"].as_str().unwrap().to_string(),
                minted["token"].as_str().unwrap().to_string(),
            )
        }
    };
    let (revoked_id, revoked) = mint(json!(["embeddings"]), json!("10.0.0.1")).await;
    app.delete(
        &format!("/v1/customers/ext:order/client_tokens/{revoked_id}"),
        Some(&bearer(KEY)),
    )
    .await;
    let (_, wrong_scope) = mint(json!(["embeddings"]), json!("10.0.0.1")).await;
    let (_, wrong_ip) = mint(json!(["chat"]), json!("10.0.0.1")).await;
    let (_, good) = mint(json!(["chat"]), Value::Null).await;
    let mut other_user = chat_body();
    other_user["user"] = json!("ext:other");

    // revoked beats a bad endpoint
    let response = app
        .request(
            reqwest::Method::GET,
            "/v1/customers/ext:order",
            Some(&format!("Client {revoked}")),
        )
        .send()
        .await
        .unwrap();
    assert_refused(
        response,
        StatusCode::UNAUTHORIZED,
        "client_token_revoked",
        "revoked before endpoint",
    )
    .await;
    // revoked beats scope, origin and ip
    let response = app.chat(&revoked, None, &other_user).await;
    assert_refused(
        response,
        StatusCode::UNAUTHORIZED,
        "client_token_revoked",
        "revoked before scope",
    )
    .await;
    // the endpoint beats scope and origin
    let response = app
        .request(
            reqwest::Method::GET,
            "/v1/customers/ext:order",
            Some(&format!("Client {wrong_scope}")),
        )
        .send()
        .await
        .unwrap();
    assert_refused(
        response,
        StatusCode::FORBIDDEN,
        "client_token_endpoint_not_allowed",
        "endpoint before scope",
    )
    .await;
    // scope beats origin, ip and user
    let response = app.chat(&wrong_scope, None, &other_user).await;
    assert_refused(
        response,
        StatusCode::FORBIDDEN,
        "client_token_scope_denied",
        "scope before origin",
    )
    .await;
    // origin beats ip and user
    let response = app
        .chat(&wrong_ip, Some("http://evil.example"), &other_user)
        .await;
    assert_refused(
        response,
        StatusCode::FORBIDDEN,
        "client_token_origin_mismatch",
        "origin before ip",
    )
    .await;
    // ip beats user
    let response = app.chat(&wrong_ip, Some(ORIGIN), &other_user).await;
    assert_refused(
        response,
        StatusCode::FORBIDDEN,
        "client_token_ip_mismatch",
        "ip before user",
    )
    .await;
    // money, once nothing else is wrong: budget 0 refuses every call
    let response = app.chat(&good, Some(ORIGIN), &chat_body()).await;
    assert_refused(
        response,
        StatusCode::PAYMENT_REQUIRED,
        "customer_budget_exceeded",
        "budget 0",
    )
    .await;

    // a customer whose first call fills its rate window, empties its wallet and spends its budget
    app.create_customer_with(
        json!({ "external_id": "ext:money", "rate_limit_rpm": 1, "budget_usd": 0.000_000_001 }),
    )
    .await;
    app.topup("ext:money", 0.000_000_001).await;
    let minted = app.mint_token("ext:money", &["chat"]).await;
    let money = minted["token"].as_str().unwrap();
    let first = app.chat(money, Some(ORIGIN), &chat_body()).await;
    assert_eq!(
        first.status(),
        StatusCode::OK,
        "the call that crosses every line completes"
    );
    read_stream(first).await;
    let customer = app.customer("ext:money").await;
    assert_eq!(customer["wallet_balance_usd"], 0.0, "{customer}");
    assert!(
        customer["spent_usd"].as_f64().unwrap() > 0.000_000_001,
        "{customer}"
    );
    // user beats the rate limit
    let response = app.chat(money, Some(ORIGIN), &other_user).await;
    assert_refused(
        response,
        StatusCode::FORBIDDEN,
        "client_token_customer_mismatch",
        "user before rate",
    )
    .await;
    // the rate limit beats wallet and budget
    let response = app.chat(money, Some(ORIGIN), &chat_body()).await;
    assert_refused(
        response,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        "rate before wallet",
    )
    .await;
    // the wallet beats the budget
    app.advance(61.0).await;
    let response = app.chat(money, Some(ORIGIN), &chat_body()).await;
    assert_refused(
        response,
        StatusCode::PAYMENT_REQUIRED,
        "customer_wallet_empty",
        "wallet before budget",
    )
    .await;
    // and the budget is last
    app.topup("ext:money", 1.0).await;
    let response = app.chat(money, Some(ORIGIN), &chat_body()).await;
    assert_refused(
        response,
        StatusCode::PAYMENT_REQUIRED,
        "customer_budget_exceeded",
        "budget last",
    )
    .await;
    let order = app.customer("ext:order").await;
    assert_eq!(order["spent_usd"], 0.0, "refused calls are not charged");
}

#[tokio::test]
async fn expiry_is_checked_before_revocation() {
    let app = spawn_app().await;
    app.create_customer("ext:both").await;
    let minted: Value = app
        .mint(
            "ext:both",
            json!({ "ttl_seconds": 60, "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
        )
        .await
        .json()
        .await
        .unwrap();
    let path = format!(
        "/v1/customers/ext:both/client_tokens/{}",
        minted["id"].as_str().unwrap()
    );
    app.delete(&path, Some(&bearer(KEY))).await;
    app.advance(120.0).await;
    let response = app
        .chat(
            minted["token"].as_str().unwrap(),
            Some(ORIGIN),
            &chat_body(),
        )
        .await;
    assert_refused(
        response,
        StatusCode::UNAUTHORIZED,
        "client_token_expired",
        "expired and revoked",
    )
    .await;
}
