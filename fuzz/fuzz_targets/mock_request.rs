//! The whole mock (routing, extractors, the Client-Token checks, JSON
//! parsing, every handler) on arbitrary request scripts, in process.
//!
//! Each input is up to six requests (see `ringside_fuzz::script`) sent in
//! order to a mock reset to a fresh state. Placeholders let later requests
//! use what earlier answers returned: `$KEY` (the API key), `$TOKEN` (the
//! last Client Token minted), `$CT` and `$CUS` (the last `ct_…` and `cus_…`
//! ids seen). Nothing may panic; every refusal is the contract's JSON error;
//! no answer is a 500; and no answer holds the API key unless a request
//! carried it somewhere the mock may echo (a path or a body).
#![no_main]

use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::ConnectInfo;
use libfuzzer_sys::fuzz_target;
use ringside_fuzz::{assert_contract_error, build, fill, script};
use ringside_mock::{AppState, Options, Settings};
use tower::ServiceExt;

const KEY: &str = "sk_test_fuzz_key";

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime")
});

static STATE: LazyLock<AppState> = LazyLock::new(|| {
    AppState::with_options(
        Settings {
            api_key: KEY.into(),
            answer_tokens: 6,
            first_token_delay: Duration::ZERO,
            token_delay: Duration::ZERO,
        },
        Options {
            restricted_api_key: Some("sk_test_fuzz_narrow".into()),
            controls: false,
            ..Options::default()
        },
        "ringside-mock",
    )
});

/// The last value of `"field": "…"` in a JSON answer whose text starts with `prefix`.
fn remember(value: &serde_json::Value, field: &str, prefix: &str, slot: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match inner.as_str() {
                    Some(text) if key == field && text.starts_with(prefix) => *slot = text.into(),
                    _ => remember(inner, field, prefix, slot),
                }
            }
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|item| remember(item, field, prefix, slot)),
        _ => {}
    }
}

fuzz_target!(|input: &[u8]| {
    let requests = script(input);
    let state = STATE.clone();
    state.reset();
    let app = ringside_mock::app(state);
    let (mut token, mut ct, mut cus) = (
        String::from("none"),
        String::from("ct_none"),
        String::from("cus_none"),
    );
    let mut key_echoable = false;
    RUNTIME.block_on(async {
        for raw in &requests {
            let values = [
                ("$KEY", KEY),
                ("$TOKEN", token.as_str()),
                ("$CT", ct.as_str()),
                ("$CUS", cus.as_str()),
            ];
            let Some(mut request) = build(raw, &values) else {
                continue;
            };
            key_echoable |= fill(raw.path, &values)
                .windows(KEY.len())
                .any(|w| w == KEY.as_bytes())
                || fill(raw.body, &values)
                    .windows(KEY.len())
                    .any(|w| w == KEY.as_bytes());
            let peer: SocketAddr = "127.0.0.1:40000".parse().expect("an address");
            request.extensions_mut().insert(ConnectInfo(peer));
            // An answer to HEAD has no body, by definition (RFC 9110 §9.3.2).
            let head = request.method() == axum::http::Method::HEAD;
            let response = app
                .clone()
                .oneshot(request)
                .await
                .expect("the router is infallible");
            let status = response.status().as_u16();
            let body = tokio::time::timeout(
                Duration::from_secs(10),
                axum::body::to_bytes(response.into_body(), 64 << 20),
            )
            .await
            .expect("an answer ends within 10 s")
            .unwrap_or_default();
            assert_ne!(
                status,
                500,
                "an internal error: {}",
                String::from_utf8_lossy(&body)
            );
            if status >= 400 && !head {
                assert_contract_error(status, &body);
            }
            if !key_echoable {
                assert!(
                    !body.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
                    "an answer holds the API key: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&body) {
                remember(&value, "token", "", &mut token);
                remember(&value, "id", "ct_", &mut ct);
                remember(&value, "id", "cus_", &mut cus);
                remember(&value, "customer_id", "cus_", &mut cus);
            }
        }
    });
});
