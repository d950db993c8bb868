//! Anonymous visitors: a signed HttpOnly cookie, never the request body.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_page_of_an_allowed_origin_gets_a_token_that_works_from_that_origin_only() {
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    let answer = mint.token(None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    let cookie = answer.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "an http page gets an HttpOnly, Lax, non-Secure cookie: {cookie}"
    );
    assert_eq!(answer.body["expires_in"], 900, "a fresh token's full life");
    assert_eq!(answer.body["api_base"], mock.url.as_str());
    let keys: Vec<_> = answer.body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["api_base", "expires_at", "expires_in", "token"],
        "the TokenResponse shape, nothing else"
    );
    assert_eq!(
        mock.chat(answer.token(), &mint.origin).await,
        StatusCode::OK,
        "the minted token streams from the page's origin"
    );
    assert_eq!(
        mock.chat(answer.token(), "https://evil.example").await,
        StatusCode::FORBIDDEN,
        "and from nowhere else"
    );
    assert!(
        mock.external_id_of(answer.token())
            .await
            .starts_with("ext:visitor_"),
        "an anonymous visitor's customer"
    );
}

#[tokio::test]
async fn the_visitor_cookie_keeps_the_same_customer_and_the_body_cannot_choose_one() {
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    let first = mint.token(None).await;
    let cookie = first.cookie();
    let again = mint
        .http
        .post(format!("{}/api/chat-token", mint.url))
        .header("origin", &mint.origin)
        .header("cookie", &cookie)
        .json(&json!({ "userId": "admin", "external_id": "ext:user_1" }))
        .send()
        .await
        .unwrap();
    assert!(
        again.headers().get("set-cookie").is_none(),
        "a known visitor keeps its cookie"
    );
    let again: serde_json::Value = again.json().await.unwrap();
    let token = again["token"].as_str().unwrap();
    assert_eq!(
        mock.external_id_of(token).await,
        mock.external_id_of(first.token()).await,
        "same visitor, same customer, whatever the body says"
    );
    let stranger = mint.token(None).await;
    assert_ne!(
        mock.external_id_of(stranger.token()).await,
        mock.external_id_of(first.token()).await,
        "another visitor is another customer"
    );
}

#[tokio::test]
async fn a_forged_visitor_cookie_buys_a_new_visitor_not_the_one_it_names() {
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    let victim = mint.token(None).await;
    let victim_id = mock.external_id_of(victim.token()).await;
    let id = victim_id.strip_prefix("ext:visitor_").unwrap();
    let forged = format!("ringside_visitor=v1.{id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    let answer = mint.token(Some(&forged)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        answer.header("set-cookie").is_some(),
        "the forger is a new visitor, with a cookie of its own"
    );
    assert_ne!(mock.external_id_of(answer.token()).await, victim_id);
}

#[tokio::test]
async fn an_https_page_gets_a_secure_cookie() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &["https://shop.example"], |_| {}).await;
    let answer = mint.request(&[("origin", "https://shop.example")]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert!(
        answer.header("set-cookie").unwrap().ends_with("; Secure"),
        "{:?}",
        answer.header("set-cookie")
    );
    assert_eq!(
        claims(answer.token())["origins"],
        json!(["https://shop.example"]),
        "the token is for exactly the requesting origin"
    );
}
