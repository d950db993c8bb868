//! The FC key (and the other secrets) never appear in a response, a log line
//! or a `Debug` print.

use clap::Parser;
use reqwest::StatusCode;
use ringside_mint::Config;

use crate::support::*;

#[tokio::test]
async fn the_fc_key_never_shows_in_logs_debug_output_or_answers() {
    // Exercise success, upstream refusal, upstream outage and timeouts, with
    // every log line captured (the mint at trace level).
    let mock = spawn_mock().await;
    let mint = spawn_mint(&mock.url).await;
    let mut answers = vec![mint.token(None).await];
    let cookie = answers[0].cookie();
    answers.push(mint.token(Some(&cookie)).await);
    mock.fault(Call::Mint, Fault::Status(500), 1);
    answers.push(mint.token(None).await);
    let dead = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let down = spawn_mint(&dead).await;
    answers.push(down.token(None).await);
    let refused = spawn_mint_with(&mock.url, &[], |options| {
        options.api_key = format!("{KEY}_revoked").into();
    })
    .await;
    answers.push(refused.token(None).await);
    assert_eq!(
        answers
            .iter()
            .map(|a| a.status.as_u16())
            .collect::<Vec<_>>(),
        [200, 200, 502, 503, 502],
        "the scenarios ran as planned"
    );
    for answer in &answers {
        let everything = format!("{:?} {}", answer.headers, answer.text);
        assert!(
            !everything.contains(KEY),
            "the key in an answer: {everything}"
        );
        assert!(!everything.contains(COOKIE_SECRET));
    }

    let logs = log_text();
    assert!(
        logs.contains("request failed"),
        "the capture works: the failures above were logged"
    );
    assert!(!logs.contains(KEY), "the FC key is in the logs");
    assert!(
        !logs.contains(COOKIE_SECRET),
        "the cookie secret is in the logs"
    );
    assert!(!logs.contains("sk_test_"), "no key prefix either");

    for debug in [
        format!("{:?}", mint.mint),
        format!("{:#?}", options(&mock.url, vec![], Default::default())),
    ] {
        assert!(!debug.contains(KEY), "the key in a Debug print: {debug}");
        assert!(
            !debug.contains(COOKIE_SECRET),
            "the cookie secret in a Debug print: {debug}"
        );
    }
    let config = Config::try_parse_from([
        "ringside-mint",
        "--allowed-origin",
        "https://a.example",
        "--fc-api-key",
        KEY,
        "--cookie-secret",
        COOKIE_SECRET,
        "--identity",
        "session",
        "--session-hs256-secret",
        "session-secret-that-never-prints-0123456789",
        "--session-audience",
        "chat",
    ])
    .unwrap();
    let debug = format!("{config:?} {:?}", config.mint_options().unwrap());
    for secret in [KEY, COOKIE_SECRET, "session-secret-that-never-prints"] {
        assert!(
            !debug.contains(secret),
            "{secret} in a Debug print: {debug}"
        );
    }
    assert_eq!(answers[0].status, StatusCode::OK);
}

#[test]
fn secrets_on_the_command_line_are_refused() {
    let error = Config::from_args([
        "ringside-mint",
        "--allowed-origin",
        "https://a.example",
        "--fc-api-key",
        KEY,
    ])
    .unwrap_err();
    assert!(
        error.to_string().contains("FC_API_KEY") && !error.to_string().contains(KEY),
        "{error}"
    );
}
