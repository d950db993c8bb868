//! The mint route's own rate limits: per address, per identity and on new
//! visitors per address, each a 429 with `Retry-After`, on the mint's clock.

use std::time::Duration;

use reqwest::StatusCode;
use ringside_mint::Limits;
use ringside_mint::limit::Rate;

use crate::support::*;

fn assert_limited(answer: &Answer, why: &str) -> u64 {
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{why}: {}",
        answer.text
    );
    assert_eq!(answer.code(), "rate_limit_exceeded", "{why}");
    assert_eq!(answer.body["error"]["type"], "rate_limit_error", "{why}");
    let retry_after: u64 = answer
        .header("retry-after")
        .unwrap_or_else(|| panic!("{why}: a 429 says when to retry"))
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{why}");
    retry_after
}

#[tokio::test]
async fn too_many_requests_from_one_address_get_429_with_retry_after() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.limits = Limits {
            per_ip: Rate::new(30, 3),
            ..Limits::OFF
        };
    })
    .await;
    let cookie = mint.token(None).await.cookie();
    for _ in 0..2 {
        assert_eq!(
            mint.token(Some(&cookie)).await.status,
            StatusCode::OK,
            "within the burst"
        );
    }
    let limited = mint.token(Some(&cookie)).await;
    let retry_after = assert_limited(&limited, "the 4th request at once");
    assert_eq!(retry_after, 2, "30 a minute: one every 2 s");
    assert_eq!(
        limited.header("access-control-allow-origin"),
        Some(mint.origin.as_str()),
        "the page may read the 429"
    );
    mint.clock.advance(Duration::from_secs(2));
    assert_eq!(
        mint.token(Some(&cookie)).await.status,
        StatusCode::OK,
        "after Retry-After"
    );
    assert!(
        mint.mint
            .render_metrics()
            .contains("ringside_mint_rate_limited_total{limit=\"ip\"} 1")
    );
}

#[tokio::test]
async fn one_identity_is_limited_without_limiting_others() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.limits = Limits {
            per_identity: Rate::new(60, 2),
            ..Limits::OFF
        };
    })
    .await;
    let cookie = mint.token(None).await.cookie();
    assert_eq!(mint.token(Some(&cookie)).await.status, StatusCode::OK);
    assert_limited(
        &mint.token(Some(&cookie)).await,
        "the same visitor a third time",
    );
    assert_eq!(
        mint.token(None).await.status,
        StatusCode::OK,
        "another visitor from the same address is not limited"
    );
}

#[tokio::test]
async fn new_visitors_from_one_address_are_limited_but_known_ones_are_not() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.limits = Limits {
            new_visitors_per_ip: Rate::new(6, 1),
            ..Limits::OFF
        };
    })
    .await;
    let cookie = mint.token(None).await.cookie();
    let limited = mint.token(None).await;
    assert_eq!(assert_limited(&limited, "a second new visitor at once"), 10);
    assert!(
        limited.header("set-cookie").is_none(),
        "no cookie with a 429"
    );
    assert_eq!(
        mint.token(Some(&cookie)).await.status,
        StatusCode::OK,
        "a visitor with a cookie is not new"
    );
    assert_eq!(mock.upserts(), 1, "the refused visitor created no customer");
}
