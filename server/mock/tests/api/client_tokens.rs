//! Client tokens: minting (ttl bounds, scope, origins, `bind_ip`), the JWT
//! and the JWKS that verifies it, listing without secrets, revoking, and the
//! `api:client_tokens` key scope.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use ed25519_dalek::{Signature, VerifyingKey};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::*;

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("three parts");
    serde_json::from_slice(&B64.decode(part).expect("base64url")).expect("JSON")
}

#[tokio::test]
async fn minting_refuses_out_of_range_ttls_bad_scopes_origins_and_addresses() {
    let app = spawn_app().await;
    app.create_customer("ext:u").await;
    for (body, param) in [
        (
            json!({ "ttl_seconds": 59, "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
            "ttl_seconds",
        ),
        (
            json!({ "ttl_seconds": 3601, "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
            "ttl_seconds",
        ),
        (
            json!({ "ttl_seconds": -1, "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
            "ttl_seconds",
        ),
        (
            json!({ "ttl_seconds": "900", "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
            "ttl_seconds",
        ),
        (
            json!({ "scope": [], "origin_allowlist": [ORIGIN] }),
            "scope",
        ),
        (json!({ "origin_allowlist": [ORIGIN] }), "scope"),
        (
            json!({ "scope": ["admin"], "origin_allowlist": [ORIGIN] }),
            "scope[0]",
        ),
        (
            json!({ "scope": ["chat"], "origin_allowlist": [] }),
            "origin_allowlist",
        ),
        (
            json!({ "scope": ["chat"], "origin_allowlist": ["https://a.com/"] }),
            "origin_allowlist[0]",
        ),
        (
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN, "a.com"] }),
            "origin_allowlist[1]",
        ),
        (
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN], "bind_ip": "not-an-ip" }),
            "bind_ip",
        ),
        (
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN], "bind_ip": 7 }),
            "bind_ip",
        ),
        (
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN], "surprise": 1 }),
            "surprise",
        ),
    ] {
        let response = app.mint("ext:u", body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            error_body(response).await["error"]["param"],
            param,
            "{body}"
        );
    }
    for ttl in [60, 3600] {
        let ok = app
            .mint(
                "ext:u",
                json!({ "ttl_seconds": ttl, "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
            )
            .await;
        assert_eq!(
            ok.status(),
            StatusCode::CREATED,
            "ttl {ttl} is within bounds, never clamped"
        );
        assert_eq!(ok.json::<Value>().await.unwrap()["expires_in"], ttl);
    }
    let unknown = app
        .mint(
            "ext:nobody",
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_minted_token_answers_every_field_and_carries_the_claims_of_the_contract() {
    let app = spawn_app().await;
    let customer = app.create_customer("ext:claims").await;
    let minted = app
        .mint_token("ext:claims", &["chat", "threads", "chat"])
        .await;
    assert!(
        minted["id"].as_str().unwrap().starts_with("ct_"),
        "{minted}"
    );
    assert_eq!(minted["object"], "client_token");
    assert_eq!(
        minted["customer_id"], customer["id"],
        "pinned to the customer's id, not its handle"
    );
    assert_eq!(
        minted["scope"],
        json!(["chat", "threads"]),
        "duplicates dropped"
    );
    assert_eq!(minted["origin_allowlist"], json!([ORIGIN]));
    assert_eq!(minted["bind_ip"], Value::Null);
    assert_eq!(minted["expires_in"], 900, "15 minutes by default");
    let token = minted["token"].as_str().unwrap();

    let header = decode_part(token, 0);
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["typ"], "ringside-client+jwt");
    let claims = decode_part(token, 1);
    assert_eq!(claims["aud"], "ringside");
    assert_eq!(claims["iss"], "ringside-mock");
    assert_eq!(claims["sub"], customer["id"]);
    assert_eq!(claims["jti"], minted["id"]);
    assert_eq!(claims["exp"], minted["expires_at"]);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert_eq!(claims["nbf"], claims["iat"]);
    assert_eq!(claims["scope"], json!(["chat", "threads"]));
    assert_eq!(claims["origins"], json!([ORIGIN]));
    assert!(
        claims.get("ip").is_none(),
        "an unbound token has no ip claim"
    );
    assert!(
        token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            && token.len() <= 4096,
        "a token fits the charset and size the verifier demands"
    );
}

#[tokio::test]
async fn the_jwks_publishes_the_ed25519_key_that_verifies_minted_tokens() {
    let app = spawn_app().await;
    let token = app.client_token("ext:jwks").await;
    let jwks: Value = app
        .get("/.well-known/jwks.json", None)
        .await
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert_eq!(
        key["kid"],
        decode_part(&token, 0)["kid"],
        "the token names the published key"
    );
    let x: [u8; 32] = B64
        .decode(key["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .expect("32 bytes");
    let verifying = VerifyingKey::from_bytes(&x).unwrap();
    let (signed, signature) = token.rsplit_once('.').unwrap();
    let signature = Signature::from_slice(&B64.decode(signature).unwrap()).unwrap();
    verifying
        .verify_strict(signed.as_bytes(), &signature)
        .expect("the published key verifies the token");
}

#[tokio::test]
async fn bind_ip_true_binds_to_the_minting_caller_and_an_address_to_itself() {
    let app = spawn_app().await;
    app.create_customer("ext:ip").await;
    let caller: Value = app
        .mint(
            "ext:ip",
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN], "bind_ip": true }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        caller["bind_ip"], "127.0.0.1",
        "bind_ip: true binds to the minting caller"
    );
    assert_eq!(
        decode_part(caller["token"].as_str().unwrap(), 1)["ip"],
        "127.0.0.1"
    );
    let ok = app
        .chat(
            caller["token"].as_str().unwrap(),
            Some(ORIGIN),
            &chat_body(),
        )
        .await;
    assert_eq!(ok.status(), StatusCode::OK, "the same address may use it");

    let given: Value = app
        .mint("ext:ip", json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN], "bind_ip": "::ffff:127.0.0.1" }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        given["bind_ip"], "127.0.0.1",
        "an IPv4-mapped address is the IPv4 address"
    );
    let ok = app
        .chat(given["token"].as_str().unwrap(), Some(ORIGIN), &chat_body())
        .await;
    assert_eq!(ok.status(), StatusCode::OK);

    let unbound: Value = app
        .mint(
            "ext:ip",
            json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN], "bind_ip": false }),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        unbound["bind_ip"],
        Value::Null,
        "bind_ip: false binds nothing"
    );
}

#[tokio::test]
async fn listing_shows_a_customers_tokens_newest_first_without_the_jwt() {
    let app = spawn_app().await;
    app.create_customer("ext:list").await;
    app.create_customer("ext:other").await;
    let first = app.mint_token("ext:list", &["chat"]).await;
    let second = app.mint_token("ext:list", &["embeddings"]).await;
    app.mint_token("ext:other", &["chat"]).await;
    let list = app
        .server_get_json("/v1/customers/ext:list/client_tokens")
        .await;
    assert_eq!(list["object"], "list");
    let data = list["data"].as_array().unwrap();
    let ids: Vec<&Value> = data.iter().map(|t| &t["id"]).collect();
    assert_eq!(
        ids,
        [&second["id"], &first["id"]],
        "only this customer's tokens, newest first"
    );
    for token in data {
        assert!(
            token.get("token").is_none(),
            "a list never holds the JWT: {token}"
        );
        assert_eq!(token["object"], "client_token");
        assert_eq!(token["revoked"], false);
        for field in [
            "expires_at",
            "expires_in",
            "customer_id",
            "scope",
            "origin_allowlist",
            "bind_ip",
        ] {
            assert!(
                token.get(field).is_some(),
                "a listed token has `{field}`: {token}"
            );
        }
    }
    app.advance(100.0).await;
    let later = app
        .server_get_json("/v1/customers/ext:list/client_tokens")
        .await;
    let expires_in = later["data"][0]["expires_in"].as_i64().unwrap();
    assert!(
        (799..=800).contains(&expires_in),
        "expires_in counts down: {expires_in}"
    );
    let unknown = app
        .get("/v1/customers/ext:nobody/client_tokens", Some(&bearer(KEY)))
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_revoked_token_answers_revoked_true_and_is_then_401_client_token_revoked() {
    let app = spawn_app().await;
    app.create_customer("ext:rev").await;
    let minted = app.mint_token("ext:rev", &["chat"]).await;
    let token = minted["token"].as_str().unwrap();
    assert_eq!(
        app.chat(token, Some(ORIGIN), &chat_body()).await.status(),
        StatusCode::OK
    );

    let path = format!(
        "/v1/customers/ext:rev/client_tokens/{}",
        minted["id"].as_str().unwrap()
    );
    let revoked = app.delete(&path, Some(&bearer(KEY))).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let revoked: Value = revoked.json().await.unwrap();
    assert_eq!(revoked["revoked"], true);
    assert_eq!(revoked["id"], minted["id"]);
    assert!(revoked.get("token").is_none(), "the answer holds no JWT");

    let refused = app.chat(token, Some(ORIGIN), &chat_body()).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(refused).await, "client_token_revoked");
    let listed = app
        .server_get_json("/v1/customers/ext:rev/client_tokens")
        .await;
    assert_eq!(
        listed["data"][0]["revoked"], true,
        "the list shows the revocation"
    );
    let again = app.delete(&path, Some(&bearer(KEY))).await;
    assert_eq!(again.status(), StatusCode::OK, "revoking twice is harmless");
}

#[tokio::test]
async fn revoking_an_unknown_token_or_another_customers_token_is_404() {
    let app = spawn_app().await;
    app.create_customer("ext:a").await;
    app.create_customer("ext:b").await;
    let of_b = app.mint_token("ext:b", &["chat"]).await;
    for path in [
        "/v1/customers/ext:a/client_tokens/ct_nothing".to_string(),
        format!(
            "/v1/customers/ext:a/client_tokens/{}",
            of_b["id"].as_str().unwrap()
        ),
        format!(
            "/v1/customers/ext:nobody/client_tokens/{}",
            of_b["id"].as_str().unwrap()
        ),
    ] {
        let response = app.delete(&path, Some(&bearer(KEY))).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(response).await, "not_found");
    }
    let still = app
        .chat(of_b["token"].as_str().unwrap(), Some(ORIGIN), &chat_body())
        .await;
    assert_eq!(
        still.status(),
        StatusCode::OK,
        "b's token was not revoked through a"
    );
}

#[tokio::test]
async fn a_key_without_the_client_tokens_scope_is_403_insufficient_scope_for_mint_list_and_revoke()
{
    let app = spawn_app().await;
    let restricted = bearer(RESTRICTED_KEY);
    let created = app
        .post(
            "/v1/customers",
            Some(&restricted),
            &json!({ "external_id": "ext:r" }),
        )
        .await;
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "the restricted key may create customers"
    );
    let minted = app.mint_token("ext:r", &["chat"]).await;
    let path = "/v1/customers/ext:r/client_tokens";
    let revoke = format!("{path}/{}", minted["id"].as_str().unwrap());
    for response in [
        app.post(
            path,
            Some(&restricted),
            &json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN] }),
        )
        .await,
        app.get(path, Some(&restricted)).await,
        app.delete(&revoke, Some(&restricted)).await,
    ] {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body = error_body(response).await;
        assert_eq!(body["error"]["code"], "insufficient_scope");
        assert_eq!(body["error"]["type"], "permission_error");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("api:client_tokens"),
            "{body}"
        );
    }
    let chat = app
        .post(
            "/v1/chat/completions",
            Some(&restricted),
            &whole(chat_body()),
        )
        .await;
    assert_eq!(
        chat.status(),
        StatusCode::OK,
        "the restricted key may still call the model"
    );
}

#[tokio::test]
async fn a_client_token_cannot_call_server_routes_and_a_key_is_not_a_client_token() {
    let app = spawn_app().await;
    let token = app.client_token("ext:user_7").await;
    let client = format!("Client {token}");
    for (method, path) in [
        (reqwest::Method::POST, "/v1/customers"),
        (reqwest::Method::GET, "/v1/customers/ext:user_7"),
        (
            reqwest::Method::POST,
            "/v1/customers/ext:user_7/wallet/topup",
        ),
        (
            reqwest::Method::POST,
            "/v1/customers/ext:user_7/client_tokens",
        ),
        (
            reqwest::Method::GET,
            "/v1/customers/ext:user_7/client_tokens",
        ),
        (
            reqwest::Method::DELETE,
            "/v1/customers/ext:user_7/client_tokens/ct_x",
        ),
    ] {
        let response = app
            .request(method.clone(), path, Some(&client))
            .header("origin", ORIGIN)
            .json(&json!({ "external_id": "ext:y", "amount_usd": 5 }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        assert_eq!(
            error_code(response).await,
            "client_token_endpoint_not_allowed",
            "{method} {path}"
        );
    }

    let as_bearer = app
        .post("/v1/chat/completions", Some(&bearer(&token)), &chat_body())
        .await;
    assert_eq!(
        as_bearer.status(),
        StatusCode::UNAUTHORIZED,
        "a Client Token is never a Bearer key"
    );
    assert_eq!(error_code(as_bearer).await, "invalid_api_key");
    let as_bearer = app
        .post(
            "/v1/customers",
            Some(&bearer(&token)),
            &json!({ "external_id": "ext:z" }),
        )
        .await;
    assert_eq!(error_code(as_bearer).await, "invalid_api_key");

    let key_as_client = app.chat(KEY, Some(ORIGIN), &chat_body()).await;
    assert_eq!(
        key_as_client.status(),
        StatusCode::UNAUTHORIZED,
        "a key is never a Client Token"
    );
    assert_eq!(error_code(key_as_client).await, "invalid_client_token");
}
