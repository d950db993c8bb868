//! More than one replica (issue #13): two mints sharing a real Redis (a
//! `redis-server` each test starts on a free loopback port) in front of one
//! mock Ringside. One limit for both, a token minted on one reused by the
//! other, one upstream upsert and mint for one new user hitting both at
//! once, and service through a Redis restart.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use ringside_mint::Limits;
use ringside_mint::ceiling::Ceilings;
use ringside_mint::clock::Clock;
use ringside_mint::jwt::{Key, Rules, SessionKeys, Verifier};
use ringside_mint::limit::Rate;
use ringside_mint::session::Sessions;
use serde_json::json;

use crate::support::*;

/// The page both replicas serve tokens to.
const SHOP: &str = "https://shop.example";

async fn two_replicas(
    mock: &Mock,
    redis: &RedisServer,
    configure: impl Fn(&mut ringside_mint::MintOptions) + Clone,
) -> (MintServer, MintServer) {
    let prefix = format!("test-{:016x}:", rand::random::<u64>());
    let mut replicas = Vec::new();
    for _ in 0..2 {
        let configure = configure.clone();
        let store = replica_of(redis, &prefix);
        replicas.push(
            spawn_mint_with(&mock.url, &[SHOP], move |options| {
                options.store = Some(store);
                configure(options);
            })
            .await,
        );
    }
    let b = replicas.pop().unwrap();
    let a = replicas.pop().unwrap();
    (a, b)
}

async fn shop(mint: &MintServer, cookie: Option<&str>) -> Answer {
    match cookie {
        Some(cookie) => mint.request(&[("origin", SHOP), ("cookie", cookie)]).await,
        None => mint.request(&[("origin", SHOP)]).await,
    }
}

#[tokio::test]
async fn one_limit_and_one_ceiling_are_shared_by_two_replicas() {
    let mock = spawn_mock().await;
    let redis = RedisServer::start().await;
    let (a, b) = two_replicas(&mock, &redis, |options| {
        options.limits = Limits {
            per_identity: Rate::new(6, 4),
            ..Limits::OFF
        };
        options.ceilings = Ceilings {
            new_visitors_per_hour: 3,
            visitor_budget_per_day_usd: 0.0,
        };
    })
    .await;
    let cookie = shop(&a, None).await.cookie();
    // Three more for this visitor, alternating: four in all, its burst.
    for (i, replica) in [&b, &a, &b].into_iter().enumerate() {
        let answer = shop(replica, Some(&cookie)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "request {i}: {}",
            answer.text
        );
    }
    for replica in [&a, &b] {
        let answer = shop(replica, Some(&cookie)).await;
        assert_eq!(
            answer.status,
            StatusCode::TOO_MANY_REQUESTS,
            "the fifth request, on either replica, is over the one shared limit: {}",
            answer.text
        );
        let wait: u64 = answer.header("retry-after").unwrap().parse().unwrap();
        assert!(
            (1..=10).contains(&wait),
            "6 a minute: one each 10 s ({wait})"
        );
    }

    // The ceiling of 3 new visitors an hour holds across both replicas.
    assert_eq!(shop(&b, None).await.status, StatusCode::OK);
    assert_eq!(shop(&a, None).await.status, StatusCode::OK);
    for replica in [&b, &a] {
        let refused = shop(replica, None).await;
        assert_eq!(
            refused.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{}",
            refused.text
        );
        assert_eq!(refused.code(), "visitor_capacity_reached");
    }
    assert_eq!(mock.upserts(), 3, "three new visitor customers in all");
}

#[tokio::test]
async fn a_token_minted_on_one_replica_is_reused_by_the_other_until_named_stale() {
    let mock = spawn_mock().await;
    let redis = RedisServer::start().await;
    let (a, b) = two_replicas(&mock, &redis, |options| options.reuse_fraction = 0.5).await;
    let first = shop(&a, None).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let cookie = first.cookie();
    let on_b = shop(&b, Some(&cookie)).await;
    assert_eq!(on_b.token(), first.token(), "B hands out A's token");
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (1, 1),
        "and makes no upstream call"
    );
    let expires_in = on_b.body["expires_in"].as_u64().unwrap();
    assert!(
        (895..=900).contains(&expires_in),
        "with the life it has left: {expires_in}"
    );

    // Ringside refused it: the widget names its jti to B; A never hands it
    // out again either.
    let jti = claims(first.token())["jti"].as_str().unwrap().to_string();
    let renewed = b
        .request(&[
            ("origin", SHOP),
            ("cookie", &cookie),
            ("x-ringside-stale-token", &jti),
        ])
        .await;
    assert_ne!(renewed.token(), first.token());
    let on_a = shop(&a, Some(&cookie)).await;
    assert_eq!(on_a.token(), renewed.token(), "A reuses B's new token");
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (1, 2),
        "the customer B had not seen was known through Redis: no second upsert"
    );
}

#[tokio::test]
async fn one_new_user_hitting_both_replicas_at_once_costs_one_upsert_and_one_mint() {
    const SECRET: &[u8] = b"the-host-apps-session-secret-0123456789";
    let mock = spawn_mock().await;
    let redis = RedisServer::start().await;
    let (a, b) = two_replicas(&mock, &redis, |options| {
        options.identity = Arc::new(Sessions::new(
            Verifier::with_keys(
                SessionKeys::Key(Key::hs256(SECRET).unwrap()),
                Rules {
                    audience: Some("chat".into()),
                    ..Rules::default()
                },
            ),
            None,
            options.clock.clone(),
        ));
    })
    .await;
    let now = a.clock.unix();
    let session = jwt(
        &json!({"alg": "HS256", "typ": "JWT"}),
        &json!({"sub": "new-user", "aud": "chat", "iat": now, "exp": now + 600}),
        hs256(SECRET),
    );
    let bearer = format!("Bearer {session}");
    // The first upsert is slow, so every request arrives while it runs.
    mock.fault(Call::Upsert, Fault::Delay(Duration::from_millis(300)), 1);
    let requests = (0..10).map(|i| {
        let replica = if i % 2 == 0 { &a } else { &b };
        let bearer = bearer.clone();
        async move {
            replica
                .request(&[("origin", SHOP), ("authorization", &bearer)])
                .await
        }
    });
    let answers = futures_util::future::join_all(requests).await;
    for answer in &answers {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.token(), answers[0].token(), "one token for all");
    }
    assert_eq!(
        (mock.upserts(), mock.mints()),
        (1, 1),
        "ten requests on two replicas: one upsert, one mint"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replicas_keep_serving_through_a_redis_restart_and_say_so() {
    let mock = spawn_mock().await;
    let mut redis = RedisServer::start().await;
    let (a, b) = two_replicas(&mock, &redis, |options| options.reuse_fraction = 0.5).await;
    let cookie = shop(&a, None).await.cookie();
    assert_eq!(a.get("/healthz").await.1, "ok\n");

    redis.stop();
    for replica in [&a, &b, &a, &b] {
        let answer = shop(replica, Some(&cookie)).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "Redis down: served with the replica's own state: {}",
            answer.text
        );
    }
    let new_visitor = shop(&b, None).await;
    assert_eq!(new_visitor.status, StatusCode::OK, "{}", new_visitor.text);
    for replica in [&a, &b] {
        let (status, health) = replica.get("/healthz").await;
        assert_eq!(status, StatusCode::OK, "still live: the replica serves");
        assert!(health.contains("redis unreachable"), "{health}");
        let metrics = replica.mint.render_metrics();
        assert!(
            metrics.lines().any(|l| l == "ringside_mint_redis_up 0"),
            "{metrics}"
        );
    }
    assert!(log_text().contains("redis is unreachable"));

    redis.restart().await;
    // While down, Redis is tried again at most once a second (the first try
    // after the restart may only reconnect): back within a few seconds.
    let restarted = std::time::Instant::now();
    for replica in [&a, &b] {
        while replica.get("/healthz").await.1 != "ok\n" {
            assert!(
                restarted.elapsed() < Duration::from_secs(6),
                "still apart 6 s after Redis came back"
            );
            let answer = shop(replica, Some(&cookie)).await;
            assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            replica
                .mint
                .render_metrics()
                .lines()
                .any(|l| l == "ringside_mint_redis_up 1")
        );
    }
    // Shared again: a token minted on A now is B's too.
    let fresh = shop(&a, None).await;
    let again = shop(&b, Some(&fresh.cookie())).await;
    assert_eq!(again.token(), fresh.token());
}
