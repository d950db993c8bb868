//! Customers: creation with Idempotency-Key (replay, 422, 409 in progress),
//! `customer_exists`, lookup by id or external id, wallet top-ups.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

async fn create_keyed(
    app: &TestApp,
    api_key: &str,
    idempotency_key: &str,
    body: &Value,
) -> reqwest::Response {
    app.http
        .post(format!("{}/v1/customers", app.url))
        .bearer_auth(api_key)
        .header("idempotency-key", idempotency_key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_customer_is_created_and_an_idempotent_repeat_replays_the_first_answer() {
    let app = spawn_app().await;
    let body = json!({ "external_id": "ext:user_42", "budget_usd": 5.0, "rate_limit_rpm": 30 });
    let first = create_keyed(&app, KEY, "upsert-42", &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(
        first.headers().get("idempotent-replayed").is_none(),
        "a first answer is not a replay"
    );
    let first: Value = first.json().await.unwrap();

    let again = create_keyed(&app, KEY, "upsert-42", &body).await;
    assert_eq!(
        again.status(),
        StatusCode::CREATED,
        "the replay has the first status"
    );
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the replay is the first answer, byte for byte"
    );
}

#[tokio::test]
async fn a_new_customer_has_every_field_of_the_contract() {
    let app = spawn_app().await;
    let customer = app
        .create_customer_with(json!({ "external_id": "ext:user_42", "budget_usd": 5.0, "rate_limit_rpm": 30, "metadata": { "plan": "pro" } }))
        .await;
    assert!(
        customer["id"].as_str().unwrap().starts_with("cus_"),
        "{customer}"
    );
    assert_eq!(customer["object"], "customer");
    assert_eq!(customer["external_id"], "ext:user_42");
    assert_eq!(customer["budget_usd"], 5.0);
    assert_eq!(customer["spent_usd"], 0.0);
    assert_eq!(customer["rate_limit_rpm"], 30);
    assert_eq!(
        customer["wallet_balance_usd"],
        Value::Null,
        "no wallet before the first top-up"
    );
    assert!(
        customer["created"].as_i64().unwrap() > 1_600_000_000,
        "created is Unix seconds"
    );
    let plain = app.create_customer("ext:plain").await;
    assert_eq!(plain["budget_usd"], Value::Null);
    assert_eq!(plain["rate_limit_rpm"], Value::Null);
}

#[tokio::test]
async fn the_same_idempotency_key_with_another_body_is_422_idempotency_key_reused() {
    let app = spawn_app().await;
    let first = create_keyed(&app, KEY, "k", &json!({ "external_id": "ext:a" })).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let changed = create_keyed(
        &app,
        KEY,
        "k",
        &json!({ "external_id": "ext:a", "budget_usd": 6.0 }),
    )
    .await;
    assert_eq!(changed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(changed).await, "idempotency_key_reused");
}

#[tokio::test]
async fn a_repeat_that_arrives_while_the_first_is_running_is_409_in_progress() {
    let app = spawn_app().await;
    app.control("customer_delay", json!({ "ms": 400 })).await;
    let body = json!({ "external_id": "ext:slow" });
    let (first, second) = tokio::join!(create_keyed(&app, KEY, "slow", &body), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        create_keyed(&app, KEY, "slow", &body).await
    });
    assert_eq!(
        first.status(),
        StatusCode::CREATED,
        "the first request completes"
    );
    assert_eq!(
        second.status(),
        StatusCode::CONFLICT,
        "the repeat arrived during the first"
    );
    assert_eq!(error_code(second).await, "idempotency_request_in_progress");

    let after = create_keyed(&app, KEY, "slow", &body).await;
    assert_eq!(
        after.headers()["idempotent-replayed"],
        "true",
        "once the first finished, repeats replay it"
    );
}

#[tokio::test]
async fn a_client_that_gives_up_mid_creation_does_not_wedge_its_idempotency_key() {
    let app = spawn_app().await;
    app.control("customer_delay", json!({ "ms": 300 })).await;
    let body = json!({ "external_id": "ext:impatient" });
    let gave_up = app
        .http
        .post(format!("{}/v1/customers", app.url))
        .bearer_auth(KEY)
        .header("idempotency-key", "impatient")
        .json(&body)
        .timeout(Duration::from_millis(50))
        .send()
        .await;
    assert!(gave_up.is_err(), "the client timed out");
    app.control("customer_delay", json!({ "ms": 0 })).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let retry = create_keyed(&app, KEY, "impatient", &body).await;
    assert_eq!(
        retry.status(),
        StatusCode::CREATED,
        "the key works again (a replay or a fresh create)"
    );
}

#[tokio::test]
async fn idempotency_keys_are_scoped_to_the_api_key() {
    let app = spawn_app().await;
    let a = create_keyed(&app, KEY, "shared", &json!({ "external_id": "ext:a" })).await;
    assert_eq!(a.status(), StatusCode::CREATED);
    let b = create_keyed(
        &app,
        RESTRICTED_KEY,
        "shared",
        &json!({ "external_id": "ext:b" }),
    )
    .await;
    assert_eq!(
        b.status(),
        StatusCode::CREATED,
        "another key's Idempotency-Key is another slot, not a reuse"
    );
    assert!(b.headers().get("idempotent-replayed").is_none());
}

#[tokio::test]
async fn an_idempotent_answer_is_replayed_for_24_hours_and_then_forgotten() {
    let app = spawn_app().await;
    let body = json!({ "external_id": "ext:day" });
    assert_eq!(
        create_keyed(&app, KEY, "day", &body).await.status(),
        StatusCode::CREATED
    );
    app.advance(23.0 * 3600.0).await;
    let within = create_keyed(&app, KEY, "day", &body).await;
    assert_eq!(
        within.headers()["idempotent-replayed"],
        "true",
        "23 h later it still replays"
    );
    app.advance(3600.0 + 1.0).await;
    let after = create_keyed(&app, KEY, "day", &body).await;
    assert_eq!(
        after.status(),
        StatusCode::CONFLICT,
        "after 24 h the key is new, and the customer exists"
    );
    assert_eq!(error_code(after).await, "customer_exists");
}

#[tokio::test]
async fn an_idempotency_key_must_be_1_to_255_characters() {
    let app = spawn_app().await;
    let body = json!({ "external_id": "ext:k" });
    let long = create_keyed(&app, KEY, &"k".repeat(256), &body).await;
    assert_eq!(long.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_body(long).await["error"]["param"], "Idempotency-Key");
    let ok = create_keyed(&app, KEY, &"k".repeat(255), &body).await;
    assert_eq!(
        ok.status(),
        StatusCode::CREATED,
        "255 characters are allowed"
    );
}

#[tokio::test]
async fn creating_an_existing_customer_without_a_key_is_409_customer_exists() {
    let app = spawn_app().await;
    app.create_customer("ext:user_1").await;
    let again = app
        .server_post("/v1/customers", &json!({ "external_id": "ext:user_1" }))
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(again).await, "customer_exists");
}

#[tokio::test]
async fn a_bad_body_is_a_400_naming_the_param_and_is_not_stored_under_its_key() {
    let app = spawn_app().await;
    let bad = create_keyed(&app, KEY, "k1", &json!({ "external_id": 42 })).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let body = error_body(bad).await;
    assert_eq!(body["error"]["code"], "invalid_request");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "external_id");
    let fixed = create_keyed(&app, KEY, "k1", &json!({ "external_id": "ext:fixed" })).await;
    assert_eq!(
        fixed.status(),
        StatusCode::CREATED,
        "the refusal was not stored: the key works with a fixed body"
    );
}

#[tokio::test]
async fn customer_fields_out_of_range_are_400_naming_the_param() {
    let app = spawn_app().await;
    for (body, param) in [
        (json!({}), "external_id"),
        (json!({ "external_id": "" }), "external_id"),
        (json!({ "external_id": "x".repeat(256) }), "external_id"),
        (json!({ "external_id": "cus_123" }), "external_id"),
        (json!({ "external_id": "a\u{0007}b" }), "external_id"),
        (
            json!({ "external_id": "ext:b", "budget_usd": -1 }),
            "budget_usd",
        ),
        (
            json!({ "external_id": "ext:b", "budget_usd": "5" }),
            "budget_usd",
        ),
        (
            json!({ "external_id": "ext:b", "rate_limit_rpm": 0 }),
            "rate_limit_rpm",
        ),
        (
            json!({ "external_id": "ext:b", "rate_limit_rpm": -3 }),
            "rate_limit_rpm",
        ),
        (
            json!({ "external_id": "ext:b", "rate_limit_rpm": 1.5 }),
            "rate_limit_rpm",
        ),
        (
            json!({ "external_id": "ext:b", "rate_limit_rpm": 1e12 }),
            "rate_limit_rpm",
        ),
        (
            json!({ "external_id": "ext:b", "metadata": [] }),
            "metadata",
        ),
    ] {
        let response = app.server_post("/v1/customers", &body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            error_body(response).await["error"]["param"],
            param,
            "{body}"
        );
    }
    let longest = app.create_customer(&"é".repeat(255)).await;
    assert_eq!(
        longest["external_id"].as_str().unwrap().chars().count(),
        255,
        "255 characters, not bytes"
    );
}

#[tokio::test]
async fn a_customer_is_found_by_its_id_or_its_external_id_exactly_as_created() {
    let app = spawn_app().await;
    let created = app.create_customer("ext:user_42").await;
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.customer(id).await, created, "by id");
    assert_eq!(app.customer("ext:user_42").await, created, "by external id");
    assert_eq!(
        app.customer("ext%3Auser_42").await,
        created,
        "percent-encoded in the path"
    );
    for unknown in ["ext:user_43", "EXT:USER_42", "cus_nobody"] {
        let response = app
            .get(&format!("/v1/customers/{unknown}"), Some(&bearer(KEY)))
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{unknown}");
        assert_eq!(error_code(response).await, "not_found");
    }
    let slashed = app.create_customer("team/a b").await;
    assert_eq!(
        app.customer("team%2Fa%20b").await,
        slashed,
        "any printable external id is addressable"
    );
}

#[tokio::test]
async fn a_wallet_top_up_opens_the_wallet_and_adds_to_it() {
    let app = spawn_app().await;
    app.create_customer("ext:w").await;
    let first = app.topup("ext:w", 10.0).await;
    assert_eq!(first.status(), StatusCode::OK);
    let customer: Value = first.json().await.unwrap();
    assert_eq!(
        customer["object"], "customer",
        "a top-up answers the customer"
    );
    assert_eq!(customer["wallet_balance_usd"], 10.0);
    let second: Value = app.topup("ext:w", 10_000.0).await.json().await.unwrap();
    assert_eq!(
        second["wallet_balance_usd"], 10_010.0,
        "10 000 is the largest top-up"
    );
    assert_eq!(app.customer("ext:w").await["wallet_balance_usd"], 10_010.0);
}

#[tokio::test]
async fn a_top_up_outside_0_to_10000_is_400_and_an_unknown_customer_404() {
    let app = spawn_app().await;
    app.create_customer("ext:w").await;
    for amount in [
        json!(0),
        json!(-5),
        json!(10_000.01),
        json!("10"),
        json!(null),
    ] {
        let response = app
            .server_post(
                "/v1/customers/ext:w/wallet/topup",
                &json!({ "amount_usd": amount }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{amount}");
        assert_eq!(
            error_body(response).await["error"]["param"],
            "amount_usd",
            "{amount}"
        );
    }
    assert_eq!(
        app.customer("ext:w").await["wallet_balance_usd"],
        Value::Null,
        "refused top-ups open no wallet"
    );
    let unknown = app.topup("ext:nobody", 5.0).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn server_routes_need_an_api_key() {
    let app = spawn_app().await;
    app.create_customer("ext:x").await;
    for auth in [
        None,
        Some("Bearer sk_wrong"),
        Some("Basic abc"),
        Some("Bearer"),
        Some("bearer  "),
    ] {
        for (method, path) in [
            (reqwest::Method::POST, "/v1/customers"),
            (reqwest::Method::GET, "/v1/customers/ext:x"),
            (reqwest::Method::POST, "/v1/customers/ext:x/wallet/topup"),
            (reqwest::Method::POST, "/v1/customers/ext:x/client_tokens"),
            (reqwest::Method::GET, "/v1/customers/ext:x/client_tokens"),
            (
                reqwest::Method::DELETE,
                "/v1/customers/ext:x/client_tokens/ct_x",
            ),
        ] {
            let response = app
                .request(method.clone(), path, auth)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {auth:?}"
            );
            assert!(response.headers().contains_key("www-authenticate"));
            assert_eq!(
                error_code(response).await,
                "invalid_api_key",
                "{method} {path} with {auth:?}"
            );
        }
    }
}
