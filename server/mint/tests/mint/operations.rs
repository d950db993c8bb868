//! Operating the mint: `/healthz`, `/metrics`, request ids, the admin
//! listener split, and the binary (its flags, its ready line, draining
//! in-flight requests on SIGTERM).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use reqwest::{Client, StatusCode};

use crate::support::*;

#[tokio::test]
async fn healthz_and_metrics_answer_and_every_answer_has_its_own_request_id() {
    let mock = spawn_mock().await;
    let mint = spawn_mint_with(&mock.url, &[], |options| options.reuse_fraction = 0.5).await;
    assert_eq!(
        mint.get("/healthz").await,
        (StatusCode::OK, "ok\n".to_string())
    );
    let a = mint.token(None).await;
    let b = mint.request(&[("origin", "https://evil.example")]).await;
    let (id_a, id_b) = (a.header("x-request-id"), b.header("x-request-id"));
    assert!(
        id_a.is_some() && id_b.is_some() && id_a != id_b,
        "{id_a:?} {id_b:?}"
    );
    let (status, metrics) = mint.get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    for line in [
        "ringside_mint_requests_total{outcome=\"minted\"} 1",
        "ringside_mint_requests_total{outcome=\"origin_denied\"} 1",
        "ringside_mint_upstream_requests_total{call=\"mint\",result=\"ok\"} 1",
        "ringside_mint_upstream_requests_total{call=\"upsert\",result=\"ok\"} 1",
        "ringside_mint_cached_tokens 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing `{line}`:\n{metrics}"
        );
    }
}

#[tokio::test]
async fn with_an_admin_listener_metrics_leave_the_public_one() {
    let mock = spawn_mock().await;
    let clock = std::sync::Arc::new(ringside_mint::clock::ManualClock::new());
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", public.local_addr().unwrap());
    let admin_url = format!("http://{}", admin.local_addr().unwrap());
    let mint = ringside_mint::Mint::new(options(&mock.url, vec![public_url.clone()], clock));
    tokio::spawn(ringside_mint::serve(
        public,
        ringside_mint::app(mint.clone(), None, false),
        std::future::pending(),
    ));
    tokio::spawn(ringside_mint::serve(
        admin,
        ringside_mint::admin_router(mint),
        std::future::pending(),
    ));
    let http = Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap().status() }
    };
    assert_eq!(
        get(format!("{public_url}/metrics")).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(format!("{public_url}/healthz")).await,
        StatusCode::OK,
        "load balancers probe the public port"
    );
    assert_eq!(get(format!("{admin_url}/metrics")).await, StatusCode::OK);
    assert_eq!(get(format!("{admin_url}/healthz")).await, StatusCode::OK);
    assert_eq!(
        get(format!("{admin_url}/api/chat-token")).await,
        StatusCode::NOT_FOUND,
        "no minting on the admin port"
    );
}

#[test]
fn the_binarys_help_documents_the_flags_and_their_environment_variables() {
    let output = Command::new(env!("CARGO_BIN_EXE_ringside-mint"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    for needle in [
        "--listen",
        "--ringside-url",
        "--allowed-origin",
        "--static-dir",
        "--identity",
        "--session-cookie",
        "--session-ed25519-public-key",
        "--trusted-proxy",
        "--no-bind-ip",
        "--reuse-fraction",
        "--cors-allow-header",
        "--admin-listen",
        "--ip-rate-per-minute",
        "FC_API_KEY",
        "RINGSIDE_MINT_COOKIE_SECRET",
        "RINGSIDE_MINT_SESSION_HS256_SECRET",
    ] {
        assert!(
            help.contains(needle),
            "`{needle}` is not in --help:\n{help}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_starts_as_the_browser_tests_start_it_and_drains_in_flight_requests_on_sigterm()
{
    let mock = spawn_mock().await;
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let origin = format!("http://127.0.0.1:{port}");
    let dist = std::env::temp_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringside-mint"))
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--ringside-url",
            &mock.url,
        ])
        .args([
            "--allowed-origin",
            &origin,
            "--static-dir",
            dist.to_str().unwrap(),
        ])
        .env("FC_API_KEY", KEY)
        .env("RINGSIDE_MINT_COOKIE_SECRET", COOKIE_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line.trim(),
        format!("listening on {origin}"),
        "the ready line the e2e stack parses"
    );

    mock.fault(Call::Mint, Fault::Delay(Duration::from_secs(1)), 1);
    let in_flight = tokio::spawn({
        let origin = origin.clone();
        async move {
            Client::new()
                .post(format!("{origin}/api/chat-token"))
                .header("origin", &origin)
                .send()
                .await
                .map(|r| r.status())
        }
    });
    // SIGTERM once the request is surely in flight: its mint reached the mock.
    let waited = std::time::Instant::now();
    while mock.mints() == 0 {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "the request never reached the mock"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = in_flight
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(
        status,
        StatusCode::OK,
        "a request in flight at SIGTERM completes"
    );
    let exit = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(
        exit.status.success(),
        "exits cleanly: {}",
        String::from_utf8_lossy(&exit.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&exit.stderr).contains(KEY),
        "the key is not in the binary's logs"
    );
}
