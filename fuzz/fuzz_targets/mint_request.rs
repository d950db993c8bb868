//! The mint's route on arbitrary request scripts, in process: the Origin
//! check, CORS, identity (visitor cookies, or session JWTs from a cookie or
//! `Authorization`), trusted-proxy `X-Forwarded-For`, request ids.
//!
//! Ringside is a closed loopback port, so no request can get a token: every
//! answer must be a refusal in the contract's JSON (or the preflight's 204,
//! `/healthz`, `/metrics`), never a 500, and never hold the FC key or a secret.
//! The input's first byte picks the identity mode; the rest is a request
//! script (see `ringside_fuzz::script`), with `$SESSION` standing for a
//! session token signed with the right key.
#![no_main]

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::ConnectInfo;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use ringside_fuzz::{assert_contract_error, build, fill, script};
use ringside_mint::jwt::{Key, Rules, Verifier};
use ringside_mint::ringside::UpstreamOptions;
use ringside_mint::session::Sessions;
use ringside_mint::{Limits, Mint, MintOptions, ROUTE};
use sha2::Sha256;
use tower::ServiceExt;

const FC_KEY: &str = "sk_live_fuzz_SECRET_key";
const COOKIE_SECRET: &[u8] = b"fuzz-cookie-secret-of-32-bytes-or-more";
const SESSION_SECRET: &[u8] = b"fuzz-session-secret-of-32-bytes-or-more";

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
});

fn mint(sessions: bool) -> Mint {
    let mut options = MintOptions::new(
        "http://127.0.0.1:9",
        FC_KEY.to_string().into(),
        vec!["https://app.example".into(), "http://127.0.0.1:8080".into()],
    );
    options.limits = Limits::OFF;
    options.reuse_fraction = 0.0;
    options.trusted_proxies = vec!["127.0.0.0/8".parse().expect("a block")];
    options.upstream = UpstreamOptions {
        timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_millis(200),
        retries: 0,
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(1),
    };
    options.identity = if sessions {
        let verifier = Verifier::new(
            Key::hs256(SESSION_SECRET).expect("a long secret"),
            Rules {
                issuer: Some("app".into()),
                ..Rules::default()
            },
        );
        Arc::new(Sessions::new(
            verifier,
            Some("app_session".into()),
            options.clock.clone(),
        ))
    } else {
        Arc::new(ringside_mint::identity::Visitors::new(
            COOKIE_SECRET.to_vec(),
        ))
    };
    RUNTIME.block_on(async { Mint::new(options) })
}

static MINTS: LazyLock<[Mint; 2]> = LazyLock::new(|| [mint(false), mint(true)]);

static SESSION: LazyLock<String> = LazyLock::new(|| {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let header = B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = B64.encode(format!(
        r#"{{"sub":"user 42","iss":"app","iat":{now},"nbf":{now},"exp":{}}}"#,
        now + 3600
    ));
    let signed = format!("{header}.{claims}");
    let mut mac = Hmac::<Sha256>::new_from_slice(SESSION_SECRET).expect("any key");
    mac.update(signed.as_bytes());
    format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
});

fn holds(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fuzz_target!(|input: &[u8]| {
    let Some((&mode, rest)) = input.split_first() else {
        return;
    };
    let app = ringside_mint::app(MINTS[usize::from(mode % 2)].clone(), None, true);
    let values = [("$SESSION", SESSION.as_str())];
    RUNTIME.block_on(async {
        for raw in script(rest) {
            let Some(mut request) = build(&raw, &values) else {
                continue;
            };
            let path = request.uri().path().to_string();
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
            let headers = format!("{:?}", response.headers());
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("a small answer");
            assert_ne!(
                status,
                500,
                "an internal error: {}",
                String::from_utf8_lossy(&body)
            );
            if path == ROUTE {
                assert_ne!(
                    status,
                    200,
                    "a token without Ringside: {}",
                    String::from_utf8_lossy(&body)
                );
                if status >= 400 && !head {
                    assert_contract_error(status, &body);
                }
            }
            // A request may carry a secret itself (the fuzzer finds them in
            // this binary), and a refusal may quote the request's Origin. The
            // request is what was sent, placeholders filled in: a secret's
            // prefix followed by `$SESSION` spells the whole secret.
            let sent = |part: &[u8]| fill(part, &values);
            let echoed = |secret: &[u8]| {
                [raw.path, raw.body]
                    .iter()
                    .any(|part| holds(&sent(part), secret))
                    || raw
                        .headers
                        .iter()
                        .any(|(_, value)| holds(&sent(value), secret))
            };
            for secret in [FC_KEY.as_bytes(), COOKIE_SECRET, SESSION_SECRET] {
                if echoed(secret) {
                    continue;
                }
                assert!(
                    !holds(&body, secret) && !holds(headers.as_bytes(), secret),
                    "an answer holds a secret: {headers} {}",
                    String::from_utf8_lossy(&body)
                );
            }
        }
    });
});
