//! Cost: known customers are not upserted again, fresh tokens are reused per
//! (customer, origin, address) until a share of their life is gone, and
//! concurrent requests share one upstream mint. Upstream calls are counted.

use std::time::Duration;

use reqwest::StatusCode;

use crate::support::*;

fn reuse_half(options: &mut ringside_mint::MintOptions) {
    options.reuse_fraction = 0.5;
}

fn reuse_off(options: &mut ringside_mint::MintOptions) {
    options.reuse_fraction = 0.0;
}

#[tokio::test]
async fn by_default_a_returning_visitor_reuses_its_token() {
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    let first = mint.token(None).await;
    let again = mint.token(Some(&first.cookie())).await;
    assert_eq!(again.token(), first.token());
    assert_eq!(mock.mints(), 1, "the second answer cost no upstream call");
}

#[tokio::test]
async fn a_returning_visitor_reuses_its_token_with_no_upstream_call_until_half_its_life_is_gone() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], reuse_half).await;
    let first = mint.token(None).await;
    let cookie = first.cookie();
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (1, 1),
        "a new visitor: one upsert, one mint"
    );

    mint.clock.advance(Duration::from_secs(100));
    let again = mint.token(Some(&cookie)).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(
        again.token(),
        first.token(),
        "the same token, handed out again"
    );
    assert_eq!(again.body["expires_in"], 800, "with the life it has left");
    assert_eq!(again.body["expires_at"], first.body["expires_at"]);
    assert_eq!(again.header("cache-control"), Some("no-store"));
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (1, 1),
        "a cache hit makes no upstream call"
    );

    mint.clock.advance(Duration::from_secs(350));
    let renewed = mint.token(Some(&cookie)).await;
    assert_ne!(
        renewed.token(),
        first.token(),
        "half its life gone: a new token"
    );
    assert_eq!(renewed.body["expires_in"], 900);
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (1, 2),
        "a known customer is not upserted again"
    );
    let metrics = mint.mint.render_metrics();
    for line in [
        "ringside_mint_requests_total{outcome=\"minted\"} 2",
        "ringside_mint_requests_total{outcome=\"reused\"} 1",
        "ringside_mint_cache_hits_total{cache=\"token\"} 1",
        "ringside_mint_cache_hits_total{cache=\"customer\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing `{line}`:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn n_concurrent_requests_for_one_identity_share_one_upstream_mint() {
    let mock = spawn_mock().await;
    // No reuse: only single-flight may save calls here.
    let mint = spawn_mint_with(&mock.url, &[], |options| options.reuse_fraction = 0.0).await;
    let cookie = mint.token(None).await.cookie();
    assert_eq!(mock.mints(), 1);

    // The first mint waits a second, so the other 19 requests arrive meanwhile.
    mock.fault(Call::Mint, Fault::Delay(Duration::from_secs(1)), 1);
    let answers = futures_util::future::join_all((0..20).map(|_| mint.token(Some(&cookie)))).await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(
            answer.token(),
            answers[0].token(),
            "everyone gets the shared token"
        );
    }
    assert_eq!(mock.mints(), 2, "20 concurrent requests, 1 upstream mint");
    let metrics = mint.mint.render_metrics();
    assert!(
        metrics.contains("ringside_mint_requests_total{outcome=\"shared\"} 19"),
        "{metrics}"
    );

    mint.token(Some(&cookie)).await;
    assert_eq!(
        mock.mints(),
        3,
        "with reuse off, the next request mints again"
    );
}

#[tokio::test]
async fn another_address_or_origin_does_not_reuse_the_token() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &["https://docs.example"], |options| {
        options.reuse_fraction = 0.5;
        options.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let cookie = mint.token(None).await.cookie();
    let from = |ip: &'static str| {
        let cookie = cookie.clone();
        let origin = mint.origin.clone();
        let mint = &mint;
        async move {
            mint.request(&[
                ("origin", &origin),
                ("cookie", &cookie),
                ("x-forwarded-for", ip),
            ])
            .await
        }
    };
    let a = from("198.51.100.1").await;
    let b = from("198.51.100.2").await;
    let a_again = from("198.51.100.1").await;
    assert_ne!(a.token(), b.token(), "another address, another token");
    assert_eq!(a.token(), a_again.token());
    let docs = mint
        .request(&[
            ("origin", "https://docs.example"),
            ("cookie", &cookie),
            ("x-forwarded-for", "198.51.100.1"),
        ])
        .await;
    assert_ne!(docs.token(), a.token(), "another origin, another token");
    assert_eq!((mock.upserts(), mock.mints()), (1, 4));
}

#[tokio::test]
async fn with_reuse_off_no_token_is_handed_out_twice() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], reuse_off).await;
    let first = mint.token(None).await;
    let cookie = first.cookie();
    let second = mint.token(Some(&cookie)).await;
    assert_ne!(second.token(), first.token());
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (1, 2),
        "still, the known customer is not upserted again"
    );
}

#[tokio::test]
async fn a_token_named_stale_by_the_widget_is_never_reused() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], reuse_half).await;
    let first = mint.token(None).await;
    let cookie = first.cookie();
    let other_stale = mint
        .request(&[
            ("origin", &mint.origin),
            ("cookie", &cookie),
            ("x-ringside-stale-token", "not.this.one"),
        ])
        .await;
    assert_eq!(
        other_stale.token(),
        first.token(),
        "naming another token changes nothing"
    );
    let replaced = mint
        .request(&[
            ("origin", &mint.origin),
            ("cookie", &cookie),
            ("x-ringside-stale-token", first.token()),
        ])
        .await;
    assert_ne!(
        replaced.token(),
        first.token(),
        "the refused token is replaced"
    );
    assert_eq!(mock.mints(), 2);
    let again = mint.token(Some(&cookie)).await;
    assert_eq!(again.token(), replaced.token(), "and the new one is reused");
}

/// Widgets name a refused token by its `jti` alone (issue 14): the mint
/// replaces it just the same.
#[tokio::test]
async fn a_token_named_stale_by_its_jti_is_never_reused() {
    use base64::Engine as _;
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], reuse_half).await;
    let first = mint.token(None).await;
    let cookie = first.cookie();
    let payload = first.token().split('.').nth(1).unwrap().to_string();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let jti = claims["jti"].as_str().unwrap().to_string();
    let replaced = mint
        .request(&[
            ("origin", &mint.origin),
            ("cookie", &cookie),
            ("x-ringside-stale-token", &jti),
        ])
        .await;
    assert_ne!(
        replaced.token(),
        first.token(),
        "the refused token is replaced"
    );
    assert_eq!(mock.mints(), 2);
}

#[tokio::test]
async fn a_customer_ringside_no_longer_knows_is_upserted_again_and_the_token_minted() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], reuse_off).await;
    let cookie = mint.token(None).await.cookie();
    // Ringside answers the next mint "no such customer" (e.g. after a reset).
    mock.fault(Call::Mint, Fault::Status(404), 1);
    let answer = mint.token(Some(&cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (2, 3),
        "a 404 means no token was made: upsert, then mint once more"
    );
}

#[tokio::test]
async fn a_token_named_stale_by_its_jti_alone_is_never_reused() {
    // Issue #13: the widget will send the refused token's `jti` rather than
    // the whole token; the mint takes either.
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], reuse_half).await;
    let first = mint.token(None).await;
    let cookie = first.cookie();
    let jti = claims(first.token())["jti"].as_str().unwrap().to_string();
    assert!(jti.starts_with("ct_"), "{jti}");
    let other = mint
        .request(&[
            ("origin", &mint.origin),
            ("cookie", &cookie),
            ("x-ringside-stale-token", "ct_someone_else"),
        ])
        .await;
    assert_eq!(other.token(), first.token(), "another jti changes nothing");
    let replaced = mint
        .request(&[
            ("origin", &mint.origin),
            ("cookie", &cookie),
            ("x-ringside-stale-token", &jti),
        ])
        .await;
    assert_ne!(replaced.token(), first.token(), "its jti names it stale");
    assert_eq!(mock.mints(), 2);
    let again = mint.token(Some(&cookie)).await;
    assert_eq!(again.token(), replaced.token(), "and the new one is reused");
}
