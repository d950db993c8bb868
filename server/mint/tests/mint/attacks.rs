//! Attackers who script the visitor flow (issue #13): global ceilings on new
//! visitors, limits per IPv6 /56 and /48, the proof-of-work challenge, the
//! visitor cookie's `__Host-` name and signed age, and the cap on
//! connections per client address.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use ringside_mint::Limits;
use ringside_mint::ceiling::Ceilings;
use ringside_mint::challenge::{Challenge, Challenges, solve};
use ringside_mint::identity::Visitors;
use ringside_mint::limit::Rate;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

#[tokio::test]
async fn past_a_global_ceiling_new_visitors_get_503_with_retry_after_and_known_ones_are_served() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.ceilings = Ceilings {
            new_visitors_per_hour: 2,
            visitor_budget_per_day_usd: 0.0,
        };
    })
    .await;
    let known = mint.token(None).await.cookie();
    assert_eq!(mint.token(None).await.status, StatusCode::OK);
    let refused = mint.token(None).await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.text
    );
    assert_eq!(refused.code(), "visitor_capacity_reached");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=3600).contains(&retry),
        "until the next UTC hour: {retry}"
    );
    assert!(refused.header("set-cookie").is_none());
    assert_eq!(
        refused.header("access-control-allow-origin"),
        Some(mint.origin.as_str()),
        "the widget may read why"
    );
    assert_eq!(
        mint.token(Some(&known)).await.status,
        StatusCode::OK,
        "a known visitor keeps working"
    );
    assert_eq!(mock.upserts(), 2, "the refused visitor created no customer");
    let metrics = mint.mint.render_metrics();
    for line in [
        "ringside_mint_visitor_capacity_reached_total{ceiling=\"hourly_visitors\"} 1",
        "ringside_mint_requests_total{outcome=\"visitor_capacity_reached\"} 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing `{line}`:\n{metrics}"
        );
    }
    assert!(log_text().contains("visitor capacity reached"));

    // The day's budget: 0.10 USD each, at most 0.25 a day.
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.ceilings = Ceilings {
            new_visitors_per_hour: 0,
            visitor_budget_per_day_usd: 0.25,
        };
    })
    .await;
    for _ in 0..2 {
        assert_eq!(mint.token(None).await.status, StatusCode::OK);
    }
    let refused = mint.token(None).await;
    assert_eq!(refused.code(), "visitor_capacity_reached");
    assert!(refused.text.contains("daily_budget"), "{}", refused.text);
}

#[tokio::test]
async fn new_visitors_are_limited_per_ipv6_56_and_48_not_only_per_64() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        options.limits = Limits {
            new_visitors_per_ip: Rate::new(60, 10),
            new_visitors_per_56: Rate::new(6, 3),
            new_visitors_per_48: Rate::new(6, 5),
            ..Limits::OFF
        };
    })
    .await;
    let from = |ip: String| {
        let mint = &mint;
        async move {
            mint.request(&[("origin", &mint.origin), ("x-forwarded-for", &ip)])
                .await
        }
    };
    // A tunnel hands out a fresh /64 per request, all in one /56.
    for i in 0..3 {
        let answer = from(format!("2001:db8:1:10{i}::1")).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let limited = from("2001:db8:1:1ff::1".into()).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.text
    );
    assert!(limited.text.contains("new_visitor_56"), "{}", limited.text);
    // Another /56 of the same /48: two more, then the /48 is full.
    for i in 0..2 {
        let answer = from(format!("2001:db8:1:20{i}::1")).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    }
    let limited = from("2001:db8:1:300::1".into()).await;
    assert!(limited.text.contains("new_visitor_48"), "{}", limited.text);
    assert_eq!(
        from("2001:db8:2::1".into()).await.status,
        StatusCode::OK,
        "another /48 is not affected"
    );
    assert_eq!(
        from("198.51.100.7".into()).await.status,
        StatusCode::OK,
        "IPv4 is limited per address only"
    );
    assert_eq!(mock.upserts(), 7, "refused visitors created no customer");
    let metrics = mint.mint.render_metrics();
    assert!(metrics.contains("ringside_mint_rate_limited_total{limit=\"new_visitor_56\"} 1"));
    assert!(metrics.contains("ringside_mint_rate_limited_total{limit=\"new_visitor_48\"} 1"));
}

fn challenge_of(answer: &Answer) -> Challenge {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    assert_eq!(answer.code(), "challenge_required");
    serde_json::from_value(answer.body["challenge"].clone()).expect("a challenge in the body")
}

#[tokio::test]
async fn a_new_visitor_solves_the_challenge_once_and_each_solution_works_once() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| {
        options.challenge = Some(Arc::new(Challenges::new(&[6; 32], 5_000)));
    })
    .await;
    let asked = mint.token(None).await;
    let challenge = challenge_of(&asked);
    assert_eq!(challenge.algorithm, "SHA-256");
    assert_eq!(challenge.maxnumber, 5_000);
    assert!(asked.header("set-cookie").is_none());
    assert_eq!(
        asked.header("access-control-allow-origin"),
        Some(mint.origin.as_str())
    );
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (0, 0),
        "nothing upstream yet"
    );

    let (_, solution) = solve(&challenge).unwrap();
    let solved = mint
        .request(&[
            ("origin", &mint.origin),
            ("x-ringside-challenge", &solution),
        ])
        .await;
    assert_eq!(solved.status, StatusCode::OK, "{}", solved.text);
    let cookie = solved.cookie();
    assert_eq!(
        mint.token(Some(&cookie)).await.status,
        StatusCode::OK,
        "a known visitor is not asked again"
    );

    let replayed = mint
        .request(&[
            ("origin", &mint.origin),
            ("x-ringside-challenge", &solution),
        ])
        .await;
    challenge_of(&replayed);
    assert!(replayed.text.contains("used already"), "{}", replayed.text);

    let foreign = Challenges::new(&[7; 32], 5_000).make(mint_now(&mint));
    let (_, forged) = solve(&foreign).unwrap();
    let refused = mint
        .request(&[("origin", &mint.origin), ("x-ringside-challenge", &forged)])
        .await;
    challenge_of(&refused);
    let junk = base64::engine::general_purpose::STANDARD.encode("{\"number\": 1}");
    challenge_of(
        &mint
            .request(&[("origin", &mint.origin), ("x-ringside-challenge", &junk)])
            .await,
    );
    assert_eq!(mock.upserts(), 1, "one visitor solved, one customer");
    assert!(
        mint.mint
            .render_metrics()
            .contains("ringside_mint_requests_total{outcome=\"challenge_required\"} 4")
    );
}

fn mint_now(mint: &MintServer) -> i64 {
    use ringside_mint::clock::Clock;
    mint.clock.unix()
}

#[tokio::test]
async fn an_https_page_gets_a_host_cookie_whose_signed_age_ends_with_its_max_age() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &["https://shop.example"], |options| {
        options.identity = Arc::new(
            Visitors::new(COOKIE_SECRET.as_bytes().to_vec())
                .with_max_age(3600)
                .with_clock(options.clock.clone()),
        );
    })
    .await;
    let https = |cookie: Option<String>| {
        let mint = &mint;
        async move {
            let mut headers = vec![("origin", "https://shop.example".to_string())];
            if let Some(cookie) = cookie {
                headers.push(("cookie", cookie));
            }
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            mint.request(&headers).await
        }
    };
    let first = https(None).await;
    let set_cookie = first.header("set-cookie").unwrap().to_string();
    assert!(
        set_cookie.starts_with("__Host-ringside_visitor=v2.")
            && set_cookie.contains("; Path=/;")
            && set_cookie.contains("Max-Age=3600")
            && !set_cookie.contains("Domain")
            && set_cookie.ends_with("; Secure"),
        "{set_cookie}"
    );
    let cookie = first.cookie();
    let again = https(Some(cookie.clone())).await;
    assert!(again.header("set-cookie").is_none(), "known, young: kept");
    assert_eq!(
        mock.external_id_of(again.token()).await,
        mock.external_id_of(first.token()).await
    );
    mint.clock.advance(Duration::from_secs(3601));
    let expired = https(Some(cookie)).await;
    assert!(
        expired.header("set-cookie").is_some(),
        "past its max age the cookie names no one: a new visitor"
    );
    assert_ne!(
        mock.external_id_of(expired.token()).await,
        mock.external_id_of(first.token()).await
    );
}

#[tokio::test]
async fn one_client_address_cannot_hold_every_connection() {
    let mock = spawn_mock().await;
    let clock = Arc::new(ringside_mint::clock::ManualClock::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let origin = format!("http://{addr}");
    let mint = ringside_mint::Mint::new(options(&mock.url, vec![origin.clone()], clock));
    let settings = ringside_mint::conn::Settings {
        max_connections_per_ip: 4,
        ..ringside_mint::conn::Settings::default()
    };
    tokio::spawn(ringside_mint::conn::serve_with(
        listener,
        ringside_mint::app(mint, None, false),
        settings,
        |_| false,
        std::future::pending(),
    ));
    // 127.0.0.1 opens its four connections and holds them, idle.
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(tokio::net::TcpStream::connect(addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut fifth = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = fifth
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
        .await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), fifth.read_to_end(&mut answer))
        .await
        .expect("the fifth is closed at once");
    assert!(answer.is_empty(), "no answer past the cap");

    // Another client (127.0.0.2) is served meanwhile.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = socket.connect(addr).await.unwrap();
    other
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(2), other.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A held connection closes: 127.0.0.1 may open one again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut again = tokio::net::TcpStream::connect(addr).await.unwrap();
    again
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    again.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
