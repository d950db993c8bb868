//! The `ringside-mock` binary itself: its one `listening on` line (which the
//! browser tests and xtask parse), its flags, its `--help`, and a prompt exit
//! on SIGTERM even with a stalled stream open.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

const BIN: &str = env!("CARGO_BIN_EXE_ringside-mock");

/// The mock process, killed when the test ends however it ends.
struct Mock(Child);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(args: &[&str]) -> (Mock, String, Vec<String>) {
    let mut child = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a first line").unwrap();
    let url = first
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("the first line is `listening on …`: {first:?}"))
        .to_string();
    (Mock(child), url, vec![first])
}

#[tokio::test]
async fn the_binary_prints_one_listening_line_and_honours_its_flags() {
    let (_mock, url, _) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--api-key",
        "sk_flag_full",
        "--restricted-api-key",
        "sk_flag_narrow",
        "--controls",
        "--answer-tokens",
        "4",
        "--first-token-delay-ms",
        "0",
        "--token-delay-ms",
        "0",
    ]);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let http = reqwest::Client::new();
    let answer: serde_json::Value = http
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth("sk_flag_full")
        .json(&whole(chat_body()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["usage"]["completion_tokens"], 4, "--answer-tokens");
    let created = http
        .post(format!("{url}/v1/customers"))
        .bearer_auth("sk_flag_narrow")
        .json(&json!({ "external_id": "ext:bin" }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        created.status(),
        StatusCode::CREATED,
        "--restricted-api-key is a key"
    );
    let mint = http
        .post(format!("{url}/v1/customers/ext:bin/client_tokens"))
        .bearer_auth("sk_flag_narrow")
        .json(&json!({ "scope": ["chat"], "origin_allowlist": [ORIGIN] }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        mint.status(),
        StatusCode::FORBIDDEN,
        "without api:client_tokens"
    );
    let log = http.get(format!("{url}/__mock/log")).send().await.unwrap();
    assert_eq!(log.status(), StatusCode::OK, "--controls");

    let (_plain, plain_url, _) = start(&["--listen", "127.0.0.1:0"]);
    let log = http
        .get(format!("{plain_url}/__mock/log"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        log.status(),
        StatusCode::NOT_FOUND,
        "the controls are off by default"
    );
}

#[test]
fn help_documents_every_flag() {
    let output = Command::new(BIN).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8(output.stdout).unwrap();
    for flag in [
        "--listen",
        "--api-key",
        "--restricted-api-key",
        "--controls",
        "--issuer",
        "--answer-tokens",
        "--first-token-delay-ms",
        "--token-delay-ms",
    ] {
        let line = help
            .lines()
            .position(|l| l.trim_start().starts_with(flag))
            .unwrap_or_else(|| panic!("--help lists {flag}:\n{help}"));
        let doc = help.lines().nth(line + 1).unwrap_or("");
        assert!(
            doc.trim().len() > 20,
            "{flag} has a sentence of documentation: {doc:?}"
        );
    }
}

#[tokio::test]
async fn sigterm_stops_the_mock_promptly_even_with_a_stalled_stream_open() {
    let (mut mock, url, _) = start(&["--listen", "127.0.0.1:0", "--controls", "--api-key", KEY]);
    let http = reqwest::Client::new();
    http.post(format!("{url}/__mock/script"))
        .json(&json!({ "completions": [{ "fault": { "kind": "stall", "after": 1 } }] }))
        .send()
        .await
        .unwrap();
    let mut stalled = http
        .post(format!("{url}/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&chat_body())
        .send()
        .await
        .unwrap();
    stalled.chunk().await.unwrap();
    let start = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &mock.0.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    loop {
        if mock.0.try_wait().unwrap().is_some() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(8),
            "the mock is still running 8 s after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
